// Package corpus generates keytrail's accuracy corpus: realistic files of
// many types with format-exact fake keys planted at known lines, and hard
// negatives (placeholders, templates, documented example keys, hashes,
// ids, checksum-invalid tokens) that must not be flagged. Everything is
// derived from a seed, so the corpus is reproducible and nothing in it is
// hand-pasted.
//
// The planted keys come from each built-in rule's own positive examples
// (format-exact by construction, since `go test ./rules` checks them),
// re-embedded into file templates; fresh keys for checksum formats are
// generated here. A planted line is only kept if the rule matches the
// line on its own, so the corpus tests the engine (prefilter, windows,
// decoding, deduplication, allowlists), not the rule regexes again.
package corpus

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/keytrail/keytrail/rules"
)

// Planted is a key the scan must find.
type Planted struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	RuleID  string `json:"rule_id"`
	Secret  string `json:"secret"`
	Decoded string `json:"decoded,omitempty"`
}

// Negative is a line the scan must not flag.
type Negative struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Kind string `json:"kind"`
}

// Manifest lists what was planted where.
type Manifest struct {
	Seed      int64      `json:"seed"`
	Positives []Planted  `json:"positives"`
	Negatives []Negative `json:"negatives"`
}

// file is a corpus file under construction.
type file struct {
	name  string
	lines []string
}

func (f *file) add(s string) int {
	n := len(f.lines) + 1 // line number of the first line of s
	f.lines = append(f.lines, strings.Split(s, "\n")...)
	return n
}

type gen struct {
	set   *rules.Set
	r     *rand.Rand
	files map[string]*file
	order []string
	m     Manifest
}

func (g *gen) file(name string) *file {
	if f, ok := g.files[name]; ok {
		return f
	}
	f := &file{name: name}
	g.files[name] = f
	g.order = append(g.order, name)
	return f
}

// filler writes a few harmless lines typical of the file's type.
func (g *gen) filler(f *file) {
	kind := kindOf(f.name)
	lines := fillers[kind]
	if len(lines) == 0 {
		lines = fillers["text"]
	}
	for n := g.r.Intn(4); n >= 0; n-- {
		f.add(lines[g.r.Intn(len(lines))])
	}
}

func kindOf(name string) string {
	switch {
	case strings.HasSuffix(name, ".env"):
		return "env"
	case strings.HasSuffix(name, ".yaml"), strings.HasSuffix(name, ".yml"):
		return "yaml"
	case strings.HasSuffix(name, ".json"):
		return "json"
	case strings.HasSuffix(name, ".py"):
		return "python"
	case strings.HasSuffix(name, ".go"):
		return "go"
	case strings.HasSuffix(name, ".js"):
		return "js"
	case strings.HasSuffix(name, ".properties"):
		return "properties"
	case strings.HasSuffix(name, ".sh"):
		return "shell"
	case strings.HasSuffix(name, "Dockerfile"):
		return "docker"
	case strings.HasSuffix(name, ".tf"):
		return "terraform"
	case strings.HasSuffix(name, ".md"):
		return "markdown"
	case strings.HasSuffix(name, ".jsonl"):
		return "jsonlog"
	case strings.HasSuffix(name, ".log"):
		return "log"
	}
	return "text"
}

var fillers = map[string][]string{
	"env":        {"# service settings", "LOG_LEVEL=info", "PORT=8080", "FEATURE_FLAGS=beta,search", "TZ=UTC"},
	"yaml":       {"# settings", "replicas: 3", "image: registry.example.test/app:1.4.2", "logLevel: info", "timeoutSeconds: 30"},
	"json":       {`  "name": "demo-service",`, `  "version": "1.4.2",`, `  "port": 8080,`, `  "debug": false,`},
	"python":     {"import os", "def handler(event, context):", "    return {\"statusCode\": 200}", "TIMEOUT = 30", "# TODO: retries"},
	"go":         {"// Package config holds settings.", "var timeout = 30 * time.Second", "func init() {}", "type Config struct{ Port int }"},
	"js":         {"const port = 8080;", "module.exports = {};", "// retry with backoff", "let retries = 3;"},
	"properties": {"# application", "server.port=8080", "logging.level.root=INFO", "spring.application.name=demo"},
	"shell":      {"#!/bin/sh", "set -eu", "echo \"deploying\"", "cd \"$(dirname \"$0\")\""},
	"docker":     {"FROM golang:1.26 AS build", "WORKDIR /src", "COPY . .", "RUN go build ./...", "EXPOSE 8080"},
	"terraform":  {"terraform {", "}", `  region = "eu-west-1"`, "# managed by terraform", `  instance_type = "t3.micro"`},
	"markdown":   {"# Setup", "Run `make` to build.", "", "See the docs for details."},
	"jsonlog":    {`{"ts":"2026-03-01T10:00:00Z","level":"info","msg":"request served","status":200}`, `{"ts":"2026-03-01T10:00:01Z","level":"info","msg":"cache hit"}`},
	"log":        {"2026-03-01T10:00:00Z INFO request served status=200", "2026-03-01T10:00:01Z WARN slow query took=812ms", "2026-03-01T10:00:02Z INFO cache hit"},
	"text":       {"notes", "", "misc"},
}

// templates render a secret into a line of each file kind; name is a
// variable name derived from the rule.
var templates = []struct {
	file string
	line func(name, secret string) string
}{
	{"config/app.env", func(n, s string) string { return strings.ToUpper(n) + "=" + s }},
	{"deploy/values.yaml", func(n, s string) string { return "  " + n + ": " + s }},
	{"config/settings.json", func(n, s string) string { return `  "` + n + `": "` + s + `",` }},
	{"app/settings.py", func(n, s string) string { return strings.ToUpper(n) + ` = "` + s + `"` }},
	{"internal/config/keys.go", func(n, s string) string { return "\t" + n + ` = "` + s + `"` }},
	{"web/config.js", func(n, s string) string { return "const " + n + " = '" + s + "';" }},
	{"src/main/resources/application.properties", func(n, s string) string { return strings.ReplaceAll(n, "_", ".") + "=" + s }},
	{"scripts/deploy.sh", func(n, s string) string { return "export " + strings.ToUpper(n) + `="` + s + `"` }},
	{"Dockerfile", func(n, s string) string { return "ENV " + strings.ToUpper(n) + "=" + s }},
	{"infra/main.tf", func(n, s string) string { return "  " + n + ` = "` + s + `"` }},
	{"docs/setup.md", func(n, s string) string { return "Set `" + strings.ToUpper(n) + "` to `" + s + "` before running." }},
	{"logs/app.jsonl", func(n, s string) string {
		return `{"ts":"2026-03-01T10:00:03Z","level":"debug","` + n + `":"` + s + `"}`
	}},
	{"logs/app.log", func(n, s string) string { return "2026-03-01T10:00:04Z DEBUG config " + n + "=" + s }},
}

// varName builds a variable name the rule's context would expect.
func varName(r *rules.Rule) string {
	k := strings.Trim(r.Keywords[0], "_-.:/ ")
	var b strings.Builder
	for _, c := range strings.ToLower(k) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String() + "_api_key"
}

// Generate writes the corpus into dir and returns its manifest.
func Generate(dir string, seed int64) (*Manifest, error) {
	set, err := rules.Builtin()
	if err != nil {
		return nil, err
	}
	g := &gen{set: set, r: rand.New(rand.NewSource(seed)), files: map[string]*file{}, m: Manifest{Seed: seed}}
	for _, r := range set.Rules {
		if r.Generic {
			continue
		}
		g.plantRule(r)
	}
	g.plantGenerated()
	g.plantK8sSecret(set)
	g.plantNegatives()
	if err := g.write(dir); err != nil {
		return nil, err
	}
	return &g.m, nil
}

// exampleSecret returns the (first) secret the rule finds in an example.
func exampleSecret(r *rules.Rule, ex string) (string, bool) {
	ms := r.FindAll([]byte(ex), false)
	if len(ms) == 0 {
		return "", false
	}
	return ms[0].Secret, true
}

// matchesAlone reports whether the rule finds exactly secret in line, and
// whether the engine would try it there: the line must hold one of the
// rule's keywords (a keyword like "exa_api" is not in "exa.api.key=...").
func matchesAlone(r *rules.Rule, line, secret string) bool {
	lower := strings.ToLower(line)
	if !slices.ContainsFunc(r.Keywords, func(k string) bool { return strings.Contains(lower, k) }) {
		return false
	}
	for _, m := range r.FindAll([]byte(line), false) {
		if m.Secret == secret {
			return true
		}
	}
	return false
}

func (g *gen) plantRule(r *rules.Rule) {
	for i, ex := range r.Examples {
		if i >= 2 {
			break
		}
		secret, ok := exampleSecret(r, ex)
		if !ok || strings.Contains(secret, "\n") {
			// Multi-line secrets (PEM blocks) go in verbatim.
			if ok {
				g.plantVerbatim(r, ex)
			}
			continue
		}
		placed := false
		for _, ti := range g.r.Perm(len(templates)) {
			t := templates[ti]
			line := t.line(varName(r), secret)
			if !matchesAlone(r, line, secret) {
				continue
			}
			f := g.file(t.file)
			g.filler(f)
			n := f.add(line)
			g.m.Positives = append(g.m.Positives, Planted{File: t.file, Line: n, RuleID: r.ID, Secret: secret})
			placed = true
			break
		}
		if !placed {
			g.plantVerbatim(r, ex)
		}
	}
}

// plantVerbatim embeds the rule's example as written, in a notes file.
func (g *gen) plantVerbatim(r *rules.Rule, ex string) {
	name := "notes/" + strings.SplitN(r.ID, "-", 2)[0] + ".txt"
	f := g.file(name)
	g.filler(f)
	f.add("")
	n := f.add(ex)
	// An example may hold several secrets (an .edgerc credential set),
	// some of other rules' formats: each is planted.
	for _, other := range g.set.Rules {
		if other.Generic {
			continue
		}
		for _, m := range other.FindAll([]byte(ex), false) {
			g.m.Positives = append(g.m.Positives, Planted{File: name, Line: n + strings.Count(ex[:m.SecretStart], "\n"), RuleID: other.ID, Secret: m.Secret})
		}
	}
	f.add("")
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func (g *gen) chars(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.Intn(len(alphabet))]
	}
	return string(b)
}

// crcToken is a GitHub/npm style token with a valid checksum.
func (g *gen) crcToken(prefix string) string {
	body := g.chars(30, base62)
	return prefix + body + rules.Base62CRC32(body)
}

// plantGenerated adds fresh keys of the checksum formats.
func (g *gen) plantGenerated() {
	for i := 0; i < 5; i++ {
		for _, p := range []struct{ prefix, rule, file, name string }{
			{"ghp_", "github-pat", ".github/workflows/release.yaml", "      GH_TOKEN"},
			{"npm_", "npm-access-token", ".npmrc", "//registry.npmjs.org/:_authToken"},
		} {
			tok := g.crcToken(p.prefix)
			f := g.file(p.file)
			g.filler(f)
			sep := "="
			if strings.HasSuffix(p.file, ".yaml") {
				sep = ": "
			}
			n := f.add(p.name + sep + tok)
			g.m.Positives = append(g.m.Positives, Planted{File: p.file, Line: n, RuleID: p.rule, Secret: tok})
		}
	}
}

// plantK8sSecret puts prefix-format keys base64-encoded into a Kubernetes
// Secret manifest: they must be found through decoding.
func (g *gen) plantK8sSecret(set *rules.Set) {
	name := "k8s/secret.yaml"
	f := g.file(name)
	f.add("apiVersion: v1")
	f.add("kind: Secret")
	f.add("metadata:")
	f.add("  name: app-credentials")
	f.add("type: Opaque")
	f.add("data:")
	for _, id := range []string{"github-pat", "slack-bot-token", "stripe-live-secret-key", "anthropic-api-key", "openai-project-key", "gitlab-pat"} {
		r := set.ByID(id)
		if r == nil || len(r.Examples) == 0 {
			continue
		}
		secret, ok := exampleSecret(r, r.Examples[0])
		if !ok || !matchesAlone(r, secret, secret) {
			continue
		}
		n := f.add("  " + strings.ReplaceAll(id, "-", "_") + ": " + base64.StdEncoding.EncodeToString([]byte(secret)))
		g.m.Positives = append(g.m.Positives, Planted{File: name, Line: n, RuleID: id, Secret: secret, Decoded: "base64"})
	}
}

func (g *gen) neg(name, kind, line string) {
	f := g.file(name)
	g.filler(f)
	n := f.add(line)
	g.m.Negatives = append(g.m.Negatives, Negative{File: name, Line: n, Kind: kind})
}

func (g *gen) hex(n int) string { return g.chars(n, "0123456789abcdef") }

// plantNegatives adds the hard negatives: things that look like secrets
// to a careless scanner.
func (g *gen) plantNegatives() {
	uuid := func() string {
		h := g.hex(32)
		return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
	}
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString([]byte(g.chars(n, base62))) }
	for _, c := range []struct{ file, kind, line string }{
		{"negatives/placeholders.env", "placeholder", "API_KEY=xxxxxxxxxxxxxxxxxxxxxxxx"},
		{"negatives/placeholders.env", "placeholder", "DB_PASSWORD=changeme"},
		{"negatives/placeholders.env", "placeholder", "GITHUB_TOKEN=<token>"},
		{"negatives/placeholders.env", "placeholder", "SECRET_KEY=your-secret-key-here"},
		{"negatives/templates.yaml", "template", "  password: ${DB_PASSWORD}"},
		{"negatives/templates.yaml", "template", "  apiKey: {{ .Values.apiKey }}"},
		{"negatives/templates.yaml", "template", "  token: \"{{ secrets.GITHUB_TOKEN }}\""},
		{"negatives/templates.py", "template", `DSN = "postgres://%(user)s:%(password)s@%(host)s/db"`},
		{"negatives/templates.py", "template", `SECRET_KEY = os.environ["SECRET_KEY"]`},
		{"negatives/env.go", "env lookup", `	apiToken := os.Getenv("API_TOKEN")`},
		{"negatives/env.js", "env lookup", `const secret = process.env.CLIENT_SECRET;`},
		{"negatives/docs.md", "documented example", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"},
		{"negatives/docs.md", "documented example", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		{"negatives/hashes.txt", "git sha", "commit_token = " + g.hex(40)},
		{"negatives/hashes.txt", "sha256", `secret_digest = "` + g.hex(64) + `"`},
		{"negatives/hashes.txt", "sha512", `token_checksum: ` + g.hex(128)},
		{"negatives/ids.json", "uuid", `  "apiKeyId": "` + uuid() + `",`},
		{"negatives/ids.json", "uuid", `  "client_secret_id": "` + uuid() + `",`},
		{"negatives/package-lock.json", "npm integrity", `      "integrity": "sha512-` + b64(48) + `"`},
		{"negatives/go.sum", "go.sum hash", "github.com/acme/lib v1.2.3 h1:" + b64(24)},
		{"negatives/image.css", "base64 image", `.logo { background: url("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="); }`},
		{"negatives/invalid.env", "bad checksum", "GITHUB_TOKEN=" + g.badCRC("ghp_")},
		{"negatives/invalid.env", "bad checksum", "NPM_TOKEN=" + g.badCRC("npm_")},
		{"negatives/invalid.env", "bad checksum", "GH_PAT=" + g.badCRC("ghp_")},
		{"negatives/code.go", "identifier", `	tokenSecretHeaderName := "X-Token-Secret-Header"`},
		{"negatives/code.py", "attribute", `password = self.config.password`},
	} {
		g.neg(c.file, c.kind, c.line)
	}
}

// badCRC is a token whose checksum does not match its body.
func (g *gen) badCRC(prefix string) string {
	tok := g.crcToken(prefix)
	last := tok[len(tok)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return tok[:len(tok)-1] + string(repl)
}

func (g *gen) write(dir string) error {
	names := append([]string(nil), g.order...)
	sort.Strings(names)
	for _, name := range names {
		f := g.files[name]
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(strings.Join(f.lines, "\n")+"\n"), 0o644); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
	}
	return nil
}

// WriteManifest saves a manifest as JSON (outside the corpus directory,
// or the scan would read the planted keys from it).
func WriteManifest(path string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
