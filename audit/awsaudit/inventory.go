package awsaudit

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keytrail/keytrail/audit"
)

// InventoryKey is one IAM user access key (or a root key) measured
// against the key-age policy, without any scan.
type InventoryKey struct {
	AccountID       string     `json:"account_id"`
	User            string     `json:"user"` // "<root_account>" for root keys
	Owner           string     `json:"owner,omitempty"`
	KeyID           string     `json:"key_id,omitempty"` // root keys have none in the credential report
	Status          string     `json:"status"`
	CreatedAt       *time.Time `json:"created_at,omitempty"`
	AgeDays         *int       `json:"age_days,omitempty"`
	LastUsedAt      *time.Time `json:"last_used_at,omitempty"`
	LastUsedService string     `json:"last_used_service,omitempty"`
	LastUsedRegion  string     `json:"last_used_region,omitempty"`
	MaxAgeDays      int        `json:"max_age_days"`
	RotationDue     *time.Time `json:"rotation_due,omitempty"`
	Quarantined     bool       `json:"quarantined"`
	Admin           bool       `json:"admin"`
	// Problems: over-max-age, unused, never-used, two-active-keys,
	// root-key, rotation-due-soon. Violations are the ones that break
	// the policy (all but never-used alone and rotation-due-soon).
	Problems   []string `json:"problems"`
	Violations []string `json:"violations"`
	Errors     []string `json:"errors,omitempty"`
}

// Inventory lists every IAM user key of the accounts and the root
// account's keys (from the credential report), judged by the policy.
func Inventory(ctx context.Context, accounts []Account, p audit.Policy, now time.Time) ([]InventoryKey, []error) {
	p = p.WithDefaults()
	var out []InventoryKey
	var errs []error
	seen := map[string]bool{}
	for _, acc := range accounts {
		a := &account{Account: acc}
		id, err := acc.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: sts:GetCallerIdentity: %w", acc.Label, clean(err)))
			continue
		}
		a.id = aws.ToString(id.Account)
		if seen[a.id] {
			continue
		}
		seen[a.id] = true
		a.inventory(ctx)
		if a.listErr != nil {
			errs = append(errs, fmt.Errorf("%s: %w", acc.Label, a.listErr))
			continue
		}
		for _, e := range a.denied {
			errs = append(errs, fmt.Errorf("%s: %w", acc.Label, e))
		}
		activeByUser := map[string]int{}
		for _, k := range a.keys {
			if k.status == "active" {
				activeByUser[k.user]++
			}
		}
		for keyID, k := range a.keys {
			u := a.users[k.user]
			ik := InventoryKey{AccountID: a.id, User: k.user, Owner: aws.ToString(u.Arn), KeyID: keyID, Status: k.status}
			c := k.created
			ik.CreatedAt = &c
			lu, err := a.IAM.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
			if err != nil {
				ik.Errors = append(ik.Errors, "iam:GetAccessKeyLastUsed: "+clean(err).Error())
			} else if l := lu.AccessKeyLastUsed; l != nil && l.LastUsedDate != nil {
				t := aws.ToTime(l.LastUsedDate)
				ik.LastUsedAt, ik.LastUsedService, ik.LastUsedRegion = &t, aws.ToString(l.ServiceName), aws.ToString(l.Region)
			}
			o := a.owner(ctx, k.user)
			ik.Quarantined, ik.Admin = o.quarantined, o.admin
			ik.Errors = append(ik.Errors, o.errs...)
			ik.MaxAgeDays = p.MaxAgeFor(aws.ToString(u.Path), o.tags)
			judge(&ik, p, now, activeByUser[k.user] > 1, lu != nil && err == nil)
			out = append(out, ik)
		}
		root, err := rootKeys(ctx, a, p, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", acc.Label, err))
		}
		out = append(out, root...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].AccountID != out[j].AccountID {
			return out[i].AccountID < out[j].AccountID
		}
		if out[i].User != out[j].User {
			return out[i].User < out[j].User
		}
		return out[i].KeyID < out[j].KeyID
	})
	return out, errs
}

// judge fills age, rotation due date, problems and violations.
func judge(k *InventoryKey, p audit.Policy, now time.Time, twoActive, lastUseKnown bool) {
	k.Problems, k.Violations = []string{}, []string{}
	add := func(problem string, violation bool) {
		k.Problems = append(k.Problems, problem)
		if violation {
			k.Violations = append(k.Violations, problem)
		}
	}
	active := k.Status == "active"
	if k.CreatedAt != nil {
		age := max(0, int(now.Sub(*k.CreatedAt).Hours()/24))
		k.AgeDays = &age
		due := k.CreatedAt.AddDate(0, 0, k.MaxAgeDays)
		k.RotationDue = &due
		switch {
		case active && age > k.MaxAgeDays:
			add("over-max-age", true)
		case active && due.Sub(now) <= time.Duration(p.WarnDays)*24*time.Hour:
			add("rotation-due-soon", false)
		}
	}
	unusedFor := time.Duration(p.UnusedDays) * 24 * time.Hour
	switch {
	case k.LastUsedAt != nil:
		if active && now.Sub(*k.LastUsedAt) > unusedFor {
			add("unused", true)
		}
	case lastUseKnown:
		add("never-used", false)
		if active && k.CreatedAt != nil && now.Sub(*k.CreatedAt) > unusedFor {
			add("unused", true)
		}
	}
	if twoActive && active {
		add("two-active-keys", true)
	}
}

// rootKeys reads the credential report's <root_account> row: AWS says
// the root user should have no access key at all.
func rootKeys(ctx context.Context, a *account, p audit.Policy, now time.Time) ([]InventoryKey, error) {
	if _, err := a.IAM.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}); err != nil {
		return nil, fmt.Errorf("iam:GenerateCredentialReport: %w", clean(err))
	}
	var rep *iam.GetCredentialReportOutput
	for try := 0; ; try++ {
		var err error
		rep, err = a.IAM.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
		if err == nil {
			break
		}
		if errorCode(err) != "ReportInProgress" || try >= 10 {
			return nil, fmt.Errorf("iam:GetCredentialReport: %w", clean(err))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	rows, err := csv.NewReader(strings.NewReader(string(rep.Content))).ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, errors.Join(errors.New("the credential report is not CSV"), err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	get := func(row []string, name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return row[i]
		}
		return ""
	}
	var out []InventoryKey
	for _, row := range rows[1:] {
		if get(row, "user") != "<root_account>" {
			continue
		}
		for n := 1; n <= 2; n++ {
			pre := fmt.Sprintf("access_key_%d_", n)
			if get(row, pre+"active") != "true" {
				continue
			}
			k := InventoryKey{AccountID: a.id, User: "<root_account>", Owner: get(row, "arn"), Status: "active", MaxAgeDays: p.MaxAgeDays}
			if t, err := time.Parse(time.RFC3339, get(row, pre+"last_rotated")); err == nil {
				k.CreatedAt = &t
			}
			if t, err := time.Parse(time.RFC3339, get(row, pre+"last_used_date")); err == nil {
				k.LastUsedAt = &t
				k.LastUsedService, k.LastUsedRegion = get(row, pre+"last_used_service"), get(row, pre+"last_used_region")
			}
			judge(&k, p, now, false, true)
			k.Problems = append(k.Problems, "root-key")
			k.Violations = append(k.Violations, "root-key")
			out = append(out, k)
		}
	}
	return out, nil
}
