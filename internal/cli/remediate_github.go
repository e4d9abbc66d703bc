package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/spf13/cobra"

	"github.com/keytrail/keytrail/remediate"
	"github.com/keytrail/keytrail/remediate/ghrevoke"
)

// ghTokenRe finds GitHub tokens in any text: a token list, or scan JSON
// written with --show-secrets.
var ghTokenRe = regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\b`)

func newRemediateGitHubCmd(e *env) *cobra.Command {
	var journal, api string
	var yes bool
	cmd := &cobra.Command{
		Use:   "revoke-github [FILE|-]",
		Short: "Revoke leaked GitHub tokens through GitHub's credential revocation API (unauthenticated, batches of 1000)",
		Long: `revoke-github reads GitHub tokens from FILE (or stdin): a list, or the JSON of
keytrail scan --show-secrets. It submits them to POST /credentials/revoke,
unauthenticated as GitHub requires, in batches of at most 1000, waiting out
the 60-requests-an-hour limit. The journal names tokens by hint and SHA-256,
never in full. GitHub notifies the owners; a revoked token cannot be restored.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = e.stdin
			name := "stdin"
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in, name = f, args[0]
			}
			data, err := io.ReadAll(io.LimitReader(in, 64<<20))
			if err != nil {
				return fmt.Errorf("reading %s: %w", name, err)
			}
			tokens := ghTokenRe.FindAllString(string(data), -1)
			if len(tokens) == 0 {
				return fmt.Errorf("%s: no GitHub token found (scan JSON needs --show-secrets)", name)
			}
			base, err := url.Parse(strings.TrimSuffix(api, "/") + "/")
			if err != nil {
				return fmt.Errorf("--github-api %q: %w", api, err)
			}
			p := &remediate.Plan{Version: remediate.PlanVersion, GeneratedAt: time.Now().UTC(), Source: name}
			index := map[string]int{}
			for _, t := range tokens {
				if _, ok := index[t]; ok {
					continue
				}
				index[t] = len(p.Keys)
				p.Keys = append(p.Keys, remediate.KeyPlan{Provider: "github", KeyID: ghrevoke.Hint(t) + " sha256:" + ghrevoke.Hash(t), Action: remediate.ActionRevoke,
					Steps: []remediate.PlannedStep{{ID: "revoke", Intent: "submit to GitHub's credential revocation API", Calls: []string{"github: POST /credentials/revoke (unauthenticated)"}}}})
			}
			printPlan(e.stdout, p, false)
			if !yes {
				fmt.Fprintf(e.stdout, "Revoke these %d GitHub token(s)? GitHub cannot restore them. Type yes: ", len(p.Keys))
				var line string
				fmt.Fscanln(e.stdin, &line)
				if line != "yes" {
					fmt.Fprintln(e.stdout, "not confirmed; nothing done.")
					e.exit = ExitError
					return nil
				}
			}
			j, err := remediate.OpenNewJournal(journal, time.Now())
			if err != nil {
				return err
			}
			defer j.Close()
			for t := range index {
				j.Forbid(t)
			}
			if _, err := j.Append(remediate.Record{Time: time.Now(), Kind: remediate.KindHeader, Plan: p}); err != nil {
				return err
			}
			c := github.NewClient(&http.Client{Timeout: 60 * time.Second})
			c.BaseURL = base
			var jerr error
			rv := &ghrevoke.Revoker{Client: c, Clock: remediate.RealClock{}, OnBatch: func(n int, batch []string, done bool, err error) {
				rec := remediate.Record{Time: time.Now(), Kind: remediate.KindIntent, Key: index[batch[0]], Step: "revoke-batch-" + strconv.Itoa(n+1),
					Facts: map[string]string{"tokens": strconv.Itoa(len(batch))}}
				if done {
					rec.Kind, rec.Status = remediate.KindOutcome, remediate.StatusDone
					if err != nil {
						rec.Status, rec.Error = remediate.StatusFailed, err.Error()
					}
				}
				if _, err := j.Append(rec); err != nil && jerr == nil {
					jerr = err
				}
			}}
			res, err := rv.Revoke(cmd.Context(), tokens)
			fmt.Fprintf(e.stdout, "journal: %s\nsubmitted %d token(s) in %d request(s)\n", j.Path(), res.Submitted, res.Batches)
			for _, s := range res.Skipped {
				fmt.Fprintf(e.stdout, "skipped %s: the API does not revoke this kind (installation tokens expire within an hour)\n", s)
			}
			if err != nil {
				return err
			}
			return jerr
		},
	}
	cmd.Flags().StringVar(&journal, "journal", "", "journal file (default .keytrail/remediation/<UTC timestamp>.journal)")
	cmd.Flags().StringVar(&api, "github-api", "https://api.github.com", "GitHub API base URL (GitHub Enterprise Server: https://HOST/api/v3)")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	return cmd
}
