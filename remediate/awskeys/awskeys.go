// Package awskeys remediates AWS IAM user access keys: dual-key rotation
// (create, validate, distribute, overlap, check usage moved, deactivate,
// grace, delete) and revocation (deactivate, revoke older sessions,
// delete later). Each step is a remediate.Step the runner journals.
package awskeys

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/keytrail/keytrail/remediate"
	"github.com/keytrail/keytrail/remediate/distribute"
)

// IAM is the part of the IAM client remediation uses.
type IAM interface {
	ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, opts ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput, opts ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	UpdateAccessKey(ctx context.Context, in *iam.UpdateAccessKeyInput, opts ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	DeleteAccessKey(ctx context.Context, in *iam.DeleteAccessKeyInput, opts ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, opts ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	PutUserPolicy(ctx context.Context, in *iam.PutUserPolicyInput, opts ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error)
}

// STS is what validating a new key needs.
type STS interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, opts ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Provider builds AWS key procedures. Its clients are made on first use,
// so plans can be built and checked with no AWS access at all.
type Provider struct {
	IAM func(ctx context.Context) (IAM, error)
	// STSWith returns an STS client signing with the given key pair.
	STSWith func(accessKeyID, secret string) STS
	Targets distribute.Deps
	// ValidateFor bounds how long a new key may stay unknown to STS
	// (IAM is eventually consistent); 2 minutes when zero.
	ValidateFor time.Duration
}

// RevokePolicyName is the inline policy revocation attaches: AWS's own
// name for "deny everything to sessions issued before now".
const RevokePolicyName = "AWSRevokeOlderSessions"

// Procedure returns the steps of kp's action.
func (p *Provider) Procedure(kp remediate.KeyPlan) (*remediate.Procedure, error) {
	if !strings.HasPrefix(kp.KeyID, "AKIA") {
		return nil, &remediate.FieldError{Field: "key_id", Msg: fmt.Sprintf("%q is not an IAM user access key id (AKIA...); only those can be rotated or revoked here", kp.KeyID)}
	}
	if kp.User == "" {
		return nil, &remediate.FieldError{Field: "key_id", Msg: "the plan does not name the key's IAM user (field \"user\")"}
	}
	b := &base{p: p, user: kp.User, old: kp.KeyID}
	switch kp.Action {
	case remediate.ActionRotate:
		return p.rotation(kp, b)
	case remediate.ActionRevoke:
		if len(kp.Options.Distribute) > 0 {
			return nil, &remediate.FieldError{Field: "distribute", Msg: "revoke distributes nothing; use rotate"}
		}
		steps := []remediate.Step{deactivate{b}}
		if kp.Options.RevokeSessions {
			steps = append(steps, revokeSessions{b})
		}
		if kp.Options.DeleteAfter != nil {
			steps = append(steps, wait{b, "delete-after", "deactivated_at", kp.Options.DeleteAfter.D(), "wait before deleting the deactivated key"}, deleteOld{b})
		}
		return &remediate.Procedure{Steps: steps, CanRollback: canRollback}, nil
	}
	return nil, &remediate.FieldError{Field: "action", Msg: fmt.Sprintf("%q: want rotate or revoke", kp.Action)}
}

func (p *Provider) rotation(kp remediate.KeyPlan, b *base) (*remediate.Procedure, error) {
	if kp.Options.DeleteAfter != nil || kp.Options.RevokeSessions {
		return nil, &remediate.FieldError{Field: "options", Msg: "delete_after and revoke_sessions belong to revoke"}
	}
	steps := []remediate.Step{preflight{b, kp.Options.DeleteInactive}, createKey{b}, validate{b}}
	var dist []string
	for i, spec := range kp.Options.Distribute {
		t, err := distribute.Parse(spec, p.Targets)
		if err != nil {
			return nil, &remediate.FieldError{Field: "distribute", Msg: err.Error()}
		}
		id := "distribute-" + strconv.Itoa(i+1)
		dist = append(dist, id)
		steps = append(steps, distributeStep{b, id, t})
	}
	overlap := kp.Options.Overlap.D()
	steps = append(steps, wait{b, "overlap", "distributed_at", overlap, "both keys work while clients pick up the new one"},
		usageShift{b, overlap, kp.Options.Force}, deactivate{b},
		wait{b, "grace", "deactivated_at", kp.Options.Grace.D(), "the old key is off but can still be switched back on"}, deleteOld{b})
	redo := func(st *remediate.State, completed map[string]bool) ([]string, string) {
		if !completed["create-key"] || st.Secret() != "" {
			return nil, ""
		}
		all := true
		for _, d := range dist {
			all = all && completed[d]
		}
		if all {
			return nil, ""
		}
		// The secret of the key made by the run that died was never
		// stored everywhere: that key is an orphan. create-key deletes it
		// (it was not there at preflight) and makes a new one.
		return append([]string{"create-key", "validate"}, dist...), fmt.Sprintf("the secret of new key %s was lost with the process before it reached every target; it will be deleted and a new key made", st.Get("new_key_id"))
	}
	return &remediate.Procedure{Steps: steps, Redo: redo, CanRollback: canRollback}, nil
}

func canRollback(st *remediate.State, completed map[string]bool) error {
	if completed["delete-old"] {
		return fmt.Errorf("the old key was deleted at %s; nothing can bring it back, so the rotation stands", st.Get("deleted_at"))
	}
	return nil
}

type base struct {
	p         *Provider
	user, old string
}

func (b *base) iam(ctx context.Context) (IAM, error) {
	if b.p.IAM == nil {
		return nil, errors.New("no IAM client")
	}
	return b.p.IAM(ctx)
}

// apiErr names the action and, for a denial, the permission missing.
func apiErr(action, on string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
			return fmt.Errorf("%s on %s: access denied: the remediating principal needs permission %q (%s)", action, on, action, ae.ErrorMessage())
		case "NoSuchEntity":
			return fmt.Errorf("%s on %s: does not exist (%s)", action, on, ae.ErrorMessage())
		}
	}
	return fmt.Errorf("%s on %s: %w", action, on, err)
}

func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}

func (b *base) keys(ctx context.Context) ([]iamtypes.AccessKeyMetadata, error) {
	c, err := b.iam(ctx)
	if err != nil {
		return nil, err
	}
	var out []iamtypes.AccessKeyMetadata
	in := &iam.ListAccessKeysInput{UserName: aws.String(b.user)}
	for {
		var page *iam.ListAccessKeysOutput
		err := remediate.Call(ctx, fmt.Sprintf("iam:ListAccessKeys(UserName=%s)", b.user), func(ctx context.Context) (err error) {
			page, err = c.ListAccessKeys(ctx, in)
			return err
		})
		if err != nil {
			return nil, apiErr("iam:ListAccessKeys", "user "+b.user, err)
		}
		out = append(out, page.AccessKeyMetadata...)
		if !page.IsTruncated || page.Marker == nil {
			return out, nil
		}
		in.Marker = page.Marker
	}
}

func (b *base) status(ctx context.Context, id string) (string, error) {
	ks, err := b.keys(ctx)
	if err != nil {
		return "", err
	}
	for _, k := range ks {
		if aws.ToString(k.AccessKeyId) == id {
			return string(k.Status), nil
		}
	}
	return "", nil // gone
}

func (b *base) setStatus(ctx context.Context, id string, s iamtypes.StatusType) error {
	c, err := b.iam(ctx)
	if err != nil {
		return err
	}
	err = remediate.Call(ctx, fmt.Sprintf("iam:UpdateAccessKey(UserName=%s, AccessKeyId=%s, Status=%s)", b.user, id, s), func(ctx context.Context) error {
		_, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(b.user), AccessKeyId: aws.String(id), Status: s})
		return err
	})
	if err != nil {
		return apiErr("iam:UpdateAccessKey", "key "+id, err)
	}
	return nil
}

func (b *base) delete(ctx context.Context, id string) error {
	c, err := b.iam(ctx)
	if err != nil {
		return err
	}
	err = remediate.Call(ctx, fmt.Sprintf("iam:DeleteAccessKey(UserName=%s, AccessKeyId=%s)", b.user, id), func(ctx context.Context) error {
		_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(b.user), AccessKeyId: aws.String(id)})
		if isCode(err, "NoSuchEntity") {
			return nil // already gone: what was wanted
		}
		return err
	})
	if err != nil {
		return apiErr("iam:DeleteAccessKey", "key "+id, err)
	}
	return nil
}

func (b *base) lastUsed(ctx context.Context, id string) (*time.Time, error) {
	c, err := b.iam(ctx)
	if err != nil {
		return nil, err
	}
	var out *iam.GetAccessKeyLastUsedOutput
	err = remediate.Call(ctx, fmt.Sprintf("iam:GetAccessKeyLastUsed(AccessKeyId=%s)", id), func(ctx context.Context) (err error) {
		out, err = c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
		return err
	})
	if err != nil {
		return nil, apiErr("iam:GetAccessKeyLastUsed", "key "+id, err)
	}
	if out.AccessKeyLastUsed == nil {
		return nil, nil
	}
	return out.AccessKeyLastUsed.LastUsedDate, nil
}

func noUndo(context.Context, *remediate.State) error { return nil }

// preflight: the old key must exist, and there must be room for a second.
type preflight struct {
	*base
	deleteInactive bool
}

func (s preflight) Info() remediate.PlannedStep {
	calls := []string{fmt.Sprintf("iam:ListAccessKeys(UserName=%s)", s.user)}
	intent := "check the old key exists and the user has room for a second key (IAM allows two)"
	if s.deleteInactive {
		calls = append(calls, fmt.Sprintf("iam:DeleteAccessKey(UserName=%s, AccessKeyId=<the user's other key, only if Inactive>)", s.user))
		intent += "; delete the user's other key if it is inactive (--delete-inactive)"
	}
	return remediate.PlannedStep{ID: "preflight", Intent: intent, Calls: calls, Touches: []string{"iam user " + s.user}}
}
func (s preflight) Done(context.Context, *remediate.State) (bool, error) { return false, nil }
func (s preflight) Undo(context.Context, *remediate.State) error         { return nil }
func (s preflight) Do(ctx context.Context, st *remediate.State) error {
	ks, err := s.keys(ctx)
	if err != nil {
		return err
	}
	var others []iamtypes.AccessKeyMetadata
	found := false
	for _, k := range ks {
		if aws.ToString(k.AccessKeyId) == s.old {
			found = true
		} else {
			others = append(others, k)
		}
	}
	if !found {
		return fmt.Errorf("key %s no longer exists for IAM user %s (already deleted?)", s.old, s.user)
	}
	keep := []string{s.old}
	for _, k := range others {
		id := aws.ToString(k.AccessKeyId)
		if len(ks) < 2 {
			keep = append(keep, id)
			continue
		}
		if !s.deleteInactive || k.Status != iamtypes.StatusTypeInactive {
			return &remediate.StopError{Msg: fmt.Sprintf("IAM user %s already has two access keys (%s is %s); IAM allows two per user, so there is no room for a new one. Delete one by hand, or pass --delete-inactive to let keytrail delete an inactive one", s.user, id, k.Status)}
		}
		if err := s.delete(ctx, id); err != nil {
			return err
		}
		st.Set("deleted_inactive", id)
		st.Logf("  deleted inactive key %s of %s to make room", id, s.user)
	}
	st.Set("preexisting", strings.Join(keep, ","))
	return nil
}

// createKey makes the new key. Any key the user has that preflight did
// not see is an orphan of an earlier run whose secret was lost: deleted.
type createKey struct{ *base }

func (s createKey) Info() remediate.PlannedStep {
	return remediate.PlannedStep{ID: "create-key", Intent: "create the new access key (deleting first any key an interrupted run made and never stored)",
		Calls:   []string{fmt.Sprintf("iam:ListAccessKeys(UserName=%s)", s.user), fmt.Sprintf("iam:DeleteAccessKey(UserName=%s, AccessKeyId=<orphan>)", s.user), fmt.Sprintf("iam:CreateAccessKey(UserName=%s)", s.user)},
		Touches: []string{"iam user " + s.user + ": new access key"}}
}
func (s createKey) Done(context.Context, *remediate.State) (bool, error) { return false, nil }
func (s createKey) Do(ctx context.Context, st *remediate.State) error {
	ks, err := s.keys(ctx)
	if err != nil {
		return err
	}
	pre := map[string]bool{}
	for _, id := range strings.Split(st.Get("preexisting"), ",") {
		pre[id] = true
	}
	var orphans []string
	for _, k := range ks {
		id := aws.ToString(k.AccessKeyId)
		if !pre[id] {
			if err := s.delete(ctx, id); err != nil {
				return err
			}
			orphans = append(orphans, id)
			st.Logf("  deleted orphan key %s (made by an interrupted run; its secret was never stored)", id)
		}
	}
	if len(orphans) > 0 {
		st.Set("orphans_deleted", strings.Join(append(splitNonEmpty(st.Get("orphans_deleted")), orphans...), ","))
	}
	c, err := s.iam(ctx)
	if err != nil {
		return err
	}
	err = remediate.Call(ctx, fmt.Sprintf("iam:CreateAccessKey(UserName=%s)", s.user), func(ctx context.Context) error {
		out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(s.user)})
		if err != nil {
			return err
		}
		// The id goes in this call's outcome record at once; the secret
		// stays in memory (the journal refuses it).
		k := out.AccessKey
		st.SetSecret(aws.ToString(k.SecretAccessKey))
		st.Set("new_key_id", aws.ToString(k.AccessKeyId))
		if k.CreateDate != nil {
			st.SetTime("new_key_created_at", *k.CreateDate)
		}
		return nil
	})
	if err != nil {
		if isCode(err, "LimitExceeded") {
			return fmt.Errorf("iam:CreateAccessKey on user %s: the user already has two keys (LimitExceeded)", s.user)
		}
		return apiErr("iam:CreateAccessKey", "user "+s.user, err)
	}
	st.Logf("  created %s", st.Get("new_key_id"))
	return nil
}

// Undo deletes the new key, and any key preflight did not see: a run that
// died inside CreateAccessKey never recorded the id of the key it made.
func (s createKey) Undo(ctx context.Context, st *remediate.State) error {
	pre := st.Get("preexisting")
	if pre == "" {
		if id := st.Get("new_key_id"); id != "" {
			return s.delete(ctx, id)
		}
		return nil
	}
	keep := map[string]bool{}
	for _, id := range strings.Split(pre, ",") {
		keep[id] = true
	}
	ks, err := s.keys(ctx)
	if err != nil {
		return err
	}
	for _, k := range ks {
		if id := aws.ToString(k.AccessKeyId); !keep[id] {
			if err := s.delete(ctx, id); err != nil {
				return err
			}
		}
	}
	return nil
}

func splitNonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// validate calls STS with the new key until it works: a new key takes a
// few seconds to be known everywhere.
type validate struct{ *base }

func (s validate) Info() remediate.PlannedStep {
	return remediate.PlannedStep{ID: "validate", Intent: "check the new key works (retrying while IAM is eventually consistent)",
		Calls: []string{"sts:GetCallerIdentity (signed with the new key)"}}
}
func (s validate) Done(context.Context, *remediate.State) (bool, error) { return false, nil }
func (s validate) Undo(context.Context, *remediate.State) error         { return nil }
func (s validate) Do(ctx context.Context, st *remediate.State) error {
	id, secret := st.Get("new_key_id"), st.Secret()
	if secret == "" {
		return fmt.Errorf("the secret of %s is not known to this process", id)
	}
	if s.p.STSWith == nil {
		return errors.New("no STS client")
	}
	c := s.p.STSWith(id, secret)
	limit := s.p.ValidateFor
	if limit == 0 {
		limit = 2 * time.Minute
	}
	deadline := st.Clock.Now().Add(limit)
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		var out *sts.GetCallerIdentityOutput
		err := remediate.Call(ctx, fmt.Sprintf("sts:GetCallerIdentity(signed with %s, attempt %d)", id, attempt), func(ctx context.Context) (err error) {
			out, err = c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		})
		if err == nil {
			arn := aws.ToString(out.Arn)
			if u := remediate.IAMUserFromARN(arn); u != "" && u != s.user {
				return fmt.Errorf("the new key %s authenticates as %s, not IAM user %s", id, arn, s.user)
			}
			st.Set("validate_attempts", strconv.Itoa(attempt))
			return nil
		}
		if !isCode(err, "InvalidClientTokenId", "SignatureDoesNotMatch", "AuthFailure", "Throttling") || st.Clock.Now().Add(delay).After(deadline) {
			return fmt.Errorf("sts:GetCallerIdentity with the new key %s (attempt %d): %w", id, attempt, err)
		}
		if err := st.Clock.Sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(delay*2, 10*time.Second)
	}
}

// distributeStep hands the new key to one --distribute target.
type distributeStep struct {
	*base
	id string
	t  distribute.Target
}

func (s distributeStep) Info() remediate.PlannedStep {
	return remediate.PlannedStep{ID: s.id, Intent: "hand the new key to " + s.t.Spec(), Calls: s.t.Calls(), Touches: []string{s.t.Spec()}}
}
func (s distributeStep) cred(st *remediate.State) distribute.Credential {
	return distribute.Credential{AccessKeyID: st.Get("new_key_id"), SecretAccessKey: st.Secret(), UserName: s.user, PreviousAccessKeyID: s.old}
}

// Prepare records what the target holds before the put (the version to
// return to); for write-only targets, that the new key may be delivered.
func (s distributeStep) Prepare(ctx context.Context, st *remediate.State) error {
	sn, ok := s.t.(distribute.Snapshotter)
	if !ok {
		st.Set(s.id+".delivered", st.Get("new_key_id"))
		return nil
	}
	if st.Get(s.id+".previous_version") != "" {
		return nil
	}
	r, err := sn.Snapshot(ctx)
	if err != nil {
		return err
	}
	for k, v := range r {
		st.Set(s.id+"."+k, v)
	}
	return nil
}

func (s distributeStep) Done(ctx context.Context, st *remediate.State) (bool, error) {
	holds, known, err := s.t.Holds(ctx, st.Get("new_key_id"))
	return holds && known, err
}
func (s distributeStep) Do(ctx context.Context, st *remediate.State) error {
	cred := s.cred(st)
	if cred.SecretAccessKey == "" {
		return fmt.Errorf("the secret of %s is not known to this process", cred.AccessKeyID)
	}
	r, err := s.t.Put(ctx, cred, token(cred.AccessKeyID, s.t.Spec()))
	for k, v := range r {
		// The first previous version is what rollback returns to, even
		// after a put of a key that was later found orphaned.
		if k == "previous_version" && st.Get(s.id+".previous_version") != "" {
			continue
		}
		st.Set(s.id+"."+k, v)
	}
	if err != nil {
		return err
	}
	st.SetTime("distributed_at", st.Clock.Now())
	return nil
}
func (s distributeStep) Undo(ctx context.Context, st *remediate.State) error {
	r := distribute.Receipt{}
	for _, k := range []string{"version", "previous_version", "pending_version", "delivered"} {
		if v := st.Get(s.id + "." + k); v != "" {
			r[k] = v
		}
	}
	return s.t.Restore(ctx, r, s.cred(st))
}

// token is a Secrets Manager ClientRequestToken (32-64 chars) tied to the
// key and the target, so a retried put of the same key is idempotent.
func token(keyID, spec string) string {
	h := fnv64(keyID + "\x00" + spec)
	return fmt.Sprintf("keytrail-%s-%016x", keyID, h)
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// wait holds until a recorded time plus d. A short wait sleeps; a long
// one (grace, delete-after) pauses the run unless --wait, and resume
// continues it later.
type wait struct {
	*base
	id, from string
	d        time.Duration
	intent   string
}

func (s wait) Info() remediate.PlannedStep {
	return remediate.PlannedStep{ID: s.id, Intent: fmt.Sprintf("%s (%s)", s.intent, s.d)}
}
func (s wait) Done(context.Context, *remediate.State) (bool, error) { return false, nil }
func (s wait) Undo(context.Context, *remediate.State) error         { return nil }
func (s wait) Do(ctx context.Context, st *remediate.State) error {
	until := st.Time(s.id + "_until")
	if until.IsZero() {
		start := st.Time(s.from)
		if start.IsZero() {
			start = st.Clock.Now()
		}
		until = start.Add(s.d)
		st.SetTime(s.id+"_until", until)
	}
	left := until.Sub(st.Clock.Now())
	if left <= 0 {
		return nil
	}
	if s.id != "overlap" && !st.Wait {
		return &remediate.PauseError{Until: until, Why: s.id + ": the old key " + s.old + " is deactivated but kept"}
	}
	st.Logf("  waiting %s", left.Round(time.Second))
	return remediate.SleepUntil(ctx, st.Clock, until)
}

// usageShift checks that clients moved: the old key's last use stopped
// advancing and the new key's started.
type usageShift struct {
	*base
	overlap time.Duration
	force   bool
}

func (s usageShift) Info() remediate.PlannedStep {
	return remediate.PlannedStep{ID: "usage-shift", Intent: "check that the old key's last use stopped advancing and the new key's started (stop if the old key is still in use, unless --force)",
		Calls: []string{fmt.Sprintf("iam:GetAccessKeyLastUsed(AccessKeyId=%s)", s.old), "iam:GetAccessKeyLastUsed(AccessKeyId=<new>)"}}
}
func (s usageShift) Done(context.Context, *remediate.State) (bool, error) { return false, nil }
func (s usageShift) Undo(context.Context, *remediate.State) error         { return nil }
func (s usageShift) Do(ctx context.Context, st *remediate.State) error {
	if prev := st.Time("usage_checked_at"); !prev.IsZero() {
		// An earlier check stopped: give clients another half overlap.
		if err := remediate.SleepUntil(ctx, st.Clock, prev.Add(s.overlap/2)); err != nil {
			return err
		}
	}
	oldUse, err := s.lastUsed(ctx, s.old)
	if err != nil {
		return err
	}
	newID := st.Get("new_key_id")
	newUse, err := s.lastUsed(ctx, newID)
	if err != nil {
		return err
	}
	// Clients refresh within half the overlap, so a use of the old key
	// after that (or after the last check) means a client still holds it.
	threshold := st.Time("distributed_at").Add(s.overlap / 2)
	if prev := st.Time("old_last_used"); prev.After(threshold) {
		threshold = prev
	}
	if oldUse != nil {
		st.SetTime("old_last_used", *oldUse)
	}
	if newUse != nil {
		st.SetTime("new_last_used", *newUse)
	} else {
		st.Logf("  note: no client has used the new key %s yet", newID)
	}
	st.SetTime("usage_checked_at", st.Clock.Now())
	if oldUse != nil && oldUse.After(threshold) {
		if s.force {
			st.Logf("  the old key %s was used at %s, after the overlap's first half; --force: deactivating anyway", s.old, oldUse.UTC().Format(time.RFC3339))
			return nil
		}
		return &remediate.StopError{Msg: fmt.Sprintf("the old key %s is still in use: last used %s, after every target had the new key (%s). Find the client still holding it (keytrail audit shows where), then `keytrail remediate resume` to check again, or pass --force", s.old, oldUse.UTC().Format(time.RFC3339), st.Get("distributed_at"))}
	}
	return nil
}

// deactivate turns the old key off (reversible).
type deactivate struct{ *base }

func (s deactivate) Info() remediate.PlannedStep {
	return remediate.PlannedStep{ID: "deactivate", Intent: "deactivate the old key " + s.old,
		Calls: []string{fmt.Sprintf("iam:UpdateAccessKey(UserName=%s, AccessKeyId=%s, Status=Inactive)", s.user, s.old)}, Touches: []string{"access key " + s.old}}
}
func (s deactivate) Done(ctx context.Context, st *remediate.State) (bool, error) {
	status, err := s.status(ctx, s.old)
	if err != nil {
		return false, err
	}
	if status == "" || status == string(iamtypes.StatusTypeInactive) {
		if st.Get("deactivated_at") == "" {
			st.SetTime("deactivated_at", st.Clock.Now())
		}
		return true, nil
	}
	return false, nil
}
func (s deactivate) Do(ctx context.Context, st *remediate.State) error {
	if err := s.setStatus(ctx, s.old, iamtypes.StatusTypeInactive); err != nil {
		return err
	}
	st.SetTime("deactivated_at", st.Clock.Now())
	return nil
}

// Undo reactivates the old key, which only works while it exists.
func (s deactivate) Undo(ctx context.Context, st *remediate.State) error {
	status, err := s.status(ctx, s.old)
	if err != nil {
		return err
	}
	if status == "" {
		return fmt.Errorf("key %s was deleted: %w", s.old, remediate.ErrNotUndoable)
	}
	return s.setStatus(ctx, s.old, iamtypes.StatusTypeActive)
}

// deleteOld deletes the old key (irreversible).
type deleteOld struct{ *base }

func (s deleteOld) Info() remediate.PlannedStep {
	return remediate.PlannedStep{ID: "delete-old", Intent: "delete the old key " + s.old,
		Calls: []string{fmt.Sprintf("iam:DeleteAccessKey(UserName=%s, AccessKeyId=%s)", s.user, s.old)}, Touches: []string{"access key " + s.old}}
}
func (s deleteOld) Done(ctx context.Context, st *remediate.State) (bool, error) {
	status, err := s.status(ctx, s.old)
	return status == "" && err == nil, err
}
func (s deleteOld) Do(ctx context.Context, st *remediate.State) error {
	if err := s.delete(ctx, s.old); err != nil {
		return err
	}
	st.SetTime("deleted_at", st.Clock.Now())
	return nil
}
func (s deleteOld) Undo(context.Context, *remediate.State) error {
	return fmt.Errorf("a deleted key: %w", remediate.ErrNotUndoable)
}

// revokeSessions denies everything to sessions issued before now, so STS
// credentials minted from the leaked key stop working too. It never
// touches AWS's quarantine policy.
type revokeSessions struct{ *base }

func (s revokeSessions) Info() remediate.PlannedStep {
	return remediate.PlannedStep{ID: "revoke-sessions", Intent: "deny all actions to sessions issued before now (temporary credentials minted with the key)",
		Calls:   []string{fmt.Sprintf("iam:PutUserPolicy(UserName=%s, PolicyName=%s, Deny * when aws:TokenIssueTime < now)", s.user, RevokePolicyName)},
		Touches: []string{"iam user " + s.user + ": inline policy " + RevokePolicyName}}
}
func (s revokeSessions) Done(context.Context, *remediate.State) (bool, error) { return false, nil }
func (s revokeSessions) Do(ctx context.Context, st *remediate.State) error {
	c, err := s.iam(ctx)
	if err != nil {
		return err
	}
	now := st.Clock.Now().UTC()
	if err := remediate.Call(ctx, fmt.Sprintf("iam:PutUserPolicy(UserName=%s, PolicyName=%s)", s.user, RevokePolicyName), func(ctx context.Context) error {
		_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(s.user), PolicyName: aws.String(RevokePolicyName),
			PolicyDocument: aws.String(RevokePolicy(now))})
		return err
	}); err != nil {
		return apiErr("iam:PutUserPolicy", "user "+s.user, err)
	}
	st.SetTime("sessions_revoked_before", now)
	return nil
}
func (s revokeSessions) Undo(context.Context, *remediate.State) error {
	return fmt.Errorf("sessions older than the revocation stay denied (remove the inline policy %s by hand once the incident is closed): %w", RevokePolicyName, remediate.ErrNotUndoable)
}

// RevokePolicy is the AWSRevokeOlderSessions document for time t.
func RevokePolicy(t time.Time) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"` +
		t.UTC().Format(time.RFC3339) + `"}}}]}`
}
