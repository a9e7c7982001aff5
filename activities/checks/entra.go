package checks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/readiness"
)

// EntraTarget is what the cutover will create in the tenant.
type EntraTarget struct {
	// TemplateID is the gallery app the cutover instantiates.
	TemplateID string
	// IdentifierURI is the identifier URI the app will get: the AWS
	// entity ID, https://<region>.<sign-in host>/platform/saml/<store ID>.
	IdentifierURI string
}

// The service plans of Microsoft Entra ID P1 and P2: assigning a group to
// an enterprise app needs one of them ("Microsoft Entra ID P1 or P2 ...
// group-based assignment"; the plan names are those of Microsoft's
// "Product names and service plan identifiers for licensing").
var premiumServicePlans = []string{"AAD_PREMIUM", "AAD_PREMIUM_P2"}

// CheckEntra checks the app registration's Graph permissions (the roles
// claim of its token), the tenant's licence, the gallery template, and
// whether the app management policy would refuse the identifier URI.
func CheckEntra(ctx context.Context, graph *graphclient.Client, t EntraTarget) readiness.Report {
	var r readiness.Report
	roles, ok := checkRoles(ctx, &r, graph)
	if !ok {
		return r
	}
	has := func(name string) bool { return roles == nil || slices.Contains(roles, name) }
	checkLicence(ctx, &r, graph, has("Organization.Read.All"))
	checkTemplate(ctx, &r, graph, t.TemplateID)
	checkIdentifierURIPolicy(ctx, &r, graph, t.IdentifierURI, has("Policy.Read.All"))
	return r
}

// checkRoles reads the application roles of the token Graph gets (its
// roles claim: the application permissions granted and consented). It
// returns nil roles when the token is not a JWT, so the other checks run
// and say what they find.
func checkRoles(ctx context.Context, r *readiness.Report, graph *graphclient.Client) ([]string, bool) {
	token, err := graph.AccessToken(ctx)
	if err != nil {
		r.Fail(readiness.AreaEntra, "Graph sign-in", readiness.CodeNotReady, "no token: "+scrub(err.Error(), token),
			"set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or a workload identity) of the app registration the worker uses")
		return nil, false
	}
	claims, ok := jwtClaims(token)
	if !ok {
		r.Warn(readiness.AreaEntra, "Graph permissions", "the token is not a JWT, so its roles cannot be read", "use the app registration's credentials")
		return nil, true
	}
	granted := 0
	for _, p := range readiness.GraphPermissions {
		if slices.Contains(claims.Roles, p.Name) {
			granted++
			continue
		}
		if p.ForTheCheck {
			r.Warn(readiness.AreaEntra, p.Name, "not granted: this check cannot read "+strings.TrimPrefix(p.Why, "reading "),
				"grant the application permission "+p.Name+" to the app registration and consent to it, or accept the warning")
			continue
		}
		r.Fail(readiness.AreaEntra, p.Name, readiness.CodeMissingGraphRole, "the token has no role "+p.Name+" ("+p.Why+")",
			"in the Entra admin center, App registrations > the worker's app > API permissions: add the Microsoft Graph application permission "+p.Name+" and grant admin consent")
	}
	r.Pass(readiness.AreaEntra, "Graph permissions", fmt.Sprintf("%d of %d application permissions granted (tenant %s)", granted, len(readiness.GraphPermissions), claims.TenantID))
	return claims.Roles, true
}

type tokenClaims struct {
	Roles    []string `json:"roles"`
	TenantID string   `json:"tid"`
}

// jwtClaims reads a JWT's payload. The signature is not checked: the token
// came from Entra to this process, and only its claims are read.
func jwtClaims(token string) (tokenClaims, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return tokenClaims{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return tokenClaims{}, false
	}
	var c tokenClaims
	if json.Unmarshal(payload, &c) != nil {
		return tokenClaims{}, false
	}
	return c, true
}

// checkLicence looks for an Entra ID P1 or P2 service plan that is
// provisioned in an enabled subscription.
func checkLicence(ctx context.Context, r *readiness.Report, graph *graphclient.Client, canRead bool) {
	const name = "Entra ID P1 licence"
	skus, err := graph.Client.SubscribedSkus().Get(ctx, nil)
	if err != nil {
		if !canRead {
			return // warned about the permission already
		}
		r.Warn(readiness.AreaEntra, name, "the licences could not be read: "+graphErrorText(err), "check by hand: Entra admin center > Billing > Licenses")
		return
	}
	var seen []string
	for _, sku := range skus.GetValue() {
		seen = append(seen, deref(sku.GetSkuPartNumber()))
		if deref(sku.GetCapabilityStatus()) != "Enabled" {
			continue
		}
		for _, plan := range sku.GetServicePlans() {
			if slices.Contains(premiumServicePlans, deref(plan.GetServicePlanName())) && deref(plan.GetProvisioningStatus()) == "Success" {
				r.Pass(readiness.AreaEntra, name, fmt.Sprintf("%s in subscription %s", deref(plan.GetServicePlanName()), deref(sku.GetSkuPartNumber())))
				return
			}
		}
	}
	r.Fail(readiness.AreaEntra, name, readiness.CodeMissingLicence,
		fmt.Sprintf("no enabled subscription has an Entra ID P1 or P2 plan (subscriptions: %s); assigning groups to the app needs one", orNone(seen)),
		"buy or activate Microsoft Entra ID P1 (or a suite that includes it, such as Microsoft 365 E3/E5 or EMS), then run this again")
}

// checkTemplate reads the gallery app the cutover instantiates.
func checkTemplate(ctx context.Context, r *readiness.Report, graph *graphclient.Client, templateID string) {
	const name = "gallery app"
	tmpl, err := graph.Client.ApplicationTemplates().ByApplicationTemplateId(templateID).Get(ctx, nil)
	if err != nil {
		r.Fail(readiness.AreaEntra, name, readiness.CodeNotReady, fmt.Sprintf("the application template %s could not be read: %s", templateID, graphErrorText(err)),
			"the AWS IAM Identity Center gallery app must be available in this tenant's cloud; check Enterprise applications > New application")
		return
	}
	r.Pass(readiness.AreaEntra, name, fmt.Sprintf("%q (template %s)", deref(tmpl.GetDisplayName()), templateID))
}

// checkIdentifierURIPolicy reads the tenant's default app management
// policy: a restriction of identifier URIs (nonDefaultUriAddition, or
// uriAdditionWithoutUniqueTenantIdentifier) that does not exempt SAML apps
// refuses the AWS entity ID, which is on no verified domain of the tenant.
// The SDK's v1.0 model has no identifierUris, so the answer is read as JSON.
func checkIdentifierURIPolicy(ctx context.Context, r *readiness.Report, graph *graphclient.Client, uri string, canRead bool) {
	const name = "identifier URI policy"
	info, err := graph.Client.Policies().DefaultAppManagementPolicy().ToGetRequestInformation(ctx, nil)
	var raw []byte
	if err == nil {
		var answer any
		answer, err = graph.Adapter.SendPrimitive(ctx, info, "[]byte", abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
		raw, _ = answer.([]byte)
	}
	if err != nil {
		if !canRead {
			return
		}
		r.Warn(readiness.AreaEntra, name, "the app management policy could not be read: "+graphErrorText(err), "check by hand: Entra admin center > Enterprise applications > App management policies")
		return
	}
	var policy struct {
		IsEnabled               bool `json:"isEnabled"`
		ApplicationRestrictions struct {
			IdentifierURIs map[string]struct {
				State       string `json:"state"`
				ExcludeSaml bool   `json:"excludeSaml"`
			} `json:"identifierUris"`
		} `json:"applicationRestrictions"`
	}
	if err := json.Unmarshal(raw, &policy); err != nil {
		r.Warn(readiness.AreaEntra, name, "the app management policy is not JSON the check knows", "check by hand")
		return
	}
	var blocking []string
	for restriction, v := range policy.ApplicationRestrictions.IdentifierURIs {
		if policy.IsEnabled && v.State == "enabled" && !v.ExcludeSaml {
			blocking = append(blocking, restriction)
		}
	}
	slices.Sort(blocking)
	if len(blocking) > 0 {
		r.Fail(readiness.AreaEntra, name, readiness.CodeIdentifierURIBlocked,
			fmt.Sprintf("the default app management policy restricts identifier URIs (%s) without exempting SAML apps, so Entra will refuse %s", strings.Join(blocking, ", "), uri),
			"exempt SAML apps: PATCH /v1.0/policies/defaultAppManagementPolicy with "+
				`{"applicationRestrictions":{"identifierUris":{"nonDefaultUriAddition":{"state":"enabled","excludeSaml":true}}}} `+
				"(Policy.ReadWrite.ApplicationConfiguration; the same for each restriction named), then run this again")
		return
	}
	r.Pass(readiness.AreaEntra, name, "no enabled identifier URI restriction blocks SAML apps")
}

func graphErrorText(err error) string {
	var odata *odataerrors.ODataError
	if errors.As(err, &odata) && odata.GetErrorEscaped() != nil {
		return fmt.Sprintf("%d %s: %s", odata.ResponseStatusCode, deref(odata.GetErrorEscaped().GetCode()), deref(odata.GetErrorEscaped().GetMessage()))
	}
	return err.Error()
}

// scrub removes the token from a message, should an error quote it.
func scrub(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "[token]")
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
