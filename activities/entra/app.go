package entra

// EnsureEnterpriseApp: the enterprise application from the gallery, found
// by its deterministic display name or instantiated once.
//
// The hard part is that Entra shows a new application and its service
// principal only some seconds after instantiate has answered. An attempt
// that instantiated the app and then failed (the answer lost, the worker
// gone) must not make a retry create a second one, yet a search by name
// right away finds nothing. So the attempt records the new IDs in its
// heartbeat the moment it has them, and a retry without them searches by
// name for longer than Entra's delay before it instantiates again.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/applicationtemplates"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/model"
)

// DefaultAppVisibilityWait is how long the enterprise app activities wait
// for Entra to show a new app when Activities.AppVisibilityWait is zero.
// Entra usually takes seconds; minutes happen.
const DefaultAppVisibilityWait = 2 * time.Minute

// awsTemplateName is what the gallery template's display name must
// contain: the ID alone is not trusted.
const awsTemplateName = "AWS IAM Identity Center"

// Error types of the enterprise app activities' non-retryable errors
// (besides ErrInvalidRequest and ErrAccessDenied).
const (
	// ErrDuplicateApp: more than one application has the cutover's app name.
	ErrDuplicateApp = "DuplicateApp"
	// ErrAppConflict: something in the tenant stands in the way: an app of
	// that name from another template, an app without service principal, an
	// identifier URI another app already has.
	ErrAppConflict = "AppConflict"
	// ErrIdentifierURIBlocked: the tenant's app management policy refuses
	// AWS's entity ID as the app's identifier URI; an administrator must
	// exempt SAML apps from the restriction.
	ErrIdentifierURIBlocked = "IdentifierURIBlocked"
	// ErrAppNotFound: the enterprise app was deleted, or never appeared.
	ErrAppNotFound = "AppNotFound"
	// ErrWrongTemplate: the template ID is not the AWS IAM Identity Center
	// gallery app.
	ErrWrongTemplate = "WrongTemplate"
	// ErrNoUserRole: the app has no app role named User to assign groups to.
	ErrNoUserRole = "NoUserRole"
	// ErrInvalidMetadata: Entra's federation metadata is missing or wrong.
	ErrInvalidMetadata = "InvalidMetadata"
)

func (a *Activities) appVisibilityWait() time.Duration {
	if a.AppVisibilityWait > 0 {
		return a.AppVisibilityWait
	}
	return DefaultAppVisibilityWait
}

// AppAttempt is what an attempt of EnsureEnterpriseApp knows of the app:
// its heartbeat detail (the app once the attempt knows it, so that a retry
// resumes with it), and the details of the error with which it gives up on
// an app it knows. The workflow reads it from a failed step, so a
// rollback deletes an app that an attempt created even though the step
// never returned it.
type AppAttempt struct {
	App model.EnterpriseApp `json:"app"`
	// Created says an attempt instantiated App (rather than found it).
	Created bool `json:"created"`
}

// EnsureEnterpriseApp returns the enterprise application named
// in.DisplayName, instantiating it from the gallery template if the tenant
// has none, once both its application and its service principal are
// readable. Run twice, it returns the same app.
func (a *Activities) EnsureEnterpriseApp(ctx context.Context, in EnsureEnterpriseAppInput) (EnsureEnterpriseAppResult, error) {
	e, err := a.appEnsurerFor(EnsureEnterpriseAppName, in.DisplayName, in.TemplateID)
	if err != nil {
		return EnsureEnterpriseAppResult{}, err
	}
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)
	app, created, err := e.ensure(ctx)
	if err != nil {
		return EnsureEnterpriseAppResult{}, err
	}
	return EnsureEnterpriseAppResult{App: app, Created: created, APICalls: calls.Counts()}, nil
}

// appEnsurerFor checks what an activity was given to find the app by (its
// display name; the AWS gallery template unless another is named) and
// returns the ensurer that finds it.
func (a *Activities) appEnsurerFor(activityName, displayName, templateID string) (*appEnsurer, error) {
	if a.Graph == nil {
		return nil, misconfigured()
	}
	name := strings.TrimSpace(displayName)
	if name == "" {
		return nil, temporal.NewNonRetryableApplicationError(activityName+" needs the app's display name (displayName)", ErrInvalidRequest, nil)
	}
	return &appEnsurer{graph: a.Graph, name: name, templateID: cmp.Or(templateID, AWSIdentityCenterTemplateID), wait: a.appVisibilityWait()}, nil
}

// appEnsurer finds or creates one enterprise app.
type appEnsurer struct {
	graph      *graphclient.Client
	name       string
	templateID string
	wait       time.Duration
}

// ensure returns the app and whether this activity (in any attempt)
// instantiated it. An app found by name on a retry counts as found: the
// attempt that may have made it left no trace.
func (e *appEnsurer) ensure(ctx context.Context) (model.EnterpriseApp, bool, error) {
	if earlier, ok := e.fromEarlierAttempt(ctx); ok {
		if err := e.waitReadable(ctx, earlier, true); err != nil {
			return model.EnterpriseApp{}, false, err
		}
		return earlier.App, earlier.Created, nil
	}

	found, err := e.find(ctx)
	if err == nil && found == nil && retrying(ctx) {
		// An earlier attempt may have instantiated the app and lost the
		// answer before it could record it: look for longer than Entra
		// takes to show a new app before making another.
		found, err = e.findWithin(ctx, e.wait)
	}
	if err != nil {
		return model.EnterpriseApp{}, false, err
	}
	if found != nil {
		hb := AppAttempt{App: *found}
		heartbeat(ctx, hb)
		if err := e.waitReadable(ctx, hb, false); err != nil {
			return model.EnterpriseApp{}, false, err
		}
		return hb.App, false, nil
	}

	app, err := e.instantiate(ctx)
	if err != nil {
		return model.EnterpriseApp{}, false, err
	}
	// From here on a retry knows the app: never instantiate twice.
	created := AppAttempt{App: app, Created: true}
	heartbeat(ctx, created)
	if err := e.waitReadable(ctx, created, false); err != nil {
		return model.EnterpriseApp{}, false, err
	}
	return app, true, nil
}

// fromEarlierAttempt returns the app an earlier attempt of this activity
// instantiated or found, from that attempt's last heartbeat.
func (e *appEnsurer) fromEarlierAttempt(ctx context.Context) (AppAttempt, bool) {
	if !retrying(ctx) || !activity.HasHeartbeatDetails(ctx) {
		return AppAttempt{}, false
	}
	var hb AppAttempt
	if err := activity.GetHeartbeatDetails(ctx, &hb); err != nil {
		return AppAttempt{}, false
	}
	app := hb.App
	if app.ServicePrincipalID == "" || app.ApplicationObjectID == "" || app.AppID == "" || !strings.EqualFold(app.DisplayName, e.name) {
		return AppAttempt{}, false
	}
	return hb, true
}

// retrying reports whether this is a retry of the activity.
func retrying(ctx context.Context) bool {
	return activity.IsActivity(ctx) && activity.GetInfo(ctx).Attempt > 1
}

// heartbeat records details, when running as an activity.
func heartbeat(ctx context.Context, details any) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, details)
	}
}

// namedApp is an application found by name, with its template.
type namedApp struct {
	model.EnterpriseApp
	templateID string
}

// named lists the applications named e.name, whatever their template.
func (e *appEnsurer) named(ctx context.Context) ([]namedApp, error) {
	page, err := e.graph.Client.Applications().Get(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{
		QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{
			Filter: ptr("displayName eq " + odataString(e.name)),
			Select: []string{"id", "appId", "displayName", "applicationTemplateId"},
		},
	})
	if err != nil {
		return nil, appCallError(fmt.Sprintf("look up the application %q", e.name), err)
	}
	apps := make([]namedApp, 0, len(page.GetValue()))
	for _, app := range page.GetValue() {
		apps = append(apps, namedApp{
			EnterpriseApp: model.EnterpriseApp{DisplayName: deref(app.GetDisplayName()), AppID: deref(app.GetAppId()), ApplicationObjectID: deref(app.GetId())},
			templateID:    deref(app.GetApplicationTemplateId()),
		})
	}
	return apps, nil
}

// find looks the app up by display name: nil when the tenant has none.
func (e *appEnsurer) find(ctx context.Context) (*model.EnterpriseApp, error) {
	apps, err := e.named(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case len(apps) == 0:
		return nil, nil
	case len(apps) > 1:
		ids := make([]string, len(apps))
		for i, app := range apps {
			ids[i] = app.ApplicationObjectID
		}
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"Entra has %d applications named %q (object IDs %s), and the cutover finds its app by this name. "+
				"Keep one (the one whose single sign-on is set up, if any), delete the others in Entra (App registrations > All applications), then retry this step",
			len(apps), e.name, strings.Join(ids, ", ")), ErrDuplicateApp, nil)
	}
	found := apps[0].EnterpriseApp
	if !strings.EqualFold(apps[0].templateID, e.templateID) {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"Entra has an application named %q (object ID %s) that was not created from the gallery app %q (template %s). "+
				"Rename or delete that application in Entra, then retry this step",
			e.name, found.ApplicationObjectID, awsTemplateName, e.templateID), ErrAppConflict, nil)
	}
	spID, err := e.servicePrincipalOf(ctx, found.AppID)
	if err != nil {
		return nil, err
	}
	if spID == "" {
		// Entra shows the pair together; allow it the same delay before
		// calling the application an orphan.
		if spID, err = e.waitForServicePrincipal(ctx, found); err != nil {
			return nil, err
		}
	}
	found.ServicePrincipalID = spID
	return &found, nil
}

// servicePrincipalOf returns the ID of the service principal of appID, ""
// when there is none.
func (e *appEnsurer) servicePrincipalOf(ctx context.Context, appID string) (string, error) {
	page, err := e.graph.Client.ServicePrincipals().Get(ctx, &serviceprincipals.ServicePrincipalsRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipals.ServicePrincipalsRequestBuilderGetQueryParameters{
			Filter: ptr("appId eq " + odataString(appID)),
			Select: []string{"id", "appId"},
		},
	})
	if err != nil {
		return "", appCallError(fmt.Sprintf("look up the service principal of application %s (%q)", appID, e.name), err)
	}
	if len(page.GetValue()) == 0 {
		return "", nil
	}
	return deref(page.GetValue()[0].GetId()), nil
}

func (e *appEnsurer) waitForServicePrincipal(ctx context.Context, app model.EnterpriseApp) (string, error) {
	var spID string
	err := poll(ctx, e.wait, func() (bool, error) {
		heartbeat(ctx, AppAttempt{})
		var err error
		spID, err = e.servicePrincipalOf(ctx, app.AppID)
		return spID != "", err
	})
	if errors.Is(err, errPollTimeout) {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"the application %q (object ID %s, app ID %s) has no enterprise application (service principal). "+
				"Delete the application in Entra (App registrations > All applications), then retry this step: it creates both again",
			app.DisplayName, app.ApplicationObjectID, app.AppID), ErrAppConflict, nil)
	}
	return spID, err
}

// findWithin searches by name until the app shows or wait has passed.
func (e *appEnsurer) findWithin(ctx context.Context, wait time.Duration) (*model.EnterpriseApp, error) {
	var found *model.EnterpriseApp
	err := poll(ctx, wait, func() (bool, error) {
		heartbeat(ctx, AppAttempt{})
		var err error
		found, err = e.find(ctx)
		return found != nil, err
	})
	if errors.Is(err, errPollTimeout) {
		return nil, nil
	}
	return found, err
}

// instantiate creates the app from the gallery template, after checking
// that the template is the one the cutover needs.
func (e *appEnsurer) instantiate(ctx context.Context) (model.EnterpriseApp, error) {
	template, err := e.graph.Client.ApplicationTemplates().ByApplicationTemplateId(e.templateID).Get(ctx, nil)
	if statusOf(err) == http.StatusNotFound {
		return model.EnterpriseApp{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"the Entra gallery has no application template %s; the cutover needs %q (template %s)", e.templateID, awsTemplateName, AWSIdentityCenterTemplateID), ErrWrongTemplate, err)
	}
	if err != nil {
		return model.EnterpriseApp{}, appCallError("read the gallery application template "+e.templateID, err)
	}
	if !strings.Contains(deref(template.GetDisplayName()), awsTemplateName) {
		return model.EnterpriseApp{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"the gallery application template %s is %q, not %q: use template %s", e.templateID, deref(template.GetDisplayName()), awsTemplateName, AWSIdentityCenterTemplateID), ErrWrongTemplate, nil)
	}

	body := applicationtemplates.NewItemInstantiatePostRequestBody()
	body.SetDisplayName(ptr(e.name))
	created, err := e.graph.Client.ApplicationTemplates().ByApplicationTemplateId(e.templateID).Instantiate().Post(ctx, body,
		&applicationtemplates.ItemInstantiateRequestBuilderPostRequestConfiguration{Options: retryThrottledOnly()})
	if err != nil {
		// A server error or a lost answer may hide an app that was made:
		// the retry looks for it before it instantiates again.
		return model.EnterpriseApp{}, appCallError(fmt.Sprintf("create the enterprise application %q from the gallery", e.name), err)
	}
	app := model.EnterpriseApp{DisplayName: e.name}
	if a := created.GetApplication(); a != nil {
		app.ApplicationObjectID, app.AppID = deref(a.GetId()), deref(a.GetAppId())
	}
	if sp := created.GetServicePrincipal(); sp != nil {
		app.ServicePrincipalID = deref(sp.GetId())
	}
	if app.ApplicationObjectID == "" || app.AppID == "" || app.ServicePrincipalID == "" {
		return model.EnterpriseApp{}, fmt.Errorf("create the enterprise application %q: Entra's answer lacks the application or service principal ID (the retry looks the app up by name)", e.name)
	}
	return app, nil
}

// waitReadable waits until GET answers for both the application and the
// service principal. known says the IDs come from an earlier attempt: if
// they never become readable, the app was probably deleted meanwhile.
func (e *appEnsurer) waitReadable(ctx context.Context, hb AppAttempt, known bool) error {
	app := hb.App
	err := poll(ctx, e.wait, func() (bool, error) {
		heartbeat(ctx, hb)
		if _, err := e.graph.Client.Applications().ByApplicationId(app.ApplicationObjectID).Get(ctx, &applications.ApplicationItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &applications.ApplicationItemRequestBuilderGetQueryParameters{Select: []string{"id"}},
		}); err != nil {
			return false, ignoreNotFound(appCallError("read the application "+app.ApplicationObjectID, err))
		}
		if _, err := e.graph.Client.ServicePrincipals().ByServicePrincipalId(app.ServicePrincipalID).Get(ctx, &serviceprincipals.ServicePrincipalItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipals.ServicePrincipalItemRequestBuilderGetQueryParameters{Select: []string{"id"}},
		}); err != nil {
			return false, ignoreNotFound(appCallError("read the service principal "+app.ServicePrincipalID, err))
		}
		return true, nil
	})
	if !errors.Is(err, errPollTimeout) {
		return err
	}
	if known {
		// The app's IDs go with the error: a rollback deletes it if it
		// shows up after all.
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"the enterprise application %q (object ID %s, service principal %s), created by an earlier attempt, is still not readable after %s: it was probably deleted. "+
				"If Entra > Enterprise applications does not list it, retry this step to create it again; if it does, retry this step to wait longer",
			app.DisplayName, app.ApplicationObjectID, app.ServicePrincipalID, e.wait), ErrAppNotFound, nil, hb)
	}
	// Retryable: the retry resumes with these IDs (from the heartbeat)
	// and waits again, without creating another app.
	return fmt.Errorf("the enterprise application %q (object ID %s, service principal %s) is not readable %s after Entra created it; the activity is retried and waits again",
		app.DisplayName, app.ApplicationObjectID, app.ServicePrincipalID, e.wait)
}

// errPollTimeout is poll's error when wait passed without success.
var errPollTimeout = errors.New("timed out")

// poll calls try until it reports done or fails, backing off from 200 ms
// to 5 s between calls, for wait: the last call is made at the end of it.
func poll(ctx context.Context, wait time.Duration, try func() (bool, error)) error {
	deadline := time.Now().Add(wait)
	delay := 200 * time.Millisecond
	for {
		done, err := try()
		if err != nil || done {
			return err
		}
		if !time.Now().Before(deadline) {
			return errPollTimeout
		}
		next := time.Now().Add(delay)
		if next.After(deadline) {
			next = deadline
		}
		if err := sleepUntil(ctx, next); err != nil {
			return err
		}
		delay = min(delay*2, 5*time.Second)
	}
}

// appCallError is callError for the enterprise app activities, whose calls
// need the application permission Application.ReadWrite.All.
func appCallError(what string, err error) error {
	if statusOf(err) == http.StatusNotFound {
		code, message := graphErrorCode(err)
		return &notFoundError{what: what, code: code, message: message, err: err}
	}
	return callError(what, err)
}

// notFoundError is a 404. Whether it is retryable depends on the call: a
// new app not yet replicated, or one deleted meanwhile.
type notFoundError struct {
	what, code, message string
	err                 error
}

func (e *notFoundError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.what, e.code, e.message)
}

func (e *notFoundError) Unwrap() error { return e.err }

// ignoreNotFound turns a 404 into nil: "not there yet".
func ignoreNotFound(err error) error {
	var nf *notFoundError
	if errors.As(err, &nf) {
		return nil
	}
	return err
}

// appGone is the error when the cutover's app disappeared between steps.
func appGone(app model.EnterpriseApp, err error) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"the enterprise application %q (service principal %s, application %s) no longer exists in Entra: someone deleted it. "+
			"Roll the cutover back, or retry the enterprise app step to create it again",
		app.DisplayName, app.ServicePrincipalID, app.ApplicationObjectID), ErrAppNotFound, err)
}

// whenGone returns appGone for a 404 and err otherwise.
func whenGone(app model.EnterpriseApp, err error) error {
	var nf *notFoundError
	if errors.As(err, &nf) {
		return appGone(app, err)
	}
	return err
}

// retryThrottledOnly lets the SDK resend a request only when Graph
// throttled it (429: not carried out). A POST that creates something is
// not resent after a 503 or 504, which may come after Graph made it; the
// activity's own retry looks for the result first.
func retryThrottledOnly() []abstractions.RequestOption {
	return []abstractions.RequestOption{&khttp.RetryHandlerOptions{
		MaxRetries:   graphclient.MaxRetries,
		DelaySeconds: 1,
		ShouldRetry: func(_ time.Duration, _ int, _ *http.Request, resp *http.Response) bool {
			return resp.StatusCode == http.StatusTooManyRequests
		},
	}}
}

// checkApp refuses an model.EnterpriseApp without the IDs the activity needs.
func checkApp(activityName string, app model.EnterpriseApp) error {
	if app.ServicePrincipalID == "" || app.ApplicationObjectID == "" || app.AppID == "" {
		return temporal.NewNonRetryableApplicationError(activityName+" needs the app from EnsureEnterpriseApp (appId, applicationObjectId, servicePrincipalId)", ErrInvalidRequest, nil)
	}
	return nil
}

func misconfigured() error {
	return temporal.NewNonRetryableApplicationError("the Entra activities have no Graph client: the worker is misconfigured", ErrInvalidRequest, nil)
}

// odataString quotes s as an OData string literal.
func odataString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
