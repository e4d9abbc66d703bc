package rules

import (
	"reflect"
	"sync"
	"testing"
)

var filtered = sync.OnceValues(func() ([]*Rule, error) {
	set, err := Builtin()
	if err != nil {
		return nil, err
	}
	var out []*Rule
	for _, r := range set.Rules {
		r.prepare()
		if r.starts != nil {
			out = append(out, r)
		}
	}
	return out, nil
})

// FuzzStartFilter checks a built-in rule's start filter (literal starts,
// the loose form, loose matches standing for exact ones) against the
// rule's own regex on arbitrary text: the same matches, groups included.
func FuzzStartFilter(f *testing.F) {
	f.Add(uint16(0), `secret = "Qn3vT7kLw2Xr9pZd"`)
	f.Add(uint16(1), `token = "`+string(make([]byte, 310))+`"; api_key: 'abcdefghij0123456789'`)
	f.Add(uint16(2), "GITHUB_CLIENT_SECRET=32176a67b31b3e1cf4118122d069cfc50f336cca")
	f.Fuzz(func(t *testing.T, pick uint16, text string) {
		rs, err := filtered()
		if err != nil {
			t.Fatal(err)
		}
		r := rs[int(pick)%len(rs)]
		if pick == 0 || pick == 1 {
			r = builtinByID(t, "generic-secret-assignment")
		}
		b := []byte(text)
		if len(b) > 4096 || !r.starts.usable(b) {
			return
		}
		want := r.regexp().FindAllSubmatchIndex(b, -1)
		if got := r.starts.findAll(r.Regex, b); !reflect.DeepEqual(got, want) {
			t.Fatalf("rule %s on %q:\n got %v\nwant %v", r.ID, text, got, want)
		}
		if len(want) > 0 && !r.MayMatch(b) {
			t.Fatalf("rule %s on %q: MayMatch false, but the regex matches at %v", r.ID, text, want)
		}
	})
}

func builtinByID(t *testing.T, id string) *Rule {
	rs, _ := filtered()
	for _, r := range rs {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no filtered rule %s", id)
	return nil
}
