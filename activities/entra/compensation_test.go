package entra_test

// The compensations against the sandbox, through the real msgraph-sdk-go
// client: the cutover's Microsoft half is set up by its own activities (the
// app, SAML, the matched groups assigned, provisioning started with a token
// from the sandbox's Secrets Manager), then undone newest first, each
// compensation twice, with answers lost after Graph carried the request out.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/internal/activitytest"
	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/secretstore"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/sandbox"
)

// provisioningInterval is the sandbox's time between provisioning cycles
// in these tests; each cycle calls the SCIM endpoint at least once.
const provisioningInterval = 50 * time.Millisecond

// undoFixture is an appFixture whose cutover got as far as provisioning:
// app, assignments and a started job, whose SCIM endpoint is a proxy that
// counts the engine's calls to AWS.
type undoFixture struct {
	*appFixture
	app       model.EnterpriseApp
	jobID     string
	scimCalls *atomic.Int64
}

func newUndoFixture(t *testing.T) *undoFixture {
	t.Helper()
	ctx := context.Background()
	w := handMadeWorld()
	sb, err := sandbox.Start(w, sandbox.Options{Graph: sandbox.GraphOptions{
		InstantiateDelay: sandbox.NoInstantiateDelay, ProvisioningInterval: provisioningInterval,
	}})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	proxy := newFaultProxy(t, sb.GraphURL)
	graph, err := graphclient.New(graphclient.Config{BaseURL: proxy.URL, StaticToken: "sandbox-token", RequestsPerSecond: -1})
	require.NoError(t, err)
	st := store.Dir{Path: t.TempDir()}
	secrets := sandboxSecretsManager(t, sb, w.AWS.Region)
	f := &undoFixture{
		appFixture: &appFixture{
			sb: sb, proxy: proxy, store: st, world: w,
			acts: &entra.Activities{Graph: graph, Store: st, AppVisibilityWait: time.Second, LoginBaseURL: proxy.URL, Secrets: secrets},
		},
		scimCalls: &atomic.Int64{},
	}

	// Steps 5 and 7: the app, SAML, the matched groups assigned.
	f.app = ensureApp(t, f.appFixture)
	var saml entra.ConfigureSAMLResult
	require.NoError(t, execute(t, f.acts, entra.ConfigureSAMLName, samlInput(f.app), &saml))
	var assigned entra.AssignGroupsToAppResult
	require.NoError(t, execute(t, f.acts, entra.AssignGroupsToAppName, assignInput(t, f.appFixture, f.app), &assigned))
	require.Equal(t, 2, assigned.Assigned)

	// Gate G3 and step 9: the console shows an endpoint and token, which
	// Entra is given (through the counting proxy) and starts provisioning to.
	scim := enableAutomaticProvisioning(t, sb, w.Entra.TenantID)
	tokenRef, err := secretstore.Put(ctx, secrets, "ssocutover/cutover-d-1234567890/scim-token", secretstore.NewValue(scim.Token), "22222222-2222-4222-8222-222222222222", nil)
	require.NoError(t, err)
	var job entra.EnsureProvisioningJobResult
	require.NoError(t, execute(t, f.acts, entra.EnsureProvisioningJobName, entra.EnsureProvisioningJobInput{App: f.app}, &job))
	f.jobID = job.JobID
	configure := entra.ConfigureProvisioningInput{App: f.app, JobID: f.jobID, SCIMEndpoint: f.countingProxy(t, scim.SCIMEndpoint), SCIMToken: tokenRef}
	var configured entra.ConfigureProvisioningResult
	require.NoError(t, execute(t, f.acts, entra.ConfigureProvisioningName, configure, &configured))
	var started entra.StartProvisioningResult
	require.NoError(t, execute(t, f.acts, entra.StartProvisioningName, entra.StartProvisioningInput{App: f.app, JobID: f.jobID, GroupIDs: assigned.GroupIDs}, &started))
	require.Eventually(t, func() bool { return len(sb.ProvisioningLog()) > 0 }, 10*time.Second, 10*time.Millisecond, "the job never provisioned")
	f.requireEngineCallsSCIM(t)
	return f
}

// sandboxSecretsManager is the real Secrets Manager client pointed at the
// sandbox.
func sandboxSecretsManager(t *testing.T, sb *sandbox.Sandbox, region string) *secretsmanager.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIASANDBOXEXAMPLE", "sandbox-secret-key", "")),
		config.WithBaseEndpoint(sb.AWSURL),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	require.NoError(t, err)
	return secretsmanager.NewFromConfig(cfg)
}

// countingProxy serves endpoint's SCIM API through a proxy that counts the
// requests, and returns the endpoint on the proxy.
func (f *undoFixture) countingProxy(t *testing.T, endpoint string) string {
	t.Helper()
	target, err := url.Parse(endpoint)
	require.NoError(t, err)
	forward := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.scimCalls.Add(1)
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + target.Path
}

// requireEngineCallsSCIM checks that the provisioning engine is calling
// AWS: the count grows from one cycle to the next.
func (f *undoFixture) requireEngineCallsSCIM(t *testing.T) {
	t.Helper()
	before := f.scimCalls.Load()
	require.Eventually(t, func() bool { return f.scimCalls.Load() > before }, 10*time.Second, provisioningInterval/5, "the engine calls SCIM every cycle")
}

// requireEngineStopped checks that the provisioning engine no longer calls
// AWS: no job has a runner left to run a cycle.
func (f *undoFixture) requireEngineStopped(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool { return f.sb.ProvisioningRunners() == 0 }, 10*time.Second, provisioningInterval/5, "the engine still runs cycles")
}

func (f *undoFixture) jobCount(t *testing.T) int {
	t.Helper()
	jobs, err := f.acts.Graph.Client.ServicePrincipals().ByServicePrincipalId(f.app.ServicePrincipalID).Synchronization().Jobs().Get(context.Background(), nil)
	require.NoError(t, err)
	return len(jobs.GetValue())
}

// callsStartingWith counts the calls of the operations whose names start
// with prefix (job IDs are no GUIDs, so the counter keeps them in names).
func callsStartingWith(counts []apicalls.OperationCount, prefix string) int {
	n := 0
	for _, c := range counts {
		if strings.HasPrefix(c.Operation, prefix) {
			n += c.Calls
		}
	}
	return n
}

func (f *undoFixture) stopInput() entra.StopProvisioningInput {
	return entra.StopProvisioningInput{App: f.app, JobID: f.jobID}
}

func (f *undoFixture) deletePath(suffix string) string { return "DELETE /v1.0" + suffix }

func TestCompensationsUndoTheMicrosoftStepsAndChangeNothingTheSecondTime(t *testing.T) {
	f := newUndoFixture(t)

	var stopped entra.StopProvisioningResult
	require.NoError(t, execute(t, f.acts, entra.StopProvisioningName, f.stopInput(), &stopped))
	require.True(t, stopped.Stopped)
	require.True(t, stopped.SecretsCleared)
	require.Equal(t, 1, callsStartingWith(stopped.APICalls, "graph:DELETE /servicePrincipals/{id}/synchronization/jobs/"), "%v", stopped.APICalls)
	require.Zero(t, f.jobCount(t))
	f.requireEngineStopped(t)
	// The credentials are cleared: a new job of the app cannot start.
	var job entra.EnsureProvisioningJobResult
	require.NoError(t, execute(t, f.acts, entra.EnsureProvisioningJobName, entra.EnsureProvisioningJobInput{App: f.app}, &job))
	require.True(t, job.Created, "the deleted job is not found again")
	err := f.acts.Graph.Client.ServicePrincipals().ByServicePrincipalId(f.app.ServicePrincipalID).Synchronization().Jobs().BySynchronizationJobId(job.JobID).Start().Post(context.Background(), nil)
	require.ErrorContains(t, err, "without credentials")
	require.NoError(t, execute(t, f.acts, entra.StopProvisioningName, entra.StopProvisioningInput{App: f.app, JobID: job.JobID}, &stopped))

	var again entra.StopProvisioningResult
	require.NoError(t, execute(t, f.acts, entra.StopProvisioningName, f.stopInput(), &again))
	require.False(t, again.Stopped, "the job was gone")
	require.True(t, again.SecretsCleared)

	var removed entra.RemoveAppGroupAssignmentsResult
	require.NoError(t, execute(t, f.acts, entra.RemoveAppGroupAssignmentsName, entra.RemoveAppGroupAssignmentsInput{App: f.app}, &removed))
	require.Equal(t, 2, removed.Removed)
	require.Equal(t, 1, calls(removed.APICalls, batch))
	require.Empty(t, requireOneApp(t, f.appFixture, f.app).AssignedGroupIDs)
	require.NoError(t, execute(t, f.acts, entra.RemoveAppGroupAssignmentsName, entra.RemoveAppGroupAssignmentsInput{App: f.app}, &removed))
	require.Zero(t, removed.Removed)
	require.Zero(t, calls(removed.APICalls, batch), "nothing left to remove: %v", removed.APICalls)

	var deleted entra.DeleteEnterpriseAppResult
	require.NoError(t, execute(t, f.acts, entra.DeleteEnterpriseAppName, entra.DeleteEnterpriseAppInput{App: f.app}, &deleted))
	require.True(t, deleted.Deleted)
	require.Empty(t, f.sb.EnterpriseApps())
	require.NoError(t, execute(t, f.acts, entra.DeleteEnterpriseAppName, entra.DeleteEnterpriseAppInput{App: f.app}, &deleted))
	require.False(t, deleted.Deleted, "the app was gone")
	require.Zero(t, calls(deleted.APICalls, "graph:DELETE /applications/{id}"), "nothing left to delete: %v", deleted.APICalls)

	// With the app gone, each compensation finds nothing left to undo.
	require.NoError(t, execute(t, f.acts, entra.StopProvisioningName, f.stopInput(), &again))
	require.Equal(t, entra.StopProvisioningResult{APICalls: again.APICalls}, again)
	require.NoError(t, execute(t, f.acts, entra.RemoveAppGroupAssignmentsName, entra.RemoveAppGroupAssignmentsInput{App: f.app}, &removed))
	require.Zero(t, removed.Removed)
	require.Empty(t, f.sb.EnterpriseApps())
	f.requireEngineStopped(t)
}

func TestCompensationsWhoseDeleteAnswersWereLostReachTheSameState(t *testing.T) {
	f := newUndoFixture(t)

	// Graph deletes the job and the answer is lost (the connection
	// closes): the attempt fails, retryable; the retry finds the job gone
	// and clears the credentials.
	f.proxy.loseAnswer(f.deletePath("/servicePrincipals/"+f.app.ServicePrincipalID+"/synchronization/jobs/"+f.jobID), 1, 0)
	var stopped entra.StopProvisioningResult
	err := execute(t, f.acts, entra.StopProvisioningName, f.stopInput(), &stopped)
	require.Error(t, err)
	activitytest.RequireRetryable(t, err)
	require.Zero(t, f.jobCount(t), "Graph deleted the job all the same")
	require.NoError(t, execute(t, f.acts, entra.StopProvisioningName, f.stopInput(), &stopped))
	require.False(t, stopped.Stopped)
	require.True(t, stopped.SecretsCleared)
	f.requireEngineStopped(t)

	// The worker stops once Graph has removed the assignments, before the
	// answer arrives; Temporal runs the activity again, which finds none.
	ctx, stop := context.WithCancel(context.Background())
	f.proxy.loseAnswerThen("/$batch", stop)
	_, err = f.acts.RemoveAppGroupAssignments(ctx, entra.RemoveAppGroupAssignmentsInput{App: f.app})
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, requireOneApp(t, f.appFixture, f.app).AssignedGroupIDs)
	var removed entra.RemoveAppGroupAssignmentsResult
	require.NoError(t, execute(t, f.acts, entra.RemoveAppGroupAssignmentsName, entra.RemoveAppGroupAssignmentsInput{App: f.app}, &removed))
	require.Zero(t, removed.Removed)

	// Graph deletes the app and the answer is lost.
	f.proxy.loseAnswer(f.deletePath("/applications/"+f.app.ApplicationObjectID), 1, 0)
	var deleted entra.DeleteEnterpriseAppResult
	err = execute(t, f.acts, entra.DeleteEnterpriseAppName, entra.DeleteEnterpriseAppInput{App: f.app}, &deleted)
	require.Error(t, err)
	activitytest.RequireRetryable(t, err)
	require.Empty(t, f.sb.EnterpriseApps(), "Graph deleted the app all the same")
	require.NoError(t, execute(t, f.acts, entra.DeleteEnterpriseAppName, entra.DeleteEnterpriseAppInput{App: f.app}, &deleted))
	require.False(t, deleted.Deleted)
	require.Empty(t, f.sb.EnterpriseApps())
	f.requireEngineStopped(t)
}

func TestRemoveAppGroupAssignmentsWhoseBatchAnswerWasLostRemovesThemAll(t *testing.T) {
	// The batch's answer is lost after Graph removed the assignments: the
	// activity sends the batch again (the SDK does itself after a 504), and
	// Graph answers 404 to each removal, which counts as removed.
	for _, lost := range []struct {
		name   string
		status int
	}{{"connection closed", 0}, {"gateway timeout", http.StatusGatewayTimeout}} {
		t.Run(lost.name, func(t *testing.T) {
			f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
			app := ensureApp(t, f)
			var assigned entra.AssignGroupsToAppResult
			require.NoError(t, execute(t, f.acts, entra.AssignGroupsToAppName, assignInput(t, f, app), &assigned))
			f.proxy.loseAnswer("/$batch", 1, lost.status)

			var removed entra.RemoveAppGroupAssignmentsResult
			require.NoError(t, execute(t, f.acts, entra.RemoveAppGroupAssignmentsName, entra.RemoveAppGroupAssignmentsInput{App: app}, &removed))
			require.Equal(t, 2, f.proxy.count("/$batch")-1, "sent again (one more batch made the assignments)")
			require.Zero(t, removed.Removed, "the first batch removed them; its answer was lost")
			require.Empty(t, requireOneApp(t, f, app).AssignedGroupIDs)
		})
	}
}

func TestRemoveAppGroupAssignmentsOfTenThousandGroups(t *testing.T) {
	const n = 10_000
	f := newAppFixture(t, manyGroupsWorld(n), sandbox.NoInstantiateDelay, time.Second)
	app := ensureApp(t, f)
	var assigned entra.AssignGroupsToAppResult
	require.NoError(t, execute(t, f.acts, entra.AssignGroupsToAppName, assignInput(t, f, app), &assigned))
	require.Equal(t, n, assigned.Assigned)

	var removed entra.RemoveAppGroupAssignmentsResult
	require.NoError(t, execute(t, f.acts, entra.RemoveAppGroupAssignmentsName, entra.RemoveAppGroupAssignmentsInput{App: app}, &removed))
	require.Equal(t, n, removed.Removed)
	require.Equal(t, (n+998)/999, calls(removed.APICalls, "graph:GET /servicePrincipals/{id}/appRoleAssignedTo"), "listed 999 a page")
	require.Equal(t, n/20, calls(removed.APICalls, batch), "20 removals a call")
	require.Empty(t, requireOneApp(t, f, app).AssignedGroupIDs)
	require.Less(t, jsonLen(t, removed), 1<<10, "the result stays small whatever the organisation's size")
}

func TestCompensationsWithoutPermissionSayWhichOne(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	app := ensureApp(t, f)
	var assigned entra.AssignGroupsToAppResult
	require.NoError(t, execute(t, f.acts, entra.AssignGroupsToAppName, assignInput(t, f, app), &assigned))
	const jobID = "aWSSingleSignon.tenant.job"
	for _, path := range []string{"/synchronization/jobs/" + jobID, "/$batch", "/applications/" + app.ApplicationObjectID} {
		f.proxy.refuse(path, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	}

	var stopped entra.StopProvisioningResult
	err := execute(t, f.acts, entra.StopProvisioningName, entra.StopProvisioningInput{App: app, JobID: jobID}, &stopped)
	requireAppError(t, err, entra.ErrAccessDenied, "Authorization_RequestDenied", "Synchronization.ReadWrite.All", "Stop provisioning")

	var removed entra.RemoveAppGroupAssignmentsResult
	err = execute(t, f.acts, entra.RemoveAppGroupAssignmentsName, entra.RemoveAppGroupAssignmentsInput{App: app}, &removed)
	requireAppError(t, err, entra.ErrAccessDenied, "Authorization_RequestDenied", "AppRoleAssignment.ReadWrite.All")

	var deleted entra.DeleteEnterpriseAppResult
	err = execute(t, f.acts, entra.DeleteEnterpriseAppName, entra.DeleteEnterpriseAppInput{App: app}, &deleted)
	requireAppError(t, err, entra.ErrAccessDenied, "Authorization_RequestDenied", "Application.ReadWrite.All", "delete the app by hand")

	// Nothing was undone.
	require.Len(t, requireOneApp(t, f, app).AssignedGroupIDs, 2)
}

func TestCompensationsRefuseBadInput(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	app := ensureApp(t, f)

	var stopped entra.StopProvisioningResult
	requireAppError(t, execute(t, f.acts, entra.StopProvisioningName, entra.StopProvisioningInput{App: app}, &stopped), entra.ErrInvalidRequest, "jobId")
	requireAppError(t, execute(t, f.acts, entra.StopProvisioningName, entra.StopProvisioningInput{JobID: "aWSSingleSignon.job"}, &stopped), entra.ErrInvalidRequest, "servicePrincipalId")
	var removed entra.RemoveAppGroupAssignmentsResult
	requireAppError(t, execute(t, f.acts, entra.RemoveAppGroupAssignmentsName, entra.RemoveAppGroupAssignmentsInput{}, &removed), entra.ErrInvalidRequest)
	var deleted entra.DeleteEnterpriseAppResult
	requireAppError(t, execute(t, f.acts, entra.DeleteEnterpriseAppName, entra.DeleteEnterpriseAppInput{App: model.EnterpriseApp{ApplicationObjectID: app.ApplicationObjectID}}, &deleted), entra.ErrInvalidRequest)

	// IDs that do not belong together: the object is another app's.
	other := app
	other.AppID = "00000000-0000-0000-0000-00000000beef"
	err := execute(t, f.acts, entra.DeleteEnterpriseAppName, entra.DeleteEnterpriseAppInput{App: other}, &deleted)
	requireAppError(t, err, entra.ErrInvalidRequest, "not the cutover's app", "nothing was deleted")
	requireOneApp(t, f, app)
}
