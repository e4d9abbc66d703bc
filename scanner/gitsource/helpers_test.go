package gitsource

import (
	"context"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/keytrail/keytrail/rules"
	"github.com/keytrail/keytrail/scanner"
)

var backends = []string{BackendGit, BackendGoGit}

// token returns a GitHub classic token with a valid checksum, unique per
// seed.
func token(seed string) string {
	const alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(seed))
	var b strings.Builder
	for i := 0; i < 30; i++ {
		b.WriteByte(alpha[int(sum[i])%62])
	}
	body := b.String()
	return "ghp_" + body + rules.Base62CRC32(body)
}

func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not on PATH")
	}
}

// repo is a git repository built for a test.
type repo struct {
	t    *testing.T
	dir  string
	tick int
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	needGit(t)
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

// git runs git in the repository with a fixed identity and clock, so
// commit ids are reproducible.
func (r *repo) git(args ...string) string {
	r.t.Helper()
	return gitIn(r.t, r.dir, &r.tick, args...)
}

func gitIn(t *testing.T, dir string, tick *int, args ...string) string {
	t.Helper()
	*tick++
	date := "2024-01-01T00:00:00Z"
	if *tick > 0 {
		date = "@" + itoa(1704067200+*tick*60) + " +0000"
	}
	cmd := exec.Command("git", append([]string{"-c", "protocol.file.allow=always", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Alice Example", "GIT_AUTHOR_EMAIL=alice@example.com",
		"GIT_COMMITTER_NAME=Alice Example", "GIT_COMMITTER_EMAIL=alice@example.com",
		"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date,
		"GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir(), "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func (r *repo) write(path, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// commit writes files (path -> content; "" deletes) and commits them.
func (r *repo) commit(msg string, files map[string]string) string {
	r.t.Helper()
	for p, c := range files {
		if c == "" {
			r.git("rm", "-q", "--", p)
			continue
		}
		r.write(p, c)
		r.git("add", "--", p)
	}
	r.git("commit", "-q", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

var builtin = sync.OnceValues(rules.Builtin)

func engine(t *testing.T, opts scanner.Options) *scanner.Engine {
	t.Helper()
	set, err := builtin()
	if err != nil {
		t.Fatal(err)
	}
	e, err := scanner.NewEngine(set, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// scan runs a source through the built-in rules.
func scan(t *testing.T, opts Options) (*scanner.Result, error) {
	t.Helper()
	return scanWith(t, opts, scanner.Options{MaxFileSize: opts.MaxBlobSize})
}

func scanWith(t *testing.T, opts Options, eo scanner.Options) (*scanner.Result, error) {
	t.Helper()
	src := New(opts)
	defer src.Close()
	s := &scanner.Scanner{Engine: engine(t, eo), Workers: 2}
	return s.Run(context.Background(), src)
}

func mustScan(t *testing.T, opts Options) *scanner.Result {
	t.Helper()
	res, err := scan(t, opts)
	if err != nil {
		t.Fatalf("scan %+v: %v", opts, err)
	}
	return res
}

// bySecret indexes findings by secret; a secret must appear once.
func bySecret(t *testing.T, fs []scanner.Finding) map[string]scanner.Finding {
	t.Helper()
	m := map[string]scanner.Finding{}
	for _, f := range fs {
		k := f.Secret
		if f.File == MessageFile {
			k = "msg:" + k
		}
		if _, dup := m[k]; dup {
			t.Errorf("secret reported twice (rule %s, file %s)", f.RuleID, f.File)
		}
		m[k] = f
	}
	return m
}
