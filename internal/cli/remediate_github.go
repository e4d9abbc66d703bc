package cli

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/keytrail/keytrail/remediate"
	"github.com/keytrail/keytrail/remediate/ghrevoke"
)

// ghTokenRe finds GitHub tokens in any text: a token list, or scan JSON
// written with --show-secrets.
var ghTokenRe = regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\b`)

// newRemediateGitHubCmd is a shortcut for a plan of GitHub token
// revocations: the same step, journal, resume and batching as a plan
// from an audit.
func newRemediateGitHubCmd(e *env) *cobra.Command {
	f := &remediateFlags{}
	cmd := &cobra.Command{
		Use:   "revoke-github [FILE|-]",
		Short: "Revoke leaked GitHub tokens through GitHub's credential revocation API (unauthenticated, batches of 1000)",
		Long: `revoke-github reads GitHub tokens from FILE (or stdin): a list, or the JSON of
keytrail scan --show-secrets. It plans one revoke-token step per token and
runs the plan: every token goes to POST /credentials/revoke, unauthenticated
as GitHub requires, in batches of at most 1000, waiting out the
60-requests-an-hour limit. The journal names tokens by hint and SHA-256,
never in full; keytrail remediate resume JOURNAL --tokens FILE continues a
run that was cut short. GitHub notifies the owners; a revoked token cannot
be restored.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = e.stdin
			name := "stdin"
			if len(args) == 1 && args[0] != "-" {
				fh, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer fh.Close()
				in, name = fh, args[0]
			} else if !f.yes && !f.dryRun {
				return fmt.Errorf("tokens on stdin: the confirmation needs stdin too; add --yes")
			}
			data, err := io.ReadAll(io.LimitReader(in, 64<<20))
			if err != nil {
				return fmt.Errorf("reading %s: %w", name, err)
			}
			tokens := ghTokenRe.FindAllString(string(data), -1)
			if len(tokens) == 0 {
				return fmt.Errorf("%s: no GitHub token found (scan JSON needs --show-secrets)", name)
			}
			f.tokens = map[string]string{}
			p := &remediate.Plan{Version: remediate.PlanVersion, GeneratedAt: time.Now().UTC(), Source: "keytrail remediate revoke-github " + name}
			for _, t := range tokens {
				h := ghrevoke.Hash(t)
				if _, ok := f.tokens[h]; ok {
					continue
				}
				f.tokens[h] = t
				if !ghrevoke.Revocable(t) {
					fmt.Fprintf(e.stdout, "skipped %s: the API does not revoke this kind (installation tokens expire within an hour)\n", ghrevoke.Hint(t))
					continue
				}
				kp := remediate.KeyPlan{Provider: "github", KeyID: ghrevoke.Hint(t), SecretSHA256: h, Action: remediate.ActionRevoke,
					Options: remediate.Options{GitHubAPI: f.githubAPI}}
				p.Keys = append(p.Keys, kp)
			}
			provs := remediateProviders(e, f.tokens)
			for i := range p.Keys {
				if err := remediate.Fill(&p.Keys[i], remediate.Planners(provs)); err != nil {
					return fmt.Errorf("--github-api: %w", err)
				}
			}
			gh := provs["github"].(*ghrevoke.Provider)
			res, err := runPlanResults(cmd.Context(), e, f, p, provs)
			if err != nil || res == nil {
				return err
			}
			done := 0
			for _, r := range res {
				if r.Status == "done" {
					done++
				}
			}
			fmt.Fprintf(e.stdout, "submitted %d token(s) in %d request(s)\n", done, gh.Requests())
			return nil
		},
	}
	cmd.Flags().StringVar(&f.journal, "journal", "", "journal file (default .keytrail/remediation/<UTC timestamp>.journal)")
	cmd.Flags().StringVar(&f.githubAPI, "github-api", "https://api.github.com", "GitHub API base URL (GitHub Enterprise Server: https://HOST/api/v3)")
	cmd.Flags().BoolVar(&f.yes, "yes", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the request that would be made, and make none")
	cmd.Flags().StringArrayVar(&f.notify, "notify", nil, "post a summary when done or failed (repeatable): webhook:URL")
	return cmd
}
