package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"github.com/platformguide/ssocutover/internal/temporalclient"
	"github.com/platformguide/ssocutover/workflows"
)

var validRequest = workflows.CutoverRequest{
	IdentityStoreID: "d-1234567890",
	Region:          "eu-west-1",
	EntraTenantID:   "00000000-0000-0000-0000-000000000001",
	RequestedBy:     "alice@corp.example",
	Ticket:          "CHG-1234",
}

func TestParseRequestYAML(t *testing.T) {
	req, err := parseRequest("cutover.yaml", []byte(`
identityStoreId: d-1234567890
region: eu-west-1
entraTenantId: 00000000-0000-0000-0000-000000000001
requestedBy: alice@corp.example
ticket: CHG-1234
`))
	require.NoError(t, err)
	require.Equal(t, validRequest, req)
}

func TestParseRequestJSON(t *testing.T) {
	data, err := json.Marshal(validRequest)
	require.NoError(t, err)
	req, err := parseRequest("cutover.json", data)
	require.NoError(t, err)
	require.Equal(t, validRequest, req)
}

func TestParseRequestDetectsFormatByContent(t *testing.T) {
	data, err := json.Marshal(validRequest)
	require.NoError(t, err)
	req, err := parseRequest("-", data)
	require.NoError(t, err)
	require.Equal(t, validRequest, req)

	req, err = parseRequest("request", []byte("identityStoreId: d-1234567890\nregion: eu-west-1\n"+
		"entraTenantId: 00000000-0000-0000-0000-000000000001\nrequestedBy: alice@corp.example\nticket: CHG-1234\n"))
	require.NoError(t, err)
	require.Equal(t, validRequest, req)
}

func TestParseRequestRefusesUnknownFields(t *testing.T) {
	_, err := parseRequest("cutover.yaml", []byte("identityStoreId: d-1234567890\nregoin: eu-west-1\n"))
	require.ErrorContains(t, err, "not a valid YAML request")
	require.ErrorContains(t, err, "regoin")

	_, err = parseRequest("cutover.json", []byte(`{"identityStoreId": "d-1234567890", "tiket": "CHG-1"}`))
	require.ErrorContains(t, err, "not a valid JSON request")
	require.ErrorContains(t, err, "tiket")
}

func TestParseRequestListsEveryValidationError(t *testing.T) {
	_, err := parseRequest("cutover.yaml", []byte("identityStoreId: 1234567890\nregion: Ireland\n"))
	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, "the request is invalid")
	for _, field := range []string{"identityStoreId", "region", "entraTenantId", "requestedBy"} {
		require.Contains(t, msg, "  - "+field, "each problem on its own line: %s", msg)
	}
}

func TestParseRequestRefusesEmptyAndSeveralDocuments(t *testing.T) {
	_, err := parseRequest("cutover.yaml", []byte("  \n"))
	require.ErrorContains(t, err, "empty")

	_, err = parseRequest("cutover.yaml", []byte("identityStoreId: d-1234567890\n---\nidentityStoreId: d-0987654321\n"))
	require.ErrorContains(t, err, "more than one YAML document")

	_, err = parseRequest("cutover.json", []byte(`{"identityStoreId": "d-1234567890"} {"identityStoreId": "d-0987654321"}`))
	require.ErrorContains(t, err, "more than one JSON value")
}

func TestTemporalStartCommand(t *testing.T) {
	c := &cli{temporal: temporalclient.FromEnv(func(string) string { return "" })}
	req := validRequest
	req.RequestedBy = "Ann O'Neil"
	cmd := c.temporalStartCommand(req)
	require.True(t, strings.HasPrefix(cmd, "temporal workflow start --task-queue ssocutover --type Cutover --workflow-id cutover-d-1234567890 --id-conflict-policy Fail --codec-endpoint CODEC_URL --input '"), cmd)
	require.Contains(t, cmd, `"requestedBy":"Ann O'\''Neil"`, "the apostrophe is escaped for the shell")
	require.NotContains(t, cmd, "--address", "the default address needs no flag")

	c.temporal.Address = "temporal.internal:7233"
	c.temporal.Namespace = "cutovers"
	c.temporal.APIKey = "secret-key"
	cmd = c.temporalStartCommand(validRequest)
	require.Contains(t, cmd, "--address temporal.internal:7233 --namespace cutovers --tls ")
	require.NotContains(t, cmd, "secret-key")
}

func TestShellQuote(t *testing.T) {
	require.Equal(t, "cutover-d-1234567890", ShellQuote("cutover-d-1234567890"))
	require.Equal(t, "''", ShellQuote(""))
	require.Equal(t, `'a b'`, ShellQuote("a b"))
	require.Equal(t, `'it'\''s'`, ShellQuote("it's"))
}

func TestStartErrorNamesTheRunningCutover(t *testing.T) {
	c := &cli{}
	err := c.startError("cutover-d-1234567890", serviceerror.NewWorkflowExecutionAlreadyStarted("already started", "", "run-42"))
	msg := err.Error()
	require.Contains(t, msg, "already running as workflow cutover-d-1234567890 (run run-42)")
	require.Contains(t, msg, "starter status --workflow-id cutover-d-1234567890")

	err = c.startError("cutover-d-1234567890", errors.New("boom"))
	require.ErrorContains(t, err, "start workflow cutover-d-1234567890: boom")
}

func TestStartDryRunPrintsTheTemporalCommand(t *testing.T) {
	file := t.TempDir() + "/cutover.yaml"
	data, err := json.Marshal(validRequest)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, data, 0o600))

	var stdout bytes.Buffer
	root := NewRootCommand(&stdout, &stdout, func(string) string { return "" })
	root.SetArgs([]string{"start", "-f", file, "--dry-run"})
	require.NoError(t, root.Execute())
	require.Contains(t, stdout.String(), "temporal workflow start --task-queue ssocutover --type Cutover --workflow-id cutover-d-1234567890")
}

func TestCommandsSayWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"start"}, `required flag(s) "file" not set`},
		{[]string{"status"}, "say which cutover with --workflow-id (cutover-d-...) or --identity-store (d-...)"},
		{[]string{"approve", "--workflow-id", "cutover-d-1234567890"}, `required flag(s) "gate" not set`},
		{[]string{"report", "--workflow-id", "cutover-d-1", "--identity-store", "d-2"}, "name different cutovers"},
	} {
		var out bytes.Buffer
		root := NewRootCommand(&out, &out, func(string) string { return "" })
		root.SetArgs(tc.args)
		err := root.Execute()
		require.ErrorContains(t, err, tc.want, tc.args)
	}
}

func TestUILink(t *testing.T) {
	c := &cli{temporal: temporalclient.Options{Address: "127.0.0.1:7233", Namespace: "default"}}
	require.Equal(t, "http://127.0.0.1:8233/namespaces/default/workflows/cutover-d-1234567890", c.workflowLink("cutover-d-1234567890"))

	c.temporal.Address = "temporal.internal:7233"
	require.Empty(t, c.workflowLink("cutover-d-1234567890"), "no guess for a remote server")

	c.uiURL = "https://temporal-ui.internal"
	c.temporal.Namespace = "cut overs"
	require.Equal(t, "https://temporal-ui.internal/namespaces/cut%20overs/workflows/cutover-d-1234567890", c.workflowLink("cutover-d-1234567890"))
}
