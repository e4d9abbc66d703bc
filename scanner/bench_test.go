package scanner_test

// Engine benchmarks (make bench). Each sets the bytes it scans per op, so
// `go test -bench` prints MB/s:
//
//	go test -run '^$' -bench . -benchtime 3x ./scanner/
//
// GoSrc* scan real source text (a ~30 MB sample of $(go env GOROOT)/src held
// in memory, so disk speed does not count); Logs scans a generated log
// corpus; SingleLine100MB streams one 100 MB line and reports the peak live
// heap to show the windowed engine's memory stays bounded.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keytrail/keytrail/rules"
	"github.com/keytrail/keytrail/scanner"
)

const goSrcCap = 30 << 20

func newEngine(b *testing.B) *scanner.Engine {
	b.Helper()
	set, err := rules.Builtin()
	if err != nil {
		b.Fatalf("rules.Builtin: %v", err)
	}
	e, err := scanner.NewEngine(set, scanner.Options{})
	if err != nil {
		b.Fatalf("NewEngine: %v", err)
	}
	return e
}

type memFile struct {
	path string
	data []byte
}

var goSrc struct {
	once  sync.Once
	files []memFile
	bytes int64
	err   error
}

// goSrcSample loads an evenly spread sample (every n-th file in walk order)
// of the text files under GOROOT/src, about goSrcCap bytes in total.
func goSrcSample(b *testing.B) ([]memFile, int64) {
	b.Helper()
	goSrc.once.Do(func() {
		root := filepath.Join(runtime.GOROOT(), "src")
		type ent struct {
			path string
			size int64
		}
		var all []ent
		var total int64
		goSrc.err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			all = append(all, ent{p, info.Size()})
			total += info.Size()
			return nil
		})
		if goSrc.err != nil {
			return
		}
		step := int(total/goSrcCap) + 1
		for i := 0; i < len(all) && goSrc.bytes < goSrcCap; i += step {
			data, err := os.ReadFile(all[i].path)
			if err != nil || bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
				continue // unreadable or binary: the engine would skip it
			}
			rel, _ := filepath.Rel(root, all[i].path)
			goSrc.files = append(goSrc.files, memFile{filepath.ToSlash(rel), data})
			goSrc.bytes += int64(len(data))
		}
	})
	if goSrc.err != nil {
		b.Fatalf("loading GOROOT/src: %v", goSrc.err)
	}
	if goSrc.bytes == 0 {
		b.Skip("no GOROOT/src text files found")
	}
	return goSrc.files, goSrc.bytes
}

// BenchmarkEngineGoSrc scans the GOROOT/src sample on one worker: the
// engine's single-core throughput on source code.
func BenchmarkEngineGoSrc(b *testing.B) {
	files, n := goSrcSample(b)
	e := newEngine(b)
	w := e.NewWorker()
	ctx := context.Background()
	b.SetBytes(n)
	b.ReportAllocs()
	var findings int
	for b.Loop() {
		findings = 0
		for _, f := range files {
			fs, _, err := w.Scan(ctx, f.path, bytes.NewReader(f.data), true)
			if err != nil {
				b.Fatalf("%s: %v", f.path, err)
			}
			findings += len(fs)
		}
	}
	b.ReportMetric(float64(len(files)), "files/op")
	b.ReportMetric(float64(findings), "findings/op")
}

// memSource serves in-memory files as a scanner.Source.
type memSource []memFile

func (memSource) Name() string { return "mem" }

func (s memSource) Items(ctx context.Context, emit func(scanner.Item) error, _ func(error)) error {
	for _, f := range s {
		data := f.data
		err := emit(scanner.Item{Path: f.path, Size: int64(len(data)),
			Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(data)), nil
			}})
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkScannerGoSrc scans the same sample through Scanner.Run with
// GOMAXPROCS workers: the worker pool, channel hand-off and finding
// collection included, disk excluded.
func BenchmarkScannerGoSrc(b *testing.B) {
	files, n := goSrcSample(b)
	s := &scanner.Scanner{Engine: newEngine(b)}
	b.SetBytes(n)
	b.ReportAllocs()
	var findings int
	for b.Loop() {
		res, err := s.Run(context.Background(), memSource(files))
		if err != nil {
			b.Fatal(err)
		}
		findings = len(res.Findings)
	}
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "workers")
	b.ReportMetric(float64(findings), "findings/op")
}

// Fake keys planted in the generated corpora. The GitHub token carries a
// valid checksum so the validator accepts it.
var (
	fakeGitHub = func() string {
		body := "Kt7rB3nchM4rkF4keT0kenAbCdEfGh"
		return "ghp_" + body + rules.Base62CRC32(body)
	}()
	fakeAWS   = "AKIAQ3ZKTRAILBENCH27"
	fakeSlack = "xoxb-123456789012-1234567890123-Kt7rB3nchM4rkF4keT0kenAb"
)

// logCorpus generates about size bytes of mixed JSON-lines and plain log
// lines from a fixed seed, with planted keys on a few lines.
func logCorpus(size int) ([]byte, int) {
	rng := rand.New(rand.NewPCG(42, 4242))
	levels := []string{"DEBUG", "INFO", "INFO", "INFO", "WARN", "ERROR"}
	paths := []string{"/api/v1/users", "/api/v1/orders", "/healthz", "/login", "/api/v2/tokens/refresh", "/static/app.js", "/metrics"}
	msgs := []string{"request completed", "cache miss", "retrying upstream call", "user authenticated",
		"session token refreshed", "connection reset by peer", "slow query", "password reset requested", "config reloaded"}
	hex := func(n int) string {
		const a = "0123456789abcdef"
		var sb strings.Builder
		for i := 0; i < n; i++ {
			sb.WriteByte(a[rng.IntN(16)])
		}
		return sb.String()
	}
	secrets := []string{
		`{"level":"ERROR","msg":"auth failed","header":"Authorization: token ` + fakeGitHub + `"}`,
		`WARN  deploy: using aws_access_key_id=` + fakeAWS + ` from env`,
		`{"level":"DEBUG","msg":"slack notify","bot_token":"` + fakeSlack + `"}`,
	}
	var buf bytes.Buffer
	buf.Grow(size + 4096)
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	planted := 0
	for line := 0; buf.Len() < size; line++ {
		ts = ts.Add(time.Duration(rng.IntN(50)) * time.Millisecond)
		if line%50000 == 25000 {
			buf.WriteString(secrets[planted%len(secrets)])
			buf.WriteByte('\n')
			planted++
			continue
		}
		lvl, p, m := levels[rng.IntN(len(levels))], paths[rng.IntN(len(paths))], msgs[rng.IntN(len(msgs))]
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&buf, `{"ts":"%s","level":"%s","msg":"%s","method":"GET","path":"%s","status":%d,"duration_ms":%d,"request_id":"%s","user_id":%d,"trace":"%s"}`+"\n",
				ts.Format(time.RFC3339Nano), lvl, m, p, 200+rng.IntN(4)*100, rng.IntN(2000), hex(32), rng.IntN(1e6), hex(16))
		} else {
			fmt.Fprintf(&buf, "%s %-5s [worker-%d] %s path=%s status=%d took=%dms req=%s\n",
				ts.Format("2006-01-02T15:04:05.000Z07:00"), lvl, rng.IntN(16), m, p, 200+rng.IntN(4)*100, rng.IntN(2000), hex(32))
		}
	}
	return buf.Bytes(), planted
}

// BenchmarkEngineLogs scans a 32 MB generated log as one item on one
// worker, checking the planted keys are found.
func BenchmarkEngineLogs(b *testing.B) {
	data, planted := logCorpus(32 << 20)
	e := newEngine(b)
	w := e.NewWorker()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var fs []scanner.Finding
	for b.Loop() {
		var err error
		fs, _, err = w.Scan(context.Background(), "app.log", bytes.NewReader(data), true)
		if err != nil {
			b.Fatal(err)
		}
	}
	got := map[string]int{}
	for _, f := range fs {
		got[f.Secret]++
	}
	for _, s := range []string{fakeGitHub, fakeAWS, fakeSlack} {
		if got[s] == 0 {
			b.Errorf("planted key %s not found (%d findings)", s, len(fs))
		}
	}
	b.ReportMetric(float64(planted), "planted/op")
	b.ReportMetric(float64(len(fs)), "findings/op")
}

// lineReader yields n bytes of one line (no '\n') of minified-JSON-like
// text, cycling through a 1 MiB block generated from a fixed seed, so the
// input itself needs no memory.
type lineReader struct {
	block []byte
	off   int
	left  int64
}

// lineBlock generates the 1 MiB block. Keys are often keyword-bearing
// ("token_type", "password_hint") so the prefilter fires all along the line.
// With dense set, values are 12-char high-entropy strings the generic rule
// reports (a false-positive storm: thousands of findings per MiB on one
// line); otherwise values are short and only the one planted GitHub token
// per block is a finding.
func lineBlock(dense bool) []byte {
	rng := rand.New(rand.NewPCG(7, 77))
	words := []string{"id", "name", "value", "items", "token_type", "secretary", "password_hint", "keyboard",
		"config", "url", "enabled", "count", "apiVersion", "metadata", "labels", "data"}
	values := []string{"on", "off", "none", "auto", "v1", "main", "prod", "x86"}
	if dense {
		// A secret key name, so random values become generic findings.
		words[5] = "client_secret"
	}
	const alnum = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var buf bytes.Buffer
	for i := 0; buf.Len() < 1<<20; i++ {
		if i == 5000 {
			fmt.Fprintf(&buf, `{"github_token":"%s"},`, fakeGitHub)
			continue
		}
		val := values[rng.IntN(len(values))]
		if dense {
			var sb strings.Builder
			for j := 0; j < 12; j++ {
				sb.WriteByte(alnum[rng.IntN(len(alnum))])
			}
			val = sb.String()
		}
		fmt.Fprintf(&buf, `{"%s":"%s","%s":%d},`, words[rng.IntN(len(words))], val,
			words[rng.IntN(len(words))], rng.IntN(1e9))
	}
	return buf.Bytes()[:1<<20]
}

func (r *lineReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.block[r.off:])
		n += c
		r.off = (r.off + c) % len(r.block)
	}
	r.left -= int64(n)
	return n, nil
}

// BenchmarkEngineSingleLine100MB streams a 100 MB file that is one line.
// Besides MB/s it reports idle-heap-MiB (live heap before scanning: rules,
// automaton, worker window, the 1 MiB input block), peak-heap-MiB (largest
// live heap seen while scanning, sampled every millisecond) and B/op: the
// peak must stay within a few window sizes (~1 MiB each) of idle, not grow
// with the input.
func BenchmarkEngineSingleLine100MB(b *testing.B) {
	size := int64(100 << 20)
	if v, err := strconv.Atoi(os.Getenv("KEYTRAIL_BENCH_LINE_MB")); err == nil && v > 0 {
		size = int64(v) << 20 // shorter runs for profiling
	}
	benchSingleLine(b, size, lineBlock(false))
}

// BenchmarkEngineLongLineFindings is the worst case for per-finding work:
// 4 MB on one line with a generic-rule finding every ~60 bytes. Resolving a
// finding's line and column scans back to the line start (the window start
// on a long line), so the cost per finding grows with the window size.
func BenchmarkEngineLongLineFindings(b *testing.B) {
	benchSingleLine(b, 4<<20, lineBlock(true))
}

func benchSingleLine(b *testing.B, size int64, block []byte) {
	e := newEngine(b)
	w := e.NewWorker()
	b.SetBytes(size)
	b.ReportAllocs()

	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	debug.FreeOSMemory()
	baseline := heap()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if h := heap(); h > peak.Load() {
					peak.Store(h)
				}
			}
		}
	}()
	var fs []scanner.Finding
	for b.Loop() {
		var err error
		fs, _, err = w.Scan(context.Background(), "bundle.min.json", &lineReader{block: block, left: size}, true)
		if err != nil {
			b.Fatal(err)
		}
	}
	close(stop)
	<-done
	if len(fs) == 0 {
		b.Error("planted GitHub token not found in the single line")
	}
	b.ReportMetric(float64(baseline)/(1<<20), "idle-heap-MiB")
	b.ReportMetric(float64(max(peak.Load(), baseline))/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(len(fs)), "findings/op")
}

// BenchmarkPrefilterRules scans the GOROOT/src sample with N synthetic
// keyword rules (N = 225 ... 1800) and nothing else, to show what the
// rule count costs: the keywords share one automaton (a table step per
// byte whatever N is) and each rule's regex runs only at its own hits, so
// time per op should grow far slower than N, never with N². Each rule is
// shaped like a prefixed provider token: keyword "<4-6 letters>_" and
// (?i)\b<keyword>[a-z0-9]{16,40}\b; a quarter of the keywords are common
// English or Go fragments, so there are hits to follow up.
func BenchmarkPrefilterRules(b *testing.B) {
	files, n := goSrcSample(b)
	common := []string{"err", "return", "func", "value", "test", "data", "buf", "len", "name", "type",
		"size", "read", "write", "key", "file", "path", "node", "line", "next", "list"}
	for _, count := range []int{225, 450, 900, 1800} {
		b.Run(fmt.Sprintf("rules=%d", count), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(7, uint64(count)))
			seen := map[string]bool{}
			var rs []*rules.Rule
			for len(rs) < count {
				var kw string
				if len(rs)%4 == 0 {
					kw = common[rng.IntN(len(common))] + string(rune('a'+rng.IntN(26)))
				} else {
					var sb strings.Builder
					for i := 0; i < 4+rng.IntN(3); i++ {
						sb.WriteByte(byte('a' + rng.IntN(26)))
					}
					kw = sb.String()
				}
				kw += "_"
				if seen[kw] {
					continue
				}
				seen[kw] = true
				rs = append(rs, &rules.Rule{
					ID: fmt.Sprintf("synthetic-%d", len(rs)), Keywords: []string{kw},
					Regex: `(?i)\b(` + kw + `[a-z0-9]{16,40})\b`, Source: "bench",
				})
			}
			set, err := rules.NewSet(rs, rules.DefaultValidators())
			if err != nil {
				b.Fatal(err)
			}
			// Decoding off: its cost does not depend on the rules.
			e, err := scanner.NewEngine(set, scanner.Options{DecodeDepth: -1})
			if err != nil {
				b.Fatal(err)
			}
			w := e.NewWorker()
			ctx := context.Background()
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				for _, f := range files {
					if _, _, err := w.Scan(ctx, f.path, bytes.NewReader(f.data), true); err != nil {
						b.Fatalf("%s: %v", f.path, err)
					}
				}
			}
		})
	}
}
