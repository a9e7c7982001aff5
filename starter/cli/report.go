package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/internal/store/s3store"
	"github.com/platformguide/ssocutover/internal/words"
	"github.com/platformguide/ssocutover/workflows"
)

func (c *cli) reportCommand() *cobra.Command {
	var t target
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "report (--workflow-id ID | --identity-store d-...)",
		Short: "Print every finding of the latest preflight, with the groups and users it names",
		Long: `Print the full report of the cutover's latest preflight run: every finding,
grouped by severity and code, with the groups and users it concerns.

Workflow history keeps only the report's summary and reference; the report
itself is in the worker's data directory (--data-dir, SSOCUTOVER_DATA_DIR).
Run this where that directory is reachable, with the same setting as the
worker.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withCutover(cmd.Context(), t, func(tc client.Client, id string) error {
				view, err := c.fetchReport(cmd.Context(), tc, id)
				if err != nil {
					return err
				}
				if asJSON {
					return WriteJSON(c.stdout, view)
				}
				RenderReport(c.stdout, view)
				return nil
			})
		},
	}
	t.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// ReportView is a stored preflight report with what it belongs to.
type ReportView struct {
	WorkflowID string `json:"workflowId"`
	Run        int    `json:"run"`
	// Ref is the report's place in the store and its digest, as the
	// workflow recorded it; the report read back matched the digest.
	Ref store.Ref `json:"ref"`
	preflight.Report
}

// fetchReport asks the workflow which report is the latest and reads it
// from the store, which checks its digest.
func (c *cli) fetchReport(ctx context.Context, tc client.Client, id string) (ReportView, error) {
	view, err := FetchStatus(ctx, tc, id)
	if err != nil {
		return ReportView{}, err
	}
	if view.QueryError != "" {
		return ReportView{}, fmt.Errorf("%s", view.QueryError)
	}
	return c.readReport(ctx, view.CutoverStatus)
}

func (c *cli) readReport(ctx context.Context, s workflows.CutoverStatus) (ReportView, error) {
	st, where, err := c.openStore(ctx)
	if err != nil {
		return ReportView{}, err
	}
	return ReadReport(ctx, st, where, s)
}

// openStore opens the worker's store as the flags describe it, with the
// payload keys to open sealed documents (without them, documents stored
// in clear still read), and says how it was chosen, for errors.
func (c *cli) openStore(ctx context.Context) (store.Store, string, error) {
	var sealer store.Sealer
	if payloads, err := c.keySource().LoadCodec(); err == nil {
		sealer = payloads
	}
	where := fmt.Sprintf("the worker's data directory; this one is %s (--data-dir / %s): run it with the worker's setting, on a machine that sees that directory",
		c.dataDir, store.EnvDataDir)
	var awsConfig aws.Config
	if c.store.IsS3() {
		where = fmt.Sprintf("the worker's S3 store; this one is s3://%s/%s (--store-bucket / %s, --store-prefix / %s): give it the worker's settings",
			c.store.Bucket, c.store.Prefix, store.EnvStoreBucket, store.EnvStorePrefix)
		var err error
		if awsConfig, err = awsclient.Load(ctx, awsclient.Options{}); err != nil {
			return nil, "", err
		}
	}
	st, err := s3store.Open(c.store, c.dataDir, awsConfig, sealer)
	return st, where, err
}

// ReadReport reads the full preflight report of the cutover s from st, the
// worker's store; where says which store that is and how it was chosen.
func ReadReport(ctx context.Context, st store.Store, where string, s workflows.CutoverStatus) (ReportView, error) {
	p := s.Preflight
	if p == nil {
		return ReportView{}, fmt.Errorf("the cutover %s has no preflight report yet (%s): wait for it with starter status --workflow-id %s",
			s.WorkflowID, words.OneLine(s.Step), s.WorkflowID)
	}
	var report preflight.Report
	if err := st.Get(ctx, p.Report, &report); err != nil {
		return ReportView{}, fmt.Errorf("%w\nstarter report reads the report from %s", err, where)
	}
	return ReportView{WorkflowID: s.WorkflowID, Run: p.Run, Ref: p.Report, Report: report}, nil
}

// severityOrder lists blockers first; a severity added later sorts last.
func severityOrder(s preflight.Severity) int {
	switch s {
	case preflight.Blocker:
		return 0
	case preflight.Warning:
		return 1
	}
	return 2
}

// RenderReport prints the findings grouped by severity, then code; within a
// code they keep the analysis's order.
func RenderReport(w io.Writer, v ReportView) {
	findings := slices.Clone(v.Findings)
	slices.SortStableFunc(findings, func(a, b preflight.Finding) int {
		return cmp.Or(cmp.Compare(severityOrder(a.Severity), severityOrder(b.Severity)), strings.Compare(string(a.Code), string(b.Code)))
	})
	blockers, warnings := 0, 0
	for _, f := range findings {
		switch f.Severity {
		case preflight.Blocker:
			blockers++
		case preflight.Warning:
			warnings++
		}
	}
	st := v.Stats
	fmt.Fprintf(w, "Preflight report of %s, run %d: %s, %s.\n", v.WorkflowID, v.Run, words.Count(blockers, "blocker"), words.Count(warnings, "warning"))
	fmt.Fprintf(w, "Checked %s (%d matched in Entra), %s (%d to provision), %s (%d by group, %d by user) in %s, %s.\n",
		words.Count(st.Groups, "group"), st.MatchedGroups, words.Count(st.AWSUsers, "user"), st.UsersToProvision,
		words.Count(st.Assignments, "account assignment"), st.GroupAssignments, st.UserAssignments,
		words.Count(st.Accounts, "account"), words.Count(st.PermissionSets, "permission set"))
	if len(findings) == 0 {
		fmt.Fprintln(w, "\nNo findings: nothing stands in the way of the cutover.")
		return
	}

	var severity preflight.Severity
	var code preflight.Code
	for i, f := range findings {
		if i == 0 || f.Severity != severity {
			severity = f.Severity
			title := strings.ToUpper(string(severity)) + "S"
			if severity == preflight.Blocker {
				title += " (fix them and recheck, or approve with --override and a reason)"
			}
			fmt.Fprintf(w, "\n%s\n", title)
			code = ""
		}
		if f.Code != code {
			code = f.Code
			n := 0
			for _, g := range findings[i:] {
				if g.Code != code || g.Severity != severity {
					break
				}
				n++
			}
			fmt.Fprintf(w, "\n  %s (%d)\n", code, n)
		}
		fmt.Fprintf(w, "    - %s\n", words.OneLine(f.Message))
		if len(f.Names) > 0 {
			fmt.Fprintf(w, "      names: %s\n", strings.Join(f.Names, ", "))
		}
	}
}
