package rotation

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/scim"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/workflowtest"
)

// cutoverDay is when the cutover stored the first token.
var cutoverDay = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// runRotation runs one rotation at now with a person who follows the
// instructions (and the scripts set on the person it returns, if any).
func runRotation(t *testing.T, w *fakeTokenWorld, now time.Time, req workflows.ScimTokenRotationRequest, script func(*tokenPerson)) (workflows.ScimTokenRotationResult, *tokenPerson) {
	t.Helper()
	env := newRotationEnv(w, now)
	person := newTokenPerson(t, env, w)
	if script != nil {
		script(person)
	}
	person.watch(3)
	env.ExecuteWorkflow(workflows.RotationWorkflowName, req)
	return rotationResult(t, env), person
}

// TestRotationOverAYear runs the daily rotation for a year and a month on
// the test clock: nothing while the token is fresh, the gate on the first
// day of the warning window, one rotation to a token that works, and a
// fresh token again after it.
func TestRotationOverAYear(t *testing.T) {
	w := newFakeTokenWorld(cutoverDay)
	first := w.current
	window := workflows.DefaultWarningWindow
	rotatedOn := -1
	for day := 0; day <= 400; day++ {
		now := cutoverDay.Add(time.Duration(day)*24*time.Hour + time.Hour)
		res, person := runRotation(t, w, now, testRotationRequest(), nil)
		expiresAt := cutoverDay.Add(scim.TokenLifetime)
		inWindow := !now.Before(expiresAt.Add(-window))
		switch {
		case rotatedOn < 0 && !inWindow:
			require.Equal(t, workflows.RotationPhaseFresh, res.Outcome, "day %d: %s", day, res.Message)
			require.Empty(t, w.notices, "day %d: no gate while the token is fresh", day)
		case rotatedOn < 0:
			require.Equal(t, workflows.RotationPhaseRotated, res.Outcome, "day %d: %s", day, res.Message)
			require.Equal(t, 335, day, "the gate opens on the first day of the 30-day window")
			require.NotEqual(t, first, res.Token.Token.VersionID)
			require.Equal(t, first, res.Previous.Token.VersionID)
			require.WithinDuration(t, now.Add(scim.TokenLifetime), res.Token.Expires, time.Hour, "the new expiry is recorded")
			require.Equal(t, []string{workflows.GateNewSCIMToken, workflows.GateDeleteOldToken}, w.gatesNotified())
			for _, err := range person.answers {
				require.NoError(t, err)
			}
			rotatedOn = day
			w.notices = nil
		default:
			require.Equal(t, workflows.RotationPhaseFresh, res.Outcome, "day %d after the rotation: %s", day, res.Message)
			require.Empty(t, w.notices)
		}
	}
	require.Equal(t, 335, rotatedOn)
	require.Equal(t, []string{w.current}, w.aliveTokens(), "only the new token is left in the console")
	require.Equal(t, w.current, w.jobToken, "the job runs on the new token")
	require.Equal(t, []int{250}, w.deleteThresholds, "the new token was saved with the request's accidental-deletion threshold")
	require.LessOrEqual(t, w.maxAlive, 2)
	require.Zero(t, w.count(entra.RestartProvisioningName), "a healthy job is not restarted")
	require.Empty(t, w.attentions, "a year of healthy runs raises no alarm")
}

// A token the SCIM endpoint refuses is not saved in the job; the gate
// reopens with why, and the next token is taken.
func TestRotationRefusesABadTokenAndKeepsTheOldOne(t *testing.T) {
	w := newFakeTokenWorld(cutoverDay)
	old := w.current
	now := cutoverDay.Add(340 * 24 * time.Hour)
	var jobTokenAfterRefusal string
	res, person := runRotation(t, w, now, testRotationRequest(), func(p *tokenPerson) {
		p.atNewToken = append(p.atNewToken, func() (string, workflows.GateDecision) {
			ref := w.strayPendingVersion()
			return workflows.OpSubmitSCIM, workflows.GateDecision{Gate: workflows.GateNewSCIMToken, By: "sre@corp.example", SCIMToken: &ref}
		}, func() (string, workflows.GateDecision) {
			jobTokenAfterRefusal = w.jobToken
			st := rotationStatus(t, p.env)
			require.Contains(t, st.Gate.Instructions, "The new token was refused and the job keeps its current token")
			return p.submitNewToken()
		})
	})
	require.Equal(t, workflows.RotationPhaseRotated, res.Outcome, res.Message)
	require.Equal(t, old, jobTokenAfterRefusal, "the refused token never reached the job")
	require.Error(t, person.answers[0], "the update that sent the bad token answers with why")
	require.Contains(t, person.answers[0].Error(), "refused")
	require.Zero(t, w.count(entra.ReplaceProvisioningTokenName)-1, "only the good token was saved in the job")
	require.Equal(t, []string{workflows.GateNewSCIMToken, workflows.GateNewSCIMToken, workflows.GateDeleteOldToken}, w.gatesNotified())
}

// A token Entra refuses is never saved: the job keeps its token and the
// gate reopens with Entra's reason.
func TestRotationKeepsTheOldTokenWhenEntraRefusesTheNewOne(t *testing.T) {
	w := newFakeTokenWorld(cutoverDay)
	old := w.current
	w.entraRefuses = true
	var jobTokenAfterRefusal string
	res, person := runRotation(t, w, cutoverDay.Add(340*24*time.Hour), testRotationRequest(), func(p *tokenPerson) {
		p.atNewToken = append(p.atNewToken, p.submitNewToken, func() (string, workflows.GateDecision) {
			jobTokenAfterRefusal = w.jobToken
			require.Contains(t, rotationStatus(t, p.env).Gate.Instructions, "Entra refused the token, so the job keeps the one it had")
			w.deleteToken(w.pending) // the person deletes the token Entra refused
			return p.submitNewToken()
		})
	})
	require.Equal(t, workflows.RotationPhaseRotated, res.Outcome, res.Message)
	require.Equal(t, old, jobTokenAfterRefusal)
	require.ErrorContains(t, person.answers[0], "Entra refused the token")
	require.Equal(t, w.current, w.jobToken)
}

// A token that the job cannot run a healthy cycle with is taken out again:
// the job gets its old token back and the gate reopens.
func TestRotationGivesTheJobItsOldTokenBackAfterAFailedCycle(t *testing.T) {
	w := newFakeTokenWorld(cutoverDay)
	old := w.current
	now := cutoverDay.Add(340 * 24 * time.Hour)
	var jobTokenBetween string
	var quarantinedBetween bool
	res, _ := runRotation(t, w, now, testRotationRequest(), func(p *tokenPerson) {
		p.atNewToken = append(p.atNewToken, func() (string, workflows.GateDecision) {
			w.failNextCycle = true
			return p.submitNewToken()
		}, func() (string, workflows.GateDecision) {
			jobTokenBetween, quarantinedBetween = w.jobToken, w.quarantined
			w.deleteToken(w.pending) // the person deletes the token that failed
			return p.submitNewToken()
		})
	})
	require.Equal(t, workflows.RotationPhaseRotated, res.Outcome, res.Message)
	require.Equal(t, old, jobTokenBetween, "after the failed cycle the job had its old token again")
	require.False(t, quarantinedBetween, "the job quarantined by the failed cycle provisions again on its old token while the person finds another")
	require.Equal(t, 1, w.count(entra.RestartProvisioningName), "restarted once, with the old token back")
}

// A job quarantined because its token stopped working asks for a new one
// at once, whatever the expiry says, and is restarted with it.
func TestRotationAtOnceWhenTheJobIsQuarantined(t *testing.T) {
	w := newFakeTokenWorld(cutoverDay)
	now := cutoverDay.Add(100 * 24 * time.Hour)
	w.deleteToken(w.current)  // deleted by mistake in the console
	w.entryLevelErrors = true // cycles on a working token still fail on some objects
	w.now = func() time.Time { return now }
	w.runCycle()
	require.True(t, w.quarantined)

	res, _ := runRotation(t, w, now, testRotationRequest(), nil)
	require.Equal(t, workflows.RotationPhaseRotated, res.Outcome, res.Message)
	require.Equal(t, []string{workflows.GateNewSCIMToken, workflows.GateDeleteOldToken}, w.gatesNotified())
	require.Contains(t, w.notices[0].Summary, "quarantine")
	require.Equal(t, 1, w.count(entra.RestartProvisioningName))
	require.False(t, w.quarantined)
	require.Equal(t, w.current, w.jobToken)
}

// A quarantine the token does not explain opens no gate; the run says so.
func TestRotationLeavesOtherQuarantinesToPeople(t *testing.T) {
	w := newFakeTokenWorld(cutoverDay)
	env := newRotationEnv(w, cutoverDay.Add(10*24*time.Hour))
	env.OnActivity(entra.ProvisioningJobStatusName, mock.Anything, mock.Anything).Return(model.ProvisioningJobStatus{
		Code: model.JobQuarantine, QuarantineReason: "EncounteredEscrowProportionThreshold: too many escrows",
	}, nil)
	env.ExecuteWorkflow(workflows.RotationWorkflowName, testRotationRequest())
	res := rotationResult(t, env)
	require.Equal(t, workflows.RotationPhaseFresh, res.Outcome)
	require.Contains(t, res.Message, "for a reason other than its token")
	require.Empty(t, w.notices)
	require.Len(t, w.attentions, 1, "a quarantine is announced, though no gate opens")
	require.Contains(t, w.attentions[0].Detail, "EncounteredEscrowProportionThreshold")
}

// reject at gate new-scim-token puts the rotation off; nothing changes.
func TestRotationPutOff(t *testing.T) {
	w := newFakeTokenWorld(cutoverDay)
	old := w.current
	res, _ := runRotation(t, w, cutoverDay.Add(350*24*time.Hour), testRotationRequest(), func(p *tokenPerson) {
		p.atNewToken = append(p.atNewToken, func() (string, workflows.GateDecision) {
			return workflows.OpReject, workflows.GateDecision{Gate: workflows.GateNewSCIMToken, By: "sre@corp.example", Reason: "change freeze until Monday"}
		})
	})
	require.Equal(t, workflows.RotationPhasePostponed, res.Outcome)
	require.Contains(t, res.Message, "change freeze")
	require.Equal(t, old, w.jobToken)
	require.Equal(t, old, res.Token.Token.VersionID)
}

// The person's date overrides the secret's for the version it names only.
func TestRotationUsesTheGivenExpiryForItsVersion(t *testing.T) {
	w := newFakeTokenWorld(cutoverDay)
	req := testRotationRequest()
	req.TokenVersionID = w.current
	req.TokenExpiresAt = cutoverDay.Add(20 * 24 * time.Hour) // made long before it was stored
	res, _ := runRotation(t, w, cutoverDay.Add(24*time.Hour), req, nil)
	require.Equal(t, workflows.RotationPhaseRotated, res.Outcome, res.Message)
	require.Equal(t, workflows.ExpiryGiven, res.Previous.ExpirySource)
	require.Equal(t, workflows.ExpiryFromSecretVersion, res.Token.ExpirySource)
}

// The old token must stop working before delete-old-token closes, unless
// the person overrides.
func TestRotationChecksTheOldTokenIsDeleted(t *testing.T) {
	w := newFakeTokenWorld(cutoverDay)
	res, person := runRotation(t, w, cutoverDay.Add(340*24*time.Hour), testRotationRequest(), func(p *tokenPerson) {
		p.atDeleteOld = append(p.atDeleteOld, func() (string, workflows.GateDecision) {
			return workflows.OpApprove, workflows.GateDecision{Gate: workflows.GateDeleteOldToken, By: "sre@corp.example"} // forgot to delete it
		}, func() (string, workflows.GateDecision) {
			st := rotationStatus(t, p.env)
			require.Contains(t, st.Gate.Instructions, "still accepts the old token")
			return workflows.OpApprove, workflows.GateDecision{Gate: workflows.GateDeleteOldToken, By: "sre@corp.example", Override: true, Reason: "kept for the batch job until Friday"}
		})
	})
	require.Equal(t, workflows.RotationPhaseRotated, res.Outcome)
	require.Contains(t, res.Message, "The old token still works: sre@corp.example keeps it (kept for the batch job until Friday)")
	require.Error(t, person.answers[len(person.answers)-2])
	require.Len(t, w.aliveTokens(), 2)
}

// Instructions name the commands that answer the gate, and no request
// field can make the workflow take a token for a different endpoint.
func TestRotationGateInstructionsAndChecks(t *testing.T) {
	w := newFakeTokenWorld(cutoverDay)
	env := newRotationEnv(w, cutoverDay.Add(340*24*time.Hour))
	var refusals []error
	env.RegisterDelayedCallback(func() {
		st := rotationStatus(t, env)
		require.Equal(t, workflows.GateNewSCIMToken, st.Gate.Name)
		require.Contains(t, st.Gate.Instructions, "starter submit-scim --workflow-id")
		require.Contains(t, st.Gate.Instructions, "--version-stages AWSPENDING")
		require.Contains(t, st.Gate.Instructions, "delete the one that has expired")
		current := tokenRef(w.current)
		other := tokenRef(strings.Repeat("e", 32))
		for _, d := range []workflows.GateDecision{
			{Gate: workflows.GateNewSCIMToken, By: "sre", SCIMToken: &current},
			{Gate: workflows.GateNewSCIMToken, By: "sre", SCIMToken: &other, SCIMEndpoint: "https://scim.eu-west-1.amazonaws.com/other/scim/v2"},
			{Gate: workflows.GateNewSCIMToken, By: "sre"},
			{Gate: workflows.GateDeleteOldToken, By: "sre"},
		} {
			env.UpdateWorkflow(workflows.OpSubmitSCIM, "", updateCallback(func(err error) { refusals = append(refusals, err) }), d)
		}
		env.UpdateWorkflow(workflows.OpReject, "", updateCallback(nil), workflows.GateDecision{Gate: workflows.GateNewSCIMToken, By: "sre", Reason: "test over"})
	}, time.Minute)
	env.ExecuteWorkflow(workflows.RotationWorkflowName, testRotationRequest())
	require.Equal(t, workflows.RotationPhasePostponed, rotationResult(t, env).Outcome)
	require.Len(t, refusals, 4)
	require.ErrorContains(t, refusals[0], "the token the job uses now")
	require.ErrorContains(t, refusals[1], "changes only the token")
	require.ErrorContains(t, refusals[2], `"scimToken" is required`)
	require.ErrorContains(t, refusals[3], `gate "delete-old-token" is not open`)
}

// An invalid request fails at once with what to fix.
func TestRotationRefusesAnInvalidRequest(t *testing.T) {
	w := newFakeTokenWorld(cutoverDay)
	env := newRotationEnv(w, cutoverDay)
	req := testRotationRequest()
	req.JobID = ""
	req.WarningWindow = "soon"
	env.ExecuteWorkflow(workflows.RotationWorkflowName, req)
	require.ErrorContains(t, env.GetWorkflowError(), "jobId")
	require.ErrorContains(t, env.GetWorkflowError(), "warningWindow")
	require.Zero(t, w.count(scim.DescribeSCIMTokenName))
	require.Len(t, w.attentions, 1, "a scheduled run that fails is announced")
	require.Contains(t, w.attentions[0].Detail, "jobId")
}

// A run that cannot read the token fails, says what to do, and is announced.
func TestRotationFailsLoudlyWhenTheTokenSecretIsMissing(t *testing.T) {
	w := newFakeTokenWorld(cutoverDay)
	env := newRotationEnv(w, cutoverDay.Add(24*time.Hour))
	env.OnActivity(scim.DescribeSCIMTokenName, mock.Anything, mock.Anything).Return(scim.DescribeSCIMTokenResult{},
		temporal.NewNonRetryableApplicationError("no secret ssocutover/d-1234567890/scim-token: store the token with starter submit-scim", scim.ErrTokenSecretNotFound, nil))
	env.ExecuteWorkflow(workflows.RotationWorkflowName, testRotationRequest())
	err := env.GetWorkflowError()
	require.ErrorContains(t, err, "the SCIM token rotation stopped while reading the current token's secret")
	require.ErrorContains(t, err, "store the token with starter submit-scim")
	require.Len(t, w.attentions, 1)
	require.Equal(t, "A SCIM token rotation run failed", w.attentions[0].Problem)
	require.Contains(t, w.attentions[0].Detail, "store the token with starter submit-scim")
	require.Equal(t, workflows.RotationPhaseFailed, rotationStatus(t, env).Phase)
}

// A gate nobody answers is announced again every remindEvery, and the
// Temporal UI shows what the run waits for.
func TestRotationRemindsWhileTheGateWaits(t *testing.T) {
	w := newFakeTokenWorld(cutoverDay)
	env := newRotationEnv(w, cutoverDay.Add(340*24*time.Hour))
	var atTwoDays workflows.ScimTokenRotationStatus
	var details string
	env.RegisterDelayedCallback(func() {
		atTwoDays = rotationStatus(t, env)
		details = workflowtest.CurrentDetails(t, env)
		env.UpdateWorkflow(workflows.OpReject, "", updateCallback(nil), workflows.GateDecision{Gate: workflows.GateNewSCIMToken, By: "sre", Reason: "on leave"})
	}, 49*time.Hour)
	env.ExecuteWorkflow(workflows.RotationWorkflowName, testRotationRequest())
	require.Equal(t, workflows.RotationPhasePostponed, rotationResult(t, env).Outcome)

	require.Len(t, w.notices, 3, "opened, then reminded after one and two days")
	require.False(t, w.notices[0].Reminder)
	require.True(t, w.notices[1].Reminder)
	require.True(t, w.notices[2].Reminder)
	require.Contains(t, atTwoDays.Step, "REMINDER: gate new-scim-token has waited 48h0m0s")
	require.False(t, atTwoDays.Gate.RemindedAt.IsZero())

	require.Contains(t, details, "## SCIM token rotation of "+workflowtest.IdentityStoreID)
	require.Contains(t, details, "### Waiting for you at gate `new-scim-token`")
	require.Contains(t, details, "starter submit-scim --workflow-id")
	require.Contains(t, details, "Current token: "+testTokenSecretARN)
}
