package githubsource

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// State is what incremental runs remember (--state FILE): per repository
// and ref, the last commit scanned, and the newest Actions run scanned.
type State struct {
	Version int                   `json:"version"`
	Repos   map[string]*RepoState `json:"repos"`
}

// RepoState is one repository's entry; keys of State.Repos are owner/name
// as GitHub spells them.
type RepoState struct {
	Refs       map[string]string `json:"refs"`
	LastRunID  int64             `json:"actions_last_run_id,omitempty"`
	ScannedAt  time.Time         `json:"scanned_at"`
	DefaultRef string            `json:"default_branch,omitempty"`
}

const stateVersion = 1

// LoadState reads a state file; a missing file is an empty state.
func LoadState(path string) (*State, error) {
	st := &State{Version: stateVersion, Repos: map[string]*RepoState{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading state %s: %w", path, err)
	}
	return parseState(path, data)
}

func parseState(path string, data []byte) (*State, error) {
	st := &State{Version: stateVersion, Repos: map[string]*RepoState{}}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("state %s is not a keytrail state file: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("state %s: version %d, want %d", path, st.Version, stateVersion)
	}
	if st.Repos == nil {
		st.Repos = map[string]*RepoState{}
	}
	for name, r := range st.Repos {
		if r == nil {
			return nil, fmt.Errorf("state %s: repository %q has no entry", path, name)
		}
		for ref, id := range r.Refs {
			if !isHexID(id) {
				return nil, fmt.Errorf("state %s: %s %s: %q is not a commit id", path, name, ref, id)
			}
		}
	}
	return st, nil
}

// Save writes the state atomically (a temporary file renamed over it), so
// a run killed half-way leaves the previous state intact.
func (s *State) Save(path string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keytrail-state-*")
	if err != nil {
		return fmt.Errorf("writing state %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing state %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing state %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing state %s: %w", path, err)
	}
	return nil
}

// scannedTips are the distinct commits a repository's state says were
// scanned, sorted.
func (r *RepoState) scannedTips() []string {
	if r == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, id := range r.Refs {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}
