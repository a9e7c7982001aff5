package cutover

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/step"
)

// setUpEnterpriseApp carries out runbook steps 5 to 7 in Entra: the
// enterprise app from the gallery, set up for SAML with the AWS service
// provider's identifier and reply URL and a signing certificate; its
// federation metadata, fetched and checked for the person to upload to AWS;
// and the matched groups assigned to its User role.
func (c *cutover) setUpEnterpriseApp(ctx workflow.Context) error {
	req := c.status.Request
	res := c.resources()

	name := workflows.EnterpriseAppName(req.IdentityStoreID)
	app, err := runStep(c, ctx, step.Options(ctx, "Enterprise app "+name, 10*time.Minute, time.Minute),
		workflows.PhaseEnterpriseApp, fmt.Sprintf("creating the enterprise app %q from the Entra gallery and waiting until it is readable", name),
		entraID.EnsureEnterpriseApp, entra.EnsureEnterpriseAppInput{DisplayName: name, TemplateID: entra.AWSIdentityCenterTemplateID})
	if err != nil {
		return err
	}
	res.App = &app.App
	c.compensate(ctx, compensation{
		undoes: fmt.Sprintf("the enterprise app %q (deleted with its SAML setup and certificate)", name),
		undo:   undoWith(c, entraID.DeleteEnterpriseApp, entra.DeleteEnterpriseAppInput{App: app.App}),
	})

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
