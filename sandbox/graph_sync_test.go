package sandbox

// These tests drive the synchronization API with msgraph-sdk-go, as the
// activities do, and let the provisioning engine push to the sandbox's own
// SCIM server in an httptest server.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/sandbox/world"
)

const (
	syncTestSP     = "5c1d2a1e-0000-4000-8000-00000000c0de"
	syncTestTenant = "b1b2c3d4-1111-2222-3333-444455556666"
)

// fakeApps stands in for appState: one service principal and the groups
// assigned to it, changeable while the sandbox runs.
type fakeApps struct {
	mu      sync.Mutex
	groups  []string
	deleted bool
}

func (f *fakeApps) servicePrincipalExists(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return id == syncTestSP && !f.deleted
}

func (f *fakeApps) deleteServicePrincipal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = true
}

func (f *fakeApps) assignedGroupIDs(spID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if spID != syncTestSP {
		return nil
	}
	return slices.Clone(f.groups)
}

func (f *fakeApps) assign(groupIDs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groups = append(f.groups, groupIDs...)
}

// syncEnv is a sandbox with a fake app directory, a Graph client for it and
// a SCIM endpoint with a token.
type syncEnv struct {
	sb     *Sandbox
	graph  *graphclient.Client
	apps   *fakeApps
	scim   *scimServer
	base   string // the SCIM endpoint
	token  string
	world  *world.World
	ctx    context.Context
	tokens []string // every token created, to prove none leaks
}

func newSyncEnv(t *testing.T, w *world.World, interval time.Duration) *syncEnv {
	t.Helper()
	require.NoError(t, w.Validate())
	sb, err := Start(w, Options{Graph: GraphOptions{ProvisioningInterval: interval}})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	apps := &fakeApps{}
	sb.graph.sync.mu.Lock()
	sb.graph.sync.apps = apps
	sb.graph.sync.mu.Unlock()
	graph, err := graphclient.New(graphclient.Config{BaseURL: sb.GraphURL, StaticToken: "graph-test-token", RequestsPerSecond: -1})
	require.NoError(t, err)

	scim := newSCIMServer(syncTestTenant, nil)
	ts := httptest.NewServer(scim)
	t.Cleanup(ts.Close)
	_, token, _, err := scim.CreateToken()
	require.NoError(t, err)
	return &syncEnv{
		sb: sb, graph: graph, apps: apps, scim: scim, world: w, ctx: context.Background(),
		base: ts.URL + "/" + syncTestTenant + "/scim/v2", token: token, tokens: []string{token},
	}
}

// syncWorld has three groups: team-a (alice, bob, and the nested group
// contractors, whose carol must not be provisioned through it), team-b (bob
// and dave) and contractors (carol).
func syncWorld() *world.World {
	user := func(name string) world.EntraUser {
		upn := name + "@corp.example"
		return world.EntraUser{UserPrincipalName: upn, Mail: upn, GivenName: strings.ToUpper(name[:1]) + name[1:], Surname: "Test", DisplayName: name + " Test"}
	}
	return &world.World{
		AWS: world.AWS{Region: "eu-west-1", IdentityStoreID: "d-1234567890", InstanceARN: "arn:aws:sso:::instance/ssoins-1234567890abcdef"},
		Entra: world.Entra{
			TenantID: "00000000-0000-0000-0000-000000000001",
			Users:    []world.EntraUser{user("alice"), user("bob"), user("carol"), user("dave")},
			Groups: []world.EntraGroup{
				{DisplayName: "team-a", SecurityEnabled: true, Members: []string{"alice@corp.example", "bob@corp.example"}, MemberGroups: []string{"contractors"}},
				{DisplayName: "team-b", SecurityEnabled: true, Members: []string{"bob@corp.example", "dave@corp.example"}},
				{DisplayName: "contractors", SecurityEnabled: true, Members: []string{"carol@corp.example"}},
			},
		},
	}
}

func (e *syncEnv) groupID(name string) string {
	for i, g := range e.world.Entra.Groups {
		if g.DisplayName == name {
			return graphGroupID(i, g.DisplayName)
		}
	}
	panic("no group " + name)
}

func (e *syncEnv) sync() *serviceprincipals.ItemSynchronizationRequestBuilder {
	return e.graph.Client.ServicePrincipals().ByServicePrincipalId(syncTestSP).Synchronization()
}

func (e *syncEnv) createJob(t *testing.T) string {
	t.Helper()
	body := models.NewSynchronizationJob()
	body.SetTemplateId(ptrTo(awsSyncTemplateID))
	job, err := e.sync().Jobs().Post(e.ctx, body, nil)
	require.NoError(t, err)
	return *job.GetId()
}

func (e *syncEnv) putSecrets(t *testing.T, base, token string) {
	t.Helper()
	body := serviceprincipals.NewItemSynchronizationSecretsPutRequestBody()
	body.SetValue([]models.SynchronizationSecretKeyStringValuePairable{
		secret(models.BASEADDRESS_SYNCHRONIZATIONSECRET, base),
		secret(models.SECRETTOKEN_SYNCHRONIZATIONSECRET, token),
		secret(models.SYNCALL_SYNCHRONIZATIONSECRET, "false"),
	})
	_, err := e.sync().Secrets().Put(e.ctx, body, nil)
	require.NoError(t, err)
}

func secret(key models.SynchronizationSecret, value string) models.SynchronizationSecretKeyStringValuePairable {
	p := models.NewSynchronizationSecretKeyStringValuePair()
	p.SetKey(&key)
	p.SetValue(&value)
	return p
}

func (e *syncEnv) job(jobID string) *serviceprincipals.ItemSynchronizationJobsSynchronizationJobItemRequestBuilder {
	return e.sync().Jobs().BySynchronizationJobId(jobID)
}

func (e *syncEnv) getJob(t *testing.T, jobID string) models.SynchronizationJobable {
	t.Helper()
	job, err := e.job(jobID).Get(e.ctx, nil)
	require.NoError(t, err)
	return job
}

func (e *syncEnv) start(t *testing.T, jobID string) {
	t.Helper()
	require.NoError(t, e.job(jobID).Start().Post(e.ctx, nil))
}

// steadyJob assigns the groups to the app, creates a job with the
// credentials saved, starts it and waits for its steady state.
func (e *syncEnv) steadyJob(t *testing.T, groups ...string) string {
	t.Helper()
	for _, g := range groups {
		e.apps.assign(e.groupID(g))
	}
	jobID := e.createJob(t)
	e.putSecrets(t, e.base, e.token)
	started := time.Now()
	e.start(t, jobID)
	e.waitFor(t, jobID, "steady state", steadyAfter(started))
	return jobID
}

// waitFor polls the job until cond holds.
func (e *syncEnv) waitFor(t *testing.T, jobID, what string, cond func(models.SynchronizationStatusable) bool) models.SynchronizationStatusable {
	t.Helper()
	var last models.SynchronizationStatusable
	require.Eventually(t, func() bool {
		last = e.getJob(t, jobID).GetStatus()
		return cond(last)
	}, 10*time.Second, 10*time.Millisecond, "the job never got to: %s", what)
	return last
}

// steadyAfter holds when the job reached steady state after t.
func steadyAfter(after time.Time) func(models.SynchronizationStatusable) bool {
	return func(st models.SynchronizationStatusable) bool {
		return st.GetSteadyStateLastAchievedTime() != nil && st.GetSteadyStateLastAchievedTime().After(after)
	}
}

func statusCode(st models.SynchronizationStatusable) string { return st.GetCode().String() }

func entryCounts(st models.SynchronizationStatusable) map[string]int64 {
	counts := map[string]int64{}
	for _, c := range st.GetSynchronizedEntryCountByType() {
		counts[*c.GetKey()] = *c.GetValue()
	}
	return counts
}

// scimUsers and scimGroup read what the SCIM endpoint holds.
func (e *syncEnv) scimUsers() []string {
	var names []string
	for _, u := range e.scim.Snapshot().Users {
		names = append(names, u.UserName)
	}
	return names
}

func (e *syncEnv) scimGroup(t *testing.T, name string) (SCIMGroup, []string) {
	t.Helper()
	state := e.scim.Snapshot()
	byID := map[string]string{}
	for _, u := range state.Users {
		byID[u.ID] = u.UserName
	}
	for _, g := range state.Groups {
		if g.DisplayName == name {
			var members []string
			for _, id := range g.MemberIDs {
				members = append(members, byID[id])
			}
			slices.Sort(members)
			return g, members
		}
	}
	t.Fatalf("the SCIM endpoint has no group %s", name)
	return SCIMGroup{}, nil
}

// scimCall sends one SCIM request with the env's token, as a person setting
// the target up by hand would.
func (e *syncEnv) scimCall(t *testing.T, method, path string, body any) {
	t.Helper()
	data, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(method, e.base+path, bytes.NewReader(data))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, out)
}

// requireNoToken checks that no token appears in s.
func (e *syncEnv) requireNoToken(t *testing.T, s string) {
	t.Helper()
	for _, token := range e.tokens {
		require.NotContains(t, s, token, "a SCIM token leaked")
	}
}

// requireLogHasNoToken checks the provisioning log.
func (e *syncEnv) requireLogHasNoToken(t *testing.T) {
	t.Helper()
	data, err := json.Marshal(e.sb.ProvisioningLog())
	require.NoError(t, err)
	e.requireNoToken(t, string(data))
}

// rawJob reads the job's JSON as Graph sends it.
func (e *syncEnv) rawJob(t *testing.T, jobID string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.sb.GraphURL+"/v1.0/servicePrincipals/"+syncTestSP+"/synchronization/jobs/"+jobID, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer graph-test-token")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(data))
	return string(data)
}

func requireGraphError(t *testing.T, err error, status int) *odataerrors.ODataError {
	t.Helper()
	var odata *odataerrors.ODataError
	require.True(t, errors.As(err, &odata), "want Graph's error, got %v", err)
	require.Equal(t, status, odata.ResponseStatusCode)
	return odata
}

func graphErrorMessage(e *odataerrors.ODataError) string {
	if m := e.GetErrorEscaped().GetMessage(); m != nil {
		return *m
	}
	return ""
}

func ptrTo[T any](v T) *T { return &v }

func TestSyncTemplateJobsSecretsAndCredentialsThroughTheSDK(t *testing.T) {
	e := newSyncEnv(t, syncWorld(), time.Hour)

	templates, err := e.sync().Templates().Get(e.ctx, nil)
	require.NoError(t, err)
	require.Len(t, templates.GetValue(), 1)
	require.Equal(t, "aWSSingleSignon", *templates.GetValue()[0].GetFactoryTag())
	require.Equal(t, "aWSSingleSignon", *templates.GetValue()[0].GetId())

	jobID := e.createJob(t)
	require.Regexp(t, `^aWSSingleSignon\.[0-9a-f]{32}\.[0-9a-f-]{36}$`, jobID)
	jobs, err := e.sync().Jobs().Get(e.ctx, nil)
	require.NoError(t, err)
	require.Len(t, jobs.GetValue(), 1)
	job := e.getJob(t, jobID)
	require.Equal(t, "aWSSingleSignon", *job.GetTemplateId())
	require.Equal(t, "NotConfigured", statusCode(job.GetStatus()))
	require.Equal(t, models.DISABLED_SYNCHRONIZATIONSCHEDULESTATE, *job.GetSchedule().GetState())

	schema, err := e.job(jobID).Schema().Get(e.ctx, nil)
	require.NoError(t, err)
	require.Equal(t, awsSyncRuleID, *schema.GetSynchronizationRules()[0].GetId())

	// A job cannot start before its credentials are saved.
	requireGraphError(t, e.job(jobID).Start().Post(e.ctx, nil), http.StatusBadRequest)

	e.putSecrets(t, e.base, e.token)
	require.Equal(t, "NotRun", statusCode(e.getJob(t, jobID).GetStatus()))
	validate := serviceprincipals.NewItemSynchronizationJobsItemValidateCredentialsPostRequestBody()
	validate.SetUseSavedCredentials(ptrTo(true))
	require.NoError(t, e.job(jobID).ValidateCredentials().Post(e.ctx, validate, nil))

	// A wrong token is refused with Entra's error, and the error does not
	// carry the token.
	wrong := "wrong-token-0123456789"
	e.tokens = append(e.tokens, wrong)
	validate = serviceprincipals.NewItemSynchronizationJobsItemValidateCredentialsPostRequestBody()
	validate.SetUseSavedCredentials(ptrTo(false))
	validate.SetCredentials([]models.SynchronizationSecretKeyStringValuePairable{
		secret(models.BASEADDRESS_SYNCHRONIZATIONSECRET, e.base),
		secret(models.SECRETTOKEN_SYNCHRONIZATIONSECRET, wrong),
	})
	refused := requireGraphError(t, e.job(jobID).ValidateCredentials().Post(e.ctx, validate, nil), http.StatusBadRequest)
	require.Contains(t, graphErrorMessage(refused), "SystemForCrossDomainIdentityManagementCredentialValidationFailure")
	require.Contains(t, graphErrorMessage(refused), "401")
	e.requireNoToken(t, graphErrorMessage(refused))

	// A PUT replaces the saved set: without the token, nothing is saved to
	// validate.
	body := serviceprincipals.NewItemSynchronizationSecretsPutRequestBody()
	body.SetValue([]models.SynchronizationSecretKeyStringValuePairable{secret(models.BASEADDRESS_SYNCHRONIZATIONSECRET, e.base)})
	_, err = e.sync().Secrets().Put(e.ctx, body, nil)
	require.NoError(t, err)
	validate = serviceprincipals.NewItemSynchronizationJobsItemValidateCredentialsPostRequestBody()
	validate.SetUseSavedCredentials(ptrTo(true))
	requireGraphError(t, e.job(jobID).ValidateCredentials().Post(e.ctx, validate, nil), http.StatusBadRequest)

	e.requireNoToken(t, e.rawJob(t, jobID))
	require.NoError(t, e.job(jobID).Delete(e.ctx, nil))
	jobs, err = e.sync().Jobs().Get(e.ctx, nil)
	require.NoError(t, err)
	require.Empty(t, jobs.GetValue())
	_, err = e.job(jobID).Get(e.ctx, nil)
	requireGraphError(t, err, http.StatusNotFound)

	_, err = e.graph.Client.ServicePrincipals().ByServicePrincipalId("no-such-sp").Synchronization().Jobs().Get(e.ctx, nil)
	requireGraphError(t, err, http.StatusNotFound)
}

func TestProvisioningCycleProvisionsAssignedGroupsAndTheirDirectMembersOnce(t *testing.T) {
	e := newSyncEnv(t, syncWorld(), 20*time.Millisecond)
	e.apps.assign(e.groupID("team-a"), e.groupID("team-b"))
	// bob and team-b exist in AWS already: Entra adopts them by userName and
	// displayName instead of creating them again.
	e.scimCall(t, http.MethodPost, "/Users", map[string]any{
		"userName": "bob@corp.example", "name": map[string]string{"givenName": "Bob", "familyName": "Test"},
		"displayName": "bob Test", "emails": []map[string]any{{"value": "bob@corp.example", "type": "work", "primary": true}},
	})
	e.scimCall(t, http.MethodPost, "/Groups", map[string]any{"displayName": "team-b"})

	jobID := e.createJob(t)
	e.putSecrets(t, e.base, e.token)
	started := time.Now()
	e.start(t, jobID)
	st := e.waitFor(t, jobID, "steady state", steadyAfter(started))
	require.Equal(t, "Active", statusCode(st))
	require.Equal(t, map[string]int64{"user to User": 3, "group to Group": 2}, entryCounts(st))

	// carol is reached only through the nested group: not provisioned.
	require.Equal(t, []string{"alice@corp.example", "bob@corp.example", "dave@corp.example"}, e.scimUsers())
	teamA, members := e.scimGroup(t, "team-a")
	require.Equal(t, e.groupID("team-a"), teamA.ExternalID)
	require.Equal(t, []string{"alice@corp.example", "bob@corp.example"}, members)
	_, members = e.scimGroup(t, "team-b")
	require.Equal(t, []string{"bob@corp.example", "dave@corp.example"}, members)
	alice := e.scim.Snapshot().Users[0]
	require.Equal(t, SCIMUser{ID: alice.ID, ExternalID: graphUserID("alice@corp.example"), UserName: "alice@corp.example",
		GivenName: "Alice", FamilyName: "Test", DisplayName: "alice Test", Email: "alice@corp.example", Active: true}, alice)

	actions := map[string]string{}
	for _, ev := range e.sb.ProvisioningLog() {
		require.Equal(t, ProvisioningSuccess, ev.Status, "%+v", ev)
		if ev.Action != ProvisioningMembersAdded {
			actions[ev.ObjectType+" "+ev.Name] = ev.Action
		}
	}
	require.Equal(t, map[string]string{
		"User alice@corp.example": ProvisioningCreated, "User bob@corp.example": ProvisioningMatched,
		"User dave@corp.example": ProvisioningCreated, "Group team-a": ProvisioningCreated, "Group team-b": ProvisioningMatched,
	}, actions)

	// Later cycles write nothing: the log stays as it is.
	events := len(e.sb.ProvisioningLog())
	e.waitFor(t, jobID, "a second steady cycle", steadyAfter(time.Now()))
	require.Len(t, e.sb.ProvisioningLog(), events)

	// A group assigned later is provisioned by the next cycle, and bob,
	// whom the job knows, is not looked up again.
	e.apps.assign(e.groupID("contractors"))
	e.waitFor(t, jobID, "contractors provisioned", func(st models.SynchronizationStatusable) bool {
		return entryCounts(st)["group to Group"] == 3
	})
	_, members = e.scimGroup(t, "contractors")
	require.Equal(t, []string{"carol@corp.example"}, members)
	require.Len(t, e.scim.Snapshot().Users, 4)
	e.requireLogHasNoToken(t)
	e.requireNoToken(t, e.rawJob(t, jobID))
}

func TestProvisioningAddsMembersAtMostOneHundredToARequest(t *testing.T) {
	w := syncWorld()
	big := world.EntraGroup{DisplayName: "everyone", SecurityEnabled: true}
	for i := range 250 {
		upn := fmt.Sprintf("user%03d@corp.example", i)
		w.Entra.Users = append(w.Entra.Users, world.EntraUser{UserPrincipalName: upn, Mail: upn, GivenName: "User", Surname: fmt.Sprint(i), DisplayName: "User " + fmt.Sprint(i)})
		big.Members = append(big.Members, upn)
	}
	w.Entra.Groups = append(w.Entra.Groups, big)
	e := newSyncEnv(t, w, time.Hour)
	e.apps.assign(e.groupID("everyone"))
	jobID := e.createJob(t)
	e.putSecrets(t, e.base, e.token)
	e.start(t, jobID)
	e.waitFor(t, jobID, "steady state", func(st models.SynchronizationStatusable) bool { return statusCode(st) == "Active" })

	// The SCIM server refuses more than 100 member changes in a request, so
	// every member being there shows the chunking.
	_, members := e.scimGroup(t, "everyone")
	require.Len(t, members, 250)
	var chunks []int
	for _, ev := range e.sb.ProvisioningLog() {
		if ev.Action == ProvisioningMembersAdded {
			chunks = append(chunks, ev.Members)
		}
	}
	require.Equal(t, []int{100, 100, 50}, chunks)
}

func TestProvisioningEscrowsUsersThatCannotBeProvisionedAndGoesOn(t *testing.T) {
	w := syncWorld()
	w.Entra.Users = append(w.Entra.Users,
		world.EntraUser{UserPrincipalName: "nosurname@corp.example", GivenName: "No", DisplayName: "No Surname"},
		world.EntraUser{UserPrincipalName: "colon@corp.example", GivenName: "Co", Surname: "Lon", DisplayName: "Co: Lon"},
		world.EntraUser{UserPrincipalName: "dup@corp.example", Mail: "taken@corp.example", GivenName: "Du", Surname: "P", DisplayName: "Du P"},
	)
	w.Entra.Groups[1].Members = append(w.Entra.Groups[1].Members, "nosurname@corp.example", "colon@corp.example", "dup@corp.example")
	e := newSyncEnv(t, w, 20*time.Millisecond)
	e.apps.assign(e.groupID("team-b"))
	// Someone else in AWS holds dup's email: AWS refuses dup as a duplicate.
	e.scimCall(t, http.MethodPost, "/Users", map[string]any{
		"userName": "other@corp.example", "name": map[string]string{"givenName": "O", "familyName": "Ther"},
		"displayName": "O Ther", "emails": []map[string]any{{"value": "taken@corp.example", "type": "work", "primary": true}},
	})

	jobID := e.createJob(t)
	e.putSecrets(t, e.base, e.token)
	e.start(t, jobID)
	st := e.waitFor(t, jobID, "a cycle with entry-level errors", func(st models.SynchronizationStatusable) bool {
		return st.GetLastExecution() != nil
	})
	require.Equal(t, models.ENTRYLEVELERRORS_SYNCHRONIZATIONTASKEXECUTIONRESULT, *st.GetLastExecution().GetState())
	require.EqualValues(t, 3, *st.GetLastExecution().GetCountEscrowed())
	require.Equal(t, "Active", statusCode(st))

	_, members := e.scimGroup(t, "team-b")
	require.Equal(t, []string{"bob@corp.example", "dave@corp.example"}, members)
	failures := map[string]string{}
	for _, ev := range e.sb.ProvisioningLog() {
		if ev.Status == ProvisioningFailure {
			failures[ev.Name] = ev.ErrorCode
			require.NotEmpty(t, ev.Reason)
		}
	}
	require.Equal(t, map[string]string{
		"nosurname@corp.example": "MissingRequiredAttribute",
		"colon@corp.example":     "InvalidCharacter",
		"dup@corp.example":       "DuplicateInTarget",
	}, failures)

	// Once the group with the failing users is no longer assigned, they are
	// no longer escrowed: nothing is failing, they are out of scope.
	e.apps.mu.Lock()
	e.apps.groups = []string{e.groupID("team-a")}
	e.apps.mu.Unlock()
	e.waitFor(t, jobID, "no escrows", func(st models.SynchronizationStatusable) bool {
		last := st.GetLastExecution()
		return last != nil && *last.GetCountEscrowed() == 0 && *last.GetState() == models.SUCCEEDED_SYNCHRONIZATIONTASKEXECUTIONRESULT
	})
}

func TestProvisioningQuarantinesWhenTheTokenIsRefusedUntilRestarted(t *testing.T) {
	e := newSyncEnv(t, syncWorld(), 20*time.Millisecond)
	jobID := e.steadyJob(t, "team-a")

	// The token is deleted in the console: the next cycle's connection test
	// is refused and the job goes into quarantine.
	for _, tok := range e.scim.Tokens() {
		require.NoError(t, e.scim.DeleteToken(tok.ID))
	}
	st := e.waitFor(t, jobID, "quarantine", func(st models.SynchronizationStatusable) bool { return statusCode(st) == "Quarantine" })
	require.Equal(t, models.ENCOUNTEREDQUARANTINEEXCEPTION_QUARANTINEREASON, *st.GetQuarantine().GetReason())
	require.Equal(t, models.FAILED_SYNCHRONIZATIONTASKEXECUTIONRESULT, *st.GetLastExecution().GetState())
	require.Equal(t, credentialFailureCode, *st.GetQuarantine().GetError().GetCode())
	require.Contains(t, *st.GetLastExecution().GetError().GetMessage(), "401")

	// No more cycles run: the job's runner ends, and the last execution
	// stays the same.
	ended := *st.GetLastExecution().GetTimeEnded()
	e.requireNoRunner(t, "a quarantined job runs no cycle")
	require.Equal(t, ended, *e.getJob(t, jobID).GetStatus().GetLastExecution().GetTimeEnded())

	// A new token, saved, and a restart: the job reprocesses every object
	// and finds them all there, so nothing is created twice.
	_, token, _, err := e.scim.CreateToken()
	require.NoError(t, err)
	e.tokens = append(e.tokens, token)
	e.putSecrets(t, e.base, token)
	restart := serviceprincipals.NewItemSynchronizationJobsItemRestartPostRequestBody()
	criteria := models.NewSynchronizationJobRestartCriteria()
	criteria.SetResetScope(ptrTo(models.SynchronizationJobRestartScope(models.WATERMARK_SYNCHRONIZATIONJOBRESTARTSCOPE | models.ESCROWS_SYNCHRONIZATIONJOBRESTARTSCOPE | models.QUARANTINESTATE_SYNCHRONIZATIONJOBRESTARTSCOPE)))
	restart.SetCriteria(criteria)
	restarted := time.Now()
	require.NoError(t, e.job(jobID).Restart().Post(e.ctx, restart, nil))
	st = e.waitFor(t, jobID, "steady state after the restart", steadyAfter(restarted))
	require.Equal(t, "Active", statusCode(st))
	require.Nil(t, st.GetQuarantine())
	require.Equal(t, []string{"alice@corp.example", "bob@corp.example"}, e.scimUsers())
	var matched int
	for _, ev := range e.sb.ProvisioningLog() {
		if ev.Action == ProvisioningMatched {
			matched++
		}
	}
	require.Equal(t, 3, matched, "alice, bob and team-a are matched again after the restart")
	e.requireLogHasNoToken(t)
	e.requireNoToken(t, e.rawJob(t, jobID))
}

func TestPauseStopsTheCyclesAndStartResumesThem(t *testing.T) {
	e := newSyncEnv(t, syncWorld(), 20*time.Millisecond)
	jobID := e.steadyJob(t, "team-a")

	require.NoError(t, e.job(jobID).Pause().Post(e.ctx, nil))
	require.Equal(t, "Paused", statusCode(e.getJob(t, jobID).GetStatus()))
	e.requireNoRunner(t, "a paused job runs no cycle")
	e.apps.assign(e.groupID("team-b"))
	require.Equal(t, []string{"alice@corp.example", "bob@corp.example"}, e.scimUsers(), "a paused job provisions nothing")

	e.start(t, jobID)
	e.waitFor(t, jobID, "team-b provisioned", func(st models.SynchronizationStatusable) bool {
		return entryCounts(st)["group to Group"] == 2
	})
	require.Equal(t, []string{"alice@corp.example", "bob@corp.example", "dave@corp.example"}, e.scimUsers())
	// Starting an active job again changes nothing.
	e.start(t, jobID)
	require.Equal(t, "Active", statusCode(e.getJob(t, jobID).GetStatus()))
}

func TestProvisionOnDemandTakesOneGroupWithUpToFiveMembers(t *testing.T) {
	e := newSyncEnv(t, syncWorld(), time.Hour)
	e.apps.assign(e.groupID("team-a"), e.groupID("team-b"))
	jobID := e.createJob(t)
	e.putSecrets(t, e.base, e.token)

	result := e.onDemand(t, jobID, awsSyncRuleID, e.groupID("team-b"), graphUserID("bob@corp.example"), graphUserID("dave@corp.example"))
	require.Equal(t, "Success", result)
	_, members := e.scimGroup(t, "team-b")
	require.Equal(t, []string{"bob@corp.example", "dave@corp.example"}, members)
	require.Equal(t, map[string]int64{"user to User": 2, "group to Group": 1}, entryCounts(e.getJob(t, jobID).GetStatus()))

	// The same again: nothing left to do.
	require.Equal(t, "Skipped", e.onDemand(t, jobID, awsSyncRuleID, e.groupID("team-b"), graphUserID("bob@corp.example")))
	// A group not assigned to the app is not provisioned.
	require.Equal(t, "Skipped", e.onDemand(t, jobID, awsSyncRuleID, e.groupID("contractors")))

	// Six members, or two subjects, or a rule of another job are refused.
	six := make([]string, 6)
	for i := range six {
		six[i] = graphUserID("alice@corp.example")
	}
	_, err := e.postOnDemand(jobID, awsSyncRuleID, e.groupID("team-a"), six...)
	requireGraphError(t, err, http.StatusBadRequest)
	_, err = e.postOnDemand(jobID, "not-a-rule", e.groupID("team-a"))
	requireGraphError(t, err, http.StatusBadRequest)
	two := e.onDemandBody(awsSyncRuleID, e.groupID("team-a"))
	two.GetParameters()[0].SetSubjects(append(two.GetParameters()[0].GetSubjects(), two.GetParameters()[0].GetSubjects()[0]))
	_, err = e.job(jobID).ProvisionOnDemand().Post(e.ctx, two, nil)
	requireGraphError(t, err, http.StatusBadRequest)

	// Five requests in ten seconds: the three answered so far count (the
	// refused bodies do not), so the sixth is throttled.
	require.Equal(t, "Skipped", e.onDemand(t, jobID, awsSyncRuleID, e.groupID("team-b")))
	require.Equal(t, "Skipped", e.onDemand(t, jobID, awsSyncRuleID, e.groupID("team-b")))
	status, header := e.rawOnDemand(t, jobID, e.groupID("team-b"))
	require.Equal(t, http.StatusTooManyRequests, status)
	require.NotEmpty(t, header.Get("Retry-After"))
	e.requireLogHasNoToken(t)
}

func (e *syncEnv) onDemandBody(rule, groupID string, memberIDs ...string) serviceprincipals.ItemSynchronizationJobsItemProvisionOnDemandPostRequestBodyable {
	subject := models.NewSynchronizationJobSubject()
	subject.SetObjectId(&groupID)
	subject.SetObjectTypeName(ptrTo("Group"))
	if len(memberIDs) > 0 {
		links := models.NewSynchronizationLinkedObjects()
		var members []models.SynchronizationJobSubjectable
		for _, id := range memberIDs {
			m := models.NewSynchronizationJobSubject()
			m.SetObjectId(ptrTo(id))
			m.SetObjectTypeName(ptrTo("User"))
			members = append(members, m)
		}
		links.SetMembers(members)
		subject.SetLinks(links)
	}
	params := models.NewSynchronizationJobApplicationParameters()
	params.SetRuleId(&rule)
	params.SetSubjects([]models.SynchronizationJobSubjectable{subject})
	body := serviceprincipals.NewItemSynchronizationJobsItemProvisionOnDemandPostRequestBody()
	body.SetParameters([]models.SynchronizationJobApplicationParametersable{params})
	return body
}

func (e *syncEnv) postOnDemand(jobID, rule, groupID string, memberIDs ...string) (models.StringKeyStringValuePairable, error) {
	return e.job(jobID).ProvisionOnDemand().Post(e.ctx, e.onDemandBody(rule, groupID, memberIDs...), nil)
}

// onDemand provisions a group on demand and returns the result Graph
// reports in the answer's key.
func (e *syncEnv) onDemand(t *testing.T, jobID, rule, groupID string, memberIDs ...string) string {
	t.Helper()
	answer, err := e.postOnDemand(jobID, rule, groupID, memberIDs...)
	require.NoError(t, err)
	var key struct {
		Result string `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(*answer.GetKey()), &key))
	e.requireNoToken(t, *answer.GetValue())
	return key.Result
}

// rawOnDemand posts with plain HTTP, so a 429 is seen rather than retried.
func (e *syncEnv) rawOnDemand(t *testing.T, jobID, groupID string) (int, http.Header) {
	t.Helper()
	body := fmt.Sprintf(`{"parameters":[{"ruleId":%q,"subjects":[{"objectId":%q,"objectTypeName":"Group"}]}]}`, awsSyncRuleID, groupID)
	req, err := http.NewRequest(http.MethodPost, e.sb.GraphURL+"/v1.0/servicePrincipals/"+syncTestSP+"/synchronization/jobs/"+jobID+"/provisionOnDemand", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer graph-test-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header
}

func TestCloseStopsTheProvisioningEngine(t *testing.T) {
	e := newSyncEnv(t, syncWorld(), 5*time.Millisecond)
	e.steadyJob(t, "team-a")

	e.sb.Close() // waits for the runner to end
	require.Zero(t, e.sb.ProvisioningRunners(), "no cycle runs after Close")
	e.apps.assign(e.groupID("team-b"))
	require.Equal(t, []string{"alice@corp.example", "bob@corp.example"}, e.scimUsers())
}

// requireNoRunner waits until no job has a runner, which is what shows
// that no further cycle can run (a sleep would pass on a busy machine
// whether or not the runner stopped).
func (e *syncEnv) requireNoRunner(t *testing.T, why string) {
	t.Helper()
	require.Eventually(t, func() bool { return e.sb.ProvisioningRunners() == 0 }, 10*time.Second, time.Millisecond, why)
}

func TestDeletingTheServicePrincipalDeletesItsJobs(t *testing.T) {
	e := newSyncEnv(t, syncWorld(), 5*time.Millisecond)
	jobID := e.steadyJob(t, "team-a")

	e.apps.deleteServicePrincipal()
	require.Eventually(t, func() bool {
		s := e.sb.graph.sync
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.jobs[syncTestSP]) == 0 && findJob(s, jobID) == nil
	}, 5*time.Second, 5*time.Millisecond, "the job outlived its service principal")
	_, err := e.job(jobID).Get(e.ctx, nil)
	requireGraphError(t, err, http.StatusNotFound)
}

// findJob finds a job among all service principals' jobs; the caller holds s.mu.
func findJob(s *syncState, jobID string) *syncJob {
	for _, jobs := range s.jobs {
		for _, j := range jobs {
			if j.id == jobID {
				return j
			}
		}
	}
	return nil
}

func TestScheduleIntervalIsWhatTheSDKParses(t *testing.T) {
	for d, want := range map[time.Duration]string{
		40 * time.Minute: "PT40M", 2 * time.Second: "PT2.0S", 20 * time.Millisecond: "PT0.02S", 90*time.Minute + 5*time.Second: "PT1H30M5.0S",
	} {
		require.Equal(t, want, isoDuration(d))
	}
	e := newSyncEnv(t, syncWorld(), 2*time.Second)
	job := e.getJob(t, e.createJob(t))
	interval, err := job.GetSchedule().GetInterval().ToDuration()
	require.NoError(t, err)
	require.Equal(t, 2*time.Second, interval)
}

func TestSavedProvisioningSecretsShowWhatWasSavedWithoutTheToken(t *testing.T) {
	e := newSyncEnv(t, syncWorld(), time.Hour)
	require.Nil(t, e.sb.SavedProvisioningSecrets(syncTestSP))
	e.putSecrets(t, e.base, e.token)
	saved := e.sb.SavedProvisioningSecrets(syncTestSP)
	require.Equal(t, map[string]string{"BaseAddress": e.base, "SecretToken": SecretTokenFingerprint(e.token), "SyncAll": "false"}, saved)
	e.requireNoToken(t, fmt.Sprint(saved))
	require.NotEqual(t, SecretTokenFingerprint(e.token), SecretTokenFingerprint(e.token+"x"))
}
