package awsfake

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func fastRetry(o *retry.StandardOptions) { o.MaxBackoff = time.Millisecond }

func clients(s *Server) (*iam.Client, *sts.Client, *cloudtrail.Client, *s3.Client) {
	cfg := s.Config()
	cfg.Retryer = func() aws.Retryer { return retry.NewStandard(fastRetry) }
	return iam.NewFromConfig(cfg), sts.NewFromConfig(cfg), cloudtrail.NewFromConfig(cfg),
		s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func TestIAMInventory(t *testing.T) {
	ctx := context.Background()
	s := New(t)
	ic, _, _, _ := clients(s)
	for _, u := range []string{"carol", "alice", "bob"} {
		if err := s.CreateUser(ctx, u, "/prod/", map[string]string{"env": "prod-" + u}); err != nil {
			t.Fatal(err)
		}
	}
	// ListUsers pages in name order.
	var names []string
	p := iam.NewListUsersPaginator(ic, &iam.ListUsersInput{MaxItems: aws.Int32(1)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.UserName)+aws.ToString(u.Path))
		}
	}
	if got := strings.Join(names, ","); got != "alice/prod/,bob/prod/,carol/prod/" || pages != 3 {
		t.Fatalf("ListUsers pages=%d users=%s", pages, got)
	}

	id, secret, err := s.CreateAccessKey(ctx, "alice")
	if err != nil || len(id) != 20 || secret == "" {
		t.Fatalf("CreateAccessKey: %q %v", id, err)
	}
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	s.SetKeyCreated(id, created)
	s.AddAccessKey("alice", "AKIAQYLPMN5HFAKE0001", created.AddDate(0, 1, 0), "Inactive")

	var keys []string
	kp := iam.NewListAccessKeysPaginator(ic, &iam.ListAccessKeysInput{UserName: aws.String("alice"), MaxItems: aws.Int32(1)})
	for kp.HasMorePages() {
		out, err := kp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range out.AccessKeyMetadata {
			keys = append(keys, fmt.Sprintf("%s %s %s", aws.ToString(k.AccessKeyId), k.Status, aws.ToTime(k.CreateDate).Format(time.RFC3339)))
		}
	}
	want := []string{id + " Active 2025-01-02T03:04:05Z", "AKIAQYLPMN5HFAKE0001 Inactive 2025-02-02T03:04:05Z"}
	if strings.Join(keys, "|") != strings.Join(want, "|") {
		t.Fatalf("ListAccessKeys = %q, want %q", keys, want)
	}

	// Last use: never used, then seeded.
	lu, err := ic.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	if err != nil || aws.ToString(lu.UserName) != "alice" || lu.AccessKeyLastUsed.LastUsedDate != nil || aws.ToString(lu.AccessKeyLastUsed.ServiceName) != "N/A" {
		t.Fatalf("never used: %+v %v", lu, err)
	}
	used := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	s.SetKeyLastUsed(id, used, "s3", "eu-west-1")
	lu, err = ic.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	if err != nil || !aws.ToTime(lu.AccessKeyLastUsed.LastUsedDate).Equal(used) || aws.ToString(lu.AccessKeyLastUsed.Region) != "eu-west-1" {
		t.Fatalf("last used: %+v %v", lu, err)
	}
	if _, err := ic.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAQYLPMN5HNOTHERE1")}); code(err) != "NoSuchEntity" {
		t.Fatalf("unknown key: %v", err)
	}

	// UpdateAccessKey, then the caller identity of that key is refused.
	_, st, _, _ := clients(s)
	keyCfg := s.Config()
	keyCfg.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
	who, err := sts.NewFromConfig(keyCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:iam::"+AccountID+":user/alice" {
		t.Fatalf("GetCallerIdentity: %+v %v", who, err)
	}
	if _, err := ic.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(id), Status: "Inactive"}); err != nil {
		t.Fatal(err)
	}
	if s.KeyStatus(id) != "Inactive" {
		t.Fatalf("status after UpdateAccessKey: %q", s.KeyStatus(id))
	}
	if _, err := sts.NewFromConfig(keyCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); code(err) != "InvalidClientTokenId" {
		t.Fatalf("inactive key identity: %v", err)
	}

	// GetAccessKeyInfo: own keys, and the account encoded in foreign ids.
	for _, tc := range []struct{ id, acct string }{{id, AccountID}, {"AKIAQYLPMN5HFAKE0001", AccountID}, {"ASIAY34FZKBOKMUTVV7A", "609629065308"}} {
		out, err := st.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(tc.id)})
		if err != nil || aws.ToString(out.Account) != tc.acct {
			t.Errorf("GetAccessKeyInfo(%s) = %v, %v; want %s", tc.id, out, err, tc.acct)
		}
	}

	// Policies and tags.
	s.AttachManagedPolicy("alice", "AWSCompromisedKeyQuarantineV2")
	if _, err := ic.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		t.Fatal(err)
	}
	ap, err := ic.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("alice")})
	if err != nil || len(ap.AttachedPolicies) != 2 || aws.ToString(ap.AttachedPolicies[0].PolicyName) != "AWSCompromisedKeyQuarantineV2" ||
		aws.ToString(ap.AttachedPolicies[1].PolicyName) != "AdministratorAccess" {
		t.Fatalf("ListAttachedUserPolicies: %+v %v", ap, err)
	}
	tags, err := ic.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("bob")})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "prod-bob" {
		t.Fatalf("ListUserTags: %+v %v", tags, err)
	}
	if _, err := ic.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("nobody")}); code(err) != "NoSuchEntity" {
		t.Fatalf("tags of unknown user: %v", err)
	}
}

func TestCredentialReport(t *testing.T) {
	ctx := context.Background()
	s := New(t)
	ic, _, _, _ := clients(s)
	if _, err := ic.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}); code(err) != "ReportNotPresent" {
		t.Fatalf("before generation: %v", err)
	}
	if err := s.CreateUser(ctx, "dave", "", nil); err != nil {
		t.Fatal(err)
	}
	s.AddAccessKey("dave", "AKIAQYLPMN5HFAKE0002", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), "Active")
	s.SetRootKeys(RootKeys{Key1Active: true, Key1LastRotated: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)})
	g, err := ic.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil || g.State != "COMPLETE" {
		t.Fatalf("generate: %+v %v", g, err)
	}
	rep, err := ic.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(rep.Content))).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("report: %v %q", err, rep.Content)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if rows[1][0] != "<root_account>" || rows[1][col["access_key_1_active"]] != "true" || rows[1][col["access_key_2_active"]] != "false" {
		t.Errorf("root row: %q", rows[1])
	}
	if rows[2][0] != "dave" || rows[2][col["access_key_1_last_rotated"]] != "2024-05-01T00:00:00Z" || rows[2][col["access_key_1_last_used_date"]] != "N/A" {
		t.Errorf("dave row: %q", rows[2])
	}
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	s := New(t)
	ic, _, ct, _ := clients(s)
	for _, u := range []string{"alice", "bob"} {
		if err := s.CreateUser(ctx, u, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	// Two throttles are absorbed by the SDK's standard retryer.
	s.Inject(Fault{Action: "ListUsers", Code: "Throttling", Times: 2})
	if _, err := ic.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("throttled twice then ok: %v", err)
	}
	if n := len(s.Calls("ListUsers")); n != 3 {
		t.Fatalf("ListUsers calls = %d, want 3", n)
	}
	// AccessDenied for one user only.
	s.Inject(Fault{Action: "ListAttachedUserPolicies", Code: "AccessDenied", Match: map[string]string{"UserName": "bob"}})
	if _, err := ic.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("bob")}); code(err) != "AccessDenied" {
		t.Fatalf("bob: %v", err)
	}
	if _, err := ic.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("alice")}); err != nil {
		t.Fatalf("alice: %v", err)
	}
	// JSON protocol faults, matched on the lookup attribute.
	s.Inject(Fault{Action: "LookupEvents", Code: "AccessDeniedException", Match: map[string]string{"AccessKeyId": "AKIAQYLPMN5HFAKE0003"}})
	_, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: "AccessKeyId", AttributeValue: aws.String("AKIAQYLPMN5HFAKE0003")}}})
	if code(err) != "AccessDeniedException" {
		t.Fatalf("LookupEvents denied: %v", err)
	}
	s.Inject(Fault{Action: "LookupEvents", Code: "ThrottlingException", Times: 1})
	if _, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
		t.Fatalf("LookupEvents throttled once: %v", err)
	}
}

func TestLookupEvents(t *testing.T) {
	ctx := context.Background()
	s := New(t)
	_, _, ct, _ := clients(s)
	base := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	var recs []Record
	for i := 0; i < 60; i++ {
		recs = append(recs, Use("alice", "AKIAQYLPMN5HFAKE0004", base.Add(time.Duration(i)*time.Minute), "s3.amazonaws.com", "ListBuckets", "us-east-1", "198.51.100.7", "aws-cli/2"))
	}
	recs = append(recs, Use("alice", "AKIAQYLPMN5HFAKE0004", base, "ec2.amazonaws.com", "DescribeInstances", "eu-west-1", "203.0.113.9", "curl"),
		Use("bob", "AKIAQYLPMN5HFAKE0005", base, "s3.amazonaws.com", "ListBuckets", "us-east-1", "203.0.113.9", "curl"))
	if err := s.AddTrailEvents(recs...); err != nil {
		t.Fatal(err)
	}
	count := func(region, key string, start *time.Time) (int, int) {
		c := cloudtrail.NewFromConfig(s.Config(), func(o *cloudtrail.Options) { o.Region = region })
		in := &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: "AccessKeyId", AttributeValue: aws.String(key)}}, StartTime: start}
		p := cloudtrail.NewLookupEventsPaginator(c, in)
		n, pages := 0, 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, e := range out.Events {
				if aws.ToString(e.AccessKeyId) != key || !strings.Contains(aws.ToString(e.CloudTrailEvent), `"sourceIPAddress"`) {
					t.Fatalf("event %+v", e)
				}
				n++
			}
		}
		return n, pages
	}
	_ = ct
	if n, pages := count("us-east-1", "AKIAQYLPMN5HFAKE0004", nil); n != 60 || pages != 2 {
		t.Errorf("us-east-1: %d events in %d pages", n, pages)
	}
	if n, _ := count("eu-west-1", "AKIAQYLPMN5HFAKE0004", nil); n != 1 {
		t.Errorf("eu-west-1: %d", n)
	}
	st := base.Add(30 * time.Minute)
	if n, _ := count("us-east-1", "AKIAQYLPMN5HFAKE0004", &st); n != 30 {
		t.Errorf("since +30m: %d", n)
	}
}

func TestS3Proxied(t *testing.T) {
	ctx := context.Background()
	s := New(t)
	_, _, _, sc := clients(s)
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail")}); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("x", 100000)
	if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trail"), Key: aws.String("AWSLogs/1/CloudTrail/us-east-1/2026/01/01/a.json.gz"), Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	l, err := sc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("trail"), Prefix: aws.String("AWSLogs/")})
	if err != nil || len(l.Contents) != 1 {
		t.Fatalf("list: %+v %v", l, err)
	}
	g, err := sc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("trail"), Key: l.Contents[0].Key})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(g.Body)
	if string(b) != body {
		t.Fatalf("object body %d bytes", len(b))
	}
}

func TestAccountFromKeyID(t *testing.T) {
	for _, tc := range []struct {
		id, acct string
		ok       bool
	}{{"ASIAY34FZKBOKMUTVV7A", "609629065308", true}, {"AKIA1", "", false}, {"AKIA0000000000000000", "", false}} {
		got, ok := AccountFromKeyID(tc.id)
		if got != tc.acct || ok != tc.ok {
			t.Errorf("AccountFromKeyID(%s) = %s %v", tc.id, got, ok)
		}
	}
}

// kumo's storage is process-wide; Close removes what a fake created so
// the next test can reuse names.
func TestCloseCleansSharedKumo(t *testing.T) {
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		s := Start()
		if err := s.CreateUser(ctx, "zed", "", nil); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if _, _, err := s.CreateAccessKey(ctx, "zed"); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		_, _, _, sc := clients(s)
		if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("zed-bucket")}); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("zed-bucket"), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		s.Close()
	}
}
