// Package testtools finds the external tools keytrail's integration tests
// drive (Microsoft's SARIF validator, pre-commit, git) and runs them.
//
// A test skips when a tool is missing only if KEYTRAIL_REQUIRE_TOOLS is
// unset; CI (.ci/run) sets it, so there a missing tool fails the test
// instead of silently passing.
package testtools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// RequireEnv is the variable that turns "tool missing" from a skip into a
// failure.
const RequireEnv = "KEYTRAIL_REQUIRE_TOOLS"

// Need returns the path of an executable, or skips (or fails, under
// KEYTRAIL_REQUIRE_TOOLS) when it cannot be found.
func Need(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	Missing(t, strings.Join(names, " or "))
	return ""
}

// Missing reports an absent tool the way Need does.
func Missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%s not found and %s is set", what, RequireEnv)
	}
	t.Skipf("%s not found (set %s=1 to make this a failure)", what, RequireEnv)
}

// SARIFValidator returns the path of Microsoft's Sarif.Multitool binary.
// `npm install -g @microsoft/sarif-multitool` installs a node wrapper named
// sarif-multitool that runs the real binary through a shell, which splits
// the "Sarif;Gh" rule-kind argument at the semicolon; so the native binary
// beside the wrapper is preferred.
func SARIFValidator(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("Sarif.Multitool"); err == nil {
		return p
	}
	if p, err := exec.LookPath("sarif-multitool"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dir := filepath.Dir(real)
			native := filepath.Join(dir, "node_modules", "@microsoft", "sarif-multitool-"+npmOS(), "Sarif.Multitool")
			if fi, err := os.Stat(native); err == nil && !fi.IsDir() {
				return native
			}
			// npm may hoist the platform package next to the wrapper.
			native = filepath.Join(dir, "..", "sarif-multitool-"+npmOS(), "Sarif.Multitool")
			if fi, err := os.Stat(native); err == nil && !fi.IsDir() {
				return native
			}
		}
	}
	Missing(t, "Sarif.Multitool (npm install -g @microsoft/sarif-multitool)")
	return ""
}

func npmOS() string {
	if runtime.GOOS == "windows" {
		return "win32"
	}
	return runtime.GOOS
}

// ValidationIssue is one error or warning from the SARIF validator.
type ValidationIssue struct {
	Level, RuleID, Message string
}

func (v ValidationIssue) String() string {
	return fmt.Sprintf("%s %s: %s", v.Level, v.RuleID, v.Message)
}

// ValidateSARIF runs `Sarif.Multitool validate --rule-kind "Sarif;Gh"` on
// file and returns every error and warning it reported (notes are not
// returned), including tool notifications such as an unparsable input.
func ValidateSARIF(t testing.TB, file string) []ValidationIssue {
	t.Helper()
	bin := SARIFValidator(t)
	out := filepath.Join(t.TempDir(), "validation.sarif")
	cmd := exec.Command(bin, "validate", "--rule-kind", "Sarif;Gh", "--log", "ForceOverwrite", "--output", out, file)
	cmd.Env = append(os.Environ(), "DOTNET_CLI_TELEMETRY_OPTOUT=1")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		t.Fatalf("Sarif.Multitool validate %s: %v\n%s", file, err, buf.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("reading validator output: %v\n%s", err, buf.String())
	}
	issues, err := ParseValidation(data)
	if err != nil {
		t.Fatalf("parsing validator output: %v\n%s", err, buf.String())
	}
	if !strings.Contains(buf.String(), "1 files scanned") {
		t.Fatalf("validator did not analyse %s:\n%s", file, buf.String())
	}
	return issues
}

// ParseValidation extracts errors and warnings from the validator's SARIF
// output. A result without a level is a warning (SARIF §3.27.10).
func ParseValidation(data []byte) ([]ValidationIssue, error) {
	type msg struct {
		Text      string   `json:"text"`
		Arguments []string `json:"arguments"`
	}
	type note struct {
		Level   string `json:"level"`
		Message msg    `json:"message"`
		Desc    struct {
			ID string `json:"id"`
		} `json:"descriptor"`
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID  string `json:"ruleId"`
				Level   string `json:"level"`
				Message msg    `json:"message"`
			} `json:"results"`
			Invocations []struct {
				Exec   []note `json:"toolExecutionNotifications"`
				Config []note `json:"toolConfigurationNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		return nil, err
	}
	if len(log.Runs) == 0 {
		return nil, fmt.Errorf("validator output has no runs")
	}
	text := func(m msg) string {
		if m.Text != "" {
			return m.Text
		}
		return strings.Join(m.Arguments, " | ")
	}
	var out []ValidationIssue
	for _, run := range log.Runs {
		for _, r := range run.Results {
			lvl := r.Level
			if lvl == "" {
				lvl = "warning"
			}
			if lvl == "error" || lvl == "warning" {
				out = append(out, ValidationIssue{lvl, r.RuleID, text(r.Message)})
			}
		}
		for _, inv := range run.Invocations {
			for _, n := range append(inv.Exec, inv.Config...) {
				lvl := n.Level
				if lvl == "" {
					lvl = "warning"
				}
				if lvl == "error" || lvl == "warning" {
					out = append(out, ValidationIssue{lvl, n.Desc.ID, text(n.Message)})
				}
			}
		}
	}
	return out, nil
}
