package cutover

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/platformguide/ssocutover/activities/analysis"
	"github.com/platformguide/ssocutover/activities/checks"
	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/workflowtest"
)

// History carries references, counts and summaries; the inventories and the
// report stay in the store. Run on a small and a large organisation (with the
// real analysis activity and store), the largest payload in or out of the
// workflow stays the same size while the report grows with the organisation.
func TestHistoryCarriesReferencesNotReports(t *testing.T) {
	small := measurePayloads(t, 1_000)
	large := measurePayloads(t, 30_000)

	require.Greater(t, large.report, int64(256<<10), "the report of 30,000 users would not fit in a payload")
	require.Greater(t, large.report, 20*small.report, "the report grows with the organisation")
	require.Less(t, large.largest, 16<<10, "largest payload %s", large.largestName)
	require.InDelta(t, small.largest, large.largest, 64,
		"payloads must not grow with the organisation: %s is %d bytes at 1,000 users, %s %d at 30,000",
		small.largestName, small.largest, large.largestName, large.largest)
}

type payloadSizes struct {
	largest     int
	largestName string
	report      int64
}

// measurePayloads runs a cutover of a generated organisation to its approval
// and measures every payload: the workflow's input and result, each
// activity's input and result, the status query and the update's answer.
func measurePayloads(t *testing.T, users int) payloadSizes {
	t.Helper()
	st := store.Dir{Path: t.TempDir()}
	awsInventory, entraInventory := generatedOrganisation(users)

	env := newEnv(t)
	registerActivityNames(env, checks.CheckReadinessName, identitycenter.InventoryAWSName, entra.InventoryEntraName)
	env.RegisterActivity(&analysis.Activities{Store: st})
	// Measured at the preflight gate, where the organisation's size shows,
	// and on the way to the next gate, where the harness stops the cutover.
	stop := installStopAfterPreflight(env)
	mockReadiness(env)
	env.OnActivity(identitycenter.InventoryAWSName, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, _ identitycenter.InventoryAWSInput) (identitycenter.InventoryAWSResult, error) {
			ref, err := st.Put(ctx, "aws-inventory", awsInventory)
			return identitycenter.InventoryAWSResult{
				Inventory: ref, InstanceARN: awsInventory.InstanceARN,
				Groups: len(awsInventory.Groups), Users: len(awsInventory.Users), Assignments: len(awsInventory.Assignments),
			}, err
		})
	env.OnActivity(entra.InventoryEntraName, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, _ entra.InventoryEntraInput) (entra.InventoryEntraResult, error) {
			ref, err := st.Put(ctx, "entra-inventory", entraInventory)
			return entra.InventoryEntraResult{Inventory: ref, Groups: len(entraInventory.Groups), Users: len(entraInventory.Users)}, err
		})

	var mu sync.Mutex
	sizes := payloadSizes{}
	record := func(name string, size int) {
		mu.Lock()
		defer mu.Unlock()
		if size > sizes.largest {
			sizes.largest, sizes.largestName = size, name
		}
	}
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		var input json.RawMessage
		require.NoError(t, args.Get(&input))
		record(info.ActivityType.Name+" input", len(input))
	})
	env.SetOnActivityCompletedListener(func(info *activity.Info, result converter.EncodedValue, err error) {
		require.NoError(t, err)
		var output json.RawMessage
		require.NoError(t, result.Get(&output))
		record(info.ActivityType.Name+" result", len(output))
		stop.activityCompleted(info, err)
	})

	var approval *updateOutcome
	at(env, time.Minute, func() {
		record("status query", jsonSize(t, queryStatus(t, env)))
		approval = sendUpdate(t, env, workflows.OpApprove, decision("alice", "measuring", true))
	})

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	res := passedPreflight(t, env)
	require.True(t, approval.completed)
	record("workflow input", jsonSize(t, testRequest()))
	record("workflow result", jsonSize(t, res))
	record("approve update answer", jsonSize(t, approval.status))
	require.Equal(t, users, res.Preflight.Summary.Stats.AWSUsers)
	require.Positive(t, res.Preflight.Summary.Blockers)
	sizes.report = res.Preflight.Report.Size
	return sizes
}

// generatedOrganisation has users in groups of 100, each group assigned to
// an account and matched in Entra, and every Entra user without a surname:
// one finding per user, so the report grows with the organisation.
func generatedOrganisation(users int) (preflight.AWS, preflight.Entra) {
	aws := preflight.AWS{
		InstanceARN: "arn:aws:sso:::instance/ssoins-1234567890abcdef", IdentityStoreID: workflowtest.IdentityStoreID, Region: "eu-west-1",
		PermissionSets: []preflight.PermissionSet{{ARN: "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1", Name: "ReadOnly"}},
		Accounts:       []string{"111111111111"},
	}
	entraInventory := preflight.Entra{TenantID: testRequest().EntraTenantID}
	for g := range (users + 99) / 100 {
		name := fmt.Sprintf("team-%05d", g)
		awsGroup := preflight.AWSGroup{ID: "aws-" + name, DisplayName: name}
		entraGroup := preflight.EntraGroup{ID: "entra-" + name, DisplayName: name, SecurityEnabled: true, OwnerCount: 1}
		for u := g * 100; u < min(users, (g+1)*100); u++ {
			userName := fmt.Sprintf("user%06d@corp.example", u)
			awsGroup.MemberUserNames = append(awsGroup.MemberUserNames, userName)
			aws.Users = append(aws.Users, preflight.AWSUser{ID: fmt.Sprintf("aws-user-%d", u), UserName: userName, DisplayName: userName, Email: userName})
			entraGroup.MemberIDs = append(entraGroup.MemberIDs, fmt.Sprintf("entra-user-%d", u))
			entraInventory.Users = append(entraInventory.Users, preflight.EntraUser{
				ID: fmt.Sprintf("entra-user-%d", u), UserPrincipalName: userName, Mail: userName, GivenName: "Given", DisplayName: userName,
			})
		}
		aws.Groups = append(aws.Groups, awsGroup)
		aws.Assignments = append(aws.Assignments, preflight.Assignment{
			AccountID: "111111111111", PermissionSetARN: aws.PermissionSets[0].ARN, PermissionSetName: "ReadOnly",
			PrincipalType: preflight.PrincipalGroup, PrincipalID: awsGroup.ID, PrincipalName: name,
		})
		entraInventory.Groups = append(entraInventory.Groups, preflight.GroupMatch{DisplayName: name, Candidates: []preflight.EntraGroup{entraGroup}})
	}
	return aws, entraInventory
}
