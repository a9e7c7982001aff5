package cutover

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/step"
)

// appFromFailureChange versions learning the app from a failed attempt.
const appFromFailureChange = "app-from-failed-attempt"

// appIntentChange versions recording the app's undo, by name, before the
// step that creates it.
const appIntentChange = "app-undo-before-instantiate"

// appFromFailure is the app an EnsureEnterpriseApp failure names: in the
// details of the error it gave up with, or in the last heartbeat of an
// attempt that timed out.
func appFromFailure(err error) (model.EnterpriseApp, bool) {
	var attempt entra.AppAttempt
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.HasDetails() && appErr.Details(&attempt) == nil && attempt.App.AppID != "" {
		return attempt.App, true
	}
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) && timeout.HasLastHeartbeatDetails() && timeout.LastHeartbeatDetails(&attempt) == nil && attempt.App.AppID != "" {
		return attempt.App, true
	}
	return model.EnterpriseApp{}, false
}

// setUpEnterpriseApp carries out runbook steps 5 to 7 in Entra: the
// enterprise app from the gallery, set up for SAML with the AWS service
// provider's identifier and reply URL and a signing certificate; its
// federation metadata, fetched and checked for the person to upload to AWS;
// and the matched groups assigned to its User role.
func (c *cutover) setUpEnterpriseApp(ctx workflow.Context) error {
	req := c.status.Request
	res := c.resources()

	name := workflows.EnterpriseAppName(req.IdentityStoreID)
	deleteApp := func(app model.EnterpriseApp) compensation {
		return compensation{
			undoes: fmt.Sprintf("the enterprise app %q (deleted with its SAML setup and certificate)", name),
			undo:   undoWith(c, entraID.DeleteEnterpriseApp, entra.DeleteEnterpriseAppInput{App: app}),
		}
	}
	// Intent before effect: instantiate has no idempotency key, and an
	// attempt can create the app and never report it (the worker dies
	// before its heartbeat, a rollback is asked for while the step runs).
	// So the undo is recorded first, by the app's name, and replaced by the
	// undo by ID as soon as the app is known: only a rollback from a step
	// that never returned pays the by-name search's wait.
	intent := -1
	if workflow.GetVersion(ctx, appIntentChange, workflow.DefaultVersion, 1) == 1 {
		intent = len(c.compensations)
		c.compensate(ctx, compensation{
			undoes: fmt.Sprintf("the enterprise app %q, if an attempt created it (found by its name)", name),
			undo: undoWith(c, entraID.DeleteUnreturnedEnterpriseApp,
				entra.DeleteUnreturnedEnterpriseAppInput{DisplayName: name, TemplateID: entra.AWSIdentityCenterTemplateID}),
		})
	}
	undoApp := func(ctx workflow.Context, app model.EnterpriseApp) {
		if intent >= 0 {
			// Once an app is known a retry finds it by name and never
			// instantiates again: the undo by ID covers the step.
			c.compensations[intent] = deleteApp(app)
			intent = -1
			c.publish(ctx)
			return
		}
		c.compensate(ctx, deleteApp(app))
	}
	// An attempt that created the app and then failed (the app never
	// became readable, the retries ran out of time) names it in its error
	// or its last heartbeat: the undo is recorded then, so a rollback from
	// gate step-failed deletes the app the step never returned.
	var learned *model.EnterpriseApp
	if workflow.GetVersion(ctx, appFromFailureChange, workflow.DefaultVersion, 1) == 1 {
		c.onStepFailure = func(ctx workflow.Context, err error) {
			if app, ok := appFromFailure(err); ok && (learned == nil || learned.AppID != app.AppID) {
				learned = &app
				res.App = &app
				undoApp(ctx, app)
			}
		}
	}
	app, err := runStep(c, ctx, step.Options(ctx, "Enterprise app "+name, 10*time.Minute, time.Minute),
		workflows.PhaseEnterpriseApp, fmt.Sprintf("creating the enterprise app %q from the Entra gallery and waiting until it is readable", name),
		entraID.EnsureEnterpriseApp, entra.EnsureEnterpriseAppInput{DisplayName: name, TemplateID: entra.AWSIdentityCenterTemplateID})
	c.onStepFailure = nil
	if err != nil {
		return err
	}
	res.App = &app.App
	if learned == nil || learned.AppID != app.App.AppID {
		undoApp(ctx, app.App)
	}

	saml, err := runStep(c, ctx, step.Options(ctx, "SAML single sign-on of "+name, 5*time.Minute, 0),
		workflows.PhaseEnterpriseApp, fmt.Sprintf("setting up SAML single sign-on of %q for %s", name, res.ServiceProvider.EntityID),
		entraID.ConfigureSAML, entra.ConfigureSAMLInput{App: app.App, EntityID: res.ServiceProvider.EntityID, ACSURL: res.ServiceProvider.ACSURL, ACSURLs: res.ServiceProvider.ACSURLs})
	if err != nil {
		return err
	}
	res.SigningCertificate = &workflows.SigningCertificate{Thumbprint: saml.CertificateThumbprint, Expires: saml.CertificateExpires}
	c.publish(ctx)

	metadata, err := runStep(c, ctx, step.Options(ctx, "Federation metadata of "+name, 5*time.Minute, 0),
		workflows.PhaseEnterpriseApp, fmt.Sprintf("fetching and checking the federation metadata of %q", name),
		entraID.FetchFederationMetadata,
		entra.FetchFederationMetadataInput{TenantID: req.EntraTenantID, AppID: app.App.AppID, CertificateThumbprint: saml.CertificateThumbprint})
	if err != nil {
		return err
	}
	res.IdPMetadata = &metadata
	c.publish(ctx)

	// Recorded before assigning: a step that fails half way leaves some.
	c.compensate(ctx, compensation{
		undoes: fmt.Sprintf("the group assignments of %q", name),
		undo:   undoWith(c, entraID.RemoveAppGroupAssignments, entra.RemoveAppGroupAssignmentsInput{App: app.App}),
	})
	assigned, err := runStep(c, ctx, step.Options(ctx, "Group assignments of "+name, time.Hour, 2*time.Minute),
		workflows.PhaseEnterpriseApp, fmt.Sprintf("assigning the %d matched Entra groups to %q", c.status.Preflight.Summary.Stats.MatchedGroups, name),
		entraID.AssignGroupsToApp,
		entra.AssignGroupsToAppInput{App: app.App, Report: c.status.Preflight.Report, EntraInventory: c.status.Preflight.EntraInventory})
	if err != nil {
		return err
	}
	res.GroupAssignments = &assigned.GroupAssignments
	c.onDemandGroups = assigned.GroupIDs
	c.publish(ctx)
	return nil
}
