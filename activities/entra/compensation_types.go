package entra

import (
	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/model"
)

// Activity names of the compensations of the cutover's Microsoft steps,
// which a rollback runs newest first. Each is idempotent: what is already
// gone counts as done.
const (
	StopProvisioningName          = "StopProvisioning"
	RemoveAppGroupAssignmentsName = "RemoveAppGroupAssignments"
	DeleteEnterpriseAppName       = "DeleteEnterpriseApp"
	// DeleteUnreturnedEnterpriseAppName is the undo recorded before the
	// app is created: it finds the app by its name.
	DeleteUnreturnedEnterpriseAppName = "DeleteUnreturnedEnterpriseApp"
)

// StopProvisioningInput names the provisioning job to stop.
type StopProvisioningInput struct {
	App   model.EnterpriseApp `json:"app"`
	JobID string              `json:"jobId"`
}

// StopProvisioningResult says what was done.
type StopProvisioningResult struct {
	// Stopped is false when the job (or the app) was already gone.
	Stopped bool `json:"stopped"`
	// SecretsCleared is true when the saved SCIM endpoint and token were
	// removed from Entra.
	SecretsCleared bool                      `json:"secretsCleared"`
	APICalls       []apicalls.OperationCount `json:"apiCalls"`
}

// RemoveAppGroupAssignmentsInput names the app whose group assignments to
// remove (all of them: the app is the cutover's own).
type RemoveAppGroupAssignmentsInput struct {
	App model.EnterpriseApp `json:"app"`
}

// RemoveAppGroupAssignmentsResult counts what was removed.
type RemoveAppGroupAssignmentsResult struct {
	Removed  int                       `json:"removed"`
	APICalls []apicalls.OperationCount `json:"apiCalls"`
}

// DeleteEnterpriseAppInput names the app to delete.
type DeleteEnterpriseAppInput struct {
	App model.EnterpriseApp `json:"app"`
}

// DeleteEnterpriseAppResult says what was done.
type DeleteEnterpriseAppResult struct {
	// Deleted is false when the app was already gone.
	Deleted  bool                      `json:"deleted"`
	APICalls []apicalls.OperationCount `json:"apiCalls"`
}

// DeleteUnreturnedEnterpriseAppInput names the app the cutover was about
// to create, for a rollback before the step that creates it returned it.
type DeleteUnreturnedEnterpriseAppInput struct {
	DisplayName string `json:"displayName"`
	TemplateID  string `json:"templateId"`
}

// DeleteUnreturnedEnterpriseAppResult says what was done.
type DeleteUnreturnedEnterpriseAppResult struct {
	// Deleted lists the application object IDs deleted: none when no
	// attempt had created the app.
	Deleted  []string                  `json:"deleted"`
	APICalls []apicalls.OperationCount `json:"apiCalls"`
}
