package githubsource

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/keytrail/keytrail/internal/testtools/ghfake"
	"github.com/keytrail/keytrail/rules"
	"github.com/keytrail/keytrail/scanner"
	"github.com/keytrail/keytrail/scanner/gitsource"
)

// testToken is what the fake GitHub requires; it must never show up in
// anything keytrail writes.
const testToken = "kt-test-token-7f3a9c2e41d8b6"

// ghToken is a GitHub classic token with a valid checksum, one per seed.
func ghToken(seed string) string {
	const alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(seed))
	var b strings.Builder
	for i := 0; i < 30; i++ {
		b.WriteByte(alpha[int(sum[i])%62])
	}
	body := b.String()
	return "ghp_" + body + rules.Base62CRC32(body)
}

var builtin = sync.OnceValues(rules.Builtin)

// syncBuffer is a log sink written from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness runs org scans against a fake GitHub.
type harness struct {
	t     *testing.T
	gh    *ghfake.Server
	eng   *scanner.Engine
	logs  *syncBuffer
	cache string
	sleep []time.Duration
	mu    sync.Mutex
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	set, err := builtin()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := scanner.NewEngine(set, scanner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, gh: ghfake.New(t, testToken), eng: eng, logs: &syncBuffer{}, cache: t.TempDir()}
}

// options are a run's defaults; tests adjust them.
func (h *harness) options(f Filter, st *State) Options {
	h.t.Helper()
	log := zerolog.New(h.logs).Level(zerolog.DebugLevel)
	rl := &RateLimiter{Base: http.DefaultTransport, Log: log, Sleep: func(ctx context.Context, d time.Duration) error {
		h.mu.Lock()
		h.sleep = append(h.sleep, d)
		h.mu.Unlock()
		return nil
	}}
	c, err := NewClient(h.gh.APIURL(), testToken, rl)
	if err != nil {
		h.t.Fatal(err)
	}
	return Options{
		Client: c, Limiter: rl, Token: testToken, Filter: f, CacheDir: h.cache, State: st,
		Concurrency: 4, Git: gitsource.Options{Workers: 2}, Log: log,
		Scan: func(ctx context.Context, src scanner.Source) (*scanner.Result, error) {
			s := &scanner.Scanner{Engine: h.eng, Workers: 2, Log: log}
			return s.Run(ctx, src)
		},
	}
}

func (h *harness) run(o Options) *Result {
	h.t.Helper()
	res, err := Run(context.Background(), o)
	if err != nil {
		h.t.Fatalf("Run: %v", err)
	}
	h.noToken(res, o.State)
	return res
}

// noToken fails if the token is anywhere keytrail wrote or sent in a URL.
func (h *harness) noToken(res *Result, st *State) {
	h.t.Helper()
	var all []string
	for _, v := range []any{res.Findings, res.Summary, st} {
		b, _ := json.Marshal(v)
		all = append(all, string(b))
	}
	all = append(all, h.logs.String())
	for _, r := range h.gh.Requests() {
		u, _, _ := strings.Cut(r, " auth=")
		all = append(all, u)
	}
	for i, s := range all {
		if strings.Contains(s, testToken) {
			h.t.Errorf("token found in output %d: %.300s", i, s)
		}
	}
}

func byRepo(fs []scanner.Finding) map[string][]scanner.Finding {
	m := map[string][]scanner.Finding{}
	for _, f := range fs {
		m[f.Repository] = append(m[f.Repository], f)
	}
	return m
}

func repoName(i int) string { return fmt.Sprintf("svc-%02d", i) }
