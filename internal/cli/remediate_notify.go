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
	n := notification{Journal: journal, Results: res, Failed: remediate.Failed(res), Finished: time.Now().UTC()}
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
