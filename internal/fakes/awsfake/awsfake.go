// Package awsfake runs kumo, the in-process AWS emulator, behind a small
// http.Handler that answers the IAM, STS and CloudTrail operations kumo
// lacks or gets wrong for keytrail (GetAccessKeyLastUsed, UpdateAccessKey,
// paginated ListUsers/ListAccessKeys, ListAttachedUserPolicies,
// ListUserTags, the credential report, GetAccessKeyInfo, LookupEvents)
// and reverse-proxies everything else (S3, IAM users, CreateAccessKey...)
// to kumo. Tests drive it through the real aws-sdk-go-v2 clients.
//
// Seeding helpers set what a test needs that no AWS API can set: a key's
// creation date and last use, AWS-managed policies on a user, CloudTrail
// records, root access keys. Faults script throttling and AccessDenied.
package awsfake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/sivchari/kumo"
)

// AccountID is the account kumo's IAM puts in every ARN.
const AccountID = "123456789012"

// Auditor credentials any client of the fake may sign with. They are
// obviously fake; kumo does not check signatures.
const (
	AuditorKeyID  = "AKIAAUDITORFAKE00001"
	AuditorSecret = "auditor/fake/secret/not/a/real/key/0000"
	Region        = "us-east-1"
)

// Server is kumo plus the front handler. URL is what BaseEndpoint or
// AWS_ENDPOINT_URL should point at.
type Server struct {
	URL   string
	Kumo  *kumo.Server
	front *httptest.Server
	proxy *httputil.ReverseProxy
	kiam  *iam.Client // talks to kumo directly, bypassing the front

	mu       sync.Mutex
	owned    map[string]bool                      // users created through this fake
	buckets  map[string]bool                      // buckets created through this fake
	keys     map[string]*keyState                 // by access key id: overrides and seeded keys
	policies map[string][]iamtypes.AttachedPolicy // by user name
	trail    []storedEvent
	faults   []*Fault
	calls    map[string][]time.Time
	root     RootKeys
	report   *time.Time // when GenerateCredentialReport last ran
	now      func() time.Time
	remS     remState // remediation's additions: remediation.go
}

// keyState is what the front knows about a key beyond kumo: a seeded key
// (one kumo never created, so a test can use a fixed id) or overrides of
// a kumo key's creation date and status, plus its last use.
type keyState struct {
	seeded   bool
	user     string
	status   string
	created  time.Time
	lastUsed *LastUse
	deleted  bool
}

// LastUse is what GetAccessKeyLastUsed reports.
type LastUse struct {
	Time    time.Time
	Service string
	Region  string
}

// RootKeys is the root account's access key state, reported only through
// the credential report's <root_account> row.
type RootKeys struct {
	Key1Active, Key2Active bool
	Key1LastRotated        time.Time
	Key2LastRotated        time.Time
}

// Fault makes matching calls fail with an AWS error code, e.g.
// {Action: "ListAccessKeys", Code: "Throttling", Times: 2} or
// {Action: "ListAttachedUserPolicies", Code: "AccessDenied",
// Match: map[string]string{"UserName": "bob"}}.
type Fault struct {
	Action string // operation name: ListAccessKeys, LookupEvents, GetAccessKeyInfo...
	Code   string // Throttling, ThrottlingException, AccessDenied, AccessDeniedException...
	// Times is how many matching calls fail; 0 means every one.
	Times int
	// Match, when set, restricts the fault to calls whose request
	// parameters hold these values (form fields for query-protocol
	// calls; for LookupEvents the lookup attribute, e.g. "AccessKeyId").
	Match map[string]string
	hits  int
}

// New starts the fake for a test and closes it when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := Start()
	tb.Cleanup(s.Close)
	return s
}

// Start starts the fake outside a test (the demo); call Close when done.
func Start() *Server {
	k := kumo.NewServer()
	target, _ := url.Parse(k.URL)
	s := &Server{
		Kumo:     k,
		proxy:    httputil.NewSingleHostReverseProxy(target),
		keys:     map[string]*keyState{},
		owned:    map[string]bool{},
		buckets:  map[string]bool{},
		policies: map[string][]iamtypes.AttachedPolicy{},
		calls:    map[string][]time.Time{},
		now:      time.Now,
	}
	s.kiam = iam.New(iam.Options{
		Region:       Region,
		BaseEndpoint: aws.String(k.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(AuditorKeyID, AuditorSecret, ""),
		Retryer:      aws.NopRetryer{},
	})
	s.front = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.front.URL
	return s
}

// Close stops the front and kumo. kumo keeps its state in process-wide
// storage shared by every kumo server, so Close first deletes the users,
// keys, objects and buckets created through this fake: sequential tests
// start clean. Tests running in parallel must use distinct user and
// bucket names.
func (s *Server) Close() {
	s.front.Close()
	ctx := context.Background()
	s.mu.Lock()
	users, buckets := keysOf(s.owned), keysOf(s.buckets)
	s.mu.Unlock()
	for _, u := range users {
		if out, err := s.kiam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(u)}); err == nil {
			for _, k := range out.AccessKeyMetadata {
				_, _ = s.kiam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(u), AccessKeyId: k.AccessKeyId})
			}
		}
		_, _ = s.kiam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(u)})
	}
	ks3 := s3.New(s3.Options{Region: Region, BaseEndpoint: aws.String(s.Kumo.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(AuditorKeyID, AuditorSecret, ""), Retryer: aws.NopRetryer{}})
	for _, b := range buckets {
		p := s3.NewListObjectsV2Paginator(ks3, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				break
			}
			for _, o := range out.Contents {
				_, _ = ks3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: o.Key})
			}
		}
		_, _ = ks3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
	}
	s.Kumo.Close()
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Config returns an aws.Config aimed at the fake, signed with the
// auditor's fake credentials, with the SDK's standard retryer.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(AuditorKeyID, AuditorSecret, ""),
	}
}

// Env returns the environment variables that aim a process using the
// standard credential chain at the fake.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.URL,
		"AWS_ACCESS_KEY_ID=" + AuditorKeyID,
		"AWS_SECRET_ACCESS_KEY=" + AuditorSecret,
		"AWS_REGION=" + Region,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Inject adds a fault. Faults are checked in the order they were added.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Calls returns when each call of action reached the front (faulted
// calls included), oldest first.
func (s *Server) Calls(action string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.calls[action]...)
}

// SetClock replaces the clock used for report times and call records.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// CreateUser creates an IAM user in kumo with a path ("" for "/") and tags.
func (s *Server) CreateUser(ctx context.Context, name, path string, tags map[string]string) error {
	in := &iam.CreateUserInput{UserName: aws.String(name)}
	if path != "" {
		in.Path = aws.String(path)
	}
	for k, v := range tags {
		in.Tags = append(in.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := s.kiam.CreateUser(ctx, in); err != nil {
		return fmt.Errorf("creating user %s: %w", name, err)
	}
	s.mu.Lock()
	s.owned[name] = true
	s.mu.Unlock()
	return nil
}

// CreateAccessKey has kumo mint a key for user; the secret is returned
// once, as AWS does.
func (s *Server) CreateAccessKey(ctx context.Context, user string) (id, secret string, err error) {
	out, err := s.kiam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		return "", "", fmt.Errorf("creating access key for %s: %w", user, err)
	}
	s.noteIssued(aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey))
	return aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey), nil
}

// AddAccessKey seeds a key with a fixed id (a leaked key from a test
// repository) for an existing user. status is "Active" or "Inactive".
func (s *Server) AddAccessKey(user, id string, created time.Time, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[id] = &keyState{seeded: true, user: user, status: status, created: created.UTC()}
}

// SetKeyCreated overrides a key's creation date (kumo stamps "now").
func (s *Server) SetKeyCreated(id string, created time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key(id).created = created.UTC()
}

// SetKeyStatus overrides a key's status ("Active" / "Inactive").
func (s *Server) SetKeyStatus(id, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key(id).status = status
}

// SetKeyLastUsed sets what GetAccessKeyLastUsed reports for a key.
func (s *Server) SetKeyLastUsed(id string, t time.Time, service, region string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key(id).lastUsed = &LastUse{Time: t.UTC(), Service: service, Region: region}
}

// KeyStatus returns the status the fake holds for a key it has overrides
// for or seeded ("" when it holds none).
func (s *Server) KeyStatus(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.keys[id]; k != nil {
		return k.status
	}
	return ""
}

func (s *Server) key(id string) *keyState {
	k := s.keys[id]
	if k == nil {
		k = &keyState{}
		s.keys[id] = k
	}
	return k
}

// AttachManagedPolicy attaches an AWS-managed policy by name
// (AWSCompromisedKeyQuarantineV2, AdministratorAccess, ...) to a user.
func (s *Server) AttachManagedPolicy(user, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attach(user, "arn:aws:iam::aws:policy/"+name)
}

func (s *Server) attach(user, arn string) {
	for _, p := range s.policies[user] {
		if aws.ToString(p.PolicyArn) == arn {
			return
		}
	}
	name := arn[strings.LastIndex(arn, "/")+1:]
	s.policies[user] = append(s.policies[user], iamtypes.AttachedPolicy{PolicyArn: aws.String(arn), PolicyName: aws.String(name)})
}

// SetRootKeys sets the root account's access keys for the credential report.
func (s *Server) SetRootKeys(r RootKeys) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.root = r
}

// serve dispatches a request: a fault, an operation the front answers,
// or the proxy to kumo.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	var (
		action string
		params url.Values
		body   []byte
	)
	ct := r.Header.Get("Content-Type")
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		t := r.Header.Get("X-Amz-Target")
		action = t[strings.LastIndex(t, ".")+1:]
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	case r.Method == http.MethodPost && strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		params, _ = url.ParseQuery(string(body))
		action = params.Get("Action")
	case r.URL.Query().Get("Action") != "":
		params = r.URL.Query()
		action = params.Get("Action")
	}
	svc, region := scope(r.Header.Get("Authorization"))
	if action != "" {
		s.mu.Lock()
		s.calls[action] = append(s.calls[action], s.now())
		s.mu.Unlock()
		if code, ok := s.fault(action, params, body); ok {
			s.writeFault(w, r, action, code)
			return
		}
	}
	if s.enforce(w, r, svc, region) {
		return
	}
	s.track(r, svc, action, params)
	if h := s.handler(svc, action); h != nil {
		h(w, r, &request{params: params, body: body, region: region, caller: caller(r.Header.Get("Authorization"))})
		return
	}
	if body != nil {
		r.ContentLength = int64(len(body))
	}
	s.proxy.ServeHTTP(w, r)
}

// track remembers users and buckets created through the front, so that
// listings show only this fake's and Close can remove them.
func (s *Server) track(r *http.Request, svc, action string, params url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case action == "CreateUser" && (svc == "iam" || svc == ""):
		s.owned[params.Get("UserName")] = true
	case svc == "s3" && r.Method == http.MethodPut && r.URL.RawQuery == "":
		if p := strings.Trim(r.URL.Path, "/"); p != "" && !strings.Contains(p, "/") {
			s.buckets[p] = true
		}
	}
}

type request struct {
	params url.Values
	body   []byte
	region string
	caller string // the signing access key id
}

type handlerFunc func(http.ResponseWriter, *http.Request, *request)

func (s *Server) handler(svc, action string) handlerFunc {
	if h := s.remHandler(svc, action); h != nil {
		return h
	}
	switch svc {
	case "sts":
		switch action {
		case "GetAccessKeyInfo":
			return s.getAccessKeyInfo
		case "GetCallerIdentity":
			return s.getCallerIdentity
		}
	case "cloudtrail":
		if action == "LookupEvents" {
			return s.lookupEvents
		}
	case "iam", "":
		switch action {
		case "ListUsers":
			return s.listUsers
		case "ListAccessKeys":
			return s.listAccessKeys
		case "GetAccessKeyLastUsed":
			return s.getAccessKeyLastUsed
		case "UpdateAccessKey":
			return s.updateAccessKey
		case "DeleteAccessKey":
			return s.deleteAccessKey
		case "AttachUserPolicy":
			return s.attachUserPolicy
		case "DetachUserPolicy":
			return s.detachUserPolicy
		case "ListAttachedUserPolicies":
			return s.listAttachedUserPolicies
		case "ListUserTags":
			return s.listUserTags
		case "GenerateCredentialReport":
			return s.generateCredentialReport
		case "GetCredentialReport":
			return s.getCredentialReport
		}
	}
	return nil
}

// fault returns the code of the first fault matching the call.
func (s *Server) fault(action string, params url.Values, body []byte) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Action != action || (f.Times > 0 && f.hits >= f.Times) {
			continue
		}
		if !matches(f.Match, params, body) {
			continue
		}
		f.hits++
		return f.Code, true
	}
	return "", false
}

func matches(want map[string]string, params url.Values, body []byte) bool {
	for k, v := range want {
		if params != nil {
			if params.Get(k) != v {
				return false
			}
			continue
		}
		// JSON protocols: a lookup attribute or a top-level string field.
		if !bytes.Contains(body, []byte(`"AttributeKey":"`+k+`","AttributeValue":"`+v+`"`)) &&
			!bytes.Contains(body, []byte(`"`+k+`":"`+v+`"`)) {
			return false
		}
	}
	return true
}

// scope reads the service and Region of a SigV4 Authorization header:
// Credential=AKID/date/region/service/aws4_request.
func scope(auth string) (svc, region string) {
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return "", ""
	}
	cred := auth[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return "", ""
	}
	return parts[3], parts[2]
}

func caller(auth string) string {
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return ""
	}
	cred := auth[i+len("Credential="):]
	if j := strings.IndexByte(cred, '/'); j >= 0 {
		return cred[:j]
	}
	return ""
}
