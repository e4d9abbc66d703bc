// Command demogen builds keytrail's demo repository: a small git history
// with planted, obviously fake but format-exact keys (valid checksums where
// the format has one). Keys are generated from a fixed seed at build time
// so no key-shaped string is committed to keytrail's own repository.
//
//	go run ./testdata/demogen [-out testdata/demo-repo]
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/keytrail/keytrail/rules"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

type gen struct{ r *rand.Rand }

func (g gen) chars(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.Intn(len(alphabet))]
	}
	return string(b)
}

// crcToken makes a GitHub/npm style token: prefix + 30 base62 + CRC32.
func (g gen) crcToken(prefix string) string {
	body := g.chars(30, base62)
	return prefix + body + rules.Base62CRC32(body)
}

func main() {
	out := flag.String("out", "testdata/demo-repo", "directory to create (replaced if it exists)")
	flag.Parse()
	if err := build(*out); err != nil {
		fmt.Fprintln(os.Stderr, "demogen:", err)
		os.Exit(1)
	}
}

func build(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return err
	}
	g := gen{rand.New(rand.NewSource(20261126))}
	ghp := g.crcToken("ghp_")
	npm := g.crcToken("npm_")
	awsID := "AKIA" + g.chars(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
	awsSecret := g.chars(40, base62+"+/")
	slack := fmt.Sprintf("xoxb-%d-%d-%s", 1000000000+g.r.Intn(8999999999), 1000000000+g.r.Intn(8999999999), g.chars(24, base62))
	stripe := "sk_live_" + g.chars(99, base62)
	dbPass := g.chars(20, base62)
	key, err := ecdsa.GenerateKey(elliptic.P256(), g.r)
	if err != nil {
		return err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))

	when := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	commit := func(msg string, files map[string]string, remove ...string) error {
		for name, content := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				return err
			}
			if _, err := wt.Add(name); err != nil {
				return err
			}
		}
		for _, name := range remove {
			if _, err := wt.Remove(name); err != nil {
				return err
			}
		}
		when = when.Add(36 * time.Hour)
		sig := &object.Signature{Name: "Demo Developer", Email: "dev@demo.keytrail.invalid", When: when}
		_, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
		return err
	}
	steps := []struct {
		msg    string
		files  map[string]string
		remove []string
	}{
		{"Initial service skeleton", map[string]string{
			"README.md": "# payments-demo\n\nA demo service with planted FAKE keys for keytrail's demo.\n",
			"main.go":   "package main\n\nimport \"os\"\n\nfunc main() {\n\t_ = os.Getenv(\"API_TOKEN\") // read from the environment: fine\n}\n",
		}, nil},
		{"Add deploy config", map[string]string{
			".env":             "# FAKE demo values\nGITHUB_TOKEN=" + ghp + "\nDATABASE_URL=postgres://app:" + dbPass + "@db.internal:5432/app\n",
			"config/prod.yaml": "aws:\n  region: eu-west-1\n  aws_access_key_id: " + awsID + "\n  aws_secret_access_key: " + awsSecret + "\n",
		}, nil},
		{"Add release tooling", map[string]string{
			".npmrc":            "//registry.npmjs.org/:_authToken=" + npm + "\n",
			"scripts/notify.sh": "#!/bin/sh\ncurl -H \"Authorization: Bearer " + slack + "\" https://slack.com/api/chat.postMessage\n",
		}, nil},
		{"Add TLS key for local testing", map[string]string{"certs/dev.key": pemKey}, nil},
		{"Remove TLS key (oops)", nil, []string{"certs/dev.key"}},
		{"Billing client; temp key " + stripe, map[string]string{
			"billing/client.py": "import os\n\nSTRIPE_KEY = os.environ[\"STRIPE_KEY\"]\npassword = \"changeme\"  # placeholder, not a secret\n",
		}, nil},
	}
	for _, s := range steps {
		if err := commit(s.msg, s.files, s.remove...); err != nil {
			return fmt.Errorf("commit %q: %w", s.msg, err)
		}
	}
	fmt.Printf("demo repository with %d commits written to %s\n", len(steps), dir)
	fmt.Println("planted (all fake): " + strings.Join([]string{"GitHub PAT", "AWS key id + secret", "npm token", "Slack bot token", "Postgres URL password", "EC private key (deleted later)", "Stripe live key (commit message)"}, ", "))
	return nil
}
