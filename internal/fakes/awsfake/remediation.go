package awsfake

// What keytrail remediate needs beyond the audit's operations: key status
// enforcement on every signed request (an inactive or deleted key is
// refused, as AWS refuses it), last use recorded from real signed calls,
// CreateAccessKey answered here so the fake knows every secret it issued
// (tests grep journals for them) and can simulate IAM's eventual
// consistency, inline user policies (PutUserPolicy), and Secrets Manager
// staging labels (PutSecretValue as AWSPENDING, UpdateSecretVersionStage)
// which kumo lacks: its PutSecretValue always moves AWSCURRENT.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

type remState struct {
	once     sync.Once
	ksm      *secretsmanager.Client // kumo's Secrets Manager, bypassing the front
	issued   map[string]string      // key id -> secret, every key this fake made
	unknown  map[string]int         // key id -> signed requests still refused (propagation)
	delay    int
	inline   map[string]map[string]string // user -> policy name -> document
	pending  map[string]map[string]*pendingVersion
	refusals int
}

type pendingVersion struct {
	secret string
	stages []string
}

func (s *Server) rem() *remState {
	s.remS.once.Do(func() {
		s.remS.ksm = secretsmanager.New(secretsmanager.Options{Region: Region, BaseEndpoint: aws.String(s.Kumo.URL),
			Credentials: credentials.NewStaticCredentialsProvider(AuditorKeyID, AuditorSecret, ""), Retryer: aws.NopRetryer{}})
		s.remS.issued = map[string]string{}
		s.remS.unknown = map[string]int{}
		s.remS.inline = map[string]map[string]string{}
		s.remS.pending = map[string]map[string]*pendingVersion{}
	})
	return &s.remS
}

// IssuedSecrets returns every secret access key this fake has issued.
func (s *Server) IssuedSecrets() []string {
	r := s.rem()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(r.issued))
	for _, v := range r.issued {
		out = append(out, v)
	}
	return out
}

// SetPropagationDelay makes each new key refused (InvalidClientTokenId)
// for its first n signed requests, as IAM's eventual consistency can.
func (s *Server) SetPropagationDelay(n int) {
	r := s.rem()
	s.mu.Lock()
	r.delay = n
	s.mu.Unlock()
}

// Refusals counts the requests refused because of their key's status.
func (s *Server) Refusals() int {
	r := s.rem()
	s.mu.Lock()
	defer s.mu.Unlock()
	return r.refusals
}

// UserPolicy returns an inline policy document ("" when absent).
func (s *Server) UserPolicy(user, name string) string {
	r := s.rem()
	s.mu.Lock()
	defer s.mu.Unlock()
	return r.inline[user][name]
}

func (s *Server) noteIssued(id, secret string) {
	r := s.rem()
	s.mu.Lock()
	r.issued[id] = secret
	if r.delay > 0 {
		r.unknown[id] = r.delay
	}
	s.mu.Unlock()
}

// enforce refuses a request signed with a key this fake issued (or
// seeded) that is inactive, deleted or not yet propagated, and records
// the use of an active one. It reports whether it answered.
func (s *Server) enforce(w http.ResponseWriter, r *http.Request, svc, region string) bool {
	id := caller(r.Header.Get("Authorization"))
	if id == "" || id == AuditorKeyID {
		return false
	}
	rs := s.rem()
	s.mu.Lock()
	_, issued := rs.issued[id]
	st := s.keys[id]
	left := rs.unknown[id]
	if left > 0 {
		rs.unknown[id] = left - 1
	}
	s.mu.Unlock()
	if !issued && st == nil {
		return false // a key the fake knows nothing of (other tests' callers)
	}
	_, k, ok, err := s.findKey(r.Context(), id)
	if err != nil {
		return false
	}
	if !ok || k.Status != iamtypes.StatusTypeActive || left > 0 {
		s.mu.Lock()
		rs.refusals++
		s.mu.Unlock()
		if r.Header.Get("X-Amz-Target") != "" {
			writeJSONError(w, http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
		} else {
			writeQueryError(w, http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
		}
		return true
	}
	s.SetKeyLastUsed(id, s.clock(), svc, region)
	return false
}

func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

func (s *Server) remHandler(svc, action string) handlerFunc {
	switch svc {
	case "iam", "":
		switch action {
		case "CreateAccessKey":
			return s.createAccessKey
		case "PutUserPolicy":
			return s.putUserPolicy
		case "ListUserPolicies":
			return s.listUserPolicies
		case "DeleteUserPolicy":
			return s.deleteUserPolicy
		}
	case "secretsmanager":
		switch action {
		case "PutSecretValue":
			return s.putSecretValue
		case "GetSecretValue":
			return s.getSecretValue
		case "UpdateSecretVersionStage":
			return s.updateSecretVersionStage
		}
	}
	return nil
}

func (s *Server) createAccessKey(w http.ResponseWriter, r *http.Request, req *request) {
	user := req.params.Get("UserName")
	out, err := s.kiam.CreateAccessKey(r.Context(), &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		kumoErr(w, err)
		return
	}
	k := out.AccessKey
	s.noteIssued(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey))
	writeResult(w, "CreateAccessKey", iamNS, fmt.Sprintf("<AccessKey><UserName>%s</UserName><AccessKeyId>%s</AccessKeyId><Status>Active</Status><SecretAccessKey>%s</SecretAccessKey><CreateDate>%s</CreateDate></AccessKey>",
		esc(user), esc(aws.ToString(k.AccessKeyId)), esc(aws.ToString(k.SecretAccessKey)), ts(aws.ToTime(k.CreateDate))))
}

func (s *Server) putUserPolicy(w http.ResponseWriter, r *http.Request, req *request) {
	user, name, doc := req.params.Get("UserName"), req.params.Get("PolicyName"), req.params.Get("PolicyDocument")
	if !s.userExists(r.Context(), w, user) {
		return
	}
	if name == "" || !json.Valid([]byte(doc)) {
		writeQueryError(w, http.StatusBadRequest, "MalformedPolicyDocument", "The policy document is not valid JSON.")
		return
	}
	rs := s.rem()
	s.mu.Lock()
	if rs.inline[user] == nil {
		rs.inline[user] = map[string]string{}
	}
	rs.inline[user][name] = doc
	s.mu.Unlock()
	writeResult(w, "PutUserPolicy", iamNS, "")
}

func (s *Server) listUserPolicies(w http.ResponseWriter, r *http.Request, req *request) {
	user := req.params.Get("UserName")
	if !s.userExists(r.Context(), w, user) {
		return
	}
	rs := s.rem()
	s.mu.Lock()
	var names []string
	for n := range rs.inline[user] {
		names = append(names, n)
	}
	s.mu.Unlock()
	var b strings.Builder
	b.WriteString("<PolicyNames>")
	for _, n := range names {
		b.WriteString("<member>" + esc(n) + "</member>")
	}
	b.WriteString("</PolicyNames><IsTruncated>false</IsTruncated>")
	writeResult(w, "ListUserPolicies", iamNS, b.String())
}

func (s *Server) deleteUserPolicy(w http.ResponseWriter, r *http.Request, req *request) {
	user, name := req.params.Get("UserName"), req.params.Get("PolicyName")
	rs := s.rem()
	s.mu.Lock()
	_, ok := rs.inline[user][name]
	delete(rs.inline[user], name)
	s.mu.Unlock()
	if !ok {
		writeQueryError(w, http.StatusNotFound, "NoSuchEntity", "The user policy with name "+name+" cannot be found.")
		return
	}
	writeResult(w, "DeleteUserPolicy", iamNS, "")
}

// Secrets Manager staging. kumo keeps the versions labelled AWSCURRENT
// and AWSPREVIOUS; the front keeps versions written with other labels
// (AWSPENDING) until UpdateSecretVersionStage makes one current, which it
// does by writing it to kumo under the same version id.

type smRequest struct {
	SecretID            string   `json:"SecretId"`
	ClientRequestToken  string   `json:"ClientRequestToken"`
	SecretString        *string  `json:"SecretString"`
	VersionStages       []string `json:"VersionStages"`
	VersionID           string   `json:"VersionId"`
	VersionStage        string   `json:"VersionStage"`
	MoveToVersionID     string   `json:"MoveToVersionId"`
	RemoveFromVersionID string   `json:"RemoveFromVersionId"`
}

func smJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) smCurrent(r *http.Request, id string) (*secretsmanager.GetSecretValueOutput, error) {
	return s.rem().ksm.GetSecretValue(r.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
}

func smErr(w http.ResponseWriter, err error) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		writeJSONError(w, http.StatusBadRequest, ae.ErrorCode(), ae.ErrorMessage())
		return
	}
	writeJSONError(w, http.StatusInternalServerError, "InternalServiceError", err.Error())
}

func (s *Server) putSecretValue(w http.ResponseWriter, r *http.Request, req *request) {
	var in smRequest
	if err := json.Unmarshal(req.body, &in); err != nil || in.SecretString == nil {
		writeJSONError(w, http.StatusBadRequest, "InvalidParameterException", "SecretString is required")
		return
	}
	current := len(in.VersionStages) == 0
	for _, st := range in.VersionStages {
		current = current || st == "AWSCURRENT"
	}
	if current {
		s.proxyBody(w, r, req.body)
		return
	}
	cur, err := s.smCurrent(r, in.SecretID)
	if err != nil {
		smErr(w, err)
		return
	}
	rs := s.rem()
	s.mu.Lock()
	defer s.mu.Unlock()
	key := aws.ToString(cur.Name)
	if rs.pending[key] == nil {
		rs.pending[key] = map[string]*pendingVersion{}
	}
	if p, ok := rs.pending[key][in.ClientRequestToken]; ok && p.secret != *in.SecretString {
		writeJSONError(w, http.StatusBadRequest, "ResourceExistsException", "A version with this ClientRequestToken already exists with different content.")
		return
	}
	// A label is on one version at a time.
	for _, p := range rs.pending[key] {
		p.stages = without(p.stages, in.VersionStages)
	}
	rs.pending[key][in.ClientRequestToken] = &pendingVersion{secret: *in.SecretString, stages: in.VersionStages}
	smJSON(w, map[string]any{"ARN": aws.ToString(cur.ARN), "Name": key, "VersionId": in.ClientRequestToken, "VersionStages": in.VersionStages})
}

func without(have, drop []string) []string {
	var out []string
	for _, h := range have {
		keep := true
		for _, d := range drop {
			keep = keep && h != d
		}
		if keep {
			out = append(out, h)
		}
	}
	return out
}

func (s *Server) getSecretValue(w http.ResponseWriter, r *http.Request, req *request) {
	var in smRequest
	_ = json.Unmarshal(req.body, &in)
	if in.VersionStage == "AWSCURRENT" || (in.VersionStage == "" && in.VersionID == "") {
		s.proxyBody(w, r, req.body)
		return
	}
	rs := s.rem()
	s.mu.Lock()
	var found *pendingVersion
	var foundID, name string
	for n, vs := range rs.pending {
		if n != in.SecretID && !strings.HasSuffix(in.SecretID, ":secret:"+n) && !strings.Contains(in.SecretID, ":secret:"+n+"-") {
			continue
		}
		for id, p := range vs {
			if (in.VersionID != "" && id == in.VersionID) || (in.VersionID == "" && contains(p.stages, in.VersionStage)) {
				found, foundID, name = p, id, n
			}
		}
	}
	s.mu.Unlock()
	if found == nil {
		s.proxyBody(w, r, req.body)
		return
	}
	smJSON(w, map[string]any{"Name": name, "VersionId": foundID, "SecretString": found.secret, "VersionStages": found.stages})
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) updateSecretVersionStage(w http.ResponseWriter, r *http.Request, req *request) {
	var in smRequest
	if err := json.Unmarshal(req.body, &in); err != nil {
		writeJSONError(w, http.StatusBadRequest, "InvalidParameterException", "bad request")
		return
	}
	if in.VersionStage != "AWSCURRENT" || in.MoveToVersionID == "" {
		writeJSONError(w, http.StatusBadRequest, "InvalidParameterException", "this fake moves AWSCURRENT only, and needs MoveToVersionId")
		return
	}
	cur, err := s.smCurrent(r, in.SecretID)
	if err != nil {
		smErr(w, err)
		return
	}
	name := aws.ToString(cur.Name)
	if aws.ToString(cur.VersionId) == in.MoveToVersionID {
		smJSON(w, map[string]any{"ARN": aws.ToString(cur.ARN), "Name": name})
		return
	}
	if in.RemoveFromVersionID != aws.ToString(cur.VersionId) {
		writeJSONError(w, http.StatusBadRequest, "InvalidParameterException",
			fmt.Sprintf("The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", aws.ToString(cur.VersionId)))
		return
	}
	rs := s.rem()
	s.mu.Lock()
	p := rs.pending[name][in.MoveToVersionID]
	s.mu.Unlock()
	var value string
	if p != nil {
		value = p.secret
	} else {
		old, err := rs.ksm.GetSecretValue(r.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(in.SecretID), VersionId: aws.String(in.MoveToVersionID)})
		if err != nil {
			smErr(w, err)
			return
		}
		value = aws.ToString(old.SecretString)
	}
	// kumo moves AWSCURRENT to AWSPREVIOUS on the version that had it.
	if _, err := rs.ksm.PutSecretValue(r.Context(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(in.SecretID),
		ClientRequestToken: aws.String(in.MoveToVersionID), SecretString: aws.String(value), VersionStages: []string{"AWSCURRENT"}}); err != nil {
		smErr(w, err)
		return
	}
	s.mu.Lock()
	delete(rs.pending[name], in.MoveToVersionID)
	s.mu.Unlock()
	smJSON(w, map[string]any{"ARN": aws.ToString(cur.ARN), "Name": name})
}

// proxyBody sends a request whose body was read to kumo.
func (s *Server) proxyBody(w http.ResponseWriter, r *http.Request, body []byte) {
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	r.ContentLength = int64(len(body))
	s.proxy.ServeHTTP(w, r)
}
