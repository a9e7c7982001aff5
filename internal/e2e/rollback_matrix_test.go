package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/platformguide/ssocutover/internal/secretstore"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/sandboxworker"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/worker/app"
	"github.com/platformguide/ssocutover/workflows"
)

// rollbackPoint is where a rollback is triggered: a reject or a
// cancellation at a gate, a cancellation or rollback while provisioning
// runs, or a step that fails for good (its Graph call forbidden).
type rollbackPoint struct {
	name     string
	rejectAt string
	cancelAt string
	// rollbackWhileProvisioning sends rollback (no gate) once provisioning runs.
	rollbackWhileProvisioning bool
	cancelWhileProvisioning   bool
	forbid                    string
	trigger                   string
}

var rollbackPoints = []rollbackPoint{
	{name: "reject at aws-sp-metadata", rejectAt: workflows.GateAWSSPMetadata, trigger: workflows.TriggerReject},
	{name: "cancel at aws-sp-metadata", cancelAt: workflows.GateAWSSPMetadata, trigger: workflows.TriggerCancelled},
	{name: "enterprise app fails", forbid: "POST /applicationTemplates/*/instantiate", trigger: workflows.TriggerStepFailed},
	{name: "SAML setup fails", forbid: "PATCH /servicePrincipals/*", trigger: workflows.TriggerStepFailed},
	{name: "signing certificate fails", forbid: "POST /servicePrincipals/*/addTokenSigningCertificate", trigger: workflows.TriggerStepFailed},
	{name: "group assignment fails", forbid: "POST /servicePrincipals/*/appRoleAssignedTo", trigger: workflows.TriggerStepFailed},
	{name: "reject at scim-credentials", rejectAt: workflows.GateSCIMCredentials, trigger: workflows.TriggerReject},
	{name: "cancel at scim-credentials", cancelAt: workflows.GateSCIMCredentials, trigger: workflows.TriggerCancelled},
	{name: "provisioning job fails", forbid: "POST /servicePrincipals/*/synchronization/jobs", trigger: workflows.TriggerStepFailed},
	{name: "provisioning credentials fail", forbid: "PUT /servicePrincipals/*/synchronization/secrets", trigger: workflows.TriggerStepFailed},
	{name: "provisioning start fails", forbid: "POST /servicePrincipals/*/synchronization/jobs/*/start", trigger: workflows.TriggerStepFailed},
	{name: "rollback while provisioning", rollbackWhileProvisioning: true, trigger: workflows.TriggerRollback},
	{name: "cancel while provisioning", cancelWhileProvisioning: true, trigger: workflows.TriggerCancelled},
	{name: "reject at confirm-sign-in", rejectAt: workflows.GateConfirmSignIn, trigger: workflows.TriggerReject},
	{name: "cancel at confirm-sign-in", cancelAt: workflows.GateConfirmSignIn, trigger: workflows.TriggerCancelled},
}

// For every step and gate after the preflight, a rollback there brings the
// sandbox back to where it started, apart from the break-glass user. The
// workflow runs in the SDK's test environment with the real activities,
// the real SDK clients and the sandbox; a person plays each gate.
func TestRollbackFromEveryPointRestoresTheWorld(t *testing.T) {
	for _, point := range rollbackPoints {
		t.Run(point.name, func(t *testing.T) {
			opts := sandbox.Options{}
			if point.forbid != "" {
				opts.Graph.ForbiddenPaths = []string{point.forbid}
			}
			if point.rollbackWhileProvisioning || point.cancelWhileProvisioning {
				opts.Graph.FirstCycleDelay = time.Hour
			}
			run := newInProcessCutover(t, world.Sample(), opts)
			st := run.play(t, point)
			require.Equal(t, workflows.PhaseRolledBack, st.Phase, "step: %s", st.Step)
			require.Equal(t, point.trigger, st.Rollback.Trigger)
			assertWorldRestored(t, run.sandbox, run.world, st.CutoverStatus)
		})
	}
}

// inProcessCutover is a cutover in the SDK's test environment with the
// real activities against a sandbox.
type inProcessCutover struct {
	env     *testsuite.TestWorkflowEnvironment
	sandbox *sandbox.Sandbox
	world   *world.World
	secrets secretstore.API
}

func newInProcessCutover(t *testing.T, w *world.World, opts sandbox.Options) *inProcessCutover {
	sb, err := sandbox.Start(w, opts)
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	cfg := sandboxworker.Config(sb, w, t.TempDir())
	acts, err := app.NewActivities(context.Background(), cfg)
	require.NoError(t, err)
	awsConfig, err := app.AWSConfig(context.Background(), cfg)
	require.NoError(t, err)

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.CutoverWorkflowID(w.AWS.IdentityStoreID)})
	env.SetTestTimeout(2 * time.Minute)
	app.Register(env, acts)
	return &inProcessCutover{env: env, sandbox: sb, world: w, secrets: secretsmanager.NewFromConfig(awsConfig)}
}

// play runs the cutover, answering each gate as a person would until the
// point is reached, then as the rollback asks, and returns the final status.
func (r *inProcessCutover) play(t *testing.T, point rollbackPoint) statusJSON {
	ctx := context.Background()
	answered := map[time.Time]bool{}
	triggered := false
	// The person looks every minute of the workflow's clock; the clock only
	// moves while the workflow waits, so each look finds it at rest.
	for minute := 1; minute <= 200; minute++ {
		r.env.RegisterDelayedCallback(func() {
			var st workflows.CutoverStatus
			v, err := r.env.QueryWorkflow(workflows.QueryStatus)
			require.NoError(t, err)
			require.NoError(t, v.Get(&st))
			if !triggered && st.Gate == nil && st.Phase == workflows.PhaseProvisioning && st.Resources != nil &&
				st.Resources.Provisioning != nil && !st.Resources.Provisioning.StartedAt.IsZero() {
				switch {
				case point.cancelWhileProvisioning:
					triggered = true
					r.env.CancelWorkflow()
				case point.rollbackWhileProvisioning:
					triggered = true
					r.env.SignalWorkflow(workflows.OpRollback, workflows.GateDecision{By: "tester", Reason: "test"})
				}
				return
			}
			if st.Gate == nil || answered[st.Gate.OpenedAt] {
				return
			}
			answered[st.Gate.OpenedAt] = true
			gate := st.Gate.Name
			switch {
			case !triggered && gate == point.cancelAt:
				triggered = true
				r.env.CancelWorkflow()
				return
			case !triggered && gate == point.rejectAt:
				triggered = true
				r.decide(workflows.OpReject, workflows.GateDecision{Gate: gate, By: "tester", Reason: "test"})
				return
			}
			r.answer(t, ctx, st)
		}, time.Duration(minute)*time.Minute)
	}

	req := workflows.CutoverRequest{
		IdentityStoreID: r.world.AWS.IdentityStoreID, InstanceARN: r.world.AWS.InstanceARN, Region: r.world.AWS.Region,
		EntraTenantID: r.world.Entra.TenantID, RequestedBy: "tester", Sandbox: true, VerifyInterval: "30s", VerifyDeadline: "1h",
	}
	r.env.ExecuteWorkflow(workflows.CutoverWorkflowName, req)
	require.True(t, r.env.IsWorkflowCompleted())

	var st statusJSON
	v, err := r.env.QueryWorkflow(workflows.QueryStatus)
	require.NoError(t, err)
	require.NoError(t, v.Get(&st.CutoverStatus))
	return st
}

// answer plays the person at a gate on the way forward or in the rollback.
func (r *inProcessCutover) answer(t *testing.T, ctx context.Context, st workflows.CutoverStatus) {
	gate := st.Gate.Name
	switch gate {
	case workflows.GatePreflight:
		r.decide(workflows.OpApprove, workflows.GateDecision{Gate: gate, By: "tester", Override: true, Reason: "test"})
	case workflows.GateAWSSPMetadata:
		metadata, err := r.sandbox.SwitchIdentitySourceToExternal()
		require.NoError(t, err)
		r.decide(workflows.OpSubmitSPMetadata, workflows.GateDecision{Gate: gate, By: "tester", SPMetadataXML: string(metadata)})
	case workflows.GateSCIMCredentials:
		require.NoError(t, r.sandbox.UploadIdPMetadata([]byte(st.Resources.IdPMetadata.MetadataXML)))
		creds, err := r.sandbox.EnableAutomaticProvisioning()
		require.NoError(t, err)
		ref, err := secretstore.Put(ctx, r.secrets, workflows.SCIMTokenSecretName(st.Request.IdentityStoreID), secretstore.NewValue(creds.Token),
			strings.Repeat("a", 32), nil)
		require.NoError(t, err)
		r.decide(workflows.OpSubmitSCIM, workflows.GateDecision{Gate: gate, By: "tester", SCIMEndpoint: creds.SCIMEndpoint, SCIMToken: &ref})
	case workflows.GateConfirmSignIn:
		r.decide(workflows.OpApprove, workflows.GateDecision{Gate: gate, By: "tester", Override: true, Reason: "test"})
	case workflows.GateStepFailed:
		r.decide(workflows.OpRollback, workflows.GateDecision{Gate: gate, By: "tester", Reason: "the step cannot be fixed today"})
	case workflows.GateCompensationFailed:
		// The permission a step lacked may be what the compensation needs
		// too: the person grants it and retries.
		r.sandbox.SetGraphForbiddenPaths(nil)
		r.decide(workflows.OpRetry, workflows.GateDecision{Gate: gate, By: "tester"})
	case workflows.GateDeleteSCIMTokens:
		for _, token := range r.sandbox.ListSCIMTokens() {
			require.NoError(t, r.sandbox.DeleteSCIMToken(token.ID))
		}
		require.NoError(t, r.sandbox.DisableAutomaticProvisioning())
		r.decide(workflows.OpApprove, workflows.GateDecision{Gate: gate, By: "tester"})
	case workflows.GateRevertIdentitySource:
		require.NoError(t, r.sandbox.RevertToBuiltInDirectory())
		r.decide(workflows.OpApprove, workflows.GateDecision{Gate: gate, By: "tester"})
	default:
		t.Fatalf("the cutover waits at gate %s: %s", gate, st.Gate.Instructions)
	}
}

func (r *inProcessCutover) decide(op string, d workflows.GateDecision) {
	r.env.SignalWorkflow(op, d)
}

// assertWorldRestored checks that the sandbox is back where the world
// started: no enterprise app, the built-in directory, no SCIM token, every
// account assignment of the world; the report leaves only the break-glass
// user to a person.
func assertWorldRestored(t *testing.T, sb *sandbox.Sandbox, w *world.World, st workflows.CutoverStatus) {
	t.Helper()
	require.Empty(t, sb.EnterpriseApps(), "the enterprise app is gone")
	source := sb.IdentitySource()
	require.Equal(t, sandbox.IdentitySourceBuiltIn, source.Source)
	require.False(t, source.AutomaticProvisioning)
	require.Empty(t, sb.ListSCIMTokens())
	requireWorldAssignments(t, sb, w)
	require.NotNil(t, st.Rollback)
	for _, step := range st.Rollback.Steps {
		require.NotEqual(t, workflows.OutcomeSkipped, step.Outcome, "%s", step.Undoes)
	}
	require.Len(t, st.Rollback.ByHand, 1)
	require.Contains(t, st.Rollback.ByHand[0], "break-glass IAM user")
	require.Empty(t, st.PendingCompensations)
}

// requireWorldAssignments checks that every account assignment of the
// world is in the sandbox, by account, permission set and principal name.
func requireWorldAssignments(t *testing.T, sb *sandbox.Sandbox, w *world.World) {
	t.Helper()
	present := map[string]bool{}
	for _, a := range sb.AccountAssignments() {
		present[a.AccountID+"/"+a.PermissionSetName+"/"+a.PrincipalType+"/"+strings.ToLower(a.PrincipalName)] = true
	}
	for _, a := range w.AWS.Assignments {
		principalType, principal := "GROUP", a.Group
		if a.User != "" {
			principalType, principal = "USER", a.User
		}
		require.True(t, present[a.Account+"/"+a.PermissionSet+"/"+principalType+"/"+strings.ToLower(principal)],
			"assignment %s/%s/%s is present", a.Account, a.PermissionSet, principal)
	}
}
