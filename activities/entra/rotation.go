package entra

// The provisioning activities of a SCIM token rotation: the job's saved
// token is replaced by a new one (tested first, so a bad token is never
// saved), and the job is restarted out of the quarantine an expired token
// put it in.

import (
	"context"
	"fmt"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/secretstore"
)

// restartScope is what RestartProvisioning asks a restart to reset: only
// the quarantine. Watermark would make Entra re-evaluate every user and
// group (a full initial cycle) and Escrows would drop the retries of
// objects that keep failing; a new token needs neither.
const restartScope = models.SynchronizationJobRestartScope(models.QUARANTINESTATE_SYNCHRONIZATIONJOBRESTARTSCOPE)

// ReplaceProvisioningToken makes the job use the new SCIM token read from
// Secrets Manager. Entra first tests the endpoint with the new token
// (validateCredentials with the credentials given, which saves nothing);
// only when it works are the job's secrets saved again, as
// ConfigureProvisioning saves them, with the new token. A token Entra
// cannot use is ErrSCIMCredentialsRejected and the job keeps its current
// token. Saving the same again is harmless, so a retry is too.
func (a *Activities) ReplaceProvisioningToken(ctx context.Context, in ReplaceProvisioningTokenInput) (ReplaceProvisioningTokenResult, error) {
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)
	// The same fields as ConfigureProvisioning's input (the conversion
	// stops compiling should they drift apart), checked and saved the same way.
	token, err := a.credentialsToken(ctx, ConfigureProvisioningInput(in))
	if err != nil {
		return ReplaceProvisioningTokenResult{}, err
	}
	if err := a.validateNewToken(ctx, in, token); err != nil {
		return ReplaceProvisioningTokenResult{}, withoutSecret(err, token)
	}
	if err := a.saveCredentials(ctx, ConfigureProvisioningInput(in), token); err != nil {
		return ReplaceProvisioningTokenResult{}, withoutSecret(err, token)
	}
	return ReplaceProvisioningTokenResult{APICalls: calls.Counts()}, nil
}

// validateNewToken is the portal's "Test connection" with credentials that
// are not saved: Graph answers 400 when the endpoint refuses them.
func (a *Activities) validateNewToken(ctx context.Context, in ReplaceProvisioningTokenInput, token secretstore.Value) error {
	body := serviceprincipals.NewItemSynchronizationJobsItemValidateCredentialsPostRequestBody()
	useSaved := false
	body.SetUseSavedCredentials(&useSaved)
	body.SetCredentials([]models.SynchronizationSecretKeyStringValuePairable{
		secretPair(models.BASEADDRESS_SYNCHRONIZATIONSECRET, in.SCIMEndpoint),
		secretPair(models.SECRETTOKEN_SYNCHRONIZATIONSECRET, token.Reveal()),
	})
	return a.testCredentials(ctx, in.App, in.JobID, body, "test the new SCIM token", func(code, message string) string {
		return fmt.Sprintf("Entra could not use the SCIM endpoint %s with the new token %s (%s: %s). Nothing was saved: the provisioning job keeps its current token. Check that the endpoint is the one the IAM Identity Center console shows, and that the new token was copied whole and still exists there; if in doubt, create another token in the console, store it in Secrets Manager and submit its reference",
			in.SCIMEndpoint, in.SCIMToken, code, message)
	})
}

// RestartProvisioning restarts the job with a reset of its quarantine
// (restartScope), so that a job an expired token quarantined runs again,
// with the credentials saved now. Restarting a running job only runs its
// next cycle at once, so a retry does no harm.
func (a *Activities) RestartProvisioning(ctx context.Context, in RestartProvisioningInput) (RestartProvisioningResult, error) {
	if err := a.requireGraph(in.App, in.JobID, true); err != nil {
		return RestartProvisioningResult{}, err
	}
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)

	criteria := models.NewSynchronizationJobRestartCriteria()
	scope := restartScope
	criteria.SetResetScope(&scope)
	body := serviceprincipals.NewItemSynchronizationJobsItemRestartPostRequestBody()
	body.SetCriteria(criteria)
	if err := a.synchronization(in.App).Jobs().BySynchronizationJobId(in.JobID).Restart().Post(ctx, body, nil); err != nil {
		return RestartProvisioningResult{}, provisioningCallError("restart the provisioning job", in.App, in.JobID, err)
	}
	return RestartProvisioningResult{APICalls: calls.Counts()}, nil
}
