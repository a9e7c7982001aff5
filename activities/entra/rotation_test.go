package entra_test

// The rotation activities against the sandbox through the real SDK
// clients: a job configured and running with the console's first token,
// then a new token stored in Secrets Manager as the pending version.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/secretstore"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/workflows"
)

const (
	scimTokenSecret     = "ssocutover/cutover-d-1234567890/scim-token"
	pendingRequestToken = "22222222-2222-4222-8222-222222222222"
)

// runningJob configures the job with the fixture's token and starts it,
// then waits for a cycle that went through.
func (f *provFixture) runningJob(t *testing.T) string {
	t.Helper()
	job := f.ensureJob(t)
	var configured entra.ConfigureProvisioningResult
	require.NoError(t, f.run(t, entra.ConfigureProvisioningName, f.configureInput(job.JobID), &configured))
	var started entra.StartProvisioningResult
	require.NoError(t, f.run(t, entra.StartProvisioningName, entra.StartProvisioningInput{App: f.app, JobID: job.JobID}, &started))
	f.waitForHealthyCycle(t, job.JobID, time.Now())
	return job.JobID
}

// waitForHealthyCycle waits for a cycle that ended after since without a
// failure, the job active and not in quarantine.
func (f *provFixture) waitForHealthyCycle(t *testing.T, jobID string, since time.Time) model.ProvisioningJobStatus {
	t.Helper()
	var st model.ProvisioningJobStatus
	require.Eventually(t, func() bool {
		st = f.status(t, jobID)
		return st.Code == model.JobActive && st.QuarantineReason == "" && st.LastExecutionState == "Succeeded" && st.LastExecutionEnded.After(since)
	}, 10*time.Second, 20*time.Millisecond, "the job had no healthy cycle after %s (last: %+v)", since, st)
	return st
}

// storePending stores a token as the secret's pending version.
func (f *provFixture) storePending(t *testing.T, token string) secretref.Ref {
	t.Helper()
	ref, err := secretstore.PutPending(context.Background(), f.secrets, scimTokenSecret, secretstore.NewValue(token), pendingRequestToken)
	require.NoError(t, err)
	require.Equal(t, f.tokenRef.ARN, ref.ARN)
	return ref
}

func (f *provFixture) replaceInput(jobID string, token secretref.Ref) entra.ReplaceProvisioningTokenInput {
	return entra.ReplaceProvisioningTokenInput{App: f.app, JobID: jobID, SCIMEndpoint: f.scim.SCIMEndpoint, SCIMToken: token, NotificationEmail: "platform@corp.example"}
}

// validateSaved is the portal's "Test connection" of the saved credentials.
func (f *provFixture) validateSaved(jobID string) error {
	body := serviceprincipals.NewItemSynchronizationJobsItemValidateCredentialsPostRequestBody()
	body.SetUseSavedCredentials(provPtr(true))
	return f.acts.Graph.Client.ServicePrincipals().ByServicePrincipalId(f.app.ServicePrincipalID).Synchronization().
		Jobs().BySynchronizationJobId(jobID).ValidateCredentials().Post(context.Background(), body, nil)
}

// requireNowhere checks that no token appears in err, the activities' log
// or the provisioning log.
func (f *provFixture) requireNowhere(t *testing.T, err error, tokens ...string) {
	t.Helper()
	for _, token := range tokens {
		if err != nil {
			require.NotContains(t, fmt.Sprintf("%v %+v", err, err), token, "a SCIM token leaked into an error")
		}
		require.NotContains(t, f.logs.String(), token, "a SCIM token leaked into the log")
		require.NotContains(t, fmt.Sprintf("%+v", f.sb.ProvisioningLog()), token, "a SCIM token leaked into the provisioning log")
	}
}

func TestReplaceProvisioningTokenRefusesATokenTheEndpointRefusesAndSavesNothing(t *testing.T) {
	f := newProvFixture(t)
	jobID := f.runningJob(t)
	before := f.sb.SavedProvisioningSecrets(f.app.ServicePrincipalID)

	wrong := "not-a-token-the-console-made-0123456789"
	var res entra.ReplaceProvisioningTokenResult
	err := f.run(t, entra.ReplaceProvisioningTokenName, f.replaceInput(jobID, f.storePending(t, wrong)), &res)
	app := requireApplicationError(t, err, entra.ErrSCIMCredentialsRejected)
	require.Contains(t, app.Error(), "keeps its current token")
	require.Contains(t, app.Error(), "create another token")
	require.Contains(t, app.Error(), "401")
	f.requireNowhere(t, err, wrong, f.scim.Token)

	require.Equal(t, before, f.sb.SavedProvisioningSecrets(f.app.ServicePrincipalID), "nothing was saved")
	require.NoError(t, f.validateSaved(jobID), "the saved token still works")
	f.waitForHealthyCycle(t, jobID, time.Now())
}

func TestReplaceProvisioningTokenSavesTheNewTokenWithTheSettingsItHad(t *testing.T) {
	f := newProvFixture(t)
	jobID := f.runningJob(t)
	before := f.sb.SavedProvisioningSecrets(f.app.ServicePrincipalID)
	require.Equal(t, sandbox.SecretTokenFingerprint(f.scim.Token), before["SecretToken"])
	require.Contains(t, before["SyncNotificationSettings"], "platform@corp.example")

	fresh, err := f.sb.CreateSCIMToken()
	require.NoError(t, err)
	in := f.replaceInput(jobID, f.storePending(t, fresh.Token))
	// The first attempt's answer is lost after Entra saved: the retry saves
	// the same again.
	f.proxy.loseNextAnswer(http.MethodPut, "/synchronization/secrets")
	var res entra.ReplaceProvisioningTokenResult
	require.Error(t, f.run(t, entra.ReplaceProvisioningTokenName, in, &res))
	for range 2 {
		require.NoError(t, f.run(t, entra.ReplaceProvisioningTokenName, in, &res))
		require.NotEmpty(t, res.APICalls)
	}

	after := f.sb.SavedProvisioningSecrets(f.app.ServicePrincipalID)
	want := map[string]string{}
	for k, v := range before {
		want[k] = v
	}
	want["SecretToken"] = sandbox.SecretTokenFingerprint(fresh.Token)
	require.Equal(t, want, after, "the endpoint, SyncAll and the notification settings are saved as they were")

	// The old token goes: the job works with the new one.
	require.NoError(t, f.sb.DeleteSCIMToken(f.scim.TokenID))
	require.NoError(t, f.validateSaved(jobID))
	f.waitForHealthyCycle(t, jobID, time.Now())
	f.requireNowhere(t, nil, fresh.Token, f.scim.Token)
}

func TestAJobAnExpiredTokenQuarantinedIsHealthyAfterReplaceAndRestart(t *testing.T) {
	f := newProvFixture(t)
	jobID := f.runningJob(t)

	f.sb.AdvanceClock(366 * 24 * time.Hour)
	var st model.ProvisioningJobStatus
	require.Eventually(t, func() bool {
		st = f.status(t, jobID)
		return st.Code == model.JobQuarantine
	}, 10*time.Second, 20*time.Millisecond, "the expired token never quarantined the job")
	require.Contains(t, st.QuarantineReason, "EncounteredQuarantineException")

	// Restarting with the expired token saved does not help: a restart
	// uses the saved credentials.
	var restarted entra.RestartProvisioningResult
	require.NoError(t, f.run(t, entra.RestartProvisioningName, entra.RestartProvisioningInput{App: f.app, JobID: jobID}, &restarted))
	require.Eventually(t, func() bool { return f.status(t, jobID).Code == model.JobQuarantine }, 10*time.Second, 20*time.Millisecond)

	fresh, err := f.sb.CreateSCIMToken()
	require.NoError(t, err)
	var replaced entra.ReplaceProvisioningTokenResult
	require.NoError(t, f.run(t, entra.ReplaceProvisioningTokenName, f.replaceInput(jobID, f.storePending(t, fresh.Token)), &replaced))
	since := time.Now()
	// The first restart's answer is lost after Entra restarted the job; the
	// retry restarts it again, which does no harm.
	f.proxy.loseNextAnswer(http.MethodPost, "/restart")
	require.Error(t, f.run(t, entra.RestartProvisioningName, entra.RestartProvisioningInput{App: f.app, JobID: jobID}, &restarted))
	for range 2 {
		require.NoError(t, f.run(t, entra.RestartProvisioningName, entra.RestartProvisioningInput{App: f.app, JobID: jobID}, &restarted))
		require.NotEmpty(t, restarted.APICalls)
	}
	st = f.waitForHealthyCycle(t, jobID, since)
	require.Empty(t, st.QuarantineReason)
	f.requireNowhere(t, nil, fresh.Token, f.scim.Token)
}

func TestRotationActivitiesNeedTheirInputs(t *testing.T) {
	f := newProvFixture(t)
	job := f.ensureJob(t)
	var replaced entra.ReplaceProvisioningTokenResult
	in := f.replaceInput(job.JobID, secretref.Ref{})
	requireApplicationError(t, f.run(t, entra.ReplaceProvisioningTokenName, in, &replaced), entra.ErrInvalidRequest)
	in = f.replaceInput(job.JobID, secretref.Ref{ARN: f.tokenRef.ARN, VersionID: pendingRequestToken})
	requireApplicationError(t, f.run(t, entra.ReplaceProvisioningTokenName, in, &replaced), entra.ErrSCIMTokenNotFound)
	var restarted entra.RestartProvisioningResult
	requireApplicationError(t, f.run(t, entra.RestartProvisioningName, entra.RestartProvisioningInput{App: f.app}, &restarted), entra.ErrInvalidRequest)
	err := f.run(t, entra.RestartProvisioningName, entra.RestartProvisioningInput{App: f.app, JobID: "aWSSingleSignon.none.none"}, &restarted)
	requireApplicationError(t, err, entra.ErrProvisioningJobNotFound)
}

// savedNotificationSettings decodes the SyncNotificationSettings secret the
// sandbox holds for the fixture's app.
func (f *provFixture) savedNotificationSettings(t *testing.T) map[string]any {
	t.Helper()
	raw, ok := f.sb.SavedProvisioningSecrets(f.app.ServicePrincipalID)["SyncNotificationSettings"]
	require.True(t, ok, "SyncNotificationSettings is saved")
	var settings map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &settings), raw)
	return settings
}

// TestAccidentalDeletionPreventionStaysOn: the credentials are saved with
// the deletion threshold enabled, at the request's value (500 by default),
// with or without a notification address, and the rotation saves it again.
func TestAccidentalDeletionPreventionStaysOn(t *testing.T) {
	f := newProvFixture(t)
	job := f.ensureJob(t)

	in := f.configureInput(job.JobID)
	in.NotificationEmail = ""
	var configured entra.ConfigureProvisioningResult
	require.NoError(t, f.run(t, entra.ConfigureProvisioningName, in, &configured))
	require.Equal(t, map[string]any{"Enabled": false, "Recipients": "", "DeleteThresholdEnabled": true, "DeleteThresholdValue": float64(workflows.DefaultDeleteThreshold)},
		f.savedNotificationSettings(t), "no address: no e-mails, and the threshold still on at the default")

	in = f.configureInput(job.JobID)
	in.DeleteThreshold = 250
	require.NoError(t, f.run(t, entra.ConfigureProvisioningName, in, &configured))
	require.Equal(t, map[string]any{"Enabled": true, "Recipients": "platform@corp.example", "DeleteThresholdEnabled": true, "DeleteThresholdValue": float64(250)},
		f.savedNotificationSettings(t))

	fresh, err := f.sb.CreateSCIMToken()
	require.NoError(t, err)
	replace := f.replaceInput(job.JobID, f.storePending(t, fresh.Token))
	replace.DeleteThreshold = 250
	var replaced entra.ReplaceProvisioningTokenResult
	require.NoError(t, f.run(t, entra.ReplaceProvisioningTokenName, replace, &replaced))
	require.Equal(t, float64(250), f.savedNotificationSettings(t)["DeleteThresholdValue"], "the rotation keeps the threshold")
	require.Equal(t, true, f.savedNotificationSettings(t)["DeleteThresholdEnabled"])
}
