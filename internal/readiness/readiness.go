// Package readiness is the report of the read-only checks that an
// environment can carry a cutover out before one starts: the AWS identity
// and its permissions, the Identity Center instance, the Entra app
// registration's permissions, the tenant's licence and policies
// (activities/checks makes those), Temporal (the starter), the store and
// the webhook (here). `starter doctor` and `worker --check` print it; the
// cutover runs the AWS and Entra checks as its first activity and turns
// what is missing into preflight blockers.
//
// Every check is a read: nothing is created, changed or sent (the webhook
// only with --send-test-notification).
package readiness

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Status is a check's outcome.
type Status string

// A missing check stops a cutover (exit status 1); a warning is shown.
const (
	OK      Status = "ok"
	Missing Status = "missing"
	Warning Status = "warning"
)

// The areas checks belong to.
const (
	AreaTemporal = "temporal"
	AreaAWS      = "aws"
	AreaEntra    = "entra"
	AreaWorker   = "worker"
)

// The codes of the preflight findings that missing checks become.
const (
	CodeMissingPermission    = "missing-permission"
	CodeMissingGraphRole     = "missing-graph-permission"
	CodeMissingLicence       = "missing-licence"
	CodeIdentifierURIBlocked = "identifier-uri-blocked"
	CodeNotReady             = "not-ready"
)

// Check is one line of the report.
type Check struct {
	Area   string `json:"area"`
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Detail is what was found; Fix what to do when it is not ok.
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
	// Code is the preflight finding a missing check becomes.
	Code string `json:"code,omitempty"`
}

// Report is every check, in the order they ran.
type Report struct {
	Checks []Check `json:"checks"`
}

// Ready holds when nothing is missing.
func (r Report) Ready() bool {
	for _, c := range r.Checks {
		if c.Status == Missing {
			return false
		}
	}
	return true
}

// Count is how many checks have status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// Pass, Fail and Warn add a check that is ok, missing (code is the
// preflight finding it becomes) or a warning.
func (r *Report) Pass(area, name, detail string) {
	r.Checks = append(r.Checks, Check{Area: area, Name: name, Status: OK, Detail: detail})
}

func (r *Report) Fail(area, name, code, detail, fix string) {
	r.Checks = append(r.Checks, Check{Area: area, Name: name, Status: Missing, Code: code, Detail: detail, Fix: fix})
}

func (r *Report) Warn(area, name, detail, fix string) {
	r.Checks = append(r.Checks, Check{Area: area, Name: name, Status: Warning, Detail: detail, Fix: fix})
}

// Add appends checks made elsewhere (the Temporal ones are the starter's).
func (r *Report) Add(c ...Check) { r.Checks = append(r.Checks, c...) }

// Write prints one line per check, status first, and the fix under each
// that is not ok; then a summary line.
func (r Report) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Status, c.Area, c.Name, c.Detail)
		if c.Status != OK && c.Fix != "" {
			fmt.Fprintf(tw, "\t\t\t-> %s\n", c.Fix)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := "ready"
	if !r.Ready() {
		verdict = "NOT ready"
	}
	_, err := fmt.Fprintf(w, "\n%s: %d ok, %d missing, %d warnings\n", verdict, r.Count(OK), r.Count(Missing), r.Count(Warning))
	return err
}
