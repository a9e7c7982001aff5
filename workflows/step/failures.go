package step

import (
	"errors"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// HasErrorType reports whether err is an activity's application error of
// one of the types.
func HasErrorType(err error, types ...string) bool {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return false
	}
	for _, t := range types {
		if app.Type() == t {
			return true
		}
	}
	return false
}

// ActivityFailure says why an activity failed, without the SDK's wrapping:
// whether its retries ran out of time, whether an attempt timed out, and the
// last error the activity returned.
func ActivityFailure(err error) string {
	var why []string
	var activityErr *temporal.ActivityError
	if errors.As(err, &activityErr) && activityErr.RetryState() == enumspb.RETRY_STATE_TIMEOUT {
		why = append(why, "it kept failing until its retries ran out of time")
	}
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		why = append(why, fmt.Sprintf("an attempt timed out (%v)", timeout.TimeoutType()))
	}
	var app *temporal.ApplicationError
	switch {
	case errors.As(err, &app) && len(why) > 0:
		why = append(why, "the last error: "+applicationMessage(app))
	case errors.As(err, &app):
		why = append(why, applicationMessage(app))
	case len(why) == 0:
		why = append(why, err.Error())
	}
	return strings.Join(why, "; ")
}

// applicationMessage is an application error's message and its causes'.
func applicationMessage(app *temporal.ApplicationError) string {
	msg := app.Message()
	var cause *temporal.ApplicationError
	if errors.As(app.Unwrap(), &cause) {
		return msg + ": " + applicationMessage(cause)
	}
	if other := app.Unwrap(); other != nil {
		return msg + ": " + other.Error()
	}
	return msg
}

// DescribeError is an error as status shows it.
func DescribeError(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return applicationMessage(app)
	}
	if temporal.IsCanceledError(err) {
		return "the cutover was cancelled"
	}
	return err.Error()
}
