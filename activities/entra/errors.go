package entra

import (
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"go.temporal.io/sdk/temporal"
)

// requiredPermissions are the Microsoft Graph application permissions the
// worker's app registration needs, named in the error a refused call
// returns so the person can grant them.
const requiredPermissions = "Group.Read.All and User.Read.All for the preflight, Application.ReadWrite.All for the later steps (application permissions, with admin consent)"

// callError turns the error of a Graph call into the activity's error.
// Errors a retry cannot fix (credentials, permissions, a refused request)
// become non-retryable application errors whose message says what to do;
// the rest (throttling or server errors the retries did not outlast, a
// group deleted during the inventory, the network) stay retryable, so
// Temporal retries the activity.
//
// what names the call ("list the members of group ..."). The messages carry
// Graph's error codes and messages, never a token or secret.
func callError(what string, err error) error {
	if err == nil {
		return nil
	}
	var authFailed *azidentity.AuthenticationFailedError
	if errors.As(err, &authFailed) {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: Entra ID refused the worker's sign-in: %v. Check AZURE_TENANT_ID, AZURE_CLIENT_ID and the client secret (it may have expired)", what, authFailed),
			ErrAccessDenied, err)
	}
	// The Azure SDK marks the sign-in errors a retry cannot fix (no
	// credential configured, a credential that cannot work here).
	var cannotSignIn interface {
		error
		NonRetriable()
	}
	if errors.As(err, &cannotSignIn) {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: the worker cannot sign in to Entra ID: %v. Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for an app registration with %s", what, cannotSignIn, requiredPermissions),
			ErrAccessDenied, err)
	}

	status := statusOf(err)
	code, message := graphErrorCode(err)
	switch status {
	case 401:
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: Microsoft Graph did not accept the worker's token (%s: %s). Check the worker's Azure credentials (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET) and that they belong to the tenant", what, code, message),
			ErrAccessDenied, err)
	case 403:
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: access denied (%s: %s). The worker's app registration needs the Microsoft Graph permissions %s", what, code, message, requiredPermissions),
			ErrAccessDenied, err)
	case 400, 405, 501:
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: Microsoft Graph refused the request (%s: %s)", what, code, message),
			ErrInvalidRequest, err)
	case 404:
		return fmt.Errorf("%s: %s: %s (it changed during the inventory; the activity is retried): %w", what, code, message, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// graphErrorCode returns Graph's error code and message, from the SDK's
// ODataError or a failed batch sub-response.
func graphErrorCode(err error) (code, message string) {
	var odata *odataerrors.ODataError
	if errors.As(err, &odata) {
		if main := odata.GetErrorEscaped(); main != nil {
			if c := main.GetCode(); c != nil {
				code = *c
			}
			if m := main.GetMessage(); m != nil {
				message = *m
			}
		}
		return code, message
	}
	var sub *graphStatusError
	if errors.As(err, &sub) {
		return sub.code, sub.message
	}
	return "error", err.Error()
}
