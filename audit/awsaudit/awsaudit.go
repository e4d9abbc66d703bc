// Package awsaudit investigates leaked AWS access keys: the account a key
// belongs to (sts:GetAccessKeyInfo), its owner, status and age (IAM
// ListUsers + ListAccessKeys), its last use (GetAccessKeyLastUsed), the
// owner's quarantine and administrator policies and tags, and its use
// after the leak from CloudTrail (files, S3 or LookupEvents).
package awsaudit

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/audit/cloudtrail"
)

// IAMAPI is the part of the IAM client the audit uses.
type IAMAPI interface {
	ListUsers(context.Context, *iam.ListUsersInput, ...func(*iam.Options)) (*iam.ListUsersOutput, error)
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListAttachedUserPolicies(context.Context, *iam.ListAttachedUserPoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
	ListUserTags(context.Context, *iam.ListUserTagsInput, ...func(*iam.Options)) (*iam.ListUserTagsOutput, error)
	GenerateCredentialReport(context.Context, *iam.GenerateCredentialReportInput, ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(context.Context, *iam.GetCredentialReportInput, ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
}

// STSAPI is the part of the STS client the audit uses.
type STSAPI interface {
	GetAccessKeyInfo(context.Context, *sts.GetAccessKeyInfoInput, ...func(*sts.Options)) (*sts.GetAccessKeyInfoOutput, error)
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Account is one audited account: the clients signed for it (the base
// credentials, or a role assumed with --assume-role).
type Account struct {
	Label      string // profile or role ARN, for messages
	IAM        IAMAPI
	STS        STSAPI
	S3         cloudtrail.S3API
	CloudTrail map[string]cloudtrail.LookupAPI // by Region, for --lookup-events
}

// Options say what to ask.
type Options struct {
	Accounts     []Account // none: only CloudTrail files are read
	CloudTrail   []string  // --cloudtrail paths or s3:// URLs
	LookupEvents bool
	// S3Only: the accounts' credentials only serve to read an S3 trail;
	// no IAM or STS question is asked.
	S3Only   bool
	Baseline time.Duration
	Workers  int
	Now      func() time.Time
}

// Investigator is the audit.Investigator for provider "aws".
type Investigator struct{ opts Options }

// New returns an investigator.
func New(opts Options) *Investigator {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Investigator{opts: opts}
}

// Name implements audit.Investigator.
func (*Investigator) Name() string { return "aws" }

// IsAccessKeyID says whether id looks like an AWS access key id.
func IsAccessKeyID(id string) bool {
	if len(id) != 20 || !(strings.HasPrefix(id, "AKIA") || strings.HasPrefix(id, "ASIA")) {
		return false
	}
	for _, c := range id[4:] {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Investigate implements audit.Investigator.
func (inv *Investigator) Investigate(ctx context.Context, keys []audit.Key) (map[string]audit.Evidence, []error) {
	out := map[string]audit.Evidence{}
	var errs []error
	var mine []audit.Key
	for _, k := range keys {
		if k.Provider == "aws" && IsAccessKeyID(k.KeyID) {
			mine = append(mine, k)
		}
	}
	if len(mine) == 0 {
		return out, nil
	}
	accts := make([]*account, len(inv.opts.Accounts))
	for i, a := range inv.opts.Accounts {
		if inv.opts.S3Only {
			accts[i] = &account{Account: a}
			continue
		}
		accts[i] = &account{Account: a}
		id, err := a.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: sts:GetCallerIdentity: %w", a.Label, clean(err)))
			continue
		}
		accts[i].id = aws.ToString(id.Account)
	}
	for _, k := range mine {
		if inv.opts.S3Only || len(accts) == 0 {
			out[k.Fingerprint] = audit.Evidence{}
			continue
		}
		out[k.Fingerprint] = inv.inspect(ctx, k, accts)
	}
	// Usage: one pass over every log for every key.
	if len(inv.opts.CloudTrail) > 0 || (inv.opts.LookupEvents && len(accts) > 0 && !inv.opts.S3Only) {
		usages := map[string]*audit.Usage{}
		for _, k := range mine {
			u := usages[k.KeyID]
			if u == nil {
				u = audit.NewUsage(k.LeakedAt, inv.opts.Baseline)
				usages[k.KeyID] = u
			}
			ev := out[k.Fingerprint]
			ev.Usage = u
			out[k.Fingerprint] = ev
		}
		errs = append(errs, inv.readTrails(ctx, usages, accts)...)
	}
	return out, errs
}

func (inv *Investigator) readTrails(ctx context.Context, usages map[string]*audit.Usage, accts []*account) []error {
	var errs []error
	tr := cloudtrail.NewTracker(usages)
	var inputs []cloudtrail.Input
	for _, spec := range inv.opts.CloudTrail {
		var s3c cloudtrail.S3API
		if strings.HasPrefix(spec, "s3://") {
			if len(accts) == 0 || accts[0].S3 == nil {
				errs = append(errs, fmt.Errorf("--cloudtrail %s: reading S3 needs AWS credentials (--aws, --profile or --assume-role)", spec))
				continue
			}
			s3c = accts[0].S3
		}
		in, err := cloudtrail.Inputs(ctx, spec, s3c)
		if err != nil {
			errs = append(errs, fmt.Errorf("--cloudtrail: %w", clean(err)))
		}
		inputs = append(inputs, in...)
	}
	if len(inputs) > 0 {
		errs = append(errs, cloudtrail.Read(ctx, tr, inputs, inv.opts.Workers)...)
	}
	if inv.opts.LookupEvents && !inv.opts.S3Only {
		for _, a := range accts {
			l := &cloudtrail.Lookup{Clients: a.CloudTrail, Start: inv.opts.Now().AddDate(0, 0, -90)}
			for _, err := range l.Read(ctx, tr) {
				errs = append(errs, fmt.Errorf("%s: %w", a.Label, clean(err)))
			}
		}
	}
	return errs
}

// account caches one account's inventory across keys.
type account struct {
	Account
	id        string
	listed    bool
	listErr   error
	keys      map[string]keyInfo
	users     map[string]iamtypes.User
	denied    map[string]error // ListAccessKeys refused, by user
	owners    map[string]*ownerInfo
	lastUsed  map[string]*iam.GetAccessKeyLastUsedOutput
	lastError map[string]error
}

type keyInfo struct {
	user    string
	status  string
	created time.Time
}

type ownerInfo struct {
	quarantined, admin bool
	tags               map[string]string
	errs               []string
}

// inventory lists every user and key of the account once.
func (a *account) inventory(ctx context.Context) {
	if a.listed {
		return
	}
	a.listed = true
	a.keys, a.users, a.denied = map[string]keyInfo{}, map[string]iamtypes.User{}, map[string]error{}
	p := iam.NewListUsersPaginator(a.IAM, &iam.ListUsersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			a.listErr = fmt.Errorf("iam:ListUsers: %w", clean(err))
			return
		}
		for _, u := range page.Users {
			a.users[aws.ToString(u.UserName)] = u
		}
	}
	for name := range a.users {
		kp := iam.NewListAccessKeysPaginator(a.IAM, &iam.ListAccessKeysInput{UserName: aws.String(name)})
		for kp.HasMorePages() {
			page, err := kp.NextPage(ctx)
			if err != nil {
				a.denied[name] = fmt.Errorf("iam:ListAccessKeys for %s: %w", name, clean(err))
				break
			}
			for _, k := range page.AccessKeyMetadata {
				a.keys[aws.ToString(k.AccessKeyId)] = keyInfo{user: name, status: strings.ToLower(string(k.Status)), created: aws.ToTime(k.CreateDate)}
			}
		}
	}
}

// owner reads a user's attached policies and tags once.
func (a *account) owner(ctx context.Context, user string) *ownerInfo {
	if a.owners == nil {
		a.owners = map[string]*ownerInfo{}
	}
	if o := a.owners[user]; o != nil {
		return o
	}
	o := &ownerInfo{tags: map[string]string{}}
	a.owners[user] = o
	p := iam.NewListAttachedUserPoliciesPaginator(a.IAM, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			o.errs = append(o.errs, fmt.Sprintf("iam:ListAttachedUserPolicies for %s: %v", user, clean(err)))
			break
		}
		for _, pol := range page.AttachedPolicies {
			name := aws.ToString(pol.PolicyName)
			if strings.HasPrefix(name, "AWSCompromisedKeyQuarantine") {
				o.quarantined = true
			}
			if adminPolicies[name] && strings.HasPrefix(aws.ToString(pol.PolicyArn), "arn:aws:iam::aws:policy/") {
				o.admin = true
			}
		}
	}
	tp := iam.NewListUserTagsPaginator(a.IAM, &iam.ListUserTagsInput{UserName: aws.String(user)})
	for tp.HasMorePages() {
		page, err := tp.NextPage(ctx)
		if err != nil {
			o.errs = append(o.errs, fmt.Sprintf("iam:ListUserTags for %s: %v", user, clean(err)))
			break
		}
		for _, t := range page.Tags {
			o.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return o
}

// adminPolicies are AWS-managed policies that give the account away
// (IAMFullAccess can grant itself anything).
var adminPolicies = map[string]bool{"AdministratorAccess": true, "IAMFullAccess": true}

// inspect gathers one key's evidence from the first account that holds it.
func (inv *Investigator) inspect(ctx context.Context, k audit.Key, accts []*account) audit.Evidence {
	ev := audit.Evidence{Status: audit.StatusUnknown}
	var keyAcct string
	if len(accts) > 0 {
		out, err := accts[0].STS.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(k.KeyID)})
		if err != nil {
			ev.Errors = append(ev.Errors, "sts:GetAccessKeyInfo: "+clean(err).Error())
		} else {
			keyAcct = aws.ToString(out.Account)
			ev.AccountID = keyAcct
		}
	}
	if strings.HasPrefix(k.KeyID, "ASIA") {
		if len(accts) > 0 {
			ev.Errors = append(ev.Errors, "a temporary (ASIA) key has no IAM record; only CloudTrail shows its use")
		}
		return ev
	}
	var candidates []*account
	for _, a := range accts {
		if a.id != "" && (keyAcct == "" || a.id == keyAcct) {
			candidates = append(candidates, a)
		}
	}
	if len(candidates) == 0 {
		if keyAcct != "" {
			var ids []string
			for _, a := range accts {
				if a.id != "" {
					ids = append(ids, a.id)
				}
			}
			sort.Strings(ids)
			ev.Errors = append(ev.Errors, fmt.Sprintf("the key belongs to account %s, which is not audited (audited: %s); add --assume-role with a role in that account",
				keyAcct, strings.Join(ids, ", ")))
		}
		return ev
	}
	for _, a := range candidates {
		if found := inv.inAccount(ctx, k, a, &ev); found {
			break
		}
	}
	return ev
}

// inAccount fills ev from account a; false when a does not hold the key
// (and another candidate should be asked).
func (inv *Investigator) inAccount(ctx context.Context, k audit.Key, a *account, ev *audit.Evidence) bool {
	ev.AccountID = a.id
	var owner string
	lu, err := a.IAM.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(k.KeyID)})
	switch {
	case err == nil:
		owner = aws.ToString(lu.UserName)
		if l := lu.AccessKeyLastUsed; l != nil && l.LastUsedDate != nil {
			t := aws.ToTime(l.LastUsedDate)
			ev.LastUsedAt, ev.LastUsedService, ev.LastUsedRegion = &t, aws.ToString(l.ServiceName), aws.ToString(l.Region)
		}
	case errorCode(err) == "NoSuchEntity":
	default:
		ev.Errors = append(ev.Errors, "iam:GetAccessKeyLastUsed: "+clean(err).Error())
	}
	a.inventory(ctx)
	info, listed := a.keys[k.KeyID]
	switch {
	case listed:
		owner = info.user
		ev.Status = info.status
		c := info.created
		ev.CreatedAt = &c
	case a.listErr != nil:
		ev.Errors = append(ev.Errors, a.listErr.Error()+" (status unknown)")
	case owner != "" && a.denied[owner] != nil:
		ev.Errors = append(ev.Errors, a.denied[owner].Error()+" (status unknown)")
	case owner == "" && len(a.denied) > 0:
		ev.Errors = append(ev.Errors, fmt.Sprintf("iam:ListAccessKeys was refused for %d user(s), so the key may exist (status unknown)", len(a.denied)))
	case owner == "":
		ev.Status = audit.StatusDeleted
		return true
	default:
		// The owner is known but lists no such key: it was deleted.
		ev.Status = audit.StatusDeleted
	}
	if owner == "" {
		return true
	}
	if u, ok := a.users[owner]; ok {
		ev.Owner, ev.OwnerPath = aws.ToString(u.Arn), aws.ToString(u.Path)
	} else {
		ev.Owner = "arn:aws:iam::" + a.id + ":user/" + owner
	}
	o := a.owner(ctx, owner)
	ev.Quarantined, ev.Admin = o.quarantined, o.admin
	if len(o.tags) > 0 {
		ev.OwnerTags = o.tags
	}
	ev.Errors = append(ev.Errors, o.errs...)
	return true
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// clean shortens an SDK error to its operation and AWS error code and
// message: no request ids, no endpoints, never the credentials.
func clean(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Errorf("%s: %s", api.ErrorCode(), api.ErrorMessage())
	}
	return err
}
