// Package step runs activities from workflow code, typed by their input and
// result. An activity is named by its method value through a nil pointer
// of its struct,
//
//	var entraID *entra.Activities
//	app, err := step.Run(ctx, entraID.EnsureEnterpriseApp, in)
//
// which the SDK turns into the method's name, the name the worker registers
// it under (worker/app registers the structs). So a wrong input or result
// type is a compile error, not a workflow task that fails at run time, and
// there is one way to call an activity.
package step

import (
	"context"

	"go.temporal.io/sdk/workflow"
)

// Future is a started activity whose result is an O.
type Future[O any] struct {
	future workflow.Future
}

// Get waits for the activity and returns its result.
func (f Future[O]) Get(ctx workflow.Context) (O, error) {
	var out O
	err := f.future.Get(ctx, &out)
	return out, err
}

// Start starts activity with input in, under the activity options of ctx.
func Start[I, O any](ctx workflow.Context, activity func(context.Context, I) (O, error), in I) Future[O] {
	return Future[O]{future: workflow.ExecuteActivity(ctx, activity, in)}
}

// Run runs activity with input in, under the activity options of ctx, and
// returns its result.
func Run[I, O any](ctx workflow.Context, activity func(context.Context, I) (O, error), in I) (O, error) {
	return Start(ctx, activity, in).Get(ctx)
}
