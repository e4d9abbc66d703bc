package awsdemo

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/internal/testtools"
)

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// The make demo story end to end: the demo repository's AWS key, found
// in history and audited against the seeded emulator, is critical.
func TestDemoVerdictIsCritical(t *testing.T) {
	testtools.Need(t, "git")
	root := moduleRoot(t)
	tmp := t.TempDir()
	bin, repo, html := filepath.Join(tmp, "keytrail"), filepath.Join(tmp, "repo"), filepath.Join(tmp, "audit.html")
	for _, args := range [][]string{{"build", "-o", bin, "./cmd/keytrail"}, {"run", "./testdata/demogen", "-out", repo}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}
	var out bytes.Buffer
	risk, err := Run(context.Background(), repo, bin, html, &out)
	if err != nil {
		t.Fatal(err)
	}
	if risk != "critical" {
		t.Fatalf("verdict %q\n%s", risk, out.String())
	}
	for _, want := range []string{"CRITICAL AKIA", "revoke-now", "new IPs 203.0.113.66", "session-minted", "HTML report written"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	page, err := os.ReadFile(html)
	if err != nil || !bytes.Contains(page, []byte("<html")) || !bytes.Contains(page, []byte("203.0.113.66")) {
		t.Errorf("HTML report: %v (%d bytes)", err, len(page))
	}
	if bytes.Contains(out.Bytes(), []byte("auditor/fake/secret")) || bytes.Contains(page, []byte("auditor/fake/secret")) {
		t.Error("the auditor's credential in the demo output")
	}
}
