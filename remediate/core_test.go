package remediate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// toyProvider's steps act on an in-memory world, so the runner's
// journaling, resume and rollback are tested without any network.
type toyProvider struct{ w *toyWorld }

type toyWorld struct {
	set     map[string]bool
	calls   []string
	failAt  string
	pauseAt string
}

type toyStep struct {
	id string
	w  *toyWorld
}

func (s toyStep) Info() PlannedStep {
	return PlannedStep{ID: s.id, Intent: "set " + s.id, Calls: []string{"toy:Set(" + s.id + ")"}, Touches: []string{"toy " + s.id}}
}
func (s toyStep) Done(ctx context.Context, st *State) (bool, error) { return s.w.set[s.id], nil }
func (s toyStep) Do(ctx context.Context, st *State) error {
	s.w.calls = append(s.w.calls, "do:"+s.id)
	if s.w.failAt == s.id {
		return errors.New("toy failure")
	}
	if s.w.pauseAt == s.id {
		until := st.Clock.Now().Add(time.Hour)
		if st.Get("until") == "" {
			st.SetTime("until", until)
		}
		if u := st.Time("until"); st.Clock.Now().Before(u) {
			return &PauseError{Until: u, Why: "toy grace"}
		}
	}
	s.w.set[s.id] = true
	st.Set(s.id, "yes")
	return nil
}
func (s toyStep) Undo(ctx context.Context, st *State) error {
	if s.id == "c" {
		return fmt.Errorf("toy: c is %w", ErrNotUndoable)
	}
	s.w.calls = append(s.w.calls, "undo:"+s.id)
	delete(s.w.set, s.id)
	return nil
}

func (p toyProvider) Procedure(kp KeyPlan) (*Procedure, error) {
	if kp.Action == ActionRevoke {
		return nil, &FieldError{"action", "toy keys cannot be revoked"}
	}
	var steps []Step
	for _, id := range []string{"a", "b", "c"} {
		steps = append(steps, toyStep{id, p.w})
	}
	return &Procedure{Steps: steps}, nil
}

func toyPlan(t *testing.T, provs map[string]Provider) *Plan {
	t.Helper()
	p := &Plan{Version: PlanVersion, GeneratedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Keys: []KeyPlan{{Provider: "toy", KeyID: "K1", Action: ActionRotate}, {Provider: "toy", KeyID: "K2", Action: ActionNone}}}
	for i := range p.Keys {
		if err := Fill(&p.Keys[i], Planners(provs)); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestParsePlanNamesTheWrongLine(t *testing.T) {
	provs := map[string]Provider{"toy": toyProvider{&toyWorld{set: map[string]bool{}}}}
	var buf bytes.Buffer
	if err := WritePlan(&buf, toyPlan(t, provs)); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	if _, err := ParsePlan("p.json", []byte(good), Planners(provs)); err != nil {
		t.Fatalf("a written plan must parse: %v", err)
	}
	lineOf := func(s, sub string, nth int) int {
		off := 0
		for ; nth > 0; nth-- {
			i := strings.Index(s[off:], sub)
			if i < 0 {
				t.Fatalf("%q not in plan", sub)
			}
			off += i + len(sub)
		}
		return strings.Count(s[:off], "\n") + 1
	}
	tests := []struct {
		name     string
		edit     func(string) string
		wantLine func(edited string) int
		wantMsg  string
	}{
		{"bad action", func(s string) string { return strings.Replace(s, `"action": "rotate"`, `"action": "rotat"`, 1) },
			func(e string) int { return lineOf(e, `"rotat"`, 1) }, `action "rotat"`},
		{"step removed", func(s string) string {
			i := strings.Index(s, `"id": "b"`)
			j := strings.Index(s[i:], `"id": "c"`)
			return s[:i] + s[i+j:]
		}, func(e string) int { return lineOf(e, `"id": "c"`, 1) }, `step 2 is "c", want "b"`},
		{"unknown field", func(s string) string { return strings.Replace(s, `"key_id": "K1"`, `"key_id": "K1", "colour": 1`, 1) },
			func(e string) int { return lineOf(e, `"colour"`, 1) }, `unknown field "colour"`},
		{"bad duration", func(s string) string {
			return strings.Replace(s, `"options": {}`, "\"options\": {\n \"overlap\": \"soon\"\n}", 1)
		}, func(e string) int { return lineOf(e, `"overlap"`, 1) }, "overlap"},
		{"syntax error", func(s string) string { return strings.Replace(s, `"provider": "toy",`, `"provider": "toy"`, 1) },
			func(e string) int { return lineOf(e, `"provider": "toy"`, 1) + 1 }, "invalid JSON"},
		{"provider not revocable", func(s string) string { return strings.Replace(s, `"action": "rotate"`, `"action": "revoke"`, 1) },
			func(e string) int { return lineOf(e, `"revoke"`, 1) }, "cannot be revoked"},
		{"unknown provider", func(s string) string { return strings.Replace(s, `"provider": "toy"`, `"provider": "gcp"`, 1) },
			func(e string) int { return lineOf(e, `"gcp"`, 1) }, "no remediator"},
		{"version", func(s string) string { return strings.Replace(s, `"version": 1`, `"version": 7`, 1) },
			func(e string) int { return lineOf(e, `"version"`, 1) }, "version 7"},
		{"truncated", func(s string) string { return s[:len(s)/2] }, func(e string) int { return strings.Count(e, "\n") + 1 }, "truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			edited := tc.edit(good)
			if edited == good {
				t.Fatal("edit changed nothing")
			}
			_, err := ParsePlan("p.json", []byte(edited), Planners(provs))
			var pe *PlanError
			if !errors.As(err, &pe) {
				t.Fatalf("want a PlanError, got %v", err)
			}
			if want := tc.wantLine(edited); pe.Line != want {
				t.Errorf("line %d, want %d (%v)", pe.Line, want, err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) || !strings.HasPrefix(err.Error(), "p.json: line ") {
				t.Errorf("error %q lacks %q", err, tc.wantMsg)
			}
		})
	}
}

func newToyRunner(t *testing.T, w *toyWorld, path string) (*Runner, *FakeClock) {
	t.Helper()
	j, err := CreateJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	clk := NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	return &Runner{Journal: j, Providers: map[string]Provider{"toy": toyProvider{w}}, Clock: clk}, clk
}

func readJ(t *testing.T, path string) []Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ReadJournal(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestApplyJournalsIntentThenOutcome(t *testing.T) {
	w := &toyWorld{set: map[string]bool{}}
	path := filepath.Join(t.TempDir(), "sub", "j.journal")
	r, _ := newToyRunner(t, w, path)
	res, err := r.Apply(context.Background(), toyPlan(t, r.Providers))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != "done" || res[1].Status != "skipped" {
		t.Fatalf("results %+v", res)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600", fi.Mode().Perm())
	}
	var kinds []string
	for _, rec := range readJ(t, path) {
		kinds = append(kinds, rec.Kind+":"+rec.Step)
	}
	want := "header: intent:a outcome:a intent:b outcome:b intent:c outcome:c"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("journal %s, want %s", got, want)
	}
}

func TestResumeAfterDeathAtEachPoint(t *testing.T) {
	for _, step := range []string{"a", "b", "c"} {
		for _, point := range []string{"intent", "called"} {
			t.Run(step+"/"+point, func(t *testing.T) {
				w := &toyWorld{set: map[string]bool{}}
				path := filepath.Join(t.TempDir(), "j")
				r, _ := newToyRunner(t, w, path)
				type died struct{}
				r.Hook = func(k int, s, p string) {
					if s == step && p == point {
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
					r.Apply(context.Background(), toyPlan(t, r.Providers))
				}()
				r.Journal.Close()
				j, recs, err := OpenJournal(path)
				if err != nil {
					t.Fatal(err)
				}
				defer j.Close()
				w.calls = nil
				r2 := &Runner{Journal: j, Providers: r.Providers, Clock: r.Clock}
				res, err := r2.Resume(context.Background(), recs)
				if err != nil || res[0].Status != "done" {
					t.Fatalf("resume: %v %+v", err, res)
				}
				for _, id := range []string{"a", "b", "c"} {
					if !w.set[id] {
						t.Errorf("%s not done after resume", id)
					}
				}
				// A step that had completed its call before dying is found
				// done, not redone; a step that died before its call runs.
				redone := strings.Join(w.calls, ",")
				if point == "called" && strings.Contains(redone, "do:"+step) {
					t.Errorf("step %s was redone although its effect was in place: %s", step, redone)
				}
				if point == "intent" && !strings.Contains(redone, "do:"+step) {
					t.Errorf("step %s was not run on resume: %s", step, redone)
				}
			})
		}
	}
}

func TestPauseResumeAndRollback(t *testing.T) {
	w := &toyWorld{set: map[string]bool{}, pauseAt: "c"}
	path := filepath.Join(t.TempDir(), "j")
	r, clk := newToyRunner(t, w, path)
	res, _ := r.Apply(context.Background(), toyPlan(t, r.Providers))
	if res[0].Status != "paused" || res[0].Until == nil {
		t.Fatalf("want paused, got %+v", res[0])
	}
	r.Journal.Close()
	// Resuming too early pauses again; later it completes.
	for _, tc := range []struct {
		advance time.Duration
		want    string
	}{{time.Minute, "paused"}, {time.Hour, "done"}} {
		clk.Advance(tc.advance)
		j, recs, err := OpenJournal(path)
		if err != nil {
			t.Fatal(err)
		}
		res, err = (&Runner{Journal: j, Providers: r.Providers, Clock: clk}).Resume(context.Background(), recs)
		j.Close()
		if err != nil || res[0].Status != tc.want {
			t.Fatalf("after %v: %v %+v, want %s", tc.advance, err, res[0], tc.want)
		}
	}
	j, recs, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err = (&Runner{Journal: j, Providers: r.Providers, Clock: clk}).Rollback(context.Background(), recs)
	j.Close()
	if err != nil || res[0].Status != "rolled-back" {
		t.Fatalf("rollback: %v %+v", err, res)
	}
	if w.set["a"] || w.set["b"] || !w.set["c"] {
		t.Errorf("after rollback a, b should be undone and c (not undoable) kept: %v", w.set)
	}
	if !strings.Contains(res[0].Error, "cannot be undone") {
		t.Errorf("rollback should say what it could not undo: %q", res[0].Error)
	}
	// Resume after a rollback leaves the key alone.
	j, recs, _ = OpenJournal(path)
	defer j.Close()
	res, _ = (&Runner{Journal: j, Providers: r.Providers, Clock: clk}).Resume(context.Background(), recs)
	if res[0].Status != "rolled-back" || w.set["a"] {
		t.Errorf("resume after rollback: %+v %v", res[0], w.set)
	}
}

func TestFailedStepStopsKeyOthersGoOn(t *testing.T) {
	w := &toyWorld{set: map[string]bool{}, failAt: "b"}
	r, _ := newToyRunner(t, w, filepath.Join(t.TempDir(), "j"))
	p := toyPlan(t, r.Providers)
	p.Keys[1] = p.Keys[0]
	p.Keys[1].KeyID = "K3"
	res, _ := r.Apply(context.Background(), p)
	if res[0].Status != "failed" || res[1].Status != "failed" || !strings.Contains(res[0].Error, "toy failure") {
		t.Fatalf("%+v", res)
	}
	if strings.Count(strings.Join(w.calls, ","), "do:b") != 2 {
		t.Errorf("second key did not run: %v", w.calls)
	}
	if w.set["c"] {
		t.Error("step after the failure ran")
	}
}

func TestJournalRefusesSecretsAndBadRecords(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j")
	j, err := CreateJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &Plan{Version: 1, Keys: []KeyPlan{{Provider: "toy", KeyID: "K1", Action: ActionRotate}}}
	if _, err := j.Append(Record{Kind: KindHeader, Plan: p}); err != nil {
		t.Fatal(err)
	}
	j.Forbid("s3cr3t-value")
	if _, err := j.Append(Record{Kind: KindNote, Note: "oops s3cr3t-value"}); err == nil {
		t.Fatal("a record holding a secret was written")
	}
	for i := 0; i < 3; i++ {
		if _, err := j.Append(Record{Kind: KindIntent, Step: fmt.Sprintf("s%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	if _, err := CreateJournal(path); err == nil {
		t.Error("CreateJournal overwrote an existing journal")
	}
	good, _ := os.ReadFile(path)
	if bytes.Contains(good, []byte("s3cr3t")) {
		t.Fatal("secret on disk")
	}
	lines := strings.SplitAfter(string(good), "\n")
	tests := []struct {
		name, data string
		record     int
		reason     string
	}{
		{"truncated last", string(good[:len(good)-5]), 4, "truncated"},
		{"corrupted byte", strings.Replace(string(good), `"s1"`, `"s9"`, 1), 3, "checksum"},
		{"missing record", lines[0] + lines[1] + lines[3], 3, "sequence number 4"},
		{"not json", lines[0] + "garbage\n", 2, "not a journal record"},
		{"no header", lines[1], 1, "sequence number 2"},
		{"empty", "", 1, "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJournal(strings.NewReader(tc.data))
			var be *BadRecordError
			if !errors.As(err, &be) {
				t.Fatalf("want BadRecordError, got %v", err)
			}
			if be.Record != tc.record || !strings.Contains(be.Reason, tc.reason) {
				t.Errorf("got record %d %q, want %d %q", be.Record, be.Reason, tc.record, tc.reason)
			}
		})
	}
}

func FuzzReadJournal(f *testing.F) {
	var buf bytes.Buffer
	dir := f.TempDir()
	j, _ := CreateJournal(filepath.Join(dir, "j"))
	j.Append(Record{Kind: KindHeader, Plan: &Plan{Version: 1, Keys: []KeyPlan{{Provider: "aws", KeyID: "AKIA", Action: ActionRotate}}}})
	j.Append(Record{Kind: KindIntent, Step: "create-key", Calls: []string{"iam:CreateAccessKey"}})
	j.Append(Record{Kind: KindOutcome, Step: "create-key", Status: StatusDone, Facts: map[string]string{"new_key_id": "AKIAX"}})
	j.Close()
	data, _ := os.ReadFile(filepath.Join(dir, "j"))
	buf.Write(data)
	f.Add(buf.Bytes())
	f.Add([]byte("{}\n"))
	f.Add(data[:len(data)-3])
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := ReadJournal(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Whatever is accepted re-encodes to exactly the input.
		var out []byte
		for _, r := range recs {
			line, err := encodeRecord(&r)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, line...)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("accepted journal does not re-encode to itself")
		}
		_ = replay(recs, 0)
	})
}

func FuzzParsePlan(f *testing.F) {
	provs := map[string]Provider{"toy": toyProvider{&toyWorld{set: map[string]bool{}}}}
	p := &Plan{Version: PlanVersion, Keys: []KeyPlan{{Provider: "toy", KeyID: "K1", Action: ActionRotate, Options: Options{Overlap: Duration(time.Minute)}}}}
	Fill(&p.Keys[0], Planners(provs))
	var buf bytes.Buffer
	WritePlan(&buf, p)
	f.Add(buf.Bytes())
	f.Add([]byte(`{"version":1,"keys":[{"provider":"toy","key_id":"x","action":"none","options":{},"steps":[]}]}`))
	f.Add([]byte(`{"version":1,"keys":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePlan("f", b, Planners(provs))
		if err != nil {
			var pe *PlanError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a PlanError: %v", err)
			}
			if pe.Line < 1 || pe.Line > bytes.Count(b, []byte{'\n'})+1 {
				t.Fatalf("line %d out of range", pe.Line)
			}
			return
		}
		var out bytes.Buffer
		if err := WritePlan(&out, p); err != nil {
			t.Fatal(err)
		}
		if _, err := ParsePlan("f", out.Bytes(), Planners(provs)); err != nil {
			t.Fatalf("accepted plan does not re-read: %v", err)
		}
	})
}

func TestDefaultJournalPathsDoNotCollide(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)
	var paths []string
	for i := 0; i < 3; i++ {
		j, err := CreateDefaultJournal(dir, now)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Base(j.Path()))
		j.Close()
	}
	want := "20260302T101500Z.journal 20260302T101500Z-2.journal 20260302T101500Z-3.journal"
	if strings.Join(paths, " ") != want {
		t.Fatalf("%v", paths)
	}
	if fi, _ := os.Stat(filepath.Join(dir, ".keytrail", "remediation")); fi.Mode().Perm() != 0o700 {
		t.Errorf("journal dir mode %v", fi.Mode().Perm())
	}
}
