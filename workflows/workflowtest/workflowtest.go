// Package workflowtest holds what the workflows' tests share: reading a
// test environment's status, result and UI details, and the test
// organisation's names.
package workflowtest

import (
	"testing"

	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/workflows"

	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/testsuite"
)

// StatusAs is the status query's answer, as the workflow's status type S.
func StatusAs[S any](t *testing.T, env *testsuite.TestWorkflowEnvironment) S {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.QueryStatus)
	require.NoError(t, err)
	var st S
	require.NoError(t, v.Get(&st))
	return st
}

// CurrentDetails is what the Temporal UI shows as the workflow's details.
func CurrentDetails(t *testing.T, env *testsuite.TestWorkflowEnvironment) string {
	t.Helper()
	v, err := env.QueryWorkflow("__temporal_workflow_metadata")
	require.NoError(t, err)
	var md sdkpb.WorkflowMetadata
	require.NoError(t, v.Get(&md))
	return md.GetCurrentDetails()
}

// ResultAs is the result of a workflow that completed, as type R.
func ResultAs[R any](t *testing.T, env *testsuite.TestWorkflowEnvironment) R {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res R
	require.NoError(t, env.GetWorkflowResult(&res))
	return res
}

const IdentityStoreID = "d-1234567890"

const ACSTenantID = "0123456789abcdef-0123-4567-89ab-0123456789ab"

var (
	App = model.EnterpriseApp{
		DisplayName:         workflows.EnterpriseAppName(IdentityStoreID),
		AppID:               "11111111-1111-1111-1111-111111111111",
		ApplicationObjectID: "22222222-2222-2222-2222-222222222222",
		ServicePrincipalID:  "33333333-3333-3333-3333-333333333333",
	}
	SCIMEndpoint = "https://scim.eu-west-1.amazonaws.com/" + ACSTenantID + "/scim/v2"
)
