package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/sandbox/world"
)

// setUserMapping changes the source expression of the user mapping to
// target in the job's schema, read and written back whole with PUT, as the
// Graph documentation shows. (The SDK's Patch of a schema read with the SDK
// would send only the changed properties: its backing store tracks them.)
func (e *syncEnv) setUserMapping(t *testing.T, jobID, target, expression string) (int, string) {
	t.Helper()
	url := e.sb.GraphURL + "/v1.0/servicePrincipals/" + syncTestSP + "/synchronization/jobs/" + jobID + "/schema"
	call := func(method string, body []byte) (int, []byte) {
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer graph-test-token")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, data
	}
	status, data := call(http.MethodGet, nil)
	require.Equal(t, http.StatusOK, status, string(data))
	var schema map[string]any
	require.NoError(t, json.Unmarshal(data, &schema))
	changed := false
	for _, rule := range schema["synchronizationRules"].([]any) {
		for _, om := range rule.(map[string]any)["objectMappings"].([]any) {
			om := om.(map[string]any)
			if om["sourceObjectName"] != "User" {
				continue
			}
			for _, m := range om["attributeMappings"].([]any) {
				m := m.(map[string]any)
				if m["targetAttributeName"] == target {
					m["source"].(map[string]any)["expression"] = expression
					changed = true
				}
			}
		}
	}
	require.True(t, changed, "no user mapping to %s", target)
	body, err := json.Marshal(schema)
	require.NoError(t, err)
	status, data = call(http.MethodPut, body)
	return status, string(data)
}

func TestTheTemplatesSchemaIsTheJobsUntilChanged(t *testing.T) {
	e := newSyncEnv(t, syncWorld(), time.Hour)
	template, err := e.sync().Templates().BySynchronizationTemplateId(awsSyncTemplateID).Schema().Get(e.ctx, nil)
	require.NoError(t, err)
	jobID := e.createJob(t)
	job, err := e.job(jobID).Schema().Get(e.ctx, nil)
	require.NoError(t, err)
	require.Equal(t, userExpressions(template), userExpressions(job))
	require.Equal(t, "[userPrincipalName]", userExpressions(job)["userName"])

	status, body := e.setUserMapping(t, jobID, "userName", "[mail]")
	require.Equal(t, http.StatusNoContent, status, body)
	job, err = e.job(jobID).Schema().Get(e.ctx, nil)
	require.NoError(t, err)
	require.Equal(t, "[mail]", userExpressions(job)["userName"])
	template, err = e.sync().Templates().BySynchronizationTemplateId(awsSyncTemplateID).Schema().Get(e.ctx, nil)
	require.NoError(t, err)
	require.Equal(t, "[userPrincipalName]", userExpressions(template)["userName"], "the template is not changed")

	// An expression that does not parse is refused, and nothing changes.
	status, body = e.setUserMapping(t, jobID, "displayName", `Join(" ", [givenName]`)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, body, "is not closed")
	job, err = e.job(jobID).Schema().Get(e.ctx, nil)
	require.NoError(t, err)
	require.Equal(t, "[displayName]", userExpressions(job)["displayName"])
}

func userExpressions(schema models.SynchronizationSchemaable) map[string]string {
	out := map[string]string{}
	for _, rule := range schema.GetSynchronizationRules() {
		for _, om := range rule.GetObjectMappings() {
			if *om.GetSourceObjectName() != "User" {
				continue
			}
			for _, m := range om.GetAttributeMappings() {
				out[*m.GetTargetAttributeName()] = *m.GetSource().GetExpression()
			}
		}
	}
	return out
}

// The engine sends what the job's mappings say: userName from mail, and
// no e-mail for a user without mail (the gallery does not fall back to the
// userPrincipalName); it matches existing AWS users on the userName sent.
func TestProvisioningFollowsTheJobsMappings(t *testing.T) {
	w := syncWorld()
	for i := range w.Entra.Users {
		u := &w.Entra.Users[i]
		u.Mail = strings.Replace(u.UserPrincipalName, "@corp.example", ".mail@corp.example", 1)
	}
	w.Entra.Users = append(w.Entra.Users, world.EntraUser{UserPrincipalName: "erin@corp.example", GivenName: "Erin", Surname: "Test", DisplayName: "erin Test"})
	w.Entra.Groups[1].Members = append(w.Entra.Groups[1].Members, "erin@corp.example")
	e := newSyncEnv(t, w, 20*time.Millisecond)
	e.apps.assign(e.groupID("team-b"))
	// bob exists in AWS under his userPrincipalName.
	e.scimCall(t, "POST", "/Users", map[string]any{
		"userName": "bob@corp.example", "name": map[string]string{"givenName": "Bob", "familyName": "Test"}, "displayName": "bob Test",
	})

	jobID := e.createJob(t)
	status, body := e.setUserMapping(t, jobID, "userName", `Coalesce([mail], [userPrincipalName])`)
	require.Equal(t, http.StatusNoContent, status, body)
	e.putSecrets(t, e.base, e.token)
	started := time.Now()
	e.start(t, jobID)
	e.waitFor(t, jobID, "steady state", steadyAfter(started))

	// bob is not adopted: the mapping sends bob.mail@corp.example, so a
	// second bob is created; erin has no mail and keeps her UPN.
	require.ElementsMatch(t, []string{"bob@corp.example", "bob.mail@corp.example", "dave.mail@corp.example", "erin@corp.example"}, e.scimUsers())
	for _, u := range e.scim.Snapshot().Users {
		switch u.UserName {
		case "erin@corp.example":
			require.Empty(t, u.Email, "no mail, no e-mail")
		case "dave.mail@corp.example":
			require.Equal(t, "dave.mail@corp.example", u.Email)
		}
	}
}
