package cutover

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/activities/scim"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/words"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
	"github.com/platformguide/ssocutover/workflows/step"
)

// provision carries out gate G3 and runbook steps 8 to 10: it waits for the
// SCIM endpoint and token, checks them, sets up and starts Entra's
// provisioning job, then waits for provisioning to bring every group, member
// and account assignment of the snapshot back (restoring assignments the
// switch dropped). It returns a reject decision if the person stopped the
// cutover at the gate, nil when provisioning is done or its deadline passed.
// A job that goes to quarantine (a token that stopped working) brings the
// person back to the gate for a new token.
func (c *cutover) provision(ctx workflow.Context) (*gate.Pending, error) {
	problem := ""
	for {
		decision, err := c.collectSCIMCredentials(ctx, problem)
		if err != nil || decision.Action != workflows.OpSubmitSCIM {
			return decision, err
		}
		if err := c.startProvisioning(ctx); err != nil {
			return nil, err
		}
		quarantined, err := c.verifyProvisioning(ctx)
		if err != nil {
			return nil, err
		}
		if quarantined == "" {
			return nil, nil
		}
		problem = "Entra's provisioning job went to quarantine: " + quarantined +
			". Create a new SCIM access token in the console (delete an expired one first if two exist) and submit it."
	}
}

// collectSCIMCredentials waits at gate scim-credentials until a person
// sends an endpoint and token that the endpoint accepts and Entra's
// provisioning job takes. An endpoint or token that does not work reopens
// the gate, and the update that sent it answers with why.
func (c *cutover) collectSCIMCredentials(ctx workflow.Context, problem string) (*gate.Pending, error) {
	req := c.status.Request
	for {
		g := &gate.Gate{
			Name:               workflows.GateSCIMCredentials,
			Phase:              workflows.PhaseAwaitingSCIM,
			Instructions:       scimInstructions(c.status.WorkflowID, req.IdentityStoreID, c.status.Resources, problem),
			Operations:         []string{workflows.OpSubmitSCIM, workflows.OpReject, workflows.OpRollback},
			RollsBackOnTimeout: true,
			Check: func(op string, d workflows.GateDecision) error {
				if op != workflows.OpSubmitSCIM {
					return nil
				}
				if err := workflows.CheckSCIMEndpoint(d.SCIMEndpoint, req.Region, req.Sandbox); err != nil {
					return err
				}
				if d.SCIMToken == nil {
					return fmt.Errorf(`"scimToken" is required: the Secrets Manager secret that holds the token (%s stores it and sends this for you)`,
						gate.StarterCommand(workflows.OpSubmitSCIM, c.status.WorkflowID))
				}
				return d.SCIMToken.Validate()
			},
		}
		decision, err := c.waitAtGate(ctx, g)
		if err != nil || decision.Action != workflows.OpSubmitSCIM {
			return decision, err
		}
		if !c.scimTokensCompensated {
			// The person has enabled provisioning and made a token.
			c.scimTokensCompensated = true
			c.compensate(ctx, compensation{undoes: "automatic provisioning and the SCIM access tokens in IAM Identity Center", gate: c.deleteSCIMTokensGate()})
		}
		connection := &workflows.SCIMConnection{Endpoint: strings.TrimSuffix(decision.Input.SCIMEndpoint, "/"), Token: *decision.Input.SCIMToken}
		// If a step fails for good on the way, the gate step-failed that
		// opens answers the sender (with the status that shows it).
		c.carrying = decision
		refused, err := c.connectSCIM(ctx, connection)
		c.carrying = nil
		if err != nil {
			decision.CarriedOut(err)
			return nil, err
		}
		if refused != nil {
			// The person fixes it and sends again; the gate reopens with why.
			decision.CarriedOut(refused)
			problem = "The last submission was refused: " + step.DescribeError(refused)
			continue
		}
		decision.CarriedOut(nil)
		return decision, nil
	}
}

// connectSCIM carries out runbook steps 8 and the first half of 9: it checks
// the endpoint and token, and saves them as the credentials of Entra's
// provisioning job, which tests them too. refused is an error the person
// can fix by sending other credentials; err ends the cutover.
func (c *cutover) connectSCIM(ctx workflow.Context, connection *workflows.SCIMConnection) (refused, err error) {
	res := c.resources()
	refusals := []string{scim.ErrTokenRejected, scim.ErrEndpointInvalid, scim.ErrSecretUnreadable}
	verified, err := runStep(c, ctx, step.Options(ctx, "Check of the SCIM endpoint", 2*time.Minute, 0),
		workflows.PhaseProvisioning, "checking the SCIM endpoint "+connection.Endpoint+" with the submitted token",
		scimEndpoint.VerifySCIMEndpoint, scim.VerifySCIMEndpointInput{Endpoint: connection.Endpoint, Token: connection.Token},
		refusals...)
	if step.HasErrorType(err, refusals...) {
		return err, nil
	}
	if err != nil {
		return nil, err
	}
	connection.UsersAtVerification = verified.Users

	if res.Provisioning == nil {
		job, err := runStep(c, ctx, step.Options(ctx, "Provisioning job", 5*time.Minute, 0),
			workflows.PhaseProvisioning, "creating Entra's provisioning job from the AWS IAM Identity Center template",
			entraID.EnsureProvisioningJob, entra.EnsureProvisioningJobInput{App: *res.App})
		if err != nil {
			return nil, err
		}
		res.Provisioning = &workflows.Provisioning{JobID: job.JobID, TemplateID: job.TemplateID}
		c.compensate(ctx, compensation{
			undoes: fmt.Sprintf("Entra's provisioning job %s (stopped, its credentials cleared)", job.JobID),
			undo:   undoWith(c, entraID.StopProvisioning, entra.StopProvisioningInput{App: *res.App, JobID: job.JobID}),
		})
	}

	refusals = []string{entra.ErrSCIMCredentialsRejected, scim.ErrSecretUnreadable}
	_, err = runStep(c, ctx, step.Options(ctx, "Provisioning credentials", 5*time.Minute, 0),
		workflows.PhaseProvisioning, "saving the SCIM endpoint and token as the provisioning job's credentials and testing them",
		entraID.ConfigureProvisioning,
		entra.ConfigureProvisioningInput{App: *res.App, JobID: res.Provisioning.JobID, SCIMEndpoint: connection.Endpoint, SCIMToken: connection.Token,
			DeleteThreshold: c.status.Request.DeleteThreshold},
		refusals...)
	if step.HasErrorType(err, refusals...) {
		return err, nil
	}
	if err != nil {
		return nil, err
	}
	res.SCIM = connection
	c.publish(ctx)
	return nil, nil
}

// startProvisioning carries out the rest of runbook step 9: start the job,
// with on-demand provisioning of the assigned groups for a fast first pass.
func (c *cutover) startProvisioning(ctx workflow.Context) error {
	res := c.resources()
	started, err := runStep(c, ctx, step.Options(ctx, "Start of provisioning", 10*time.Minute, time.Minute),
		workflows.PhaseProvisioning, "starting Entra's provisioning job",
		entraID.StartProvisioning,
		entra.StartProvisioningInput{App: *res.App, JobID: res.Provisioning.JobID, GroupIDs: c.onDemandGroups})
	if err != nil {
		return err
	}
	p := *res.Provisioning
	p.StartedAt = workflow.Now(ctx)
	p.OnDemandGroups = started.OnDemandGroups
	res.Provisioning = &p
	c.publish(ctx)
	return nil
}

// verifyProvisioning carries out runbook step 10. Every interval (on a
// durable timer) it reads the job's status; once a provisioning cycle has
// ended it compares Identity Center with the preflight snapshot and
// restores the account assignments that are missing. It stops when
// everything is back, when the deadline passes (the person then decides at
// gate confirm-sign-in with the report), or when the job goes to quarantine,
// whose reason it returns.
func (c *cutover) verifyProvisioning(ctx workflow.Context) (quarantined string, err error) {
	req := c.status.Request
	res := c.resources()
	interval, deadline, err := req.VerifyTiming()
	if err != nil { // checkRequest validated the request
		return "", err
	}
	giveUpAt := workflow.Now(ctx).Add(deadline)
	for {
		job, err := runStep(c, ctx, step.Options(ctx, "Provisioning status", 2*time.Minute, 0),
			workflows.PhaseProvisioning, "reading the provisioning job's status",
			entraID.ProvisioningJobStatus, entra.ProvisioningJobStatusInput{App: *res.App, JobID: res.Provisioning.JobID})
		if err != nil {
			return "", err
		}
		p := *res.Provisioning
		p.Checks++
		p.Last = &job
		res.Provisioning = &p
		c.publish(ctx)

		if job.Code == model.JobQuarantine {
			return words.OrDash(job.QuarantineReason), nil
		}
		if !job.LastExecutionEnded.IsZero() {
			done, err := c.verifyAssignments(ctx)
			if err != nil || done {
				return "", err
			}
		}
		if !workflow.Now(ctx).Add(interval).Before(giveUpAt) {
			return "", nil
		}
		c.setStep(ctx, workflows.PhaseProvisioning, fmt.Sprintf("provisioning runs (job %s, last cycle %s); next check at %s, giving up at %s",
			job.Code, words.OrDash(job.LastExecutionState), workflow.Now(ctx).Add(interval).UTC().Format(time.RFC3339), giveUpAt.UTC().Format(time.RFC3339)))
		// A rollback asked for meanwhile cuts the wait short.
		if _, err := workflow.AwaitWithTimeout(ctx, interval, func() bool { return c.rollbackRequested != nil }); err != nil {
			return "", err
		}
		if d := c.rollbackRequested; d != nil {
			return "", &errRollback{trigger: workflows.TriggerRollback, decision: d}
		}
	}
}

// verifyAssignments compares Identity Center with the snapshot, restoring
// missing account assignments, and reports whether everything is back.
func (c *cutover) verifyAssignments(ctx workflow.Context) (bool, error) {
	res := c.resources()
	verified, err := runStep(c, ctx, inventoryOptions(ctx, "Verification of groups, members and account assignments"),
		workflows.PhaseVerifying, "comparing Identity Center's groups, members and account assignments with the snapshot; restoring missing assignments",
		identityCenter.VerifyAssignments,
		identitycenter.VerifyAssignmentsInput{InstanceARN: c.status.Preflight.InstanceARN, Snapshot: c.status.Preflight.AWSInventory, Restore: true})
	if err != nil {
		return false, err
	}
	if res.Verification != nil {
		// Restored counts add up over the checks.
		verified.AssignmentsRestored += res.Verification.AssignmentsRestored
		verified.ApplicationAssignmentsRestored += res.Verification.ApplicationAssignmentsRestored
	}
	res.Verification = &verified
	c.publish(ctx)
	return verified.Complete(), nil
}

func scimInstructions(workflowID, identityStoreID string, res *workflows.Resources, problem string) string {
	var b strings.Builder
	if problem != "" {
		fmt.Fprintf(&b, "%s\n\n", problem)
	}
	if res != nil && res.App != nil && res.GroupAssignments != nil {
		fmt.Fprintf(&b, "The enterprise app %q is set up for SAML and %s are assigned to it.\n\n",
			res.App.DisplayName, words.Count(res.GroupAssignments.Groups, "group"))
	}
	fmt.Fprintf(&b, "1. Write Entra's federation metadata to a file:\n\n    %s\n\n", gate.StarterCommand("metadata", workflowID, "-o", "idp.xml"))
	b.WriteString("2. Back on the Change identity source page of the IAM Identity Center console, under Identity provider metadata, " +
		"choose Upload IdP SAML metadata file and choose idp.xml; choose Next, read the warnings, type ACCEPT and choose Change identity source.\n" +
		"3. Settings > Identity source > Automatic provisioning: choose Enable. Copy the SCIM endpoint, and save the access token " +
		"to a file only you can read (the console shows it once).\n")
	fmt.Fprintf(&b, "4. Send them; the token goes to Secrets Manager (secret %s) and the workflow gets only its ARN:\n\n    %s\n\n",
		workflows.SCIMTokenSecretName(identityStoreID),
		gate.StarterCommand(workflows.OpSubmitSCIM, workflowID, "--endpoint", "URL", "--token-file", "FILE", "--by", "NAME"))
	b.WriteString("   Then delete the token file.\n\n")
	fmt.Fprintf(&b, "Without the starter, store the token with `aws secretsmanager create-secret --name %s --secret-string file://FILE`, then:\n\n"+
		"    temporal workflow signal --workflow-id %s --name %s --input '{\"gate\":\"%s\",\"by\":\"NAME\",\"scimEndpoint\":\"URL\",\"scimToken\":{\"arn\":\"SECRET_ARN\",\"versionId\":\"VERSION_ID\"}}'\n\n",
		workflows.SCIMTokenSecretName(identityStoreID), workflowID, workflows.OpSubmitSCIM, workflows.GateSCIMCredentials)
	fmt.Fprintf(&b, "To stop the cutover here:\n\n    %s\n",
		gate.StarterCommand(workflows.OpReject, workflowID, "--gate", workflows.GateSCIMCredentials, "--by", "NAME", "--reason", `"WHY"`))
	return b.String()
}
