package scanner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"slices"
	"testing"
)

// Readying the built-in rules on a spare core while the workers already
// match (each rule's first hit races with it) changes no finding.
func TestRunPrepareSameFindings(t *testing.T) {
	rnd := rand.New(rand.NewSource(11))
	var src itemsSource
	for i := range 64 {
		data := []byte(fmt.Sprintf("token = %q\napi_key: %s\npassword=Zq8%dvR2mLx9Tn4Kw\n", fakeToken(rnd), fakeToken(rnd), i))
		src = append(src, Item{Path: fmt.Sprintf("f%d.env", i), Size: int64(len(data)), Open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}})
	}
	run := func(prepare bool) []string {
		e := builtinEngine(t) // fresh rules: none prepared yet
		res, err := (&Scanner{Engine: e, Workers: 4, Prepare: prepare}).Run(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range res.Findings {
			out = append(out, fmt.Sprintf("%s %s %d %d %s", f.File, f.RuleID, f.Line, f.Column, f.Secret))
		}
		slices.Sort(out)
		return out
	}
	want := run(false)
	if len(want) < 64 {
		t.Fatalf("%d findings without preparing: want at least one per file", len(want))
	}
	for range 3 {
		if got := run(true); !slices.Equal(got, want) {
			t.Fatalf("with rules prepared alongside:\n%v\nwithout:\n%v", got, want)
		}
	}
}

// Prepare parses every rule unless its context ends first.
func TestEnginePrepare(t *testing.T) {
	e := builtinEngine(t) // fresh rules: none prepared yet
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.Prepare(ctx)
	if n := preparedRules(e); n != 0 {
		t.Errorf("%d rules prepared under a cancelled context, want 0", n)
	}
	e.Prepare(context.Background())
	if n := preparedRules(e); n != len(e.Rules()) {
		t.Errorf("%d of %d rules prepared", n, len(e.Rules()))
	}
}

func preparedRules(e *Engine) int {
	n := 0
	for _, r := range e.Rules() {
		if r.Prepared() {
			n++
		}
	}
	return n
}
