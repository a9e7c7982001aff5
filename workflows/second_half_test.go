package workflows

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/activities/scim"
	"github.com/platformguide/ssocutover/internal/secretref"
)

func TestAWholeCutoverWalksEveryGate(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.jobStatuses = []entra.ProvisioningJobStatusResult{notRunYet, cycleDone}
	f.verifications = []identitycenter.VerifyAssignmentsResult{incompleteVerification, completeVerification}
	xml := testSPMetadata(t)
	var atSPGate, atSCIMGate, atSignInGate CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { atSPGate = queryStatus(t, env); submitSPMetadata(env, xml) })
	at(env, 3*time.Minute, func() { atSCIMGate = queryStatus(t, env); submitSCIM(env) })
	at(env, 10*time.Hour, func() { atSignInGate = queryStatus(t, env); confirmSignIn(env) })

	env.ExecuteWorkflow(CutoverWorkflowName, testRequest())

	res := result(t, env)
	require.Equal(t, PhaseCompleted, res.Outcome)
	require.Contains(t, res.Message, "bob confirmed that signing in through Entra works")
	require.Contains(t, res.Message, "account assignments 5 of 5 present (3 restored by the cutover)")

	// Each gate told the person what to do next.
	require.Equal(t, GateAWSSPMetadata, atSPGate.Gate.Name)
	require.Contains(t, atSPGate.Gate.Instructions, "Change identity source")
	require.Contains(t, atSPGate.Gate.Instructions, "starter submit-sp-metadata --workflow-id "+testWorkflowID+" --file sp.xml")
	require.Equal(t, GateSCIMCredentials, atSCIMGate.Gate.Name)
	require.Contains(t, atSCIMGate.Gate.Instructions, "starter metadata --workflow-id "+testWorkflowID+" -o idp.xml")
	require.Contains(t, atSCIMGate.Gate.Instructions, "Automatic provisioning")
	require.Equal(t, GateConfirmSignIn, atSignInGate.Gate.Name)
	require.Contains(t, atSignInGate.Gate.Instructions, "starter approve --workflow-id "+testWorkflowID+" --gate confirm-sign-in --by NAME\n")

	// The steps got what the earlier steps and the person gave.
	require.Equal(t, BreakGlassUserName(testIdentityStoreID), f.breakGlass[0].UserName)
	require.Equal(t, testWorkflowID, f.breakGlass[0].WorkflowID)
	require.Equal(t, "https://eu-west-1.signin.aws.amazon.com/platform/saml/"+testIdentityStoreID, f.saml[0].EntityID)
	require.Equal(t, "https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/"+testACSTenantID, f.saml[0].ACSURL)
	require.Equal(t, testApp, f.saml[0].App)
	require.Equal(t, testSCIMEndpoint, f.configure[0].SCIMEndpoint)
	require.Equal(t, testTokenRef, f.configure[0].SCIMToken)
	require.Equal(t, 2, f.count(identitycenter.VerifyAssignmentsName), "verified after the first finished cycle, and again until complete")
	require.True(t, f.verify[0].Restore)
	require.Equal(t, runRef("aws-inventory", 1), f.verify[0].Snapshot)

	// The result lists every resource, with references to secrets only.
	r := res.Resources
	require.NotNil(t, r)
	require.Equal(t, testPasswordRef, r.BreakGlass.Password)
	require.Equal(t, testApp, *r.App)
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
		approve = sendUpdate(t, env, OpApprove, GateDecision{Gate: GatePreflight, By: "alice"})
	})
	at(env, time.Hour, func() { rejectAt(env, GateAWSSPMetadata) })

	env.ExecuteWorkflow(CutoverWorkflowName, testRequest())

	require.True(t, approve.completed)
	require.NoError(t, approve.err)
	require.Equal(t, PhaseAwaitingSPMeta, approve.status.Phase)
	require.Equal(t, GateAWSSPMetadata, approve.status.Gate.Name)
	require.NotNil(t, approve.status.Resources.BreakGlass, "the break-glass user exists before the person touches the identity source")
}

func rejectAt(env interface {
	SignalWorkflow(string, any)
}, gate string) {
	env.SignalWorkflow(OpReject, GateDecision{Gate: gate, By: "carol", Reason: "change window closed"})
}

func TestBadServiceProviderMetadataIsRefusedAndChangesNothing(t *testing.T) {
	env, f := newCutoverEnv(t)
	good := testSPMetadata(t)
	otherRegion := strings.ReplaceAll(good, "eu-west-1", "us-east-1")
	var outcomes []*updateOutcome
	var afterSignal CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() {
		for _, xml := range []string{"", "<not-metadata/>", otherRegion} {
			outcomes = append(outcomes, sendUpdate(t, env, OpSubmitSPMetadata, GateDecision{Gate: GateAWSSPMetadata, By: "alice", SPMetadataXML: xml}))
		}
		// Metadata at the wrong gate, and fields of another operation.
		outcomes = append(outcomes, sendUpdate(t, env, OpSubmitSCIM, GateDecision{Gate: GateAWSSPMetadata, By: "alice", SCIMEndpoint: testSCIMEndpoint, SCIMToken: &testTokenRef}))
		outcomes = append(outcomes, sendUpdate(t, env, OpReject, GateDecision{Gate: GateAWSSPMetadata, By: "alice", Reason: "x", SPMetadataXML: good}))
		env.SignalWorkflow(OpSubmitSPMetadata, GateDecision{Gate: GateAWSSPMetadata, By: "mallory", SPMetadataXML: "<x/>"})
	})
	at(env, 3*time.Minute, func() { afterSignal = queryStatus(t, env) })
	at(env, time.Hour, func() { rejectAt(env, GateAWSSPMetadata) })

	env.ExecuteWorkflow(CutoverWorkflowName, testRequest())

	wantErrors := []string{`"spMetadataXml" is required`, "AWS service provider metadata", "us-east-1", "takes submit-sp-metadata or reject", `"spMetadataXml" belongs to submit-sp-metadata`}
	for i, out := range outcomes {
		require.Error(t, out.rejected, "update %d", i)
		require.Contains(t, out.rejected.Error(), wantErrors[i], "update %d", i)
	}
	require.Equal(t, GateAWSSPMetadata, afterSignal.Gate.Name, "the gate stays open")
	require.Equal(t, 1, afterSignal.RefusedTotal)
	require.Equal(t, "mallory", afterSignal.Refused[0].By)
	require.Nil(t, afterSignal.Resources.ServiceProvider)
	require.Zero(t, f.count(entra.EnsureEnterpriseAppName), "nothing was created in Entra")
	res := result(t, env)
	require.Equal(t, PhaseRejected, res.Outcome)
	require.Contains(t, res.Message, "delete the break-glass IAM user "+BreakGlassUserName(testIdentityStoreID))
}

func TestSCIMEndpointsAreCheckedBeforeAnythingIsCalled(t *testing.T) {
	for _, tc := range []struct {
		endpoint string
		sandbox  bool
		problem  string
	}{
		{endpoint: testSCIMEndpoint},
		{endpoint: testSCIMEndpoint + "/"},
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
		err := checkSCIMEndpoint(tc.endpoint, "eu-west-1", tc.sandbox)
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
	var reopened CutoverStatus
	jobsBeforeAGoodToken := -1
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() {
		missingToken = sendUpdate(t, env, OpSubmitSCIM, GateDecision{Gate: GateSCIMCredentials, By: "alice", SCIMEndpoint: testSCIMEndpoint})
		badToken = sendUpdate(t, env, OpSubmitSCIM, GateDecision{Gate: GateSCIMCredentials, By: "alice", SCIMEndpoint: testSCIMEndpoint, SCIMToken: &testTokenRef})
	})
	at(env, 4*time.Minute, func() {
		reopened = queryStatus(t, env)
		jobsBeforeAGoodToken = f.count(entra.EnsureProvisioningJobName)
		goodToken = sendUpdate(t, env, OpSubmitSCIM, GateDecision{Gate: GateSCIMCredentials, By: "alice", SCIMEndpoint: testSCIMEndpoint, SCIMToken: &testTokenRef})
	})
	at(env, 10*time.Hour, func() { confirmSignIn(env) })

	env.ExecuteWorkflow(CutoverWorkflowName, testRequest())

	require.ErrorContains(t, missingToken.rejected, `"scimToken" is required`)
	require.True(t, badToken.accepted)
	require.ErrorContains(t, badToken.err, "refused the token", "the sender hears why")
	require.Equal(t, GateSCIMCredentials, reopened.Gate.Name)
	require.Contains(t, reopened.Gate.Instructions, "The last submission was refused: the SCIM endpoint refused the token")
	require.Nil(t, reopened.Resources.SCIM)
	require.Zero(t, jobsBeforeAGoodToken, "a refused token sets nothing up")
	require.NoError(t, goodToken.err)
	require.Equal(t, PhaseCompleted, result(t, env).Outcome)
}

func TestCredentialsEntraRefusesReopenTheGate(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.configureErrs = []error{temporal.NewNonRetryableApplicationError("validateCredentials failed", entra.ErrSCIMCredentialsRejected, nil)}
	var reopened CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() { submitSCIM(env) })
	at(env, 4*time.Minute, func() { reopened = queryStatus(t, env); submitSCIM(env) })
	at(env, 10*time.Hour, func() { confirmSignIn(env) })

	env.ExecuteWorkflow(CutoverWorkflowName, testRequest())

	require.Equal(t, GateSCIMCredentials, reopened.Gate.Name)
	require.Contains(t, reopened.Gate.Instructions, "validateCredentials failed")
	require.Equal(t, 1, f.count(entra.EnsureProvisioningJobName), "the job is created once")
	require.Equal(t, 2, f.count(entra.ConfigureProvisioningName))
	require.Equal(t, PhaseCompleted, result(t, env).Outcome)
}

func TestAQuarantinedJobBringsThePersonBackForANewToken(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.jobStatuses = []entra.ProvisioningJobStatusResult{{Code: entra.JobQuarantine, QuarantineReason: "EncounteredQuarantineException: invalid credentials"}, cycleDone}
	var back CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() { submitSCIM(env) })
	at(env, 5*time.Hour, func() { back = queryStatus(t, env); submitSCIM(env) })
	at(env, 10*time.Hour, func() { confirmSignIn(env) })

	env.ExecuteWorkflow(CutoverWorkflowName, testRequest())

	require.Equal(t, GateSCIMCredentials, back.Gate.Name)
	require.Contains(t, back.Gate.Instructions, "went to quarantine: EncounteredQuarantineException: invalid credentials")
	require.Equal(t, 2, f.count(entra.StartProvisioningName), "started again with the new token")
	require.Equal(t, PhaseCompleted, result(t, env).Outcome)
}

func TestAnIncompleteVerificationNeedsAnOverrideToFinish(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.verifications = []identitycenter.VerifyAssignmentsResult{incompleteVerification}
	req := testRequest()
	req.VerifyInterval, req.VerifyDeadline = "10m", "30m"
	var plain, override *updateOutcome
	var gateStatus CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() { submitSCIM(env) })
	at(env, 2*time.Hour, func() {
		gateStatus = queryStatus(t, env)
		plain = sendUpdate(t, env, OpApprove, GateDecision{Gate: GateConfirmSignIn, By: "bob"})
		override = sendUpdate(t, env, OpApprove, GateDecision{Gate: GateConfirmSignIn, By: "bob", Override: true, Reason: "the missing groups are being retired"})
	})

	env.ExecuteWorkflow(CutoverWorkflowName, req)

	require.Equal(t, 3, f.count(identitycenter.VerifyAssignmentsName), "checked every 10 minutes until the 30-minute deadline")
	require.Contains(t, gateStatus.Gate.Instructions, "Something is missing")
	require.ErrorContains(t, plain.rejected, `approve with "override": true`)
	require.NoError(t, override.err)
	res := result(t, env)
	require.Equal(t, PhaseCompleted, res.Outcome)
	require.True(t, res.Decisions[len(res.Decisions)-1].Override)
}

func TestRejectAtTheSCIMGateListsWhatToUndo(t *testing.T) {
	env, _ := newCutoverEnv(t)
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() { rejectAt(env, GateSCIMCredentials) })

	env.ExecuteWorkflow(CutoverWorkflowName, testRequest())

	res := result(t, env)
	require.Equal(t, PhaseRejected, res.Outcome)
	require.Contains(t, res.Message, "change the identity source back to the Identity Center directory")
	require.Contains(t, res.Message, `delete the enterprise app "`+testApp.DisplayName+`"`)
	require.Contains(t, res.Message, "break-glass IAM user")
}

func TestAPermanentFailureCreatingTheAppStopsSayingWhatExists(t *testing.T) {
	env, f := newCutoverEnv(t)
	f.appErr = temporal.NewNonRetryableApplicationError("Graph refused: the worker's app lacks Application.ReadWrite.All; grant it", entra.ErrAccessDenied, nil)
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })

	env.ExecuteWorkflow(CutoverWorkflowName, testRequest())

	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app))
	require.Equal(t, ErrStepFailed, app.Type())
	require.Contains(t, app.Error(), "lacks Application.ReadWrite.All")
	require.Contains(t, app.Error(), "start the cutover again")
	st := queryStatus(t, env)
	require.Equal(t, PhaseFailed, st.Phase)
	require.NotNil(t, st.Resources.BreakGlass)
	require.NotNil(t, st.Resources.ServiceProvider)
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
