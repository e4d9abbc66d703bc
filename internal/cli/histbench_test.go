package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"
)

// BenchmarkScanGitRepo scans the history at $KEYTRAIL_BENCH_REPO, for
// profiling a real history (go test -bench ScanGitRepo -cpuprofile).
func BenchmarkScanGitRepo(b *testing.B) {
	repo := os.Getenv("KEYTRAIL_BENCH_REPO")
	if repo == "" {
		b.Skip("KEYTRAIL_BENCH_REPO not set")
	}
	args := []string{"scan", "git", "--no-progress", "-f", "json", "-o", os.DevNull, repo}
	for i := 0; i < b.N; i++ {
		var errb bytes.Buffer
		if code := Run(context.Background(), args, bytes.NewReader(nil), io.Discard, &errb); code > 1 {
			b.Fatalf("exit %d: %s", code, errb.String())
		}
	}
}
