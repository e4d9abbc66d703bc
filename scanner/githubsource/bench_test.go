package githubsource

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/keytrail/keytrail/internal/testtools/ghfake"
	"github.com/keytrail/keytrail/scanner"
	"github.com/keytrail/keytrail/scanner/gitsource"
)

// benchOrg serves an org of n repositories of commits commits each, every
// commit changing files files of about size bytes of text.
func benchOrg(b *testing.B, n, commits, files, size int) *ghfake.Server {
	b.Helper()
	gh := ghfake.New(b, testToken)
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("alpha beta gamma delta config value service handler request response token_name user id")
	text := func() string {
		var sb strings.Builder
		for sb.Len() < size {
			for i := 0; i < 10; i++ {
				sb.WriteString(words[rng.IntN(len(words))])
				sb.WriteByte(' ')
			}
			fmt.Fprintf(&sb, "%d\n", rng.IntN(1<<30))
		}
		return sb.String()
	}
	for r := 0; r < n; r++ {
		var hist []map[string]string
		for c := 0; c < commits; c++ {
			m := map[string]string{}
			for f := 0; f < files; f++ {
				m[fmt.Sprintf("src/pkg%d/file%d.txt", f%4, f)] = text()
			}
			hist = append(hist, m)
		}
		gh.AddRepo(ghfake.Repo{Owner: "bench", Name: fmt.Sprintf("repo-%03d", r), IsOrg: true}, hist...)
	}
	return gh
}

func benchOptions(b *testing.B, gh *ghfake.Server, cache string, st *State) Options {
	b.Helper()
	set, err := builtin()
	if err != nil {
		b.Fatal(err)
	}
	eng, err := scanner.NewEngine(set, scanner.Options{})
	if err != nil {
		b.Fatal(err)
	}
	rl := &RateLimiter{Log: zerolog.Nop()}
	c, err := NewClient(gh.APIURL(), testToken, rl)
	if err != nil {
		b.Fatal(err)
	}
	return Options{Client: c, Limiter: rl, Token: testToken, Filter: Filter{Orgs: []string{"bench"}},
		CacheDir: cache, State: st, Concurrency: 4, Git: gitsource.Options{Workers: 2}, Log: zerolog.Nop(),
		Scan: func(ctx context.Context, src scanner.Source) (*scanner.Result, error) {
			return (&scanner.Scanner{Engine: eng, Workers: 2, Log: zerolog.Nop()}).Run(ctx, src)
		}}
}

// BenchmarkRescanUnchangedOrg is the daily run over an org where nothing
// changed: 50 repositories with a warm cache and state (goal: at most 5 s,
// no blob read).
//
// "git-http-backend" serves each ref advertisement with the real CGI (two
// git processes per repository on the same machine, the fake GitHub's
// cost); "cached-advertisement" answers it from memory, timing keytrail.
func BenchmarkRescanUnchangedOrg(b *testing.B) {
	for _, cached := range []bool{false, true} {
		name := "git-http-backend"
		if cached {
			name = "cached-advertisement"
		}
		b.Run(name, func(b *testing.B) { benchRescan(b, cached) })
	}
}

func benchRescan(b *testing.B, cached bool) {
	gh := benchOrg(b, 50, 5, 4, 2<<10)
	gh.CacheAdverts = cached
	cache := b.TempDir()
	st := &State{Version: stateVersion, Repos: map[string]*RepoState{}}
	if _, err := Run(context.Background(), benchOptions(b, gh, cache, st)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var bytes int64
	for i := 0; i < b.N; i++ {
		res, err := Run(context.Background(), benchOptions(b, gh, cache, st))
		if err != nil {
			b.Fatal(err)
		}
		if res.Summary.Unchanged != 50 || len(res.Summary.Failed) > 0 {
			b.Fatalf("summary %+v", res.Summary)
		}
		bytes += res.Summary.Bytes + res.Summary.Commits
	}
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes+commits-scanned/op")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/50*1000, "ms/repo")
}

// BenchmarkFirstScan is a first run: clone plus history scan of 10
// repositories of about 1 MB of history each, per repository and per MB
// of packed repository.
func BenchmarkFirstScan(b *testing.B) {
	gh := benchOrg(b, 10, 25, 4, 10<<10)
	var packed int64
	filepath.Walk(gh.ReposDir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.Contains(p, filepath.Join("objects", "pack")) {
			packed += fi.Size()
		}
		return nil
	})
	b.ResetTimer()
	var scanned int64
	for i := 0; i < b.N; i++ {
		cache := b.TempDir()
		start := time.Now()
		res, err := Run(context.Background(), benchOptions(b, gh, cache, nil))
		if err != nil {
			b.Fatal(err)
		}
		if res.Summary.Scanned != 10 {
			b.Fatalf("summary %+v", res.Summary)
		}
		scanned += res.Summary.Bytes
		_ = start
	}
	perRun := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(perRun/10, "s/repo")
	b.ReportMetric(perRun/(float64(packed)/1e6), "s/MB-packed")
	b.ReportMetric(perRun/(float64(scanned)/float64(b.N)/1e6), "s/MB-scanned")
	b.ReportMetric(float64(scanned)/float64(b.N)/1e6, "MB-scanned/op")
}
