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
		if len(want) > 0 && !r.MayMatch(b, nil) {
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

// FuzzFindAllAfter: for any built-in rule and text, FindAllAfter on what
// MayMatch let through gives FindAll's matches, and MayMatch refuses no
// text FindAll finds a match in.
func FuzzFindAllAfter(f *testing.F) {
	f.Add(uint16(0), `secret = "Qn3vT7kLw2Xr9pZd"`)
	f.Add(uint16(7), "GITHUB_CLIENT_SECRET=32176a67b31b3e1cf4118122d069cfc50f336cca")
	f.Add(uint16(3), "\u017f token=\"abc\u212adef0123456789\" \xff")
	rs, err := BuiltinRules()
	if err != nil {
		f.Fatal(err)
	}
	var c Candidates // reused, as the engine does
	f.Fuzz(func(t *testing.T, pick uint16, text string) {
		r := rs[int(pick)%len(rs)]
		b := []byte(text)
		if len(b) > 4096 {
			return
		}
		want := r.FindAll(b, true)
		if !r.MayMatch(b, &c) {
			if len(want) > 0 {
				t.Fatalf("rule %s on %q: MayMatch false, FindAll found %v", r.ID, text, want)
			}
			return
		}
		if got := r.FindAllAfter(b, &c, true); !reflect.DeepEqual(got, want) {
			t.Fatalf("rule %s on %q:\n FindAllAfter %v\n FindAll      %v", r.ID, text, got, want)
		}
	})
}
