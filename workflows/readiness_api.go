package workflows

// ReadinessWorkflowName is the workflow `starter doctor` starts to run the
// readiness checks on a worker, with the worker's own AWS and Entra
// identity. It changes nothing and returns a readiness.Report.
const ReadinessWorkflowName = "Readiness"

// ReadinessRequest names the instance a cutover would work on.
type ReadinessRequest struct {
	Region          string `json:"region"`
	IdentityStoreID string `json:"identityStoreId"`
}
