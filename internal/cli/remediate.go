package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	vault "github.com/hashicorp/vault/api"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/remediate"
	"github.com/keytrail/keytrail/remediate/awskeys"
	"github.com/keytrail/keytrail/remediate/distribute"
	"github.com/keytrail/keytrail/remediate/ghrevoke"
	"github.com/keytrail/keytrail/remediate/hook"
)

// remediateFlags are the options shared by plan, rotate, revoke, apply.
type remediateFlags struct {
	distribute     []string
	overlap, grace time.Duration
	deleteInactive bool
	force          bool
	revokeSessions bool
	deleteAfter    time.Duration
	journal        string
	yes, dryRun    bool
	wait           bool
	notify         []string
	githubAPI      string
	// tokensFile (--tokens) holds the GitHub tokens a plan revokes; tokens
	// maps their SHA-256 to them once read.
	tokensFile string
	tokens     map[string]string
}

func (f *remediateFlags) options(cmd *cobra.Command) remediate.Options {
	o := remediate.Options{Distribute: f.distribute, Overlap: remediate.Duration(f.overlap), Grace: remediate.Duration(f.grace),
		DeleteInactive: f.deleteInactive, Force: f.force, RevokeSessions: f.revokeSessions, GitHubAPI: f.githubAPI}
	if cmd.Flags().Changed("delete-after") {
		d := remediate.Duration(f.deleteAfter)
		o.DeleteAfter = &d
	}
	return o
}

func addPlanFlags(cmd *cobra.Command, f *remediateFlags) { addPlanFlagSet(cmd.Flags(), f) }

func addPlanFlagSet(fs *pflag.FlagSet, f *remediateFlags) {
	fs.StringArrayVar(&f.distribute, "distribute", nil, "where the new key goes, in order (repeatable): secretsmanager:NAME_OR_ARN, vault:MOUNT/PATH, exec:CMD, webhook:URL")
	fs.DurationVar(&f.overlap, "overlap", remediate.DefaultOverlap, "how long both keys work, so clients pick up the new one (longer than their credential refresh interval)")
	fs.DurationVar(&f.grace, "grace", remediate.DefaultGrace, "how long the old key stays deactivated (and can be switched back on) before it is deleted")
	fs.BoolVar(&f.deleteInactive, "delete-inactive", false, "when the user already has two keys, delete the other one if it is inactive")
	fs.BoolVar(&f.force, "force", false, "deactivate the old key even if it was still used at the end of the overlap")
	fs.BoolVar(&f.revokeSessions, "revoke-sessions", false, "revoke: also deny everything to sessions issued before now (inline policy "+awskeys.RevokePolicyName+")")
	fs.DurationVar(&f.deleteAfter, "delete-after", 0, "revoke: delete the key this long after deactivating it (default: keep it, deactivated)")
}

func addRunFlags(cmd *cobra.Command, f *remediateFlags) {
	fs := cmd.Flags()
	fs.StringVar(&f.journal, "journal", "", "journal file (default .keytrail/remediation/<UTC timestamp>.journal)")
	fs.BoolVar(&f.yes, "yes", false, "do not ask for confirmation")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the API calls that would be made, and make none")
	fs.BoolVar(&f.wait, "wait", false, "wait through the grace (or delete-after) period instead of stopping; resume continues a stopped run")
	fs.StringArrayVar(&f.notify, "notify", nil, "post a summary when done or failed (repeatable): webhook:URL (Slack-compatible JSON, no secret)")
}

func newRemediateCmd(e *env, g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remediate",
		Short: "Rotate or revoke leaked keys without downtime (journaled, resumable)",
		Long: `remediate turns an audit into a plan and runs it. AWS IAM user keys are
rotated dual-key (create, validate, distribute, overlap, check usage moved,
deactivate, grace, delete) or revoked. Every external call is journaled
(intent before, outcome after; never a secret), so a run killed at any point
is continued by resume or undone by rollback.`,
	}
	cmd.AddCommand(newRemediatePlanCmd(e, g), newRemediateApplyCmd(e), newRemediateOneOffCmd(e, remediate.ActionRotate),
		newRemediateOneOffCmd(e, remediate.ActionRevoke), newRemediateResumeCmd(e), newRemediateRollbackCmd(e),
		newRemediateGitHubCmd(e), newRemediateDrillCmd(e))
	return cmd
}

// awsClients builds the SDK clients once per invocation, from the
// standard chain (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...). The SDK
// retries throttling with backoff; more attempts than its default because
// a rotation must not die of one busy minute.
type awsClients struct {
	once sync.Once
	cfg  aws.Config
	err  error
}

func (c *awsClients) config(ctx context.Context) (aws.Config, error) {
	c.once.Do(func() {
		c.cfg, c.err = config.LoadDefaultConfig(ctx, config.WithRetryMaxAttempts(10))
		if c.err == nil && c.cfg.Region == "" {
			c.cfg.Region = "us-east-1"
		}
	})
	return c.cfg, c.err
}

// remediateProviders wires the providers keytrail remediates; tokens are
// the GitHub tokens --tokens gave (nil when planning).
func remediateProviders(e *env, tokens map[string]string) map[string]remediate.Provider {
	c := &awsClients{}
	deps := distribute.Deps{
		SecretsManager: func(ctx context.Context) (distribute.SecretsManagerAPI, error) {
			cfg, err := c.config(ctx)
			if err != nil {
				return nil, fmt.Errorf("AWS config: %w", err)
			}
			return secretsmanager.NewFromConfig(cfg), nil
		},
		Vault: func() (*vault.Client, error) { return vault.NewClient(vault.DefaultConfig()) },
	}
	p := &awskeys.Provider{
		IAM: func(ctx context.Context) (awskeys.IAM, error) {
			cfg, err := c.config(ctx)
			if err != nil {
				return nil, fmt.Errorf("AWS config: %w", err)
			}
			return iam.NewFromConfig(cfg), nil
		},
		STSWith: func(id, secret string) awskeys.STS {
			cfg, _ := c.config(context.Background())
			return sts.NewFromConfig(cfg, func(o *sts.Options) {
				o.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
			})
		},
		Targets: deps,
	}
	return map[string]remediate.Provider{"aws": p, remediate.HookProvider: &hook.Provider{Deps: deps},
		"github": &ghrevoke.Provider{Tokens: tokens, Clock: remediate.RealClock{}}}
}

// readAuditKeysFrom reads audit JSON from a file, or stdin for "-" (so
// `keytrail audit git . -f json | keytrail remediate plan --from -`).
func readAuditKeysFrom(e *env, path string) ([]audit.Key, error) {
	if path != "-" {
		return readAuditKeys(path)
	}
	data, err := io.ReadAll(io.LimitReader(e.stdin, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("--from -: %w", err)
	}
	return parseAuditKeys("stdin", data)
}

// readAuditKeys reads `keytrail audit` JSON: {"generated_at","keys":[...],"summary"}.
func readAuditKeys(path string) ([]audit.Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--from %s: %w", path, err)
	}
	return parseAuditKeys(path, data)
}

func parseAuditKeys(path string, data []byte) ([]audit.Key, error) {
	var doc struct {
		Keys *[]audit.Key `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("--from %s: line %d: invalid JSON: %v", path, strings.Count(string(data[:min(int(se.Offset), len(data))]), "\n")+1, err)
		}
		return nil, fmt.Errorf("--from %s: not keytrail audit JSON: %w", path, err)
	}
	if doc.Keys == nil {
		return nil, fmt.Errorf("--from %s: no \"keys\" array; is this keytrail audit JSON?", path)
	}
	return *doc.Keys, nil
}

func newRemediateApplyCmd(e *env) *cobra.Command {
	f := &remediateFlags{}
	cmd := &cobra.Command{
		Use:   "apply PLAN",
		Short: "Run a plan (asks for confirmation unless --yes; --dry-run prints the API calls)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("plan %s: %w", args[0], err)
			}
			if err := loadTokens(e, f); err != nil {
				return err
			}
			provs := remediateProviders(e, f.tokens)
			p, err := remediate.ParsePlan(args[0], data, remediate.Planners(provs))
			if err != nil {
				return err
			}
			return runPlan(cmd.Context(), e, f, p, provs)
		},
	}
	addRunFlags(cmd, f)
	addTokensFlag(cmd, f)
	return cmd
}

func newRemediateOneOffCmd(e *env, action string) *cobra.Command {
	f := &remediateFlags{}
	var keyID, user string
	cmd := &cobra.Command{
		Use:   action + " --key-id ID",
		Short: map[string]string{remediate.ActionRotate: "Rotate one AWS access key now (dual key, no downtime)", remediate.ActionRevoke: "Revoke one AWS access key now (deactivate; optionally revoke its sessions, delete later)"}[action],
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyID == "" {
				return errors.New("--key-id is required")
			}
			provs := remediateProviders(e, nil)
			if user == "" && !f.dryRun {
				u, err := iamUserOf(cmd.Context(), provs, keyID)
				if err != nil {
					return err
				}
				user = u
			}
			if user == "" {
				user = "<user of " + keyID + ">"
			}
			kp := remediate.KeyPlan{Provider: "aws", KeyID: keyID, User: user, Action: action, Options: remediate.OptionsFor(action, f.options(cmd))}
			if err := remediate.Fill(&kp, remediate.Planners(provs)); err != nil {
				return fmt.Errorf("%s %s: %w", action, keyID, err)
			}
			p := &remediate.Plan{Version: remediate.PlanVersion, GeneratedAt: time.Now().UTC(), Source: "keytrail remediate " + action, Keys: []remediate.KeyPlan{kp}}
			return runPlan(cmd.Context(), e, f, p, provs)
		},
	}
	cmd.Flags().StringVar(&keyID, "key-id", "", "the access key id (AKIA...)")
	cmd.Flags().StringVar(&user, "user", "", "the key's IAM user (default: looked up with iam:GetAccessKeyLastUsed)")
	addPlanFlags(cmd, f)
	addRunFlags(cmd, f)
	return cmd
}

func iamUserOf(ctx context.Context, provs map[string]remediate.Provider, keyID string) (string, error) {
	p := provs["aws"].(*awskeys.Provider)
	c, err := p.IAM(ctx)
	if err != nil {
		return "", err
	}
	out, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
	if err != nil {
		return "", fmt.Errorf("finding the IAM user of %s (iam:GetAccessKeyLastUsed; or pass --user): %w", keyID, err)
	}
	if aws.ToString(out.UserName) == "" {
		return "", fmt.Errorf("key %s has no IAM user (a root key?); keytrail rotates IAM user keys only", keyID)
	}
	return aws.ToString(out.UserName), nil
}

// runPlan prints, confirms, journals and runs a plan.
func runPlan(ctx context.Context, e *env, f *remediateFlags, p *remediate.Plan, provs map[string]remediate.Provider) error {
	_, err := runPlanResults(ctx, e, f, p, provs)
	return err
}

// runPlanResults is runPlan returning each key's result (nil when nothing ran).
func runPlanResults(ctx context.Context, e *env, f *remediateFlags, p *remediate.Plan, provs map[string]remediate.Provider) ([]remediate.KeyResult, error) {
	acting := 0
	for _, kp := range p.Keys {
		if kp.Action != remediate.ActionNone {
			acting++
		}
	}
	printPlan(e.stdout, p, f.dryRun)
	if f.dryRun {
		fmt.Fprintln(e.stdout, "dry run: no call was made.")
		return nil, nil
	}
	if acting == 0 {
		fmt.Fprintln(e.stdout, "nothing to do.")
		return nil, nil
	}
	if !f.yes {
		fmt.Fprintf(e.stdout, "Run these %d remediation(s)? Type yes: ", acting)
		line, _ := bufio.NewReader(e.stdin).ReadString('\n')
		if strings.TrimSpace(line) != "yes" {
			fmt.Fprintln(e.stdout, "not confirmed; nothing done.")
			e.exit = ExitError
			return nil, nil
		}
	}
	j, err := remediate.OpenNewJournal(f.journal, time.Now())
	if err != nil {
		return nil, err
	}
	defer j.Close()
	for _, t := range f.tokens {
		j.Forbid(t)
	}
	fmt.Fprintf(e.stdout, "journal: %s\n", j.Path())
	r := newRunner(e, f, j, provs)
	res, err := r.Apply(ctx, p)
	return res, finish(ctx, e, f, journalRef{j, r.JournalID(), nil}, res, err)
}

func newRunner(e *env, f *remediateFlags, j *remediate.Journal, provs map[string]remediate.Provider) *remediate.Runner {
	return &remediate.Runner{Journal: j, Providers: provs, Clock: remediate.RealClock{}, Out: e.stdout, Wait: f.wait}
}

func printPlan(w io.Writer, p *remediate.Plan, calls bool) {
	for _, kp := range p.Keys {
		who := kp.User
		if who == "" {
			who = kp.Owner
		}
		fmt.Fprintf(w, "%s %s (%s): %s", kp.Provider, kp.KeyID, orDashCLI(who), kp.Action)
		if kp.Reason != "" {
			fmt.Fprintf(w, " — %s", kp.Reason)
		}
		fmt.Fprintln(w)
		for i, s := range kp.Steps {
			fmt.Fprintf(w, "  %d. %s: %s\n", i+1, s.ID, s.Intent)
			if calls {
				for _, c := range s.Calls {
					fmt.Fprintf(w, "       %s\n", c)
				}
			}
		}
	}
}

func orDashCLI(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// finish prints the results, notifies, and sets the exit code: 2 when a
// key failed or stopped, 0 otherwise (a paused key is on schedule).
func finish(ctx context.Context, e *env, f *remediateFlags, jr journalRef, res []remediate.KeyResult, err error) error {
	journal := jr.j.Path()
	for _, r := range res {
		line := fmt.Sprintf("%s %s: %s", r.Action, r.KeyID, r.Status)
		switch r.Status {
		case "paused":
			line += fmt.Sprintf(" (%s); continue with: keytrail remediate resume %s", r.Error, journal)
		case "failed", "stopped":
			line += ": " + r.Error + fmt.Sprintf("\n  undo what was done: keytrail remediate rollback %s; or fix and: keytrail remediate resume %s", journal, journal)
		case "rolled-back":
			if r.Error != "" {
				line += " (not undone: " + r.Error + ")"
			}
		}
		if id := r.Facts["new_key_id"]; id != "" && r.Action == remediate.ActionRotate {
			line += "; new key " + id
		}
		fmt.Fprintln(e.stdout, line)
	}
	for _, n := range f.notify {
		if nerr := notifyJournaled(ctx, e, jr, n, res); nerr != nil {
			fmt.Fprintf(e.stderr, "keytrail: --notify %s: %v\n", n, nerr)
		}
	}
	if err != nil {
		return err
	}
	if remediate.Failed(res) {
		e.exit = ExitError
	}
	return nil
}

func newRemediateResumeCmd(e *env) *cobra.Command {
	f := &remediateFlags{}
	cmd := &cobra.Command{
		Use:   "resume JOURNAL",
		Short: "Continue a journaled remediation from its last completed step",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.yes = true // resume asks nothing, so --tokens - may use stdin
			if err := loadTokens(e, f); err != nil {
				return err
			}
			j, recs, err := remediate.OpenJournal(args[0])
			if err != nil {
				return err
			}
			defer j.Close()
			for _, t := range f.tokens {
				j.Forbid(t)
			}
			r := newRunner(e, f, j, remediateProviders(e, f.tokens))
			res, err := r.Resume(cmd.Context(), recs)
			return finish(cmd.Context(), e, f, journalRef{j, r.JournalID(), recs}, res, err)
		},
	}
	cmd.Flags().BoolVar(&f.wait, "wait", false, "wait through the grace (or delete-after) period instead of stopping")
	cmd.Flags().StringArrayVar(&f.notify, "notify", nil, "post a summary when done or failed: webhook:URL")
	addTokensFlag(cmd, f)
	return cmd
}

func newRemediateRollbackCmd(e *env) *cobra.Command {
	f := &remediateFlags{}
	cmd := &cobra.Command{
		Use:   "rollback JOURNAL",
		Short: "Undo what a journaled remediation did: reactivate the old key while it is only deactivated, move AWSCURRENT back",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			j, recs, err := remediate.OpenJournal(args[0])
			if err != nil {
				return err
			}
			defer j.Close()
			if !f.yes {
				fmt.Fprintf(e.stdout, "Roll back %s? Type yes: ", args[0])
				line, _ := bufio.NewReader(e.stdin).ReadString('\n')
				if strings.TrimSpace(line) != "yes" {
					fmt.Fprintln(e.stdout, "not confirmed; nothing done.")
					e.exit = ExitError
					return nil
				}
			}
			r := newRunner(e, f, j, remediateProviders(e, nil))
			res, err := r.Rollback(cmd.Context(), recs)
			return finish(cmd.Context(), e, f, journalRef{j, r.JournalID(), recs}, res, err)
		},
	}
	cmd.Flags().BoolVar(&f.yes, "yes", false, "do not ask for confirmation")
	cmd.Flags().StringArrayVar(&f.notify, "notify", nil, "post a summary when done or failed: webhook:URL")
	return cmd
}

func addTokensFlag(cmd *cobra.Command, f *remediateFlags) {
	cmd.Flags().StringVar(&f.tokensFile, "tokens", "", "the GitHub tokens the plan revokes, matched by SHA-256: a file listing them, or keytrail scan JSON written with --show-secrets (- for stdin, with --yes)")
}

// loadTokens reads --tokens: every GitHub token in the file, by SHA-256.
func loadTokens(e *env, f *remediateFlags) error {
	if f.tokensFile == "" {
		return nil
	}
	var in io.Reader = e.stdin
	name := "stdin"
	if f.tokensFile != "-" {
		fh, err := os.Open(f.tokensFile)
		if err != nil {
			return fmt.Errorf("--tokens: %w", err)
		}
		defer fh.Close()
		in, name = fh, f.tokensFile
	} else if !f.yes && !f.dryRun {
		return errors.New("--tokens - reads standard input, which the confirmation needs too: add --yes")
	}
	data, err := io.ReadAll(io.LimitReader(in, 64<<20))
	if err != nil {
		return fmt.Errorf("--tokens %s: %w", name, err)
	}
	f.tokens = map[string]string{}
	for _, t := range ghTokenRe.FindAllString(string(data), -1) {
		f.tokens[ghrevoke.Hash(t)] = t
	}
	if len(f.tokens) == 0 {
		return fmt.Errorf("--tokens %s: no GitHub token found (scan JSON needs --show-secrets)", name)
	}
	return nil
}
