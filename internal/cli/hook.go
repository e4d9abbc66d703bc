package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// hookMarker identifies a pre-commit hook keytrail wrote; hooks without it
// are someone else's and are never overwritten or removed silently.
const hookMarker = "# keytrail-hook: managed by `keytrail hook install`"

const hookBackupSuffix = ".keytrail-backup"

func newHookCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hook",
		Short: "Install a git pre-commit hook that blocks commits adding secrets",
		Long: `For teams without the pre-commit framework: "keytrail hook install" writes
.git/hooks/pre-commit (or the directory core.hooksPath names; linked
worktrees share their repository's hooks) running

    keytrail scan git --staged

so a commit that adds a secret is refused with the file, line and rule.
A line marked keytrail:allow, or a fingerprint in .keytrailignore, lets a
known test fixture through; .keytrail-baseline.json at the repository root
is honoured when present. "git commit --no-verify" skips the hook.

With the pre-commit framework, use the "keytrail" hook from
.pre-commit-hooks.yaml instead.`,
	}
	cmd.AddCommand(newHookInstallCmd(e), newHookUninstallCmd(e))
	return cmd
}

func newHookInstallCmd(e *env) *cobra.Command {
	var force bool
	var binary string
	cmd := &cobra.Command{
		Use:   "install [REPO]",
		Short: "Write the pre-commit hook (refuses to replace a hook keytrail did not write unless --force)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			repo := "."
			if len(args) == 1 {
				repo = args[0]
			}
			if binary == "" {
				exe, err := os.Executable()
				if err != nil {
					return fmt.Errorf("finding the keytrail binary (use --binary): %w", err)
				}
				if r, err := filepath.EvalSymlinks(exe); err == nil {
					exe = r
				}
				binary = exe
			}
			return installHook(e, repo, binary, force)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing pre-commit hook keytrail did not write (it is kept as pre-commit"+hookBackupSuffix+")")
	cmd.Flags().StringVar(&binary, "binary", "", "keytrail binary the hook runs (default: this executable; falls back to keytrail on PATH)")
	return cmd
}

func newHookUninstallCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "uninstall [REPO]",
		Short: "Remove the pre-commit hook if keytrail wrote it (restores a hook --force replaced)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			repo := "."
			if len(args) == 1 {
				repo = args[0]
			}
			return uninstallHook(e, repo)
		},
	}
}

// hooksDir asks git where hooks live, honouring core.hooksPath and
// resolving linked worktrees to the common directory.
func hooksDir(repo string) (string, error) {
	cmd := exec.Command("git", "rev-parse", "--git-path", "hooks")
	cmd.Dir = repo
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("%s is not a git repository (git rev-parse: %s)", repo, msg)
	}
	dir := strings.TrimSpace(string(out))
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(repo, dir)
	}
	return dir, nil
}

// hookScript is the pre-commit hook body. The binary path is baked in so
// the hook works from GUIs with a minimal PATH; if it moved, keytrail on
// PATH is used.
func hookScript(binary string) string {
	return `#!/bin/sh
` + hookMarker + `
# Blocks commits that add secrets. Remove with: keytrail hook uninstall
# Skip once with: git commit --no-verify
KEYTRAIL=` + shellQuote(binary) + `
if [ ! -x "$KEYTRAIL" ]; then
  KEYTRAIL=keytrail
fi
set -- scan git --staged --no-progress
if [ -f .keytrail-baseline.json ]; then
  set -- "$@" --baseline .keytrail-baseline.json
fi
"$KEYTRAIL" "$@"
rc=$?
if [ "$rc" -ne 0 ]; then
  echo >&2
  if [ "$rc" -eq 1 ]; then
    echo "keytrail: commit blocked: the staged changes add the secret(s) above." >&2
    echo "  Remove them (and revoke any real key), or for a known test fixture add keytrail:allow" >&2
    echo "  on its line or its fingerprint to .keytrailignore. Bypass once: git commit --no-verify" >&2
  else
    echo "keytrail: commit blocked: the staged changes could not be scanned (exit $rc)." >&2
  fi
fi
exit "$rc"
`
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func isOurHook(data []byte) bool {
	return bytes.Contains(data, []byte(hookMarker))
}

func installHook(e *env, repo, binary string, force bool) error {
	dir, err := hooksDir(repo)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating hooks directory: %w", err)
	}
	path := filepath.Join(dir, "pre-commit")
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("reading existing hook: %w", err)
	case isOurHook(old):
		// Ours: refresh it (the binary may have moved).
	case !force:
		return fmt.Errorf("%s already exists and was not written by keytrail; not replacing it (use --force to replace it; it will be kept as pre-commit%s, or call keytrail scan git --staged from it)", path, hookBackupSuffix)
	default:
		backup := path + hookBackupSuffix
		if err := os.Rename(path, backup); err != nil {
			return fmt.Errorf("keeping the existing hook: %w", err)
		}
		fmt.Fprintf(e.stderr, "keytrail: existing pre-commit hook moved to %s\n", backup)
	}
	if err := os.WriteFile(path, []byte(hookScript(binary)), 0o755); err != nil {
		return fmt.Errorf("writing hook: %w", err)
	}
	// WriteFile keeps the mode of an existing file; make sure it runs.
	if err := os.Chmod(path, 0o755); err != nil {
		return fmt.Errorf("making hook executable: %w", err)
	}
	fmt.Fprintf(e.stdout, "keytrail: pre-commit hook installed at %s\n", path)
	e.exit = ExitClean
	return nil
}

func uninstallHook(e *env, repo string) error {
	dir, err := hooksDir(repo)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "pre-commit")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(e.stdout, "keytrail: no pre-commit hook at %s\n", path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading hook: %w", err)
	}
	if !isOurHook(data) {
		return fmt.Errorf("%s was not written by keytrail; leaving it alone", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("removing hook: %w", err)
	}
	fmt.Fprintf(e.stdout, "keytrail: pre-commit hook removed from %s\n", path)
	backup := path + hookBackupSuffix
	if _, err := os.Stat(backup); err == nil {
		if err := os.Rename(backup, path); err != nil {
			return fmt.Errorf("restoring the previous hook: %w", err)
		}
		fmt.Fprintf(e.stdout, "keytrail: previous hook restored from %s\n", backup)
	}
	e.exit = ExitClean
	return nil
}
