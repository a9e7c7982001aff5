package entra_test

// The provisioning activities against the sandbox, through the real
// msgraph-sdk-go client: an enterprise app made from the gallery template,
// groups assigned to it, the IAM Identity Center console switched to Entra
// with automatic provisioning enabled, and the SCIM token in the sandbox's
// Secrets Manager, read through the real aws-sdk-go-v2 client.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/uuid"
	"github.com/microsoftgraph/msgraph-sdk-go/applicationtemplates"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/internal/activitytest"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/samlmeta/samlmetatest"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/secretstore"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

// provWorld has a group small enough for on-demand provisioning (two
// members) and one too large for it (seven).
func provWorld() *world.World {
	user := func(name string) world.EntraUser {
		upn := name + "@corp.example"
		return world.EntraUser{UserPrincipalName: upn, Mail: upn, GivenName: name, Surname: "Test", DisplayName: name + " Test"}
	}
	w := &world.World{
		AWS: world.AWS{
			Region: "eu-west-1", IdentityStoreID: "d-1234567890", InstanceARN: "arn:aws:sso:::instance/ssoins-1234567890abcdef",
			Accounts: []world.Account{{ID: account, Name: "prod"}},
		},
		Entra: world.Entra{TenantID: tenantID, Users: []world.EntraUser{user("alice"), user("bob")}},
	}
	small := world.EntraGroup{DisplayName: "aws-small", SecurityEnabled: true, Members: []string{"alice@corp.example", "bob@corp.example"}}
	large := world.EntraGroup{DisplayName: "aws-large", SecurityEnabled: true}
	for i := range 7 {
		u := user(fmt.Sprintf("user%d", i))
		w.Entra.Users = append(w.Entra.Users, u)
		large.Members = append(large.Members, u.UserPrincipalName)
	}
	w.Entra.Groups = []world.EntraGroup{small, large}
	return w
}

func provGroupID(w *world.World, name string) string {
	for i, g := range w.Entra.Groups {
		if g.DisplayName == name {
			return world.StableID("entra-group", fmt.Sprint(i, g.DisplayName))
		}
	}
	panic("no group " + name)
}

// provFixture is the sandbox, a proxy in front of its Graph listener that
// can lose answers, the app with its groups assigned, the SCIM credentials
// the console showed, and the activities.
type provFixture struct {
	sb       *sandbox.Sandbox
	proxy    *answerLosingProxy
	acts     *entra.Activities
	world    *world.World
	app      model.EnterpriseApp
	groupIDs []string
	scim     sandbox.SCIMCredentials
	tokenRef secretref.Ref
	secrets  *secretsmanager.Client
	logs     *activitytest.SyncBuffer
}

func newProvFixture(t *testing.T) *provFixture {
	t.Helper()
	ctx := context.Background()
	w := provWorld()
	require.NoError(t, w.Validate())
	sb, err := sandbox.Start(w, sandbox.Options{Graph: sandbox.GraphOptions{
		InstantiateDelay: sandbox.NoInstantiateDelay, ProvisioningInterval: 50 * time.Millisecond,
	}})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	proxy := newAnswerLosingProxy(t, sb.GraphURL)
	graph, err := graphclient.New(graphclient.Config{BaseURL: proxy.URL, StaticToken: "sandbox-token", RequestsPerSecond: -1})
	require.NoError(t, err)

	f := &provFixture{sb: sb, proxy: proxy, world: w, logs: &activitytest.SyncBuffer{}}
	f.app = instantiateApp(t, graph)
	for _, name := range []string{"aws-small", "aws-large"} {
		f.groupIDs = append(f.groupIDs, provGroupID(w, name))
	}
	assignGroups(t, graph, f.app.ServicePrincipalID, f.groupIDs)
	f.scim = enableAutomaticProvisioning(t, sb, w.Entra.TenantID)

	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(w.AWS.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIASANDBOXEXAMPLE", "sandbox-secret-key", "")),
		config.WithBaseEndpoint(sb.AWSURL),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	require.NoError(t, err)
	f.secrets = secretsmanager.NewFromConfig(cfg)
	f.tokenRef, err = secretstore.Put(ctx, f.secrets, "ssocutover/cutover-d-1234567890/scim-token", secretstore.NewValue(f.scim.Token), "11111111-1111-4111-8111-111111111111", nil)
	require.NoError(t, err)
	f.acts = &entra.Activities{Graph: graph, Secrets: f.secrets}
	return f
}

// instantiateApp makes the AWS IAM Identity Center app from the gallery.
func instantiateApp(t *testing.T, graph *graphclient.Client) model.EnterpriseApp {
	t.Helper()
	body := applicationtemplates.NewItemInstantiatePostRequestBody()
	body.SetDisplayName(provPtr("AWS IAM Identity Center d-1234567890"))
	made, err := graph.Client.ApplicationTemplates().ByApplicationTemplateId(entra.AWSIdentityCenterTemplateID).Instantiate().Post(context.Background(), body, nil)
	require.NoError(t, err)
	return model.EnterpriseApp{
		DisplayName:         "AWS IAM Identity Center d-1234567890",
		AppID:               *made.GetApplication().GetAppId(),
		ApplicationObjectID: *made.GetApplication().GetId(),
		ServicePrincipalID:  *made.GetServicePrincipal().GetId(),
	}
}

// assignGroups assigns the groups to the app's User role.
func assignGroups(t *testing.T, graph *graphclient.Client, spID string, groupIDs []string) {
	t.Helper()
	ctx := context.Background()
	sp, err := graph.Client.ServicePrincipals().ByServicePrincipalId(spID).Get(ctx, nil)
	require.NoError(t, err)
	var roleID *string
	for _, role := range sp.GetAppRoles() {
		if role.GetDisplayName() != nil && *role.GetDisplayName() == "User" {
			id := role.GetId().String()
			roleID = &id
		}
	}
	require.NotNil(t, roleID, "the app has no User role")
	for _, groupID := range groupIDs {
		as := models.NewAppRoleAssignment()
		as.SetPrincipalId(uuidOf(t, groupID))
		as.SetResourceId(uuidOf(t, spID))
		as.SetAppRoleId(uuidOf(t, *roleID))
		_, err := graph.Client.ServicePrincipals().ByServicePrincipalId(spID).AppRoleAssignedTo().Post(ctx, as, nil)
		require.NoError(t, err)
	}
}

// enableAutomaticProvisioning plays the console: switch the identity
// source to Entra, upload Entra's metadata, enable automatic provisioning.
func enableAutomaticProvisioning(t *testing.T, sb *sandbox.Sandbox, tenant string) sandbox.SCIMCredentials {
	t.Helper()
	_, err := sb.SwitchIdentitySourceToExternal()
	require.NoError(t, err)
	metadata := samlmetatest.EntraMetadata(t, tenant)
	require.NoError(t, sb.UploadIdPMetadata(metadata))
	creds, err := sb.EnableAutomaticProvisioning()
	require.NoError(t, err)
	return creds
}

// run executes one activity as Temporal does, with a logger that writes to
// the fixture's buffer, and decodes its result into out.
func (f *provFixture) run(t *testing.T, name string, in, out any) error {
	t.Helper()
	suite := &testsuite.WorkflowTestSuite{}
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(f.acts)
	encoded, err := env.ExecuteActivity(name, in)
	if err != nil {
		f.requireNoToken(t, err.Error())
		return err
	}
	require.NoError(t, encoded.Get(out))
	data, err := json.Marshal(out)
	require.NoError(t, err)
	f.requireNoToken(t, string(data))
	return nil
}

func (f *provFixture) requireNoToken(t *testing.T, s string) {
	t.Helper()
	require.NotContains(t, s, f.scim.Token, "the SCIM token leaked")
}

func (f *provFixture) ensureJob(t *testing.T) entra.EnsureProvisioningJobResult {
	t.Helper()
	var res entra.EnsureProvisioningJobResult
	require.NoError(t, f.run(t, entra.EnsureProvisioningJobName, entra.EnsureProvisioningJobInput{App: f.app}, &res))
	return res
}

func (f *provFixture) configureInput(jobID string) entra.ConfigureProvisioningInput {
	return entra.ConfigureProvisioningInput{App: f.app, JobID: jobID, SCIMEndpoint: f.scim.SCIMEndpoint, SCIMToken: f.tokenRef, NotificationEmail: "platform@corp.example"}
}

func (f *provFixture) status(t *testing.T, jobID string) model.ProvisioningJobStatus {
	t.Helper()
	var res model.ProvisioningJobStatus
	require.NoError(t, f.run(t, entra.ProvisioningJobStatusName, entra.ProvisioningJobStatusInput{App: f.app, JobID: jobID}, &res))
	return res
}

func (f *provFixture) listJobs(t *testing.T) []models.SynchronizationJobable {
	t.Helper()
	jobs, err := f.acts.Graph.Client.ServicePrincipals().ByServicePrincipalId(f.app.ServicePrincipalID).Synchronization().Jobs().Get(context.Background(), nil)
	require.NoError(t, err)
	return jobs.GetValue()
}

// scimGroupMembers are the userNames of an identity store group's members.
func (f *provFixture) scimGroupMembers(name string) ([]string, bool) {
	state := f.sb.IdentityStoreSnapshot()
	userNames := map[string]string{}
	for _, u := range state.Users {
		userNames[u.ID] = u.UserName
	}
	for _, g := range state.Groups {
		if g.DisplayName == name {
			var members []string
			for _, id := range g.MemberIDs {
				members = append(members, userNames[id])
			}
			return members, true
		}
	}
	return nil, false
}

func requireApplicationError(t *testing.T, err error, errType string) *temporal.ApplicationError {
	t.Helper()
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "want an application error, got %v", err)
	require.Equal(t, errType, app.Type(), app.Error())
	require.True(t, app.NonRetryable(), "%s must not be retried", errType)
	return app
}

func TestProvisioningActivitiesSetUpStartAndWatchTheJobOnce(t *testing.T) {
	f := newProvFixture(t)

	first := f.ensureJob(t)
	require.True(t, first.Created)
	require.Equal(t, "aWSSingleSignon", first.TemplateID)
	again := f.ensureJob(t)
	require.False(t, again.Created)
	require.Equal(t, first.JobID, again.JobID)
	require.Len(t, f.listJobs(t), 1)

	var configured entra.ConfigureProvisioningResult
	require.NoError(t, f.run(t, entra.ConfigureProvisioningName, f.configureInput(first.JobID), &configured))
	require.NoError(t, f.run(t, entra.ConfigureProvisioningName, f.configureInput(first.JobID), &configured))
	require.NotEmpty(t, configured.APICalls)

	start := entra.StartProvisioningInput{App: f.app, JobID: first.JobID, GroupIDs: f.groupIDs}
	var started entra.StartProvisioningResult
	require.NoError(t, f.run(t, entra.StartProvisioningName, start, &started))
	require.Equal(t, 1, started.OnDemandGroups, "only aws-small (2 members) fits in an on-demand request")
	members, ok := f.scimGroupMembers("aws-small")
	require.True(t, ok, "on-demand provisioning created aws-small")
	require.ElementsMatch(t, []string{"alice@corp.example", "bob@corp.example"}, members)

	// A second start finds the job running: no start, no on-demand request.
	require.NoError(t, f.run(t, entra.StartProvisioningName, start, &started))
	require.Zero(t, started.OnDemandGroups)

	var st model.ProvisioningJobStatus
	require.Eventually(t, func() bool {
		st = f.status(t, first.JobID)
		return !st.SteadyStateAchieved.IsZero()
	}, 10*time.Second, 20*time.Millisecond, "the job never reached steady state")
	require.Equal(t, model.JobActive, st.Code)
	require.Equal(t, "Succeeded", st.LastExecutionState)
	require.Equal(t, map[string]int{"User": 9, "Group": 2}, st.Provisioned)
	require.Zero(t, st.Escrowed)
	members, ok = f.scimGroupMembers("aws-large")
	require.True(t, ok)
	require.Len(t, members, 7)

	f.requireNoToken(t, f.logs.String())
	for _, ev := range f.sb.ProvisioningLog() {
		f.requireNoToken(t, fmt.Sprintf("%+v", ev))
	}
}

func TestEnsureProvisioningJobFindsTheJobWhoseCreateAnswerWasLost(t *testing.T) {
	f := newProvFixture(t)
	f.proxy.loseNextAnswer(http.MethodPost, "/synchronization/jobs")
	var res entra.EnsureProvisioningJobResult
	err := f.run(t, entra.EnsureProvisioningJobName, entra.EnsureProvisioningJobInput{App: f.app}, &res)
	require.Error(t, err, "the answer was lost")
	require.Len(t, f.listJobs(t), 1, "the sandbox created the job all the same")

	retried := f.ensureJob(t)
	require.False(t, retried.Created)
	require.Equal(t, *f.listJobs(t)[0].GetId(), retried.JobID)
	require.Len(t, f.listJobs(t), 1)
}

// Found by the chaos campaign: the Graph SDK's retry handler resends a
// POST that met a 503 or 504, and a job Entra had made then had a twin.
func TestEnsureProvisioningJobIsNotResentAfterAGatewayError(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f := newProvFixture(t)
			f.proxy.loseNextAnswerWith(http.MethodPost, "/synchronization/jobs", status)
			var res entra.EnsureProvisioningJobResult
			err := f.run(t, entra.EnsureProvisioningJobName, entra.EnsureProvisioningJobInput{App: f.app}, &res)
			require.Error(t, err, "the attempt fails; its retry looks before it creates")
			require.Len(t, f.listJobs(t), 1, "one job, not one per resend")

			retried := f.ensureJob(t)
			require.False(t, retried.Created)
			require.Len(t, f.listJobs(t), 1)
		})
	}
}

func TestConfigureProvisioningWithADeletedTokenSaysWhatToDoAndIsNotRetried(t *testing.T) {
	f := newProvFixture(t)
	job := f.ensureJob(t)
	require.NoError(t, f.sb.DeleteSCIMToken(f.scim.TokenID))

	var res entra.ConfigureProvisioningResult
	err := f.run(t, entra.ConfigureProvisioningName, f.configureInput(job.JobID), &res)
	app := requireApplicationError(t, err, entra.ErrSCIMCredentialsRejected)
	require.Contains(t, app.Error(), "create a new token in the console")
	require.Contains(t, app.Error(), "401")

	// A token reference that names no secret.
	in := f.configureInput(job.JobID)
	in.SCIMToken = secretref.Ref{ARN: strings.Replace(f.tokenRef.ARN, "scim-token", "no-such-token", 1)}
	requireApplicationError(t, f.run(t, entra.ConfigureProvisioningName, in, &res), entra.ErrSCIMTokenNotFound)

	// An endpoint that is no URL.
	in = f.configureInput(job.JobID)
	in.SCIMEndpoint = "scim.eu-west-1.amazonaws.com"
	requireApplicationError(t, f.run(t, entra.ConfigureProvisioningName, in, &res), entra.ErrInvalidRequest)
	f.requireNoToken(t, f.logs.String())
}

func TestProvisioningJobStatusReportsTheQuarantineOfARevokedToken(t *testing.T) {
	f := newProvFixture(t)
	job := f.ensureJob(t)
	var configured entra.ConfigureProvisioningResult
	require.NoError(t, f.run(t, entra.ConfigureProvisioningName, f.configureInput(job.JobID), &configured))
	var started entra.StartProvisioningResult
	require.NoError(t, f.run(t, entra.StartProvisioningName, entra.StartProvisioningInput{App: f.app, JobID: job.JobID}, &started))
	require.Zero(t, started.OnDemandGroups, "no groups were named")

	require.NoError(t, f.sb.DeleteSCIMToken(f.scim.TokenID))
	var st model.ProvisioningJobStatus
	require.Eventually(t, func() bool {
		st = f.status(t, job.JobID)
		return st.Code == model.JobQuarantine
	}, 10*time.Second, 20*time.Millisecond)
	require.Contains(t, st.QuarantineReason, "EncounteredQuarantineException")
	require.Equal(t, "Failed", st.LastExecutionState)
	require.Contains(t, st.LastExecutionError, "SystemForCrossDomainIdentityManagementCredentialValidationFailure")
}

func TestProvisioningActivitiesNeedTheirInputs(t *testing.T) {
	f := newProvFixture(t)
	var job entra.EnsureProvisioningJobResult
	requireApplicationError(t, f.run(t, entra.EnsureProvisioningJobName, entra.EnsureProvisioningJobInput{}, &job), entra.ErrInvalidRequest)
	var st model.ProvisioningJobStatus
	requireApplicationError(t, f.run(t, entra.ProvisioningJobStatusName, entra.ProvisioningJobStatusInput{App: f.app}, &st), entra.ErrInvalidRequest)
	// A job that does not exist is gone for good.
	err := f.run(t, entra.ProvisioningJobStatusName, entra.ProvisioningJobStatusInput{App: f.app, JobID: "aWSSingleSignon.none.none"}, &st)
	requireApplicationError(t, err, entra.ErrProvisioningJobNotFound)
}

// answerLosingProxy passes requests to the sandbox; a request it was told
// to lose is carried out and its answer dropped (the connection closed), as
// when a worker dies between Entra's write and the activity's return.
type answerLosingProxy struct {
	URL    string
	target *httputil.ReverseProxy

	mu   sync.Mutex
	lose []string // "METHOD path-suffix", each lost once
	// loseWith answers the next request of a "METHOD path-suffix" with
	// that status after the sandbox carried it out, as a gateway that
	// timed out does.
	loseWith map[string]int
}

func newAnswerLosingProxy(t *testing.T, graphURL string) *answerLosingProxy {
	t.Helper()
	target, err := url.Parse(graphURL)
	require.NoError(t, err)
	p := &answerLosingProxy{target: httputil.NewSingleHostReverseProxy(target)}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *answerLosingProxy) loseNextAnswer(method, pathSuffix string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lose = append(p.lose, method+" "+pathSuffix)
}

// loseNextAnswerWith is loseNextAnswer with an HTTP error for an answer.
func (p *answerLosingProxy) loseNextAnswerWith(method, pathSuffix string, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.loseWith == nil {
		p.loseWith = map[string]int{}
	}
	p.loseWith[method+" "+pathSuffix] = status
}

func (p *answerLosingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if status := p.takeLossWith(r); status != 0 {
		p.target.ServeHTTP(httptest.NewRecorder(), r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":{"code":"UnknownError","message":"gateway timeout"}}`))
		return
	}
	if !p.takeLoss(r) {
		p.target.ServeHTTP(w, r)
		return
	}
	p.target.ServeHTTP(httptest.NewRecorder(), r)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func (p *answerLosingProxy) takeLossWith(r *http.Request) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for rule, status := range p.loseWith {
		method, suffix, _ := strings.Cut(rule, " ")
		if r.Method == method && strings.HasSuffix(r.URL.Path, suffix) {
			delete(p.loseWith, rule)
			return status
		}
	}
	return 0
}

func (p *answerLosingProxy) takeLoss(r *http.Request) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, rule := range p.lose {
		method, suffix, _ := strings.Cut(rule, " ")
		if r.Method == method && strings.HasSuffix(r.URL.Path, suffix) {
			p.lose = append(p.lose[:i], p.lose[i+1:]...)
			return true
		}
	}
	return false
}

func uuidOf(t *testing.T, s string) *uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	require.NoError(t, err)
	return &id
}

func provPtr[T any](v T) *T { return &v }
