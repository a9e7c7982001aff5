package entra_test

import (
	"context"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/applicationtemplates"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/sandbox"
)

// instantiateUnseen creates an app as an attempt that died before its
// heartbeat would have: the answer goes nowhere.
func instantiateUnseen(t *testing.T, f *appFixture, templateID string) {
	t.Helper()
	body := applicationtemplates.NewItemInstantiatePostRequestBody()
	body.SetDisplayName(ptr(appName))
	_, err := f.acts.Graph.Client.ApplicationTemplates().ByApplicationTemplateId(templateID).Instantiate().Post(context.Background(), body, nil)
	require.NoError(t, err)
}

func TestDeleteUnreturnedEnterpriseAppFindsAnAppNoAttemptReported(t *testing.T) {
	// Entra shows the app 500 ms after making it: a single search right
	// after the crash would find nothing and leave it behind.
	f := newAppFixture(t, nil, 500*time.Millisecond, 10*time.Second)
	instantiateUnseen(t, f, entra.AWSIdentityCenterTemplateID)
	require.Len(t, f.sb.EnterpriseApps(), 1)
	made := f.sb.EnterpriseApps()[0]

	in := entra.DeleteUnreturnedEnterpriseAppInput{DisplayName: appName}
	var res entra.DeleteUnreturnedEnterpriseAppResult
	require.NoError(t, execute(t, f.acts, entra.DeleteUnreturnedEnterpriseAppName, in, &res))
	require.Equal(t, []string{made.ApplicationObjectID}, res.Deleted)
	require.Empty(t, f.sb.EnterpriseApps())
	require.GreaterOrEqual(t, calls(res.APICalls, "graph:GET /applications"), 2, "it searched until Entra showed the app: %v", res.APICalls)
}

func TestDeleteUnreturnedEnterpriseAppDeletesEveryCopyAndSparesOtherTemplates(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	// Two attempts that each died unseen, and a person's app of the same
	// name from the custom template, which the cutover never adopts.
	instantiateUnseen(t, f, entra.AWSIdentityCenterTemplateID)
	instantiateUnseen(t, f, entra.AWSIdentityCenterTemplateID)
	const customTemplate = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"
	instantiateUnseen(t, f, customTemplate)

	in := entra.DeleteUnreturnedEnterpriseAppInput{DisplayName: appName}
	var res entra.DeleteUnreturnedEnterpriseAppResult
	require.NoError(t, execute(t, f.acts, entra.DeleteUnreturnedEnterpriseAppName, in, &res))
	require.Len(t, res.Deleted, 2)
	left := f.sb.EnterpriseApps()
	require.Len(t, left, 1)
	require.NotContains(t, res.Deleted, left[0].ApplicationObjectID)

	// Run again (a retry): it waits Entra's delay, finds none of the
	// cutover's, and deletes nothing.
	require.NoError(t, execute(t, f.acts, entra.DeleteUnreturnedEnterpriseAppName, in, &res))
	require.Empty(t, res.Deleted)
	require.Len(t, f.sb.EnterpriseApps(), 1)
}
