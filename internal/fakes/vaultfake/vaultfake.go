// Package vaultfake is an httptest fake of the HashiCorp Vault KV v2
// endpoints keytrail uses (read latest or a version, write with
// check-and-set), answering in Vault's documented JSON so the real
// github.com/hashicorp/vault/api client can be tested against it.
package vaultfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Token is the only token the fake accepts.
const Token = "fake-vault-token"

// Server is a running fake Vault.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	secrets map[string][]map[string]any // mount/path -> versions (index 0 = version 1)
	// BeforeWrite, when set, runs before each write is applied (with the
	// lock released): tests use it to write concurrently and so cause a
	// check-and-set conflict.
	BeforeWrite func(key string)
	Writes      int
}

// New starts a fake Vault with KV v2 mounted at the mounts given.
func New(mounts ...string) *Server {
	s := &Server{secrets: map[string][]map[string]any{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	_ = mounts
	return s
}

// Seed writes a version directly.
func (s *Server) Seed(mount, path string, data map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := mount + "/" + path
	s.secrets[k] = append(s.secrets[k], data)
}

// Latest returns the latest version's data and number.
func (s *Server) Latest(mount, path string) (map[string]any, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.secrets[mount+"/"+path]
	if len(v) == 0 {
		return nil, 0
	}
	return v[len(v)-1], len(v)
}

func writeErr(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"errors": []string{msg}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Vault-Token") != Token {
		writeErr(w, http.StatusForbidden, "permission denied")
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/v1/")
	mount, rest, ok := strings.Cut(p, "/data/")
	if !ok {
		writeErr(w, http.StatusNotFound, "no handler for route")
		return
	}
	key := mount + "/" + rest
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		vers := s.secrets[key]
		n := len(vers)
		if q := r.URL.Query().Get("version"); q != "" {
			n, _ = strconv.Atoi(q)
		}
		if n < 1 || n > len(vers) {
			s.mu.Unlock()
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"errors":[]}`))
			return
		}
		data := vers[n-1]
		s.mu.Unlock()
		writeJSON(w, map[string]any{"data": map[string]any{"data": data, "metadata": meta(n)}})
	case http.MethodPut, http.MethodPost:
		var body struct {
			Data    map[string]any `json:"data"`
			Options struct {
				CAS *int `json:"cas"`
			} `json:"options"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeErr(w, http.StatusBadRequest, "invalid request")
			return
		}
		if s.BeforeWrite != nil {
			s.BeforeWrite(key)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		vers := s.secrets[key]
		if body.Options.CAS != nil && *body.Options.CAS != len(vers) {
			writeErr(w, http.StatusBadRequest, "check-and-set parameter did not match the current version")
			return
		}
		s.secrets[key] = append(vers, body.Data)
		s.Writes++
		writeJSON(w, map[string]any{"data": meta(len(vers) + 1)})
	default:
		writeErr(w, http.StatusMethodNotAllowed, "unsupported operation")
	}
}

func meta(v int) map[string]any {
	return map[string]any{"version": v, "created_time": time.Now().UTC().Format(time.RFC3339Nano), "deletion_time": "", "destroyed": false, "custom_metadata": nil}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
