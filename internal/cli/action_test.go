package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/internal/testtools"
	"github.com/keytrail/keytrail/rules"
)

// prRepo is a repository shaped like a pull request: main has a key
// committed before the branch point (tokBase) and one after it (tokMain);
// the PR branch adds tokPR.
type prRepo struct {
	dir                                string
	tokBase, tokPR, tokMain            string
	forkPoint, mainTip, prTip, prFirst string
}

func newPRRepo(t *testing.T) prRepo {
	t.Helper()
	r := prRepo{dir: newRepo(t), tokBase: ghToken(7001), tokPR: ghToken(7002), tokMain: ghToken(7003)}
	r.forkPoint = commitFile(t, r.dir, "base.env", "TOKEN="+r.tokBase+"\n", "base: config with a key")
	gitOK(t, r.dir, "checkout", "-q", "-b", "feature")
	r.prFirst = commitFile(t, r.dir, "src/new.env", "X=1\nTOKEN="+r.tokPR+"\n", "feature: add new config")
	r.prTip = commitFile(t, r.dir, "src/main.go", "package main\n", "feature: clean change")
	gitOK(t, r.dir, "checkout", "-q", "main")
	r.mainTip = commitFile(t, r.dir, "other.env", "TOKEN="+r.tokMain+"\n", "main moved on")
	gitOK(t, r.dir, "checkout", "-q", "feature")
	return r
}

type actionRun struct {
	code    int
	output  string
	outputs map[string]string
	sarif   string // SARIF text, "" if none
	uris    []string
	summary string // what the script wrote to the job summary
}

// runAction runs scripts/action.sh scan like the composite action does,
// with a fake event payload.
func runAction(t *testing.T, bin, workspace, event string, payload any, inputs map[string]string) actionRun {
	t.Helper()
	tmp := t.TempDir()
	evPath := filepath.Join(tmp, "event.json")
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	write(t, evPath, string(data))
	outPath := filepath.Join(tmp, "github_output")
	write(t, outPath, "")
	summaryPath := filepath.Join(tmp, "step_summary.md")
	env := gitEnv(
		"GITHUB_STEP_SUMMARY="+summaryPath,
		"GITHUB_ACTIONS=true",
		"GITHUB_EVENT_NAME="+event,
		"GITHUB_EVENT_PATH="+evPath,
		"GITHUB_WORKSPACE="+workspace,
		"GITHUB_OUTPUT="+outPath,
		"RUNNER_TEMP="+tmp,
		"KEYTRAIL_BIN="+bin,
		// Keep the runner's global git config out of the test.
		"GIT_CONFIG_GLOBAL="+filepath.Join(tmp, "gitconfig"),
	)
	for k, v := range inputs {
		env = append(env, "INPUT_"+k+"="+v)
	}
	script := filepath.Join(moduleRoot(t), "scripts", "action.sh")
	res := runCmd(t, workspace, env, "bash", script, "scan")
	ar := actionRun{code: res.code, output: res.output, outputs: map[string]string{}}
	if b, err := os.ReadFile(summaryPath); err == nil {
		ar.summary = string(b)
	}
	outs, _ := os.ReadFile(outPath)
	for _, line := range strings.Split(string(outs), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			ar.outputs[k] = v
		}
	}
	if p := ar.outputs["sarif-file"]; p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("sarif-file output %s: %v", p, err)
		}
		ar.sarif = string(b)
		var doc struct {
			Runs []struct {
				Results []struct {
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string } `json:"artifactLocation"`
						} `json:"physicalLocation"`
					} `json:"locations"`
				} `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("SARIF from the action is not JSON: %v", err)
		}
		for _, r := range doc.Runs[0].Results {
			ar.uris = append(ar.uris, r.Locations[0].PhysicalLocation.ArtifactLocation.URI)
		}
		sort.Strings(ar.uris)
	}
	return ar
}

// actionInstall runs the action's install step (go install from the
// action's directory, as on a runner without a version pinned) and
// returns the binary it reports in the "bin" output.
func actionInstall(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	outPath := filepath.Join(tmp, "github_output")
	write(t, outPath, "")
	root := moduleRoot(t)
	env := append(os.Environ(), "GITHUB_ACTION_PATH="+root, "RUNNER_TEMP="+tmp, "GITHUB_OUTPUT="+outPath, "INPUT_VERSION=")
	res := runCmd(t, root, env, "bash", filepath.Join(root, "scripts", "action.sh"), "install")
	if res.code != 0 {
		t.Fatalf("action.sh install: exit %d\n%s", res.code, res.output)
	}
	outs, _ := os.ReadFile(outPath)
	bin, ok := strings.CutPrefix(strings.TrimSpace(string(outs)), "bin=")
	if !ok || !strings.HasPrefix(bin, tmp) {
		t.Fatalf("install outputs %q", outs)
	}
	if !strings.Contains(res.output, "keytrail ") {
		t.Errorf("install did not print the version:\n%s", res.output)
	}
	return bin
}

func prPayload(base, head string) map[string]any {
	return map[string]any{
		"number": 7,
		"pull_request": map[string]any{
			"number": 7,
			"base":   map[string]any{"ref": "main", "sha": base},
			"head":   map[string]any{"ref": "feature", "sha": head},
		},
	}
}

// TestActionScript runs the GitHub Action's logic over a real repository
// with a base and a head commit and fake event payloads.
func TestActionScript(t *testing.T) {
	needScanGit(t)
	testtools.Need(t, "bash")
	testtools.Need(t, "go")
	bin := actionInstall(t)
	r := newPRRepo(t)
	secrets := []string{r.tokBase, r.tokPR, r.tokMain}
	noSecrets := func(t *testing.T, ar actionRun) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(ar.output, s) || strings.Contains(ar.sarif, s) {
				t.Errorf("a secret appears in the action's log or SARIF")
			}
		}
	}

	t.Run("pull request: key added in the PR fails, base keys not reported", func(t *testing.T) {
		// base.sha is main's tip when the event fired: past the fork point.
		ar := runAction(t, bin, r.dir, "pull_request", prPayload(r.mainTip, r.prTip), map[string]string{"SARIF_CATEGORY": "keytrail-pr"})
		if ar.code != 1 {
			t.Fatalf("exit %d, want 1\n%s", ar.code, ar.output)
		}
		if strings.Join(ar.uris, ",") != "src/new.env" {
			t.Errorf("SARIF results at %v, want only src/new.env\n%s", ar.uris, ar.output)
		}
		if ar.outputs["findings"] != "1" || ar.outputs["exit-code"] != "1" || ar.outputs["commits"] != "2" {
			t.Errorf("outputs %v", ar.outputs)
		}
		if !strings.Contains(ar.outputs["range"], r.forkPoint+".."+r.prTip) {
			t.Errorf("range %q, want merge-base..head %s..%s", ar.outputs["range"], r.forkPoint, r.prTip)
		}
		if _, err := exec.LookPath("jq"); err == nil || os.Getenv(testtools.RequireEnv) != "" {
			// The script annotates findings when jq is there (as on runners).
			if !strings.Contains(ar.output, "::error file=src/new.env,line=2,") || !strings.Contains(ar.output, "github-pat") {
				t.Errorf("no annotation for the finding:\n%s", ar.output)
			}
		}
		if !strings.Contains(ar.sarif, `"id": "keytrail-pr/"`) || !strings.Contains(ar.sarif, r.prFirst) {
			t.Errorf("SARIF lacks the category or the commit provenance")
		}
		noSecrets(t, ar)
		// The SARIF from this history scan must pass GitHub's validator.
		f := filepath.Join(t.TempDir(), "pr.sarif")
		write(t, f, ar.sarif)
		for _, is := range testtools.ValidateSARIF(t, f) {
			t.Error(is)
		}
	})

	t.Run("pull request without new keys passes", func(t *testing.T) {
		ar := runAction(t, bin, r.dir, "pull_request", prPayload(r.prFirst, r.prTip), nil)
		if ar.code != 0 || ar.outputs["findings"] != "0" || len(ar.uris) != 0 {
			t.Errorf("exit %d outputs %v uris %v\n%s", ar.code, ar.outputs, ar.uris, ar.output)
		}
		if !strings.Contains(ar.sarif, `"results": []`) {
			t.Errorf("clean run should upload an empty result set")
		}
	})

	t.Run("fail-on-findings false reports without failing", func(t *testing.T) {
		ar := runAction(t, bin, r.dir, "pull_request", prPayload(r.mainTip, r.prTip), map[string]string{"FAIL_ON_FINDINGS": "false"})
		if ar.code != 0 || ar.outputs["findings"] != "1" {
			t.Errorf("exit %d outputs %v", ar.code, ar.outputs)
		}
	})

	t.Run("baseline suppresses reviewed findings", func(t *testing.T) {
		bl := filepath.Join(t.TempDir(), "baseline.json")
		if res := runCmd(t, r.dir, nil, bin, "baseline", "create", "--output", bl, "git", "."); res.code != 0 {
			t.Fatalf("baseline create: %s", res.output)
		}
		ar := runAction(t, bin, r.dir, "pull_request", prPayload(r.mainTip, r.prTip), map[string]string{"BASELINE": bl})
		if ar.code != 0 || ar.outputs["findings"] != "0" {
			t.Errorf("exit %d outputs %v\n%s", ar.code, ar.outputs, ar.output)
		}
	})

	t.Run("push scans before..after", func(t *testing.T) {
		ar := runAction(t, bin, r.dir, "push", map[string]any{"ref": "refs/heads/main", "before": r.forkPoint, "after": r.mainTip}, nil)
		if ar.code != 1 || strings.Join(ar.uris, ",") != "other.env" {
			t.Errorf("exit %d uris %v\n%s", ar.code, ar.uris, ar.output)
		}
	})

	t.Run("push of a new branch scans its history", func(t *testing.T) {
		ar := runAction(t, bin, r.dir, "push", map[string]any{"ref": "refs/heads/feature", "before": strings.Repeat("0", 40), "after": r.prTip}, nil)
		if ar.code != 1 || strings.Join(ar.uris, ",") != "base.env,src/new.env" {
			t.Errorf("exit %d uris %v\n%s", ar.code, ar.uris, ar.output)
		}
	})

	t.Run("push deleting a branch scans nothing", func(t *testing.T) {
		ar := runAction(t, bin, r.dir, "push", map[string]any{"ref": "refs/heads/old", "before": r.prTip, "after": strings.Repeat("0", 40)}, nil)
		if ar.code != 0 || ar.sarif != "" {
			t.Errorf("exit %d\n%s", ar.code, ar.output)
		}
	})

	t.Run("schedule scans the full history", func(t *testing.T) {
		ar := runAction(t, bin, r.dir, "schedule", map[string]any{"schedule": "0 3 * * *"}, nil)
		if ar.code != 1 || strings.Join(ar.uris, ",") != "base.env,other.env,src/new.env" {
			t.Errorf("exit %d uris %v\n%s", ar.code, ar.uris, ar.output)
		}
		noSecrets(t, ar)
	})

	t.Run("shallow checkout gives a clear error", func(t *testing.T) {
		shallow := filepath.Join(t.TempDir(), "shallow")
		gitOK(t, r.dir, "clone", "-q", "--depth", "1", "--branch", "feature", "file://"+r.dir, shallow)
		for _, tc := range []struct {
			event   string
			payload any
		}{
			{"pull_request", prPayload(r.mainTip, r.prTip)},
			{"push", map[string]any{"before": r.prFirst, "after": r.prTip}},
			{"workflow_dispatch", map[string]any{}},
		} {
			ar := runAction(t, bin, shallow, tc.event, tc.payload, nil)
			if ar.code != 2 || !strings.Contains(ar.output, "fetch-depth: 0") || !strings.Contains(ar.output, "::error") {
				t.Errorf("%s on a shallow clone: exit %d\n%s", tc.event, ar.code, ar.output)
			}
		}
	})
}

// TestActionNewSuppressions: a pull request that adds keys together with
// its own suppressions (baseline and ignore entries, an allowlist rule, a
// keytrail:allow comment) does not pass silently: each key is a warning
// annotation and a row of the job summary, and the check fails on them
// with fail-on-new-suppressions.
func TestActionNewSuppressions(t *testing.T) {
	needScanGit(t)
	testtools.Need(t, "bash")
	testtools.Need(t, "jq")
	bin := actionInstall(t)
	r := newTrustRepo(t)
	payload := prPayload(r.base, r.head)
	ar := runAction(t, bin, r.dir, "pull_request", payload, nil)
	if ar.code != 0 || ar.outputs["new-suppressions"] != "4" || ar.outputs["findings"] != "4" {
		t.Fatalf("exit %d outputs %v\n%s", ar.code, ar.outputs, ar.output)
	}
	for _, f := range []string{"keys/inline.env", "keys/gl.env", "keys/b.env", "vendor2/a.env"} {
		if !strings.Contains(ar.output, "::warning file="+f+",line=1,title=keytrail%3A secret suppressed by this change") {
			t.Errorf("no warning annotation for %s:\n%s", f, ar.output)
		}
		if !strings.Contains(ar.summary, "| "+strings.ReplaceAll(f, "_", "\\_")+":1 |") {
			t.Errorf("job summary lacks %s:\n%s", f, ar.summary)
		}
	}
	for _, why := range []string{"keytrail:allow comment on a line the change adds", "entry in .keytrail\\-baseline.json added by the change",
		"global allowlist in .keytrail.toml", "entry in .keytrailignore or .gitleaksignore added by the change"} {
		if !strings.Contains(ar.summary, why) {
			t.Errorf("job summary lacks %q:\n%s", why, ar.summary)
		}
	}
	if strings.Contains(ar.output, "::error file=") {
		t.Errorf("suppressed findings annotated as errors:\n%s", ar.output)
	}
	ar = runAction(t, bin, r.dir, "pull_request", payload, map[string]string{"FAIL_ON_NEW_SUPPRESSIONS": "true"})
	if ar.code != 1 || ar.outputs["exit-code"] != "1" {
		t.Errorf("fail-on-new-suppressions: exit %d outputs %v\n%s", ar.code, ar.outputs, ar.output)
	}
}

// TestSARIFFromHistoryScanValidates plants every builtin rule's example
// keys in a repository's history (some later deleted, one in a commit
// message) and requires the SARIF of a full history scan to pass
// Microsoft's validator with GitHub's rules: zero errors, zero warnings.
func TestSARIFFromHistoryScanValidates(t *testing.T) {
	needScanGit(t)
	testtools.SARIFValidator(t)
	repo := newRepo(t)
	rs, err := rules.BuiltinRules()
	if err != nil {
		t.Fatal(err)
	}
	// Forty rules per commit keeps the history short; every third file
	// is deleted again, so it is only in history.
	planted := 0
	var batch, gone []string
	flush := func() {
		if len(batch) == 0 {
			return
		}
		gitOK(t, repo, append([]string{"add"}, batch...)...)
		gitOK(t, repo, "commit", "-q", "--no-verify", "-m", fmt.Sprintf("add %d fixtures", len(batch)))
		if len(gone) > 0 {
			gitOK(t, repo, append([]string{"rm", "-q"}, gone...)...)
			gitOK(t, repo, "commit", "-q", "--no-verify", "-m", "remove some fixtures")
		}
		batch, gone = nil, nil
	}
	for _, r := range rs {
		if len(r.Examples) == 0 {
			continue
		}
		name := "planted/" + r.ID + ".txt"
		write(t, filepath.Join(repo, name), "# fixture\n"+strings.Join(r.Examples, "\n")+"\n")
		batch = append(batch, name)
		if planted%3 == 0 {
			gone = append(gone, name)
		}
		planted++
		if len(batch) == 40 {
			flush()
		}
	}
	flush()
	tok := ghToken(8801)
	gitOK(t, repo, "commit", "-q", "--no-verify", "--allow-empty", "-m", "oops, token "+tok)

	t.Logf("planted %d rules in %d commits", planted, atoi(gitOK(t, repo, "rev-list", "--count", "HEAD")))
	out := filepath.Join(t.TempDir(), "history.sarif")
	res := run(t, "", "scan", "git", repo, "--format", "sarif", "--output", out, "--sarif-category", "keytrail-history", "--no-progress")
	if res.code != ExitFindings {
		t.Fatalf("scan git: exit %d\n%s", res.code, res.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []json.RawMessage `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				Properties map[string]any `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs[0].Results) < planted || len(doc.Runs[0].Tool.Driver.Rules) < planted/2 {
		t.Fatalf("history SARIF has %d results and %d rules for %d planted rules", len(doc.Runs[0].Results), len(doc.Runs[0].Tool.Driver.Rules), planted)
	}
	for _, r := range doc.Runs[0].Results {
		if c, _ := r.Properties["commit"].(string); len(c) != 40 {
			t.Errorf("history result without commit provenance: %v", r.Properties)
			break
		}
	}
	if strings.Contains(string(data), tok) {
		t.Errorf("SARIF contains the commit-message secret")
	}
	for _, is := range testtools.ValidateSARIF(t, out) {
		t.Error(is)
	}
}
