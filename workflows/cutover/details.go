package cutover

import (
	"fmt"
	"strings"

	"github.com/platformguide/ssocutover/internal/words"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
)

// renderDetails is the status as Markdown for the Temporal UI's "current
// details": what the workflow does now, what the person must do, and the
// findings summary. It is shown as is; it carries no secret.
func renderDetails(s workflows.CutoverStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Cutover of %s to Entra ID\n\n", s.Request.IdentityStoreID)
	fmt.Fprintf(&b, "**Phase:** %s  \n**Now:** %s\n\n", s.Phase, words.OneLine(s.Step))

	gate.WriteGate(&b, s.Gate)

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

	gate.WriteDecisions(&b, s.Decisions)
	gate.WriteRefused(&b, s.RefusedTotal, s.Refused)
	return b.String()
}
