package gate

import (
	"fmt"
	"strings"
	"time"

	"github.com/platformguide/ssocutover/internal/words"
	"github.com/platformguide/ssocutover/workflows"
)

// WriteGate describes the open gate, if any, and what to do there.
func WriteGate(b *strings.Builder, g *workflows.GateStatus) {
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

// WriteDecisions lists the decisions taken at gates.
func WriteDecisions(b *strings.Builder, decisions []workflows.Decision) {
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

// WriteRefused lists the newest refused signals.
func WriteRefused(b *strings.Builder, total int, refused []workflows.RefusedInput) {
	if total == 0 {
		return
	}
	fmt.Fprintf(b, "### Refused signals (%d; newest last)\n\n", total)
	for _, r := range refused {
		fmt.Fprintf(b, "- %s: %s by %s: %s\n", r.At.UTC().Format(time.RFC3339), r.Operation, words.OneLine(words.OrDash(r.By)), words.OneLine(r.Error))
	}
}
