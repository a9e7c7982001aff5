package identitycenter

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/temporal"
)

// inventoryIAMActions are the IAM actions InventoryAWS needs, named in the
// error a refused call returns so the person can fix the worker's policy.
var inventoryIAMActions = []string{
	"sso:ListInstances",
	"sso:ListPermissionSets",
	"sso:DescribePermissionSet",
	"sso:ListAccountsForProvisionedPermissionSet",
	"sso:ListAccountAssignments",
	"sso:ListApplications",
	"sso:GetApplicationAssignmentConfiguration",
	"sso:ListApplicationAssignments",
	"identitystore:ListGroups",
	"identitystore:ListGroupMemberships",
	"identitystore:ListUsers",
}

// credentialErrorCodes are the errors AWS returns when it does not accept
// the caller's credentials at all (as opposed to a missing permission).
var credentialErrorCodes = map[string]bool{
	"UnrecognizedClientException":         true,
	"InvalidClientTokenId":                true,
	"InvalidSignatureException":           true,
	"IncompleteSignatureException":        true,
	"MissingAuthenticationTokenException": true,
	"ExpiredTokenException":               true,
	"SignatureDoesNotMatch":               true,
}

// callError turns the error of an AWS call into the activity's error.
// Errors that a retry cannot fix (a wrong identity store or region, a
// malformed request, missing permissions or credentials) become
// non-retryable application errors whose message says what to check; the
// rest (throttling the SDK gave up on, 5xx, network) stay retryable, so
// Temporal retries the activity.
//
// what names the call ("list the users of identity store d-123"). When
// instanceScope is true a ResourceNotFoundException means the instance or
// identity store itself is unknown; otherwise it means an object vanished
// during the inventory, which a retry handles.
//
// The messages carry only AWS error codes and messages, IDs and region:
// never credentials.
func (r *inventoryRun) callError(err error, what string, instanceScope bool) error {
	if err == nil {
		return nil
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("%s: %w", what, err)
	}
	code, message := apiErr.ErrorCode(), apiErr.ErrorMessage()
	switch {
	case code == "ResourceNotFoundException" && instanceScope:
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: %s. Check identityStoreId %q (and instanceArn, if set) in the cutover request, and that the worker calls the instance's region (it calls %q; set AWS_REGION)",
				what, message, r.in.IdentityStoreID, r.region),
			ErrInstanceNotFound, err)
	case code == "ResourceNotFoundException":
		return fmt.Errorf("%s: %s (it changed during the inventory; the activity is retried): %w", what, message, err)
	case code == "ValidationException":
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: AWS refused the request: %s. Check identityStoreId %q and instanceArn %q in the cutover request", what, message, r.in.IdentityStoreID, r.in.InstanceARN),
			ErrInvalidRequest, err)
	case code == "AccessDeniedException":
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: access denied: %s. The worker's AWS identity needs these IAM actions: %s", what, message, strings.Join(inventoryIAMActions, ", ")),
			ErrAccessDenied, err)
	case credentialErrorCodes[code]:
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: AWS did not accept the worker's credentials (%s: %s). Check the worker's AWS credentials (environment, profile or role) and that they are not expired", what, code, message),
			ErrAccessDenied, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// isNotFound reports whether err is AWS's ResourceNotFoundException.
func isNotFound(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "ResourceNotFoundException"
}
