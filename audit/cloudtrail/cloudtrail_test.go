package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/internal/fakes/awsfake"
)

const (
	keyA    = "AKIAQYLPMN5HAUDITA01"
	keyB    = "AKIAQYLPMN5HAUDITB02"
	other   = "AKIAQYLPMN5HOTHERC03"
	session = "ASIAQYLPMN5HSESSION1"
)

var leak = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func at(days int, hour int) time.Time {
	return leak.AddDate(0, 0, days).Add(time.Duration(hour) * time.Hour)
}

func use(key string, t time.Time, ip, region string) awsfake.Record {
	return awsfake.Use("alice", key, t, "s3.amazonaws.com", "ListBuckets", region, ip, "aws-cli/2.15")
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		n        int
		err      string
	}{
		{"empty", `{"Records":[]}`, 0, ""},
		{"two", `{"Records":[{"a":1},{"b":{"c":[1,2,{"d":"}"}]}}]}`, 2, ""},
		{"escapes and braces in strings", `{"Records":[{"a":"x\"}]{["},{"b":"\\"}]}` + "\n", 2, ""},
		{"whitespace", " {\n \"Records\" : [ {\"a\":1} ,\n {\"a\":2} ] }\n", 2, ""},
		{"other keys", `{"x":[1,{"y":"]"}],"Records":[{"a":1}],"z":"w"}`, 1, ""},
		{"truncated in record", `{"Records":[{"a":1},{"b":"xx`, 1, "unexpected end of file"},
		{"truncated after record", `{"Records":[{"a":1}`, 1, "unexpected end of file"},
		{"missing comma", `{"Records":[{"a":1}{"b":2}]}`, 1, "expected , or ]"},
		{"record not an object", `{"Records":[1]}`, 0, "not an object"},
		{"not an object", `[{"Records":[]}]`, 0, "expected '{'"},
		{"trailing garbage", `{"Records":[]}x`, 0, "after the end"},
		{"mismatched close", `{"Records":[{"a":[1}]}`, 0, "mismatched"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			err := Split(strings.NewReader(tc.in), func(rec []byte) error {
				if !json.Valid(rec) {
					t.Errorf("record %q is not valid JSON", rec)
				}
				n++
				return nil
			})
			if n != tc.n {
				t.Errorf("records = %d, want %d", n, tc.n)
			}
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
			if err != nil && !errors.Is(err, errBadJSON) {
				t.Errorf("err %v does not wrap errBadJSON", err)
			}
		})
	}
}

func TestParseRecordMint(t *testing.T) {
	r := awsfake.Minted(awsfake.Use("alice", keyA, at(1, 0), "sts.amazonaws.com", "GetSessionToken", "us-east-1", "203.0.113.5", "boto3"), session)
	b, _ := json.Marshal(r)
	rec, err := ParseRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if rec.MintedKeyID != session || rec.AccessKeyID != keyA || !rec.EventTime.Equal(at(1, 0)) || rec.SourceIP != "203.0.113.5" {
		t.Fatalf("%+v", rec)
	}
	// A failed STS call has null responseElements.
	r.ResponseElements = nil
	r.ErrorCode = "AccessDenied"
	b, _ = json.Marshal(r)
	if rec, err := ParseRecord(b); err != nil || rec.MintedKeyID != "" || rec.ErrorCode != "AccessDenied" {
		t.Fatalf("%+v %v", rec, err)
	}
	if _, err := ParseRecord([]byte(`{"eventTime":"yesterday"}`)); err == nil {
		t.Fatal("bad eventTime accepted")
	}
}

func usages() map[string]*audit.Usage {
	return map[string]*audit.Usage{keyA: audit.NewUsage(leak, 90*24*time.Hour), keyB: audit.NewUsage(leak, 90*24*time.Hour)}
}

// writeTree lays files out as CloudTrail delivers them. The session's
// use is in an earlier file than the record that minted it, so with one
// worker reading in order, the reader must go back for it.
func writeTree(t *testing.T, dir string) {
	t.Helper()
	base := filepath.Join(dir, "AWSLogs", awsfake.AccountID, "CloudTrail")
	f := func(region, day, name string, recs ...awsfake.Record) {
		if err := awsfake.WriteTrailFile(filepath.Join(base, region, "2026", "03", day, name), recs); err != nil {
			t.Fatal(err)
		}
	}
	sessUse := use(session, at(2, 1), "198.51.100.77", "eu-central-1")
	sessUse.UserIdentity.Type = "AssumedRole"
	f("eu-central-1", "01", "a_CloudTrail_eu-central-1_20260301T0000Z_1.json.gz", sessUse, use(other, at(0, 1), "192.0.2.1", "eu-central-1"))
	f("us-east-1", "01", "b_CloudTrail_us-east-1_20260301T0000Z_2.json.gz",
		use(keyA, at(-10, 0), "192.0.2.10", "us-east-1"),  // baseline
		use(keyA, at(1, 0), "192.0.2.10", "us-east-1"),    // after, known IP
		use(keyB, at(-200, 0), "192.0.2.99", "us-east-1"), // before the baseline window
	)
	denied := use(keyA, at(3, 0), "203.0.113.5", "us-east-1")
	denied.ErrorCode = "AccessDenied"
	f("us-east-1", "02", "c_CloudTrail_us-east-1_20260302T0000Z_3.json",
		awsfake.Minted(awsfake.Use("alice", keyA, at(2, 0), "sts.amazonaws.com", "GetSessionToken", "us-east-1", "203.0.113.5", "boto3"), session),
		denied)
	// Digest files are skipped even though they name the key.
	if err := awsfake.WriteTrailFile(filepath.Join(dir, "AWSLogs", awsfake.AccountID, "CloudTrail-Digest", "us-east-1", "d.json.gz"),
		[]awsfake.Record{use(keyA, at(5, 0), "203.0.113.200", "ap-south-1")}); err != nil {
		t.Fatal(err)
	}
}

func TestReadTree(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		dir := t.TempDir()
		writeTree(t, dir)
		in, err := Inputs(context.Background(), dir, nil)
		if err != nil || len(in) != 3 {
			t.Fatalf("inputs: %d %v", len(in), err)
		}
		u := usages()
		if errs := Read(context.Background(), NewTracker(u), in, workers); len(errs) != 0 {
			t.Fatalf("errors: %v", errs)
		}
		a := u[keyA].Summary()
		// after the leak: known-IP use, the mint, the denied call, the session's use.
		if a.EventsAfterLeak != 4 || a.AccessDeniedAfterLeak != 1 {
			t.Errorf("workers=%d: events %d denied %d", workers, a.EventsAfterLeak, a.AccessDeniedAfterLeak)
		}
		if strings.Join(a.NewSourceIPs, ",") != "198.51.100.77,203.0.113.5" || strings.Join(a.NewRegions, ",") != "eu-central-1" {
			t.Errorf("workers=%d: new IPs %v regions %v", workers, a.NewSourceIPs, a.NewRegions)
		}
		if len(a.Sessions) != 1 || a.Sessions[0].AccessKeyID != session || a.Sessions[0].Events != 1 || a.Sessions[0].Via != "GetSessionToken" {
			t.Errorf("workers=%d: sessions %+v", workers, a.Sessions)
		}
		if b := u[keyB].Summary(); b.EventsAfterLeak != 0 || len(b.NewSourceIPs) != 0 || b.LastUse == nil {
			t.Errorf("workers=%d: key B %+v", workers, b)
		}
	}
}

func TestReadDamagedFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := awsfake.WriteTrailFile(good, []awsfake.Record{use(keyA, at(1, 0), "192.0.2.1", "us-east-1")}); err != nil {
		t.Fatal(err)
	}
	// A gzip cut in half: the first records still count.
	var recs []awsfake.Record
	for i := 0; i < 2000; i++ {
		recs = append(recs, use(keyB, at(1, i%24), "192.0.2.2", "us-east-1"))
	}
	full := filepath.Join(dir, "full.json.gz")
	if err := awsfake.WriteTrailFile(full, recs); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(full)
	cut := filepath.Join(dir, "cut.json.gz")
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(full)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"Records":[{"eventTime":"2026-03-02T00:00:00Z","userIdentity":{"accessKeyId":"`+keyA+`"}} {`), 0o644)
	in, err := Inputs(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := usages()
	errs := Read(context.Background(), NewTracker(u), in, 2)
	if len(errs) != 2 {
		t.Fatalf("errors: %v", errs)
	}
	joined := errors.Join(errs...).Error()
	for _, want := range []string{cut, bad} {
		if !strings.Contains(joined, want) {
			t.Errorf("no error names %s: %s", want, joined)
		}
	}
	if n := u[keyA].Summary().EventsAfterLeak; n != 2 {
		t.Errorf("key A events = %d, want 2 (good file + the record before the damage)", n)
	}
	if n := u[keyB].Summary().EventsAfterLeak; n == 0 || n >= 2000 {
		t.Errorf("key B events from the cut gzip = %d, want some but not all", n)
	}
}

func TestReadS3(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(t)
	cl := s3.NewFromConfig(fake.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("org-trail")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeTree(t, dir)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		_, err = cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("org-trail"), Key: aws.String("logs/" + filepath.ToSlash(rel)), Body: bytes.NewReader(b)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	in, err := Inputs(ctx, "s3://org-trail/logs/AWSLogs/", cl)
	if err != nil || len(in) != 3 {
		t.Fatalf("inputs %d: %v", len(in), err)
	}
	u := usages()
	if errs := Read(ctx, NewTracker(u), in, 2); len(errs) != 0 {
		t.Fatal(errs)
	}
	if a := u[keyA].Summary(); a.EventsAfterLeak != 4 || len(a.Sessions) != 1 {
		t.Errorf("from S3: %+v", a)
	}
	if _, err := Inputs(ctx, "s3://no-such-bucket/x", cl); err == nil || !strings.Contains(err.Error(), "s3://no-such-bucket/x") {
		t.Errorf("missing bucket: %v", err)
	}
}

func TestLookupEvents(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(t)
	var recs []awsfake.Record
	for i := 0; i < 120; i++ { // three pages in us-east-1
		recs = append(recs, use(keyA, at(1, 0).Add(time.Duration(i)*time.Minute), "192.0.2.10", "us-east-1"))
	}
	recs = append(recs,
		use(keyA, at(-3, 0), "192.0.2.10", "us-east-1"),
		awsfake.Minted(awsfake.Use("alice", keyA, at(2, 0), "sts.amazonaws.com", "AssumeRole", "eu-west-1", "203.0.113.5", "boto3"), session),
		use(session, at(2, 1), "203.0.113.5", "eu-west-1"),
		use(other, at(2, 1), "203.0.113.6", "eu-west-1"))
	if err := fake.AddTrailEvents(recs...); err != nil {
		t.Fatal(err)
	}
	fake.Inject(awsfake.Fault{Action: "LookupEvents", Code: "ThrottlingException", Times: 2})
	clients := map[string]LookupAPI{}
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		cfg := fake.Config()
		cfg.Region = r
		cfg.Retryer = func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = time.Millisecond })
		}
		clients[r] = cloudtrail.NewFromConfig(cfg)
	}
	// Regions run side by side, each with its own budget; the fake
	// clock only advances when a bucket sleeps.
	var mu sync.Mutex
	var slept time.Duration
	clock := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	l := &Lookup{Clients: clients,
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return clock },
		Sleep: func(_ context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			slept += d
			clock = clock.Add(d)
			return nil
		}}
	u := usages()
	if errs := l.Read(ctx, NewTracker(u)); len(errs) != 0 {
		t.Fatal(errs)
	}
	a := u[keyA].Summary()
	if a.EventsAfterLeak != 122 || len(a.Sessions) != 1 || a.Sessions[0].Events != 1 || strings.Join(a.NewRegions, ",") != "eu-west-1" {
		t.Errorf("lookup: events %d sessions %+v regions %v", a.EventsAfterLeak, a.Sessions, a.NewRegions)
	}
	// Every (key, Region) pair was asked, sessions included; throttled
	// calls were retried.
	calls := len(fake.Calls("LookupEvents"))
	// keyA: 3 pages us-east-1 + 1 eu-west-1; keyB 1+1; session 1+1; plus
	// 2 throttled (the SDK may retry once more when the race detector
	// slows a response past its timeout).
	if calls < 10 || calls > 11 {
		t.Errorf("LookupEvents calls = %d, want 10", calls)
	}
	if slept < 500*time.Millisecond {
		t.Errorf("the 2 requests/s budget never waited (slept %v)", slept)
	}
}

func TestBucketSpacing(t *testing.T) {
	clock := time.Unix(0, 0)
	var waits []time.Duration
	b := &bucket{rate: 2, now: func() time.Time { return clock },
		sleep: func(_ context.Context, d time.Duration) error {
			waits = append(waits, d)
			clock = clock.Add(d)
			return nil
		}}
	for i := 0; i < 5; i++ {
		if err := b.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(waits) != 4 || clock.Sub(time.Unix(0, 0)) != 2*time.Second {
		t.Fatalf("waits %v, elapsed %v: want 4 waits of 500ms", waits, clock.Sub(time.Unix(0, 0)))
	}
}

func FuzzRecords(f *testing.F) {
	f.Add([]byte(`{"Records":[{"eventTime":"2026-03-01T00:00:00Z","userIdentity":{"accessKeyId":"AKIAQYLPMN5HAUDITA01"},"eventName":"GetSessionToken","responseElements":{"credentials":{"accessKeyId":"ASIAQYLPMN5HSESSION1"}}}]}`))
	f.Add([]byte(`{"Records":[{"a":"\"}"},{"b":[{}]}]}`))
	f.Add([]byte(`{"Records":[{"eventTime":"x","userIdentity":{"accessKeyId":"AKIAQYLPMN5HAUDITA01"}}`))
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(`{"Records":[{"userIdentity":{"accessKeyId":"AKIAQYLPMN5HAUDITA01"},"eventTime":"2026-03-02T00:00:00Z"}]}`))
	w.Close()
	f.Add(gz.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := Split(bytes.NewReader(data), func(rec []byte) error {
			n++
			if r, err := ParseRecord(rec); err == nil && r.EventTime.IsZero() {
				t.Fatalf("parsed a record without a time: %q", rec)
			}
			return nil
		})
		// Whatever encoding/json accepts as a delivery file, Split reads
		// with the same number of records.
		var doc struct{ Records []json.RawMessage }
		if json.Unmarshal(data, &doc) == nil && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) && doc.Records != nil {
			allObjects := true
			for _, r := range doc.Records {
				if len(r) == 0 || r[0] != '{' {
					allObjects = false
				}
			}
			if allObjects && bytes.Count(data, []byte(`"Records"`)) == 1 && (err != nil || n != len(doc.Records)) {
				t.Fatalf("valid file: split %d records, err %v; encoding/json %d", n, err, len(doc.Records))
			}
		}
		// And the reader never panics on it as a file.
		u := map[string]*audit.Usage{"AKIAQYLPMN5HAUDITA01": audit.NewUsage(leak, time.Hour)}
		_ = Read(context.Background(), NewTracker(u), []Input{{Name: "fuzz", Open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}}}, 1)
	})
}
