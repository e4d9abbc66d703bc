package scanner

import (
	"hash/maphash"
	"maps"
	"sync"

	"github.com/keytrail/keytrail/rules"
)

// # Regex results by region
//
// A rule's matches in a region depend on the region's bytes alone, and
// the same region text comes back often: a line edited on two branches
// and merged, a file copied, a hunk cherry-picked. On gitleaks' history
// 25,691 of 60,890 regex runs (42%, a third of the regex time) were of a
// (rule, region) pair already run. So the engine keeps the results by
// rule and a 128-bit hash of the region text, in a bounded table.
type regionMemo struct {
	s1, s2 maphash.Seed
	shards [memoShards]memoShard
}

const (
	memoShards   = 16
	memoShardMax = 1 << 10 // entries before a shard starts over
	// Only results with few matches are kept: a long line with a match
	// every few bytes (minified data) would fill the table with copies
	// of its secrets. So an entry holds at most a few hundred bytes.
	memoMaxMatches = 2
	memoMaxSecrets = 512 // bytes of secret text in one entry
)

// worth reports whether a region's result is kept.
func worth(ms []rules.Match) bool {
	if len(ms) > memoMaxMatches {
		return false
	}
	sz := 0
	for _, m := range ms {
		sz += len(m.Secret)
	}
	return sz <= memoMaxSecrets
}

type memoShard struct {
	mu sync.Mutex
	m  map[memoKey][]rules.Match
}

type memoKey struct {
	h1, h2 uint64
	rule   int32
	n      int32
}

func newRegionMemo() *regionMemo {
	return &regionMemo{s1: maphash.MakeSeed(), s2: maphash.MakeSeed()}
}

func (r *regionMemo) key(rule int, text []byte) memoKey {
	return memoKey{maphash.Bytes(r.s1, text), maphash.Bytes(r.s2, text), int32(rule), int32(len(text))}
}

// get returns the matches stored for k.
func (r *regionMemo) get(k memoKey) ([]rules.Match, bool) {
	sh := &r.shards[k.h1%memoShards]
	sh.mu.Lock()
	ms, ok := sh.m[k]
	sh.mu.Unlock()
	if ok {
		ms = cloneMatches(ms)
	}
	return ms, ok
}

func (r *regionMemo) put(k memoKey, ms []rules.Match) {
	ms = cloneMatches(ms)
	sh := &r.shards[k.h1%memoShards]
	sh.mu.Lock()
	switch {
	case sh.m == nil:
		sh.m = make(map[memoKey][]rules.Match, memoShardMax)
	case len(sh.m) >= memoShardMax:
		// Starting over is simpler than least-recently-used and loses
		// little: repeats are mostly close together. Clearing keeps the
		// table: making a new one each time was 6 MB of a history
		// scan's allocation on gitleaks' history.
		clear(sh.m)
	}
	sh.m[k] = ms
	sh.mu.Unlock()
}

// cloneMatches copies ms so that no two findings share a Meta map (the
// scan adds keys to it).
func cloneMatches(ms []rules.Match) []rules.Match {
	if len(ms) == 0 {
		return nil
	}
	out := make([]rules.Match, len(ms))
	for i, m := range ms {
		if m.Meta != nil {
			m.Meta = maps.Clone(m.Meta)
		}
		out[i] = m
	}
	return out
}
