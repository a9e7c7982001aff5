package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/secretref"
)

// The rotation saves the job's credentials again, so it must save the
// accidental-deletion threshold the cutover saved: Graph cannot read it.
func TestRotationRequestFromCutoverKeepsTheDeleteThreshold(t *testing.T) {
	req := CutoverRequest{IdentityStoreID: "d-1234567890", Region: "eu-west-1", DeleteThreshold: 250}
	res := &Resources{
		App:          &model.EnterpriseApp{ServicePrincipalID: "sp"},
		Provisioning: &Provisioning{JobID: "job"},
		SCIM:         &SCIMConnection{Endpoint: "https://scim.eu-west-1.amazonaws.com/t/scim/v2", Token: secretref.Ref{ARN: "arn"}},
	}
	rotation, err := RotationRequestFromCutover(req, res)
	require.NoError(t, err)
	require.Equal(t, 250, rotation.DeleteThreshold)
}

func TestDeleteThresholdDefaultsTo500AndMustBePositive(t *testing.T) {
	require.Equal(t, 500, DeleteThresholdOrDefault(0))
	require.Equal(t, 42, DeleteThresholdOrDefault(42))
	require.ErrorContains(t, CutoverRequest{DeleteThreshold: -1}.Validate(), "deleteThreshold -1")
	require.ErrorContains(t, ScimTokenRotationRequest{DeleteThreshold: -1}.Validate(), "deleteThreshold -1")
	require.NotContains(t, CutoverRequest{}.Validate().Error(), "deleteThreshold")
}
