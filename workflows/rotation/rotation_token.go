package rotation

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/scim"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/words"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
	"github.com/platformguide/ssocutover/workflows/step"
)

// installNewToken waits at gate new-scim-token until a person submits a
// token that works: the SCIM endpoint accepts it, Entra's job takes it and
// runs a healthy cycle with it. A token that does not work reopens the gate
// with why, and the job keeps (or gets back) its old token. It returns the
// accepted submission, or the reject that put the rotation off.
func (r *rotation) installNewToken(ctx workflow.Context) (*gate.Pending, error) {
	problem := ""
	for {
		d, err := r.waitAtGate(ctx, r.newTokenGate(problem))
		if err != nil || d.Action != workflows.OpSubmitSCIM {
			return d, err
		}
		refused, err := r.swapToken(ctx, *d.Input.SCIMToken)
		if err != nil {
			d.CarriedOut(err)
			return nil, err
		}
		if refused != "" {
			// The update that sent the token answers with why.
			d.CarriedOut(errors.New(refused))
			problem = refused
			continue
		}
		d.CarriedOut(nil)
		return d, nil
	}
}

// swapToken puts the new token into service. refused says why the token was
// not taken (the person can send another); err ends the run.
func (r *rotation) swapToken(ctx workflow.Context, token secretref.Ref) (refused string, err error) {
	req := r.status.Request
	r.setStep(ctx, workflows.RotationPhaseReplacing, "checking the new token against the SCIM endpoint "+req.SCIMEndpoint)
	_, err = step.Run(step.Options(ctx, "Check of the new SCIM token", 2*time.Minute, 0),
		scimEndpoint.VerifySCIMEndpoint, scim.VerifySCIMEndpointInput{Endpoint: req.SCIMEndpoint, Token: token})
	if step.HasErrorType(err, scim.ErrTokenRejected, scim.ErrEndpointInvalid, scim.ErrSecretUnreadable) {
		return "The new token was refused and the job keeps its current token: " + step.DescribeError(err), nil
	}
	if err != nil {
		return "", rotationStepFailed("checking the new token", err)
	}

	before := *r.status.Job
	if refused, err := r.replaceJobToken(ctx, token, "saving the new token as the provisioning job's SecretToken (Entra tests it first)"); refused != "" || err != nil {
		return refused, err
	}
	if before.Code == model.JobQuarantine {
		if err := r.restartJob(ctx); err != nil {
			return "", err
		}
	}

	unhealthy, err := r.awaitHealthyCycle(ctx, before.LastExecutionEnded)
	if err != nil {
		return "", err
	}
	if unhealthy != "" {
		return r.restoreOldToken(ctx, unhealthy)
	}

	promoted, err := step.Run(step.Options(ctx, "New SCIM token made current", 2*time.Minute, 0),
		scimEndpoint.PromoteSCIMToken, scim.PromoteSCIMTokenInput{Token: token})
	if err != nil {
		return "", rotationStepFailed("labelling the new token's secret version AWSCURRENT", err)
	}
	r.status.New = &workflows.TokenState{Token: token, Created: promoted.Created,
		Expires: promoted.Created.Add(scim.TokenLifetime), ExpirySource: workflows.ExpiryFromSecretVersion}
	r.publish(ctx)
	return "", nil
}

// replaceJobToken saves token as the job's SecretToken. Entra tests it
// before saving, so a refused token leaves the job as it was.
func (r *rotation) replaceJobToken(ctx workflow.Context, token secretref.Ref, doing string) (refused string, err error) {
	req := r.status.Request
	r.setStep(ctx, workflows.RotationPhaseReplacing, doing)
	_, err = step.Run(step.Options(ctx, "Provisioning token", 5*time.Minute, 0),
		entraID.ReplaceProvisioningToken, entra.ReplaceProvisioningTokenInput{
			App: req.App, JobID: req.JobID, SCIMEndpoint: req.SCIMEndpoint, SCIMToken: token, NotificationEmail: req.NotificationEmail,
			DeleteThreshold: req.DeleteThreshold,
		})
	if step.HasErrorType(err, entra.ErrSCIMCredentialsRejected, entra.ErrSCIMTokenNotFound, scim.ErrSecretUnreadable) {
		return "Entra refused the token, so the job keeps the one it had: " + step.DescribeError(err), nil
	}
	if err != nil {
		return "", rotationStepFailed(doing, err)
	}
	return "", nil
}

// awaitHealthyCycle checks the job on durable timers until a provisioning
// cycle that ended after lastEnded (the last one before the new token)
// reached AWS with it. It returns why the job is not healthy, or "" when it is.
func (r *rotation) awaitHealthyCycle(ctx workflow.Context, lastEnded time.Time) (unhealthy string, err error) {
	giveUpAt := workflow.Now(ctx).Add(r.timing.HealthDeadline)
	for {
		r.setStep(ctx, workflows.RotationPhaseAwaitingHealthy, fmt.Sprintf("waiting for a provisioning cycle on the new token; next check at %s, giving up at %s",
			workflow.Now(ctx).Add(r.timing.HealthInterval).UTC().Format(time.RFC3339), giveUpAt.UTC().Format(time.RFC3339)))
		if err := workflow.Sleep(ctx, r.timing.HealthInterval); err != nil {
			return "", err
		}
		job, err := r.jobStatus(ctx)
		if err != nil {
			return "", err
		}
		r.status.Job = &job
		r.publish(ctx)
		newCycle := job.LastExecutionEnded.After(lastEnded)
		switch {
		case job.Code == model.JobQuarantine:
			return "The job went to quarantine on the new token (" + job.QuarantineReason + ").", nil
		case newCycle && credentialFailure(job):
			return "The job's cycle on the new token failed (" + job.LastExecutionError + ").", nil
		case newCycle && cycleReachedAWS(job):
			return "", nil
		}
		if !workflow.Now(ctx).Add(r.timing.HealthInterval).Before(giveUpAt) {
			return fmt.Sprintf("No provisioning cycle succeeded within %s of saving the new token (job %s, last cycle %s); "+
				"check that the job is started in the Entra admin center.", r.timing.HealthDeadline, job.Code, words.OrDash(job.LastExecutionState)), nil
		}
	}
}

// cycleReachedAWS reports whether the job's last cycle talked to the SCIM
// endpoint with its token: it succeeded, or failed only on some objects
// (EntryLevelErrors: a user without a surname, a duplicate), which the
// token does not explain and provisioning reports on its own.
func cycleReachedAWS(job model.ProvisioningJobStatus) bool {
	return strings.EqualFold(job.LastExecutionState, "Succeeded") || strings.EqualFold(job.LastExecutionState, "EntryLevelErrors")
}

// restoreOldToken gives the job its old token back after the new one did
// not prove itself, unless the old one no longer works either.
func (r *rotation) restoreOldToken(ctx workflow.Context, unhealthy string) (refused string, err error) {
	old := r.status.Current.Token
	refusedOld, err := r.replaceJobToken(ctx, old, "giving the provisioning job its old token back")
	if err != nil {
		return "", err
	}
	if refusedOld != "" {
		return unhealthy + " The old token no longer works either, so the job keeps the new one; send a token that works.", nil
	}
	// The new token's cycle may have quarantined the job: it provisions
	// again on the old token while the person finds another.
	if r.status.Job.Code == model.JobQuarantine {
		if err := r.restartJob(ctx); err != nil {
			return "", err
		}
		// What the next swap starts from: the job out of quarantine.
		restarted, err := r.jobStatus(ctx)
		if err != nil {
			return "", err
		}
		r.status.Job = &restarted
		r.publish(ctx)
	}
	return unhealthy + " The job was given its old token back.", nil
}

// restartJob restarts the quarantined provisioning job.
func (r *rotation) restartJob(ctx workflow.Context) error {
	req := r.status.Request
	r.setStep(ctx, workflows.RotationPhaseReplacing, "restarting the quarantined provisioning job")
	_, err := step.Run(step.Options(ctx, "Restart of provisioning", 5*time.Minute, 0),
		entraID.RestartProvisioning, entra.RestartProvisioningInput{App: req.App, JobID: req.JobID})
	if err != nil {
		return rotationStepFailed("restarting the provisioning job", err)
	}
	return nil
}

// confirmOldTokenDeleted waits at gate delete-old-token until the person
// says the old token is deleted and the SCIM endpoint no longer accepts it
// (an approve with override takes the person's word).
func (r *rotation) confirmOldTokenDeleted(ctx workflow.Context, old workflows.TokenState) (*gate.Pending, error) {
	req := r.status.Request
	problem := ""
	for {
		d, err := r.waitAtGate(ctx, r.deleteOldTokenGate(old, problem))
		if err != nil {
			return nil, err
		}
		r.setStep(ctx, workflows.RotationPhaseAwaitingDelete, "checking that the SCIM endpoint no longer accepts the old token")
		_, err = step.Run(step.Options(ctx, "Check of the old SCIM token", 2*time.Minute, 0),
			scimEndpoint.VerifySCIMEndpoint, scim.VerifySCIMEndpointInput{Endpoint: req.SCIMEndpoint, Token: old.Token})
		switch {
		case step.HasErrorType(err, scim.ErrTokenRejected, scim.ErrSecretUnreadable) || (err == nil && d.Override):
			return d, nil
		case err == nil:
			problem = fmt.Sprintf("The SCIM endpoint still accepts the old token (created %s): delete it in the console, then approve again.",
				old.Created.UTC().Format(time.DateOnly))
			d.CarriedOut(errors.New(problem))
		default:
			d.CarriedOut(err)
			return nil, rotationStepFailed("checking that the old token is deleted", err)
		}
	}
}

// newTokenGate is gate new-scim-token.
func (r *rotation) newTokenGate(problem string) *gate.Gate {
	req, current := r.status.Request, *r.status.Current
	return &gate.Gate{
		Name:         workflows.GateNewSCIMToken,
		Phase:        workflows.RotationPhaseAwaitingToken,
		Instructions: newTokenInstructions(r.status.WorkflowID, req, current, r.status.Due, problem),
		Operations:   []string{workflows.OpSubmitSCIM, workflows.OpReject},
		Check: func(op string, d workflows.GateDecision) error {
			if op != workflows.OpSubmitSCIM {
				return nil
			}
			if d.SCIMEndpoint != "" && strings.TrimSuffix(d.SCIMEndpoint, "/") != strings.TrimSuffix(req.SCIMEndpoint, "/") {
				return fmt.Errorf(`"scimEndpoint" %q is not the job's endpoint %s: a rotation changes only the token (leave scimEndpoint out)`,
					workflows.Clip(d.SCIMEndpoint, 200), req.SCIMEndpoint)
			}
			switch {
			case d.SCIMToken == nil:
				return errors.New(`"scimToken" is required: the Secrets Manager version that holds the new token`)
			case d.SCIMToken.VersionID == "":
				return errors.New(`"scimToken.versionId" is required: the version that holds the new token (stored with the stage AWSPENDING)`)
			case d.SCIMToken.VersionID == current.Token.VersionID:
				return errors.New(`"scimToken" is the token the job uses now: create a new token in the console and send that`)
			}
			return d.SCIMToken.Validate()
		},
	}
}

// deleteOldTokenGate is gate delete-old-token.
func (r *rotation) deleteOldTokenGate(old workflows.TokenState, problem string) *gate.Gate {
	return &gate.Gate{
		Name:         workflows.GateDeleteOldToken,
		Phase:        workflows.RotationPhaseAwaitingDelete,
		Instructions: deleteOldTokenInstructions(r.status.WorkflowID, r.status.Request, old, *r.status.New, problem),
		Operations:   []string{workflows.OpApprove},
	}
}

// consoleTokensPage is where the console lists the SCIM access tokens.
const consoleTokensPage = "IAM Identity Center console > Settings > Identity source > Automatic provisioning > Manage access tokens"

func newTokenInstructions(workflowID string, req workflows.ScimTokenRotationRequest, current workflows.TokenState, due, problem string) string {
	var b strings.Builder
	if problem != "" {
		fmt.Fprintf(&b, "%s\n\n", problem)
	}
	fmt.Fprintf(&b, "%s\n\nThe job uses the token created %s (%s). No API creates a SCIM token, so a person does:\n\n",
		due, current.Created.UTC().Format(time.DateOnly), current.Token)
	fmt.Fprintf(&b, "1. Open %s (region %s). At most two tokens can exist: if two are listed, delete the one that has expired, "+
		"never the one created %s while the job still uses it.\n", consoleTokensPage, req.Region, current.Created.UTC().Format(time.DateOnly))
	b.WriteString("2. Choose Generate token and save the token to a file only you can read (the console shows it once).\n")
	fmt.Fprintf(&b, "3. Send it; the token goes to Secrets Manager (a pending version of %s) and the workflow gets only its reference:\n\n    %s\n\n",
		req.TokenSecretID(), gate.StarterCommand(workflows.OpSubmitSCIM, workflowID, "--token-file", "FILE", "--by", "NAME"))
	b.WriteString("   Then delete the token file. The workflow checks the token, swaps it into Entra's provisioning job and waits for a healthy cycle; " +
		"if the token does not work, the job keeps its current one and this gate says why.\n\n")
	fmt.Fprintf(&b, "Without the starter: `aws secretsmanager put-secret-value --secret-id %s --secret-string file://FILE --version-stages AWSPENDING`, then\n\n    %s\n\n",
		req.TokenSecretID(), gate.SignalCommand(workflowID, workflows.OpSubmitSCIM, workflows.GateDecision{Gate: workflows.GateNewSCIMToken, By: "NAME", SCIMToken: &secretref.Ref{ARN: "SECRET_ARN", VersionID: "VERSION_ID"}}))
	fmt.Fprintf(&b, "To put the rotation off (the next run asks again):\n\n    %s\n",
		gate.StarterCommand(workflows.OpReject, workflowID, "--gate", workflows.GateNewSCIMToken, "--by", "NAME", "--reason", `"WHY"`))
	return b.String()
}

func deleteOldTokenInstructions(workflowID string, req workflows.ScimTokenRotationRequest, old, current workflows.TokenState, problem string) string {
	var b strings.Builder
	if problem != "" {
		fmt.Fprintf(&b, "%s\n\n", problem)
	}
	fmt.Fprintf(&b, "Entra's provisioning job runs on the new token (%s), which expires %s; a provisioning cycle succeeded with it.\n\n",
		current.Token, current.Expires.UTC().Format(time.DateOnly))
	fmt.Fprintf(&b, "1. Open %s (region %s) and delete the token created %s. Keep the one created %s.\n",
		consoleTokensPage, req.Region, old.Created.UTC().Format(time.DateOnly), current.Created.UTC().Format(time.DateOnly))
	fmt.Fprintf(&b, "2. Confirm; the workflow checks that the SCIM endpoint no longer accepts the old token:\n\n    %s\n\n",
		gate.StarterCommand(workflows.OpApprove, workflowID, "--gate", workflows.GateDeleteOldToken, "--by", "NAME"))
	fmt.Fprintf(&b, "To keep the old token a while longer, approve with `--override --reason \"WHY\"`.\n")
	return b.String()
}
