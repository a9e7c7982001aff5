package cutover

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"golang.org/x/crypto/ssh"

	"github.com/platformguide/ssocutover/internal/approval"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/workflowtest"
)

// person is someone with an SSH key made for the test.
type person struct {
	name   string
	signer ssh.Signer
}

func newPerson(t *testing.T, name string) person {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(key)
	require.NoError(t, err)
	return person{name: name, signer: signer}
}

func (p person) approver() workflows.Approver {
	return workflows.Approver{Name: p.name, PublicKey: string(ssh.MarshalAuthorizedKey(p.signer.PublicKey()))}
}

// signedRequest is the test request with approvers, needing `needed`
// approvals at gate preflight.
func signedRequest(needed int, approvers ...person) workflows.CutoverRequest {
	req := testRequest()
	for _, p := range approvers {
		req.Approvers = append(req.Approvers, p.approver())
	}
	req.RequiredApprovals = map[string]int{workflows.GatePreflight: needed}
	return req
}

// statement is what p signs; a test changes it to sign the wrong thing.
type statement = approval.Statement

// preflightStatement is an approve at gate preflight of the running
// cutover, signed now.
func preflightStatement(t *testing.T, env *testsuite.TestWorkflowEnvironment) statement {
	st := queryStatus(t, env)
	require.NotEmpty(t, st.RunID, "status names the run a statement must name")
	return statement{WorkflowID: st.WorkflowID, RunID: st.RunID, Gate: workflows.GatePreflight, Decision: workflows.OpApprove, SignedAt: env.Now()}
}

// sign makes the decision p sends at gate preflight with s signed.
func (p person) sign(t *testing.T, s statement) workflows.GateDecision {
	t.Helper()
	text, err := s.Text()
	require.NoError(t, err)
	sig, err := approval.Sign(text, p.signer)
	require.NoError(t, err)
	return workflows.GateDecision{Gate: workflows.GatePreflight, By: "whoever " + p.name + " claims to be", Override: s.Override,
		Signature: sig, SignedAt: approval.FormatSignedAt(s.SignedAt)}
}

func TestASignedApprovalIsTakenAndNamesItsApprover(t *testing.T) {
	alice, bob := newPerson(t, "alice"), newPerson(t, "bob")
	env := newEnv(t)
	(&fakePreflight{summaries: []preflight.Summary{cleanSummary}}).install(env)
	var approve *updateOutcome
	at(env, time.Minute, func() {
		st := queryStatus(t, env)
		require.Equal(t, 1, st.Gate.ApprovalsNeeded)
		approve = sendUpdate(t, env, workflows.OpApprove, alice.sign(t, preflightStatement(t, env)))
	})

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, signedRequest(1, alice, bob))

	require.NoError(t, approve.rejected)
	require.True(t, approve.completed)
	res := passedPreflight(t, env)
	require.Len(t, res.Decisions, 1)
	d := res.Decisions[0]
	require.Equal(t, "alice", d.By, "a signed decision is by the approver whose key signed it")
	require.Equal(t, "alice", d.Signer.Name)
	require.Equal(t, ssh.FingerprintSHA256(alice.signer.PublicKey()), d.Signer.Fingerprint)
	require.Equal(t, []string{"alice"}, d.ApprovedBy)
	require.Empty(t, d.Approval, "one approval needed: nothing to count")
}

func TestAGateNeedingTwoApproversClosesAtTheSecondDistinctOne(t *testing.T) {
	alice, bob := newPerson(t, "alice"), newPerson(t, "bob")
	env := newEnv(t)
	(&fakePreflight{summaries: []preflight.Summary{cleanSummary}}).install(env)
	var first, aliceAgain *updateOutcome
	at(env, time.Minute, func() { first = sendUpdate(t, env, workflows.OpApprove, alice.sign(t, preflightStatement(t, env))) })
	at(env, 2*time.Minute, func() {
		require.True(t, first.completed, "the first approval is answered at once")
		require.NoError(t, first.err)
		require.NotNil(t, first.status.Gate, "the gate stays open for the second approver")
		require.Equal(t, []string{"alice"}, signerNames(first.status.Gate.Approvals))

		// Too few distinct approvers: alice again, with a new statement.
		aliceAgain = sendUpdate(t, env, workflows.OpApprove, alice.sign(t, preflightStatement(t, env)))
		env.SignalWorkflow(workflows.OpApprove, alice.sign(t, preflightStatement(t, env)))
	})
	at(env, 3*time.Minute, func() {
		st := queryStatus(t, env)
		require.Equal(t, workflows.PhaseAwaitingPreflight, st.Phase)
		require.NotNil(t, st.Gate)
		require.Len(t, st.Gate.Approvals, 1)
		require.Equal(t, 1, st.RefusedTotal)
		require.Contains(t, st.Refused[0].Error, "alice already approved gate preflight (1 of 2 approvals): another approver must approve")
		require.Contains(t, st.Step, "waits for 1 more approver")
		details := workflowtest.CurrentDetails(t, env)
		require.Contains(t, details, "approve needs 2 distinct approvers, so far 1")
		require.Contains(t, details, "by alice (signed, key "+ssh.FingerprintSHA256(alice.signer.PublicKey())+", approval 1 of 2)")
		env.SignalWorkflow(workflows.OpApprove, bob.sign(t, preflightStatement(t, env)))
	})

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, signedRequest(2, alice, bob))

	require.ErrorContains(t, aliceAgain.rejected, "alice already approved gate preflight")
	res := passedPreflight(t, env)
	require.Len(t, res.Decisions, 2, "each signed approval is recorded")
	require.Equal(t, "1 of 2", res.Decisions[0].Approval)
	require.Equal(t, "alice", res.Decisions[0].By)
	require.Equal(t, "2 of 2", res.Decisions[1].Approval)
	require.Equal(t, []string{"alice", "bob"}, res.Decisions[1].ApprovedBy)
}

func signerNames(signers []workflows.Signer) []string {
	var names []string
	for _, s := range signers {
		names = append(names, s.Name)
	}
	return names
}

// Every bad signed decision is refused, as an update (by the validator) and
// as a signal (recorded in status), and the gate stays open: a good one
// sent afterwards still closes it.
func TestBadSignedDecisionsAreRefusedWithTheGateStillOpen(t *testing.T) {
	alice, bob, mallory := newPerson(t, "alice"), newPerson(t, "bob"), newPerson(t, "mallory")
	type bad struct {
		name string
		req  workflows.CutoverRequest
		// decision is sent at minute 30 (the gate opened at minute 0).
		decision func(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.GateDecision
		want     string
	}
	changed := func(p person, change func(*statement)) func(*testing.T, *testsuite.TestWorkflowEnvironment) workflows.GateDecision {
		return func(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.GateDecision {
			s := preflightStatement(t, env)
			change(&s)
			return p.sign(t, s)
		}
	}
	same := func(*statement) {}
	notOver := "the signature is not over this statement"
	separate := signedRequest(1, alice, bob)
	separate.RequestedBy = "Alice"
	separate.SeparateRequester = true
	cases := []bad{
		{"unsigned", signedRequest(1, alice), func(*testing.T, *testsuite.TestWorkflowEnvironment) workflows.GateDecision {
			return decision("alice", "", false)
		}, "gate preflight takes only decisions signed by an approver (alice)"},
		{"wrong key", signedRequest(1, alice), changed(mallory, same), "is not the key of an approver the cutover request names"},
		{"another gate", signedRequest(1, alice), changed(alice, func(s *statement) { s.Gate = workflows.GateConfirmSignIn }), notOver},
		{"another workflow", signedRequest(1, alice), changed(alice, func(s *statement) { s.WorkflowID = "cutover-d-0000000000" }), notOver},
		{"another run", signedRequest(1, alice), changed(alice, func(s *statement) { s.RunID = "an-earlier-run" }), notOver},
		{"another decision", signedRequest(1, alice), changed(alice, func(s *statement) { s.Decision = workflows.OpRecheck }), notOver},
		{"an approval turned into an override", signedRequest(1, alice), func(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.GateDecision {
			d := alice.sign(t, preflightStatement(t, env))
			d.Override, d.Reason = true, "sneaky"
			return d
		}, notOver},
		{"another signedAt", signedRequest(1, alice), func(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.GateDecision {
			d := alice.sign(t, preflightStatement(t, env))
			d.SignedAt = approval.FormatSignedAt(env.Now().Add(-time.Minute))
			return d
		}, notOver},
		{"stale", signedRequest(1, alice), changed(alice, func(s *statement) { s.SignedAt = s.SignedAt.Add(-16 * time.Minute) }),
			"more than 15m0s before the workflow took it"},
		{"signed before the gate opened", signedRequest(1, alice), changed(alice, func(s *statement) { s.SignedAt = s.SignedAt.Add(-40 * time.Minute) }),
			"before gate preflight opened"},
		{"from the future", signedRequest(1, alice), changed(alice, func(s *statement) { s.SignedAt = s.SignedAt.Add(10 * time.Minute) }),
			"later than the workflow's time"},
		{"signedAt in another spelling", signedRequest(1, alice), func(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.GateDecision {
			d := alice.sign(t, preflightStatement(t, env))
			d.SignedAt = env.Now().Format(time.RFC3339Nano)
			return d
		}, "want UTC to the second"},
		{"the requester approving with separateRequester", separate, changed(alice, same), "alice requested this cutover, and four eyes are required"},
		{"a signature where the request names no approvers", testRequest(), changed(alice, same), "names no approvers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			(&fakePreflight{summaries: []preflight.Summary{cleanSummary}}).install(env)
			var update *updateOutcome
			at(env, 30*time.Minute, func() {
				update = sendUpdate(t, env, workflows.OpApprove, c.decision(t, env))
				env.SignalWorkflow(workflows.OpApprove, c.decision(t, env))
			})
			at(env, 31*time.Minute, func() {
				st := queryStatus(t, env)
				require.Equal(t, workflows.PhaseAwaitingPreflight, st.Phase)
				require.NotNil(t, st.Gate, "the gate is still open")
				require.Empty(t, st.Decisions)
				require.Equal(t, 1, st.RefusedTotal, "the signal is recorded as refused")
				require.Contains(t, st.Refused[0].Error, c.want)
				// A good decision still closes the gate.
				if len(c.req.Approvers) == 0 {
					env.SignalWorkflow(workflows.OpApprove, decision("alice", "", false))
				} else {
					env.SignalWorkflow(workflows.OpApprove, bobOrAlice(c.req, alice, bob).sign(t, preflightStatement(t, env)))
				}
			})

			env.ExecuteWorkflow(workflows.CutoverWorkflowName, c.req)

			require.False(t, update.accepted, "the validator refuses the update")
			require.ErrorContains(t, update.rejected, "approve refused: ")
			require.ErrorContains(t, update.rejected, c.want)
			passedPreflight(t, env)
		})
	}
}

// bobOrAlice is an approver of req who may approve.
func bobOrAlice(req workflows.CutoverRequest, alice, bob person) person {
	if req.SeparateRequester || len(req.Approvers) > 1 {
		return bob
	}
	return alice
}

// A signature counts once: sent again (as an update or a signal) it is
// refused, even at a gate that still waits for approvals.
func TestAReplayedSignatureIsRefused(t *testing.T) {
	alice, bob := newPerson(t, "alice"), newPerson(t, "bob")
	env := newEnv(t)
	(&fakePreflight{summaries: []preflight.Summary{cleanSummary}}).install(env)
	var signed workflows.GateDecision
	var first, replayed *updateOutcome
	at(env, time.Minute, func() {
		signed = alice.sign(t, preflightStatement(t, env))
		first = sendUpdate(t, env, workflows.OpApprove, signed)
	})
	at(env, 2*time.Minute, func() {
		replayed = sendUpdate(t, env, workflows.OpApprove, signed)
		env.SignalWorkflow(workflows.OpApprove, signed)
	})
	at(env, 3*time.Minute, func() {
		st := queryStatus(t, env)
		require.NotNil(t, st.Gate)
		require.Len(t, st.Gate.Approvals, 1)
		require.Equal(t, 1, st.RefusedTotal)
		require.Contains(t, st.Refused[0].Error, "alice's signature of this statement was already used")
		env.SignalWorkflow(workflows.OpApprove, bob.sign(t, preflightStatement(t, env)))
	})

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, signedRequest(2, alice, bob))

	require.True(t, first.accepted)
	require.False(t, replayed.accepted)
	require.ErrorContains(t, replayed.rejected, "already used")
	require.Equal(t, []string{"alice", "bob"}, result(t, env).Decisions[1].ApprovedBy)
}

// At a gate that needs approvals, a reject needs one signature too, and
// the requester may give it even with separateRequester.
func TestASignedRejectClosesAGateThatWaitsForApprovals(t *testing.T) {
	alice, bob := newPerson(t, "alice"), newPerson(t, "bob")
	req := signedRequest(1, alice, bob)
	req.RequestedBy, req.SeparateRequester = "alice", true
	env := newEnv(t)
	(&fakePreflight{summaries: []preflight.Summary{cleanSummary}}).install(env)
	at(env, time.Minute, func() {
		env.SignalWorkflow(workflows.OpReject, workflows.GateDecision{Gate: workflows.GatePreflight, By: "alice", Reason: "not today"})
	})
	at(env, 2*time.Minute, func() {
		require.Contains(t, queryStatus(t, env).Refused[0].Error, "takes only decisions signed by an approver")
		s := preflightStatement(t, env)
		s.Decision = workflows.OpReject
		d := alice.sign(t, s)
		d.Reason = "not today"
		env.SignalWorkflow(workflows.OpReject, d)
	})

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, req)

	res := result(t, env)
	require.Equal(t, workflows.PhaseRejected, res.Outcome)
	require.Equal(t, "alice", res.Decisions[0].Signer.Name)
	require.Empty(t, res.Decisions[0].ApprovedBy)
}

func TestRequestApproversAreChecked(t *testing.T) {
	alice, bob := newPerson(t, "alice"), newPerson(t, "bob")
	valid := signedRequest(2, alice, bob)
	require.NoError(t, valid.Validate())

	cases := map[string]struct {
		change func(*workflows.CutoverRequest)
		want   string
	}{
		"approvers without gates": {func(r *workflows.CutoverRequest) { r.RequiredApprovals = nil }, "requiredApprovals is empty"},
		"gates without approvers": {func(r *workflows.CutoverRequest) { r.Approvers = nil }, "requiredApprovals needs approvers"},
		"separateRequester alone": {func(r *workflows.CutoverRequest) {
			r.Approvers, r.RequiredApprovals, r.SeparateRequester = nil, nil, true
		}, "separateRequester needs approvers"},
		"not a key":      {func(r *workflows.CutoverRequest) { r.Approvers[1].PublicKey = "ssh-ed25519 nope" }, "approvers[1]: approver \"bob\": publicKey is not an authorized_keys line"},
		"no name":        {func(r *workflows.CutoverRequest) { r.Approvers[0].Name = " " }, "approvers[0]: an approver needs a name"},
		"one name twice": {func(r *workflows.CutoverRequest) { r.Approvers[1].Name = "Alice" }, `"Alice" is named twice`},
		"one key twice":  {func(r *workflows.CutoverRequest) { r.Approvers[1].PublicKey = r.Approvers[0].PublicKey }, `"alice" and "bob" have the same key`},
		"not a gate":     {func(r *workflows.CutoverRequest) { r.RequiredApprovals["prefligth"] = 1 }, `"prefligth" is not a gate`},
		"zero":           {func(r *workflows.CutoverRequest) { r.RequiredApprovals[workflows.GateConfirmSignIn] = 0 }, "requiredApprovals[confirm-sign-in] is 0"},
		"more than can approve": {func(r *workflows.CutoverRequest) { r.RequestedBy, r.SeparateRequester = "bob", true },
			"requiredApprovals[preflight] is 2, but only 1 approvers can approve"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			req := signedRequest(2, alice, bob)
			c.change(&req)
			// What depends on the worker's policy is checked with none.
			require.ErrorContains(t, errors.Join(req.Validate(), req.CheckApprovals(workflows.ApprovalPolicy{})), c.want)
		})
	}
}
