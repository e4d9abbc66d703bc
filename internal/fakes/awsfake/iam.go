package awsfake

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

const (
	iamNS = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"
)

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// writeResult writes a query-protocol success response.
func writeResult(w http.ResponseWriter, action, ns, inner string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>fake-%d</RequestId></ResponseMetadata></%sResponse>`,
		action, ns, action, inner, action, time.Now().UnixNano(), action)
}

// writeQueryError writes a query-protocol error (IAM, STS).
func writeQueryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake</RequestId></ErrorResponse>`, esc(code), esc(msg))
}

// writeFault answers a scripted fault in the protocol of the call.
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, action, code string) {
	status := http.StatusBadRequest
	if strings.HasPrefix(code, "AccessDenied") || code == "UnauthorizedOperation" {
		status = http.StatusForbidden
	}
	msg := "Rate exceeded"
	if status == http.StatusForbidden {
		msg = fmt.Sprintf("User: arn:aws:iam::%s:user/auditor is not authorized to perform: %s", AccountID, action)
	}
	if r.Header.Get("X-Amz-Target") != "" {
		writeJSONError(w, status, code, msg)
		return
	}
	writeQueryError(w, status, code, msg)
}

// kumoErr forwards an error kumo returned in the query protocol.
func kumoErr(w http.ResponseWriter, err error) {
	var api smithy.APIError
	if errors.As(err, &api) {
		status := http.StatusBadRequest
		if api.ErrorCode() == "NoSuchEntity" {
			status = http.StatusNotFound
		}
		writeQueryError(w, status, api.ErrorCode(), api.ErrorMessage())
		return
	}
	writeQueryError(w, http.StatusInternalServerError, "ServiceFailure", err.Error())
}

// users lists the users created through this fake in name order (kumo
// lists a map, shared by every kumo server in the process).
func (s *Server) users(ctx context.Context) ([]iamtypes.User, error) {
	out, err := s.kiam.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(1000)})
	if err != nil {
		return nil, err
	}
	var u []iamtypes.User
	s.mu.Lock()
	for _, x := range out.Users {
		if s.owned[aws.ToString(x.UserName)] {
			u = append(u, x)
		}
	}
	s.mu.Unlock()
	sort.Slice(u, func(i, j int) bool { return aws.ToString(u[i].UserName) < aws.ToString(u[j].UserName) })
	return u, nil
}

// userKeys is kumo's keys of a user with the front's overrides applied,
// plus the keys seeded for that user, oldest first.
func (s *Server) userKeys(ctx context.Context, user string) ([]iamtypes.AccessKeyMetadata, error) {
	out, err := s.kiam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user), MaxItems: aws.Int32(1000)})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []iamtypes.AccessKeyMetadata
	for _, k := range out.AccessKeyMetadata {
		st := s.keys[aws.ToString(k.AccessKeyId)]
		if st != nil {
			if st.deleted {
				continue
			}
			if !st.created.IsZero() {
				k.CreateDate = aws.Time(st.created)
			}
			if st.status != "" {
				k.Status = iamtypes.StatusType(st.status)
			}
		}
		keys = append(keys, k)
	}
	for id, st := range s.keys {
		if st.seeded && !st.deleted && st.user == user {
			keys = append(keys, iamtypes.AccessKeyMetadata{AccessKeyId: aws.String(id), UserName: aws.String(user),
				Status: iamtypes.StatusType(st.status), CreateDate: aws.Time(st.created)})
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := aws.ToTime(keys[i].CreateDate), aws.ToTime(keys[j].CreateDate)
		if !a.Equal(b) {
			return a.Before(b)
		}
		return aws.ToString(keys[i].AccessKeyId) < aws.ToString(keys[j].AccessKeyId)
	})
	return keys, nil
}

// findKey returns the owner and metadata of a key the account holds.
func (s *Server) findKey(ctx context.Context, id string) (string, iamtypes.AccessKeyMetadata, bool, error) {
	s.mu.Lock()
	st := s.keys[id]
	s.mu.Unlock()
	users := []string{}
	if st != nil && st.seeded {
		users = append(users, st.user)
	} else {
		all, err := s.users(ctx)
		if err != nil {
			return "", iamtypes.AccessKeyMetadata{}, false, err
		}
		for _, u := range all {
			users = append(users, aws.ToString(u.UserName))
		}
	}
	for _, u := range users {
		keys, err := s.userKeys(ctx, u)
		if err != nil {
			continue
		}
		for _, k := range keys {
			if aws.ToString(k.AccessKeyId) == id {
				return u, k, true, nil
			}
		}
	}
	return "", iamtypes.AccessKeyMetadata{}, false, nil
}

// page applies IAM's Marker/MaxItems pagination to n items.
func page(r *request, n int) (start, end int, truncated bool, marker string) {
	start, _ = strconv.Atoi(r.params.Get("Marker"))
	max, _ := strconv.Atoi(r.params.Get("MaxItems"))
	if max <= 0 {
		max = 100
	}
	if start > n {
		start = n
	}
	end = start + max
	if end >= n {
		return start, n, false, ""
	}
	return start, end, true, strconv.Itoa(end)
}

func pageTail(truncated bool, marker string) string {
	if truncated {
		return "<IsTruncated>true</IsTruncated><Marker>" + marker + "</Marker>"
	}
	return "<IsTruncated>false</IsTruncated>"
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, req *request) {
	users, err := s.users(r.Context())
	if err != nil {
		kumoErr(w, err)
		return
	}
	if p := req.params.Get("PathPrefix"); p != "" {
		var kept []iamtypes.User
		for _, u := range users {
			if strings.HasPrefix(aws.ToString(u.Path), p) {
				kept = append(kept, u)
			}
		}
		users = kept
	}
	start, end, trunc, marker := page(req, len(users))
	var b strings.Builder
	b.WriteString("<Users>")
	for _, u := range users[start:end] {
		fmt.Fprintf(&b, "<member><Path>%s</Path><UserName>%s</UserName><UserId>%s</UserId><Arn>%s</Arn><CreateDate>%s</CreateDate></member>",
			esc(aws.ToString(u.Path)), esc(aws.ToString(u.UserName)), esc(aws.ToString(u.UserId)), esc(aws.ToString(u.Arn)), ts(aws.ToTime(u.CreateDate)))
	}
	b.WriteString("</Users>" + pageTail(trunc, marker))
	writeResult(w, "ListUsers", iamNS, b.String())
}

func (s *Server) listAccessKeys(w http.ResponseWriter, r *http.Request, req *request) {
	user := req.params.Get("UserName")
	if user == "" {
		// Without UserName AWS lists the caller's own keys.
		if u, _, ok, _ := s.findKey(r.Context(), req.caller); ok {
			user = u
		} else {
			writeQueryError(w, http.StatusBadRequest, "ValidationError", "UserName is required for this caller")
			return
		}
	}
	keys, err := s.userKeys(r.Context(), user)
	if err != nil {
		kumoErr(w, err)
		return
	}
	start, end, trunc, marker := page(req, len(keys))
	var b strings.Builder
	b.WriteString("<AccessKeyMetadata>")
	for _, k := range keys[start:end] {
		fmt.Fprintf(&b, "<member><UserName>%s</UserName><AccessKeyId>%s</AccessKeyId><Status>%s</Status><CreateDate>%s</CreateDate></member>",
			esc(user), esc(aws.ToString(k.AccessKeyId)), esc(string(k.Status)), ts(aws.ToTime(k.CreateDate)))
	}
	b.WriteString("</AccessKeyMetadata>" + pageTail(trunc, marker))
	writeResult(w, "ListAccessKeys", iamNS, b.String())
}

func (s *Server) getAccessKeyLastUsed(w http.ResponseWriter, r *http.Request, req *request) {
	id := req.params.Get("AccessKeyId")
	user, _, ok, err := s.findKey(r.Context(), id)
	if err != nil {
		kumoErr(w, err)
		return
	}
	if !ok {
		writeQueryError(w, http.StatusNotFound, "NoSuchEntity", "The Access Key with id "+id+" cannot be found.")
		return
	}
	s.mu.Lock()
	var lu *LastUse
	if st := s.keys[id]; st != nil && st.lastUsed != nil {
		c := *st.lastUsed
		lu = &c
	}
	s.mu.Unlock()
	inner := "<UserName>" + esc(user) + "</UserName><AccessKeyLastUsed>"
	if lu == nil {
		// Never used: AWS leaves the date out and says N/A.
		inner += "<ServiceName>N/A</ServiceName><Region>N/A</Region>"
	} else {
		inner += "<LastUsedDate>" + ts(lu.Time) + "</LastUsedDate><ServiceName>" + esc(lu.Service) + "</ServiceName><Region>" + esc(lu.Region) + "</Region>"
	}
	writeResult(w, "GetAccessKeyLastUsed", iamNS, inner+"</AccessKeyLastUsed>")
}

func (s *Server) updateAccessKey(w http.ResponseWriter, r *http.Request, req *request) {
	id, status := req.params.Get("AccessKeyId"), req.params.Get("Status")
	if status != "Active" && status != "Inactive" {
		writeQueryError(w, http.StatusBadRequest, "ValidationError", "Status must be Active or Inactive")
		return
	}
	user, _, ok, err := s.findKey(r.Context(), id)
	if err != nil {
		kumoErr(w, err)
		return
	}
	if !ok || (req.params.Get("UserName") != "" && req.params.Get("UserName") != user) {
		writeQueryError(w, http.StatusNotFound, "NoSuchEntity", "The Access Key with id "+id+" cannot be found.")
		return
	}
	s.SetKeyStatus(id, status)
	writeResult(w, "UpdateAccessKey", iamNS, "")
}

func (s *Server) deleteAccessKey(w http.ResponseWriter, r *http.Request, req *request) {
	id := req.params.Get("AccessKeyId")
	s.mu.Lock()
	st := s.keys[id]
	if st != nil && st.seeded && !st.deleted && (req.params.Get("UserName") == "" || req.params.Get("UserName") == st.user) {
		st.deleted = true
		s.mu.Unlock()
		writeResult(w, "DeleteAccessKey", iamNS, "")
		return
	}
	s.mu.Unlock()
	user := req.params.Get("UserName")
	if user == "" {
		if u, _, ok, _ := s.findKey(r.Context(), id); ok {
			user = u
		}
	}
	if _, err := s.kiam.DeleteAccessKey(r.Context(), &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(id)}); err != nil {
		kumoErr(w, err)
		return
	}
	writeResult(w, "DeleteAccessKey", iamNS, "")
}

func (s *Server) userExists(ctx context.Context, w http.ResponseWriter, user string) bool {
	if _, err := s.kiam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)}); err != nil {
		kumoErr(w, err)
		return false
	}
	return true
}

// AWS-managed policies live outside kumo's account, so the front keeps
// attachments itself.
func (s *Server) attachUserPolicy(w http.ResponseWriter, r *http.Request, req *request) {
	user := req.params.Get("UserName")
	if !s.userExists(r.Context(), w, user) {
		return
	}
	s.mu.Lock()
	s.attach(user, req.params.Get("PolicyArn"))
	s.mu.Unlock()
	writeResult(w, "AttachUserPolicy", iamNS, "")
}

func (s *Server) detachUserPolicy(w http.ResponseWriter, r *http.Request, req *request) {
	user, arn := req.params.Get("UserName"), req.params.Get("PolicyArn")
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.policies[user]
	for i, p := range ps {
		if aws.ToString(p.PolicyArn) == arn {
			s.policies[user] = append(ps[:i:i], ps[i+1:]...)
			writeResult(w, "DetachUserPolicy", iamNS, "")
			return
		}
	}
	writeQueryError(w, http.StatusNotFound, "NoSuchEntity", "Policy "+arn+" was not found.")
}

func (s *Server) listAttachedUserPolicies(w http.ResponseWriter, r *http.Request, req *request) {
	user := req.params.Get("UserName")
	if !s.userExists(r.Context(), w, user) {
		return
	}
	s.mu.Lock()
	ps := append([]iamtypes.AttachedPolicy(nil), s.policies[user]...)
	s.mu.Unlock()
	start, end, trunc, marker := page(req, len(ps))
	var b strings.Builder
	b.WriteString("<AttachedPolicies>")
	for _, p := range ps[start:end] {
		fmt.Fprintf(&b, "<member><PolicyName>%s</PolicyName><PolicyArn>%s</PolicyArn></member>", esc(aws.ToString(p.PolicyName)), esc(aws.ToString(p.PolicyArn)))
	}
	b.WriteString("</AttachedPolicies>" + pageTail(trunc, marker))
	writeResult(w, "ListAttachedUserPolicies", iamNS, b.String())
}

func (s *Server) listUserTags(w http.ResponseWriter, r *http.Request, req *request) {
	out, err := s.kiam.GetUser(r.Context(), &iam.GetUserInput{UserName: aws.String(req.params.Get("UserName"))})
	if err != nil {
		kumoErr(w, err)
		return
	}
	var b strings.Builder
	b.WriteString("<Tags>")
	for _, t := range out.User.Tags {
		fmt.Fprintf(&b, "<member><Key>%s</Key><Value>%s</Value></member>", esc(aws.ToString(t.Key)), esc(aws.ToString(t.Value)))
	}
	b.WriteString("</Tags><IsTruncated>false</IsTruncated>")
	writeResult(w, "ListUserTags", iamNS, b.String())
}

func (s *Server) generateCredentialReport(w http.ResponseWriter, _ *http.Request, _ *request) {
	s.mu.Lock()
	t := s.now()
	s.report = &t
	s.mu.Unlock()
	writeResult(w, "GenerateCredentialReport", iamNS, "<State>COMPLETE</State><Description>No report exists. Starting a new report generation task</Description>")
}

// getCredentialReport builds the CSV from the users, keys and root state
// as they are now (AWS caches it for 4 hours; tests don't need that).
func (s *Server) getCredentialReport(w http.ResponseWriter, r *http.Request, _ *request) {
	s.mu.Lock()
	gen, root := s.report, s.root
	s.mu.Unlock()
	if gen == nil {
		writeQueryError(w, http.StatusGone, "ReportNotPresent", "Credential report not present.")
		return
	}
	users, err := s.users(r.Context())
	if err != nil {
		kumoErr(w, err)
		return
	}
	na := func(t time.Time) string {
		if t.IsZero() {
			return "N/A"
		}
		return t.UTC().Format(time.RFC3339)
	}
	var csv strings.Builder
	csv.WriteString("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active," +
		"access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service," +
		"access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service," +
		"cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n")
	fmt.Fprintf(&csv, "<root_account>,arn:aws:iam::%s:root,2020-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,true,%t,%s,N/A,N/A,N/A,%t,%s,N/A,N/A,N/A,false,N/A,false,N/A\n",
		AccountID, root.Key1Active, na(root.Key1LastRotated), root.Key2Active, na(root.Key2LastRotated))
	for _, u := range users {
		name := aws.ToString(u.UserName)
		keys, err := s.userKeys(r.Context(), name)
		if err != nil {
			kumoErr(w, err)
			return
		}
		fmt.Fprintf(&csv, "%s,%s,%s,false,N/A,N/A,N/A,false", name, aws.ToString(u.Arn), na(aws.ToTime(u.CreateDate)))
		for i := 0; i < 2; i++ {
			if i >= len(keys) {
				csv.WriteString(",false,N/A,N/A,N/A,N/A")
				continue
			}
			k := keys[i]
			s.mu.Lock()
			var lu *LastUse
			if st := s.keys[aws.ToString(k.AccessKeyId)]; st != nil {
				lu = st.lastUsed
			}
			s.mu.Unlock()
			used, region, service := "N/A", "N/A", "N/A"
			if lu != nil {
				used, region, service = na(lu.Time), lu.Region, lu.Service
			}
			fmt.Fprintf(&csv, ",%t,%s,%s,%s,%s", k.Status == iamtypes.StatusTypeActive, na(aws.ToTime(k.CreateDate)), used, region, service)
		}
		csv.WriteString(",false,N/A,false,N/A\n")
	}
	writeResult(w, "GetCredentialReport", iamNS, "<Content>"+base64.StdEncoding.EncodeToString([]byte(csv.String()))+
		"</Content><ReportFormat>text/csv</ReportFormat><GeneratedTime>"+ts(*gen)+"</GeneratedTime>")
}

// getAccessKeyInfo answers for any key id: the fake's account for keys it
// holds, otherwise the account encoded in the id (as AWS does, it says
// nothing of the key's state).
func (s *Server) getAccessKeyInfo(w http.ResponseWriter, r *http.Request, req *request) {
	id := req.params.Get("AccessKeyId")
	if len(id) != 20 {
		writeQueryError(w, http.StatusBadRequest, "ValidationError", "1 validation error detected: Value at 'accessKeyId' failed to satisfy constraint")
		return
	}
	acct := AccountID
	if _, _, ok, _ := s.findKey(r.Context(), id); !ok {
		if a, ok := AccountFromKeyID(id); ok {
			acct = a
		}
	}
	writeResult(w, "GetAccessKeyInfo", stsNS, "<Account>"+acct+"</Account>")
}

// getCallerIdentity answers for the fake's own keys: an active key is
// its user, an inactive or deleted one is InvalidClientTokenId; any
// other caller is the account's auditor.
func (s *Server) getCallerIdentity(w http.ResponseWriter, r *http.Request, req *request) {
	user, k, ok, _ := s.findKey(r.Context(), req.caller)
	if !ok {
		// Any other caller (the auditor's fake credentials) is an admin
		// of this account; kumo would answer account 000000000000, which
		// its own IAM ARNs contradict.
		writeResult(w, "GetCallerIdentity", stsNS, fmt.Sprintf("<Arn>arn:aws:iam::%s:user/auditor</Arn><UserId>AIDAAUDITORFAKE00001</UserId><Account>%s</Account>", AccountID, AccountID))
		return
	}
	if k.Status != iamtypes.StatusTypeActive {
		writeQueryError(w, http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
		return
	}
	writeResult(w, "GetCallerIdentity", stsNS, fmt.Sprintf("<Arn>arn:aws:iam::%s:user/%s</Arn><UserId>AIDA%s</UserId><Account>%s</Account>",
		AccountID, esc(user), strings.ToUpper(fmt.Sprintf("%016x", len(user)))[:16], AccountID))
}

// AccountFromKeyID decodes the account id AWS encodes in newer access key
// ids (base32 of the 16 characters after the prefix; bits 7..46 of the
// first 6 bytes). It is undocumented: a hint, not a fact.
func AccountFromKeyID(id string) (string, bool) {
	if len(id) != 20 {
		return "", false
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var z uint64
	bits := 0
	for _, c := range id[4:] {
		v := strings.IndexRune(alphabet, c)
		if v < 0 {
			return "", false
		}
		if bits < 48 {
			z = z<<5 | uint64(v)
			bits += 5
		}
	}
	z >>= uint(bits - 48)
	return fmt.Sprintf("%012d", (z&0x7fffffffff80)>>7), true
}
