// Package checks makes the readiness checks that need the clouds' SDKs:
// the AWS identity, instance and permissions, and the Entra app
// registration's permissions, licence, gallery app and app management
// policy (internal/readiness holds the report). The cutover runs them as
// its first activity; `starter doctor` runs them on a worker through the
// Readiness workflow, and `worker --check` in the worker's own process.
package checks

import (
	"context"

	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/partition"
	"github.com/platformguide/ssocutover/internal/readiness"
)

// Activity names, as registered with the worker.
const CheckReadinessName = "CheckReadiness"

// Activities are the readiness activities; the worker registers a value of
// this struct.
type Activities struct {
	AWS   AWSClients
	Graph *graphclient.Client
}

// CheckReadinessInput names what the cutover will work on.
type CheckReadinessInput struct {
	Region          string `json:"region"`
	IdentityStoreID string `json:"identityStoreId"`
}

// CheckReadiness runs every AWS and Entra check and returns the report.
// A check that fails is a line of the report, not an error: the activity
// fails only when the worker is misconfigured.
func (a *Activities) CheckReadiness(ctx context.Context, in CheckReadinessInput) (readiness.Report, error) {
	if a.Graph == nil || a.AWS.STS == nil || a.AWS.IAM == nil || a.AWS.SSOAdmin == nil || a.AWS.IdentityStore == nil {
		return readiness.Report{}, temporal.NewNonRetryableApplicationError("the readiness activities have no AWS or Graph clients: the worker is misconfigured", "InvalidRequest", nil)
	}
	return Run(ctx, a.AWS, a.Graph, in), nil
}

// Run makes the AWS checks, then the Entra ones.
func Run(ctx context.Context, aws AWSClients, graph *graphclient.Client, in CheckReadinessInput) readiness.Report {
	r := CheckAWS(ctx, aws, AWSTarget(in))
	r.Add(CheckEntra(ctx, graph, EntraTarget{
		TemplateID:    entra.AWSIdentityCenterTemplateID,
		IdentifierURI: IdentifierURI(in.Region, in.IdentityStoreID),
	}).Checks...)
	return r
}

// IdentifierURI is the identifier URI the cutover gives the app: the
// entity ID of the instance's SAML service provider.
func IdentifierURI(region, identityStoreID string) string {
	return "https://" + region + "." + partition.ForRegion(region).SigninHosts[0] + "/platform/saml/" + identityStoreID
}
