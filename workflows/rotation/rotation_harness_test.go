package rotation

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/notify"
	"github.com/platformguide/ssocutover/activities/policy"
	"github.com/platformguide/ssocutover/activities/scim"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/workflowtest"
)

const testTokenSecretARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ssocutover/d-1234567890/scim-token-AbCdEf"

func testRotationRequest() workflows.ScimTokenRotationRequest {
	return workflows.ScimTokenRotationRequest{
		IdentityStoreID: workflowtest.IdentityStoreID,
		Region:          "eu-west-1",
		App:             workflowtest.App,
		JobID:           "AWSSCIM.0123456789abcdef.fedcba9876543210",
		SCIMEndpoint:    workflowtest.SCIMEndpoint,
		DeleteThreshold: 250,
	}
}

// consoleToken is a SCIM access token as the console holds it, with the
// Secrets Manager version that stores it (if the person stored it).
type consoleToken struct {
	version string
	created time.Time
	deleted bool
}

// fakeTokenWorld plays Identity Center's console and SCIM endpoint, Secrets
// Manager and Entra's provisioning job for the rotation, on the test
// environment's clock. The job runs a cycle whenever its status is read:
// healthy while its token works, in quarantine once it does not.
type fakeTokenWorld struct {
	mu  sync.Mutex
	now func() time.Time
	// policy is the worker's approval policy (zero: none).
	policy workflows.ApprovalPolicy

	tokens  []*consoleToken // in creation order
	current string          // the secret's AWSCURRENT version
	pending string          // the secret's AWSPENDING version
	// jobToken is the version the job holds; quarantined until restarted
	// after a failed cycle.
	jobToken    string
	quarantined bool
	lastEnded   time.Time
	// failNextCycle fails the job's next cycle whatever its token.
	failNextCycle bool
	// entraRefuses: Entra's validateCredentials refuses the next token
	// saved, although the SCIM endpoint accepts it.
	entraRefuses bool
	// deleteThresholds are the thresholds each ReplaceProvisioningToken saved.
	deleteThresholds []int
	// entryLevelErrors: cycles that reach AWS fail on some objects (a
	// user without a surname), as real directories' often do.
	entryLevelErrors bool

	calls      map[string]int
	notices    []notify.GateOpened
	attentions []notify.Attention
	maxAlive   int
}

// newFakeTokenWorld holds one token, created at created, that the job uses.
func newFakeTokenWorld(created time.Time) *fakeTokenWorld {
	w := &fakeTokenWorld{calls: map[string]int{}}
	w.current = w.createTokenAt(created).version
	w.jobToken = w.current
	return w
}

func (w *fakeTokenWorld) createTokenAt(at time.Time) *consoleToken {
	t := &consoleToken{version: fmt.Sprintf("%032d", len(w.tokens)+1), created: at}
	w.tokens = append(w.tokens, t)
	alive := 0
	for _, t := range w.tokens {
		if !t.deleted {
			alive++
		}
	}
	w.maxAlive = max(w.maxAlive, alive)
	return t
}

func (w *fakeTokenWorld) token(version string) *consoleToken {
	for _, t := range w.tokens {
		if t.version == version {
			return t
		}
	}
	return nil
}

// works reports whether the SCIM endpoint accepts the token of version.
func (w *fakeTokenWorld) works(version string) bool {
	t := w.token(version)
	return t != nil && !t.deleted && w.now().Before(t.created.Add(scim.TokenLifetime))
}

func tokenRef(version string) secretref.Ref {
	return secretref.Ref{ARN: testTokenSecretARN, VersionID: version}
}

// The person's console work.

// newPendingToken creates a token in the console (refusing a third, as the
// console does) and stores it as the secret's pending version.
func (w *fakeTokenWorld) newPendingToken(t *testing.T) secretref.Ref {
	w.mu.Lock()
	defer w.mu.Unlock()
	alive := 0
	for _, tok := range w.tokens {
		if !tok.deleted {
			alive++
		}
	}
	require.Less(t, alive, 2, "the console holds at most two tokens: the instructions must have the person delete one first")
	tok := w.createTokenAt(w.now())
	w.pending = tok.version
	return tokenRef(tok.version)
}

// strayPendingVersion stores a value that is no console token.
func (w *fakeTokenWorld) strayPendingVersion() secretref.Ref {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = "f0000000000000000000000000000000"
	return tokenRef(w.pending)
}

func (w *fakeTokenWorld) deleteToken(version string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.token(version).deleted = true
}

// deleteExpiredTokens is what the instructions ask before a new token.
func (w *fakeTokenWorld) deleteExpiredTokens() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.tokens {
		if !w.now().Before(t.created.Add(scim.TokenLifetime)) {
			t.deleted = true
		}
	}
}

func (w *fakeTokenWorld) count(name string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[name]
}

// register puts the fake's activities into env under the workflow's names.
func (w *fakeTokenWorld) register(env *testsuite.TestWorkflowEnvironment) {
	w.now = env.Now
	reg := func(name string, fn any) {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	reg(policy.LoadApprovalPolicyName, func(context.Context, struct{}) (workflows.ApprovalPolicy, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.policy, nil
	})
	reg(scim.DescribeSCIMTokenName, func(_ context.Context, in scim.DescribeSCIMTokenInput) (scim.DescribeSCIMTokenResult, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.calls[scim.DescribeSCIMTokenName]++
		return scim.DescribeSCIMTokenResult{Current: tokenRef(w.current), CurrentCreated: w.token(w.current).created}, nil
	})
	reg(scim.VerifySCIMEndpointName, func(_ context.Context, in scim.VerifySCIMEndpointInput) (scim.VerifySCIMEndpointResult, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.calls[scim.VerifySCIMEndpointName]++
		if !w.works(in.Token.VersionID) {
			return scim.VerifySCIMEndpointResult{}, temporal.NewNonRetryableApplicationError("the SCIM endpoint answered 401 to the token", scim.ErrTokenRejected, nil)
		}
		return scim.VerifySCIMEndpointResult{Users: 10}, nil
	})
	reg(entra.ReplaceProvisioningTokenName, func(_ context.Context, in entra.ReplaceProvisioningTokenInput) (entra.ReplaceProvisioningTokenResult, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.calls[entra.ReplaceProvisioningTokenName]++
		w.deleteThresholds = append(w.deleteThresholds, in.DeleteThreshold)
		if w.entraRefuses || !w.works(in.SCIMToken.VersionID) {
			w.entraRefuses = false
			return entra.ReplaceProvisioningTokenResult{}, temporal.NewNonRetryableApplicationError("Entra could not use the token", entra.ErrSCIMCredentialsRejected, nil)
		}
		w.jobToken = in.SCIMToken.VersionID
		return entra.ReplaceProvisioningTokenResult{}, nil
	})
	reg(entra.RestartProvisioningName, func(_ context.Context, in entra.RestartProvisioningInput) (entra.RestartProvisioningResult, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.calls[entra.RestartProvisioningName]++
		w.quarantined = false
		return entra.RestartProvisioningResult{}, nil
	})
	reg(entra.ProvisioningJobStatusName, func(_ context.Context, in entra.ProvisioningJobStatusInput) (model.ProvisioningJobStatus, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.calls[entra.ProvisioningJobStatusName]++
		return w.runCycle(), nil
	})
	reg(scim.PromoteSCIMTokenName, func(_ context.Context, in scim.PromoteSCIMTokenInput) (scim.PromoteSCIMTokenResult, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.calls[scim.PromoteSCIMTokenName]++
		previous := w.current
		w.current, w.pending = in.Token.VersionID, ""
		return scim.PromoteSCIMTokenResult{Previous: tokenRef(previous), Created: w.token(w.current).created}, nil
	})
	reg(notify.NotifyAttentionName, func(_ context.Context, in notify.Attention) (notify.NotifyGateOpenedResult, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.attentions = append(w.attentions, in)
		return notify.NotifyGateOpenedResult{}, nil
	})
	reg(notify.NotifyGateOpenedName, func(_ context.Context, in notify.GateOpened) (notify.NotifyGateOpenedResult, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.notices = append(w.notices, in)
		return notify.NotifyGateOpenedResult{}, nil
	})
}

// runCycle is a provisioning cycle of the job, now.
func (w *fakeTokenWorld) runCycle() model.ProvisioningJobStatus {
	if w.quarantined {
		return w.quarantineStatus()
	}
	if w.failNextCycle || !w.works(w.jobToken) {
		w.failNextCycle = false
		w.quarantined = true
		w.lastEnded = w.now()
		return w.quarantineStatus()
	}
	w.lastEnded = w.now()
	if w.entryLevelErrors {
		return model.ProvisioningJobStatus{Code: model.JobActive, LastExecutionState: "EntryLevelErrors", LastExecutionEnded: w.lastEnded,
			LastExecutionError: "MissingRequiredAttribute: the user has no surname", Escrowed: 1}
	}
	return model.ProvisioningJobStatus{Code: model.JobActive, LastExecutionState: "Succeeded", LastExecutionEnded: w.lastEnded}
}

func (w *fakeTokenWorld) quarantineStatus() model.ProvisioningJobStatus {
	return model.ProvisioningJobStatus{
		Code: model.JobQuarantine, QuarantineReason: "EncounteredQuarantineException: the SCIM endpoint answered 401",
		QuarantineErrorCode: "SystemForCrossDomainIdentityManagementCredentialValidationFailure",
		LastExecutionState:  "Failed", LastExecutionEnded: w.lastEnded,
	}
}

// gatesNotified lists the gates announced, in order.
func (w *fakeTokenWorld) gatesNotified() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var gates []string
	for _, n := range w.notices {
		gates = append(gates, n.Gate)
	}
	return gates
}

// newRotationEnv is a test environment with the rotation and w's activities,
// its clock at start.
func newRotationEnv(w *fakeTokenWorld, start time.Time) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	Register(env)
	w.register(env)
	return env
}

// tokenPerson plays the person at the rotation's gates: it looks every
// minute, and at an open gate does what the gate's instructions say, as
// the script for that gate has it.
type tokenPerson struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	world *fakeTokenWorld
	// atNewToken and atDeleteOld act at the gates; nil is the careful
	// person who follows the instructions.
	atNewToken  []func() (string, workflows.GateDecision)
	atDeleteOld []func() (string, workflows.GateDecision)
	answers     []error
	acted       map[time.Time]bool
}

func newTokenPerson(t *testing.T, env *testsuite.TestWorkflowEnvironment, w *fakeTokenWorld) *tokenPerson {
	return &tokenPerson{t: t, env: env, world: w, acted: map[time.Time]bool{}}
}

// submitNewToken follows gate new-scim-token's instructions.
func (p *tokenPerson) submitNewToken() (string, workflows.GateDecision) {
	p.world.deleteExpiredTokens()
	ref := p.world.newPendingToken(p.t)
	return workflows.OpSubmitSCIM, workflows.GateDecision{Gate: workflows.GateNewSCIMToken, By: "sre@corp.example", SCIMToken: &ref}
}

// deleteOldToken follows gate delete-old-token's instructions.
func (p *tokenPerson) deleteOldToken(old string) func() (string, workflows.GateDecision) {
	return func() (string, workflows.GateDecision) {
		p.world.deleteToken(old)
		return workflows.OpApprove, workflows.GateDecision{Gate: workflows.GateDeleteOldToken, By: "sre@corp.example"}
	}
}

// watch looks at the open gate every minute for the first hours of the run.
func (p *tokenPerson) watch(hours int) {
	for m := 1; m <= hours*60; m++ {
		p.env.RegisterDelayedCallback(p.look, time.Duration(m)*time.Minute)
	}
}

func (p *tokenPerson) look() {
	st := rotationStatus(p.t, p.env)
	if st.Gate == nil || p.acted[st.Gate.OpenedAt] {
		return
	}
	p.acted[st.Gate.OpenedAt] = true
	var script *[]func() (string, workflows.GateDecision)
	switch st.Gate.Name {
	case workflows.GateNewSCIMToken:
		script = &p.atNewToken
	case workflows.GateDeleteOldToken:
		script = &p.atDeleteOld
	}
	act := p.submitNewToken
	if st.Gate.Name == workflows.GateDeleteOldToken {
		act = p.deleteOldToken(st.Current.Token.VersionID)
	}
	if len(*script) > 0 {
		act, *script = (*script)[0], (*script)[1:]
	}
	op, d := act()
	p.env.UpdateWorkflow(op, "", &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { p.answers = append(p.answers, err) },
		OnComplete: func(_ any, err error) {
			p.answers = append(p.answers, err)
		},
	}, d)
}

func rotationStatus(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.ScimTokenRotationStatus {
	t.Helper()
	return workflowtest.StatusAs[workflows.ScimTokenRotationStatus](t, env)
}

func rotationResult(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.ScimTokenRotationResult {
	t.Helper()
	return workflowtest.ResultAs[workflows.ScimTokenRotationResult](t, env)
}

// aliveTokens lists the versions of the tokens the console holds.
func (w *fakeTokenWorld) aliveTokens() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var alive []string
	for _, t := range w.tokens {
		if !t.deleted {
			alive = append(alive, t.version)
		}
	}
	return slices.Clip(alive)
}

// updateCallback answers nothing but refusals, which go to onReject.
func updateCallback(onReject func(error)) *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) {
			if onReject != nil {
				onReject(err)
			}
		},
		OnComplete: func(any, error) {},
	}
}
