package entra

import (
	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/secretref"
)

// Activity names of SCIM token rotation.
const (
	ReplaceProvisioningTokenName = "ReplaceProvisioningToken"
	RestartProvisioningName      = "RestartProvisioning"
)

// ReplaceProvisioningTokenInput is the job whose SecretToken changes, with
// the settings saved beside it: Graph replaces the whole set of secrets on
// every save and cannot read them back, so they are saved again as they were.
type ReplaceProvisioningTokenInput struct {
	App          model.EnterpriseApp `json:"app"`
	JobID        string              `json:"jobId"`
	SCIMEndpoint string              `json:"scimEndpoint"`
	// SCIMToken is the new token's Secrets Manager version.
	SCIMToken         secretref.Ref `json:"scimToken"`
	NotificationEmail string        `json:"notificationEmail,omitempty"`
	DeleteThreshold   int           `json:"deleteThreshold,omitempty"`
}

// ReplaceProvisioningTokenResult says the job now holds the new token.
type ReplaceProvisioningTokenResult struct {
	APICalls []apicalls.OperationCount `json:"apiCalls"`
}

// RestartProvisioningInput names a job to restart, out of quarantine.
type RestartProvisioningInput struct {
	App   model.EnterpriseApp `json:"app"`
	JobID string              `json:"jobId"`
}

// RestartProvisioningResult says the job was restarted.
type RestartProvisioningResult struct {
	APICalls []apicalls.OperationCount `json:"apiCalls"`
}
