package cutover

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/platformguide/ssocutover/activities/analysis"
	"github.com/platformguide/ssocutover/activities/checks"
	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/activities/notify"
	"github.com/platformguide/ssocutover/activities/policy"
	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/readiness"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/workflowtest"
)

var testWorkflowID = workflows.CutoverWorkflowID(workflowtest.IdentityStoreID)

func testRequest() workflows.CutoverRequest {
	return workflows.CutoverRequest{
		IdentityStoreID: workflowtest.IdentityStoreID,
		Region:          "eu-west-1",
		EntraTenantID:   "00000000-0000-0000-0000-000000000001",
		RequestedBy:     "ops@corp.example",
	}
}

// Summaries the fake analysis returns.
var (
	cleanSummary = preflight.Summary{
		Warnings: 1,
		ByCode:   []preflight.CodeCount{{Code: preflight.UserAssignment, Severity: preflight.Warning, Count: 1}},
		Stats:    preflight.Stats{Groups: 3, MatchedGroups: 3, AWSUsers: 10, UsersToProvision: 10, Assignments: 5, Accounts: 2, PermissionSets: 2},
	}
	blockedSummary = preflight.Summary{
		Blockers: 3, Warnings: 1,
		ByCode: []preflight.CodeCount{
			{Code: preflight.MissingGroup, Severity: preflight.Blocker, Count: 1},
			{Code: preflight.DuplicateEmail, Severity: preflight.Blocker, Count: 2},
			{Code: preflight.UserAssignment, Severity: preflight.Warning, Count: 1},
		},
		Stats: preflight.Stats{Groups: 3, MatchedGroups: 2, AWSUsers: 10, UsersToProvision: 9, Assignments: 5, Accounts: 2, PermissionSets: 2},
	}
)

// fakePreflight plays the three preflight activities through env.OnActivity.
// Run n (counted by inventory calls) answers with summaries[n-1], the last
// one repeating, and with references that name the run, so a test can tell
// which run a status shows.
type fakePreflight struct {
	summaries []preflight.Summary
	// delay is how long, on the workflow's clock, each inventory takes.
	delay time.Duration
	// awsErr, when set, is what the AWS inventory fails with, from run
	// awsErrFromRun on (from the first when zero).
	awsErr        error
	awsErrFromRun int
	// secondHalf lets the cutover go on after the preflight gate (with a
	// fakeSecondHalf installed). Without it stopAfterPreflight ends an
	// approved cutover at the next gate, which keeps the preflight tests
	// about the preflight.
	secondHalf bool
	// notReady are the readiness checks that fail in the first
	// notReadyRuns runs (every run when zero).
	notReady     []readiness.Check
	notReadyRuns int

	mu             sync.Mutex
	readinessRuns  int
	awsInputs      []identitycenter.InventoryAWSInput
	entraInputs    []entra.InventoryEntraInput
	analysisInputs []analysis.AnalyzePreflightInput
}

func runRef(kind string, run int) store.Ref {
	digest := fmt.Sprintf("%064d", run)
	return store.Ref{Key: kind + "-" + digest, Digest: digest, Size: 1 << 20}
}

// install registers the three activity names (the workflow calls them by
// name) and mocks them.
func (f *fakePreflight) install(env *testsuite.TestWorkflowEnvironment) {
	registerActivityNames(env, checks.CheckReadinessName, identitycenter.InventoryAWSName, entra.InventoryEntraName, analysis.AnalyzePreflightName)
	if !f.secondHalf {
		installStopAfterPreflight(env)
	}

	env.OnActivity(checks.CheckReadinessName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in checks.CheckReadinessInput) (readiness.Report, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.readinessRuns++
			report := readiness.Report{Checks: []readiness.Check{{Area: readiness.AreaAWS, Name: "AWS identity", Status: readiness.OK, Detail: in.Region}}}
			if f.notReadyRuns == 0 || f.readinessRuns <= f.notReadyRuns {
				report.Add(f.notReady...)
			}
			return report, nil
		})
	env.OnActivity(identitycenter.InventoryAWSName, mock.Anything, mock.Anything).After(f.delay).Return(
		func(_ context.Context, in identitycenter.InventoryAWSInput) (identitycenter.InventoryAWSResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.awsInputs = append(f.awsInputs, in)
			if f.awsErr != nil && len(f.awsInputs) >= f.awsErrFromRun {
				return identitycenter.InventoryAWSResult{}, f.awsErr
			}
			return identitycenter.InventoryAWSResult{
				Inventory:   runRef("aws-inventory", len(f.awsInputs)),
				InstanceARN: "arn:aws:sso:::instance/ssoins-1234567890abcdef",
				Groups:      3, Users: 10, Assignments: 5, Accounts: 2, PermissionSets: 2,
				APICalls:          []apicalls.OperationCount{{Operation: "identitystore.ListUsers", Calls: 1}, {Operation: "sso-admin.ListInstances", Calls: 1}},
				AssignmentListing: harnessListing,
			}, nil
		})
	env.OnActivity(entra.InventoryEntraName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in entra.InventoryEntraInput) (entra.InventoryEntraResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.entraInputs = append(f.entraInputs, in)
			return entra.InventoryEntraResult{
				Inventory: runRef("entra-inventory", len(f.entraInputs)),
				Groups:    3, Candidates: 2, Users: 9,
				APICalls: []apicalls.OperationCount{{Operation: "graph.$batch", Calls: 1}, {Operation: "identitystore.ListUsers", Calls: 2}},
			}, nil
		})
	env.OnActivity(analysis.AnalyzePreflightName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in analysis.AnalyzePreflightInput) (analysis.AnalyzePreflightResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.analysisInputs = append(f.analysisInputs, in)
			run := len(f.analysisInputs)
			summary := f.summaries[min(run, len(f.summaries))-1]
			return analysis.AnalyzePreflightResult{Report: runRef("preflight-report", run), Summary: summary}, nil
		})
}

// The decision with which stopAfterPreflight ends a cutover.
const (
	stopBy     = "test-harness"
	stopReason = "the test is about the preflight"
)

// stopAfterPreflight ends a cutover whose test is about the preflight.
// Once approved, the cutover creates the break-glass user (played here) and
// opens gate aws-sp-metadata, where this rejects it; the rollback then ends
// it with nothing to undo (the break-glass user stays). passedPreflight
// checks that this is what happened.
type stopAfterPreflight struct {
	env *testsuite.TestWorkflowEnvironment
}

func installStopAfterPreflight(env *testsuite.TestWorkflowEnvironment) *stopAfterPreflight {
	registerActivityNames(env, identitycenter.EnsureBreakGlassUserName)
	env.OnActivity(identitycenter.EnsureBreakGlassUserName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in identitycenter.EnsureBreakGlassUserInput) (identitycenter.EnsureBreakGlassUserResult, error) {
			return identitycenter.EnsureBreakGlassUserResult{BreakGlassUser: model.BreakGlassUser{UserName: in.UserName,
				UserARN:    "arn:aws:iam::123456789012:user/" + in.UserName,
				PolicyARNs: []string{identitycenter.DefaultBreakGlassPolicyARN}, Password: testPasswordRef}, Created: true}, nil
		})
	s := &stopAfterPreflight{env: env}
	env.SetOnActivityCompletedListener(func(info *activity.Info, _ converter.EncodedValue, err error) { s.activityCompleted(info, err) })
	return s
}

// activityCompleted rejects the cutover at the gate that follows the
// break-glass user. The test environment calls it on its main loop, where
// a callback may be registered; the callback runs once the workflow waits.
func (s *stopAfterPreflight) activityCompleted(info *activity.Info, err error) {
	if info.ActivityType.Name != identitycenter.EnsureBreakGlassUserName || err != nil {
		return
	}
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(workflows.OpReject, workflows.GateDecision{Gate: workflows.GateAWSSPMetadata, By: stopBy, Reason: stopReason})
	}, time.Second)
}

// passedPreflight is the result of a cutover that stopAfterPreflight
// ended. It checks that the approved cutover went on to the break-glass
// user and gate aws-sp-metadata and was rolled back there by the harness
// alone, and returns the result with the harness's decision taken off: the
// decisions the test itself made.
func passedPreflight(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.CutoverResult {
	t.Helper()
	res := result(t, env)
	require.Equal(t, workflows.PhaseRolledBack, res.Outcome, res.Message)
	require.NotNil(t, res.Resources, "the approved cutover went on")
	require.NotNil(t, res.Resources.BreakGlass, "the approved cutover created the break-glass user")
	require.NotEmpty(t, res.Decisions)
	last := res.Decisions[len(res.Decisions)-1]
	require.Equal(t, workflows.Decision{Gate: workflows.GateAWSSPMetadata, Action: workflows.OpReject, By: stopBy, Reason: stopReason, At: last.At}, last,
		"the cutover reached gate aws-sp-metadata, where the harness rejected it")
	require.Equal(t, workflows.TriggerReject, res.Rollback.Trigger)
	require.Empty(t, res.Rollback.Steps, "nothing to undo before the console steps")
	res.Decisions = res.Decisions[:len(res.Decisions)-1]
	return res
}

// mockReadiness makes the readiness checks find everything ready (the
// caller registers checks.CheckReadinessName first).
func mockReadiness(env *testsuite.TestWorkflowEnvironment) {
	env.OnActivity(checks.CheckReadinessName, mock.Anything, mock.Anything).Return(
		readiness.Report{Checks: []readiness.Check{{Area: readiness.AreaAWS, Name: "AWS identity", Status: readiness.OK}}}, nil)
}

// runs is how many times each activity ran: AWS, Entra, analysis.
func (f *fakePreflight) runs() [3]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return [3]int{len(f.awsInputs), len(f.entraInputs), len(f.analysisInputs)}
}

// registerActivityNames registers placeholders so env.OnActivity can mock
// the activities by the names the workflow calls; the worker registers the
// real ones. A placeholder that runs means a mock is missing.
func registerActivityNames(env *testsuite.TestWorkflowEnvironment, names ...string) {
	for _, name := range names {
		var fn any
		switch name {
		case identitycenter.InventoryAWSName:
			fn = func(context.Context, identitycenter.InventoryAWSInput) (identitycenter.InventoryAWSResult, error) {
				panic("InventoryAWS is not mocked")
			}
		case entra.InventoryEntraName:
			fn = func(context.Context, entra.InventoryEntraInput) (entra.InventoryEntraResult, error) {
				panic("InventoryEntra is not mocked")
			}
		case checks.CheckReadinessName:
			fn = func(context.Context, checks.CheckReadinessInput) (readiness.Report, error) {
				panic("CheckReadiness is not mocked")
			}
		case analysis.AnalyzePreflightName:
			fn = func(context.Context, analysis.AnalyzePreflightInput) (analysis.AnalyzePreflightResult, error) {
				panic("AnalyzePreflight is not mocked")
			}
		default:
			fn = secondHalfPlaceholder(name)
		}
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}

// newEnv is a test environment with the cutover registered, started under
// the workflow ID a cutover of testIdentityStoreID must have.
func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	return newEnvWithPolicy(t, &workerPolicy{})
}

// workerPolicy is the approval policy the test's worker reads.
type workerPolicy struct {
	mu     sync.Mutex
	policy workflows.ApprovalPolicy
}

// newEnvWithPolicy is newEnv with a worker whose approval policy is p's.
func newEnvWithPolicy(t *testing.T, p *workerPolicy) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: testWorkflowID})
	Register(env)
	env.RegisterActivityWithOptions(func(context.Context, struct{}) (workflows.ApprovalPolicy, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.policy, nil
	}, activity.RegisterOptions{Name: policy.LoadApprovalPolicyName})
	// Gates are announced; tests that look at the announcements mock it.
	env.RegisterActivityWithOptions(func(context.Context, notify.GateOpened) (notify.NotifyGateOpenedResult, error) {
		return notify.NotifyGateOpenedResult{}, nil
	}, activity.RegisterOptions{Name: notify.NotifyGateOpenedName})
	env.RegisterActivityWithOptions(func(context.Context, notify.Attention) (notify.NotifyGateOpenedResult, error) {
		return notify.NotifyGateOpenedResult{}, nil
	}, activity.RegisterOptions{Name: notify.NotifyAttentionName})
	return env
}

// decision is a gate decision at gate preflight.
func decision(by, reason string, override bool) workflows.GateDecision {
	return workflows.GateDecision{Gate: workflows.GatePreflight, By: by, Reason: reason, Override: override}
}

// updateOutcome is how the workflow answered one update.
type updateOutcome struct {
	accepted  bool
	rejected  error
	completed bool
	status    workflows.CutoverStatus
	err       error
}

// sendUpdate sends an update now (call it from a delayed callback); its
// outcome fills in as the workflow answers.
func sendUpdate(t *testing.T, env *testsuite.TestWorkflowEnvironment, op string, input any) *updateOutcome {
	out := &updateOutcome{}
	env.UpdateWorkflow(op, "", &testsuite.TestUpdateCallback{
		OnAccept: func() { out.accepted = true },
		OnReject: func(err error) { out.rejected = err },
		OnComplete: func(v any, err error) {
			out.completed, out.err = true, err
			if err == nil {
				st, ok := v.(workflows.CutoverStatus)
				require.True(t, ok, "update answered with %T, want CutoverStatus", v)
				out.status = st
			}
		},
	}, input)
	return out
}

// at runs fn at offset d on the workflow's clock.
func at(env *testsuite.TestWorkflowEnvironment, d time.Duration, fn func()) {
	env.RegisterDelayedCallback(fn, d)
}

func queryStatus(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.CutoverStatus {
	t.Helper()
	return workflowtest.StatusAs[workflows.CutoverStatus](t, env)
}

func result(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.CutoverResult {
	t.Helper()
	return workflowtest.ResultAs[workflows.CutoverResult](t, env)
}

// jsonSize is the size of v as the default data converter's JSON.
func jsonSize(t *testing.T, v any) int {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return len(data)
}

// harnessListing is how the harness's AWS inventory says it listed the
// assignments.
var harnessListing = preflight.AssignmentListing{Strategy: preflight.ListPerPrincipal, Pairs: 9, Principals: 8, Reason: "8 users and groups take fewer calls than 9 pairs"}
