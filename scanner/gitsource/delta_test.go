package gitsource

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"hash/maphash"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/keytrail/keytrail/scanner"
)

func TestAlignLines(t *testing.T) {
	cases := []struct {
		name string
		a, b string
		want []lineRun
	}{
		{"same", "a b c", "a b c", []lineRun{{0, 0, 3}}},
		{"append", "a b", "a b c", []lineRun{{0, 0, 2}}},
		{"prepend", "a b", "x a b", []lineRun{{1, 0, 2}}},
		{"insert", "a b c d", "a b x c d", []lineRun{{0, 0, 2}, {3, 2, 2}}},
		{"delete", "a b c d", "a d", []lineRun{{0, 0, 1}, {1, 3, 1}}},
		{"replace", "a b c", "a x c", []lineRun{{0, 0, 1}, {2, 2, 1}}},
		{"all new", "a b", "x y", nil},
		{"empty base", "", "x y", nil},
		{"moved line", "a b c d e", "a d b c e", []lineRun{{0, 0, 1}, {2, 1, 2}, {4, 4, 1}}},
		// Repeated lines are matched only next to unique ones.
		{"repeats", "} a } b }", "} a } x } b }", []lineRun{{0, 0, 3}, {5, 3, 2}}},
	}
	seed := maphash.MakeSeed()
	h := func(s string) []uint64 {
		var out []uint64
		for _, f := range strings.Fields(s) {
			out = append(out, maphash.String(seed, f))
		}
		return out
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := alignLines(h(c.a), h(c.b))
			if !slices.Equal(got, c.want) {
				t.Errorf("alignLines(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
			}
		})
	}
}

// Whatever the edit, runs map new lines to equal base lines, in order on
// both sides, without overlap.
func TestAlignLinesRandomEdits(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		a := make([]uint64, rnd.IntN(60))
		for j := range a {
			a[j] = uint64(rnd.IntN(12)) // many repeats
		}
		b := slices.Clone(a)
		for k := rnd.IntN(6); k > 0; k-- {
			p := rnd.IntN(len(b) + 1)
			switch rnd.IntN(3) {
			case 0:
				b = slices.Insert(b, p, uint64(rnd.IntN(20)))
			case 1:
				if p < len(b) {
					b = slices.Delete(b, p, p+1)
				}
			case 2:
				if p < len(b) {
					b[p] = uint64(rnd.IntN(20))
				}
			}
		}
		runs := alignLines(a, b)
		lastA, lastB := int32(-1), int32(-1)
		for _, r := range runs {
			if r.n <= 0 || r.b <= lastB || r.a <= lastA {
				t.Fatalf("%v -> %v: bad run %v in %v", a, b, r, runs)
			}
			for k := int32(0); k < r.n; k++ {
				if a[r.a+k] != b[r.b+k] {
					t.Fatalf("%v -> %v: run %v maps unequal lines", a, b, r)
				}
			}
			lastA, lastB = r.a+r.n-1, r.b+r.n-1
		}
		if slices.Equal(a, b) && len(a) > 0 && (len(runs) != 1 || runs[0].n != int32(len(a))) {
			t.Fatalf("unchanged %v gave runs %v", a, runs)
		}
	}
}

// findingKey is what must not depend on how history is read: which
// secret each rule reports, introduced where, and the provenance around
// it.
type findingKey struct {
	rule, fingerprint, commit, path  string
	line, column, others, containing int
	atHead                           string
}

func keysOf(fs []scanner.Finding) []findingKey {
	var out []findingKey
	for _, f := range fs {
		out = append(out, findingKey{f.RuleID, f.Fingerprint, f.Commit, f.File,
			f.Line, f.Column, f.OtherLocations, f.CommitsContaining, fmt.Sprint(deref(f.PresentAtHead))})
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

// compareDeltaAndFull scans dir both ways and fails on any difference;
// it returns the delta scan's findings and how many blobs it scanned as
// deltas.
func compareDeltaAndFull(t *testing.T, dir string) ([]scanner.Finding, int) {
	t.Helper()
	full := mustScan(t, Options{Path: dir, Backend: BackendGit, FullBlobs: true})
	fs, st := compareDeltaWith(t, dir, full, 0, 0)
	return fs, st.DeltaBlobs
}

// compareDeltaWith runs the delta scan of dir with a line cache of
// lineMax lines and streams cat-file streams (0: the defaults) against
// the full-blob scan's result.
func compareDeltaWith(t *testing.T, dir string, full *scanner.Result, lineMax, streams int) ([]scanner.Finding, Stats) {
	t.Helper()
	src := New(Options{Path: dir, Backend: BackendGit})
	src.lineMax, src.streams = lineMax, streams
	defer src.Close()
	s := &scanner.Scanner{Engine: engine(t, scanner.Options{}), Workers: 2}
	res, err := s.Run(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	got, want := keysOf(res.Findings), keysOf(full.Findings)
	if !slices.Equal(got, want) {
		for _, k := range got {
			if !slices.Contains(want, k) {
				t.Errorf("only the delta scan reports %+v", k)
			}
		}
		for _, k := range want {
			if !slices.Contains(got, k) {
				t.Errorf("only the full-blob scan reports %+v", k)
			}
		}
	}
	return res.Findings, src.Stats()
}

func pemKey(t *testing.T) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.NewChaCha8([32]byte{7}))
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

// filler is n lines of ordinary code, different per seed.
func filler(seed string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "func %s%d() int { return %d } // nothing here\n", seed, i, i*7)
	}
	return b.String()
}

// buildEdits is a history of edits where reading only what changed could
// go wrong: context a rule needs on another line, multi-line keys built
// and cut up over several commits, lines moved, keys removed and put back.
func buildEdits(t *testing.T) *repo {
	r := newRepo(t)
	top, mid, end := filler("top", 40), filler("mid", 40), filler("end", 40)
	tokA, tokB, tokC := token("edit-a"), token("edit-b"), token("edit-c")
	key := pemKey(t)
	keyLines := strings.SplitAfter(key, "\n")
	maven := "<password>Zq8rV2mXp4Lw9sKt</password>\n"
	b64 := base64.StdEncoding.EncodeToString([]byte("GITHUB_TOKEN=" + tokC))

	r.commit("start", map[string]string{"app.go": top + mid + end, "settings.xml": "<settings>\n" + filler("x", 5)})
	// A key in the middle of a file, then edits far from and next to it.
	r.commit("key", map[string]string{"app.go": top + "var t = \"" + tokA + "\"\n" + mid + end})
	r.commit("far edit", map[string]string{"app.go": "// header\n" + top + "var t = \"" + tokA + "\"\n" + mid + end})
	r.commit("near edit", map[string]string{"app.go": "// header\n" + top + "// about t\nvar t = \"" + tokA + "\"\n" + mid + end})
	// The key's line moves below other lines.
	r.commit("move", map[string]string{"app.go": "// header\n" + top + mid + "var t = \"" + tokA + "\"\n" + end})
	// A PEM key arrives in pieces, then its middle changes, then its
	// BEGIN line goes and comes back.
	r.commit("pem 1", map[string]string{"id.pem": strings.Join(keyLines[:2], "")})
	r.commit("pem 2", map[string]string{"id.pem": key})
	r.commit("pem 3", map[string]string{"id.pem": strings.Join(keyLines[1:], "")})
	r.commit("pem 4", map[string]string{"id.pem": "# restored\n" + key})
	// The keyword a rule needs is on the line before the secret; it goes
	// and comes back while the secret's line stays.
	r.commit("maven 1", map[string]string{"settings.xml": "<settings>\n<server>\n<id>c</id>\n" + maven + "</server>\n" + filler("x", 5)})
	r.commit("maven 2", map[string]string{"settings.xml": "<settings>\n<id>c</id>\n" + maven + "</server>\n" + filler("x", 5)})
	r.commit("maven 3", map[string]string{"settings.xml": "<settings>\n<server>\n<id>c</id>\n" + maven + "</server>\n" + filler("x", 5)})
	// A match that starts lines before its secret (netrc: machine, login,
	// password): the line holding the keyword changes while the
	// secret's line stays, so the match is gone.
	netrc := "  login deploy\n  password Qm7xVt2LpZ9rKw4s\n"
	r.commit("netrc 1", map[string]string{"ci/netrc": filler("n", 5) + "machine git.example.com\n" + netrc + filler("o", 5)})
	r.commit("netrc 2", map[string]string{"ci/netrc": filler("n", 5) + "host git.example.com\n" + netrc + filler("o", 5)})
	r.commit("netrc 3", map[string]string{"ci/netrc": filler("n", 5) + "host git.example.com\n" + netrc + filler("o", 6)})
	// Generic context: "token =" on the secret's line, then renamed.
	r.commit("generic", map[string]string{"conf.ini": filler("c", 10) + "api_token = Xk29vLq0WmZ7pR4sTn8Y\n" + filler("d", 10)})
	r.commit("generic 2", map[string]string{"conf.ini": filler("c", 10) + "api_thing = Xk29vLq0WmZ7pR4sTn8Y\n" + filler("d", 10)})
	// Encoded, then a second key appended on a branch and merged.
	r.commit("encoded", map[string]string{"blob.txt": filler("e", 5) + "data: " + b64 + "\n"})
	r.git("checkout", "-q", "-b", "side")
	r.commit("side", map[string]string{"app.go": "// header\n" + top + mid + "var t = \"" + tokA + "\"\n" + end + "var u = \"" + tokB + "\"\n"})
	r.git("checkout", "-q", "main")
	r.commit("main edit", map[string]string{"app.go": "// header 2\n" + top + mid + "var t = \"" + tokA + "\"\n" + end})
	r.git("merge", "-q", "--no-edit", "side")
	// Removed, then put back unchanged (the same blob as before).
	r.commit("drop key", map[string]string{"app.go": "// header 2\n" + top + mid + end + "var u = \"" + tokB + "\"\n"})
	r.commit("restore key", map[string]string{"app.go": "// header 2\n" + top + mid + "var t = \"" + tokA + "\"\n" + end + "var u = \"" + tokB + "\"\n"})
	// Long lines, where a region can widen past its rule's Context:
	// edits on, next to and far from a long line holding keys.
	tokD := token("edit-d")
	long := strings.Repeat("var a=1;", 300)
	minA := long + "t=\"" + tokD + "\";" + long + "\n"
	minB := strings.Repeat("x", 900) + " api_key=Xk29vLq0WmZ7pR4sTn8Yq " + strings.Repeat("y", 900) + "\n"
	r.commit("long 1", map[string]string{"min.js": filler("m", 20) + minA + minB + filler("n", 20)})
	r.commit("long 2", map[string]string{"min.js": filler("m", 20) + minA + "// edit\n" + minB + filler("n", 20)})
	r.commit("long 3", map[string]string{"min.js": filler("m", 20) + "x" + minA + "// edit\n" + minB + filler("n", 21)})
	r.commit("long 4", map[string]string{"min.js": filler("m", 19) + minA + minB[:10] + minB[11:] + filler("n", 21)})
	// Binary, then text again.
	r.commit("binary", map[string]string{"blob.txt": "\x00\x01" + filler("e", 5) + "data: " + b64 + "\n"})
	r.commit("text", map[string]string{"blob.txt": filler("e", 5) + "data: " + b64 + "\nmore\n"})
	return r
}

// The delta scan and the full-blob scan report the same findings with
// the same provenance on the test histories.
func TestDeltaMatchesFullBlobs(t *testing.T) {
	cases := []struct {
		name  string
		build func(t *testing.T) string
		// secrets the history must yield (so the comparison is not of
		// two empty reports)
		min int
	}{
		{"history", func(t *testing.T) string { return buildHistory(t).dir }, 6},
		{"edits", func(t *testing.T) string { return buildEdits(t).dir }, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs, deltas := compareDeltaAndFull(t, c.build(t))
			if len(fs) < c.min {
				t.Errorf("%d findings, want at least %d", len(fs), c.min)
			}
			if deltas == 0 {
				t.Error("no blob was scanned as a delta")
			}
		})
		// A cache of one line keeps (almost) no base: those versions
		// are scanned whole, with the same findings.
		t.Run(c.name+"/no-base-cached", func(t *testing.T) {
			dir := c.build(t)
			full := mustScan(t, Options{Path: dir, Backend: BackendGit, FullBlobs: true})
			_, cached := compareDeltaWith(t, dir, full, 0, 0)
			_, st := compareDeltaWith(t, dir, full, 1, 0)
			if st.DeltaBlobs > 1 || cached.DeltaBlobs <= st.DeltaBlobs {
				t.Errorf("%d delta blobs with a one-line cache (%d with the default one): want at most 1 (a one-line base)", st.DeltaBlobs, cached.DeltaBlobs)
			}
		})
		// In a cache of a few lines, bases leave it between the walk,
		// which found them there, and the worker that aligns the
		// version: those versions are scanned whole, with the same
		// findings.
		t.Run(c.name+"/small-cache", func(t *testing.T) {
			dir := c.build(t)
			full := mustScan(t, Options{Path: dir, Backend: BackendGit, FullBlobs: true})
			for _, words := range []int{40, 120, 400, 2000} {
				_, st := compareDeltaWith(t, dir, full, words, 0)
				t.Logf("%d words: %d delta blobs, %d bases lost", words, st.DeltaBlobs, st.basesLost)
			}
		})
		// Read through several cat-file streams, every version still
		// finds its base in the cache: the same versions are deltas,
		// with the same findings.
		t.Run(c.name+"/streams", func(t *testing.T) {
			dir := c.build(t)
			full := mustScan(t, Options{Path: dir, Backend: BackendGit, FullBlobs: true})
			_, one := compareDeltaWith(t, dir, full, 0, 1)
			for _, n := range []int{2, 3} {
				_, st := compareDeltaWith(t, dir, full, 0, n)
				if st.DeltaBlobs != one.DeltaBlobs || one.DeltaBlobs == 0 {
					t.Errorf("%d streams: %d delta blobs, one stream: %d", n, st.DeltaBlobs, one.DeltaBlobs)
				}
			}
		})
	}
}

// benchBundle is gitleaks' own history, kept outside the repository (see
// BENCHMARKS.md); KEYTRAIL_BENCH_BUNDLE overrides where.
func benchBundle() string {
	if p := os.Getenv("KEYTRAIL_BENCH_BUNDLE"); p != "" {
		return p
	}
	return "/work/shared/bench/gitleaks-history.bundle"
}

// On a real history (3,795 commits) both ways of reading it agree.
func TestDeltaMatchesFullBlobsRealHistory(t *testing.T) {
	needGit(t)
	bundle := benchBundle()
	if _, err := os.Stat(bundle); err != nil {
		t.Skipf("real-history bundle %s absent (set KEYTRAIL_BENCH_BUNDLE): %v", bundle, err)
	}
	dir := filepath.Join(t.TempDir(), "gitleaks.git")
	if out, err := exec.Command("git", "clone", "-q", "--mirror", bundle, dir).CombinedOutput(); err != nil {
		t.Fatalf("cloning %s: %v\n%s", bundle, err, out)
	}
	fs, deltas := compareDeltaAndFull(t, dir)
	t.Logf("%d findings, %d blob versions scanned as deltas", len(fs), deltas)
	if len(fs) < 100 || deltas < 1000 {
		t.Errorf("%d findings, %d delta blobs: want a real history's worth", len(fs), deltas)
	}
	// Every commit's message, read without go-git, is go-git's.
	cmd := exec.Command("sh", "-c", "git rev-list --all | git cat-file --batch")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r := bufio.NewReader(bytes.NewReader(out)); ; n++ {
		hdr, err := r.ReadString('\n')
		if err != nil {
			break
		}
		var id, typ string
		var size int
		fmt.Sscan(hdr, &id, &typ, &size)
		data := make([]byte, size+1)
		if _, err := io.ReadFull(r, data); err != nil {
			t.Fatal(err)
		}
		c, err := decodeCommit(plumbing.NewHash(id), data[:size])
		msg, ok := commitMessage(data[:size])
		if err != nil || !ok || msg != c.Message {
			t.Fatalf("commit %s: message %q (%v), go-git %q (%v)", id, msg, ok, c.Message, err)
		}
	}
	if n < 3000 {
		t.Errorf("%d commits compared", n)
	}
}

// The cache keeps versions by id, under the path they were scanned at,
// and drops the least recently used past its budget.
func TestLineCache(t *testing.T) {
	c := newLineCache()
	c.max = 6 // words: three two-line versions
	id := func(n byte) plumbing.Hash { return plumbing.Hash{n} }
	put := func(p string, n byte) { c.put(&blobLines{id: id(n), path: p}, c.hashLines([]byte("x\ny\n"))) }
	get := func(p string, n byte) bool { return c.get(p, id(n)) != nil }
	put("a", 1)
	put("a", 2)
	put("b", 3)
	get("a", 1) // used: 2 is now the least recently used
	put("a", 4)
	cases := []struct {
		path string
		id   byte
		hit  bool
	}{{"a", 4, true}, {"a", 1, true}, {"a", 2, false}, {"b", 3, true}, {"a", 3, false}, {"b", 4, false}, {"c", 3, false}}
	// Looked up without get: a get may write the entry again, which
	// takes ring space too.
	held := func(p string, n byte) bool { bl := c.m[id(n)]; return bl != nil && bl.path == p }
	for _, k := range cases {
		if got := held(k.path, k.id); got != k.hit {
			t.Errorf("get(%s, %d) hit %v, want %v", k.path, k.id, got, k.hit)
		}
	}
	if !get("a", 4) || get("a", 2) || get("c", 3) {
		t.Error("get disagrees with what the cache holds")
	}
	if c.lines != 6 || len(c.m) != 3 {
		t.Errorf("%d lines in %d versions held, want 6 in 3", c.lines, len(c.m))
	}
	if h := c.hashLines([]byte("x\nx")); len(h) != 2 || h[0] == h[1] {
		t.Errorf("a last line without newline must hash differently: %v", h)
	}
}

// Many versions of many sizes through a small ring, used and re-used in
// random order: every version the cache still holds gives back exactly
// the hashes and hits it was given, whatever was written, dropped or
// moved since; the budget never holds more than the ring.
func TestLineCacheRing(t *testing.T) {
	c := newLineCache()
	c.max = 1000
	r := rand.New(rand.NewPCG(3, 4))
	type version struct {
		hashes []uint64
		hits   []lineHit
		bl     *blobLines
	}
	var all []*version
	for round := 0; round < 5000; round++ {
		switch {
		case round%3 != 0 || len(all) == 0: // a new version
			v := &version{hashes: make([]uint64, 1+r.IntN(400))}
			for i := range v.hashes {
				v.hashes[i] = r.Uint64()
			}
			v.bl = &blobLines{id: plumbing.Hash{byte(round), byte(round >> 8), 7}, path: "p"}
			c.put(v.bl, v.hashes)
			all = append(all, v)
		default: // an older one used as a base, its scan's hits stored
			v := all[r.IntN(len(all))]
			bl := c.get("p", v.bl.id)
			if bl == nil {
				continue
			}
			if got, ok := c.hashes(bl, nil); !ok || !slices.Equal(got, v.hashes) {
				t.Fatalf("round %d: version %x gives back other hashes", round, v.bl.id[:2])
			}
			if v.hits == nil && r.IntN(2) == 0 {
				starts := []int32{}
				for i := range v.hashes {
					starts = append(starts, int32(10*i))
				}
				starts = append(starts, int32(10*len(v.hashes)))
				var hits []scanner.Hit
				for i := 0; i < r.IntN(50); i++ {
					hits = append(hits, scanner.Hit{Pos: int32(i * 10 * len(v.hashes) / 50), KW: int32(r.IntN(500))})
				}
				c.setHits(bl, starts, hits)
				if bl.hasHits {
					for _, h := range hits {
						v.hits = append(v.hits, lineHit{h.Pos / 10, h.Pos % 10, h.KW})
					}
					if v.hits == nil {
						v.hits = []lineHit{}
					}
				}
			}
			// The hits come back moved along an identity alignment.
			if v.hits != nil {
				st := make([]int32, len(v.hashes)+1)
				for i := range st {
					st[i] = int32(10 * i)
				}
				want := carryHits(nil, v.hits, []lineRun{{0, 0, int32(len(v.hashes))}}, st)
				if got := c.carry(bl, nil, []lineRun{{0, 0, int32(len(v.hashes))}}, st); !slices.Equal(got, want) {
					t.Fatalf("round %d: version %x carries %v, want %v", round, v.bl.id[:2], got, want)
				}
			}
		}
		if c.lines > c.max {
			t.Fatalf("round %d: %d words held in a ring of %d", round, c.lines, c.max)
		}
		held := 0
		for bl := c.head; bl != nil; bl = bl.next {
			held += int(bl.n + bl.nHits)
			if bl.next != nil && bl.next.at >= bl.at {
				t.Fatalf("round %d: ring order broken", round)
			}
		}
		if held != c.lines {
			t.Fatalf("round %d: entries hold %d words, the count says %d", round, held, c.lines)
		}
	}
	// Versions dropped: a get misses, their hits are not carried.
	if c.get("p", all[0].bl.id) != nil {
		t.Error("the first version is still cached after 5,000 more")
	}
	if got := c.carry(all[0].bl, nil, nil, nil); got != nil {
		t.Errorf("hits carried from a dropped version: %v", got)
	}
	// Released: empty and unmapped at once; usable again afterwards.
	kept := c.head
	c.release()
	if c.ring != nil || len(c.m) != 0 || c.lines != 0 || c.get("p", kept.id) != nil {
		t.Errorf("after release: ring %v, %d entries, %d words held", c.ring != nil, len(c.m), c.lines)
	}
	c.release() // twice is harmless
	again := &blobLines{id: plumbing.Hash{8, 8, 8}, path: "p"}
	c.put(again, []uint64{1, 2, 3})
	if got, ok := c.hashes(again, nil); !ok || !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Errorf("put after release: %v %v", got, ok)
	}
	// A version larger than half the ring is not cached.
	big := &blobLines{id: plumbing.Hash{9, 9, 9}, path: "p"}
	c.put(big, make([]uint64, c.max/2+1))
	if c.get("p", big.id) != nil {
		t.Error("a version of over half the ring was cached")
	}
}

// A cache whose bases keep leaving it doubles its ring, up to its
// limit, keeping every entry's hashes and hits; one whose bases are
// found does not grow.
func TestLineCacheGrows(t *testing.T) {
	c := newLineCache()
	c.max, c.grow = 64, 256
	put := func(n int) *blobLines {
		bl := &blobLines{id: plumbing.Hash{byte(n), byte(n >> 8), 1}, path: "p"}
		c.put(bl, []uint64{uint64(n), uint64(n) + 1, uint64(n) + 2, uint64(n) + 3})
		return bl
	}
	// Found: no growth.
	bl := put(0)
	for range 3 * growAsk {
		if c.get("p", bl.id) == nil {
			t.Fatal("a cached version was not found")
		}
	}
	if c.max != 64 {
		t.Fatalf("ring grew to %d words with every base found", c.max)
	}
	c.setHits(bl, []int32{0, 10, 20, 30, 40}, []scanner.Hit{{Pos: 12, KW: 3}})
	// Missed often: the ring doubles up to the limit.
	for i := 0; c.max < 256; i++ {
		if i > 10*growAsk {
			t.Fatalf("ring still %d words after %d misses", c.max, i)
		}
		c.get("p", plumbing.Hash{0xff, byte(i), byte(i >> 8)})
		if i%2 == 0 && c.m[bl.id] != nil {
			c.get("p", bl.id) // keep it in use
		}
	}
	for range 4 * growAsk {
		c.get("p", plumbing.Hash{0xfe})
	}
	if c.max != 256 || len(c.ring) != 256 {
		t.Fatalf("ring %d words (max %d), want the limit, 256", len(c.ring), c.max)
	}
	got, ok := c.hashes(bl, nil)
	if !ok || !slices.Equal(got, []uint64{0, 1, 2, 3}) {
		t.Fatalf("after growing: hashes %v %v", got, ok)
	}
	if hits := c.carry(bl, nil, []lineRun{{0, 0, 4}}, []int32{0, 10, 20, 30, 40}); !slices.Equal(hits, []scanner.Hit{{Pos: 12, KW: 3}}) {
		t.Errorf("after growing: hits %v", hits)
	}
	// Entries fill the larger ring before the oldest go.
	for i := 1; i <= 40; i++ {
		put(i)
	}
	if len(c.m) < 40 {
		t.Errorf("%d versions held in a ring of %d words, want at least 40 of 4 words", len(c.m), len(c.ring))
	}
}

// Hits pack into one word each and come back as they were; those that
// do not fit say so.
func TestPackHit(t *testing.T) {
	for _, h := range []lineHit{{0, 0, 0}, {1<<21 - 1, 1<<21 - 1, 1<<22 - 1}, {5, 70000, 431}} {
		v, ok := packHit(h)
		if !ok || unpackHit(v) != h {
			t.Errorf("%v: packed %v, back %v", h, ok, unpackHit(v))
		}
	}
	for _, h := range []lineHit{{1 << 21, 0, 0}, {0, 1 << 21, 0}, {0, 0, 1 << 22}, {-1, 0, 0}} {
		if _, ok := packHit(h); ok {
			t.Errorf("%v packed", h)
		}
	}
}

// Dropping repeated and nested rescanned ranges, and those outside every
// run, once a blob is scanned changes no answer inherit asks: whether
// one range of the rule holds the lines of a finding that lies inside a
// run.
func TestScannedKeepsCoverage(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	covered := func(rs []scanner.LineRange, rule string, first, last int) bool {
		for _, r := range rs {
			if r.Covers(rule, first, last) {
				return true
			}
		}
		return false
	}
	rules := []string{"", "a", "b"}
	for i := 0; i < 300; i++ {
		var rs []scanner.LineRange
		for k := rnd.IntN(12); k > 0; k-- {
			f := 1 + rnd.IntN(20)
			rs = append(rs, scanner.LineRange{Rule: rules[rnd.IntN(3)], First: f, Last: f + rnd.IntN(6)})
		}
		var runs []lineRun // new lines, 0-based, sorted, disjoint
		for b := int32(rnd.IntN(3)); b < 26; {
			n := 1 + int32(rnd.IntN(5))
			runs = append(runs, lineRun{b: b, a: b + 7, n: n})
			b += n + int32(rnd.IntN(4))
		}
		before := slices.Clone(rs)
		bd := &blobDelta{runs: runs, d: scanner.Delta{Rescanned: rs, Unchanged: []scanner.Span{{Start: 0, End: 1}}}}
		bd.scanned()
		if bd.d.Unchanged != nil {
			t.Fatal("unchanged spans kept after the scan")
		}
		if len(bd.d.Rescanned) > len(before) {
			t.Fatalf("%v grew to %v", before, bd.d.Rescanned)
		}
		for _, rule := range rules {
			for _, r := range runs {
				for f := int(r.b) + 1; f <= int(r.b+r.n); f++ {
					for l := f; l <= int(r.b+r.n); l++ {
						if a, b := covered(before, rule, f, l), covered(bd.d.Rescanned, rule, f, l); a != b {
							t.Fatalf("%v -> %v (runs %v): rule %q lines %d-%d covered %v, now %v", before, bd.d.Rescanned, runs, rule, f, l, a, b)
						}
					}
				}
			}
		}
	}
}

// A version's keyword hits are kept by line and column while it is
// cached (counted in the budget), and move with their lines to the
// version made from it.
func TestCarryHits(t *testing.T) {
	c := newLineCache()
	base := []byte("aa key\nbb\ncc key key\n")
	bl := &blobLines{id: plumbing.Hash{1}, path: "f"}
	c.put(bl, c.hashLines(base))
	hits := []scanner.Hit{{Pos: 3, KW: 0}, {Pos: 13, KW: 0}, {Pos: 17, KW: 1}}
	_, bst := c.hashLinesStarts(base)
	c.setHits(bl, bst, hits)
	ident := []lineRun{{0, 0, 3}}
	if got, want := c.carry(bl, nil, ident, bst), hits; !reflect.DeepEqual(got, want) {
		t.Fatalf("hits back along the identity %v, want %v", got, want)
	}
	got := c.scratch // carry's line hits
	if want := []lineHit{{0, 3, 0}, {2, 3, 0}, {2, 7, 1}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("line hits %v, want %v", got, want)
	}
	if c.lines != 3+3 {
		t.Errorf("budget holds %d, want 6 (3 lines, 3 hits)", c.lines)
	}
	// New version: a line inserted at the top, line 1 ("bb") changed.
	data := []byte("new\naa key\nXX\ncc key key\n")
	hb := c.hashLines(data)
	ha, _ := c.hashes(c.get("f", bl.id), nil)
	al := new(aligner)
	runs, _ := al.deltaSpans(data, al.alignLines(ha, hb), int32(len(ha)), int32(len(hb)))
	moved := carryHits(nil, got, runs, al.starts)
	if want := []scanner.Hit{{Pos: 7, KW: 0}, {Pos: 17, KW: 0}, {Pos: 21, KW: 1}}; !reflect.DeepEqual(moved, want) {
		t.Errorf("carried %v (runs %v), want %v", moved, runs, want)
	}
	if viaCache := c.carry(bl, nil, runs, al.starts); !reflect.DeepEqual(viaCache, moved) {
		t.Errorf("carried from the cache %v, want %v", viaCache, moved)
	}
	// A recycled slice comes back holding only the new hits; an empty
	// result is still not nil (nil: hits unknown).
	c.hits.put([]scanner.Hit{{Pos: 99, KW: 9}, {Pos: 98, KW: 9}, {Pos: 97, KW: 9}, {Pos: 96, KW: 9}})
	if again := carryHits(c.hits.get(0), got, runs, al.starts); !reflect.DeepEqual(again, moved) {
		t.Errorf("into a recycled slice: carried %v, want %v", again, moved)
	}
	if none := carryHits(nil, nil, runs, al.starts); none == nil || len(none) != 0 {
		t.Errorf("no base hits: got %#v, want an empty, non-nil slice", none)
	}
	for _, h := range moved {
		if string(data[h.Pos:h.Pos+3]) != "key" {
			t.Errorf("hit at %d is %q, not the keyword", h.Pos, data[h.Pos:h.Pos+3])
		}
	}
	// Once the version has left the cache, its hits are not stored.
	c.max = 2
	c.ring = nil // a new, smaller ring
	c.m, c.head, c.tail, c.lines = map[plumbing.Hash]*blobLines{}, nil, nil, 0
	c.put(&blobLines{id: plumbing.Hash{2}, path: "f"}, c.hashLines([]byte("x\n")))
	gone := &blobLines{id: plumbing.Hash{3}, path: "f"}
	_, dst := c.hashLinesStarts(data)
	c.setHits(gone, dst, hits)
	if gone.hasHits || c.carry(gone, nil, runs, dst) != nil {
		t.Error("hits stored for a version not in the cache")
	}
}

// hashLines is hashLinesStarts without the starts.
func (c *lineCache) hashLines(data []byte) []uint64 {
	h, _ := c.hashLinesStarts(data)
	return h
}

// A delta version whose scan found nothing, made from a base that has
// and inherits nothing, leaves no record for Finalize (it has nothing to
// carry over); the others keep theirs, and the report is the full-blob
// scan's.
func TestCleanDeltaRecordsDropped(t *testing.T) {
	r := newRepo(t)
	// Tokens go first and edits at the end, out of the engine's reach
	// around them: the versions after a token's inherit it.
	lines := func(f string, n int, extra string) string {
		var b strings.Builder
		b.WriteString(extra)
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "line %d of %s, some ordinary text\n", i, f)
		}
		return b.String()
	}
	tokB, tokC := token("clean-b"), token("clean-c")
	r.commit("one", map[string]string{"a.txt": lines("a", 30, ""), "b.txt": lines("b", 30, "t = "+tokB+"\n"), "c.txt": lines("c", 30, "")})
	r.commit("two", map[string]string{"a.txt": lines("a", 31, ""), "b.txt": lines("b", 31, "t = "+tokB+"\n"), "c.txt": lines("c", 30, "t = "+tokC+"\n")})
	r.commit("three", map[string]string{"a.txt": lines("a", 32, ""), "b.txt": lines("b", 32, "t = "+tokB+"\n"), "c.txt": lines("c", 31, "t = "+tokC+"\n")})
	r.commit("four", map[string]string{"a.txt": lines("a", 33, "")})
	// One worker: every base is scanned before the versions made from it
	// (with more, a base still being scanned counts as not clean).
	src := New(Options{Path: r.dir, Backend: BackendGit})
	defer src.Close()
	s := &scanner.Scanner{Engine: engine(t, scanner.Options{}), Workers: 1}
	res, err := s.Run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if got := src.Stats().DeltaBlobs; got != 7 {
		t.Fatalf("%d delta versions, want 7 (a: 3, b: 2, c: 2)", got)
	}
	// a.txt's three are clean; b's inherit a token, c's second version
	// found one and its third inherits it.
	if len(src.deltas) != 4 || len(src.deltaOrder) != 7 {
		t.Errorf("%d delta records kept of %d, want 4 of 7", len(src.deltas), len(src.deltaOrder))
	}
	full := mustScan(t, Options{Path: r.dir, Backend: BackendGit, FullBlobs: true})
	type key struct {
		rule, secret, commit, file string
		line, others, containing   int
		atHead                     bool
	}
	set := func(fs []scanner.Finding) map[key]bool {
		m := map[key]bool{}
		for _, f := range fs {
			m[key{f.RuleID, f.Secret, f.Commit, f.File, f.Line, f.OtherLocations, f.CommitsContaining, f.PresentAtHead != nil && *f.PresentAtHead}] = true
		}
		return m
	}
	if got, want := set(res.Findings), set(full.Findings); !reflect.DeepEqual(got, want) || len(want) != 2 {
		t.Errorf("delta scan %v, full-blob scan %v (want the two tokens)", got, want)
	}
}
