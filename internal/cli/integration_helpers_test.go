package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keytrail/keytrail/internal/testtools"
)

// Helpers for the tests that drive keytrail through real external tools
// (git, pre-commit, the Action script, the SARIF validator).

// moduleRoot is the repository root, two levels above this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	return root
}

// buildKeytrail compiles the keytrail binary into a temporary directory.
func buildKeytrail(t *testing.T) string {
	t.Helper()
	testtools.Need(t, "go")
	bin := filepath.Join(t.TempDir(), "keytrail")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/keytrail")
	cmd.Dir = moduleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// gitEnv isolates git from the user's configuration and fixes identities.
func gitEnv(extra ...string) []string {
	env := append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Keytrail Test", "GIT_AUTHOR_EMAIL=test@keytrail.invalid",
		"GIT_COMMITTER_NAME=Keytrail Test", "GIT_COMMITTER_EMAIL=test@keytrail.invalid",
		"GIT_TERMINAL_PROMPT=0",
	)
	return append(env, extra...)
}

type cmdResult struct {
	code   int
	output string // stdout and stderr interleaved
	stdout string
}

// runCmd runs a program in dir and returns its exit code and output.
func runCmd(t *testing.T, dir string, env []string, name string, args ...string) cmdResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env == nil {
		env = gitEnv()
	}
	cmd.Env = env
	var all lockedBuffer
	var out bytes.Buffer
	cmd.Stdout = &teeWriter{&all, &out}
	cmd.Stderr = &all
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return cmdResult{code, all.String(), out.String()}
}

// lockedBuffer is written by the stdout and stderr copiers at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type teeWriter struct {
	all *lockedBuffer
	out *bytes.Buffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.all.Write(p)
	return w.out.Write(p)
}

// gitOK runs git and fails the test on a non-zero exit.
func gitOK(t *testing.T, dir string, args ...string) string {
	t.Helper()
	r := runCmd(t, dir, nil, "git", args...)
	if r.code != 0 {
		t.Fatalf("git %s: exit %d\n%s", strings.Join(args, " "), r.code, r.output)
	}
	return strings.TrimSpace(r.stdout)
}

// newRepo creates a git repository with one commit on branch main.
func newRepo(t *testing.T) string {
	t.Helper()
	testtools.Need(t, "git")
	dir := t.TempDir()
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		dir = r
	}
	gitOK(t, dir, "init", "-q", "-b", "main")
	write(t, filepath.Join(dir, "README.md"), "# test repo\n")
	gitOK(t, dir, "add", "README.md")
	gitOK(t, dir, "commit", "-q", "--no-verify", "-m", "initial commit")
	return dir
}

// commitFile writes, stages and commits one file, skipping hooks.
func commitFile(t *testing.T, repo, name, content, msg string) string {
	t.Helper()
	write(t, filepath.Join(repo, name), content)
	gitOK(t, repo, "add", name)
	gitOK(t, repo, "commit", "-q", "--no-verify", "-m", msg)
	return gitOK(t, repo, "rev-parse", "HEAD")
}

// needScanGit skips when this build has no `scan git` yet.
func needScanGit(t *testing.T) {
	t.Helper()
	if r := run(t, "", "scan", "git", "--help"); r.code != 0 || !strings.Contains(r.stdout, "--staged") {
		t.Skip("keytrail scan git --staged is not available in this build")
	}
}
