package cli

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/internal/testtools"
)

func TestHookInstallUninstall(t *testing.T) {
	repo := newRepo(t)
	hook := filepath.Join(repo, ".git", "hooks", "pre-commit")
	bin := "/opt/keytrail/bin/keytrail"

	r := run(t, "", "hook", "install", "--binary", bin, repo)
	if r.code != ExitClean {
		t.Fatalf("install: %d %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(hook)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(hook); fi.Mode()&0o111 == 0 {
		t.Errorf("hook not executable: %v", fi.Mode())
	}
	for _, want := range []string{"#!/bin/sh", hookMarker, "'" + bin + "'", "scan git --staged"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("hook lacks %q:\n%s", want, data)
		}
	}
	// Re-installing our own hook is fine.
	if r := run(t, "", "hook", "install", "--binary", bin, repo); r.code != ExitClean {
		t.Errorf("reinstall: %d %s", r.code, r.stderr)
	}
	if r := run(t, "", "hook", "uninstall", repo); r.code != ExitClean {
		t.Fatalf("uninstall: %d %s", r.code, r.stderr)
	}
	if _, err := os.Stat(hook); !os.IsNotExist(err) {
		t.Errorf("hook still there after uninstall: %v", err)
	}

	// A foreign hook is neither replaced nor removed without --force.
	foreign := "#!/bin/sh\necho team hook\n"
	write(t, hook, foreign)
	r = run(t, "", "hook", "install", "--binary", bin, repo)
	if r.code != ExitError || !strings.Contains(r.stderr, "--force") {
		t.Errorf("install over a foreign hook: %d %s", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(hook); string(got) != foreign {
		t.Errorf("foreign hook changed:\n%s", got)
	}
	if r := run(t, "", "hook", "uninstall", repo); r.code != ExitError || !strings.Contains(r.stderr, "not written by keytrail") {
		t.Errorf("uninstall of a foreign hook: %d %s", r.code, r.stderr)
	}
	r = run(t, "", "hook", "install", "--force", "--binary", bin, repo)
	if r.code != ExitClean {
		t.Fatalf("install --force: %d %s", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(hook + hookBackupSuffix); string(got) != foreign {
		t.Errorf("backup = %q", got)
	}
	if r := run(t, "", "hook", "uninstall", repo); r.code != ExitClean || !strings.Contains(r.stdout, "restored") {
		t.Errorf("uninstall after --force: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if got, _ := os.ReadFile(hook); string(got) != foreign {
		t.Errorf("foreign hook not restored: %q", got)
	}

	// Not a repository: a clear error.
	if r := run(t, "", "hook", "install", t.TempDir()); r.code != ExitError || !strings.Contains(r.stderr, "not a git repository") {
		t.Errorf("outside a repo: %d %s", r.code, r.stderr)
	}
}

func TestHookInstallHonoursHooksPathAndWorktrees(t *testing.T) {
	repo := newRepo(t)
	gitOK(t, repo, "config", "core.hooksPath", ".githooks")
	if r := run(t, "", "hook", "install", "--binary", "/x/keytrail", repo); r.code != ExitClean {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(repo, ".githooks", "pre-commit")); err != nil {
		t.Errorf("core.hooksPath not honoured: %v", err)
	}

	repo2 := newRepo(t)
	wt := filepath.Join(t.TempDir(), "wt")
	gitOK(t, repo2, "worktree", "add", "-q", "-b", "feature", wt)
	if r := run(t, "", "hook", "install", "--binary", "/x/keytrail", wt); r.code != ExitClean {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(repo2, ".git", "hooks", "pre-commit")); err != nil {
		t.Errorf("worktree install did not write the shared hook: %v", err)
	}
}

// fakeKeyFile is a config file with a format-exact fake token on line 2.
func fakeKeyFile(tok string) string {
	return "DEBUG = False\nGITHUB_TOKEN = \"" + tok + "\"\n"
}

// commitScenarios runs the same commits against an installed hook:
// a fake key is blocked naming file, line and rule; a clean change and an
// allowlisted fixture go through.
func commitScenarios(t *testing.T, repo string, env []string) {
	t.Helper()
	tok := ghToken(9001)
	head := gitOK(t, repo, "rev-parse", "HEAD")
	commitsBefore := gitOK(t, repo, "rev-list", "--count", "HEAD")

	write(t, filepath.Join(repo, "app", "settings.py"), fakeKeyFile(tok))
	gitOK(t, repo, "add", "app/settings.py")
	r := runCmd(t, repo, env, "git", "commit", "-m", "add settings")
	if r.code == 0 {
		t.Fatalf("commit with a fake key was not blocked:\n%s", r.output)
	}
	for _, want := range []string{"app/settings.py:2:", "github-pat"} {
		if !strings.Contains(r.output, want) {
			t.Errorf("block message lacks %q:\n%s", want, r.output)
		}
	}
	if strings.Contains(r.output, tok) {
		t.Errorf("hook output shows the secret:\n%s", r.output)
	}
	if got := gitOK(t, repo, "rev-parse", "HEAD"); got != head {
		t.Fatalf("HEAD moved although the hook failed")
	}
	gitOK(t, repo, "reset", "-q", "HEAD", "--", "app/settings.py")
	os.Remove(filepath.Join(repo, "app", "settings.py"))

	write(t, filepath.Join(repo, "app", "main.py"), "print('hello')\n")
	gitOK(t, repo, "add", "app/main.py")
	if r := runCmd(t, repo, env, "git", "commit", "-m", "clean change"); r.code != 0 {
		t.Fatalf("clean commit blocked:\n%s", r.output)
	}

	write(t, filepath.Join(repo, "testdata", "fixture.py"), "FAKE = \""+tok+"\"  # keytrail:allow test fixture\n")
	gitOK(t, repo, "add", "testdata/fixture.py")
	if r := runCmd(t, repo, env, "git", "commit", "-m", "add fixture"); r.code != 0 {
		t.Fatalf("allowlisted fixture blocked:\n%s", r.output)
	}
	if n, before := gitOK(t, repo, "rev-list", "--count", "HEAD"), commitsBefore; n != fmt.Sprint(atoi(before)+2) {
		t.Errorf("want %s+2 commits, have %s", before, n)
	}
}

// TestHookInstallBlocksSecretsEndToEnd drives real `git commit` through
// the hook `keytrail hook install` writes, including from a worktree.
func TestHookInstallBlocksSecretsEndToEnd(t *testing.T) {
	needScanGit(t)
	bin := buildKeytrail(t)
	repo := newRepo(t)
	if r := runCmd(t, repo, nil, bin, "hook", "install"); r.code != 0 {
		t.Fatalf("hook install: %s", r.output)
	}
	commitScenarios(t, repo, nil)

	wt := filepath.Join(t.TempDir(), "wt")
	gitOK(t, repo, "worktree", "add", "-q", "-b", "feature", wt)
	write(t, filepath.Join(wt, "leak.env"), "T="+ghToken(9002)+"\n")
	gitOK(t, wt, "add", "leak.env")
	if r := runCmd(t, wt, nil, "git", "commit", "-m", "leak from worktree"); r.code == 0 || !strings.Contains(r.output, "leak.env:1:") {
		t.Errorf("worktree commit not blocked:\n%s", r.output)
	}
}

// TestPreCommitFrameworkBlocksSecrets drives the real pre-commit tool with
// the hook from .pre-commit-hooks.yaml as published (language: golang):
// pre-commit clones a copy of this repository and runs `go install ./...`
// in it, then runs the hook on each `git commit`.
//
// To stay offline, the test points pre-commit's Go build at this
// machine's module and build caches (GOMODCACHE, GOCACHE) with
// GOPROXY=off and GOTOOLCHAIN=local: everything the build needs was
// already downloaded to compile this test, so no network is used, yet the
// published hook definition is what runs. (A `repo: local`/`language:
// system` config would not exercise .pre-commit-hooks.yaml at all.)
func TestPreCommitFrameworkBlocksSecrets(t *testing.T) {
	needScanGit(t)
	preCommit := testtools.Need(t, "pre-commit")
	testtools.Need(t, "go")
	hookRepo := copyModuleToRepo(t)
	sha := gitOK(t, hookRepo, "rev-parse", "HEAD")

	goEnv := func(name string) string {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	env := gitEnv(
		"PRE_COMMIT_HOME="+filepath.Join(t.TempDir(), "pre-commit-cache"),
		"GOMODCACHE="+goEnv("GOMODCACHE"),
		"GOCACHE="+goEnv("GOCACHE"),
		"GOPROXY=off",
		"GOTOOLCHAIN=local",
		"GOFLAGS=-mod=mod",
		"PRE_COMMIT_COLOR=never",
	)

	repo := newRepo(t)
	write(t, filepath.Join(repo, ".pre-commit-config.yaml"), fmt.Sprintf(`repos:
  - repo: %s
    rev: %s
    hooks:
      - id: keytrail
`, hookRepo, sha))
	gitOK(t, repo, "add", ".pre-commit-config.yaml")
	gitOK(t, repo, "commit", "-q", "--no-verify", "-m", "add pre-commit config")
	if r := runCmd(t, repo, env, preCommit, "install"); r.code != 0 {
		t.Fatalf("pre-commit install: %s", r.output)
	}
	// Build the hook environment once up front, so a build problem shows
	// as such rather than as a blocked commit.
	if r := runCmd(t, repo, env, preCommit, "install-hooks"); r.code != 0 {
		t.Fatalf("pre-commit install-hooks (go install of keytrail):\n%s", r.output)
	}
	commitScenarios(t, repo, env)

	// try-repo runs the hook straight from the hook repository.
	write(t, filepath.Join(repo, "more.env"), "TOKEN="+ghToken(9003)+"\n")
	gitOK(t, repo, "add", "more.env")
	r := runCmd(t, repo, env, preCommit, "try-repo", hookRepo, "keytrail", "--ref", sha)
	if r.code == 0 || !strings.Contains(r.output, "more.env:1:") || !strings.Contains(r.output, "github-pat") {
		t.Errorf("pre-commit try-repo did not report the staged key (exit %d):\n%s", r.code, r.output)
	}
}

// copyModuleToRepo copies this module's files (tracked and untracked, not
// ignored) into a new repository with one commit, so pre-commit can clone
// it whatever state the working tree is in.
func copyModuleToRepo(t *testing.T) string {
	t.Helper()
	src := moduleRoot(t)
	files := gitOK(t, src, "ls-files", "-co", "--exclude-standard")
	dst := t.TempDir()
	for _, f := range strings.Split(files, "\n") {
		if f == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			if errorsIsNotExist(err) {
				continue // deleted in the working tree
			}
			t.Fatal(err)
		}
		fi, _ := os.Stat(filepath.Join(src, f))
		p := filepath.Join(dst, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dst, ".pre-commit-hooks.yaml")); err != nil {
		t.Fatalf(".pre-commit-hooks.yaml missing from the module: %v", err)
	}
	gitOK(t, dst, "init", "-q", "-b", "main")
	gitOK(t, dst, "add", "-A")
	gitOK(t, dst, "commit", "-q", "--no-verify", "-m", "snapshot")
	return dst
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

func errorsIsNotExist(err error) bool {
	return err != nil && (os.IsNotExist(err) || strings.Contains(err.Error(), fs.ErrNotExist.Error()))
}
