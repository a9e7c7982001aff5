package gate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/platformguide/ssocutover/workflows"
)

// The commands a person runs at a gate are spelled here only, so every gate
// prints them the same way. NAME and WHY are placeholders to replace.

// StarterCommand is `starter OP --workflow-id ID ARGS...`.
func StarterCommand(op, workflowID string, args ...string) string {
	return strings.Join(append([]string{"starter", op, "--workflow-id", workflowID}, args...), " ")
}

// SignalCommand is the `temporal workflow signal` equivalent of a decision.
// The input is marshalled from GateDecision so its field names cannot drift.
func SignalCommand(workflowID, op string, d workflows.GateDecision) string {
	input, err := json.Marshal(d)
	if err != nil { // a struct of strings and a bool always marshals
		panic(err)
	}
	return fmt.Sprintf("temporal workflow signal --workflow-id %s --name %s --input '%s'", workflowID, op, input)
}
