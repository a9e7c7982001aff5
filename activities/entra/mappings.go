package entra

import (
	"context"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"

	"github.com/platformguide/ssocutover/internal/attrmap"
	"github.com/platformguide/ssocutover/internal/model"
)

// readMappings reads the user attribute mappings that provisioning will
// apply, so that the preflight judges users as Entra will send them:
//   - the cutover's app exists and has its provisioning job: the job's
//     schema (GET .../synchronization/jobs/{id}/schema), which a person may
//     have edited in the portal;
//   - the app exists without a job: its template's schema
//     (GET .../synchronization/templates/{id}/schema), what the job will
//     start with;
//   - no app yet (a first cutover): the gallery template's documented
//     defaults. Graph serves a synchronization template only under a
//     service principal, so before the cutover creates the app there is no
//     schema to read; the job it creates starts from that template.
//
// Both reads are documented under "Get synchronizationSchema"
// (https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-get).
func (r *inventoryRun) readMappings(ctx context.Context, appName string) (attrmap.Set, error) {
	if appName == "" {
		return attrmap.GalleryDefaults(), nil
	}
	app, err := r.findApp(ctx, appName)
	if err != nil || app == nil {
		return attrmap.GalleryDefaults(), err
	}
	sync := r.graph.Client.ServicePrincipals().ByServicePrincipalId(app.ServicePrincipalID).Synchronization()
	templates, err := sync.Templates().Get(ctx, nil)
	if err != nil {
		return attrmap.Set{}, callError(fmt.Sprintf("list the provisioning templates of the enterprise app %q", appName), err)
	}
	templateID := ""
	for _, t := range templates.GetValue() {
		if strings.EqualFold(deref(t.GetFactoryTag()), AWSProvisioningTemplateFactoryTag) {
			templateID = deref(t.GetId())
		}
	}
	if templateID == "" {
		// Not the gallery app: the cutover stops at its app step and says so.
		return attrmap.GalleryDefaults(), nil
	}
	jobs, err := sync.Jobs().Get(ctx, nil)
	if err != nil {
		return attrmap.Set{}, callError(fmt.Sprintf("list the provisioning jobs of %q", appName), err)
	}
	// The oldest job of the template is the one the cutover uses (see
	// EnsureProvisioningJob).
	for _, job := range jobs.GetValue() {
		if deref(job.GetTemplateId()) != templateID {
			continue
		}
		schema, err := sync.Jobs().BySynchronizationJobId(deref(job.GetId())).Schema().Get(ctx, nil)
		if err != nil {
			return attrmap.Set{}, callError(fmt.Sprintf("read the schema of the provisioning job %s of %q", deref(job.GetId()), appName), err)
		}
		return userMappings(schema, attrmap.OriginJob+" "+deref(job.GetId()))
	}
	schema, err := sync.Templates().BySynchronizationTemplateId(templateID).Schema().Get(ctx, nil)
	if err != nil {
		return attrmap.Set{}, callError(fmt.Sprintf("read the schema of the provisioning template %s of %q", templateID, appName), err)
	}
	return userMappings(schema, attrmap.OriginTemplate+" "+templateID)
}

// findApp is the cutover's enterprise app, nil when the tenant has none,
// or more than one of the name (the app step stops on that, and says what
// to do).
func (r *inventoryRun) findApp(ctx context.Context, name string) (*model.EnterpriseApp, error) {
	page, err := r.graph.Client.Applications().Get(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{
		QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{
			Filter: ptr("displayName eq " + odataString(name)),
			Select: []string{"id", "appId"},
		},
	})
	if err != nil {
		return nil, callError(fmt.Sprintf("look up the enterprise app %q", name), err)
	}
	if len(page.GetValue()) != 1 {
		return nil, nil
	}
	appID := deref(page.GetValue()[0].GetAppId())
	sps, err := r.graph.Client.ServicePrincipals().Get(ctx, &serviceprincipals.ServicePrincipalsRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipals.ServicePrincipalsRequestBuilderGetQueryParameters{
			Filter: ptr("appId eq " + odataString(appID)),
			Select: []string{"id"},
		},
	})
	if err != nil {
		return nil, callError(fmt.Sprintf("look up the service principal of %q", name), err)
	}
	if len(sps.GetValue()) == 0 {
		return nil, nil
	}
	return &model.EnterpriseApp{DisplayName: name, AppID: appID, ServicePrincipalID: deref(sps.GetValue()[0].GetId())}, nil
}

// userMappings picks the user object mapping out of a schema: the rule
// from Entra ID, its object mapping of source object User.
func userMappings(schema models.SynchronizationSchemaable, origin string) (attrmap.Set, error) {
	for _, rule := range schema.GetSynchronizationRules() {
		if deref(rule.GetSourceDirectoryName()) != entraSourceDirectory {
			continue
		}
		for _, om := range rule.GetObjectMappings() {
			if !strings.EqualFold(deref(om.GetSourceObjectName()), "User") || !deref(om.GetEnabled()) {
				continue
			}
			set := attrmap.Set{Origin: origin, Users: []attrmap.Mapping{}}
			for _, m := range om.GetAttributeMappings() {
				set.Users = append(set.Users, attrmap.Mapping{
					Target:   deref(m.GetTargetAttributeName()),
					Source:   sourceExpression(m.GetSource()),
					Default:  deref(m.GetDefaultValue()),
					Matching: int(deref(m.GetMatchingPriority())),
				})
			}
			return set, nil
		}
	}
	// No enabled user mapping: provisioning sends no user at all.
	return attrmap.Set{Origin: origin + " (no enabled user mapping)", Users: []attrmap.Mapping{}}, nil
}

// sourceExpression is a mapping source as an expression. Graph fills
// expression for every type; a source without one is rebuilt from its
// type and name.
func sourceExpression(src models.AttributeMappingSourceable) string {
	if src == nil {
		return `""`
	}
	if e := strings.TrimSpace(deref(src.GetExpression())); e != "" {
		return e
	}
	name := deref(src.GetName())
	if t := src.GetTypeEscaped(); t != nil && *t == models.CONSTANT_ATTRIBUTEMAPPINGSOURCETYPE {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
	}
	return "[" + name + "]"
}

// describeMappings is where the mappings were read and what differs from
// the gallery's, for the status.
func describeMappings(set attrmap.Set) string {
	if changed := set.Changed(); len(changed) > 0 {
		return set.Origin + "; changed from the gallery's: " + strings.Join(changed, "; ")
	}
	return set.Origin
}
