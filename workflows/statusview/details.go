// Package statusview renders the workflows' status, the one place that
// does: as Markdown for the Temporal UI's current details (which the
// workflows publish, so it is deterministic and reads only the status) and
// as text for a person at a terminal (`starter status`, the demo).
package statusview

import (
	"fmt"
	"strings"
	"time"

	"github.com/platformguide/ssocutover/internal/words"
	"github.com/platformguide/ssocutover/workflows"
)

// CutoverDetails is the status as Markdown for the Temporal UI's "current
// details": what the workflow does now, what the person must do, and the
// findings summary. It is shown as is; it carries no secret.
func CutoverDetails(s workflows.CutoverStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Cutover of %s to Entra ID\n\n", s.Request.IdentityStoreID)
	fmt.Fprintf(&b, "**Phase:** %s  \n**Now:** %s\n\n", s.Phase, words.OneLine(s.Step))

	writeGate(&b, s.Gate)

	if p := s.Preflight; p != nil {
		fmt.Fprintf(&b, "### Preflight, run %d\n\n", p.Run)
		fmt.Fprintf(&b, "%s, %s. Checked %s (%d matched in Entra), %s (%d to provision), %s in %s.\n\n",
			words.Count(p.Summary.Blockers, "blocker"), words.Count(p.Summary.Warnings, "warning"),
			words.Count(p.Summary.Stats.Groups, "group"), p.Summary.Stats.MatchedGroups,
			words.Count(p.Summary.Stats.AWSUsers, "user"), p.Summary.Stats.UsersToProvision,
			words.Count(p.Summary.Stats.Assignments, "account assignment"), words.Count(p.Summary.Stats.Accounts, "account"))
		if len(p.Summary.ByCode) > 0 {
			b.WriteString("| finding | severity | count |\n|---|---|---|\n")
			for _, c := range p.Summary.ByCode {
				fmt.Fprintf(&b, "| `%s` | %s | %d |\n", c.Code, c.Severity, c.Count)
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Report: `%s`\n\n", p.Report.Key)
	}

	if s.Resources != nil {
		b.WriteString("### Created so far\n\n")
		for _, line := range workflows.ResourceLines(s.Resources) {
			fmt.Fprintf(&b, "- %s\n", line)
		}
		b.WriteString("\n")
	}
	if len(s.PendingCompensations) > 0 && s.Rollback == nil {
		b.WriteString("### A rollback would undo, newest first\n\n")
		for i := len(s.PendingCompensations) - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "- %s\n", s.PendingCompensations[i])
		}
		b.WriteString("\n")
	}
	if s.Rollback != nil {
		b.WriteString("### Rollback\n\n")
		for _, line := range workflows.RollbackLines(s.Rollback, s.PendingCompensations) {
			fmt.Fprintf(&b, "- %s\n", line)
		}
		b.WriteString("\n")
	}

	writeDecisions(&b, s.Decisions)
	writeRefused(&b, s.RefusedTotal, s.Refused)
	return b.String()
}

// RotationDetails is the rotation's status as Markdown for the
// Temporal UI.
func RotationDetails(s workflows.ScimTokenRotationStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## SCIM token rotation of %s\n\n", s.Request.IdentityStoreID)
	fmt.Fprintf(&b, "**Phase:** %s  \n**Now:** %s\n\n", s.Phase, words.OneLine(s.Step))
	if s.Due != "" {
		fmt.Fprintf(&b, "**Why a new token:** %s\n\n", words.OneLine(s.Due))
	}
	writeGate(&b, s.Gate)
	for _, t := range []struct {
		label string
		state *workflows.TokenState
	}{{"Current token", s.Current}, {"New token", s.New}} {
		if t.state != nil {
			fmt.Fprintf(&b, "- %s: %s, created %s, expires %s (%s)\n", t.label, t.state.Token,
				t.state.Created.UTC().Format(time.RFC3339), t.state.Expires.UTC().Format(time.DateOnly), t.state.ExpirySource)
		}
	}
	if j := s.Job; j != nil {
		fmt.Fprintf(&b, "- Provisioning job %s: %s, last cycle %s", s.Request.JobID, j.Code, words.OrDash(j.LastExecutionState))
		if j.QuarantineReason != "" {
			fmt.Fprintf(&b, ", quarantine: %s", words.OneLine(j.QuarantineReason))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	writeDecisions(&b, s.Decisions)
	writeRefused(&b, s.RefusedTotal, s.Refused)
	return b.String()
}

// writeGate describes the open gate, if any, and what to do there.
func writeGate(b *strings.Builder, g *workflows.GateStatus) {
	if g == nil {
		return
	}
	fmt.Fprintf(b, "### Waiting for you at gate `%s` (since %s)\n\n%s\n",
		g.Name, g.OpenedAt.UTC().Format(time.RFC3339), g.Instructions)
	if n := g.ApprovalsNeeded; n > 0 {
		fmt.Fprintf(b, "\nThis gate takes only decisions signed by an approver of the request (README, Signed approvals); "+
			"approve needs %d distinct approvers, so far %d.\n", n, len(g.Approvals))
	}
}

// writeDecisions lists the decisions taken at gates.
func writeDecisions(b *strings.Builder, decisions []workflows.Decision) {
	if len(decisions) == 0 {
		return
	}
	b.WriteString("### Decisions\n\n")
	for _, d := range decisions {
		fmt.Fprintf(b, "- %s: **%s** at `%s` by %s", d.At.UTC().Format(time.RFC3339), d.Action, d.Gate, words.OneLine(d.By))
		if d.Override {
			b.WriteString(" (override)")
		}
		if d.Signer != nil {
			fmt.Fprintf(b, " (signed, key %s", d.Signer.Fingerprint)
			if d.Approval != "" {
				fmt.Fprintf(b, ", approval %s", d.Approval)
			}
			b.WriteString(")")
		}
		if d.Reason != "" {
			fmt.Fprintf(b, ": %s", words.OneLine(d.Reason))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// writeRefused lists the newest refused signals.
func writeRefused(b *strings.Builder, total int, refused []workflows.RefusedInput) {
	if total == 0 {
		return
	}
	fmt.Fprintf(b, "### Refused signals (%d; newest last)\n\n", total)
	for _, r := range refused {
		fmt.Fprintf(b, "- %s: %s by %s: %s\n", r.At.UTC().Format(time.RFC3339), r.Operation, words.OneLine(words.OrDash(r.By)), words.OneLine(r.Error))
	}
}
