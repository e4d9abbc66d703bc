package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
)

// TestStartGC checks which commands keep the raised start-up GOGC (git
// --staged scans), that Run puts the previous value back, and that a
// GOGC in the environment is left alone.
func TestStartGC(t *testing.T) {
	cases := []struct {
		args []string
		keep bool
	}{
		{[]string{"scan", "git", "--staged"}, true},
		{[]string{"scan", "git", "--staged=true", "--no-progress", "."}, true},
		{[]string{"scan", "git"}, false},
		{[]string{"scan", "git", "--staged=false"}, false},
		{[]string{"scan", "git", "--range", "a..b"}, false},
		{[]string{"scan", "dir", "."}, false},
		{[]string{"baseline", "create", "git", "--staged"}, true},
		{[]string{"baseline", "create", "git"}, false},
		{[]string{"version"}, false},
	}
	for _, c := range cases {
		root := newRoot(&env{stdout: io.Discard, stderr: io.Discard, providers: auditProviders})
		cmd, rest, err := root.Find(c.args)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if got := keepStartGC(cmd); got != c.keep {
			t.Errorf("%v (%s): keepStartGC %v, want %v", c.args, cmd.CommandPath(), got, c.keep)
		}
	}

	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	t.Setenv("GOGC", "")
	Run(context.Background(), []string{"version"}, nil, io.Discard, io.Discard)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after Run, GOGC is %d, want 100 back", got)
	}
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150)
	Run(context.Background(), []string{"scan", "stdin"}, strings.NewReader("x"), io.Discard, io.Discard)
	if got := debug.SetGCPercent(100); got != 150 {
		t.Errorf("with GOGC=150 set, Run changed it to %d", got)
	}
}

// TestScanTreeLikeFullTree checks that the scan-only command tree a scan
// runs on (newRootFor) behaves as the full tree: same output, errors and
// exit code, help included.
func TestScanTreeLikeFullTree(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.env"), []byte("T="+ghToken(7)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := [][]string{
		{"scan"},
		{"scan", "--help"},
		{"scan", "git", "--help"},
		{"scan", "dir", dir, "-f", "json"},
		{"scan", "stdin", "--label", "x"},
		{"scan", "nope"},
		{"scan", "dir", "--bogus"},
		{"scan", "git", "--staged", "--range", "a..b"},
	}
	for _, args := range cases {
		var outs [2]string
		var codes [2]int
		for i, tree := range [][]string{args, nil} {
			var stdout, stderr strings.Builder
			e := &env{stdin: strings.NewReader("T=" + ghToken(7) + "\n"), stdout: &stdout, stderr: &stderr}
			codes[i] = e.runTree(context.Background(), args, tree)
			outs[i] = stdout.String() + "\n--- stderr\n" + stderr.String()
		}
		if codes[0] != codes[1] || outs[0] != outs[1] {
			t.Errorf("%v: scan tree gives exit %d\n%s\nfull tree exit %d\n%s", args, codes[0], outs[0], codes[1], outs[1])
		}
	}
}

// TestCollectAfterScan checks that a scan collects once its workers are
// done, only when the command went back to the default GOGC (not with
// GOGC set by the user, not for a --staged scan), and leaves GOGC as it
// was.
func TestCollectAfterScan(t *testing.T) {
	forced := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	for _, finish := range []bool{true, false} {
		before := forced()
		(&env{finishGC: finish}).collectAfterScan()
		if n := forced() - before; (n == 1) != finish {
			t.Errorf("finishGC %v: %d forced collections", finish, n)
		}
	}
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.env"), []byte("T="+ghToken(3)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		gogc   string
		forced bool
	}{{"", true}, {"100", false}} {
		t.Setenv("GOGC", c.gogc)
		before := forced()
		if code := Run(context.Background(), []string{"scan", "dir", "--no-progress", dir}, nil, io.Discard, io.Discard); code != ExitFindings {
			t.Fatalf("scan dir exit %d, want %d", code, ExitFindings)
		}
		if n := forced() - before; (n >= 1) != c.forced {
			t.Errorf("GOGC=%q: %d forced collections in a scan", c.gogc, n)
		}
		if got := debug.SetGCPercent(100); got != 100 {
			t.Errorf("GOGC=%q: after a scan GOGC is %d, want 100", c.gogc, got)
		}
	}
}

// TestCommandsPaceGC checks that a command other than a --staged scan
// hands the collector to gcPacing when the user did not set GOGC, and
// that the pacing stops with the command (GOGC back as before).
func TestCommandsPaceGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	t.Setenv("GOGC", "")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("nothing here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args  []string
		paced bool
	}{
		{[]string{"scan", "dir", "--no-progress", dir}, true},
		{[]string{"version"}, true},
		{[]string{"scan", "git", "--staged", "--no-progress", dir}, false},
	} {
		var sets []int
		e := &env{stdout: io.Discard, stderr: io.Discard, startGC: true,
			gcSet: func(_ uint64, pct int) { sets = append(sets, pct) }}
		before := debug.SetGCPercent(startGCPercent)
		e.run(context.Background(), c.args)
		if e.gcTuner != nil {
			e.gcTuner.Stop()
		}
		if got := debug.SetGCPercent(before); got != startGCPercent {
			t.Errorf("%v: after the command GOGC is %d, want %d back", c.args, got, startGCPercent)
		}
		if paced := len(sets) > 0; paced != c.paced {
			t.Errorf("%v: paced %v (GOGC settings %v), want %v", c.args, paced, sets, c.paced)
		}
		for _, p := range sets {
			if p < gcPacing.MinPercent || p > gcPacing.MaxPercent {
				t.Errorf("%v: GOGC set to %d, outside [%d, %d]", c.args, p, gcPacing.MinPercent, gcPacing.MaxPercent)
			}
		}
	}
}
