package identitycenter

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

// The sandbox cannot refuse permissions, so these cases feed callError the
// errors the SDK returns for them (an OperationError around the modeled or
// generic API error).
func TestCallErrorClassifiesAWSErrors(t *testing.T) {
	r := &inventoryRun{in: InventoryAWSInput{IdentityStoreID: "d-1234567890"}, region: "eu-west-1"}
	sdkError := func(err error) error {
		return &smithy.OperationError{ServiceID: "SSO Admin", OperationName: "ListAccountAssignments", Err: err}
	}

	denied := r.callError(sdkError(&ssotypes.AccessDeniedException{Message: aws.String("not authorized to perform sso:ListAccountAssignments")}), "list assignments", false)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, denied, &appErr)
	require.True(t, appErr.NonRetryable())
	require.Equal(t, ErrAccessDenied, appErr.Type())
	for _, action := range inventoryIAMActions {
		require.Contains(t, appErr.Error(), action)
	}

	expired := r.callError(sdkError(&smithy.GenericAPIError{Code: "ExpiredTokenException", Message: "The security token included in the request is expired"}), "list assignments", false)
	require.ErrorAs(t, expired, &appErr)
	require.True(t, appErr.NonRetryable())
	require.Equal(t, ErrAccessDenied, appErr.Type())
	require.Contains(t, appErr.Error(), "credentials")

	notFound := &ssotypes.ResourceNotFoundException{Message: aws.String("not found")}
	require.ErrorAs(t, r.callError(sdkError(notFound), "list permission sets", true), &appErr)
	require.Equal(t, ErrInstanceNotFound, appErr.Type())
	require.Contains(t, appErr.Error(), "AWS_REGION")

	// Something vanished during the inventory, or AWS gave up for now:
	// Temporal retries the activity.
	for _, err := range []error{
		r.callError(sdkError(notFound), "describe permission set", false),
		r.callError(sdkError(&ssotypes.ThrottlingException{Message: aws.String("Rate exceeded")}), "list assignments", false),
		r.callError(errors.New("connection reset"), "list assignments", false),
	} {
		require.False(t, errors.As(err, &appErr), "%v must stay retryable", err)
	}
}
