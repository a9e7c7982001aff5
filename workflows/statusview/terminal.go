package statusview

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/platformguide/ssocutover/internal/progress"
	"github.com/platformguide/ssocutover/internal/words"
	"github.com/platformguide/ssocutover/workflows"
)

// Cutover is what `starter status` shows of a cutover: the workflow's own status query answer,
// plus what only the server knows: whether the workflow still runs and the
// progress its running activities report by heartbeat.
type Cutover struct {
	workflows.CutoverStatus
	Execution  Execution          `json:"execution"`
	InProgress []ActivityProgress `json:"inProgress"`
	// QueryError is set when the status query got no answer (no worker
	// running, for instance); the fields above are then empty.
	QueryError string `json:"queryError,omitempty"`
}

// Execution is what the server says of the workflow execution.
type Execution struct {
	RunID     string     `json:"runId"`
	Status    string     `json:"status"`
	StartTime time.Time  `json:"startTime"`
	CloseTime *time.Time `json:"closeTime,omitempty"`
}

// ActivityProgress is a running (or retrying) activity.
type ActivityProgress struct {
	Activity      string          `json:"activity"`
	State         string          `json:"state"`
	Attempt       int32           `json:"attempt"`
	Started       *time.Time      `json:"started,omitempty"`
	LastHeartbeat *time.Time      `json:"lastHeartbeat,omitempty"`
	Progress      json.RawMessage `json:"progress,omitempty"`
	LastFailure   string          `json:"lastFailure,omitempty"`
}

// WriteCutover writes a cutover's status for a person reading a terminal.
func WriteCutover(w io.Writer, v Cutover, link string, now time.Time) {
	s := v.CutoverStatus
	id := cmp.Or(s.WorkflowID, "(unknown)")
	fmt.Fprintf(w, "Cutover %s\n", id)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if s.Request.IdentityStoreID != "" {
		fmt.Fprintf(tw, "  Identity Center\t%s (%s)\n", s.Request.IdentityStoreID, s.Request.Region)
		fmt.Fprintf(tw, "  Entra tenant\t%s\n", s.Request.EntraTenantID)
		requested := s.Request.RequestedBy
		if s.Request.Ticket != "" {
			requested += ", ticket " + s.Request.Ticket
		}
		fmt.Fprintf(tw, "  Requested by\t%s\n", requested)
		fmt.Fprintf(tw, "  Approvals\t%s\n", PolicyLine(s.ApprovalPolicy, len(s.Request.Approvers) > 0))
	}
	if v.Execution.Status != "" {
		workflowLine := fmt.Sprintf("%s, started %s", v.Execution.Status, FormatTime(v.Execution.StartTime))
		if v.Execution.CloseTime != nil {
			workflowLine += ", closed " + FormatTime(*v.Execution.CloseTime)
		}
		fmt.Fprintf(tw, "  Workflow\t%s\n", workflowLine)
	}
	if link != "" {
		fmt.Fprintf(tw, "  Temporal UI\t%s\n", link)
	}
	if s.Phase != "" {
		fmt.Fprintf(tw, "  Phase\t%s\n", s.Phase)
		fmt.Fprintf(tw, "  Now\t%s\n", words.OneLine(s.Step))
	}
	tw.Flush()

	if v.QueryError != "" {
		fmt.Fprintf(w, "\n%s\n", v.QueryError)
	}

	if len(v.InProgress) > 0 {
		fmt.Fprintf(w, "\nIn progress:\n")
		for _, p := range v.InProgress {
			writeProgress(w, p, now)
		}
	}

	if p := s.Preflight; p != nil {
		sum := p.Summary
		fmt.Fprintf(w, "\nPreflight run %d, finished %s: %s, %s.\n", p.Run, FormatTime(p.FinishedAt),
			words.Count(sum.Blockers, "blocker"), words.Count(sum.Warnings, "warning"))
		fmt.Fprintf(w, "  Checked %s (%d matched in Entra), %s (%d to provision), %s in %s, %s.\n",
			words.Count(sum.Stats.Groups, "group"), sum.Stats.MatchedGroups,
			words.Count(sum.Stats.AWSUsers, "user"), sum.Stats.UsersToProvision,
			words.Count(sum.Stats.Assignments, "account assignment"), words.Count(sum.Stats.Accounts, "account"),
			words.Count(sum.Stats.PermissionSets, "permission set"))
		if len(sum.ByCode) > 0 {
			fmt.Fprintln(w)
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "  SEVERITY\tFINDING\tCOUNT\n")
			for _, bySeverity := range []string{"blocker", "warning"} {
				for _, cc := range sum.ByCode {
					if string(cc.Severity) == bySeverity {
						fmt.Fprintf(tw, "  %s\t%s\t%d\n", cc.Severity, cc.Code, cc.Count)
					}
				}
			}
			for _, cc := range sum.ByCode { // any severity added later
				if cc.Severity != "blocker" && cc.Severity != "warning" {
					fmt.Fprintf(tw, "  %s\t%s\t%d\n", cc.Severity, cc.Code, cc.Count)
				}
			}
			tw.Flush()
			fmt.Fprintln(w)
		}
		if len(p.APICalls) > 0 {
			total := 0
			parts := make([]string, 0, len(p.APICalls))
			for _, oc := range p.APICalls {
				total += oc.Calls
				parts = append(parts, fmt.Sprintf("%s %d", oc.Operation, oc.Calls))
			}
			fmt.Fprintf(w, "  API calls: %d (%s)\n", total, strings.Join(parts, ", "))
		}
		if l := p.AssignmentListing; l.Strategy != "" {
			fmt.Fprintf(w, "  Account assignments listed %s: %s\n", l.Strategy, l.Reason)
		}
		if p.UserMappings != "" {
			fmt.Fprintf(w, "  Users judged by the user mappings of %s\n", p.UserMappings)
		}
		if s.Gate == nil {
			fmt.Fprintf(w, "  Every finding with the names it concerns: starter report --workflow-id %s\n", id)
		}
	}

	if len(s.Decisions) > 0 {
		fmt.Fprintf(w, "\nDecisions:\n")
		for _, d := range s.Decisions {
			line := fmt.Sprintf("  %s  %s at %s by %s", FormatTime(d.At), d.Action, d.Gate, words.OneLine(d.By))
			if d.Override {
				line += " (override)"
			}
			if d.Reason != "" {
				line += ": " + words.OneLine(d.Reason)
			}
			fmt.Fprintln(w, line)
		}
	}

	if s.Resources != nil {
		fmt.Fprintf(w, "\nCreated so far:\n")
		for _, line := range workflows.ResourceLines(s.Resources) {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	if s.Rollback != nil {
		fmt.Fprintf(w, "\nRollback:\n")
		for _, line := range workflows.RollbackLines(s.Rollback, s.PendingCompensations) {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}

	if s.RefusedTotal > 0 {
		fmt.Fprintf(w, "\nRefused signals: %d", s.RefusedTotal)
		if s.RefusedTotal > len(s.Refused) {
			fmt.Fprintf(w, " (the newest %d below)", len(s.Refused))
		}
		fmt.Fprintln(w, ":")
		for _, r := range s.Refused {
			fmt.Fprintf(w, "  %s  %s by %s: %s\n", FormatTime(r.At), r.Operation, cmp.Or(words.OneLine(r.By), "-"), words.OneLine(r.Error))
		}
	}

	// What the person must do comes last, where the eye lands.
	writeOpenGate(w, s.Gate, now)
}

func writeProgress(w io.Writer, p ActivityProgress, now time.Time) {
	line := fmt.Sprintf("  %s (%s, attempt %d", p.Activity, p.State, p.Attempt)
	if p.Started != nil && p.State == "started" {
		line += fmt.Sprintf(", running for %s", roundDuration(now.Sub(*p.Started)))
	}
	if p.LastHeartbeat != nil {
		line += fmt.Sprintf(", last heartbeat %s ago", roundDuration(now.Sub(*p.LastHeartbeat)))
	}
	line += ")"
	if len(p.Progress) > 0 {
		line += ": " + FormatProgress(p.Progress)
	}
	fmt.Fprintln(w, line)
	if p.LastFailure != "" {
		fmt.Fprintf(w, "    last attempt failed: %s\n", words.OneLine(p.LastFailure))
	}
}

func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func roundDuration(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d.Round(time.Second)
}

// FormatProgress reads the activities' heartbeat details (progress.Progress)
// as "step: done/total", with the steps running alongside after a
// semicolon; other details are shown as JSON.
func FormatProgress(raw json.RawMessage) string {
	var p progress.Progress
	if json.Unmarshal(raw, &p) != nil || p.Step == "" {
		return string(raw)
	}
	parts := make([]string, 0, 1+len(p.Alongside))
	for _, step := range p.Steps() {
		if step.Total > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d/%d", step.Step, step.Done, step.Total))
		} else {
			parts = append(parts, fmt.Sprintf("%s: %d", step.Step, step.Done))
		}
	}
	return strings.Join(parts, "; ")
}

// Rotation is what status shows of a rotation run.
type Rotation struct {
	workflows.ScimTokenRotationStatus
	Execution  Execution          `json:"execution"`
	InProgress []ActivityProgress `json:"inProgress"`
	QueryError string             `json:"queryError,omitempty"`
}

// WriteRotation writes a rotation run's status for a person.
func WriteRotation(w io.Writer, v Rotation, link string, now time.Time) {
	s := v.ScimTokenRotationStatus
	fmt.Fprintf(w, "SCIM token rotation run %s\n", cmp.Or(s.WorkflowID, "(unknown)"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  Approvals\t%s\n", PolicyLine(s.ApprovalPolicy, false))
	if v.Execution.Status != "" {
		fmt.Fprintf(tw, "  Workflow\t%s, started %s\n", v.Execution.Status, FormatTime(v.Execution.StartTime))
	}
	if link != "" {
		fmt.Fprintf(tw, "  Temporal UI\t%s\n", link)
	}
	if s.Phase != "" {
		fmt.Fprintf(tw, "  Phase\t%s\n", s.Phase)
		fmt.Fprintf(tw, "  Now\t%s\n", words.OneLine(s.Step))
	}
	for _, t := range []struct {
		label string
		state *workflows.TokenState
	}{{"Current token", s.Current}, {"New token", s.New}} {
		if t.state != nil {
			fmt.Fprintf(tw, "  %s\t%s, created %s, expires %s (%s)\n", t.label, t.state.Token,
				FormatTime(t.state.Created), t.state.Expires.UTC().Format(time.DateOnly), t.state.ExpirySource)
		}
	}
	if j := s.Job; j != nil {
		line := fmt.Sprintf("%s, last cycle %s", j.Code, cmp.Or(j.LastExecutionState, "-"))
		if j.QuarantineReason != "" {
			line += ", quarantine: " + words.OneLine(j.QuarantineReason)
		}
		fmt.Fprintf(tw, "  Provisioning job\t%s\n", line)
	}
	if s.Due != "" {
		fmt.Fprintf(tw, "  Why a new token\t%s\n", words.OneLine(s.Due))
	}
	tw.Flush()
	if v.QueryError != "" {
		fmt.Fprintf(w, "\n%s\n", v.QueryError)
	}
	for _, p := range v.InProgress {
		writeProgress(w, p, now)
	}
	writeOpenGate(w, s.Gate, now)
}

// IndentLines prefixes every line of s.
func IndentLines(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// writeOpenGate says, last, where the eye lands, which gate waits for the
// reader since when and what to do there.
func writeOpenGate(w io.Writer, g *workflows.GateStatus, now time.Time) {
	if g == nil {
		return
	}
	fmt.Fprintf(w, "\nWaiting for you at gate %q since %s (%s ago). What to do:\n\n", g.Name,
		FormatTime(g.OpenedAt), roundDuration(now.Sub(g.OpenedAt)))
	fmt.Fprintln(w, IndentLines(g.Instructions, "  "))
}

// PolicyLine says which approval rules are in force: the worker's policy
// (its digest, where it was read, what it asks), or none, in which case
// the request's approvers (if it names any) sign.
func PolicyLine(p *workflows.ApprovalPolicy, requestApprovers bool) string {
	if p == nil || !p.InForce() {
		if requestApprovers {
			return "no approval policy on the worker; the request's approvers sign"
		}
		return "no approval policy on the worker; decisions are not signed"
	}
	var rules []string
	for _, gate := range slices.Sorted(maps.Keys(p.RequiredApprovals)) {
		rules = append(rules, fmt.Sprintf("%s %d", gate, p.RequiredApprovals[gate]))
	}
	line := fmt.Sprintf("the worker's policy %s (%s): %s", p.Digest, p.Source, words.Count(len(p.Approvers), "approver"))
	if len(rules) > 0 {
		line += "; approvals: " + strings.Join(rules, ", ")
	}
	if p.FourEyes {
		line += "; four eyes"
	}
	if len(p.SignedOperations) > 0 {
		line += "; signed: " + strings.Join(p.SignedOperations, ", ")
	}
	return line
}
