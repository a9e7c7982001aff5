package entra_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/applicationtemplates"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/sandbox"
)

const instantiatePath = "/" + entra.AWSIdentityCenterTemplateID + "/instantiate"

func ensureInput() entra.EnsureEnterpriseAppInput {
	return entra.EnsureEnterpriseAppInput{DisplayName: appName, TemplateID: entra.AWSIdentityCenterTemplateID}
}

// requireOneApp checks that the tenant has exactly the app res names,
// readable.
func requireOneApp(t *testing.T, f *appFixture, app model.EnterpriseApp) sandbox.EnterpriseAppInfo {
	t.Helper()
	apps := f.sb.EnterpriseApps()
	require.Len(t, apps, 1, "exactly one app")
	got := apps[0]
	require.Equal(t, model.EnterpriseApp{DisplayName: appName, AppID: got.AppID, ApplicationObjectID: got.ApplicationObjectID, ServicePrincipalID: got.ServicePrincipalID}, app)
	require.True(t, got.Visible)
	require.Equal(t, entra.AWSIdentityCenterTemplateID, got.TemplateID)
	return got
}

// requireAppError checks that err is a non-retryable application error of
// errType whose message contains each of parts.
func requireAppError(t *testing.T, err error, errType string, parts ...string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an application error, got %T: %v", err, err)
	require.Equal(t, errType, appErr.Type(), appErr.Error())
	require.True(t, appErr.NonRetryable(), "non-retryable: %v", appErr)
	for _, p := range parts {
		require.Contains(t, appErr.Error(), p)
	}
}

func calls(counts []apicalls.OperationCount, operation string) int {
	for _, c := range counts {
		if c.Operation == operation {
			return c.Calls
		}
	}
	return 0
}

func TestEnsureEnterpriseAppTwiceMakesOneApp(t *testing.T) {
	f := newAppFixture(t, nil, 300*time.Millisecond, 10*time.Second)

	var first entra.EnsureEnterpriseAppResult
	require.NoError(t, execute(t, f.acts, entra.EnsureEnterpriseAppName, ensureInput(), &first))
	require.True(t, first.Created)
	requireOneApp(t, f, first.App)
	// It waited for Entra to show the app: GET answered 404 at first.
	require.Equal(t, 1, calls(first.APICalls, "graph:POST /applicationTemplates/{id}/instantiate"))
	require.GreaterOrEqual(t, calls(first.APICalls, "graph:GET /applications/{id}"), 2, "%v", first.APICalls)

	var second entra.EnsureEnterpriseAppResult
	require.NoError(t, execute(t, f.acts, entra.EnsureEnterpriseAppName, ensureInput(), &second))
	require.False(t, second.Created)
	require.Equal(t, first.App, second.App)
	require.Zero(t, calls(second.APICalls, "graph:POST /applicationTemplates/{id}/instantiate"))
	requireOneApp(t, f, second.App)
}

func TestEnsureEnterpriseAppWhoseAnswerWasLostMakesOneApp(t *testing.T) {
	for _, lost := range []struct {
		name   string
		status int
	}{
		{"connection closed", 0},
		// The SDK resends a POST after 504 unless told not to.
		{"gateway timeout", http.StatusGatewayTimeout},
	} {
		t.Run(lost.name, func(t *testing.T) {
			// Entra shows the app 500 ms after making it: a retry that
			// searched once would miss it and make a second.
			f := newAppFixture(t, nil, 500*time.Millisecond, 10*time.Second)
			f.proxy.loseAnswer(instantiatePath, 1, lost.status)

			res, attempts := ensureWithRetries(t, f, ensureInput())
			require.Equal(t, []int32{1, 2}, attempts)
			require.Equal(t, 1, f.proxy.count(instantiatePath), "instantiated once")
			requireOneApp(t, f, res.App)
			require.False(t, res.Created, "the retry found the app by name")
		})
	}
}

func TestEnsureEnterpriseAppRetryResumesFromTheHeartbeat(t *testing.T) {
	// Entra takes longer to show the app than the first attempt waits: the
	// attempt fails after recording the app in its heartbeat, and the
	// retry waits for that app, without searching or instantiating.
	f := newAppFixture(t, nil, 1500*time.Millisecond, time.Second)

	res, attempts := ensureWithRetries(t, f, ensureInput())
	require.Equal(t, []int32{1, 2}, attempts)
	require.True(t, res.Created)
	requireOneApp(t, f, res.App)
	require.Equal(t, 1, f.proxy.count(instantiatePath))
	require.Zero(t, calls(res.APICalls, "graph:GET /applications"), "the retry knew the app: %v", res.APICalls)
	require.Zero(t, calls(res.APICalls, "graph:POST /applicationTemplates/{id}/instantiate"))
}

func TestEnsureEnterpriseAppRefusesTwoAppsOfItsName(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	for range 2 {
		body := applicationtemplates.NewItemInstantiatePostRequestBody()
		body.SetDisplayName(ptr(appName))
		_, err := f.acts.Graph.Client.ApplicationTemplates().ByApplicationTemplateId(entra.AWSIdentityCenterTemplateID).Instantiate().Post(context.Background(), body, nil)
		require.NoError(t, err)
	}
	apps := f.sb.EnterpriseApps()

	var res entra.EnsureEnterpriseAppResult
	err := execute(t, f.acts, entra.EnsureEnterpriseAppName, ensureInput(), &res)
	requireAppError(t, err, entra.ErrDuplicateApp, "2 applications named", apps[0].ApplicationObjectID, apps[1].ApplicationObjectID, "delete the others")
	require.Len(t, f.sb.EnterpriseApps(), 2, "nothing created")
}

func TestEnsureEnterpriseAppChecksTheTemplate(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	const customTemplate = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"

	var res entra.EnsureEnterpriseAppResult
	err := execute(t, f.acts, entra.EnsureEnterpriseAppName, entra.EnsureEnterpriseAppInput{DisplayName: appName, TemplateID: customTemplate}, &res)
	requireAppError(t, err, entra.ErrWrongTemplate, `"Custom"`, entra.AWSIdentityCenterTemplateID)
	err = execute(t, f.acts, entra.EnsureEnterpriseAppName, entra.EnsureEnterpriseAppInput{DisplayName: appName, TemplateID: "00000000-0000-0000-0000-00000000dead"}, &res)
	requireAppError(t, err, entra.ErrWrongTemplate, "no application template")
	require.Empty(t, f.sb.EnterpriseApps())

	// An app of the cutover's name made from another template is not the
	// cutover's.
	body := applicationtemplates.NewItemInstantiatePostRequestBody()
	body.SetDisplayName(ptr(appName))
	_, err = f.acts.Graph.Client.ApplicationTemplates().ByApplicationTemplateId(customTemplate).Instantiate().Post(context.Background(), body, nil)
	require.NoError(t, err)
	err = execute(t, f.acts, entra.EnsureEnterpriseAppName, ensureInput(), &res)
	requireAppError(t, err, entra.ErrAppConflict, "not created from the gallery app", "Rename or delete")
}

func TestEnsureEnterpriseAppWithoutPermissionSaysWhichOne(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	f.proxy.refuse(instantiatePath, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")

	var res entra.EnsureEnterpriseAppResult
	err := execute(t, f.acts, entra.EnsureEnterpriseAppName, ensureInput(), &res)
	requireAppError(t, err, entra.ErrAccessDenied, "Authorization_RequestDenied", "Application.ReadWrite.All")
	require.Empty(t, f.sb.EnterpriseApps())
}

func TestEnsureEnterpriseAppNeedsAName(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	var res entra.EnsureEnterpriseAppResult
	err := execute(t, f.acts, entra.EnsureEnterpriseAppName, entra.EnsureEnterpriseAppInput{DisplayName: "  "}, &res)
	requireAppError(t, err, entra.ErrInvalidRequest, "display name")
	require.True(t, strings.Contains(err.Error(), "EnsureEnterpriseApp"))
}

func TestEnsureEnterpriseAppRefusesAnApplicationWithoutServicePrincipal(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, 300*time.Millisecond)
	app := ensureApp(t, f)
	require.NoError(t, f.acts.Graph.Client.ServicePrincipals().ByServicePrincipalId(app.ServicePrincipalID).Delete(context.Background(), nil))

	var res entra.EnsureEnterpriseAppResult
	err := execute(t, f.acts, entra.EnsureEnterpriseAppName, ensureInput(), &res)
	requireAppError(t, err, entra.ErrAppConflict, app.ApplicationObjectID, "has no enterprise application", "Delete the application")
	require.Len(t, f.sb.EnterpriseApps(), 1, "nothing created")
}

// An app that never becomes readable: the retry that knew it gives up, and
// its error names the app, so that the workflow can delete it on rollback.
func TestEnsureEnterpriseAppThatGivesUpNamesTheAppItCreated(t *testing.T) {
	f := newAppFixture(t, nil, time.Hour, 300*time.Millisecond)
	suite := &testsuite.WorkflowTestSuite{}
	suite.SetLogger(quietLogger())
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(retryWorkflow)
	env.RegisterActivity(f.acts)
	env.ExecuteWorkflow(retryWorkflow, entra.EnsureEnterpriseAppName, ensureInput())
	err := env.GetWorkflowError()
	require.Error(t, err)

	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, entra.ErrAppNotFound, appErr.Type())
	require.True(t, appErr.NonRetryable())
	var attempt entra.AppAttempt
	require.NoError(t, appErr.Details(&attempt))
	require.True(t, attempt.Created)
	apps := f.sb.EnterpriseApps()
	require.Len(t, apps, 1, "one app, made by the first attempt")
	require.Equal(t, apps[0].AppID, attempt.App.AppID)
	require.Equal(t, 1, f.proxy.count(instantiatePath))
}
