package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/sandbox/world"
)

// scimRequests records the PATCH requests the provisioning engine sends, as
// "PATCH /Users/<id>: replace externalId, replace displayName".
type scimRequests struct {
	mu      sync.Mutex
	patches []string
	next    http.RoundTripper
}

func (r *scimRequests) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPatch {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		var patch struct{ Operations []struct{ Op, Path string } }
		if err := json.Unmarshal(body, &patch); err != nil {
			return nil, err
		}
		var ops []string
		for _, op := range patch.Operations {
			ops = append(ops, op.Op+" "+op.Path)
		}
		// The path after the endpoint's /<tenant>/scim/v2.
		_, resource, _ := strings.Cut(req.URL.Path, "/scim/v2")
		r.mu.Lock()
		r.patches = append(r.patches, "PATCH "+resource+": "+strings.Join(ops, ", "))
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

// sent are the PATCH requests sent so far.
func (r *scimRequests) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.patches)
}

// useIdentityCenterSCIM points the env at the sandbox's own SCIM endpoint,
// which writes the identity store the world's AWS users live in, and
// records what the engine sends to it.
func (e *syncEnv) useIdentityCenterSCIM(t *testing.T) *scimRequests {
	t.Helper()
	e.sb.scim.setProvisioning(true)
	_, token, _, err := e.sb.scim.CreateToken()
	require.NoError(t, err)
	e.scim, e.base, e.token = e.sb.scim, e.sb.SCIMEndpoint(), token
	e.tokens = append(e.tokens, token)
	requests := &scimRequests{next: http.DefaultTransport}
	e.sb.graph.sync.scimHTTP = &http.Client{Transport: requests, Timeout: 30 * time.Second}
	return requests
}

// adoptionWorld is syncWorld with an identity store that has bob and team-a
// already, as the built-in directory left them: bob without externalId,
// with another display name and email; team-a without externalId, spelled
// in capitals.
func adoptionWorld() *world.World {
	w := syncWorld()
	w.AWS.Users = []world.AWSUser{{UserName: "bob@corp.example", GivenName: "Bob", FamilyName: "Test", DisplayName: "Bob (built-in)", Email: "bob@old.example"}}
	w.AWS.Groups = []world.AWSGroup{{DisplayName: "TEAM-A", Members: []string{"bob@corp.example"}}}
	return w
}

func findSnapshotUser(t *testing.T, state SCIMState, userName string) SCIMUser {
	t.Helper()
	i := slices.IndexFunc(state.Users, func(u SCIMUser) bool { return u.UserName == userName })
	require.GreaterOrEqual(t, i, 0, "the identity store has no user %s", userName)
	return state.Users[i]
}

// findSnapshotGroup finds a group by ID or display name.
func findSnapshotGroup(t *testing.T, state SCIMState, idOrName string) SCIMGroup {
	t.Helper()
	i := slices.IndexFunc(state.Groups, func(g SCIMGroup) bool { return g.ID == idOrName || g.DisplayName == idOrName })
	require.GreaterOrEqual(t, i, 0, "the identity store has no group %s", idOrName)
	return state.Groups[i]
}

// matchEvents are the log's Match events by object name.
func (e *syncEnv) matchEvents() map[string]ProvisioningEvent {
	out := map[string]ProvisioningEvent{}
	for _, ev := range e.sb.ProvisioningLog() {
		if ev.Action == ProvisioningMatched {
			out[ev.ObjectType+" "+ev.Name] = ev
		}
	}
	return out
}

func TestMatchedUsersAndGroupsAreUpdatedToFollowTheMappingsOnce(t *testing.T) {
	e := newSyncEnv(t, adoptionWorld(), 20*time.Millisecond)
	requests := e.useIdentityCenterSCIM(t)
	before := e.sb.IdentityStoreSnapshot()
	require.Len(t, before.Users, 1)
	bobID, teamAID := before.Users[0].ID, before.Groups[0].ID
	require.Empty(t, before.Users[0].ExternalID)

	jobID := e.steadyJob(t, "team-a")

	// bob and team-a are adopted, not created again, and now carry what the
	// mappings say, the Entra object ID as externalId first.
	after := e.sb.IdentityStoreSnapshot()
	require.Len(t, after.Users, 2, "alice created, bob adopted")
	require.Equal(t, SCIMUser{ID: bobID, ExternalID: graphUserID("bob@corp.example"), UserName: "bob@corp.example",
		GivenName: "Bob", FamilyName: "Test", DisplayName: "bob Test", Email: "bob@corp.example", Active: true},
		findSnapshotUser(t, after, "bob@corp.example"))
	require.Equal(t, graphUserID("alice@corp.example"), findSnapshotUser(t, after, "alice@corp.example").ExternalID)
	require.Len(t, after.Groups, 1)
	teamA := findSnapshotGroup(t, after, teamAID)
	require.Equal(t, e.groupID("team-a"), teamA.ExternalID)
	require.Equal(t, "team-a", teamA.DisplayName)
	require.Len(t, teamA.MemberIDs, 2)

	require.Equal(t, []string{
		"PATCH /Users/" + bobID + ": replace externalId, replace displayName, replace emails",
		"PATCH /Groups/" + teamAID + ": replace externalId, replace displayName",
		"PATCH /Groups/" + teamAID + ": add members",
	}, requests.sent())
	matched := e.matchEvents()
	require.Equal(t, []string{"externalId", "displayName", "emails"}, matched["User bob@corp.example"].Updated)
	require.Equal(t, []string{"externalId", "displayName"}, matched["Group team-a"].Updated)
	require.Equal(t, ProvisioningSuccess, matched["User bob@corp.example"].Status)

	// A later cycle sends nothing: the job knows both.
	patches, events := len(requests.sent()), len(e.sb.ProvisioningLog())
	e.waitFor(t, jobID, "a second steady cycle", steadyAfter(time.Now()))
	require.Len(t, requests.sent(), patches)
	require.Len(t, e.sb.ProvisioningLog(), events)

	// A restart that forgets the watermark looks both up again, matches
	// them and finds nothing to change: the only PATCH adds the members
	// again (which changes nothing either), as the job forgot those too.
	restart := serviceprincipals.NewItemSynchronizationJobsItemRestartPostRequestBody()
	criteria := models.NewSynchronizationJobRestartCriteria()
	criteria.SetResetScope(ptrTo(models.SynchronizationJobRestartScope(models.WATERMARK_SYNCHRONIZATIONJOBRESTARTSCOPE)))
	restart.SetCriteria(criteria)
	restarted := time.Now()
	require.NoError(t, e.job(jobID).Restart().Post(e.ctx, restart, nil))
	e.waitFor(t, jobID, "steady state after the restart", steadyAfter(restarted))
	require.Equal(t, []string{"PATCH /Groups/" + teamAID + ": add members"}, requests.sent()[patches:])
	matched = e.matchEvents()
	require.Empty(t, matched["User bob@corp.example"].Updated)
	require.Empty(t, matched["Group team-a"].Updated)
	require.Equal(t, after, e.sb.IdentityStoreSnapshot())
	e.requireLogHasNoToken(t)
}

func TestAMatchedUserWhoseUpdateIsRefusedIsEscrowedAndRetried(t *testing.T) {
	// robert has the email bob@corp.example in AWS already, so replacing
	// bob's email with it is refused as a duplicate.
	w := adoptionWorld()
	w.AWS.Users = append(w.AWS.Users, world.AWSUser{UserName: "robert@corp.example", GivenName: "Robert", FamilyName: "Test", DisplayName: "Robert Test", Email: "bob@corp.example"})
	e := newSyncEnv(t, w, 20*time.Millisecond)
	e.useIdentityCenterSCIM(t)
	e.apps.assign(e.groupID("team-b"))
	jobID := e.createJob(t)
	e.putSecrets(t, e.base, e.token)
	e.start(t, jobID)
	e.waitFor(t, jobID, "entry-level errors", func(st models.SynchronizationStatusable) bool {
		return st.GetLastExecution() != nil && *st.GetLastExecution().GetState() == models.ENTRYLEVELERRORS_SYNCHRONIZATIONTASKEXECUTIONRESULT
	})

	var failure *ProvisioningEvent
	for _, ev := range e.sb.ProvisioningLog() {
		if ev.Name == "bob@corp.example" && ev.Status == ProvisioningFailure {
			failure = &ev
			break
		}
	}
	require.NotNil(t, failure, "bob's refused update is in the log")
	require.Equal(t, ProvisioningMatched, failure.Action)
	require.Equal(t, "DuplicateInTarget", failure.ErrorCode)
	require.NotEmpty(t, failure.TargetID)
	require.Empty(t, failure.Updated)
	// bob is left as he was, and not made a member of team-b.
	state := e.sb.IdentityStoreSnapshot()
	require.Empty(t, findSnapshotUser(t, state, "bob@corp.example").ExternalID)
	require.NotContains(t, findSnapshotGroup(t, state, "team-b").MemberIDs, failure.TargetID)

	// Once robert's email changes, the next cycle updates bob.
	e.scimCall(t, http.MethodPatch, "/Users/"+findSnapshotUser(t, state, "robert@corp.example").ID, map[string]any{
		"schemas":    []string{scimSchemaPatchOp},
		"Operations": []map[string]any{{"op": "replace", "path": "emails", "value": []map[string]any{{"value": "robert@corp.example", "type": "work", "primary": true}}}},
	})
	e.waitFor(t, jobID, "bob updated", func(models.SynchronizationStatusable) bool {
		return findSnapshotUser(t, e.sb.IdentityStoreSnapshot(), "bob@corp.example").ExternalID == graphUserID("bob@corp.example")
	})
}

// A token that expires (the sandbox's clock moved past it) is refused like
// a deleted one: the job goes into quarantine on its next cycle, and a new
// token saved and a restart make it healthy again.
func TestProvisioningQuarantinesWhenTheTokenExpiresAndARestartWithANewTokenHeals(t *testing.T) {
	e := newSyncEnv(t, syncWorld(), 20*time.Millisecond)
	e.useIdentityCenterSCIM(t)
	jobID := e.steadyJob(t, "team-a")

	e.sb.AdvanceClock(366 * 24 * time.Hour)
	st := e.waitFor(t, jobID, "quarantine", func(st models.SynchronizationStatusable) bool { return statusCode(st) == "Quarantine" })
	require.Equal(t, credentialFailureCode, *st.GetQuarantine().GetError().GetCode())
	require.Contains(t, *st.GetQuarantine().GetError().GetMessage(), "expired")

	_, token, _, err := e.sb.scim.CreateToken()
	require.NoError(t, err)
	e.tokens = append(e.tokens, token)
	e.putSecrets(t, e.base, token)
	restart := serviceprincipals.NewItemSynchronizationJobsItemRestartPostRequestBody()
	criteria := models.NewSynchronizationJobRestartCriteria()
	criteria.SetResetScope(ptrTo(models.SynchronizationJobRestartScope(models.QUARANTINESTATE_SYNCHRONIZATIONJOBRESTARTSCOPE)))
	restart.SetCriteria(criteria)
	restarted := time.Now()
	require.NoError(t, e.job(jobID).Restart().Post(e.ctx, restart, nil))
	st = e.waitFor(t, jobID, "steady state after the restart", steadyAfter(restarted))
	require.Equal(t, "Active", statusCode(st))
	require.Nil(t, st.GetQuarantine())
	e.requireLogHasNoToken(t)
	e.requireNoToken(t, e.rawJob(t, jobID))
}

// validateCredentials with credentials in the body tests them and saves
// nothing: the job keeps (and cycles with) the token it had.
func TestValidateCredentialsWithGivenCredentialsSavesNothing(t *testing.T) {
	e := newSyncEnv(t, syncWorld(), time.Hour)
	jobID := e.createJob(t)
	e.putSecrets(t, e.base, e.token)
	_, other, _, err := e.scim.CreateToken()
	require.NoError(t, err)
	e.tokens = append(e.tokens, other)

	for _, token := range []string{other, "not-a-token-0123456789"} {
		validate := serviceprincipals.NewItemSynchronizationJobsItemValidateCredentialsPostRequestBody()
		validate.SetUseSavedCredentials(ptrTo(false))
		validate.SetCredentials([]models.SynchronizationSecretKeyStringValuePairable{
			secret(models.BASEADDRESS_SYNCHRONIZATIONSECRET, e.base),
			secret(models.SECRETTOKEN_SYNCHRONIZATIONSECRET, token),
		})
		err := e.job(jobID).ValidateCredentials().Post(e.ctx, validate, nil)
		if token == other {
			require.NoError(t, err)
		} else {
			requireGraphError(t, err, http.StatusBadRequest)
		}
		saved, ok := e.sb.graph.sync.savedCredentials(syncTestSP)
		require.True(t, ok)
		require.Equal(t, credentials{baseAddress: e.base, token: e.token}, saved, "validating given credentials saves nothing")
	}
}
