// Package approval lets a cutover accept a gate decision only from the
// people its request names. A decision carries an SSH signature (the armored
// SSHSIG format that `ssh-keygen -Y sign -n ssocutover` writes) over a
// statement that names the workflow, its run, the gate, the decision and when
// it was signed, so a signature made for one of those is useless for another.
//
// Everything here is deterministic (no clock, no randomness in verifying), so
// the workflow can call it.
package approval

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Namespace is the SSHSIG namespace of every signature: `ssh-keygen -Y sign
// -n ssocutover`. It keeps a signature made for ssocutover from meaning
// anything to another program, and the other way round.
const Namespace = "ssocutover"

// SignedAtLayout is the one spelling of Statement.SignedAt: RFC 3339 in UTC,
// to the second, such as 2026-05-01T09:30:00Z (`date -u +%Y-%m-%dT%H:%M:%SZ`).
// One spelling, so the statement a person signs is byte for byte the one the
// workflow rebuilds.
const SignedAtLayout = "2006-01-02T15:04:05Z"

// statementHeader is the first line of a statement; it names the format, so
// a later format can never be mistaken for this one.
const statementHeader = "ssocutover gate decision v1"

// Statement is what a person signs to take a decision at a gate.
type Statement struct {
	WorkflowID string
	RunID      string
	// Gate is the open gate; empty for a rollback sent while a step runs.
	Gate string
	// Decision is the operation: approve, reject, rollback, ...
	Decision string
	// Override is approve despite blockers: signed, so an approval cannot
	// be turned into an override.
	Override bool
	SignedAt time.Time
}

// Text is the statement as signed, one "field: value" a line:
//
//	ssocutover gate decision v1
//	workflow-id: cutover-d-1234567890
//	run-id: 5b3d5c1e-...
//	gate: preflight
//	decision: approve
//	override: false
//	signed-at: 2026-05-01T09:30:00Z
func (s Statement) Text() ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(statementHeader + "\n")
	fmt.Fprintf(&b, "workflow-id: %s\n", s.WorkflowID)
	fmt.Fprintf(&b, "run-id: %s\n", s.RunID)
	fmt.Fprintf(&b, "gate: %s\n", s.Gate)
	fmt.Fprintf(&b, "decision: %s\n", s.Decision)
	fmt.Fprintf(&b, "override: %s\n", strconv.FormatBool(s.Override))
	fmt.Fprintf(&b, "signed-at: %s\n", FormatSignedAt(s.SignedAt))
	return []byte(b.String()), nil
}

// check refuses a field that could make two statements read the same: a
// line break or other control character would let one field forge another.
func (s Statement) check() error {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"workflow ID", s.WorkflowID}, {"run ID", s.RunID}, {"gate", s.Gate}, {"decision", s.Decision},
	} {
		if strings.ContainsFunc(f.value, isControl) {
			errs = append(errs, fmt.Errorf("the %s %q has a control character", f.name, f.value))
		}
	}
	if s.WorkflowID == "" || s.RunID == "" || s.Decision == "" {
		errs = append(errs, errors.New("a statement names a workflow ID, a run ID and a decision"))
	}
	return errors.Join(errs...)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// FormatSignedAt spells t as SignedAtLayout does.
func FormatSignedAt(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(SignedAtLayout)
}

// ParseSignedAt reads a time spelt as SignedAtLayout and nothing else, so
// the statement rebuilt from it is the one that was signed.
func ParseSignedAt(s string) (time.Time, error) {
	t, err := time.Parse(SignedAtLayout, s)
	if err != nil || t.Format(SignedAtLayout) != s {
		return time.Time{}, fmt.Errorf("signedAt %q: want UTC to the second, such as 2026-05-01T09:30:00Z (date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ)", clip(s))
	}
	return t, nil
}

// clip keeps what a person sent short in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "..."
	}
	return s
}
