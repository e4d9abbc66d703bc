package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/rules"
	"github.com/keytrail/keytrail/scanner"
)

// gitTestToken is a format-exact fake GitHub classic token.
func gitTestToken(body string) string {
	body = (body + strings.Repeat("x", 30))[:30]
	return "ghp_" + body + rules.Base62CRC32(body)
}

func gitCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func gitRepoWithKey(t *testing.T) (dir, tok, commit string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not on PATH")
	}
	dir = t.TempDir()
	tok = gitTestToken("CliTest0123456789abcdefGHIJKL")
	gitCmd(t, dir, "init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(dir, "a.env"), []byte("T="+tok+"\n"), 0o644)
	gitCmd(t, dir, "add", ".")
	gitCmd(t, dir, "commit", "-q", "-m", "add key")
	commit = gitCmd(t, dir, "rev-parse", "HEAD")
	gitCmd(t, dir, "rm", "-q", "a.env")
	gitCmd(t, dir, "commit", "-q", "-m", "remove key")
	return dir, tok, commit
}

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestScanGit(t *testing.T) {
	dir, tok, commit := gitRepoWithKey(t)
	for _, backend := range []string{"git", "go-git"} {
		code, out, stderr := runCLI("scan", "git", "--git-backend", backend, "-f", "json", dir)
		if code != ExitFindings {
			t.Fatalf("%s: exit %d, want %d; stderr: %s", backend, code, ExitFindings, stderr)
		}
		if strings.Contains(out+stderr, tok) {
			t.Errorf("%s: secret printed without --show-secrets", backend)
		}
		var fs []scanner.Finding
		if err := json.Unmarshal([]byte(out), &fs); err != nil {
			t.Fatalf("%s: %v\n%s", backend, err, out)
		}
		if len(fs) != 1 || fs[0].Commit != commit || fs[0].File != "a.env" || fs[0].PresentAtHead == nil || *fs[0].PresentAtHead {
			t.Errorf("%s: findings %+v", backend, fs)
		}
	}
}

func TestScanGitStagedAndRange(t *testing.T) {
	dir, _, commit := gitRepoWithKey(t)
	// Nothing staged: clean.
	if code, _, stderr := runCLI("scan", "git", "--staged", dir); code != ExitClean {
		t.Errorf("staged, nothing staged: exit %d: %s", code, stderr)
	}
	tok := gitTestToken("StagedKey0123456789abcdefGHIJ")
	os.WriteFile(filepath.Join(dir, "b.env"), []byte("\nB="+tok+"\n"), 0o644)
	gitCmd(t, dir, "add", "b.env")
	code, out, _ := runCLI("scan", "git", "--staged", "-f", "json", dir)
	if code != ExitFindings || !strings.Contains(out, `"file": "b.env"`) || !strings.Contains(out, `"line": 2`) {
		t.Errorf("staged: exit %d\n%s", code, out)
	}
	// The range after the key's commit adds nothing.
	if code, out, stderr := runCLI("scan", "git", "--since-commit", commit, dir); code != ExitClean {
		t.Errorf("since-commit: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, stderr := runCLI("scan", "git", "--range", "nonexistent..HEAD", dir); code != ExitError || stderr == "" {
		t.Errorf("bad range: exit %d: %s", code, stderr)
	}
}

func TestScanGitShallowRange(t *testing.T) {
	dir, _, commit := gitRepoWithKey(t)
	clone := filepath.Join(t.TempDir(), "c")
	gitCmd(t, dir, "-c", "protocol.file.allow=always", "clone", "-q", "--depth", "1", "file://"+dir, clone)
	code, _, stderr := runCLI("scan", "git", "--range", commit+"..HEAD", clone)
	if code != ExitError || !strings.Contains(stderr, "fetch-depth: 0") {
		t.Errorf("shallow range: exit %d, stderr %q", code, stderr)
	}
}

func TestScanGitDamaged(t *testing.T) {
	dir, _, commit := gitRepoWithKey(t)
	blob := gitCmd(t, dir, "rev-parse", commit+":a.env")
	if err := os.Remove(filepath.Join(dir, ".git", "objects", blob[:2], blob[2:])); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("scan", "git", dir)
	if code != ExitError || !strings.Contains(stderr, blob) || !strings.Contains(stderr, commit) {
		t.Errorf("damaged: exit %d, stderr %q", code, stderr)
	}
}
