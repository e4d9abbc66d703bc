package cli

import (
	"context"
	"io"
	"runtime/debug"
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
