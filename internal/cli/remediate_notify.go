package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/keytrail/keytrail/remediate"
	"github.com/keytrail/keytrail/remediate/distribute"
)

// notification is Slack-compatible (an incoming webhook shows "text") and
// carries the results for machines. Key ids and statuses only: a result
// never holds a secret.
type notification struct {
	Text     string                `json:"text"`
	Journal  string                `json:"journal"`
	Results  []remediate.KeyResult `json:"results"`
	Failed   bool                  `json:"failed"`
	Finished time.Time             `json:"finished_at"`
	// IdempotencyKey is the same when a resume re-sends a notification
	// the journal does not know was delivered; it is also the
	// Idempotency-Key header.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// journalRef is the journal a command runs under: to write, its id, and
// the records it held before (resume, rollback).
type journalRef struct {
	j    *remediate.Journal
	id   string
	recs []remediate.Record
}

// notifyStep names notification records in the journal.
const notifyStep = "notify"

// notifyJournaled posts a notification once per outcome: an intent
// (with the idempotency key) before, an outcome after. A notification
// of the same results already journaled as delivered is not sent again;
// one with an intent and no outcome is re-sent with the same key.
func notifyJournaled(ctx context.Context, e *env, jr journalRef, spec string, res []remediate.KeyResult) error {
	var digest []string
	for _, r := range res {
		d := fmt.Sprintf("%d:%s", r.Index, r.Status)
		if r.Until != nil {
			d += "@" + r.Until.UTC().Format(time.RFC3339)
		}
		digest = append(digest, d)
	}
	key := remediate.DeriveKey(jr.id, notifyStep, spec, strings.Join(digest, ","))
	call := "notify " + spec
	for _, rec := range jr.recs {
		if rec.Kind == remediate.KindOutcome && rec.Step == notifyStep && rec.Call == call && rec.Status == remediate.StatusDone && rec.Facts["idempotency_key"] == key {
			fmt.Fprintf(e.stdout, "--notify %s: already delivered (journal record %d)\n", spec, rec.Seq)
			return nil
		}
	}
	facts := map[string]string{"idempotency_key": key}
	if _, err := jr.j.Append(remediate.Record{Time: time.Now(), Kind: remediate.KindIntent, Step: notifyStep, Call: call, Facts: facts}); err != nil {
		return err
	}
	nerr := notify(remediate.WithIdempotencyKey(ctx, key), spec, jr.j.Path(), res)
	out := remediate.Record{Time: time.Now(), Kind: remediate.KindOutcome, Step: notifyStep, Call: call, Status: remediate.StatusDone, Facts: facts}
	if nerr != nil {
		out.Status, out.Error = remediate.StatusFailed, nerr.Error()
	}
	if _, err := jr.j.Append(out); err != nil && nerr == nil {
		return err
	}
	return nerr
}

func notify(ctx context.Context, spec, journal string, res []remediate.KeyResult) error {
	raw, ok := strings.CutPrefix(spec, "webhook:")
	if !ok {
		return fmt.Errorf("want webhook:URL")
	}
	u, err := distribute.CheckURL(raw)
	if err != nil {
		return err
	}
	n := notification{Journal: journal, Results: append([]remediate.KeyResult(nil), res...), Failed: remediate.Failed(res), Finished: time.Now().UTC(), IdempotencyKey: remediate.IdempotencyKey(ctx)}
	var lines []string
	for _, r := range res {
		l := fmt.Sprintf("• %s %s: *%s*", r.Action, r.KeyID, r.Status)
		if r.Error != "" {
			l += " — " + r.Error
		}
		lines = append(lines, l)
	}
	head := "keytrail remediation finished"
	if n.Failed {
		head = "keytrail remediation FAILED"
	}
	n.Text = head + " (journal " + journal + ")\n" + strings.Join(lines, "\n")
	for i := range n.Results {
		n.Results[i].Facts = nil
	}
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if n.IdempotencyKey != "" {
		req.Header.Set(remediate.IdempotencyHeader, n.IdempotencyKey)
	}
	if key := os.Getenv(distribute.WebhookSecretEnv); key != "" {
		req.Header.Set(distribute.SignatureHeader, distribute.Sign([]byte(key), body))
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST answered %s", resp.Status)
	}
	return nil
}
