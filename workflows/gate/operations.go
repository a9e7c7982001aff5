package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/platformguide/ssocutover/workflows"
	"go.temporal.io/sdk/workflow"
)

// Listen installs the status query, answered by snapshot, and the
// operations ops, taken by k. The cutover and the SCIM token rotation take
// the same operations the same way.
func Listen[S any](ctx workflow.Context, k *Keeper, statusDescription string, ops []string, snapshot func() S) error {
	err := workflow.SetQueryHandlerWithOptions(ctx, workflows.QueryStatus,
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
	case workflows.OpSubmitSPMetadata:
		return `{"gate":"` + workflows.GateAWSSPMetadata + `","by":"PERSON","spMetadataXml":"<md:EntityDescriptor ..."}`
	case workflows.OpSubmitSCIM:
		return `{"gate":"` + workflows.GateSCIMCredentials + `","by":"PERSON","scimEndpoint":"https://scim.REGION.amazonaws.com/TENANT/scim/v2","scimToken":{"arn":"SECRET_ARN","versionId":"VERSION"}}`
	}
	return gateDecisionExample
}

// listenForSignals takes every op signal through the same rules as the
// update. A signal cannot be refused to its sender, so a bad one is logged,
// recorded in status.Refused and otherwise ignored.
func listenForSignals(ctx workflow.Context, k *Keeper, op string) {
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

// AwaitAnswers lets the updates still waiting for their decision to be
// carried out answer, before the workflow ends: an update (approve, reject,
// recheck, ... sent by `starter`) answers its sender only then, and a
// workflow that ended first would leave the sender with an error for a
// decision that was in fact taken.
func AwaitAnswers(ctx workflow.Context) {
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// updateValidator refuses an update before it is accepted, so a refused
// update never enters history and changes nothing.
func updateValidator(k *Keeper, op string) func(workflow.Context, json.RawMessage) error {
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
func updateHandler[S any](k *Keeper, op string, snapshot func() S) func(workflow.Context, json.RawMessage) (S, error) {
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
func submit(ctx workflow.Context, k *Keeper, op string, input json.RawMessage) (*Pending, error) {
	decision, err := decodeDecision(input)
	if err != nil {
		return nil, fmt.Errorf("%s refused: %w", op, err)
	}
	return k.accept(ctx, op, decision)
}

// refuse records a signal the workflow ignored.
func (k *Keeper) refuse(ctx workflow.Context, op string, input json.RawMessage, reason error) {
	k.State.Refused = keepNewest(k.State.Refused, refusedInput(ctx, op, input, reason))
	k.State.RefusedTotal++
	k.Publish(ctx)
}

// refusedInput logs a signal a workflow ignored and says what status shows
// of it.
func refusedInput(ctx workflow.Context, op string, input json.RawMessage, reason error) workflows.RefusedInput {
	var sent workflows.GateDecision
	_ = json.Unmarshal(input, &sent) // best effort: only to say who sent it for which gate
	refused := workflows.RefusedInput{
		Operation: op,
		Gate:      workflows.Clip(sent.Gate, 100),
		By:        workflows.Clip(sent.By, workflows.MaxByLength),
		Error:     reason.Error(),
		At:        workflow.Now(ctx),
	}
	workflow.GetLogger(ctx).Warn("Gate signal refused", "operation", op, "gate", refused.Gate, "by", refused.By, "error", refused.Error)
	return refused
}

// keepNewest adds r to list, keeping the newest MaxRefusedShown so status
// stays small whatever a script sends.
func keepNewest(list []workflows.RefusedInput, r workflows.RefusedInput) []workflows.RefusedInput {
	list = append(list, r)
	if excess := len(list) - workflows.MaxRefusedShown; excess > 0 {
		list = append([]workflows.RefusedInput{}, list[excess:]...)
	}
	return list
}

// decodeDecision reads a GateDecision strictly: a misspelt field (say
// "overide") is an error, not silently dropped.
func decodeDecision(input json.RawMessage) (workflows.GateDecision, error) {
	if len(bytes.TrimSpace(input)) == 0 {
		return workflows.GateDecision{}, errors.New("no input: send " + gateDecisionExample)
	}
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.DisallowUnknownFields()
	var d workflows.GateDecision
	if err := dec.Decode(&d); err != nil {
		return workflows.GateDecision{}, fmt.Errorf("input is not a gate decision (%v): send %s", err, gateDecisionExample)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return workflows.GateDecision{}, errors.New("input has more than one JSON value: send one object, " + gateDecisionExample)
	}
	return d, nil
}
