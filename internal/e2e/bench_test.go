package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/sandbox/worldinv"
	"github.com/platformguide/ssocutover/workflows"
)

// BenchmarkPreflight runs the whole preflight (worker binary, dev server,
// sandbox) on generated organisations of 1,000, 10,000 and 100,000 users
// with 10% as many groups, and reports what the README's "Scale" table
// shows: time to the preflight gate, API calls against the fewest the APIs
// allow, the worker's peak memory and the largest payload in history.
// `make bench` runs it once per size; SSOCUTOVER_BENCH_REPORT names a file
// that receives the table in Markdown.
func BenchmarkPreflight(b *testing.B) {
	var rows []string
	for _, users := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			for b.Loop() {
				rows = append(rows, benchmarkPreflight(b, users))
			}
		})
	}
	if path := os.Getenv("SSOCUTOVER_BENCH_REPORT"); path != "" && len(rows) > 0 {
		table := "| users | groups | assignments | time to gate | API calls (fewest possible) | worker peak RSS | largest history payload |\n" +
			"|---:|---:|---:|---:|---|---:|---:|\n" + strings.Join(rows, "\n") + "\n"
		require.NoError(b, os.WriteFile(path, []byte(table), 0o644))
	}
}

func benchmarkPreflight(b *testing.B, users int) string {
	w := world.Generate(world.ScaledGenerateOptions(users, 1))
	e := startEnv(b, w, sandbox.Faults{}, "SSOCUTOVER_AWS_RPS=1000", "SSOCUTOVER_GRAPH_RPS=1000")
	id := workflows.CutoverWorkflowID(w.AWS.IdentityStoreID)

	began := time.Now()
	e.starter(b, "start", "-f", e.request(b))
	st := e.waitFor(b, id, 45*time.Minute, func(s statusJSON) bool { return s.Gate != nil })
	elapsed := time.Since(began)

	history := e.temporal(b, "workflow", "show", "--workflow-id", id, "--output", "json")
	largest := largestPayload(b, []byte(history))
	require.Less(b, largest, 256*1024)
	peak := peakRSS(b, e.worker.Process.Pid)

	calls := st.Preflight.APICalls
	fewest := fewestCalls(w)
	total, fewestTotal := 0, 0
	var parts []string
	for _, c := range calls {
		total += c.Calls
		part := fmt.Sprintf("%s %d", c.Operation, c.Calls)
		if n, ok := fewest[c.Operation]; ok {
			part += fmt.Sprintf(" (%d)", n)
		}
		parts = append(parts, part)
	}
	for _, n := range fewest {
		fewestTotal += n
	}
	b.ReportMetric(elapsed.Seconds(), "s-to-gate")
	b.ReportMetric(float64(total), "api-calls")
	b.ReportMetric(float64(peak)/(1<<20), "worker-peak-MiB")
	b.ReportMetric(float64(largest), "largest-payload-bytes")
	b.Logf("users=%d: %s to the gate, %d API calls (AWS floor %d): %s; worker peak RSS %d MiB; largest payload %d bytes",
		users, elapsed.Round(time.Millisecond), total, fewestTotal, strings.Join(parts, ", "), peak>>20, largest)
	return fmt.Sprintf("| %d | %d | %d | %s | %d in all: %s | %d MiB | %d B |", users, len(w.AWS.Groups), len(w.AWS.Assignments),
		elapsed.Round(100*time.Millisecond), total, strings.Join(parts, "; "), peak>>20, largest)
}

// fewestCalls is, for each AWS operation, the fewest calls that read the
// world at the APIs' largest page sizes (100 items a page).
func fewestCalls(w *world.World) map[string]int {
	inv := worldinv.AWS(w)
	pages := func(n int) int { return max(1, (n+99)/100) }
	perTarget := map[string]int{}
	accountsPerSet := map[string]map[string]bool{}
	for _, a := range inv.Assignments {
		perTarget[a.AccountID+"/"+a.PermissionSetARN]++
		if accountsPerSet[a.PermissionSetARN] == nil {
			accountsPerSet[a.PermissionSetARN] = map[string]bool{}
		}
		accountsPerSet[a.PermissionSetARN][a.AccountID] = true
	}
	fewest := map[string]int{
		"sso-admin:ListInstances":         1,
		"sso-admin:ListPermissionSets":    pages(len(inv.PermissionSets)),
		"sso-admin:DescribePermissionSet": len(inv.PermissionSets),
		"identitystore:ListGroups":        pages(len(w.AWS.Groups)),
		"identitystore:ListUsers":         pages(len(w.AWS.Users)),
	}
	for _, ps := range inv.PermissionSets {
		fewest["sso-admin:ListAccountsForProvisionedPermissionSet"] += pages(len(accountsPerSet[ps.ARN]))
	}
	for _, n := range perTarget {
		fewest["sso-admin:ListAccountAssignments"] += pages(n)
	}
	for _, g := range inv.Groups {
		fewest["identitystore:ListGroupMemberships"] += pages(len(g.MemberUserNames))
	}
	return fewest
}

// peakRSS is the most memory the process has held (VmHWM), in bytes.
func peakRSS(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	require.NoError(b, err)
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(b, err)
			return kb << 10
		}
	}
	require.FailNow(b, "no VmHWM in /proc status")
	return 0
}
