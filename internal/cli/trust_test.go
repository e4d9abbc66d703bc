package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/internal/baseline"
	"github.com/keytrail/keytrail/scanner"
)

// trustRepo is a real repository with a base commit (main) holding the
// trusted config, ignore file and baseline, and a head commit (feature)
// that adds keys together with suppressions for some of them.
type trustRepo struct {
	dir, base, head string
	keys            map[string]string // name -> token
}

func newTrustRepo(t *testing.T) trustRepo {
	t.Helper()
	r := trustRepo{dir: newRepo(t), keys: map[string]string{}}
	for i, n := range []string{"inline", "ignored", "baselined", "allowlisted", "trustedPath", "trustedIgnore", "baseInline", "plain"} {
		r.keys[n] = ghToken(int64(8100 + i))
	}
	fp := func(path, name string) string {
		return scanner.Fingerprint("github-pat", path, r.keys[name])
	}
	// Base: a config allowlisting fixtures/, an ignore entry reviewed
	// before the change for a key at keys/reviewed.env, an empty
	// baseline, and a key with an allow comment that predates the change.
	write(t, filepath.Join(r.dir, ".keytrail.toml"), "[allowlist]\npaths = [\"fixtures/**\"]\n")
	write(t, filepath.Join(r.dir, ".keytrailignore"), "# reviewed\n"+fp("keys/reviewed.env", "trustedIgnore")+"\n")
	write(t, filepath.Join(r.dir, ".keytrail-baseline.json"), `{"version":1,"findings":[]}`+"\n")
	write(t, filepath.Join(r.dir, "old.env"), "A=1\nT="+r.keys["baseInline"]+" # keytrail:allow test fixture\n")
	gitOK(t, r.dir, "add", "-A")
	gitOK(t, r.dir, "commit", "-q", "--no-verify", "-m", "base: trusted suppressions")
	r.base = gitOK(t, r.dir, "rev-parse", "HEAD")

	gitOK(t, r.dir, "checkout", "-q", "-b", "feature")
	write(t, filepath.Join(r.dir, "keys", "inline.env"), "T="+r.keys["inline"]+" # keytrail:allow\n")
	write(t, filepath.Join(r.dir, "keys", "gl.env"), "T="+r.keys["ignored"]+"\n")
	write(t, filepath.Join(r.dir, "keys", "b.env"), "T="+r.keys["baselined"]+"\n")
	write(t, filepath.Join(r.dir, "vendor2", "a.env"), "T="+r.keys["allowlisted"]+"\n")
	write(t, filepath.Join(r.dir, "fixtures", "f.env"), "T="+r.keys["trustedPath"]+"\n")
	write(t, filepath.Join(r.dir, "keys", "reviewed.env"), "T="+r.keys["trustedIgnore"]+"\n")
	write(t, filepath.Join(r.dir, "old.env"), "A=2\nT="+r.keys["baseInline"]+" # keytrail:allow test fixture\n")
	// The change's own suppressions.
	write(t, filepath.Join(r.dir, ".keytrail.toml"), "[allowlist]\npaths = [\"fixtures/**\", \"vendor2/**\"]\n")
	write(t, filepath.Join(r.dir, ".keytrailignore"), "# reviewed\n"+fp("keys/reviewed.env", "trustedIgnore")+"\n"+fp("keys/gl.env", "ignored")+"\n")
	bl := baseline.File{Version: 1, Findings: []baseline.Entry{{Fingerprint: fp("keys/b.env", "baselined"), RuleID: "github-pat", Path: "keys/b.env", Hint: "ghp_…"}}}
	data, err := bl.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(r.dir, ".keytrail-baseline.json"), string(data))
	gitOK(t, r.dir, "add", "-A")
	gitOK(t, r.dir, "commit", "-q", "--no-verify", "-m", "feature: keys and their suppressions")
	r.head = gitOK(t, r.dir, "rev-parse", "HEAD")
	return r
}

// suppressedBy maps each reported key name to its suppressed_by_change.
func (r trustRepo) suppressedBy(t *testing.T, out string) map[string]string {
	t.Helper()
	var fs []scanner.Finding
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]string{}
	for _, f := range fs {
		for name, tok := range r.keys {
			if f.Fingerprint == scanner.Fingerprint(f.RuleID, f.File, tok) || strings.Contains(f.Match, tok) {
				got[name] = f.SuppressedByChange
			}
		}
	}
	return got
}

// TestRangeScanTrustsTheBase: in a range scan the base commit's config,
// ignore file and baseline apply; what the range adds to them (and allow
// comments on its own lines) never silences a finding: it is reported,
// marked suppressed_by_change with what would have suppressed it.
func TestRangeScanTrustsTheBase(t *testing.T) {
	needScanGit(t)
	r := newTrustRepo(t)
	want := map[string]string{
		"inline":      "keytrail:allow comment on a line the change adds",
		"ignored":     "entry in .keytrailignore or .gitleaksignore added by the change",
		"baselined":   "entry in " + filepath.Join(r.dir, ".keytrail-baseline.json") + " added by the change",
		"allowlisted": "global allowlist in " + filepath.Join(r.dir, ".keytrail.toml"),
	}
	check := func(t *testing.T, res result, want map[string]string) {
		t.Helper()
		got := r.suppressedBy(t, res.stdout)
		if len(got) != len(want) {
			t.Errorf("reported %v, want %v", got, want)
		}
		for name, why := range want {
			if g, ok := got[name]; !ok || g != why {
				t.Errorf("%s: suppressed_by_change %q (reported %v), want %q", name, g, ok, why)
			}
		}
	}
	bl := filepath.Join(r.dir, ".keytrail-baseline.json")
	rangeArgs := map[string][]string{
		"range":        {"--range", r.base + ".." + r.head},
		"since-commit": {"--since-commit", r.base},
	}
	for name, args := range rangeArgs {
		t.Run(name, func(t *testing.T) {
			res := run(t, "", append([]string{"scan", "git", "-f", "json", "--baseline", bl, r.dir}, args...)...)
			if res.code != ExitClean {
				t.Errorf("exit %d, want 0 (only suppressed_by_change findings): %s", res.code, res.stderr)
			}
			check(t, res, want)
			res = run(t, "", append([]string{"scan", "git", "-f", "json", "--fail-on-new-suppressions", "--baseline", bl, r.dir}, args...)...)
			if res.code != ExitFindings {
				t.Errorf("--fail-on-new-suppressions: exit %d, want 1", res.code)
			}
		})
	}
	t.Run("text report says so", func(t *testing.T) {
		res := run(t, "", "scan", "git", "--baseline", bl, "--range", r.base+".."+r.head, r.dir)
		if n := strings.Count(res.stdout, "suppressed by the change itself, reported anyway: "); n != len(want) {
			t.Errorf("%d marked findings in the text report, want %d:\n%s", n, len(want), res.stdout)
		}
	})
	t.Run("working tree explicitly", func(t *testing.T) {
		// --config-from/--baseline-from worktree restore the old, trusting
		// behaviour: everything suppressed, silently.
		res := run(t, "", "scan", "git", "-f", "json", "--config-from", "worktree", "--baseline-from", "worktree",
			"--baseline", bl, "--range", r.base+".."+r.head, r.dir)
		if got := r.suppressedBy(t, res.stdout); len(got) != 1 || got["inline"] == "" {
			t.Errorf("reported %v, want only the inline-allowed key (inline comments are judged by the range)", got)
		}
	})
	t.Run("dir scan with explicit revisions", func(t *testing.T) {
		// Path globs match paths relative to the scanned root as given.
		t.Chdir(r.dir)
		bl := ".keytrail-baseline.json"
		res := run(t, "", "scan", "dir", "-f", "json", "--config-from", "main", "--baseline-from", "main", "--baseline", bl, ".")
		w := map[string]string{}
		for k, v := range want {
			if k != "inline" { // outside a range, inline comments are not judged
				w[k] = strings.ReplaceAll(v, r.dir+"/", "")
			}
		}
		check(t, res, w)
		if res.code != ExitClean {
			t.Errorf("exit %d: %s", res.code, res.stderr)
		}
		if res := run(t, "", "scan", "dir", "-f", "json", "--baseline", bl, "."); res.code != ExitClean || len(r.suppressedBy(t, res.stdout)) != 0 {
			t.Errorf("plain dir scan: exit %d, reported %v", res.code, r.suppressedBy(t, res.stdout))
		}
	})
	t.Run("bad revision", func(t *testing.T) {
		res := run(t, "", "scan", "dir", "--config-from", "no-such-rev", r.dir)
		if res.code != ExitError || !strings.Contains(res.stderr, `"no-such-rev" is not a commit`) {
			t.Errorf("exit %d: %s", res.code, res.stderr)
		}
	})
}
