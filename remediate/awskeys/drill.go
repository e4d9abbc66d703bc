package awskeys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keytrail/keytrail/remediate"
	"github.com/keytrail/keytrail/remediate/distribute"
)

// Drill rotates a canary key end to end while a client keeps reading the
// credential from the first readable target and calling STS with it, the
// way an application would, and reports each step's time and whether the
// client ever failed.
type Drill struct {
	Runner *remediate.Runner
	Plan   *remediate.Plan // one rotate key plan
	// Interval between the client's calls.
	Interval time.Duration
	// Provider builds the client's STS clients and reads the target.
	Provider *Provider
}

// DrillReport is what a drill writes (JSON and text).
type DrillReport struct {
	KeyID       string                 `json:"key_id"`
	User        string                 `json:"user"`
	NewKeyID    string                 `json:"new_key_id,omitempty"`
	Targets     []string               `json:"targets"`
	Started     time.Time              `json:"started"`
	Finished    time.Time              `json:"finished"`
	Status      string                 `json:"status"`
	Error       string                 `json:"error,omitempty"`
	Steps       []remediate.StepTiming `json:"steps"`
	ClientReads string                 `json:"client_reads_from"`
	ClientCalls int                    `json:"client_calls"`
	ClientFails int                    `json:"client_failures"`
	// ClientMoved is when the client first worked with the new key.
	ClientMoved   time.Time `json:"client_moved,omitempty"`
	FirstFailure  string    `json:"first_failure,omitempty"`
	OldKeyRefused bool      `json:"old_key_refused"`
	Passed        bool      `json:"passed"`
}

// Run performs the drill.
func (d *Drill) Run(ctx context.Context) (*DrillReport, error) {
	if len(d.Plan.Keys) != 1 || d.Plan.Keys[0].Action != remediate.ActionRotate {
		return nil, errors.New("a drill rotates exactly one key")
	}
	kp := d.Plan.Keys[0]
	rep := &DrillReport{KeyID: kp.KeyID, User: kp.User, Targets: kp.Options.Distribute, Started: d.Runner.Clock.Now().UTC()}
	var reader distribute.Reader
	for _, spec := range kp.Options.Distribute {
		t, err := distribute.Parse(spec, d.Provider.Targets)
		if err != nil {
			return nil, err
		}
		if r, ok := t.(distribute.Reader); ok {
			reader, rep.ClientReads = r, spec
			break
		}
	}
	if reader == nil {
		return nil, errors.New("a drill needs a target a client can read (secretsmanager: or vault:) to play the client")
	}
	old, err := reader.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("the client cannot read its credential before the drill: %w", err)
	}
	if old.AccessKeyID != kp.KeyID {
		return nil, fmt.Errorf("%s hands out %s, not the canary %s", rep.ClientReads, old.AccessKeyID, kp.KeyID)
	}
	call := func(ctx context.Context, c distribute.Credential) error {
		_, err := d.Provider.STSWith(c.AccessKeyID, c.SecretAccessKey).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}
	if err := call(ctx, old); err != nil {
		return nil, fmt.Errorf("the canary key does not work before the drill: %w", err)
	}
	cctx, stop := context.WithCancel(ctx)
	var mu sync.Mutex
	moved := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d.Interval)
		defer t.Stop()
		for {
			c, err := reader.Read(cctx)
			if err == nil {
				err = call(cctx, c)
			}
			if cctx.Err() != nil {
				return
			}
			mu.Lock()
			rep.ClientCalls++
			if err == nil && c.AccessKeyID != kp.KeyID && rep.ClientMoved.IsZero() {
				rep.ClientMoved = d.Runner.Clock.Now().UTC()
				close(moved)
			}
			if err != nil {
				rep.ClientFails++
				if rep.FirstFailure == "" {
					rep.FirstFailure = d.Runner.Clock.Now().UTC().Format(time.RFC3339) + ": " + err.Error()
				}
			}
			mu.Unlock()
			select {
			case <-cctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	// The overlap exists for clients to move to the new key. Here the
	// client is the drill's own, so the overlap counts from when it has
	// moved (waiting at most one overlap for it): a client starved by a
	// busy machine then cannot fail the usage-shift check by itself.
	prev := d.Runner.Hook
	d.Runner.Hook = func(key int, step, point string) {
		if step == "overlap" && point == "intent" {
			wait := time.Duration(kp.Options.Overlap)
			if wait <= 0 {
				wait = remediate.DefaultOverlap
			}
			t := time.NewTimer(wait)
			select {
			case <-moved:
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
		}
		if prev != nil {
			prev(key, step, point)
		}
	}
	res, err := d.Runner.Apply(ctx, d.Plan)
	d.Runner.Hook = prev
	stop()
	wg.Wait()
	rep.Finished = d.Runner.Clock.Now().UTC()
	if err != nil {
		return rep, err
	}
	r := res[0]
	rep.Status, rep.Error, rep.Steps, rep.NewKeyID = r.Status, r.Error, r.Steps, r.Facts["new_key_id"]
	rep.OldKeyRefused = call(ctx, old) != nil
	rep.Passed = r.Status == "done" && rep.ClientFails == 0 && rep.ClientCalls > 0 && rep.OldKeyRefused
	return rep, nil
}

// WriteText prints the report for people.
func (r *DrillReport) WriteText(w io.Writer) {
	verdict := "PASSED"
	if !r.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "rotation drill %s: canary %s (user %s) -> %s\n", verdict, r.KeyID, r.User, orNone(r.NewKeyID))
	fmt.Fprintf(w, "  %s to %s (%s), status %s\n", r.Started.Format(time.RFC3339), r.Finished.Format(time.RFC3339), r.Finished.Sub(r.Started).Round(time.Millisecond), r.Status)
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
	for _, s := range r.Steps {
		fmt.Fprintf(w, "  %-14s %-12s %s\n", s.ID, s.Status, s.Duration.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "  client (reading %s): %d calls, %d failed\n", r.ClientReads, r.ClientCalls, r.ClientFails)
	if !r.ClientMoved.IsZero() {
		fmt.Fprintf(w, "  client moved to the new key at %s\n", r.ClientMoved.Format(time.RFC3339Nano))
	}
	if r.FirstFailure != "" {
		fmt.Fprintf(w, "  first failure: %s\n", r.FirstFailure)
	}
	fmt.Fprintf(w, "  old key refused afterwards: %v\n", r.OldKeyRefused)
	if len(r.Targets) > 0 {
		fmt.Fprintf(w, "  targets: %s\n", strings.Join(r.Targets, ", "))
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
