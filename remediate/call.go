package remediate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// IdempotencyHeader is the HTTP header webhook targets, revocation hooks
// and notifications carry the idempotency key in; exec targets get it as
// the JSON field "idempotency_key".
const IdempotencyHeader = "Idempotency-Key"

type recorderKey struct{}
type idempotencyKey struct{}

// recorder journals the external calls a step makes.
type recorder struct {
	r    *Runner
	i    int
	kp   KeyPlan
	step string
	st   *State
}

// Call makes one external call, journaled when ctx comes from a runner:
// an intent record naming the call before fn, an outcome after it (with
// the facts fn set). name says what is called on what, never with a
// secret ("iam:CreateAccessKey(UserName=app)"). fn's context carries the
// call's idempotency key (IdempotencyKey): the same journal, key, step and
// name give the same key, so a call re-sent by resume after an intent with
// no outcome can be recognised by its receiver. Calls made inside fn are
// not journaled again.
func Call(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	rec, _ := ctx.Value(recorderKey{}).(*recorder)
	if rec == nil {
		return fn(ctx)
	}
	return rec.call(ctx, name, fn)
}

// IdempotencyKey is the key of the journaled call ctx is inside ("" when
// none).
func IdempotencyKey(ctx context.Context) string {
	k, _ := ctx.Value(idempotencyKey{}).(string)
	return k
}

// WithIdempotencyKey returns ctx carrying key, for calls made outside a
// step (notifications).
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, key)
}

// DeriveKey is the idempotency key of a call: "kt-" and 32 hex digits of
// SHA-256 over the journal's id and the call's place in it.
func DeriveKey(journalID string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(journalID))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return "kt-" + hex.EncodeToString(h.Sum(nil))[:32]
}

// JournalID identifies a journal by its header record (its time and
// checksum, which covers the plan): stable across resumes.
func JournalID(header Record) string {
	s := sha256.Sum256([]byte(header.Time.UTC().Format("2006-01-02T15:04:05.999999999Z") + "\x00" + header.Sum))
	return hex.EncodeToString(s[:])[:16]
}

func (c *recorder) call(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	r, st := c.r, c.st
	key := DeriveKey(r.jid, strconv.Itoa(c.i), c.step, name)
	in := Record{Time: r.Clock.Now(), Kind: KindIntent, Key: c.i, KeyID: c.kp.KeyID, Step: c.step, Call: name}
	if len(st.changed) > 0 {
		in.Facts, st.changed = st.changed, map[string]string{}
	}
	if _, err := r.Journal.Append(in); err != nil {
		return err
	}
	r.hook(c.i, c.step, "before:"+name)
	inner := context.WithValue(context.WithValue(ctx, recorderKey{}, (*recorder)(nil)), idempotencyKey{}, key)
	err := fn(inner)
	r.Journal.Forbid(st.secret)
	r.hook(c.i, c.step, "after:"+name)
	out := Record{Time: r.Clock.Now(), Kind: KindOutcome, Key: c.i, KeyID: c.kp.KeyID, Step: c.step, Call: name, Status: StatusDone}
	if err != nil {
		out.Status, out.Error = StatusFailed, err.Error()
	}
	if len(st.changed) > 0 {
		out.Facts, st.changed = st.changed, map[string]string{}
	}
	if _, jerr := r.Journal.Append(out); jerr != nil {
		if err != nil {
			return fmt.Errorf("%w (and the journal: %v)", err, jerr)
		}
		return jerr
	}
	return err
}

// withStep returns ctx journaling st's calls under key i's step.
func (r *Runner) withStep(ctx context.Context, i int, kp KeyPlan, step string, st *State) context.Context {
	return context.WithValue(ctx, recorderKey{}, &recorder{r: r, i: i, kp: kp, step: step, st: st})
}
