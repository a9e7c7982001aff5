// Package rotation is the ScimTokenRotation workflow, which a Temporal
// Schedule runs daily once a cutover completes: it checks the SCIM token's
// age and the provisioning job's health, and when a new token is due asks a
// person for one (gates new-scim-token and delete-old-token, kept by
// workflows/gate) and swaps it in safely.
package rotation

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/scim"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/words"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
	"github.com/platformguide/ssocutover/workflows/step"
)

// ScimTokenRotation keeps the SCIM access token of one Identity Center
// instance's provisioning fresh. A Temporal Schedule runs it daily (see
// `starter rotation schedule`); each run checks when the token expires and
// how Entra's provisioning job is doing, and ends at once while the token is
// fresh and the job healthy.
//
// Inside the warning window, or at once when the job is quarantined because
// the token stopped working, it asks a person for a new token (gate
// new-scim-token: no API creates one), checks it against the SCIM endpoint,
// swaps it into the job (which keeps the old one if the new one does not
// work), waits for a healthy provisioning cycle, and asks the person to
// delete the old token (gate delete-old-token).
func ScimTokenRotation(ctx workflow.Context, req workflows.ScimTokenRotationRequest) (workflows.ScimTokenRotationResult, error) {
	r := newRotation(ctx, req)
	if err := gate.Listen(ctx, r.gates, "Token expiry, job health, open gate with what to do, decisions and refused signals", rotationOperations, r.snapshot); err != nil {
		return workflows.ScimTokenRotationResult{}, err
	}
	result, err := r.run(ctx)
	gate.AwaitAnswers(ctx)
	return result, err
}

// rotationOperations are the decisions a rotation takes; as for the
// cutover, the most cautious is read first.
var rotationOperations = []string{workflows.OpReject, workflows.OpApprove, workflows.OpSubmitSCIM}

// run is one rotation run, from the check to the deleted old token.
func (r *rotation) run(ctx workflow.Context) (workflows.ScimTokenRotationResult, error) {
	if policy, _ := gate.ReadPolicy(ctx); policy.InForce() {
		r.gates.Signing = r.gates.SigningFor(policy)
		r.status.ApprovalPolicy = &policy
	}
	err := r.status.Request.Validate()
	if err != nil {
		return workflows.ScimTokenRotationResult{}, r.fail(ctx, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the rotation request is invalid; fix it (starter rotation schedule updates the schedule's request) and run again:\n%v", err),
			workflows.ErrInvalidRequest, nil))
	}
	r.timing, _ = r.status.Request.Timing() // Validate checked it

	if err := r.checkTokenAndJob(ctx); err != nil {
		return workflows.ScimTokenRotationResult{}, r.fail(ctx, err)
	}
	due, note := r.rotationDue(workflow.Now(ctx))
	if due == "" {
		// A quarantine stops provisioning: someone must hear of it. A
		// cycle's entry-level errors are Entra's to report, daily.
		if note != "" && r.status.Job.Code == model.JobQuarantine {
			gate.NotifyAttention(ctx, rotationKind, r.status.Request.IdentityStoreID, "Entra's provisioning job needs a person", note)
		}
		return r.finish(ctx, nil, workflows.RotationPhaseFresh, freshMessage(workflow.Now(ctx), *r.status.Current, note)), nil
	}
	r.status.Due = due
	previous := *r.status.Current

	decision, err := r.installNewToken(ctx)
	if err != nil {
		return workflows.ScimTokenRotationResult{}, r.fail(ctx, err)
	}
	if decision.Action == workflows.OpReject {
		return r.finish(ctx, decision, workflows.RotationPhasePostponed, fmt.Sprintf(
			"The rotation was put off at gate %s by %s: %s. The job keeps its token (%s); the next run asks again.",
			decision.Gate, decision.By, decision.Reason, expiryPhrase(workflow.Now(ctx), previous.Expires))), nil
	}

	decision, err = r.confirmOldTokenDeleted(ctx, previous)
	if err != nil {
		return workflows.ScimTokenRotationResult{}, r.fail(ctx, err)
	}
	oldToken := fmt.Sprintf("The old token was deleted (confirmed by %s).", decision.By)
	if decision.Override {
		oldToken = fmt.Sprintf("The old token still works: %s keeps it (%s); delete it in the console when that is done.", decision.By, decision.Reason)
	}
	result := r.finish(ctx, decision, workflows.RotationPhaseRotated, fmt.Sprintf(
		"The SCIM token was rotated: the job runs on the token %s, which expires %s. %s",
		r.status.New.Token, r.status.New.Expires.UTC().Format(time.DateOnly), oldToken))
	result.Previous = &previous
	return result, nil
}

// checkTokenAndJob learns when the current token expires and how the job does.
func (r *rotation) checkTokenAndJob(ctx workflow.Context) error {
	req := r.status.Request
	r.setStep(ctx, workflows.RotationPhaseChecking, "reading the current token's secret version and the provisioning job's status")

	token, err := step.Run(step.Options(ctx, "Current SCIM token", 2*time.Minute, 0),
		scimEndpoint.DescribeSCIMToken, scim.DescribeSCIMTokenInput{Secret: req.TokenSecretID()})
	if err != nil {
		return rotationStepFailed("reading the current token's secret "+req.TokenSecretID(), err)
	}
	current := workflows.TokenState{Token: token.Current, Created: token.CurrentCreated,
		Expires: token.CurrentCreated.Add(scim.TokenLifetime), ExpirySource: workflows.ExpiryFromSecretVersion}
	if req.TokenVersionID != "" && req.TokenVersionID == token.Current.VersionID {
		current.Expires, current.ExpirySource = req.TokenExpiresAt, workflows.ExpiryGiven
	}
	r.status.Current = &current

	job, err := r.jobStatus(ctx)
	if err != nil {
		return err
	}
	r.status.Job = &job
	r.publish(ctx)
	return nil
}

// jobStatus reads the provisioning job's status.
func (r *rotation) jobStatus(ctx workflow.Context) (model.ProvisioningJobStatus, error) {
	req := r.status.Request
	job, err := step.Run(step.Options(ctx, "Provisioning status", 2*time.Minute, 0),
		entraID.ProvisioningJobStatus, entra.ProvisioningJobStatusInput{App: req.App, JobID: req.JobID})
	if err != nil {
		return job, rotationStepFailed("reading the provisioning job's status", err)
	}
	return job, nil
}

// rotationDue says why a new token is needed now, or "" when it is not;
// note tells of a problem the token does not explain.
func (r *rotation) rotationDue(now time.Time) (due, note string) {
	job, token := r.status.Job, r.status.Current
	switch {
	case job.Code == model.JobQuarantine && credentialFailure(*job):
		return fmt.Sprintf("Entra's provisioning job is in quarantine because the SCIM endpoint refuses its token (%s): "+
			"joiners, leavers and group changes no longer reach AWS until the job has a working token.", job.QuarantineReason), ""
	case job.LastExecutionError != "" && credentialFailure(*job):
		return fmt.Sprintf("Entra's last provisioning cycle failed because the SCIM endpoint refused the token (%s).", job.LastExecutionError), ""
	case !now.Before(token.Expires.Add(-r.timing.WarningWindow)):
		return fmt.Sprintf("The SCIM token %s %s (%s), within the warning window of %s.",
			token.Token, expiryPhrase(now, token.Expires), token.ExpirySource, days(r.timing.WarningWindow)), ""
	case job.Code == model.JobQuarantine:
		return "", fmt.Sprintf("Entra's provisioning job is in quarantine for a reason other than its token (%s): "+
			"look at the provisioning logs of the enterprise app %q in the Entra admin center.", job.QuarantineReason, r.status.Request.App.DisplayName)
	case job.LastExecutionError != "":
		return "", fmt.Sprintf("Entra's last provisioning cycle failed for a reason other than the token (%s).", job.LastExecutionError)
	}
	return "", ""
}

// credentialFailure reports whether the job failed because the SCIM
// endpoint refused its credentials (Entra's codes name them).
func credentialFailure(job model.ProvisioningJobStatus) bool {
	text := strings.ToLower(job.QuarantineErrorCode + " " + job.QuarantineReason + " " + job.LastExecutionError)
	for _, sign := range []string{"credential", "unauthorized", "401"} {
		if strings.Contains(text, sign) {
			return true
		}
	}
	return false
}

// freshMessage is the result of a run that had nothing to do.
func freshMessage(now time.Time, token workflows.TokenState, note string) string {
	message := fmt.Sprintf("The SCIM token %s %s (%s): no new token is needed yet.",
		token.Token, expiryPhrase(now, token.Expires), token.ExpirySource)
	if note != "" {
		message += " " + note
	}
	return message
}

// expiryPhrase is "expires in 12 days (2027-01-01)" or "expired 3 days ago (...)".
func expiryPhrase(now, expires time.Time) string {
	date := expires.UTC().Format(time.DateOnly)
	if left := expires.Sub(now); left > 0 {
		return fmt.Sprintf("expires in %s (%s)", days(left), date)
	}
	return fmt.Sprintf("expired %s ago (%s)", days(now.Sub(expires)), date)
}

// days spells a duration in whole days, rounded down ("less than a day").
func days(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	if n == 0 {
		return "less than a day"
	}
	return words.Count(n, "day")
}

// rotationStepFailed is the error that ends a run when an activity failed
// in a way retries could not fix. Nothing is lost: the job keeps the token
// it had, and the next scheduled run starts over.
func rotationStepFailed(doing string, err error) error {
	if temporal.IsCanceledError(err) {
		return err
	}
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("the SCIM token rotation stopped while %s: %s. The provisioning job keeps the token it had; "+
			"fix the cause and run the rotation again (starter rotation run), or let the next scheduled run do it.",
			doing, step.ActivityFailure(err)),
		workflows.ErrStepFailed, nil)
}

// Register registers the ScimTokenRotation workflow under the name clients
// (and the schedule) start it by.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(ScimTokenRotation, workflow.RegisterOptions{Name: workflows.RotationWorkflowName})
}
