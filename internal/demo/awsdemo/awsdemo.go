// Package awsdemo is the AWS half of `make demo` (testdata/demoaws runs
// it): it starts the in-process
// AWS emulator (kumo behind internal/fakes/awsfake), seeds it to match the
// demo repository's leaked key (an owner user, a creation date, a last
// use, CloudTrail records before and after the leak commit, one of them
// from a new IP), writes those records as CloudTrail delivery files, and
// runs the built keytrail binary's audit against it with fake auditor
// credentials. It returns the verdict on the key (critical, as it should).
package awsdemo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/keytrail/keytrail/internal/fakes/awsfake"
)

// leakedKey finds the demo repository's AWS key id and the date of the
// commit that leaked it, as keytrail's own scan reports them.
func leakedKey(ctx context.Context, bin, repo string) (string, time.Time, error) {
	out, err := exec.CommandContext(ctx, bin, "scan", "git", repo, "--format", "json").Output()
	if len(out) == 0 {
		return "", time.Time{}, fmt.Errorf("scanning %s: %v", repo, err)
	}
	var findings []struct {
		RuleID string            `json:"rule_id"`
		Meta   map[string]string `json:"meta"`
		Date   time.Time         `json:"date"`
	}
	if err := json.Unmarshal(out, &findings); err != nil {
		return "", time.Time{}, fmt.Errorf("reading the scan of %s: %w", repo, err)
	}
	for _, f := range findings {
		if f.RuleID == "aws-access-key-id" && f.Meta["access_key_id"] != "" {
			return f.Meta["access_key_id"], f.Date, nil
		}
	}
	return "", time.Time{}, fmt.Errorf("no AWS key id found in %s", repo)
}

// Run seeds the emulator and runs the audit three times: JSON (for the
// verdict), text (shown) and HTML (written to htmlPath).
func Run(ctx context.Context, repo, bin, htmlPath string, stdout io.Writer) (string, error) {
	keyID, leaked, err := leakedKey(ctx, bin, repo)
	if err != nil {
		return "", err
	}
	fake := awsfake.Start()
	defer fake.Close()
	if err := fake.CreateUser(ctx, "payments-deploy", "/apps/payments/", map[string]string{"team": "payments", "env": "prod"}); err != nil {
		return "", err
	}
	created := leaked.AddDate(0, 0, -150)
	fake.AddAccessKey("payments-deploy", keyID, created, "Active")
	attacker := leaked.Add(52 * time.Hour)
	fake.SetKeyLastUsed(keyID, attacker.Add(3*time.Hour), "s3", "sa-east-1")

	// CloudTrail: the CI runner's daily deploys before and after the
	// leak, then someone else: a new IP in a new Region, a session minted
	// with the key and used, and a denied attempt to create a user.
	user := "payments-deploy"
	ci, ciAgent := "198.51.100.10", "aws-sdk-go-v2/1.30.0 os/linux lang/go"
	var recs []awsfake.Record
	for d := -30; d <= 6; d++ {
		t := leaked.AddDate(0, 0, d).Add(2 * time.Hour)
		recs = append(recs, awsfake.Use(user, keyID, t, "s3.amazonaws.com", "PutObject", "eu-west-1", ci, ciAgent))
	}
	evil, evilAgent := "203.0.113.66", "python-requests/2.31.0"
	session := "ASIA" + keyID[4:]
	mint := awsfake.Minted(awsfake.Use(user, keyID, attacker.Add(10*time.Minute), "sts.amazonaws.com", "GetSessionToken", "sa-east-1", evil, evilAgent), session)
	denied := awsfake.Use(user, keyID, attacker.Add(20*time.Minute), "iam.amazonaws.com", "CreateUser", "us-east-1", evil, evilAgent)
	denied.ErrorCode, denied.ErrorMessage = "AccessDenied", "User is not authorized to perform: iam:CreateUser"
	sessUse := awsfake.Use(user, session, attacker.Add(30*time.Minute), "s3.amazonaws.com", "ListBuckets", "sa-east-1", evil, evilAgent)
	sessUse.UserIdentity.Type = "IAMUser"
	recs = append(recs,
		awsfake.Use(user, keyID, attacker, "sts.amazonaws.com", "GetCallerIdentity", "sa-east-1", evil, evilAgent),
		mint, denied, sessUse)
	trail, err := os.MkdirTemp("", "keytrail-demo-trail-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(trail)
	byDay := map[string][]awsfake.Record{}
	for _, r := range recs {
		t, _ := time.Parse(time.RFC3339, r.EventTime)
		p := filepath.Join(trail, "AWSLogs", awsfake.AccountID, "CloudTrail", r.AWSRegion, t.Format("2006/01/02"),
			fmt.Sprintf("%s_CloudTrail_%s_%sZ_demo.json.gz", awsfake.AccountID, r.AWSRegion, t.Format("20060102T1504")))
		byDay[p] = append(byDay[p], r)
	}
	for p, rs := range byDay {
		if err := awsfake.WriteTrailFile(p, rs); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(stdout, "AWS emulator at %s: user %s owns %s (created %s); %d CloudTrail records in %s\n\n",
		fake.URL, user, keyID, created.Format("2006-01-02"), len(recs), trail)

	env := []string{"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env, fake.Env()...)
	audit := func(extra ...string) ([]byte, error) {
		args := append([]string{"audit", "git", repo, "--aws", "--cloudtrail", trail}, extra...)
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		var errb bytes.Buffer
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
			err = nil // 1: a key is at high or critical risk
		}
		if err != nil {
			return out, fmt.Errorf("keytrail %s: %v: %s", strings.Join(args, " "), err, errb.String())
		}
		return out, nil
	}
	fmt.Fprintf(stdout, "== keytrail audit git %s --aws --cloudtrail <trail> ==\n", repo)
	text, err := audit("--format", "text")
	if err != nil {
		return "", err
	}
	stdout.Write(text)
	if _, err := audit("--format", "html", "--output", htmlPath); err != nil {
		return "", err
	}
	fmt.Fprintf(stdout, "\nHTML report written to %s\n", htmlPath)
	js, err := audit("--format", "json")
	if err != nil {
		return "", err
	}
	var rep struct {
		Keys []struct {
			KeyID string `json:"key_id"`
			Risk  string `json:"risk"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(js, &rep); err != nil {
		return "", fmt.Errorf("reading the audit JSON: %w", err)
	}
	for _, k := range rep.Keys {
		if k.KeyID == keyID {
			return k.Risk, nil
		}
	}
	return "", fmt.Errorf("the audit did not report %s", keyID)
}
