package e2e

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/workflows"
)

// secretForms are the ways a secret can show up in text: as it is, and in
// the encodings a payload, a log or a JSON field may put it in.
func secretForms(secret string) map[string]string {
	raw := []byte(secret)
	return map[string]string{
		"plain":          secret,
		"base64":         base64.StdEncoding.EncodeToString(raw),
		"base64 (raw)":   base64.RawStdEncoding.EncodeToString(raw),
		"base64url":      base64.RawURLEncoding.EncodeToString(raw),
		"hex":            hex.EncodeToString(raw),
		"hex (upper)":    strings.ToUpper(hex.EncodeToString(raw)),
		"JSON-escaped":   strings.Trim(fmt.Sprintf("%q", secret), `"`),
		"base64 of JSON": base64.StdEncoding.EncodeToString([]byte(`"` + secret + `"`)),
	}
}

// findSecrets returns where, in which form, each secret appears in the
// places searched (name -> text). Empty means no leak.
func findSecrets(places map[string]string, secrets map[string]string) []string {
	var leaks []string
	for secretName, secret := range secrets {
		if len(secret) < 8 {
			leaks = append(leaks, fmt.Sprintf("secret %s is too short to search for safely", secretName))
			continue
		}
		for form, text := range secretForms(secret) {
			for place, haystack := range places {
				if strings.Contains(haystack, text) {
					leaks = append(leaks, fmt.Sprintf("%s (%s) in %s", secretName, form, place))
				}
			}
		}
	}
	return leaks
}

// The scanner itself must find what it looks for, or a leak test built on
// it could never fail.
func TestFindSecretsFindsEveryForm(t *testing.T) {
	const secret = "scim-token-0123456789abcdef"
	for form, text := range secretForms(secret) {
		leaks := findSecrets(map[string]string{"log": "before " + text + " after"}, map[string]string{"token": secret})
		if len(leaks) == 0 {
			t.Errorf("the %s form was not found", form)
		}
	}
	if leaks := findSecrets(map[string]string{"log": "nothing here"}, map[string]string{"token": secret}); len(leaks) != 0 {
		t.Errorf("found %v in a clean text", leaks)
	}
}

// A whole cutover with known secrets (the SCIM token, the break-glass
// password): neither shows, in any form, in the history (as stored, and
// decoded by the codec server), the worker's log, the starter's output or
// the status query's answer.
func TestSecretsNeverLeak(t *testing.T) {
	e := startEnv(t, world.Sample(), sandbox.Faults{})
	codecURL := e.startCodecServer(t)
	id := e.startAndApprove(t, e.request(t))
	e.passSPMetadataGate(t, id)
	tokenFile := e.passSCIMGate(t, id)
	e.waitForGate(t, id, workflows.GateConfirmSignIn)
	e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GateConfirmSignIn, "--by", "e2e")
	st := e.waitForEnd(t, id)
	require.Equal(t, workflows.PhaseCompleted, st.Phase)
	e.starter(t, "status", "--workflow-id", id)
	e.starter(t, "status", "--workflow-id", id, "--json")

	token, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	secrets := map[string]string{
		"the SCIM token":           strings.TrimSpace(string(token)),
		"the break-glass password": e.secretValue(t, st.Resources.BreakGlass.Password.ARN),
	}
	places := e.placesToSearch(t, id, codecURL)
	places["the starter's output"] = e.starterOutput.String()
	require.Empty(t, findSecrets(places, secrets))
}

// A secret put into a signal on purpose is found: the search above can fail.
func TestASecretSentInASignalIsFound(t *testing.T) {
	e := startEnv(t, world.Sample(), sandbox.Faults{})
	codecURL := e.startCodecServer(t)
	id := workflows.CutoverWorkflowID(e.world.AWS.IdentityStoreID)
	e.starter(t, "start", "-f", e.request(t))
	e.waitForGate(t, id, workflows.GatePreflight)

	secret := "leaked-on-purpose-" + strings.Repeat("7f3a", 8)
	e.temporal(t, "workflow", "signal", "--workflow-id", id, "--name", workflows.OpReject,
		"--input", `{"gate":"preflight","by":"careless","reason":"`+secret+`"}`)
	e.waitForEnd(t, id)

	leaks := findSecrets(e.placesToSearch(t, id, codecURL), map[string]string{"the secret": secret})
	require.NotEmpty(t, leaks, "a secret in a signal must be found")
	require.Contains(t, strings.Join(leaks, "\n"), "the secret (plain) in the decoded history", "found in the signal's payload itself")
}

// placesToSearch exports what a person or a log collector can read of a
// cutover: its history as stored and as the codec server decodes it, the
// status query's answer, and the worker's log.
func (e *env) placesToSearch(t *testing.T, id, codecURL string) map[string]string {
	return map[string]string{
		"the history as stored": e.temporal(t, "workflow", "show", "--workflow-id", id, "--output", "json"),
		// The CLI prints a payload's data in base64, so each is decoded.
		"the decoded history": withPayloadsDecoded(t, e.temporal(t, "workflow", "show", "--workflow-id", id, "--output", "json", "--codec-endpoint", codecURL)),
		"the status query":    e.temporal(t, "workflow", "query", "--workflow-id", id, "--type", workflows.QueryStatus, "--codec-endpoint", codecURL),
		"the worker's log":    e.workerLog.String(),
	}
}
