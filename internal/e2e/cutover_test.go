package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/secretstore"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/sandboxworker"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/worker/app"
	"github.com/platformguide/ssocutover/workflows"
)

// The sample organisation through every gate: started with the starter,
// read with status, a second start refused, an approval over blockers
// refused, then approved with an override through the temporal CLI; the
// console steps played against the sandbox's console, bad metadata and a
// wrong token refused, and the final state of AWS and Entra checked.
func TestCutoverEndToEnd(t *testing.T) {
	e := startEnv(t, world.Sample(), sandbox.Faults{})
	id := workflows.CutoverWorkflowID(e.world.AWS.IdentityStoreID)

	out := e.starter(t, "start", "-f", e.request(t))
	require.Contains(t, out, id)
	require.Contains(t, out, "temporal workflow start", "start prints the equivalent temporal command")

	st := e.waitFor(t, id, 2*time.Minute, func(s statusJSON) bool { return s.Gate != nil })
	require.Equal(t, workflows.PhaseAwaitingPreflight, st.Phase)
	require.Equal(t, workflows.GatePreflight, st.Gate.Name)
	require.NotEmpty(t, st.Gate.Instructions)
	require.NotNil(t, st.Preflight)
	require.Equal(t, 5, st.Preflight.Summary.Blockers)
	require.Equal(t, 2, st.Preflight.Summary.Warnings)
	var codes []string
	for _, c := range st.Preflight.Summary.ByCode {
		codes = append(codes, string(c.Code))
	}
	slices.Sort(codes)
	require.Equal(t, []string{"duplicate-email", "group-without-owner", "missing-attribute", "missing-group",
		"nested-group", "user-assignment", "user-not-in-entra"}, codes)
	require.NotEmpty(t, st.Preflight.APICalls, "the report counts its API calls")

	// The full report names what each finding concerns.
	var report preflight.Report
	require.NoError(t, json.Unmarshal([]byte(e.starter(t, "report", "--workflow-id", id, "--json")), &report))
	require.Contains(t, findingNames(report, preflight.MissingGroup), "aws-billing")

	// One cutover per instance: a second start is refused while this one runs.
	refused := e.run(t, false, filepath.Join(binDir, "starter"), "start", "-f", e.request(t))
	require.Contains(t, refused, id)

	// An approval over blockers without override is refused and leaves the
	// gate open; the refusal shows in status. The temporal CLI sends its
	// decisions through the codec server: the worker refuses plain JSON.
	codecURL := e.startCodecServer(t)
	e.temporal(t, "workflow", "signal", "--workflow-id", id, "--name", workflows.OpApprove, "--codec-endpoint", codecURL,
		"--input", `{"gate":"preflight","by":"e2e-approver","reason":"looks fine"}`)
	st = e.waitFor(t, id, time.Minute, func(s statusJSON) bool { return len(s.Refused) > 0 })
	require.Equal(t, workflows.GatePreflight, st.Gate.Name)
	require.Empty(t, st.Decisions)

	// Approved with an override, through the temporal CLI.
	e.temporal(t, "workflow", "signal", "--workflow-id", id, "--name", workflows.OpApprove, "--codec-endpoint", codecURL,
		"--input", `{"gate":"preflight","by":"e2e-approver","reason":"blockers accepted by CHG-1","override":true}`)

	// The rest of the runbook, the person's steps played with starter's
	// commands (the console ones against the sandbox's console).
	st = e.waitFor(t, id, 2*time.Minute, func(s statusJSON) bool { return s.Gate != nil && s.Gate.Name != workflows.GatePreflight })
	require.Equal(t, workflows.GateAWSSPMetadata, st.Gate.Name)
	require.NotNil(t, st.Resources.BreakGlass, "the break-glass user comes before the identity source is touched")
	work := t.TempDir()
	sp, idp, token := filepath.Join(work, "sp.xml"), filepath.Join(work, "idp.xml"), filepath.Join(work, "scim-token")
	e.console(t, "switch-identity-source", "-o", sp)
	// Metadata of another Region is refused at once and changes nothing.
	other := filepath.Join(work, "other.xml")
	spXML, err := os.ReadFile(sp)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(other, []byte(strings.ReplaceAll(string(spXML), e.world.AWS.Region, "us-east-1")), 0o600))
	refused = e.run(t, false, filepath.Join(binDir, "starter"), "submit-sp-metadata", "--workflow-id", id, "--file", other, "--by", "e2e-operator")
	require.Contains(t, refused, "us-east-1")
	e.starter(t, "submit-sp-metadata", "--workflow-id", id, "--file", sp, "--by", "e2e-operator")

	st = e.waitFor(t, id, 2*time.Minute, func(s statusJSON) bool { return s.Gate != nil && s.Gate.Name == workflows.GateSCIMCredentials })
	e.starter(t, "metadata", "--workflow-id", id, "-o", idp)
	e.console(t, "upload-idp-metadata", "--file", idp)
	out = e.console(t, "enable-provisioning", "--token-file", token)
	endpoint := regexp.MustCompile(`SCIM endpoint: (\S+)`).FindStringSubmatch(out)[1]
	// A token the endpoint does not know is refused, and the gate stays open.
	wrong := filepath.Join(work, "wrong-token")
	require.NoError(t, os.WriteFile(wrong, []byte("not-the-token-"+strings.Repeat("x", 40)), 0o600))
	refused = e.run(t, false, filepath.Join(binDir, "starter"), "submit-scim", "--workflow-id", id, "--endpoint", endpoint, "--token-file", wrong, "--by", "e2e-operator")
	require.Contains(t, refused, "token")
	e.starter(t, "submit-scim", "--workflow-id", id, "--endpoint", endpoint, "--token-file", token, "--by", "e2e-operator")

	st = e.waitFor(t, id, 3*time.Minute, func(s statusJSON) bool { return s.Gate != nil && s.Gate.Name == workflows.GateConfirmSignIn })
	v := st.Resources.Verification
	require.NotNil(t, v)
	require.Positive(t, v.AssignmentsRestored, "the switch dropped assignments; the cutover restored them")
	require.Zero(t, v.AssignmentsMissing, "every snapshot assignment is back: %+v", v)
	e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GateConfirmSignIn, "--by", "e2e-operator")
	st = e.waitFor(t, id, time.Minute, func(s statusJSON) bool { return strings.EqualFold(s.Execution.Status, "completed") })
	require.Equal(t, workflows.PhaseCompleted, st.Phase)
	require.Len(t, st.Decisions, 5)

	e.assertFinalState(t, st, token)

	history := e.temporal(t, "workflow", "show", "--workflow-id", id, "--output", "json")
	require.Less(t, largestPayload(t, []byte(history)), 256*1024)
	tokenValue, err := os.ReadFile(token)
	require.NoError(t, err)
	require.NotContains(t, history, strings.TrimSpace(string(tokenValue)), "the SCIM token never enters history")
	require.NotContains(t, e.workerLog.String(), strings.TrimSpace(string(tokenValue)), "nor the worker's log")
	e.recordHistory(t, id, "cutover-completed.json")
}

// assertFinalState checks the sandbox after a completed cutover: one
// enterprise app set up for SAML with the matched groups assigned, users
// and groups provisioned through SCIM, every snapshot assignment present,
// and a break-glass password that opens the console.
func (e *env) assertFinalState(t *testing.T, st statusJSON, tokenFile string) {
	apps := e.sandbox.EnterpriseApps()
	require.Len(t, apps, 1, "exactly one enterprise app")
	app := apps[0]
	require.Equal(t, "saml", app.PreferredSingleSignOnMode)
	require.Equal(t, []string{st.Resources.ServiceProvider.EntityID}, app.IdentifierURIs)
	require.Contains(t, app.RedirectURIs, st.Resources.ServiceProvider.ACSURL)
	require.Equal(t, st.Resources.SigningCertificate.Thumbprint, app.SigningCertificateThumbprint)
	require.Len(t, app.AssignedGroupIDs, st.Resources.GroupAssignments.Groups)

	store := e.sandbox.IdentityStoreSnapshot()
	provisioned := 0
	for _, u := range store.Users {
		if u.ExternalID != "" {
			provisioned++
		}
	}
	require.Positive(t, provisioned, "Entra provisioned users through SCIM")

	requireWorldAssignments(t, e.sandbox, e.world)

	bg := st.Resources.BreakGlass
	password := e.secretValue(t, bg.Password.ARN)
	require.NoError(t, e.sandbox.IAMConsoleSignIn(bg.UserName, password), "the break-glass password opens the console")
}
func findingNames(r preflight.Report, code preflight.Code) []string {
	var names []string
	for _, f := range r.Findings {
		if f.Code == code {
			names = append(names, f.Names...)
		}
	}
	return names
}

// largestPayload walks an exported history and returns the size of its
// largest payload's data, in bytes (base64 decoded size estimated).
func largestPayload(t testing.TB, history []byte) int {
	t.Helper()
	var doc any
	require.NoError(t, json.Unmarshal(history, &doc))
	largest := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if data, ok := v["data"].(string); ok {
				if _, isPayload := v["metadata"]; isPayload && len(data)*3/4 > largest {
					largest = len(data) * 3 / 4
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)
	require.Positive(t, largest, "the history has payloads")
	return largest
}

// secretValue reads a secret from the sandbox's Secrets Manager with the SDK.
func (e *env) secretValue(t *testing.T, arn string) string {
	t.Helper()
	cfg, err := app.AWSConfig(context.Background(), sandboxworker.Config(e.sandbox, e.world, e.dataDir))
	require.NoError(t, err)
	value, err := secretstore.Read(context.Background(), secretsmanager.NewFromConfig(cfg), secretref.Ref{ARN: arn})
	require.NoError(t, err)
	return value.Reveal()
}
