package gate

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/crypto/ssh"

	"github.com/platformguide/ssocutover/activities/notify"
	"github.com/platformguide/ssocutover/activities/policy"
	"github.com/platformguide/ssocutover/internal/approval"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/workflowtest"
)

// policyWorkflow, requested by alice asking for one approval at testGate,
// reads the worker's policy, works for an hour (a rollback
// may come then, with no gate open), then waits at testGate.
func policyWorkflow(ctx workflow.Context) (keeperResult, error) {
	st := &keeperStatus{GateState: NewState()}
	info := workflow.GetInfo(ctx).WorkflowExecution
	var rollback *Pending
	k := &Keeper{
		State:           &st.GateState,
		SetStep:         func(_ workflow.Context, phase, step string) { st.Phase, st.Step = phase, step },
		Publish:         func(workflow.Context) {},
		Step:            func() string { return st.Step },
		Kind:            "test",
		IdentityStoreID: workflowtest.IdentityStoreID,
		Summary:         func() string { return "a test" },
		FollowPolicy:    true,
		WithoutGate: &Gateless{
			Allowed: func(op string) bool { return op == workflows.OpRollback && rollback == nil },
			Take:    func(_ workflow.Context, d *Pending) { rollback = d },
		},
	}
	p, _ := ReadPolicy(ctx)
	k.Signing = NewSigning(info.ID, info.RunID, workflows.CutoverRequest{RequestedBy: "alice", RequiredApprovals: map[string]int{testGate: 1}}, p)
	if p.InForce() {
		st.ApprovalPolicy = &p
	}
	snapshot := func() keeperStatus { s := *st; s.GateState = CopyState(s.GateState); return s }
	if err := Listen(ctx, k, "test status", []string{workflows.OpReject, workflows.OpApprove, workflows.OpRollback}, snapshot); err != nil {
		return keeperResult{}, err
	}
	st.Step = "working"
	_ = workflow.Sleep(ctx, time.Hour)
	if rollback != nil {
		rollback.CarriedOut(nil)
		AwaitAnswers(ctx)
		return keeperResult{Decision: &rollback.Decision}, nil
	}
	d, err := k.Wait(ctx, &Gate{Name: testGate, Phase: "waiting", Instructions: "Decide.",
		Operations: []string{workflows.OpApprove, workflows.OpReject}}, Patience{})
	if err != nil {
		return keeperResult{Error: err.Error()}, nil
	}
	d.CarriedOut(nil)
	AwaitAnswers(ctx)
	return keeperResult{Decision: &d.Decision}, nil
}

type signer struct {
	name string
	ssh.Signer
}

func newSigner(t *testing.T, name string) signer {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	s, err := ssh.NewSignerFromKey(key)
	require.NoError(t, err)
	return signer{name, s}
}

func (s signer) approver() workflows.Approver {
	return workflows.Approver{Name: s.name, PublicKey: string(ssh.MarshalAuthorizedKey(s.PublicKey()))}
}

// signs makes a decision of op at gate, signed by s now.
func (s signer) signs(t *testing.T, env *testsuite.TestWorkflowEnvironment, op, gate string) workflows.GateDecision {
	// The test environment's run ID.
	text, err := approval.Statement{WorkflowID: "policy-test", RunID: "default-test-run-id",
		Gate: gate, Decision: op, SignedAt: env.Now()}.Text()
	require.NoError(t, err)
	sig, err := approval.Sign(text, s)
	require.NoError(t, err)
	return workflows.GateDecision{Gate: gate, By: s.name, Reason: "signed", Signature: sig, SignedAt: approval.FormatSignedAt(env.Now())}
}

// workerPolicy is the policy the test's worker reads; a test changes it.
type workerPolicy struct {
	mu sync.Mutex
	p  workflows.ApprovalPolicy
}

func (w *workerPolicy) set(p workflows.ApprovalPolicy) { w.mu.Lock(); w.p = p; w.mu.Unlock() }

func newPolicyEnv(t *testing.T, w *workerPolicy) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "policy-test"})
	env.RegisterWorkflow(policyWorkflow)
	env.RegisterActivityWithOptions(func(context.Context, notify.GateOpened) (notify.NotifyGateOpenedResult, error) {
		return notify.NotifyGateOpenedResult{}, nil
	}, activity.RegisterOptions{Name: notify.NotifyGateOpenedName})
	env.RegisterActivityWithOptions(func(context.Context, struct{}) (workflows.ApprovalPolicy, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.p, nil
	}, activity.RegisterOptions{Name: policy.LoadApprovalPolicyName})
	return env
}

func testPolicy(digest string, needed int, signed []string, approvers ...signer) workflows.ApprovalPolicy {
	p := workflows.ApprovalPolicy{Digest: digest, Source: "/etc/ssocutover/policy.yaml",
		RequiredApprovals: map[string]int{testGate: needed}, FourEyes: true, SignedOperations: signed}
	for _, a := range approvers {
		p.Approvers = append(p.Approvers, a.approver())
	}
	return p
}

// Under a policy that signs rollback, a rollback sent while no gate is
// open (a step runs) is refused unsigned, as signal and as update, and
// taken signed by an approver.
func TestAPolicyRefusesAnUnsignedRollbackWithNoGateOpen(t *testing.T) {
	bob := newSigner(t, "bob")
	w := &workerPolicy{p: testPolicy("sha256:one", 1, []string{workflows.OpRollback, workflows.OpApprove}, bob)}
	env := newPolicyEnv(t, w)
	var unsignedUpdate, signedUpdate *updateResult
	var afterSignal keeperStatus
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.OpRollback, workflows.GateDecision{By: "mallory", Reason: "stop it"})
		unsignedUpdate = sendUpdate(env, workflows.OpRollback, workflows.GateDecision{By: "mallory", Reason: "stop it"})
	}, 10*time.Minute)
	env.RegisterDelayedCallback(func() {
		afterSignal = workflowtest.StatusAs[keeperStatus](t, env)
		signedUpdate = sendUpdate(env, workflows.OpRollback, bob.signs(t, env, workflows.OpRollback, ""))
	}, 20*time.Minute)
	env.ExecuteWorkflow(policyWorkflow)

	res := workflowtest.ResultAs[keeperResult](t, env)
	require.Equal(t, workflows.OpRollback, res.Decision.Action)
	require.Equal(t, "bob", res.Decision.By, "the signer, whatever the decision said")
	require.ErrorContains(t, unsignedUpdate.rejected, "the worker's approval policy (sha256:one) requires rollback to be signed")
	require.Len(t, afterSignal.Refused, 1, "the unsigned signal is listed as refused")
	require.Contains(t, afterSignal.Refused[0].Error, "requires rollback to be signed")
	require.Equal(t, "sha256:one", afterSignal.ApprovalPolicy.Digest, "status shows the policy in force")
	require.True(t, signedUpdate.completed)
}

// The request asks for one approval, the policy for two: two are needed,
// and the requester's own signature does not count (four eyes).
func TestARequestCannotLowerThePolicysCount(t *testing.T) {
	alice, bob, carol := newSigner(t, "alice"), newSigner(t, "bob"), newSigner(t, "carol")
	w := &workerPolicy{p: testPolicy("sha256:two", 2, nil, alice, bob, carol)}
	env := newPolicyEnv(t, w)
	var atGate keeperStatus
	var byAlice, byBob, byCarol *updateResult
	env.RegisterDelayedCallback(func() {
		atGate = workflowtest.StatusAs[keeperStatus](t, env)
		byAlice = sendUpdate(env, workflows.OpApprove, alice.signs(t, env, workflows.OpApprove, testGate))
		byBob = sendUpdate(env, workflows.OpApprove, bob.signs(t, env, workflows.OpApprove, testGate))
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		byCarol = sendUpdate(env, workflows.OpApprove, carol.signs(t, env, workflows.OpApprove, testGate))
	}, 2*time.Hour+time.Minute)
	env.ExecuteWorkflow(policyWorkflow)

	require.Equal(t, 2, atGate.Gate.ApprovalsNeeded)
	require.ErrorContains(t, byAlice.rejected, "alice requested this cutover, and four eyes are required")
	require.True(t, byBob.completed)
	require.True(t, byCarol.completed)
	res := workflowtest.ResultAs[keeperResult](t, env)
	require.Equal(t, []string{"bob", "carol"}, res.Decision.ApprovedBy)
}

// A policy changed while the workflow runs applies at the next gate if it
// is stricter, and is ignored if it is not.
func TestAChangedPolicyAppliesOnlyIfStricter(t *testing.T) {
	bob, carol := newSigner(t, "bob"), newSigner(t, "carol")
	for name, tc := range map[string]struct {
		next   workflows.ApprovalPolicy
		digest string
		needed int
	}{
		"stricter: two approvals": {testPolicy("sha256:stricter", 2, nil, bob, carol), "sha256:stricter", 2},
		"looser: no four eyes": {func() workflows.ApprovalPolicy {
			p := testPolicy("sha256:looser", 1, nil, bob, carol)
			p.FourEyes = false
			return p
		}(), "sha256:first", 1},
		"looser: an approver added": {testPolicy("sha256:added", 1, nil, bob, carol, newSigner(t, "mallory")), "sha256:first", 1},
	} {
		t.Run(name, func(t *testing.T) {
			w := &workerPolicy{p: testPolicy("sha256:first", 1, nil, bob, carol)}
			env := newPolicyEnv(t, w)
			var atGate keeperStatus
			env.RegisterDelayedCallback(func() { w.set(tc.next) }, 10*time.Minute)
			env.RegisterDelayedCallback(func() {
				atGate = workflowtest.StatusAs[keeperStatus](t, env)
				env.SignalWorkflow(workflows.OpReject, workflows.GateDecision{Gate: testGate, By: "bob", Reason: "done"})
			}, 2*time.Hour)
			env.ExecuteWorkflow(policyWorkflow)
			require.Equal(t, tc.digest, atGate.ApprovalPolicy.Digest)
			require.Equal(t, tc.needed, atGate.Gate.ApprovalsNeeded)
		})
	}
}
