// Command genkeys plants format-exact fake secrets into a benchmark tree
// (see scripts/bench.sh). Tokens come from a fixed seed, so every run plants
// the same keys; the PEM key is read from a file made by openssl. It writes
// the planted files under -root and a manifest (JSON) listing each key, the
// file it is in and a needle a finding's secret must contain.
//
//	go run ./scripts/genkeys -root .bench/gosrc -pem .bench/ec.pem -manifest .bench/planted.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/keytrail/keytrail/rules"
)

const (
	base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	digits = "0123456789"
)

// Planted is one manifest entry.
type Planted struct {
	Kind   string `json:"kind"`
	File   string `json:"file"`   // relative to -root, slash-separated
	Needle string `json:"needle"` // a finding's secret must contain this
}

func main() {
	root := flag.String("root", "", "tree to plant files into")
	pemPath := flag.String("pem", "", "PEM EC private key (openssl ecparam -genkey -noout)")
	manifest := flag.String("manifest", "", "write the manifest here")
	seed := flag.Uint64("seed", 20260101, "PRNG seed")
	flag.Parse()
	if *root == "" || *pemPath == "" || *manifest == "" {
		flag.Usage()
		os.Exit(2)
	}
	pemData, err := os.ReadFile(*pemPath)
	if err != nil {
		fatal(err)
	}
	rng := rand.New(rand.NewPCG(*seed, *seed^0x9e3779b97f4a7c15))
	pick := func(alpha string, n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteByte(alpha[rng.IntN(len(alpha))])
		}
		return b.String()
	}

	body := pick(base62, 30)
	ghp := "ghp_" + body + rules.Base62CRC32(body)
	aws := "AKIA" + pick(base32, 16)
	slack := "xoxb-" + pick(digits, 12) + "-" + pick(digits, 13) + "-" + pick(base62, 24)
	stripe := "sk_live_" + pick(base62, 24)
	password := pick(base62, 20)

	pemText := strings.TrimSpace(string(pemData))
	pemLines := strings.Split(pemText, "\n")
	if len(pemLines) < 3 || !strings.Contains(pemLines[0], "EC PRIVATE KEY") {
		fatal(fmt.Errorf("%s: not a PEM EC private key", *pemPath))
	}

	const dir = "zz_keytrail_planted"
	files := map[string]string{
		dir + "/cloud/config.go": fmt.Sprintf(`package cloud

// Deploy settings (fake credentials planted for keytrail's benchmark).
const (
	githubToken = %q
	awsKeyID    = %q
)
`, ghp, aws),
		dir + "/chat/settings.yaml": fmt.Sprintf(`# notification settings (fake, planted for keytrail's benchmark)
slack:
  channel: "#deploys"
  bot_token: %s
billing:
  stripe_key: %s
`, slack, stripe),
		dir + "/db/db.properties": fmt.Sprintf(`# database (fake, planted for keytrail's benchmark)
db.host=db.internal
db_password = "%s"
`, password),
		dir + "/tls/server.key": pemText + "\n",
	}
	for rel, content := range files {
		p := filepath.Join(*root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			fatal(err)
		}
	}
	list := []Planted{
		{"github-pat", dir + "/cloud/config.go", ghp},
		{"aws-access-key-id", dir + "/cloud/config.go", aws},
		{"slack-bot-token", dir + "/chat/settings.yaml", slack},
		{"stripe-live-key", dir + "/chat/settings.yaml", stripe},
		{"generic-password", dir + "/db/db.properties", password},
		{"pem-ec-private-key", dir + "/tls/server.key", pemLines[1]},
	}
	out, _ := json.MarshalIndent(list, "", "  ")
	if err := os.WriteFile(*manifest, append(out, '\n'), 0o644); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "genkeys:", err)
	os.Exit(1)
}
