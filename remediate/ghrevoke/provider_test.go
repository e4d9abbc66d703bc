package ghrevoke

import (
	"context"
	"fmt"
	"math/rand"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keytrail/keytrail/remediate"
)

// tokenPlan makes a plan revoking tokens through the fake's API, and the
// provider holding them (as --tokens does).
func tokenPlan(t *testing.T, api string, tokens []string) (*remediate.Plan, *Provider) {
	t.Helper()
	prov := &Provider{Tokens: map[string]string{}, Clock: remediate.NewFakeClock(time.Now())}
	p := &remediate.Plan{Version: remediate.PlanVersion}
	for _, tok := range tokens {
		prov.Tokens[Hash(tok)] = tok
		kp := remediate.KeyPlan{Provider: "github", RuleID: "github-pat", KeyID: Hint(tok), SecretSHA256: Hash(tok), Action: remediate.ActionRevoke,
			Options: remediate.Options{GitHubAPI: api}}
		if err := remediate.Fill(&kp, remediate.Planners(map[string]remediate.Provider{"github": prov})); err != nil {
			t.Fatal(err)
		}
		p.Keys = append(p.Keys, kp)
	}
	return p, prov
}

func newRunner(t *testing.T, path string, prov *Provider) *remediate.Runner {
	t.Helper()
	j, err := remediate.CreateJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return &remediate.Runner{Journal: j, Providers: map[string]remediate.Provider{"github": prov}, Clock: remediate.NewFakeClock(time.Now())}
}

// A plan's GitHub tokens go in as few requests as the API allows (1000 a
// request), each key journaled with an intent before and an outcome after,
// named by hint and hash only.
func TestPlanRevokesInBatches(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for _, n := range []int{1, 3, MaxBatch + 1} {
		t.Run(fmt.Sprint(n, " tokens"), func(t *testing.T) {
			var toks []string
			for i := 0; i < n; i++ {
				toks = append(toks, token(r, "ghp_"))
			}
			f := &fakeGitHub{limit: 60, now: time.Now}
			srv := httptest.NewServer(f)
			defer srv.Close()
			p, prov := tokenPlan(t, srv.URL, toks)
			path := filepath.Join(t.TempDir(), "j")
			run := newRunner(t, path, prov)
			res, err := run.Apply(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			for _, kr := range res {
				if kr.Status != "done" {
					t.Fatalf("%+v", kr)
				}
			}
			want := (n + MaxBatch - 1) / MaxBatch
			if f.requests != want || len(f.revoked) != n || prov.Requests() != want {
				t.Fatalf("%d requests (provider counted %d) with %d tokens, want %d with %d", f.requests, prov.Requests(), len(f.revoked), want, n)
			}
			data, _ := os.ReadFile(path)
			for _, tok := range toks {
				if strings.Contains(string(data), tok[4:]) {
					t.Fatal("a token is in the journal")
				}
			}
			if n == 3 {
				recs := readRecords(t, path)
				var kinds []string
				for _, rec := range recs[1:] {
					kinds = append(kinds, rec.Kind+":"+rec.Step)
				}
				if got := strings.Join(kinds, " "); got != "intent:revoke-token intent:revoke-token intent:revoke-token outcome:revoke-token outcome:revoke-token outcome:revoke-token" {
					t.Errorf("journal %s", got)
				}
				if recs[4].Facts["hashed_token"] != Hash(toks[0]) {
					t.Errorf("outcome facts %v", recs[4].Facts)
				}
			}
		})
	}
}

func readRecords(t *testing.T, path string) []remediate.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := remediate.ReadJournal(f)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// Killed before the request, resume sends it; killed after it was
// accepted but before the outcome, resume sends it again (GitHub accepts
// a revoked token again); after the outcome, resume sends nothing.
func TestResumeRevocation(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	toks := []string{token(r, "ghp_"), token(r, "gho_")}
	for _, tc := range []struct {
		at                  string
		before, afterResume int
	}{{"intent", 0, 1}, {"called", 1, 2}, {"", 1, 1}} {
		t.Run("die at "+tc.at, func(t *testing.T) {
			f := &fakeGitHub{limit: 60, now: time.Now}
			srv := httptest.NewServer(f)
			defer srv.Close()
			p, prov := tokenPlan(t, srv.URL, toks)
			path := filepath.Join(t.TempDir(), "j")
			run := newRunner(t, path, prov)
			type died struct{}
			run.Hook = func(k int, step, point string) {
				if point == tc.at {
					panic(died{})
				}
			}
			func() {
				defer func() {
					if v := recover(); v != nil {
						if _, ok := v.(died); !ok {
							panic(v)
						}
					}
				}()
				run.Apply(context.Background(), p)
			}()
			run.Journal.Close()
			if f.requests != tc.before {
				t.Fatalf("%d requests before resume, want %d", f.requests, tc.before)
			}
			j, recs, err := remediate.OpenJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			res, err := (&remediate.Runner{Journal: j, Providers: map[string]remediate.Provider{"github": prov}, Clock: remediate.RealClock{}}).Resume(context.Background(), recs)
			if err != nil || res[0].Status != "done" || res[1].Status != "done" {
				t.Fatalf("resume: %v %+v", err, res)
			}
			if f.requests != tc.afterResume {
				t.Fatalf("%d requests after resume, want %d", f.requests, tc.afterResume)
			}
		})
	}
}

// What the plan cannot revoke says why; a token not given at apply fails
// its key alone.
func TestProcedureRefusalsAndMissingToken(t *testing.T) {
	prov := &Provider{Tokens: map[string]string{}}
	for _, tc := range []struct {
		kp   remediate.KeyPlan
		want string
	}{
		{remediate.KeyPlan{Provider: "github", KeyID: "ghs_…abcd", SecretSHA256: "x", Action: remediate.ActionRevoke}, "installation tokens"},
		{remediate.KeyPlan{Provider: "github", KeyID: "ghp_…abcd", Action: remediate.ActionRevoke}, "did not see the token itself"},
		{remediate.KeyPlan{Provider: "github", KeyID: "ghp_…abcd", SecretSHA256: "x", Action: remediate.ActionRotate}, "not rotated"},
		{remediate.KeyPlan{Provider: "github", KeyID: "ghp_…abcd", SecretSHA256: "x", Action: remediate.ActionRevoke, Options: remediate.Options{GitHubAPI: "http://github.example"}}, "plain http"},
	} {
		if _, err := prov.Procedure(tc.kp); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.kp, err, tc.want)
		}
	}
	r := rand.New(rand.NewSource(9))
	toks := []string{token(r, "ghp_"), token(r, "ghp_")}
	f := &fakeGitHub{limit: 60, now: time.Now}
	srv := httptest.NewServer(f)
	defer srv.Close()
	p, prov := tokenPlan(t, srv.URL, toks)
	delete(prov.Tokens, Hash(toks[1]))
	res, _ := newRunner(t, filepath.Join(t.TempDir(), "j"), prov).Apply(context.Background(), p)
	if res[0].Status != "done" || res[1].Status != "failed" || !strings.Contains(res[1].Error, "--tokens") || len(f.revoked) != 1 {
		t.Fatalf("%+v; server got %d", res, len(f.revoked))
	}
}
