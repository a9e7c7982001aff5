package workflows

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The commands a person runs at a gate are spelled here only, so every gate
// prints them the same way. NAME and WHY are placeholders to replace.

// starterCommand is `starter OP --workflow-id ID ARGS...`.
func starterCommand(op, workflowID string, args ...string) string {
	return strings.Join(append([]string{"starter", op, "--workflow-id", workflowID}, args...), " ")
}

// signalCommand is the `temporal workflow signal` equivalent of a decision.
// The input is marshalled from GateDecision so its field names cannot drift.
func signalCommand(workflowID, op string, d GateDecision) string {
	input, err := json.Marshal(d)
	if err != nil { // a struct of strings and a bool always marshals
		panic(err)
	}
	return fmt.Sprintf("temporal workflow signal --workflow-id %s --name %s --input '%s'", workflowID, op, input)
}
