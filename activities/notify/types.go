// Package notify tells people that a workflow waits for them: a message
// with the gate's instructions goes to the log and, when the worker has
// one configured, to a chat webhook (Slack or Microsoft Teams).
package notify

// The activities' names.
const (
	NotifyGateOpenedName = "NotifyGateOpened"
	NotifyAttentionName  = "NotifyAttention"
)

// GateOpened is a gate that just opened (or still waits, for a reminder).
type GateOpened struct {
	// Workflow says which kind: "cutover" or "SCIM token rotation".
	Workflow        string `json:"workflow"`
	WorkflowID      string `json:"workflowId"`
	IdentityStoreID string `json:"identityStoreId"`
	Gate            string `json:"gate"`
	// Summary is one line on what the gate waits for.
	Summary string `json:"summary"`
	// Instructions are the gate's instructions, commands included.
	Instructions string `json:"instructions"`
	// Reminder marks a gate that has waited long.
	Reminder bool `json:"reminder,omitempty"`
}

// Attention is a problem no gate waits for, which a person must still
// hear of: a scheduled run that failed, a provisioning job in quarantine
// for a reason the workflow cannot fix.
type Attention struct {
	Workflow        string `json:"workflow"`
	WorkflowID      string `json:"workflowId"`
	IdentityStoreID string `json:"identityStoreId"`
	// Problem is one line on what is wrong; Detail says what to do.
	Problem string `json:"problem"`
	Detail  string `json:"detail,omitempty"`
}

// NotifyGateOpenedResult says where the message went (for either activity).
type NotifyGateOpenedResult struct {
	// Sent is false when no webhook is configured (the log has it).
	Sent bool `json:"sent"`
	// Destination is the webhook's host, never its URL: the path of an
	// incoming webhook URL is its secret.
	Destination string `json:"destination,omitempty"`
}

// ErrWebhookRefused is the type of the non-retryable error of a webhook
// that refuses the message (a deleted webhook, a wrong URL): only a person
// can fix it, on the worker. The gate still waits; the log has the message.
const ErrWebhookRefused = "WebhookRefused"
