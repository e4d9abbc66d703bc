package distribute

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"

	"github.com/keytrail/keytrail/remediate"
)

// execTarget runs a command (through the shell) and writes the credential
// to its stdin as JSON: never in argv or the environment, where other
// users and process listings could see it.
type execTarget struct {
	spec, cmd string
	deps      Deps
}

func (t *execTarget) Spec() string { return t.spec }
func (t *execTarget) Calls() []string {
	return []string{fmt.Sprintf("exec: sh -c %q (credential as JSON on stdin)", t.cmd)}
}

// run sends p to the command; what ("rotate to AKIA...") names the call
// in the journal and, with the step, derives its idempotency key.
func (t *execTarget) run(ctx context.Context, what string, p any, secret string) error {
	return remediate.Call(ctx, fmt.Sprintf("exec: sh -c %q (%s)", t.cmd, what), func(ctx context.Context) error {
		return t.runOnce(ctx, p, secret)
	})
}

func (t *execTarget) runOnce(ctx context.Context, p any, secret string) error {
	body, err := withIdempotencyKey(ctx, p)
	if err != nil {
		return err
	}
	shell := t.deps.Shell
	if shell == "" {
		shell = "sh"
	}
	c := exec.CommandContext(ctx, shell, "-c", t.cmd)
	c.Stdin = bytes.NewReader(body)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	c.Stdout = &stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s: %v: %s", t.spec, err, redact(stderr.String(), secret))
	}
	return nil
}

func (t *execTarget) Put(ctx context.Context, cred Credential, _ string) (Receipt, error) {
	p := payload{Event: "rotate", AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey, UserName: cred.UserName, PreviousAccessKeyID: cred.PreviousAccessKeyID}
	if err := t.run(ctx, "rotate to "+cred.AccessKeyID, p, cred.SecretAccessKey); err != nil {
		return nil, err
	}
	return Receipt{"delivered": cred.AccessKeyID}, nil
}

// Holds cannot be known: a command is write-only. Put must be idempotent.
func (t *execTarget) Holds(context.Context, string) (bool, bool, error) { return false, false, nil }

// Restore tells the command which key is current again; it never had the
// old secret from keytrail, so it must restore it from its own history.
func (t *execTarget) Restore(ctx context.Context, r Receipt, cred Credential) error {
	if r["delivered"] == "" {
		return nil
	}
	return t.run(ctx, "rollback to "+cred.PreviousAccessKeyID, payload{Event: "rollback", AccessKeyID: cred.PreviousAccessKeyID, UserName: cred.UserName, PreviousAccessKeyID: cred.AccessKeyID}, "")
}
