package workflows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"go.temporal.io/sdk/workflow"
)

// gateOperations are the decisions a person sends. Each is a signal (for
// `temporal workflow signal` and tctl, which cannot be told no) and an update
// of the same name with a validator (for `starter` and `temporal workflow
// update`, which get an immediate error). Both take a GateDecision as JSON
// and go through the same rules (keeper.validate).
//
// The order matters when signals reach the workflow in the same workflow
// task: their channels are read in this order, the first valid decision
// closes the gate and the others are refused. So the most cautious decision
// wins: a reject sent together with an approve stops the cutover.
var gateOperations = []string{OpRollback, OpReject, OpSkip, OpRetry, OpRecheck, OpApprove, OpSubmitSPMetadata, OpSubmitSCIM}

// listen installs the status query and every gate operation.
func (c *cutover) listen(ctx workflow.Context) error {
	return listen(ctx, c.gates, "Phase, open gate with what to do, preflight summary, decisions and refused signals", gateOperations, c.snapshot)
}

// listen installs the status query, answered by snapshot, and the
// operations ops, taken by k. The cutover and the SCIM token rotation take
// the same operations the same way.
func listen[S any](ctx workflow.Context, k *keeper, statusDescription string, ops []string, snapshot func() S) error {
	err := workflow.SetQueryHandlerWithOptions(ctx, QueryStatus,
		func() (S, error) { return snapshot(), nil },
		workflow.QueryHandlerOptions{Description: statusDescription})
	if err != nil {
		return err
	}
	for _, op := range ops {
		listenForSignals(ctx, k, op)
		err := workflow.SetUpdateHandlerWithOptions(ctx, op, updateHandler(k, op, snapshot), workflow.UpdateHandlerOptions{
			Validator:   updateValidator(k, op),
			Description: op + " at the open gate; input: " + operationExample(op) + "; answers with the status once carried out",
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// gateDecisionExample shows the input of approve, reject and recheck.
const gateDecisionExample = `{"gate":"NAME","by":"PERSON","reason":"WHY","override":false}` +
	` (signed: add "signedAt":"2026-05-01T09:30:00Z","signature":"-----BEGIN SSH SIGNATURE-----...")`

// operationExample shows the input op takes.
func operationExample(op string) string {
	switch op {
	case OpSubmitSPMetadata:
		return `{"gate":"` + GateAWSSPMetadata + `","by":"PERSON","spMetadataXml":"<md:EntityDescriptor ..."}`
	case OpSubmitSCIM:
		return `{"gate":"` + GateSCIMCredentials + `","by":"PERSON","scimEndpoint":"https://scim.REGION.amazonaws.com/TENANT/scim/v2","scimToken":{"arn":"SECRET_ARN","versionId":"VERSION"}}`
	}
	return gateDecisionExample
}

// listenForSignals takes every op signal through the same rules as the
// update. A signal cannot be refused to its sender, so a bad one is logged,
// recorded in status.Refused and otherwise ignored.
func listenForSignals(ctx workflow.Context, k *keeper, op string) {
	signals := workflow.GetSignalChannelWithOptions(ctx, op, workflow.SignalChannelOptions{
		Description: op + " at the open gate; input: " + operationExample(op) + "; a refused signal shows in status.refused",
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			// Received raw, so that a payload that is not a gate decision is
			// recorded as refused instead of being dropped by the SDK.
			var input json.RawMessage
			signals.Receive(ctx, &input)
			if _, err := submit(ctx, k, op, input); err != nil {
				k.refuse(ctx, op, input, err)
			}
		}
	})
}

// updateValidator refuses an update before it is accepted, so a refused
// update never enters history and changes nothing.
func updateValidator(k *keeper, op string) func(workflow.Context, json.RawMessage) error {
	return func(ctx workflow.Context, input json.RawMessage) error {
		decision, err := decodeDecision(input)
		if err != nil {
			return fmt.Errorf("%s refused: %w", op, err)
		}
		return k.validateDecision(workflow.Now(ctx), op, decision)
	}
}

// updateHandler carries out an accepted update and answers with the status
// once the workflow has acted on it: for approve and reject when the gate is
// closed for good, for recheck when the new preflight is done and the gate
// is open again.
func updateHandler[S any](k *keeper, op string, snapshot func() S) func(workflow.Context, json.RawMessage) (S, error) {
	return func(ctx workflow.Context, input json.RawMessage) (S, error) {
		var none S
		d, err := submit(ctx, k, op, input)
		if err != nil {
			// Valid when validated, but another decision accepted in the
			// same workflow task closed the gate first. The sender gets
			// this error; status.Refused is for signals, which have no
			// sender to answer.
			workflow.GetLogger(ctx).Warn("Gate update refused after validation", "operation", op, "error", err)
			return none, err
		}
		// Disconnected: after a cancellation the rollback's gates still
		// take decisions, and their senders still get answers.
		waitCtx, _ := workflow.NewDisconnectedContext(ctx)
		if err := workflow.Await(waitCtx, func() bool { return d.done }); err != nil {
			return none, err
		}
		// The workflow coroutine has moved on (to the next gate, or to its
		// end) before this one resumes, so the status is the one after d.
		return snapshot(), d.err
	}
}

// submit decodes and accepts a decision.
func submit(ctx workflow.Context, k *keeper, op string, input json.RawMessage) (*pendingDecision, error) {
	decision, err := decodeDecision(input)
	if err != nil {
		return nil, fmt.Errorf("%s refused: %w", op, err)
	}
	return k.accept(ctx, op, decision)
}

// refuse records a signal the workflow ignored.
func (k *keeper) refuse(ctx workflow.Context, op string, input json.RawMessage, reason error) {
	k.state.Refused = keepNewest(k.state.Refused, refusedInput(ctx, op, input, reason))
	k.state.RefusedTotal++
	k.publish(ctx)
}

// refusedInput logs a signal a workflow ignored and says what status shows
// of it.
func refusedInput(ctx workflow.Context, op string, input json.RawMessage, reason error) RefusedInput {
	var sent GateDecision
	_ = json.Unmarshal(input, &sent) // best effort: only to say who sent it for which gate
	refused := RefusedInput{
		Operation: op,
		Gate:      clip(sent.Gate, 100),
		By:        clip(sent.By, maxByLength),
		Error:     reason.Error(),
		At:        workflow.Now(ctx),
	}
	workflow.GetLogger(ctx).Warn("Gate signal refused", "operation", op, "gate", refused.Gate, "by", refused.By, "error", refused.Error)
	return refused
}

// keepNewest adds r to list, keeping the newest MaxRefusedShown so status
// stays small whatever a script sends.
func keepNewest(list []RefusedInput, r RefusedInput) []RefusedInput {
	list = append(list, r)
	if excess := len(list) - MaxRefusedShown; excess > 0 {
		list = append([]RefusedInput{}, list[excess:]...)
	}
	return list
}

// decodeDecision reads a GateDecision strictly: a misspelt field (say
// "overide") is an error, not silently dropped.
func decodeDecision(input json.RawMessage) (GateDecision, error) {
	if len(bytes.TrimSpace(input)) == 0 {
		return GateDecision{}, errors.New("no input: send " + gateDecisionExample)
	}
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.DisallowUnknownFields()
	var d GateDecision
	if err := dec.Decode(&d); err != nil {
		return GateDecision{}, fmt.Errorf("input is not a gate decision (%v): send %s", err, gateDecisionExample)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return GateDecision{}, errors.New("input has more than one JSON value: send one object, " + gateDecisionExample)
	}
	return d, nil
}
