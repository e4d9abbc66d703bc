package remediate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Step is one unit of a remediation. It knows what it means to do (Info),
// how to do it, how to tell it was already done (when a run died between
// its intent and its outcome), and how to undo it.
type Step interface {
	Info() PlannedStep
	// Done reports whether the step's effect is already in place.
	Done(ctx context.Context, st *State) (bool, error)
	Do(ctx context.Context, st *State) error
	// Undo reverts the step; ErrNotUndoable when it cannot be.
	Undo(ctx context.Context, st *State) error
}

// Preparer is a step that records facts before its calls (read-only
// calls allowed), e.g. the version a secret store holds, so that a run
// dying inside the step can still be rolled back. They go in the intent.
type Preparer interface {
	Prepare(ctx context.Context, st *State) error
}

// Batcher is a step whose one external call serves many keys: GitHub's
// revocation API takes up to 1000 tokens a request at 60 requests an
// hour. The runner gathers the keys whose next step it is, journals an
// intent for each, makes one call per Batch group and size, then journals
// each key's outcome.
type Batcher interface {
	Step
	// Batch names the group steps share a call in (same endpoint), and
	// the most keys one call takes.
	Batch() (group string, max int)
	// DoBatch makes the call for all states; errs[i] is sts[i]'s outcome.
	DoBatch(ctx context.Context, sts []*State) (errs []error)
}

// ErrNotUndoable is returned by steps that cannot be reverted (a deleted key).
var ErrNotUndoable = errors.New("cannot be undone")

// PauseError stops a key's run at a wait (grace, delete-after) that resume
// continues once Until has passed.
type PauseError struct {
	Until time.Time
	Why   string
}

func (e *PauseError) Error() string {
	return fmt.Sprintf("%s until %s", e.Why, e.Until.UTC().Format(time.RFC3339))
}

// StopError stops a key's run on purpose (the old key is still in use);
// resume retries the step.
type StopError struct{ Msg string }

func (e *StopError) Error() string { return e.Msg }

// Procedure is a key's steps, in order.
type Procedure struct {
	Steps []Step
	// Redo, when set, is asked when resuming which completed steps must
	// run again (and why), e.g. because a secret only the dead process
	// held was never stored.
	Redo func(st *State, completed map[string]bool) (redo []string, why string)
	// CanRollback, when set, refuses a rollback that would make things
	// worse (undoing a rotation whose old key is already deleted).
	CanRollback func(st *State, completed map[string]bool) error
}

// Provider builds the procedure for a key plan of one provider.
type Provider interface {
	Procedure(kp KeyPlan) (*Procedure, error)
}

// Planners adapts providers to the offline Planner interface: a plan's
// steps are the procedure's steps, so they cannot drift apart.
func Planners(ps map[string]Provider) map[string]Planner {
	out := map[string]Planner{}
	for n, p := range ps {
		out[n] = providerPlanner{p}
	}
	return out
}

type providerPlanner struct{ p Provider }

func (pp providerPlanner) Steps(kp KeyPlan) ([]PlannedStep, error) {
	proc, err := pp.p.Procedure(kp)
	if err != nil {
		return nil, err
	}
	out := make([]PlannedStep, 0, len(proc.Steps))
	for _, s := range proc.Steps {
		out = append(out, s.Info())
	}
	return out, nil
}

// State is what a key's steps share: journal-safe facts (key ids, version
// ids, times) and, in memory only, the new secret.
type State struct {
	Key   KeyPlan
	Clock Clock
	// Wait makes waits (grace, delete-after) sleep instead of pausing.
	Wait    bool
	Out     io.Writer
	facts   map[string]string
	changed map[string]string
	secret  string
}

// Get returns a fact.
func (s *State) Get(k string) string { return s.facts[k] }

// Set records a fact; it goes into the step's outcome record.
func (s *State) Set(k, v string) {
	s.facts[k] = v
	s.changed[k] = v
}

// SetTime records a time fact.
func (s *State) SetTime(k string, t time.Time) { s.Set(k, t.UTC().Format(time.RFC3339Nano)) }

// Time reads a time fact (zero when absent or malformed).
func (s *State) Time(k string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s.facts[k])
	return t
}

// Secret is the new credential's secret, if this process made it.
func (s *State) Secret() string { return s.secret }

// SetSecret keeps a secret in memory; the journal is told never to write it.
func (s *State) SetSecret(v string) { s.secret = v }

// Logf prints a progress line.
func (s *State) Logf(format string, a ...any) {
	if s.Out != nil {
		fmt.Fprintf(s.Out, format+"\n", a...)
	}
}

// Runner runs plans, resumes and rolls back journals.
type Runner struct {
	Journal   *Journal
	Providers map[string]Provider
	Clock     Clock
	Out       io.Writer // progress lines; nil for none
	Wait      bool
	// Hook, when set, is called at each journaled point: "intent" after
	// a step's intent is on disk, "before:CALL" after a call's intent,
	// "after:CALL" when the call returned and before its outcome is
	// written, "called" after the step's calls returned and before its
	// outcome. Tests kill the process there.
	Hook func(key int, step, point string)

	jid string // the journal's id, which idempotency keys derive from
}

// JournalID is the id of the journal the runner writes (set by Apply,
// Resume and Rollback).
func (r *Runner) JournalID() string { return r.jid }

// StepTiming is one step's run, for reports and drills.
type StepTiming struct {
	ID       string        `json:"id"`
	Status   string        `json:"status"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
	Error    string        `json:"error,omitempty"`
}

// KeyResult is how one key's remediation ended.
type KeyResult struct {
	Index  int          `json:"index"`
	KeyID  string       `json:"key_id"`
	Action string       `json:"action"`
	Status string       `json:"status"` // done, paused, stopped, failed, skipped, rolled-back
	Error  string       `json:"error,omitempty"`
	Until  *time.Time   `json:"until,omitempty"`
	Steps  []StepTiming `json:"steps"`
	Facts  map[string]string
}

// Failed reports whether any key failed or stopped.
func Failed(rs []KeyResult) bool {
	for _, r := range rs {
		if r.Status == "failed" || r.Status == "stopped" {
			return true
		}
	}
	return false
}

// Apply writes the journal header and runs every key of the plan. A key
// that fails is reported and the others go on.
func (r *Runner) Apply(ctx context.Context, p *Plan) ([]KeyResult, error) {
	h, err := r.Journal.Append(Record{Time: r.Clock.Now(), Kind: KindHeader, Plan: p})
	if err != nil {
		return nil, err
	}
	r.jid = JournalID(h)
	rps := make([]replayed, len(p.Keys))
	for i := range p.Keys {
		rps[i] = replayed{completed: map[string]bool{}, pending: map[string]bool{}, facts: map[string]string{}}
	}
	return r.runAll(ctx, p, rps, false), nil
}

// Resume continues a journal's plan from each key's last completed step.
func (r *Runner) Resume(ctx context.Context, recs []Record) ([]KeyResult, error) {
	if len(recs) == 0 || recs[0].Plan == nil {
		return nil, errors.New("journal has no plan")
	}
	p := recs[0].Plan
	r.jid = JournalID(recs[0])
	rps := make([]replayed, len(p.Keys))
	for i := range p.Keys {
		rps[i] = replay(recs, i)
	}
	return r.runAll(ctx, p, rps, true), nil
}

func (r *Runner) runAll(ctx context.Context, p *Plan, rps []replayed, resuming bool) []KeyResult {
	pre := r.runBatches(ctx, p, rps, resuming)
	var out []KeyResult
	for i, kp := range p.Keys {
		switch {
		case rps[i].rolledBack:
			out = append(out, KeyResult{Index: i, KeyID: kp.KeyID, Action: kp.Action, Status: "rolled-back"})
		case pre[i] != nil && pre[i].Status != "done":
			out = append(out, *pre[i])
		default:
			res := r.runKey(ctx, i, kp, rps[i], resuming)
			if pre[i] != nil {
				res.Steps = append(pre[i].Steps, res.Steps...)
			}
			out = append(out, res)
		}
	}
	return out
}

// batchItem is one key waiting in a batch.
type batchItem struct {
	i    int
	kp   KeyPlan
	step Batcher
	st   *State
}

// runBatches runs the Batcher steps that are the next step of their keys,
// one call per group and size. It marks them completed in rps; a key
// whose batched step failed gets its final result here.
func (r *Runner) runBatches(ctx context.Context, p *Plan, rps []replayed, resuming bool) map[int]*KeyResult {
	out := map[int]*KeyResult{}
	groups := map[string][]batchItem{}
	var order []string
	max := map[string]int{}
	for i, kp := range p.Keys {
		if kp.Action == ActionNone || rps[i].rolledBack {
			continue
		}
		prov, ok := r.Providers[ProviderOf(kp)]
		if !ok {
			continue // runKey reports it
		}
		proc, err := prov.Procedure(kp)
		if err != nil {
			continue
		}
		for _, step := range proc.Steps {
			id := step.Info().ID
			if rps[i].completed[id] {
				continue
			}
			if b, ok := step.(Batcher); ok {
				g, m := b.Batch()
				if _, seen := groups[g]; !seen {
					order = append(order, g)
				}
				st := &State{Key: kp, Clock: r.Clock, Wait: r.Wait, Out: r.Out, facts: rps[i].facts, changed: map[string]string{}}
				groups[g] = append(groups[g], batchItem{i, kp, b, st})
				max[g] = m
			}
			break
		}
	}
	for _, g := range order {
		items := groups[g]
		for len(items) > 0 {
			n := len(items)
			if max[g] > 0 && n > max[g] {
				n = max[g]
			}
			r.runBatch(ctx, items[:n], rps, resuming, out)
			items = items[n:]
		}
	}
	return out
}

func (r *Runner) runBatch(ctx context.Context, items []batchItem, rps []replayed, resuming bool, out map[int]*KeyResult) {
	start := r.Clock.Now()
	finish := func(it batchItem, status string, err error) {
		res := &KeyResult{Index: it.i, KeyID: it.kp.KeyID, Action: it.kp.Action, Status: "done", Facts: it.st.facts}
		t := StepTiming{ID: it.step.Info().ID, Status: status, Start: start, Duration: r.Clock.Now().Sub(start)}
		if err != nil {
			t.Error = err.Error()
			res.Status, res.Error = "failed", fmt.Sprintf("step %s: %v", t.ID, err)
			r.logf("key %s: FAILED: %s", it.kp.KeyID, res.Error)
		} else {
			rps[it.i].completed[t.ID] = true
		}
		res.Steps = []StepTiming{t}
		out[it.i] = res
	}
	var todo []batchItem
	for _, it := range items {
		id := it.step.Info().ID
		if resuming && rps[it.i].pending[id] {
			done, err := it.step.Done(ctx, it.st)
			if err != nil {
				finish(it, StatusFailed, fmt.Errorf("checking whether it was done: %w", err))
				continue
			}
			if done {
				if err := r.outcome(it.i, it.kp, id, StatusAlreadyDone, nil, it.st); err != nil {
					finish(it, StatusFailed, err)
					continue
				}
				finish(it, StatusAlreadyDone, nil)
				continue
			}
		}
		info := it.step.Info()
		rec := Record{Time: start, Kind: KindIntent, Key: it.i, KeyID: it.kp.KeyID, Step: info.ID, Calls: info.Calls,
			Facts: map[string]string{"batch_size": fmt.Sprint(len(items))}}
		if _, err := r.Journal.Append(rec); err != nil {
			finish(it, StatusFailed, err)
			continue
		}
		r.logf("key %s: %s: %s", it.kp.KeyID, info.ID, info.Intent)
		todo = append(todo, it)
	}
	if len(todo) == 0 {
		return
	}
	for _, it := range todo {
		r.hook(it.i, it.step.Info().ID, "intent")
	}
	sts := make([]*State, len(todo))
	for k, it := range todo {
		sts[k] = it.st
	}
	errs := todo[0].step.DoBatch(ctx, sts)
	for _, it := range todo {
		r.Journal.Forbid(it.st.secret)
	}
	for _, it := range todo {
		r.hook(it.i, it.step.Info().ID, "called")
	}
	for k, it := range todo {
		var err error
		if k < len(errs) {
			err = errs[k]
		}
		status := StatusDone
		if err != nil {
			status = StatusFailed
		}
		if oerr := r.outcome(it.i, it.kp, it.step.Info().ID, status, err, it.st); oerr != nil && err == nil {
			err, status = oerr, StatusFailed
		}
		finish(it, status, err)
	}
}

type replayed struct {
	completed  map[string]bool
	pending    map[string]bool // intent written, no outcome
	facts      map[string]string
	order      []string // completed steps in completion order
	rolledBack bool
}

func replay(recs []Record, key int) replayed {
	rp := replayed{completed: map[string]bool{}, pending: map[string]bool{}, facts: map[string]string{}}
	for _, rec := range recs[1:] {
		if rec.Key != key {
			continue
		}
		for k, v := range rec.Facts {
			rp.facts[k] = v
		}
		if rec.Call != "" {
			continue // one call of a step: the step's own records say where it is
		}
		switch rec.Kind {
		case KindIntent:
			rp.pending[rec.Step] = true
		case KindOutcome:
			delete(rp.pending, rec.Step)
			switch rec.Status {
			case StatusDone, StatusAlreadyDone:
				if !rp.completed[rec.Step] {
					rp.order = append(rp.order, rec.Step)
				}
				rp.completed[rec.Step] = true
			case StatusUndone:
				delete(rp.completed, strings.TrimPrefix(rec.Step, "undo:"))
			}
		case KindNote:
			if rec.Status == "reset" {
				for _, s := range strings.Split(rec.Facts["redo"], ",") {
					delete(rp.completed, s)
				}
			}
			if rec.Status == "rolled-back" {
				rp.rolledBack = true
			}
		}
	}
	var order []string
	for _, s := range rp.order {
		if rp.completed[s] {
			order = append(order, s)
		}
	}
	rp.order = order
	return rp
}

func (r *Runner) logf(format string, a ...any) {
	if r.Out != nil {
		fmt.Fprintf(r.Out, format+"\n", a...)
	}
}

func (r *Runner) hook(key int, step, point string) {
	if r.Hook != nil {
		r.Hook(key, step, point)
	}
}

func (r *Runner) runKey(ctx context.Context, i int, kp KeyPlan, rp replayed, resuming bool) KeyResult {
	res := KeyResult{Index: i, KeyID: kp.KeyID, Action: kp.Action, Status: "done"}
	if kp.Action == ActionNone {
		res.Status = "skipped"
		return res
	}
	fail := func(err error) KeyResult {
		res.Status, res.Error = "failed", err.Error()
		r.logf("key %s: FAILED: %v", kp.KeyID, err)
		return res
	}
	prov, ok := r.Providers[ProviderOf(kp)]
	if !ok {
		return fail(fmt.Errorf("no remediator for provider %q", kp.Provider))
	}
	proc, err := prov.Procedure(kp)
	if err != nil {
		return fail(err)
	}
	st := &State{Key: kp, Clock: r.Clock, Wait: r.Wait, Out: r.Out, facts: rp.facts, changed: map[string]string{}}
	completed := rp.completed
	if resuming && proc.Redo != nil {
		if redo, why := proc.Redo(st, completed); len(redo) > 0 {
			if _, err := r.Journal.Append(Record{Time: r.Clock.Now(), Kind: KindNote, Key: i, KeyID: kp.KeyID, Status: "reset",
				Note: why, Facts: map[string]string{"redo": strings.Join(redo, ",")}}); err != nil {
				return fail(err)
			}
			r.logf("key %s: %s", kp.KeyID, why)
			for _, s := range redo {
				delete(completed, s)
			}
		}
	}
	for _, step := range proc.Steps {
		info := step.Info()
		if completed[info.ID] {
			continue
		}
		start := r.Clock.Now()
		timing := func(status string, err error) {
			t := StepTiming{ID: info.ID, Status: status, Start: start, Duration: r.Clock.Now().Sub(start)}
			if err != nil {
				t.Error = err.Error()
			}
			res.Steps = append(res.Steps, t)
		}
		sctx := r.withStep(ctx, i, kp, info.ID, st)
		if resuming && rp.pending[info.ID] {
			// The last run died inside this step: look before redoing it.
			done, err := step.Done(sctx, st)
			if err != nil {
				return fail(fmt.Errorf("step %s: checking whether it was done: %w", info.ID, err))
			}
			if done {
				if err := r.outcome(i, kp, info.ID, StatusAlreadyDone, nil, st); err != nil {
					return fail(err)
				}
				r.logf("key %s: %s: already done", kp.KeyID, info.ID)
				timing(StatusAlreadyDone, nil)
				continue
			}
		}
		intent := Record{Time: start, Kind: KindIntent, Key: i, KeyID: kp.KeyID, Step: info.ID, Calls: info.Calls}
		if p, ok := step.(Preparer); ok {
			// What undoing needs must be on disk before the call.
			if err := p.Prepare(sctx, st); err != nil {
				return fail(fmt.Errorf("step %s: %w", info.ID, err))
			}
			if len(st.changed) > 0 {
				intent.Facts, st.changed = st.changed, map[string]string{}
			}
		}
		if _, err := r.Journal.Append(intent); err != nil {
			return fail(err)
		}
		r.hook(i, info.ID, "intent")
		r.logf("key %s: %s: %s", kp.KeyID, info.ID, info.Intent)
		err := step.Do(sctx, st)
		r.Journal.Forbid(st.secret)
		r.hook(i, info.ID, "called")
		var pe *PauseError
		var se *StopError
		switch {
		case errors.As(err, &pe):
			if oerr := r.outcome(i, kp, info.ID, StatusPaused, err, st); oerr != nil {
				return fail(oerr)
			}
			timing(StatusPaused, err)
			res.Status, res.Error = "paused", err.Error()
			u := pe.Until
			res.Until = &u
			res.Facts = st.facts
			r.logf("key %s: %s: paused: %v", kp.KeyID, info.ID, err)
			return res
		case errors.As(err, &se):
			if oerr := r.outcome(i, kp, info.ID, StatusFailed, err, st); oerr != nil {
				return fail(oerr)
			}
			timing(StatusFailed, err)
			res.Status, res.Error = "stopped", err.Error()
			res.Facts = st.facts
			r.logf("key %s: %s: STOPPED: %v", kp.KeyID, info.ID, err)
			return res
		case err != nil:
			if oerr := r.outcome(i, kp, info.ID, StatusFailed, err, st); oerr != nil {
				return fail(oerr)
			}
			timing(StatusFailed, err)
			res.Facts = st.facts
			return fail(fmt.Errorf("step %s: %w", info.ID, err))
		}
		if err := r.outcome(i, kp, info.ID, StatusDone, nil, st); err != nil {
			return fail(err)
		}
		timing(StatusDone, nil)
	}
	res.Facts = st.facts
	r.logf("key %s: %s complete", kp.KeyID, kp.Action)
	return res
}

func (r *Runner) outcome(i int, kp KeyPlan, step, status string, err error, st *State) error {
	rec := Record{Time: r.Clock.Now(), Kind: KindOutcome, Key: i, KeyID: kp.KeyID, Step: step, Status: status}
	if err != nil {
		rec.Error = err.Error()
	}
	if len(st.changed) > 0 {
		rec.Facts = st.changed
	}
	_, jerr := r.Journal.Append(rec)
	st.changed = map[string]string{}
	return jerr
}

// Rollback undoes, newest first, what each key's completed steps did and
// can be undone, then marks the keys rolled back so resume leaves them.
func (r *Runner) Rollback(ctx context.Context, recs []Record) ([]KeyResult, error) {
	if len(recs) == 0 || recs[0].Plan == nil {
		return nil, errors.New("journal has no plan")
	}
	r.jid = JournalID(recs[0])
	var out []KeyResult
	for i, kp := range recs[0].Plan.Keys {
		res := KeyResult{Index: i, KeyID: kp.KeyID, Action: kp.Action, Status: "rolled-back"}
		rp := replay(recs, i)
		if kp.Action == ActionNone || rp.rolledBack {
			res.Status = "skipped"
			out = append(out, res)
			continue
		}
		prov, ok := r.Providers[ProviderOf(kp)]
		if !ok {
			res.Status, res.Error = "failed", fmt.Sprintf("no remediator for provider %q", kp.Provider)
			out = append(out, res)
			continue
		}
		proc, err := prov.Procedure(kp)
		if err != nil {
			res.Status, res.Error = "failed", err.Error()
			out = append(out, res)
			continue
		}
		st := &State{Key: kp, Clock: r.Clock, Out: r.Out, facts: rp.facts, changed: map[string]string{}}
		if proc.CanRollback != nil {
			if err := proc.CanRollback(st, rp.completed); err != nil {
				res.Status, res.Error = "failed", "rollback refused: "+err.Error()
				r.logf("key %s: %s", kp.KeyID, res.Error)
				out = append(out, res)
				continue
			}
		}
		byID := map[string]Step{}
		for _, s := range proc.Steps {
			byID[s.Info().ID] = s
		}
		// Steps that died mid-call may have acted: undo them too.
		toUndo := append([]string(nil), rp.order...)
		var pend []string
		for s := range rp.pending {
			pend = append(pend, s)
		}
		sort.Strings(pend)
		toUndo = append(toUndo, pend...)
		var notes []string
		failed := false
		for j := len(toUndo) - 1; j >= 0; j-- {
			id := toUndo[j]
			step := byID[id]
			if step == nil {
				continue
			}
			start := r.Clock.Now()
			if _, err := r.Journal.Append(Record{Time: start, Kind: KindIntent, Key: i, KeyID: kp.KeyID, Step: "undo:" + id}); err != nil {
				return out, err
			}
			err := step.Undo(r.withStep(ctx, i, kp, "undo:"+id, st), st)
			status := StatusUndone
			switch {
			case errors.Is(err, ErrNotUndoable):
				notes = append(notes, id+": "+err.Error())
				status = StatusFailed
			case err != nil:
				failed = true
				notes = append(notes, id+": "+err.Error())
				status = StatusFailed
			}
			if oerr := r.outcome(i, kp, "undo:"+id, status, err, st); oerr != nil {
				return out, oerr
			}
			res.Steps = append(res.Steps, StepTiming{ID: "undo:" + id, Status: status, Start: start, Duration: r.Clock.Now().Sub(start), Error: errString(err)})
			r.logf("key %s: undo %s: %s", kp.KeyID, id, orOK(err))
		}
		if failed {
			res.Status = "failed"
			res.Error = strings.Join(notes, "; ")
		} else {
			if len(notes) > 0 {
				res.Error = strings.Join(notes, "; ")
			}
			if _, err := r.Journal.Append(Record{Time: r.Clock.Now(), Kind: KindNote, Key: i, KeyID: kp.KeyID, Status: "rolled-back", Note: "rolled back"}); err != nil {
				return out, err
			}
		}
		res.Facts = st.facts
		out = append(out, res)
	}
	return out, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func orOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}
