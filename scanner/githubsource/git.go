package githubsource

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// gitRunner runs git for clones and fetches. The token goes to git as an
// http.<url>.extraHeader set through GIT_CONFIG_COUNT/KEY/VALUE in the
// environment: never in argv (visible in ps), never in a URL (stored in
// the clone's config, printed in errors), and scoped to the clone host.
type gitRunner struct {
	token string
}

func (g *gitRunner) env(cloneURL string) ([]string, error) {
	env := append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GCM_INTERACTIVE=never")
	cfg := [][2]string{{"gc.auto", "0"}, {"core.askPass", ""}}
	if g.token != "" {
		u, err := url.Parse(cloneURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("clone URL %q is not a URL", cloneURL)
		}
		if u.User != nil {
			return nil, errors.New("clone URL carries credentials; refusing to use it")
		}
		scope := u.Scheme + "://" + u.Host + "/"
		basic := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + g.token))
		cfg = append(cfg, [2]string{"http." + scope + ".extraHeader", "Authorization: Basic " + basic})
	}
	env = append(env, "GIT_CONFIG_COUNT="+strconv.Itoa(len(cfg)))
	for i, kv := range cfg {
		env = append(env, "GIT_CONFIG_KEY_"+strconv.Itoa(i)+"="+kv[0], "GIT_CONFIG_VALUE_"+strconv.Itoa(i)+"="+kv[1])
	}
	return env, nil
}

// run runs git in dir; its error carries git's stderr, scrubbed.
func (g *gitRunner) run(ctx context.Context, dir, cloneURL string, args ...string) (string, error) {
	env, err := g.env(cloneURL)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if len(msg) > 2000 {
			msg = msg[len(msg)-2000:]
		}
		return "", fmt.Errorf("git %s: %v: %s", args[0], err, g.scrub(msg))
	}
	return out.String(), nil
}

// scrub removes the token (and its Basic form) from text, in case a
// misbehaving server echoes it back.
func (g *gitRunner) scrub(s string) string {
	if g.token == "" {
		return s
	}
	s = strings.ReplaceAll(s, g.token, "***")
	return strings.ReplaceAll(s, base64.StdEncoding.EncodeToString([]byte("x-access-token:"+g.token)), "***")
}

// mirror is a bare clone of one repository in the cache.
type mirror struct {
	dir  string
	repo Repo
	git  *gitRunner
}

// cachePath is where repo's bare clone lives under root.
func cachePath(root string, r Repo) string {
	host := "github"
	if u, err := url.Parse(r.CloneURL); err == nil && u.Host != "" {
		host = strings.NewReplacer(":", "_").Replace(u.Host)
	}
	return filepath.Join(root, host, filepath.FromSlash(strings.ToLower(r.FullName))+".git")
}

// sync makes the bare clone current: created on first use, otherwise
// fetched (only what changed travels). Branches and tags are mirrored and
// pruned; HEAD follows the default branch.
func (m *mirror) sync(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(m.dir, "HEAD")); err != nil {
		if err := os.MkdirAll(filepath.Dir(m.dir), 0o755); err != nil {
			return fmt.Errorf("creating cache directory: %w", err)
		}
		os.RemoveAll(m.dir)
		if _, err := m.git.run(ctx, filepath.Dir(m.dir), m.repo.CloneURL, "init", "-q", "--bare", m.dir); err != nil {
			return err
		}
		// Written directly: a git config process per line costs more
		// than the fetch of an unchanged repository.
		cfg := fmt.Sprintf("[remote \"origin\"]\n\turl = %s\n\tfetch = +refs/heads/*:refs/heads/*\n\tfetch = +refs/tags/*:refs/tags/*\n[gc]\n\tauto = 0\n", quoteConfig(m.repo.CloneURL))
		f, err := os.OpenFile(filepath.Join(m.dir, "config"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("configuring the clone: %w", err)
		}
		_, err = f.WriteString(cfg)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("configuring the clone: %w", err)
		}
	}
	if _, err := m.git.run(ctx, m.dir, m.repo.CloneURL, "fetch", "--quiet", "--prune", "--no-write-fetch-head", "origin"); err != nil {
		return fmt.Errorf("fetching %s: %w", m.repo.FullName, err)
	}
	if b := m.repo.DefaultBranch; b != "" && !strings.ContainsAny(b, "\n\x00") {
		// What git symbolic-ref writes, without the process.
		if err := os.WriteFile(filepath.Join(m.dir, "HEAD"), []byte("ref: refs/heads/"+b+"\n"), 0o644); err != nil {
			return fmt.Errorf("setting HEAD: %w", err)
		}
	}
	return nil
}

// quoteConfig quotes a value for a git config file.
func quoteConfig(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v) + `"`
}

// refs lists the clone's refs: name -> object id.
func (m *mirror) refs(ctx context.Context) (map[string]string, error) {
	out, err := m.git.run(ctx, m.dir, m.repo.CloneURL, "for-each-ref", "--format=%(objectname) %(refname)")
	if err != nil {
		return nil, fmt.Errorf("listing refs of %s: %w", m.repo.FullName, err)
	}
	refs := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if id, name, ok := strings.Cut(l, " "); ok {
			refs[name] = id
		}
	}
	return refs, nil
}

// has reports whether the clone holds commit id.
func (m *mirror) has(ctx context.Context, id string) bool {
	_, err := m.git.run(ctx, m.dir, m.repo.CloneURL, "cat-file", "-e", id+"^{commit}")
	return err == nil
}

// fetchCommit fetches one commit by id: a ref's old tip after a
// force-push, which a fresh clone lacks. GitHub serves unreachable commits
// until they are garbage-collected.
func (m *mirror) fetchCommit(ctx context.Context, id string) bool {
	if !isHexID(id) {
		return false
	}
	_, err := m.git.run(ctx, m.dir, m.repo.CloneURL, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "origin", id)
	return err == nil && m.has(ctx, id)
}

func isHexID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// isAncestor reports whether a is an ancestor of b.
func (m *mirror) isAncestor(ctx context.Context, a, b string) bool {
	_, err := m.git.run(ctx, m.dir, m.repo.CloneURL, "merge-base", "--is-ancestor", a, b)
	return err == nil
}
