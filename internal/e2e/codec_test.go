package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/codec"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/workflows"
)

// e2eCodecKeys is the payload key every worker and starter of these tests
// gets (environ), new for each run.
var e2eCodecKeys = func() string {
	line, err := codec.NewKeyLine(time.Now())
	if err != nil {
		panic(err)
	}
	return line
}()

// The cutover's payloads are encrypted in Temporal: the history exported
// with the temporal CLI shows none of the request's fields, while the same
// export through the codec server (`starter codec-server`) shows them. A
// signal sent as plain JSON by the CLI without a codec is still taken.
func TestPayloadsAreEncryptedInHistory(t *testing.T) {
	e := startEnv(t, world.Sample(), sandbox.Faults{})
	id := workflows.CutoverWorkflowID(e.world.AWS.IdentityStoreID)
	e.starter(t, "start", "-f", e.request(t))
	e.waitFor(t, id, 2*time.Minute, func(s statusJSON) bool { return s.Gate != nil && s.Gate.Name == workflows.GatePreflight })

	// What the request carries, in plain text: e2e-requester and the
	// identity store's ID (which is in the workflow ID too, so only the
	// payloads are searched for it).
	secrets := []string{"e2e-requester", e.world.AWS.IdentityStoreID, e.world.Entra.TenantID}

	raw := e.temporal(t, "workflow", "show", "--workflow-id", id, "--output", "json")
	require.NotContains(t, raw, "e2e-requester")
	payloads := historyPayloads(t, raw)
	require.NotEmpty(t, payloads)
	for _, p := range payloads {
		if strings.HasSuffix(p.path, "searchAttributes.indexedFields.TemporalChangeVersion") {
			// The server indexes search attributes, so they are never
			// encrypted; this one holds only the workflow's change IDs.
			require.Regexp(t, `^\["[a-z-]+-[0-9]+"(,"[a-z-]+-[0-9]+")*\]$`, string(p.data))
			continue
		}
		require.Equal(t, codec.EncodingEncrypted, p.encoding, "every payload is encrypted: %s", p.path)
		for _, s := range secrets {
			require.NotContains(t, string(p.data), s, "payload %s", p.path)
		}
	}

	// Through the codec server the same history reads in plain text.
	endpoint := e.startCodecServer(t)
	decoded := e.temporal(t, "workflow", "show", "--workflow-id", id, "--output", "json", "--codec-endpoint", endpoint)
	var input string
	for _, p := range historyPayloads(t, decoded) {
		require.NotEqual(t, codec.EncodingEncrypted, p.encoding, "decoded: %s", p.path)
		if strings.Contains(p.path, "workflowExecutionStartedEventAttributes") {
			input += string(p.data)
		}
	}
	for _, s := range secrets {
		require.Contains(t, input, s, "the decoded start input shows %s", s)
	}

	// A decision sent as plain JSON (no codec) is refused like any invalid
	// one, saying how to send it; the gate stays as it was, and nothing it
	// carried is taken (its "by" shows nowhere).
	e.temporal(t, "workflow", "signal", "--workflow-id", id, "--name", workflows.OpRecheck,
		"--input", `{"gate":"preflight","by":"plain-json-approver"}`)
	st := e.waitFor(t, id, time.Minute, func(s statusJSON) bool { return len(s.Refused) > 0 })
	require.Equal(t, workflows.GatePreflight, st.Gate.Name)
	require.Equal(t, 1, st.Preflight.Run, "the recheck did not run")
	require.Contains(t, st.Refused[0].Error, "recheck refused: it was sent without encryption")
	require.Contains(t, st.Refused[0].Error, "--codec-endpoint")
	require.NotContains(t, e.starter(t, "status", "--workflow-id", id), "plain-json-approver")
	// As an update it is refused at once, to the sender, whose CLI cannot
	// read why without the codec (failures are encrypted too).
	refusedUpdate := e.run(t, false, e.cli, "workflow", "update", "execute", "--workflow-id", id, "--name", workflows.OpRecheck,
		"--input", `{"gate":"preflight","by":"plain-json-approver"}`)
	require.Contains(t, refusedUpdate, "Encoded failure")
	require.Equal(t, 1, e.status(t, id).Preflight.Run, "the recheck did not run")

	// A start sent as plain JSON is refused before anything runs.
	other := "cutover-d-0000000000"
	e.temporal(t, "workflow", "start", "--task-queue", "ssocutover", "--type", workflows.CutoverWorkflowName, "--workflow-id", other,
		"--input", `{"identityStoreId":"d-0000000000","region":"eu-west-1","entraTenantId":"`+e.world.Entra.TenantID+`","requestedBy":"plain"}`)
	failed := e.run(t, false, e.cli, "workflow", "result", "--workflow-id", other)
	require.Contains(t, failed, "Encoded failure", "the failure is encrypted; its message reads through the codec server")
	var why []string
	for _, p := range historyPayloads(t, e.temporal(t, "workflow", "show", "--workflow-id", other, "--output", "json", "--codec-endpoint", endpoint)) {
		if strings.Contains(p.path, "encodedAttributes") {
			why = append(why, string(p.data))
		}
	}
	require.Contains(t, strings.Join(why, "\n"), "the request was refused: it was sent without encryption")

	// And one the CLI encrypts through the codec server is taken too: the
	// recheck runs the preflight again.
	e.temporal(t, "workflow", "signal", "--workflow-id", id, "--name", workflows.OpRecheck, "--codec-endpoint", endpoint,
		"--input", `{"gate":"preflight","by":"codec-signaller"}`)
	st = e.waitFor(t, id, time.Minute, func(s statusJSON) bool { return s.Preflight != nil && s.Preflight.Run == 2 && s.Gate != nil })
	require.Equal(t, "codec-signaller", st.Decisions[len(st.Decisions)-1].By)
	history := e.temporal(t, "workflow", "show", "--workflow-id", id, "--output", "json")
	require.NotContains(t, history, "codec-signaller", "the signal's input is stored encrypted")
}

// startCodecServer runs `starter codec-server` on a free port with the
// tests' key and returns its URL.
func (e *env) startCodecServer(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "starter"), "codec-server", "--listen", "127.0.0.1:0", "--insecure-local")
	cmd.Env = e.environ()
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	require.True(t, lines.Scan(), "the codec server prints its address")
	url := regexp.MustCompile(`Codec server at (http://\S+)`).FindStringSubmatch(lines.Text())
	require.NotNil(t, url, lines.Text())
	go func() { // keep the pipe drained
		for lines.Scan() {
		}
	}()
	return url[1]
}

// historyPayload is one payload of an exported history: where it is, its
// encoding, and its data.
type historyPayload struct {
	path     string
	encoding string
	data     []byte
}

// historyPayloads finds every payload (an object with metadata and data) in
// an exported history and decodes its base64 encoding and data.
func historyPayloads(t *testing.T, history string) []historyPayload {
	t.Helper()
	var doc any
	require.NoError(t, json.Unmarshal([]byte(history), &doc))
	var found []historyPayload
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			meta, hasMeta := v["metadata"].(map[string]any)
			if data, ok := v["data"].(string); ok && hasMeta {
				p := historyPayload{path: path}
				if enc, ok := meta["encoding"].(string); ok {
					p.encoding = string(mustBase64(t, enc))
				}
				p.data = mustBase64(t, data)
				found = append(found, p)
				return
			}
			for k, c := range v {
				walk(path+"."+k, c)
			}
		case []any:
			for _, c := range v {
				walk(path+"[]", c)
			}
		}
	}
	walk("", doc)
	return found
}

func mustBase64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err, "not base64: %.80s", s)
	return b
}

// recordHistory writes the history of workflow id, decrypted through the
// codec server, to file in the folder SSOCUTOVER_RECORD_HISTORY names (the
// replay tests' workflows/testdata); without it, it does nothing. See the
// README, "Changing a workflow".
func (e *env) recordHistory(t *testing.T, id, file string) {
	t.Helper()
	if os.Getenv(envRecordHistory) == "" {
		return
	}
	history := e.temporal(t, "workflow", "show", "--workflow-id", id, "--output", "json", "--codec-endpoint", e.startCodecServer(t))
	writeRecordedHistory(t, file, history)
}

// envRecordHistory names the folder where the tests that play a whole
// workflow record its history.
const envRecordHistory = "SSOCUTOVER_RECORD_HISTORY"

// writeRecordedHistory writes a decrypted history for the replay tests,
// when SSOCUTOVER_RECORD_HISTORY asks for it.
func writeRecordedHistory(t *testing.T, file, history string) {
	t.Helper()
	dir := os.Getenv(envRecordHistory)
	if dir == "" {
		return
	}
	// The CLI's JSON gives metadata values in base64.
	encrypted := base64.StdEncoding.EncodeToString([]byte(codec.EncodingEncrypted))
	require.NotContains(t, history, encrypted, "a recorded history is decrypted, or the replay tests cannot read it")
	require.NoError(t, os.WriteFile(filepath.Join(dir, file), []byte(history), 0o644))
}
