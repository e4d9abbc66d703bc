package cloudtrail

import (
	"bytes"
	"sync"

	"github.com/keytrail/keytrail/audit"
)

// Tracker attributes records to the keys an audit follows. It knows the
// keys of interest and learns the session keys (ASIA...) minted from
// them, so their use counts as the key's use. Each id has a generation:
// the keys are generation 0 and every learned session a later one, which
// is how a reader knows which sessions a file was (not yet) read for.
type Tracker struct {
	mu  sync.RWMutex
	ids map[string]*tracked
	gen int
}

type tracked struct {
	usage *audit.Usage
	gen   int
}

// NewTracker follows the given keys, each feeding its own Usage.
func NewTracker(keys map[string]*audit.Usage) *Tracker {
	t := &Tracker{ids: map[string]*tracked{}}
	for id, u := range keys {
		t.ids[id] = &tracked{usage: u}
	}
	return t
}

// Gen is the latest generation.
func (t *Tracker) Gen() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.gen
}

func (t *Tracker) lookup(id string) (*tracked, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	e, ok := t.ids[id]
	return e, ok
}

// learn adds a session minted from a tracked id; it returns the new
// generation, or 0 when the id was known.
func (t *Tracker) learn(session string, u *audit.Usage) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.ids[session]; ok {
		return 0
	}
	t.gen++
	t.ids[session] = &tracked{usage: u, gen: t.gen}
	return t.gen
}

// coverage is what the passes over one input have counted so far: every
// id up to generation gen, plus the sessions those passes learned
// themselves (counted in full by the pass that learned them).
type coverage struct {
	gen   int
	extra map[string]bool
}

func newCoverage() *coverage { return &coverage{gen: -1, extra: map[string]bool{}} }

// pending says whether ids were learned that the input was not read for.
func (t *Tracker) pending(c *coverage) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for id, e := range t.ids {
		if e.gen > c.gen && !c.extra[id] {
			return true
		}
	}
	return false
}

// pass is one read of one input. It counts records of ids whose
// generation is in (low, high] and not counted by an earlier pass, plus
// the sessions it learns itself; records of sessions learned elsewhere
// after the pass began are left for a later pass over the same input, so
// no record is counted twice whatever order files are read in.
type pass struct {
	t         *Tracker
	low, high int
	exclude   map[string]bool
	local     map[string]bool
	key       []byte
}

func (t *Tracker) newPass(c *coverage) *pass {
	return &pass{t: t, low: c.gen, high: t.Gen(), exclude: c.extra, local: map[string]bool{}, key: []byte(`"accessKeyId"`)}
}

// done folds the pass into the input's coverage.
func (p *pass) done(c *coverage) {
	c.gen = p.high
	for id := range p.local {
		c.extra[id] = true
	}
}

// wanted says whether the pass counts records signed by id.
func (p *pass) wanted(id string) (*tracked, bool) {
	e, ok := p.t.lookup(id)
	if !ok {
		return nil, false
	}
	if p.local[id] || (e.gen > p.low && e.gen <= p.high && !p.exclude[id]) {
		return e, true
	}
	return nil, false
}

// candidate is the fast path: does any "accessKeyId" value in the raw
// record name an id the pass counts? Most records fail here without a
// JSON decode.
func (p *pass) candidate(raw []byte) bool {
	for {
		i := bytes.Index(raw, p.key)
		if i < 0 {
			return false
		}
		raw = raw[i+len(p.key):]
		j := 0
		for j < len(raw) && (raw[j] == ' ' || raw[j] == ':' || raw[j] == '\t' || raw[j] == '\n' || raw[j] == '\r') {
			j++
		}
		if j < len(raw) && raw[j] == '"' {
			end := bytes.IndexByte(raw[j+1:], '"')
			if end >= 0 {
				if _, ok := p.wanted(string(raw[j+1 : j+1+end])); ok {
					return true
				}
			}
		}
	}
}

// record counts one raw record if it belongs to the pass.
func (p *pass) record(raw []byte) error {
	if !p.candidate(raw) {
		return nil
	}
	rec, err := ParseRecord(raw)
	if err != nil {
		return err
	}
	p.add(rec)
	return nil
}

func (p *pass) add(rec Record) {
	e, ok := p.wanted(rec.AccessKeyID)
	if !ok {
		return
	}
	e.usage.Add(rec.Event())
	if rec.MintedKeyID != "" && p.t.learn(rec.MintedKeyID, e.usage) != 0 {
		p.local[rec.MintedKeyID] = true
	}
}
