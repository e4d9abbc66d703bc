package gitsource

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestGitEnvTunables(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		want    string // GLIBC_TUNABLES git sees
	}{
		{"unset", []string{"PATH=/bin"}, "glibc.malloc.hugetlb=1"},
		{"others kept", []string{"GLIBC_TUNABLES=glibc.malloc.arena_max=2"}, "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"},
		{"user's choice wins", []string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=0"}, "glibc.malloc.hugetlb=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.environ)
			env := gitEnv(in)
			if !slices.Equal(in, tc.environ) {
				t.Fatalf("gitEnv changed its input: %q", in)
			}
			// exec uses the last value of a repeated key.
			got := ""
			for _, kv := range env {
				if v, ok := strings.CutPrefix(kv, "GLIBC_TUNABLES="); ok {
					got = v
				}
			}
			if got != tc.want {
				t.Fatalf("GLIBC_TUNABLES = %q, want %q", got, tc.want)
			}
			for _, want := range []string{"LC_ALL=C", "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0"} {
				if !slices.Contains(env, want) {
					t.Errorf("env lacks %s", want)
				}
			}
		})
	}
}

// TestGitCommandEnv checks what a git process started by gitBin really
// gets, through an alias that prints it.
func TestGitCommandEnv(t *testing.T) {
	needGit(t)
	r := newRepo(t)
	t.Setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
	g := &gitBin{dir: r.dir}
	out, err := g.output(context.Background(), nil, "-c", "alias.kt-env=!printenv GLIBC_TUNABLES LC_ALL", "kt-env")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1\nC\n"; got != want {
		t.Fatalf("git saw %q, want %q", got, want)
	}
}
