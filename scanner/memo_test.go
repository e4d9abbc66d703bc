package scanner

import (
	"context"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/rules"
)

// A region scanned again is answered from the memo with the same
// findings, and no two findings share the Meta map a validator filled
// (the scan writes per-item keys into it).
func TestRegionMemo(t *testing.T) {
	e := builtinEngine(t)
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	jwt := seg(`{"alg":"HS256","typ":"JWT"}`) + "." + seg(`{"iss":"keytrail-test","sub":"fake-user-0001"}`) + "." + seg("not a real signature, test only!")
	text := "config:\n  auth_token: \"" + jwt + "\"\n"
	scan := func() []Finding {
		fs, _, err := e.NewWorker().ScanDelta(context.Background(), "a.yml", strings.NewReader(text), true, nil)
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	first := scan()
	var withMeta int
	for _, f := range first {
		if f.Meta["alg"] == "HS256" {
			withMeta++
		}
	}
	if withMeta == 0 {
		t.Fatalf("no finding with the JWT validator's meta: %+v", first)
	}
	hits := 0
	for i := range e.memo.shards {
		hits += len(e.memo.shards[i].m)
	}
	if hits == 0 {
		t.Fatal("nothing stored in the memo")
	}
	want := scan()
	for _, f := range first {
		if f.Meta != nil {
			f.Meta["item_key"] = "changed after the scan"
		}
	}
	if got := scan(); !reflect.DeepEqual(got, want) {
		t.Errorf("a later scan of the same text changed:\n got %+v\nwant %+v", got, want)
	}
	for _, f := range want {
		if _, ok := f.Meta["item_key"]; ok {
			t.Errorf("a finding shares its Meta map with an earlier one: %v", f.Meta)
		}
	}
}

// Results with many matches or long secrets are not kept: the table's
// size stays bounded by entries of a few hundred bytes.
func TestRegionMemoWorth(t *testing.T) {
	m := func(n, secret int) []rules.Match {
		var ms []rules.Match
		for i := 0; i < n; i++ {
			ms = append(ms, rules.Match{Secret: strings.Repeat("s", secret)})
		}
		return ms
	}
	for _, c := range []struct {
		ms   []rules.Match
		want bool
	}{
		{nil, true}, {m(1, 40), true}, {m(2, 200), true},
		{m(3, 10), false}, {m(1, 600), false}, {m(2, 300), false},
	} {
		if got := worth(c.ms); got != c.want {
			secret := 0
			if len(c.ms) > 0 {
				secret = len(c.ms[0].Secret)
			}
			t.Errorf("worth(%d matches, secrets of %d bytes) = %v, want %v", len(c.ms), secret, got, c.want)
		}
	}
}
