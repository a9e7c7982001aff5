package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/codec"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/readiness"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/sandboxworker"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/workflows"
)

// doctorArgs names the world's instance.
func (e *env) doctorArgs() []string {
	return []string{"--region", e.world.AWS.Region, "--identity-store", e.world.AWS.IdentityStoreID}
}

// statusLines are the first word of each check line of a printed report.
func statusLines(out string) []string {
	var statuses []string
	for _, line := range strings.Split(out, "\n") {
		word, _, _ := strings.Cut(line, " ")
		switch readiness.Status(word) {
		case readiness.OK, readiness.Missing, readiness.Warning:
			statuses = append(statuses, word)
		}
	}
	return statuses
}

// On the demo's world, starter doctor (through the worker) and worker
// --check (in its own process) find everything ok and exit 0.
func TestDoctorOnTheSampleWorldIsAllOK(t *testing.T) {
	e := startEnv(t, world.Sample(), sandbox.Faults{})

	out := e.starter(t, append([]string{"doctor"}, e.doctorArgs()...)...)
	for i, s := range statusLines(out) {
		require.Equal(t, "ok", s, "line %d of:\n%s", i, out)
	}
	require.Len(t, statusLines(out), 13, out)
	require.Contains(t, out, "ready: 13 ok, 0 missing, 0 warnings")
	for _, want := range []string{"payload keys", "namespace", "worker", "AWS identity", "IAM permissions", "Graph permissions",
		"Entra ID P1 licence", "gallery app", "identifier URI policy", "data directory", "chat webhook"} {
		require.Contains(t, out, want)
	}

	check := e.run(t, true, filepath.Join(binDir, "worker"), "--check", "--identity-store", e.world.AWS.IdentityStoreID)
	require.Contains(t, check, "ready: 12 ok, 0 missing, 0 warnings", check)

	// With the S3 store, the worker checks the bucket instead of its disk:
	// it puts and gets a sealed document.
	cmd := exec.Command(filepath.Join(binDir, "worker"), "--check", "--identity-store", e.world.AWS.IdentityStoreID)
	cmd.Env = append(e.environ(), sandboxworker.S3StoreEnv(e.sandbox)...)
	s3Out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(s3Out))
	s3Check := string(s3Out)
	require.Contains(t, s3Check, "s3://"+sandbox.StoreBucket+" takes and gives back a sealed document", s3Check)
	require.NotContains(t, s3Check, "data directory")
	require.Contains(t, s3Check, "ready: 12 ok, 0 missing, 0 warnings", s3Check)
	objects, err := e.sandbox.S3Objects()
	require.NoError(t, err)
	require.Len(t, objects, 1, "one small document")
	for name, data := range objects {
		require.True(t, strings.HasPrefix(name, "readiness-"), name)
		require.True(t, codec.IsSealed(data), "sealed with the payload keys")
	}
}

// A world that denies sso:CreateAccountAssignment, has no P1 licence and
// blocks the identifier URI: doctor exits 1 naming each with what to do,
// and a cutover stops at the preflight gate with them as blockers.
func TestDoctorAndTheCutoverStopOnAWorldThatIsNotReady(t *testing.T) {
	w := world.Sample()
	w.AWS.DeniedActions = []string{"sso:CreateAccountAssignment"}
	w.Entra.WithoutPremiumLicence = true
	w.Entra.RestrictIdentifierURIs = true
	e := startEnv(t, w, sandbox.Faults{})

	out := e.run(t, false, filepath.Join(binDir, "starter"), append([]string{"doctor", "--json"}, e.doctorArgs()...)...)
	var report readiness.Report
	require.NoError(t, json.Unmarshal([]byte(out), &report), out)
	missing := map[string]readiness.Check{}
	for _, c := range report.Checks {
		if c.Status == readiness.Missing {
			missing[c.Name] = c
		}
	}
	require.Len(t, missing, 3, out)
	require.Equal(t, readiness.CodeMissingPermission, missing["sso:CreateAccountAssignment"].Code)
	require.Contains(t, missing["sso:CreateAccountAssignment"].Fix, "allow sso:CreateAccountAssignment")
	require.Equal(t, readiness.CodeMissingLicence, missing["Entra ID P1 licence"].Code)
	require.Contains(t, missing["Entra ID P1 licence"].Fix, "Microsoft Entra ID P1")
	require.Equal(t, readiness.CodeIdentifierURIBlocked, missing["identifier URI policy"].Code)
	require.Contains(t, missing["identifier URI policy"].Fix, "excludeSaml")

	id := workflows.CutoverWorkflowID(w.AWS.IdentityStoreID)
	e.starter(t, "start", "-f", e.request(t))
	st := e.waitFor(t, id, 2*time.Minute, func(s statusJSON) bool { return s.Gate != nil })
	require.Equal(t, workflows.GatePreflight, st.Gate.Name)
	require.Equal(t, []string{"sso:CreateAccountAssignment", "Entra ID P1 licence", "identifier URI policy"}, st.Preflight.NotReady)
	require.Equal(t, 3, st.Preflight.Summary.Blockers)
	var findings preflight.Report
	require.NoError(t, json.Unmarshal([]byte(e.starter(t, "report", "--workflow-id", id, "--json")), &findings))
	var codes []string
	for _, f := range findings.Findings {
		codes = append(codes, string(f.Code))
	}
	require.ElementsMatch(t, []string{readiness.CodeIdentifierURIBlocked, readiness.CodeMissingLicence, readiness.CodeMissingPermission}, codes)

	// An override cannot pass them.
	refused := e.run(t, false, filepath.Join(binDir, "starter"), "approve", "--workflow-id", id, "--gate", workflows.GatePreflight,
		"--by", "e2e-approver", "--override", "--reason", "we know")
	require.Contains(t, refused, "cannot be overridden")
}
