package verify

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/sivchari/kumo"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/internal/fakes/awsfake"
)

func fakeAWSPair(r *rand.Rand) (id, secret string) {
	return "AKIA" + pick(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), pick(r, alnum+"/+", 40)
}

// The real SDK signs GetCallerIdentity with the found pair and kumo
// answers it; the request goes through the shared rate-limited client.
func TestAWSGetCallerIdentity(t *testing.T) {
	srv := kumo.NewServer()
	defer srv.Close()
	var mu sync.Mutex
	var seen []string
	target, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization")+" "+r.UserAgent())
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	defer front.Close()

	rng := rand.New(rand.NewPCG(7, 7))
	id, secret := fakeAWSPair(rng)
	v := New(Options{UserAgent: "keytrail/test", BaseURLs: map[string]string{"aws": front.URL}})
	keys := []audit.Key{
		{Fingerprint: "pair", RuleID: "aws-access-key-id", Provider: "aws", KeyID: id, Secret: id, PairSecret: secret},
		{Fingerprint: "pair-again", RuleID: "aws-access-key-id", Provider: "aws", KeyID: id, PairSecret: secret},
		{Fingerprint: "alone", RuleID: "aws-access-key-id", Provider: "aws", KeyID: id},
		{Fingerprint: "session", RuleID: "aws-access-key-id", Provider: "aws", KeyID: "ASIA" + id[4:], PairSecret: secret},
	}
	ev, _ := v.Investigate(context.Background(), keys)
	for _, fp := range []string{"pair", "pair-again"} {
		e := ev[fp]
		if e.Verified != Valid || e.AccountID != "000000000000" || e.Owner != "arn:aws:iam::000000000000:root" ||
			e.VerifyNote != "arn arn:aws:iam::000000000000:root; account 000000000000" {
			t.Errorf("%s: %+v", fp, e)
		}
	}
	if e := ev["alone"]; e.Verified != Unknown || !strings.Contains(e.VerifyNote, "paired with this key id") {
		t.Errorf("alone: %+v", e)
	}
	if e := ev["session"]; e.Verified != Unknown || !strings.Contains(e.VerifyNote, "session token") {
		t.Errorf("session: %+v", e)
	}
	if len(seen) != 1 {
		t.Fatalf("%d STS calls, want 1 for one distinct pair", len(seen))
	}
	if !strings.Contains(seen[0], "Credential="+id+"/") || !strings.Contains(seen[0], "app/keytrail-test") {
		t.Errorf("request not signed with the found key or without the user agent: %s", seen[0])
	}
	if strings.Contains(seen[0], secret) {
		t.Error("the secret went over the wire")
	}
}

// Through awsfake (kumo plus its front handler): a live IAM user key is
// valid and named by its ARN; the same key deactivated is invalid;
// throttling is an error. Each run calls STS once per distinct pair.
func TestAWSThroughEmulator(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(t)
	if err := fake.CreateUser(ctx, "verify-alice", "/ci/", nil); err != nil {
		t.Fatal(err)
	}
	id, secret, err := fake.CreateAccessKey(ctx, "verify-alice")
	if err != nil {
		t.Fatal(err)
	}
	key := audit.Key{Fingerprint: "k", RuleID: "aws-access-key-id", Provider: "aws", KeyID: id, PairSecret: secret}
	verifyOnce := func() Result {
		v := New(Options{UserAgent: "keytrail/test", BaseURLs: map[string]string{"aws": fake.URL}})
		r, _ := v.Verify(ctx, key)
		if strings.Contains(r.Note, secret) {
			t.Errorf("note holds the secret: %q", r.Note)
		}
		return r
	}

	wantArn := "arn:aws:iam::" + awsfake.AccountID + ":user/verify-alice"
	if r := verifyOnce(); r.Status != Valid || r.Owner != wantArn || r.AccountID != awsfake.AccountID {
		t.Errorf("active key: %+v, want valid as %s", r, wantArn)
	}
	fake.Inject(awsfake.Fault{Action: "GetCallerIdentity", Code: "Throttling", Times: 1})
	if r := verifyOnce(); r.Status != Error || !strings.Contains(r.Note, "throttled") {
		t.Errorf("throttled: %+v", r)
	}
	fake.SetKeyStatus(id, "Inactive")
	if r := verifyOnce(); r.Status != Invalid || !strings.Contains(r.Note, "unknown key id") {
		t.Errorf("inactive key: %+v", r)
	}
	if n := len(fake.Calls("GetCallerIdentity")); n != 3 {
		t.Errorf("%d GetCallerIdentity calls, want 3 (one per run)", n)
	}
}

func TestAWSFailureCodes(t *testing.T) {
	tests := []struct {
		code, status, note string
	}{
		{"InvalidClientTokenId", Invalid, "unknown key id"},
		{"SignatureDoesNotMatch", Invalid, "does not match"},
		{"ExpiredToken", Invalid, "expired"},
		{"Throttling", Error, "throttled"},
		{"SomethingNew", Unknown, "SomethingNew"},
	}
	for _, tc := range tests {
		r := awsFailure(&smithy.GenericAPIError{Code: tc.code, Message: "msg"})
		if r.Status != tc.status || !strings.Contains(r.Note, tc.note) {
			t.Errorf("%s: %+v, want %s with %q", tc.code, r, tc.status, tc.note)
		}
	}
	if r := awsFailure(errors.New("dial tcp: connection refused")); r.Status != Error {
		t.Errorf("transport failure: %+v", r)
	}
}
