package remediate

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// callProvider's one step makes two journaled calls; the world records
// each call's idempotency key as a receiver would.
type callProvider struct{ got *[]string }

type callStep struct{ got *[]string }

func (s callStep) Info() PlannedStep                          { return PlannedStep{ID: "send", Intent: "send twice"} }
func (s callStep) Done(context.Context, *State) (bool, error) { return false, nil }
func (s callStep) Undo(context.Context, *State) error         { return nil }
func (p callProvider) Procedure(kp KeyPlan) (*Procedure, error) {
	return &Procedure{Steps: []Step{callStep{p.got}}}, nil
}
func (s callStep) Do(ctx context.Context, st *State) error {
	for _, name := range []string{"first", "second"} {
		if err := Call(ctx, "toy: "+name, func(ctx context.Context) error {
			*s.got = append(*s.got, name+"="+IdempotencyKey(ctx))
			st.Set(name, "sent")
			// A call inside a call is not journaled again.
			return Call(ctx, "toy: nested", func(context.Context) error { return nil })
		}); err != nil {
			return err
		}
	}
	return nil
}

// Each external call gets its own intent before and outcome after; a run
// killed between a call and its outcome re-sends it on resume with the
// same idempotency key, and a call never started gets the key it would
// have had.
func TestEachCallJournaledAndResentWithSameKey(t *testing.T) {
	for _, die := range []string{"", "before:toy: first", "after:toy: first", "after:toy: second", "called"} {
		t.Run(die, func(t *testing.T) {
			var got []string
			path := filepath.Join(t.TempDir(), "j")
			j, err := CreateJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			provs := map[string]Provider{"toy": callProvider{&got}}
			p := &Plan{Version: PlanVersion, Keys: []KeyPlan{{Provider: "toy", KeyID: "K1", Action: ActionRotate}}}
			if err := Fill(&p.Keys[0], Planners(provs)); err != nil {
				t.Fatal(err)
			}
			r := &Runner{Journal: j, Providers: provs, Clock: NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
			type died struct{}
			r.Hook = func(_ int, _, point string) {
				if point == die {
					panic(died{})
				}
			}
			func() {
				defer func() {
					if v := recover(); v != nil {
						if _, ok := v.(died); !ok {
							panic(v)
						}
					}
				}()
				r.Apply(context.Background(), p)
			}()
			j.Close()
			recs := readJ(t, path)
			if die == "" {
				var kinds []string
				for _, rec := range recs[1:] {
					kinds = append(kinds, rec.Kind+":"+rec.Step+"["+rec.Call+"]")
				}
				want := "intent:send[] intent:send[toy: first] outcome:send[toy: first] intent:send[toy: second] outcome:send[toy: second] outcome:send[]"
				if strings.Join(kinds, " ") != want {
					t.Fatalf("journal\n%s\nwant\n%s", strings.Join(kinds, " "), want)
				}
				if recs[3].Facts["first"] != "sent" {
					t.Errorf("the call's facts are not in its outcome: %+v", recs[3])
				}
				return
			}
			first := append([]string(nil), got...)
			j2, recs, err := OpenJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			defer j2.Close()
			got = nil
			res, err := (&Runner{Journal: j2, Providers: provs, Clock: NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}).Resume(context.Background(), recs)
			if err != nil || res[0].Status != "done" {
				t.Fatalf("resume: %v %+v", err, res)
			}
			if len(got) != 2 {
				t.Fatalf("resume sent %v", got)
			}
			// Every send of the same call carries the same key.
			for _, a := range first {
				name := strings.SplitN(a, "=", 2)[0]
				for _, b := range got {
					if strings.HasPrefix(b, name+"=") && a != b {
						t.Errorf("re-sent %s, first sent %s", b, a)
					}
				}
			}
			if !strings.HasPrefix(got[0], "first=kt-") || got[0][6:] == got[1][7:] {
				t.Errorf("keys %v", got)
			}
		})
	}
}
