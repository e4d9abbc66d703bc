package awsfake

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// Record is one CloudTrail record in the delivery format
// (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
type Record struct {
	EventVersion       string         `json:"eventVersion"`
	UserIdentity       UserIdentity   `json:"userIdentity"`
	EventTime          string         `json:"eventTime"` // UTC, 2006-01-02T15:04:05Z
	EventSource        string         `json:"eventSource"`
	EventName          string         `json:"eventName"`
	AWSRegion          string         `json:"awsRegion"`
	SourceIPAddress    string         `json:"sourceIPAddress"`
	UserAgent          string         `json:"userAgent"`
	ErrorCode          string         `json:"errorCode,omitempty"`
	ErrorMessage       string         `json:"errorMessage,omitempty"`
	RequestParameters  map[string]any `json:"requestParameters"`
	ResponseElements   map[string]any `json:"responseElements"`
	RequestID          string         `json:"requestID"`
	EventID            string         `json:"eventID"`
	ReadOnly           bool           `json:"readOnly"`
	EventType          string         `json:"eventType"`
	ManagementEvent    bool           `json:"managementEvent"`
	RecipientAccountID string         `json:"recipientAccountId"`
	EventCategory      string         `json:"eventCategory"`
}

// UserIdentity is a record's caller.
type UserIdentity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	AccessKeyID string `json:"accessKeyId"`
	UserName    string `json:"userName,omitempty"`
}

// Use builds a record of user's key calling eventSource/eventName at t
// from ip in region. Callers adjust the rest (ErrorCode, ResponseElements).
func Use(user, keyID string, t time.Time, source, name, region, ip, agent string) Record {
	return Record{
		EventVersion: "1.11",
		UserIdentity: UserIdentity{Type: "IAMUser", PrincipalID: "AIDAFAKEPRINCIPAL0001", ARN: "arn:aws:iam::" + AccountID + ":user/" + user,
			AccountID: AccountID, AccessKeyID: keyID, UserName: user},
		EventTime: t.UTC().Format("2006-01-02T15:04:05Z"), EventSource: source, EventName: name, AWSRegion: region,
		SourceIPAddress: ip, UserAgent: agent, RequestID: fmt.Sprintf("req-%d", t.UnixNano()),
		EventID: fmt.Sprintf("evt-%s-%d", keyID, t.UnixNano()), ReadOnly: true, EventType: "AwsApiCall",
		ManagementEvent: true, RecipientAccountID: AccountID, EventCategory: "Management",
	}
}

// Minted returns r as a call that minted temporary credentials sessionID
// (GetSessionToken, AssumeRole, GetFederationToken).
func Minted(r Record, sessionID string) Record {
	r.ReadOnly = false
	r.ResponseElements = map[string]any{"credentials": map[string]any{
		"accessKeyId": sessionID, "sessionToken": "<redacted>", "expiration": "Jan 1, 2030, 12:00:00 AM"}}
	return r
}

type storedEvent struct {
	rec  Record
	time time.Time
	raw  string
}

// AddTrailEvents seeds records LookupEvents returns, in each record's
// awsRegion.
func (s *Server) AddTrailEvents(recs ...Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		t, err := time.Parse(time.RFC3339, r.EventTime)
		if err != nil {
			return fmt.Errorf("record %s: eventTime %q: %w", r.EventID, r.EventTime, err)
		}
		raw, _ := json.Marshal(r)
		s.trail = append(s.trail, storedEvent{rec: r, time: t, raw: string(raw)})
	}
	sort.SliceStable(s.trail, func(i, j int) bool { return s.trail[i].time.After(s.trail[j].time) })
	return nil
}

// WriteTrailFile writes records as a CloudTrail delivery file
// {"Records":[...]}, gzip-compressed when the name ends in .gz.
func WriteTrailFile(path string, recs []Record) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var w io.Writer = f
	var gz *gzip.Writer
	if filepath.Ext(path) == ".gz" {
		gz = gzip.NewWriter(f)
		w = gz
	}
	if recs == nil {
		recs = []Record{}
	}
	err = json.NewEncoder(w).Encode(struct {
		Records []Record `json:"Records"`
	}{recs})
	if gz != nil {
		if cerr := gz.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

type lookupRequest struct {
	LookupAttributes []struct{ AttributeKey, AttributeValue string }
	StartTime        *float64
	EndTime          *float64
	MaxResults       int
	NextToken        string
}

// lookupEvents serves seeded records of the request's Region, newest
// first, filtered by one lookup attribute and the time range, 50 a page.
func (s *Server) lookupEvents(w http.ResponseWriter, _ *http.Request, req *request) {
	var in lookupRequest
	if err := json.Unmarshal(req.body, &in); err != nil {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", "invalid request body")
		return
	}
	if len(in.LookupAttributes) > 1 {
		writeJSONError(w, http.StatusBadRequest, "InvalidLookupAttributesException", "You cannot specify more than one lookup attribute")
		return
	}
	max := in.MaxResults
	if max <= 0 || max > 50 {
		max = 50
	}
	start, _ := strconv.Atoi(in.NextToken)
	s.mu.Lock()
	var match []storedEvent
	for _, e := range s.trail {
		if e.rec.AWSRegion != req.region {
			continue
		}
		if in.StartTime != nil && e.time.Before(time.Unix(int64(*in.StartTime), 0)) {
			continue
		}
		if in.EndTime != nil && e.time.After(time.Unix(int64(*in.EndTime), 0)) {
			continue
		}
		if len(in.LookupAttributes) == 1 && !attrMatch(e.rec, in.LookupAttributes[0].AttributeKey, in.LookupAttributes[0].AttributeValue) {
			continue
		}
		match = append(match, e)
	}
	s.mu.Unlock()
	if start > len(match) {
		start = len(match)
	}
	end := min(start+max, len(match))
	type event struct {
		EventId, EventName, ReadOnly, AccessKeyId, EventSource, Username, CloudTrailEvent string
		EventTime                                                                         float64
		Resources                                                                         []any
	}
	out := struct {
		Events    []event
		NextToken string `json:",omitempty"`
	}{Events: []event{}}
	for _, e := range match[start:end] {
		out.Events = append(out.Events, event{EventId: e.rec.EventID, EventName: e.rec.EventName, ReadOnly: strconv.FormatBool(e.rec.ReadOnly),
			AccessKeyId: e.rec.UserIdentity.AccessKeyID, EventSource: e.rec.EventSource, Username: e.rec.UserIdentity.UserName,
			CloudTrailEvent: e.raw, EventTime: float64(e.time.Unix()), Resources: []any{}})
	}
	if end < len(match) {
		out.NextToken = strconv.Itoa(end)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func attrMatch(r Record, key, value string) bool {
	switch key {
	case "AccessKeyId":
		return r.UserIdentity.AccessKeyID == value
	case "EventName":
		return r.EventName == value
	case "EventSource":
		return r.EventSource == value
	case "Username":
		return r.UserIdentity.UserName == value
	case "EventId":
		return r.EventID == value
	case "ReadOnly":
		return strconv.FormatBool(r.ReadOnly) == value
	}
	return false
}
