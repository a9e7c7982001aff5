package cutover

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/activities/notify"
	"github.com/platformguide/ssocutover/activities/schedules"
	"github.com/platformguide/ssocutover/activities/scim"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
	"github.com/platformguide/ssocutover/workflows/workflowtest"
)

func TestAWholeCutoverWalksEveryGate(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.jobStatuses = []model.ProvisioningJobStatus{notRunYet, cycleDone}
	f.verifications = []model.AssignmentVerification{incompleteVerification, completeVerification}
	xml := testSPMetadata(t)
	var atSPGate, atSCIMGate, atSignInGate workflows.CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { atSPGate = queryStatus(t, env); submitSPMetadata(env, xml) })
	at(env, 3*time.Minute, func() { atSCIMGate = queryStatus(t, env); submitSCIM(env) })
	at(env, 10*time.Hour, func() { atSignInGate = queryStatus(t, env); confirmSignIn(env) })
	var notices []notify.GateOpened
	env.OnActivity(notify.NotifyGateOpenedName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in notify.GateOpened) (notify.NotifyGateOpenedResult, error) {
			notices = append(notices, in)
			return notify.NotifyGateOpenedResult{}, nil
		})

	req := testRequest()
	req.DeleteThreshold = 250
	env.ExecuteWorkflow(workflows.CutoverWorkflowName, req)

	res := result(t, env)
	require.Equal(t, workflows.PhaseCompleted, res.Outcome)

	// Every gate was announced as it opened, with its instructions.
	var announced []string
	for _, n := range notices {
		announced = append(announced, n.Gate)
		require.Equal(t, "cutover", n.Workflow)
		require.Equal(t, testWorkflowID, n.WorkflowID)
		require.Contains(t, n.Instructions, "starter ")
	}
	require.Equal(t, workflows.Gates, announced)
	require.Contains(t, res.Message, "bob confirmed that signing in through Entra works")
	require.Contains(t, res.Message, "account assignments 5 of 5 present (3 restored by the cutover)")

	// Each gate told the person what to do next.
	require.Equal(t, workflows.GateAWSSPMetadata, atSPGate.Gate.Name)
	require.Contains(t, atSPGate.Gate.Instructions, "Change identity source")
	require.Contains(t, gate.CommandsIn(atSPGate.Gate.Instructions), "starter submit-sp-metadata --workflow-id "+testWorkflowID+" --file sp.xml --by NAME")
	require.Equal(t, workflows.GateSCIMCredentials, atSCIMGate.Gate.Name)
	require.Contains(t, atSCIMGate.Gate.Instructions, "starter metadata --workflow-id "+testWorkflowID+" -o idp.xml")
	require.Contains(t, atSCIMGate.Gate.Instructions, "Automatic provisioning")
	require.Equal(t, workflows.GateConfirmSignIn, atSignInGate.Gate.Name)
	require.Contains(t, gate.CommandsIn(atSignInGate.Gate.Instructions), "starter approve --workflow-id "+testWorkflowID+" --gate confirm-sign-in --by NAME")

	// The steps got what the earlier steps and the person gave.
	require.Equal(t, workflows.BreakGlassUserName(workflowtest.IdentityStoreID), f.breakGlass[0].UserName)
	require.Equal(t, testWorkflowID, f.breakGlass[0].WorkflowID)
	require.Equal(t, "https://eu-west-1.signin.aws.amazon.com/platform/saml/"+workflowtest.IdentityStoreID, f.saml[0].EntityID)
	require.Equal(t, "https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/"+workflowtest.ACSTenantID, f.saml[0].ACSURL)
	require.Equal(t, workflowtest.App, f.saml[0].App)
	require.Len(t, f.saml[0].ACSURLs, 3, "every ACS URL of the metadata goes to Entra as a reply URL")
	require.Equal(t, f.saml[0].ACSURL, f.saml[0].ACSURLs[0], "the default first")
	require.Equal(t, workflowtest.SCIMEndpoint, f.configure[0].SCIMEndpoint)
	require.Equal(t, testTokenRef, f.configure[0].SCIMToken)
	require.Equal(t, 250, f.configure[0].DeleteThreshold, "the request's accidental-deletion threshold is saved with the credentials")
	require.Equal(t, 2, f.count(identitycenter.VerifyAssignmentsName), "verified after the first finished cycle, and again until complete")
	require.True(t, f.verify[0].Restore)
	require.Equal(t, runRef("aws-inventory", 1), f.verify[0].Snapshot)

	// The result lists every resource, with references to secrets only.
	r := res.Resources
	require.NotNil(t, r)
	require.Equal(t, testPasswordRef, r.BreakGlass.Password)
	require.Equal(t, workflowtest.App, *r.App)
	require.Equal(t, "ABCDEF0123456789ABCDEF0123456789ABCDEF01", r.SigningCertificate.Thumbprint)
	require.Equal(t, 3, r.GroupAssignments.Groups)
	require.Equal(t, testTokenRef, r.SCIM.Token)
	require.Equal(t, "AWSSingleSignon.abc.def", r.Provisioning.JobID)
	require.Equal(t, 3, r.Provisioning.OnDemandGroups)
	require.Equal(t, 3, r.Provisioning.Checks, "not run yet; a cycle (incomplete); a cycle (complete)")
	require.Equal(t, 3, r.Verification.AssignmentsRestored, "restored assignments add up over the checks")
	require.Len(t, res.Decisions, 4)
}

func TestTheApprovalAtPreflightAnswersAtTheNextGate(t *testing.T) {
	env, _ := newCutoverEnv(t)
	var approve *updateOutcome
	at(env, time.Minute, func() {
		approve = sendUpdate(t, env, workflows.OpApprove, workflows.GateDecision{Gate: workflows.GatePreflight, By: "alice"})
	})
	at(env, time.Hour, func() { rejectAt(env, workflows.GateAWSSPMetadata) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.True(t, approve.completed)
	require.NoError(t, approve.err)
	require.Equal(t, workflows.PhaseAwaitingSPMeta, approve.status.Phase)
	require.Equal(t, workflows.GateAWSSPMetadata, approve.status.Gate.Name)
	require.NotNil(t, approve.status.Resources.BreakGlass, "the break-glass user exists before the person touches the identity source")
}

func rejectAt(env interface {
	SignalWorkflow(string, any)
}, gate string) {
	env.SignalWorkflow(workflows.OpReject, workflows.GateDecision{Gate: gate, By: "carol", Reason: "change window closed"})
}

func TestBadServiceProviderMetadataIsRefusedAndChangesNothing(t *testing.T) {
	env, f := newCutoverEnv(t)
	good := testSPMetadata(t)
	otherRegion := strings.ReplaceAll(good, "eu-west-1", "us-east-1")
	var outcomes []*updateOutcome
	var afterSignal workflows.CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() {
		for _, xml := range []string{"", "<not-metadata/>", otherRegion} {
			outcomes = append(outcomes, sendUpdate(t, env, workflows.OpSubmitSPMetadata, workflows.GateDecision{Gate: workflows.GateAWSSPMetadata, By: "alice", SPMetadataXML: xml}))
		}
		// Metadata at the wrong gate, and fields of another operation.
		outcomes = append(outcomes, sendUpdate(t, env, workflows.OpSubmitSCIM, workflows.GateDecision{Gate: workflows.GateAWSSPMetadata, By: "alice", SCIMEndpoint: workflowtest.SCIMEndpoint, SCIMToken: &testTokenRef}))
		outcomes = append(outcomes, sendUpdate(t, env, workflows.OpReject, workflows.GateDecision{Gate: workflows.GateAWSSPMetadata, By: "alice", Reason: "x", SPMetadataXML: good}))
		env.SignalWorkflow(workflows.OpSubmitSPMetadata, workflows.GateDecision{Gate: workflows.GateAWSSPMetadata, By: "mallory", SPMetadataXML: "<x/>"})
	})
	at(env, 3*time.Minute, func() { afterSignal = queryStatus(t, env) })
	at(env, time.Hour, func() { rejectAt(env, workflows.GateAWSSPMetadata) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	wantErrors := []string{`"spMetadataXml" is required`, "AWS service provider metadata", "us-east-1", "takes submit-sp-metadata, reject or rollback", `"spMetadataXml" belongs to submit-sp-metadata`}
	for i, out := range outcomes {
		require.Error(t, out.rejected, "update %d", i)
		require.Contains(t, out.rejected.Error(), wantErrors[i], "update %d", i)
	}
	require.Equal(t, workflows.GateAWSSPMetadata, afterSignal.Gate.Name, "the gate stays open")
	require.Equal(t, 1, afterSignal.RefusedTotal)
	require.Equal(t, "mallory", afterSignal.Refused[0].By)
	require.Nil(t, afterSignal.Resources.ServiceProvider)
	require.Zero(t, f.count(entra.EnsureEnterpriseAppName), "nothing was created in Entra")
	res := result(t, env)
	require.Equal(t, workflows.PhaseRolledBack, res.Outcome)
	require.Empty(t, res.Rollback.Steps, "nothing but the break-glass user existed")
	require.Contains(t, res.Message, "delete the break-glass IAM user "+workflows.BreakGlassUserName(workflowtest.IdentityStoreID))
}

func TestSCIMEndpointsAreCheckedBeforeAnythingIsCalled(t *testing.T) {
	for _, tc := range []struct {
		endpoint string
		sandbox  bool
		problem  string
	}{
		{endpoint: workflowtest.SCIMEndpoint},
		{endpoint: workflowtest.SCIMEndpoint + "/"},
		{endpoint: "", problem: "is required"},
		{endpoint: "http://scim.eu-west-1.amazonaws.com/t/scim/v2", problem: "not https"},
		{endpoint: "https://scim.us-east-1.amazonaws.com/t/scim/v2", problem: "not on scim.eu-west-1.amazonaws.com"},
		{endpoint: "https://evil.example/t/scim/v2", problem: "not on scim.eu-west-1.amazonaws.com"},
		{endpoint: "https://scim.eu-west-1.amazonaws.com/t/scim/v1", problem: "want the SCIM endpoint"},
		{endpoint: "https://user:pw@scim.eu-west-1.amazonaws.com/t/scim/v2", problem: "want the SCIM endpoint"},
		{endpoint: "http://127.0.0.1:8080/t/scim/v2", problem: "not https"},
		{endpoint: "http://127.0.0.1:8080/t/scim/v2", sandbox: true},
		{endpoint: "http://example.com/t/scim/v2", sandbox: true, problem: "not https"},
	} {
		err := workflows.CheckSCIMEndpoint(tc.endpoint, "eu-west-1", tc.sandbox)
		if tc.problem == "" {
			require.NoError(t, err, tc.endpoint)
		} else {
			require.ErrorContains(t, err, tc.problem, tc.endpoint)
		}
	}

	// The partition decides the DNS suffix (see internal/partition).
	for _, tc := range []struct{ region, endpoint, problem string }{
		{region: "cn-north-1", endpoint: "https://scim.cn-north-1.amazonaws.com.cn/t/scim/v2"},
		{region: "cn-north-1", endpoint: "https://scim.cn-north-1.amazonaws.com/t/scim/v2", problem: "not on scim.cn-north-1.amazonaws.com.cn"},
		{region: "us-gov-west-1", endpoint: "https://scim.us-gov-west-1.amazonaws.com/t/scim/v2"},
	} {
		err := workflows.CheckSCIMEndpoint(tc.endpoint, tc.region, false)
		if tc.problem == "" {
			require.NoError(t, err, tc.endpoint)
		} else {
			require.ErrorContains(t, err, tc.problem, tc.endpoint)
		}
	}
}

func TestATokenTheEndpointRefusesReopensTheGate(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.scimErrs = []error{temporal.NewNonRetryableApplicationError("the SCIM endpoint refused the token (401): create a new token", scim.ErrTokenRejected, nil)}
	var badToken, missingToken, goodToken *updateOutcome
	var reopened workflows.CutoverStatus
	jobsBeforeAGoodToken := -1
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() {
		missingToken = sendUpdate(t, env, workflows.OpSubmitSCIM, workflows.GateDecision{Gate: workflows.GateSCIMCredentials, By: "alice", SCIMEndpoint: workflowtest.SCIMEndpoint})
		badToken = sendUpdate(t, env, workflows.OpSubmitSCIM, workflows.GateDecision{Gate: workflows.GateSCIMCredentials, By: "alice", SCIMEndpoint: workflowtest.SCIMEndpoint, SCIMToken: &testTokenRef})
	})
	at(env, 4*time.Minute, func() {
		reopened = queryStatus(t, env)
		jobsBeforeAGoodToken = f.count(entra.EnsureProvisioningJobName)
		goodToken = sendUpdate(t, env, workflows.OpSubmitSCIM, workflows.GateDecision{Gate: workflows.GateSCIMCredentials, By: "alice", SCIMEndpoint: workflowtest.SCIMEndpoint, SCIMToken: &testTokenRef})
	})
	at(env, 10*time.Hour, func() { confirmSignIn(env) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.ErrorContains(t, missingToken.rejected, `"scimToken" is required`)
	require.True(t, badToken.accepted)
	require.ErrorContains(t, badToken.err, "refused the token", "the sender hears why")
	require.Equal(t, workflows.GateSCIMCredentials, reopened.Gate.Name)
	require.Contains(t, reopened.Gate.Instructions, "The last submission was refused: the SCIM endpoint refused the token")
	require.Nil(t, reopened.Resources.SCIM)
	require.Zero(t, jobsBeforeAGoodToken, "a refused token sets nothing up")
	require.NoError(t, goodToken.err)
	require.Equal(t, workflows.PhaseCompleted, result(t, env).Outcome)
}

func TestCredentialsEntraRefusesReopenTheGate(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.configureErrs = []error{temporal.NewNonRetryableApplicationError("validateCredentials failed", entra.ErrSCIMCredentialsRejected, nil)}
	var reopened workflows.CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() { submitSCIM(env) })
	at(env, 4*time.Minute, func() { reopened = queryStatus(t, env); submitSCIM(env) })
	at(env, 10*time.Hour, func() { confirmSignIn(env) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.Equal(t, workflows.GateSCIMCredentials, reopened.Gate.Name)
	require.Contains(t, reopened.Gate.Instructions, "validateCredentials failed")
	require.Equal(t, 1, f.count(entra.EnsureProvisioningJobName), "the job is created once")
	require.Equal(t, 2, f.count(entra.ConfigureProvisioningName))
	require.Equal(t, workflows.PhaseCompleted, result(t, env).Outcome)
}

func TestAQuarantinedJobBringsThePersonBackForANewToken(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.jobStatuses = []model.ProvisioningJobStatus{{Code: model.JobQuarantine, QuarantineReason: "EncounteredQuarantineException: invalid credentials"}, cycleDone}
	var back workflows.CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() { submitSCIM(env) })
	at(env, 5*time.Hour, func() { back = queryStatus(t, env); submitSCIM(env) })
	at(env, 10*time.Hour, func() { confirmSignIn(env) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.Equal(t, workflows.GateSCIMCredentials, back.Gate.Name)
	require.Contains(t, back.Gate.Instructions, "went to quarantine: EncounteredQuarantineException: invalid credentials")
	require.Equal(t, 2, f.count(entra.StartProvisioningName), "started again with the new token")
	require.Equal(t, workflows.PhaseCompleted, result(t, env).Outcome)
}

func TestAnIncompleteVerificationNeedsAnOverrideToFinish(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.verifications = []model.AssignmentVerification{incompleteVerification}
	req := testRequest()
	req.VerifyInterval, req.VerifyDeadline = "10m", "30m"
	var plain, override *updateOutcome
	var gateStatus workflows.CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() { submitSCIM(env) })
	at(env, 2*time.Hour, func() {
		gateStatus = queryStatus(t, env)
		plain = sendUpdate(t, env, workflows.OpApprove, workflows.GateDecision{Gate: workflows.GateConfirmSignIn, By: "bob"})
		override = sendUpdate(t, env, workflows.OpApprove, workflows.GateDecision{Gate: workflows.GateConfirmSignIn, By: "bob", Override: true, Reason: "the missing groups are being retired"})
	})

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, req)

	require.Equal(t, 3, f.count(identitycenter.VerifyAssignmentsName), "checked every 10 minutes until the 30-minute deadline")
	require.Contains(t, gateStatus.Gate.Instructions, "Something is missing")
	require.ErrorContains(t, plain.rejected, `approve with "override": true`)
	require.NoError(t, override.err)
	res := result(t, env)
	require.Equal(t, workflows.PhaseCompleted, res.Outcome)
	require.True(t, res.Decisions[len(res.Decisions)-1].Override)
}

func TestRejectAtTheSCIMGateRollsBackNewestFirst(t *testing.T) {
	env, f := newCutoverEnv(t)
	var atRevert workflows.CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() { rejectAt(env, workflows.GateSCIMCredentials) })
	at(env, 4*time.Minute, func() { atRevert = queryStatus(t, env); confirmGate(env, workflows.GateRevertIdentitySource) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	res := result(t, env)
	require.Equal(t, workflows.PhaseRolledBack, res.Outcome)
	require.Equal(t, workflows.TriggerReject, res.Rollback.Trigger)
	require.Equal(t, "carol", res.Rollback.RequestedBy)
	var undone []string
	for _, step := range res.Rollback.Steps {
		undone = append(undone, step.Kind+": "+step.Outcome)
	}
	require.Equal(t, []string{"automated: done", "automated: done", "person: confirmed by a person", "automated: done"}, undone)
	require.Contains(t, res.Rollback.Steps[0].Undoes, "group assignments")
	require.Contains(t, res.Rollback.Steps[1].Undoes, "enterprise app")
	require.Contains(t, res.Rollback.Steps[2].Undoes, "identity source")
	require.Contains(t, res.Rollback.Steps[3].Undoes, "account assignments")
	calls := f.calledInOrder()
	require.Equal(t, []string{entra.RemoveAppGroupAssignmentsName, entra.DeleteEnterpriseAppName, identitycenter.VerifyAssignmentsName}, calls[len(calls)-3:])
	require.True(t, f.verify[len(f.verify)-1].Restore, "the snapshot's assignments are restored after the revert")
	require.Equal(t, workflows.GateRevertIdentitySource, atRevert.Gate.Name)
	require.Equal(t, workflows.PhaseRollingBack, atRevert.Phase)
	require.Len(t, atRevert.Rollback.Steps, 2, "status shows the rollback's progress")
	require.Len(t, atRevert.PendingCompensations, 2)
	require.Contains(t, atRevert.Gate.Instructions, "Identity Center directory")
	require.Len(t, res.Rollback.ByHand, 1, "only the break-glass user is left to a person")
	require.Empty(t, queryStatus(t, env).PendingCompensations)
	details := workflowtest.CurrentDetails(t, env)
	require.Contains(t, details, "### Rollback")
	require.Contains(t, details, "Triggered by reject (carol: change window closed)")
	require.Contains(t, details, "Undone (person): the identity source change in IAM Identity Center: confirmed by a person by carol")
	require.Contains(t, details, "By hand: when no longer needed, delete the break-glass IAM user")
}

func TestAPermanentFailureCreatingTheAppAsksToRetryOrRollBack(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.appErr = temporal.NewNonRetryableApplicationError("Graph refused: the worker's app lacks Application.ReadWrite.All; grant it", entra.ErrAccessDenied, nil)
	var failed workflows.CutoverStatus
	var retry *updateOutcome
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() {
		failed = queryStatus(t, env)
		retry = sendUpdate(t, env, workflows.OpRetry, workflows.GateDecision{Gate: workflows.GateStepFailed, By: "alice"})
	})
	at(env, 4*time.Minute, func() {
		env.SignalWorkflow(workflows.OpRollback, workflows.GateDecision{Gate: workflows.GateStepFailed, By: "alice", Reason: "permission not granted today"})
	})
	at(env, 5*time.Minute, func() { confirmGate(env, workflows.GateRevertIdentitySource) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.Equal(t, workflows.GateStepFailed, failed.Gate.Name)
	require.Contains(t, failed.Gate.Instructions, "lacks Application.ReadWrite.All")
	require.Contains(t, failed.Gate.Instructions, "starter retry")
	require.True(t, retry.accepted)
	require.True(t, retry.completed, "a retry whose step fails again is answered")
	require.NoError(t, retry.err)
	require.Equal(t, workflows.GateStepFailed, retry.status.Gate.Name, "the answer shows the step failed again")
	require.Equal(t, 2, f.count(entra.EnsureEnterpriseAppName), "retried once")
	res := result(t, env)
	require.Equal(t, workflows.PhaseRolledBack, res.Outcome)
	require.Equal(t, workflows.TriggerStepFailed, res.Rollback.Trigger)
	require.Zero(t, f.count(entra.DeleteEnterpriseAppName), "no attempt returned an app")
	// The undo recorded before the step looks for an app an attempt may
	// have created without reporting it, by its name.
	require.Equal(t, []string{workflows.EnterpriseAppName(testRequest().IdentityStoreID)}, f.deletedByName)
	require.Len(t, res.Rollback.Steps, 3, "the app looked for by name, the identity source change and the assignments it may drop")
	require.Contains(t, res.Rollback.Steps[0].Undoes, "if an attempt created it")
}

func TestARollbackWhileProvisioningRunsStopsAtTheNextCheck(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.jobStatuses = []model.ProvisioningJobStatus{notRunYet}
	var answer *updateOutcome
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() { submitSCIM(env) })
	at(env, 6*time.Minute, func() {
		answer = sendUpdate(t, env, workflows.OpRollback, workflows.GateDecision{By: "alice", Reason: "wrong tenant"})
	})
	at(env, 7*time.Minute, func() { confirmGate(env, workflows.GateDeleteSCIMTokens) })
	at(env, 8*time.Minute, func() { confirmGate(env, workflows.GateRevertIdentitySource) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.True(t, answer.accepted, "%v", answer.rejected)
	require.NoError(t, answer.err)
	res := result(t, env)
	require.Equal(t, workflows.PhaseRolledBack, res.Outcome)
	require.Equal(t, workflows.TriggerRollback, res.Rollback.Trigger)
	require.Equal(t, 1, f.count(entra.StopProvisioningName))
	require.Len(t, res.Rollback.Steps, 6)
	require.Equal(t, workflows.OutcomeConfirmed, res.Rollback.Steps[1].Outcome, "the SCIM tokens, by a person")
}

func TestCancellingTheWorkflowRollsBack(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.jobStatuses = []model.ProvisioningJobStatus{notRunYet}
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() { submitSCIM(env) })
	var byUpdate *updateOutcome
	at(env, 6*time.Minute, func() { env.CancelWorkflow() })
	at(env, 7*time.Minute, func() {
		byUpdate = sendUpdate(t, env, workflows.OpApprove, workflows.GateDecision{Gate: workflows.GateDeleteSCIMTokens, By: "carol"})
	})
	at(env, 8*time.Minute, func() { confirmGate(env, workflows.GateRevertIdentitySource) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.True(t, env.IsWorkflowCompleted())
	require.True(t, byUpdate.completed)
	require.NoError(t, byUpdate.err, "an update still gets its answer after the cancellation")
	var res workflows.CutoverResult
	if err := env.GetWorkflowError(); err == nil {
		require.NoError(t, env.GetWorkflowResult(&res))
	}
	st := queryStatus(t, env)
	require.Equal(t, workflows.PhaseRolledBack, st.Phase)
	require.Equal(t, workflows.TriggerCancelled, st.Rollback.Trigger)
	require.Len(t, st.Rollback.Steps, 6)
	require.Equal(t, 1, f.count(entra.DeleteEnterpriseAppName))
	require.Equal(t, 1, f.count(entra.StopProvisioningName))
}

func TestACompensationThatKeepsFailingAsksAPerson(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.deleteAppErrs = []error{
		temporal.NewNonRetryableApplicationError("403: the worker's app may not delete applications", entra.ErrAccessDenied, nil),
		temporal.NewNonRetryableApplicationError("403: the worker's app may not delete applications", entra.ErrAccessDenied, nil),
	}
	var failed workflows.CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() {
		env.SignalWorkflow(workflows.OpRollback, workflows.GateDecision{Gate: workflows.GateSCIMCredentials, By: "carol", Reason: "stop"})
	})
	at(env, 4*time.Minute, func() {
		failed = queryStatus(t, env)
		env.SignalWorkflow(workflows.OpRetry, workflows.GateDecision{Gate: workflows.GateCompensationFailed, By: "carol"})
	})
	at(env, 5*time.Minute, func() {
		env.SignalWorkflow(workflows.OpSkip, workflows.GateDecision{Gate: workflows.GateCompensationFailed, By: "carol", Reason: "deleted the app in the Entra portal"})
	})
	at(env, 6*time.Minute, func() { confirmGate(env, workflows.GateRevertIdentitySource) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.Equal(t, workflows.GateCompensationFailed, failed.Gate.Name)
	require.Contains(t, failed.Gate.Instructions, "may not delete applications")
	res := result(t, env)
	require.Equal(t, 2, f.count(entra.DeleteEnterpriseAppName))
	require.Equal(t, workflows.OutcomeSkipped, res.Rollback.Steps[1].Outcome)
	require.Contains(t, res.Rollback.Steps[1].Detail, "deleted the app in the Entra portal")
	require.Len(t, res.Rollback.ByHand, 2, "the skipped compensation and the break-glass user")
}

func TestSecretsTravelAsReferences(t *testing.T) {
	bad := []secretref.Ref{
		{ARN: "the-token-itself"},
		{ARN: testTokenRef.ARN, VersionID: "short"},
	}
	for _, ref := range bad {
		require.Error(t, ref.Validate(), ref.ARN)
	}
	require.NoError(t, testTokenRef.Validate())
}

func TestAGateLeftUnansweredRemindsThenRollsBack(t *testing.T) {
	env, _ := newCutoverEnv(t)
	req := testRequest()
	req.GateTimeout, req.OnGateTimeout = "72h", workflows.OnGateTimeoutRollback
	var reminded workflows.CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 40*time.Hour, func() { reminded = queryStatus(t, env) })
	at(env, 80*time.Hour, func() { confirmGate(env, workflows.GateRevertIdentitySource) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, req)

	require.Equal(t, workflows.GateSCIMCredentials, reminded.Gate.Name)
	require.False(t, reminded.Gate.RemindedAt.IsZero(), "reminded halfway")
	require.Contains(t, reminded.Step, "REMINDER: gate scim-credentials has waited 36h")
	res := result(t, env)
	require.Equal(t, workflows.PhaseRolledBack, res.Outcome)
	require.Equal(t, workflows.TriggerGateTimeout, res.Rollback.Trigger)
}

func TestAGateLeftUnansweredOnlyRemindsByDefault(t *testing.T) {
	env, _ := newCutoverEnv(t)
	req := testRequest()
	req.GateTimeout = "2h"
	var later workflows.CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 10*time.Hour, func() { later = queryStatus(t, env) })
	at(env, 11*time.Hour, func() { rejectAt(env, workflows.GateAWSSPMetadata) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, req)

	require.Equal(t, workflows.GateAWSSPMetadata, later.Gate.Name, "still waiting after five timeouts")
	require.Contains(t, later.Step, "REMINDER")
	require.Equal(t, workflows.TriggerReject, result(t, env).Rollback.Trigger)
}

func TestGateTimeoutsAreChecked(t *testing.T) {
	req := testRequest()
	req.GateTimeout, req.OnGateTimeout = "10s", "explode"
	err := req.Validate()
	require.ErrorContains(t, err, "gateTimeout")
	require.ErrorContains(t, err, "onGateTimeout")
}

// A cutover that asks for it schedules the SCIM token rotation of what it
// set up once it completes; a failure to schedule leaves it complete and
// says how to schedule by hand.
func TestACompletedCutoverSchedulesTheTokenRotation(t *testing.T) {
	for _, fail := range []bool{false, true} {
		env, _ := newCutoverEnv(t)
		var got []schedules.EnsureRotationScheduleInput
		env.OnActivity(schedules.EnsureRotationScheduleName, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in schedules.EnsureRotationScheduleInput) (schedules.EnsureRotationScheduleResult, error) {
				got = append(got, in)
				if fail {
					return schedules.EnsureRotationScheduleResult{}, temporal.NewNonRetryableApplicationError("no permission to create schedules", "PermissionDenied", nil)
				}
				return schedules.EnsureRotationScheduleResult{ScheduleID: workflows.RotationScheduleID(workflowtest.IdentityStoreID), Created: true}, nil
			})
		xml := testSPMetadata(t)
		at(env, time.Minute, func() { approvePreflight(env) })
		at(env, 2*time.Minute, func() { submitSPMetadata(env, xml) })
		at(env, 3*time.Minute, func() { submitSCIM(env) })
		at(env, 10*time.Hour, func() { confirmSignIn(env) })
		req := testRequest()
		req.ScheduleTokenRotation = true
		env.ExecuteWorkflow(workflows.CutoverWorkflowName, req)

		res := result(t, env)
		require.Equal(t, workflows.PhaseCompleted, res.Outcome)
		require.Len(t, got, 1)
		rotation := got[0].Request
		require.Equal(t, workflowtest.App, rotation.App)
		require.Equal(t, "AWSSingleSignon.abc.def", rotation.JobID)
		require.Equal(t, workflowtest.SCIMEndpoint, rotation.SCIMEndpoint)
		require.Equal(t, testTokenRef.ARN, rotation.TokenSecret)
		require.NoError(t, rotation.Validate())
		if fail {
			require.Contains(t, res.Message, "could not be scheduled")
			require.Contains(t, res.Message, "starter rotation schedule --identity-store "+workflowtest.IdentityStoreID)
			require.Empty(t, res.Resources.RotationSchedule)
		} else {
			require.Contains(t, res.Message, "checks the SCIM token daily")
			require.Equal(t, workflows.RotationScheduleID(workflowtest.IdentityStoreID), res.Resources.RotationSchedule)
		}
	}
}

// A tenant policy that refuses AWS's entity ID stops the SAML step at a
// gate that says which exemption to make; after it, retry goes on.
func TestAnIdentifierURIThePolicyBlocksAsksForTheExemption(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.samlErrs = []error{temporal.NewNonRetryableApplicationError(
		"Entra refused AWS's entity ID ... exempts SAML apps ... excludeSaml ... Then retry this step", entra.ErrIdentifierURIBlocked, nil)}
	var failed workflows.CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() {
		failed = queryStatus(t, env)
		env.SignalWorkflow(workflows.OpRetry, workflows.GateDecision{Gate: workflows.GateStepFailed, By: "alice"})
	})
	at(env, 4*time.Minute, func() {
		env.SignalWorkflow(workflows.OpReject, workflows.GateDecision{Gate: workflows.GateSCIMCredentials, By: "alice", Reason: "test ends here"})
	})
	at(env, 5*time.Minute, func() { confirmGate(env, workflows.GateRevertIdentitySource) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.Equal(t, workflows.GateStepFailed, failed.Gate.Name)
	require.Contains(t, failed.Gate.Instructions, "excludeSaml")
	require.Contains(t, failed.Gate.Instructions, "starter retry")
	require.Equal(t, 2, f.count(entra.ConfigureSAMLName), "the retry ran the step again")
}

// An attempt that created the app and then gave up on it (it never became
// readable) names the app in its error: a rollback from gate step-failed
// deletes it, though the step never returned it.
func TestAnAppAFailedAttemptCreatedIsDeletedByTheRollback(t *testing.T) {
	env, f := newCutoverEnv(t)
	left := model.EnterpriseApp{DisplayName: "AWS IAM Identity Center (d-1234567890)", AppID: "00000000-0000-0000-0000-0000000000aa",
		ApplicationObjectID: "00000000-0000-0000-0000-0000000000bb", ServicePrincipalID: "00000000-0000-0000-0000-0000000000cc"}
	f.appErr = temporal.NewNonRetryableApplicationError("the enterprise application is still not readable: it was probably deleted",
		entra.ErrAppNotFound, nil, entra.AppAttempt{App: left, Created: true})
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() {
		env.SignalWorkflow(workflows.OpRollback, workflows.GateDecision{Gate: workflows.GateStepFailed, By: "alice", Reason: "Entra is slow today"})
	})
	at(env, 4*time.Minute, func() { confirmGate(env, workflows.GateRevertIdentitySource) })
	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	res := result(t, env)
	require.Equal(t, workflows.PhaseRolledBack, res.Outcome)
	require.Equal(t, 1, f.count(entra.DeleteEnterpriseAppName), "the app the failed attempt created is deleted")
	require.Equal(t, left, f.deletedApps[0])
	require.Empty(t, f.deletedByName, "the app is known, so the undo by name was replaced by the undo by ID")
}
