package workflows

import (
	"fmt"
	"time"

	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/samlmeta"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/words"
)

// Resources is what the cutover created or configured, step by step: the
// list a person needs to audit the change or to undo it. It holds IDs,
// names and secret ARNs, never a secret's value.
type Resources struct {
	BreakGlass         *model.BreakGlassUser         `json:"breakGlass,omitempty"`
	ServiceProvider    *samlmeta.SP                  `json:"serviceProvider,omitempty"`
	App                *model.EnterpriseApp          `json:"app,omitempty"`
	SigningCertificate *SigningCertificate           `json:"signingCertificate,omitempty"`
	IdPMetadata        *model.FederationMetadata     `json:"idpMetadata,omitempty"`
	GroupAssignments   *model.GroupAssignments       `json:"groupAssignments,omitempty"`
	SCIM               *SCIMConnection               `json:"scim,omitempty"`
	Provisioning       *Provisioning                 `json:"provisioning,omitempty"`
	Verification       *model.AssignmentVerification `json:"verification,omitempty"`
	// RotationSchedule is the Temporal Schedule that rotates the SCIM token.
	RotationSchedule string `json:"rotationSchedule,omitempty"`
}

// SigningCertificate is the enterprise app's SAML signing certificate.
type SigningCertificate struct {
	Thumbprint string    `json:"thumbprint"`
	Expires    time.Time `json:"expires"`
}

// SCIMConnection is the SCIM endpoint and the secret holding its token.
type SCIMConnection struct {
	Endpoint string        `json:"endpoint"`
	Token    secretref.Ref `json:"token"`
	// UsersAtVerification is how many users the endpoint held when the
	// token was checked (the users provisioning will adopt).
	UsersAtVerification int `json:"usersAtVerification"`
}

// Provisioning is the Entra provisioning job and what it last reported.
type Provisioning struct {
	JobID          string                       `json:"jobId"`
	TemplateID     string                       `json:"templateId"`
	StartedAt      time.Time                    `json:"startedAt,omitzero"`
	OnDemandGroups int                          `json:"onDemandGroups"`
	Checks         int                          `json:"checks"`
	Last           *model.ProvisioningJobStatus `json:"last,omitempty"`
}

// The deterministic names of what the cutover creates. Activities look for
// these before creating, so a retry or a second run finds instead of
// duplicating.

// BreakGlassUserName is the IAM user name of the break-glass user.
func BreakGlassUserName(identityStoreID string) string {
	return "ssocutover-breakglass-" + identityStoreID
}

// BreakGlassSecretName is the Secrets Manager secret of its password.
func BreakGlassSecretName(identityStoreID string) string {
	return "ssocutover/" + identityStoreID + "/break-glass-password"
}

// SCIMTokenSecretName is the Secrets Manager secret `starter submit-scim`
// keeps the SCIM access token in.
func SCIMTokenSecretName(identityStoreID string) string {
	return "ssocutover/" + identityStoreID + "/scim-token"
}

// EnterpriseAppName is the display name of the Entra enterprise app.
func EnterpriseAppName(identityStoreID string) string {
	return "AWS IAM Identity Center (" + identityStoreID + ")"
}

// ResourceLines lists what the cutover created, one line each, for status
// in the UI and the starter. No secret value is in it, only secret ARNs.
func ResourceLines(r *Resources) []string {
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	if g := r.BreakGlass; g != nil {
		add("Break-glass IAM user %s, password in secret %s", g.UserName, g.Password.ARN)
	}
	if sp := r.ServiceProvider; sp != nil {
		add("AWS service provider %s", sp.EntityID)
	}
	if a := r.App; a != nil {
		add("Enterprise app %q: app ID %s, service principal %s", a.DisplayName, a.AppID, a.ServicePrincipalID)
	}
	if c := r.SigningCertificate; c != nil {
		add("SAML signing certificate %s, expires %s", c.Thumbprint, c.Expires.UTC().Format(time.DateOnly))
	}
	if m := r.IdPMetadata; m != nil {
		add("Federation metadata for %s (write it out with starter metadata)", m.EntityID)
	}
	if g := r.GroupAssignments; g != nil {
		add("%s assigned to the app's User role (%d now, %d before)", words.Count(g.Groups, "group"), g.Assigned, g.AlreadyAssigned)
	}
	if s := r.SCIM; s != nil {
		add("SCIM endpoint %s, token in secret %s", s.Endpoint, s.Token.ARN)
	}
	if r.RotationSchedule != "" {
		add("Temporal Schedule %s rotates the SCIM token (starter rotation status)", r.RotationSchedule)
	}
	if p := r.Provisioning; p != nil {
		line := "Provisioning job " + p.JobID
		if p.Last != nil {
			line += fmt.Sprintf(": %s, last cycle %s", p.Last.Code, words.OrDash(p.Last.LastExecutionState))
		}
		add("%s", line)
	}
	if r.Verification != nil {
		add("Verification: %s", VerificationLine(r))
	}
	return lines
}

// RollbackLines describes a rollback: each step undone with its outcome,
// what is still to undo (pending, oldest first) and what is left to a person.
func RollbackLines(r *RollbackReport, pending []string) []string {
	trigger := "Triggered by " + r.Trigger
	if r.RequestedBy != "" {
		trigger += " (" + r.RequestedBy + ": " + words.OneLine(r.Reason) + ")"
	}
	lines := []string{trigger}
	for _, step := range r.Steps {
		line := fmt.Sprintf("Undone (%s): %s: %s", step.Kind, step.Undoes, step.Outcome)
		if step.By != "" {
			line += " by " + step.By
		}
		if step.Detail != "" {
			line += ": " + words.OneLine(step.Detail)
		}
		lines = append(lines, line)
	}
	for i := len(pending) - 1; i >= 0; i-- {
		lines = append(lines, "To undo: "+pending[i])
	}
	for _, todo := range r.ByHand {
		lines = append(lines, "By hand: "+todo)
	}
	return lines
}

// VerificationLine sums the verification up in one line.
func VerificationLine(res *Resources) string {
	if res == nil || res.Verification == nil {
		return "no provisioning cycle finished before the deadline, so nothing was verified"
	}
	v := res.Verification
	// AssignmentsRestored adds up every check's restorations (see
	// verifyAssignments); the rest is the latest check.
	line := fmt.Sprintf("groups %d of %d present, users %d of %d, memberships missing %d, account assignments %d of %d present (%d restored by the cutover)",
		v.GroupsPresent, v.GroupsExpected, v.UsersPresent, v.UsersExpected, v.MembersMissing,
		v.AssignmentsExpected-v.AssignmentsMissing, v.AssignmentsExpected, v.AssignmentsRestored)
	if v.ApplicationAssignmentsExpected > 0 {
		line += fmt.Sprintf(", application assignments %d of %d present (%d restored by the cutover)",
			v.ApplicationAssignmentsExpected-v.ApplicationAssignmentsMissing, v.ApplicationAssignmentsExpected, v.ApplicationAssignmentsRestored)
	}
	return line
}
