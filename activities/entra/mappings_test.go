package entra_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/attrmap"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/worldinv"
)

// putUserMapping sets the source of the job's user mapping to target, as a
// person editing the mappings in the portal does (GET the schema, PUT it
// back whole, as Graph documents).
func putUserMapping(t *testing.T, graphURL, spID, jobID, target, expression string) {
	t.Helper()
	url := graphURL + "/v1.0/servicePrincipals/" + spID + "/synchronization/jobs/" + jobID + "/schema"
	call := func(method string, body []byte) []byte {
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer sandbox-token")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, url, data)
		return data
	}
	raw := call(http.MethodGet, nil)
	var whole map[string]any
	require.NoError(t, json.Unmarshal(raw, &whole))
	for _, rule := range whole["synchronizationRules"].([]any) {
		for _, om := range rule.(map[string]any)["objectMappings"].([]any) {
			for _, m := range om.(map[string]any)["attributeMappings"].([]any) {
				if m := m.(map[string]any); m["targetAttributeName"] == target && om.(map[string]any)["sourceObjectName"] == "User" {
					m["source"].(map[string]any)["expression"] = expression
				}
			}
		}
	}
	body, err := json.Marshal(whole)
	require.NoError(t, err)
	call(http.MethodPut, body)
}

// The inventory reads the mappings from wherever they are: the gallery's
// before the app exists, the template's once it does, the job's once it
// has one; and a mapping a person changed changes the preflight's
// findings.
func TestInventoryReadsTheMappingsTheJobWillApply(t *testing.T) {
	w := handMadeWorld()
	// erin (a direct assignment, found by lookup) has a mail of her own.
	for i := range w.Entra.Users {
		if w.Entra.Users[i].UserPrincipalName == "erin@corp.example" {
			w.Entra.Users[i].Mail = "erin.test@corp.example"
		}
	}
	require.NoError(t, w.Validate())
	sb, err := sandbox.Start(w, sandbox.Options{Graph: sandbox.GraphOptions{InstantiateDelay: sandbox.NoInstantiateDelay}})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	graph, err := graphclient.New(graphclient.Config{BaseURL: sb.GraphURL, StaticToken: "sandbox-token", RequestsPerSecond: -1})
	require.NoError(t, err)
	f := fixtureFor(t, w, graph)
	f.input.AppDisplayName = appName
	aws := worldinv.AWS(w)

	_, inv := f.run(t)
	require.Equal(t, attrmap.GalleryDefaults(), inv.Mappings, "no app yet")
	galleryFindings := preflight.Analyze(aws, inv).Findings

	app := instantiateApp(t, graph)
	_, inv = f.run(t)
	require.Equal(t, attrmap.OriginTemplate+" aWSSingleSignon", inv.Mappings.Origin)
	require.Empty(t, inv.Mappings.Changed())

	body := models.NewSynchronizationJob()
	body.SetTemplateId(provPtr("aWSSingleSignon"))
	job, err := graph.Client.ServicePrincipals().ByServicePrincipalId(app.ServicePrincipalID).Synchronization().Jobs().Post(context.Background(), body, nil)
	require.NoError(t, err)
	putUserMapping(t, sb.GraphURL, app.ServicePrincipalID, *job.GetId(), attrmap.TargetUserName, "[mail]")

	res, inv := f.run(t)
	require.Equal(t, attrmap.OriginJob+" "+*job.GetId(), inv.Mappings.Origin)
	require.Equal(t, attrmap.OriginJob+" "+*job.GetId()+"; changed from the gallery's: userName ← [mail]", res.UserMappings)
	require.Equal(t, []string{"userName ← [mail]"}, inv.Mappings.Changed())
	var upns []string
	for _, u := range inv.Users {
		upns = append(upns, u.UserPrincipalName)
	}
	require.Contains(t, upns, "erin@corp.example", "found by userPrincipalName too, to say whom the changed mapping no longer matches")

	// The findings are the gallery's, and erin, whom Entra would now
	// create anew as erin.test@corp.example.
	report := preflight.Analyze(aws, inv)
	var added []preflight.Finding
	for _, f := range report.Findings {
		if !containsFinding(galleryFindings, f) {
			added = append(added, f)
		}
	}
	require.Len(t, added, 2, "%+v", added)
	require.Equal(t, preflight.UserNameMappingMismatch, added[0].Code)
	require.Equal(t, []string{"erin@corp.example"}, added[0].Names)
	require.Contains(t, added[0].Message, `"erin.test@corp.example"`)
	require.Equal(t, preflight.MappingsChanged, added[1].Code)
}

func containsFinding(findings []preflight.Finding, f preflight.Finding) bool {
	for _, g := range findings {
		if g.Code == f.Code && g.Severity == f.Severity && slices.Equal(g.Names, f.Names) {
			return true
		}
	}
	return false
}
