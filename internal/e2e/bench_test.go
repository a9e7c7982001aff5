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

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/sandbox/worldinv"
	"github.com/platformguide/ssocutover/workflows"
)

// Pacing of the benchmark's worker: per service, as the worker paces
// (apicalls.Pacer). Low enough that the pace, not the machine, bounds the
// time, so the measured time can be set beside the bound the pace gives.
const (
	benchAWSRate   = 100
	benchGraphRate = 50
)

// benchShape is an organisation the benchmark generates.
type benchShape struct {
	name string
	opts world.GenerateOptions
}

// BenchmarkPreflight runs the whole preflight (worker binary, dev server,
// sandbox) on generated organisations of two shapes and reports what the
// README's "Scale" table shows:
//   - tall ones (1,000, 10,000 and 100,000 users with 10% as many groups,
//     assignments on few (account, permission set) pairs) and a wide one
//     (2,000 users, 50 groups, 500 accounts, 20 permission sets, 200
//     assignments a group);
//   - how the inventory listed the assignments, its calls against the
//     fewest each way allows, and a failure when the chosen way is more
//     than 1.1 times the cheaper way's fewest;
//   - time to the preflight gate beside the bound the pacing sets (the
//     slowest AWS service, then Graph), the API calls, the worker's peak
//     memory and the largest payload in history.
//
// `make bench` runs it once per shape; SSOCUTOVER_BENCH_REPORT names a file
// that receives the table in Markdown.
func BenchmarkPreflight(b *testing.B) {
	shapes := []benchShape{
		{"tall", world.ScaledGenerateOptions(1_000, 1)},
		{"tall", world.ScaledGenerateOptions(10_000, 1)},
		{"tall", world.ScaledGenerateOptions(100_000, 1)},
		{"wide", world.WideGenerateOptions(1)},
	}
	var rows []string
	for _, shape := range shapes {
		b.Run(fmt.Sprintf("%s/users=%d", shape.name, shape.opts.Users), func(b *testing.B) {
			for b.Loop() {
				rows = append(rows, benchmarkPreflight(b, shape))
			}
		})
	}
	if path := os.Getenv("SSOCUTOVER_BENCH_REPORT"); path != "" && len(rows) > 0 {
		table := "| shape | users | groups | accounts × permission sets | assignments | assignments listed | listing calls (fewest per pair / per principal) | time to gate | bound by the pace | API calls (fewest possible) | worker peak RSS | largest history payload |\n" +
			"|---|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---:|\n" + strings.Join(rows, "\n") + "\n"
		require.NoError(b, os.WriteFile(path, []byte(table), 0o644))
	}
}

func benchmarkPreflight(b *testing.B, shape benchShape) string {
	w := world.Generate(shape.opts)
	e := startEnv(b, w, sandbox.Faults{}, fmt.Sprintf("SSOCUTOVER_AWS_RPS=%d", benchAWSRate), fmt.Sprintf("SSOCUTOVER_GRAPH_RPS=%d", benchGraphRate))
	id := workflows.CutoverWorkflowID(w.AWS.IdentityStoreID)

	began := time.Now()
	e.starter(b, "start", "-f", e.request(b))
	st := e.waitFor(b, id, 45*time.Minute, func(s statusJSON) bool { return s.Gate != nil })
	elapsed := time.Since(began)

	history := e.temporal(b, "workflow", "show", "--workflow-id", id, "--output", "json")
	largest := largestPayload(b, []byte(history))
	require.Less(b, largest, 256*1024)
	peak := peakRSS(b, e.worker.Process.Pid)
	if shape.opts.Users >= 100_000 {
		require.Less(b, peak, int64(256<<20), "the 100,000-user preflight keeps the worker under 256 MiB")
	}

	calls := st.Preflight.APICalls
	listing := st.Preflight.AssignmentListing
	fewest := fewestCalls(w, listing.Strategy)
	perPair, perPrincipal := fewestListingCalls(w)
	listed := callsTo(calls, "sso-admin:ListAccountAssignments") + callsTo(calls, "sso-admin:ListAccountAssignmentsForPrincipal")
	cheaper := min(perPair, perPrincipal)
	require.LessOrEqual(b, float64(listed), 1.1*float64(cheaper),
		"the assignments were listed %s in %d calls; the cheaper way takes at least %d (per pair %d, per principal %d)", listing.Strategy, listed, cheaper, perPair, perPrincipal)

	total := 0
	var parts []string
	for _, c := range calls {
		total += c.Calls
		part := fmt.Sprintf("%s %d", c.Operation, c.Calls)
		if n, ok := fewest[c.Operation]; ok {
			part += fmt.Sprintf(" (%d)", n)
		}
		parts = append(parts, part)
	}
	bound, serial := paceBound(calls)
	b.ReportMetric(elapsed.Seconds(), "s-to-gate")
	b.ReportMetric(bound.Seconds(), "s-bound")
	b.ReportMetric(float64(total), "api-calls")
	b.ReportMetric(float64(listed), "listing-calls")
	b.ReportMetric(float64(peak)/(1<<20), "worker-peak-MiB")
	b.ReportMetric(float64(largest), "largest-payload-bytes")
	b.Logf("%s, %d users: assignments listed %s (%s) in %d calls (fewest per pair %d, per principal %d); %s to the gate, bound %s (one pace for all AWS: %s); %d API calls: %s; worker peak RSS %d MiB; largest payload %d bytes",
		shape.name, shape.opts.Users, listing.Strategy, listing.Reason, listed, perPair, perPrincipal, elapsed.Round(time.Millisecond), bound, serial,
		total, strings.Join(parts, ", "), peak>>20, largest)
	return fmt.Sprintf("| %s | %d | %d | %d × %d | %d | %s: %s | %d (%d / %d) | %s | %s (%s at one pace for all AWS) | %d in all: %s | %d MiB | %d B |",
		shape.name, shape.opts.Users, len(w.AWS.Groups), len(w.AWS.Accounts), len(w.AWS.PermissionSets), len(w.AWS.Assignments),
		listing.Strategy, listing.Reason, listed, perPair, perPrincipal,
		elapsed.Round(100*time.Millisecond), bound.Round(100*time.Millisecond), serial.Round(100*time.Millisecond),
		total, strings.Join(parts, "; "), peak>>20, largest)
}

// paceBound is the least time the calls can take at the benchmark's pace:
// the AWS inventory reads each AWS service at its own pace, all at once, so
// it takes as long as the slowest service; the Entra inventory follows it
// (it looks up the names the AWS inventory found). serial is the same calls
// at one pace shared by all AWS services, as before services were paced
// each on its own.
func paceBound(calls []apicalls.OperationCount) (bound, serial time.Duration) {
	perService := map[string]int{}
	for _, c := range calls {
		perService[apicalls.Service(c.Operation)] += c.Calls
	}
	seconds := func(n, rate int) time.Duration { return time.Duration(n) * time.Second / time.Duration(rate) }
	slowestAWS, allAWS := 0, 0
	for service, n := range perService {
		if service != "graph" {
			slowestAWS = max(slowestAWS, n)
			allAWS += n
		}
	}
	graph := seconds(perService["graph"], benchGraphRate)
	return seconds(slowestAWS, benchAWSRate) + graph, seconds(allAWS, benchAWSRate) + graph
}

func callsTo(calls []apicalls.OperationCount, operation string) int {
	for _, c := range calls {
		if c.Operation == operation {
			return c.Calls
		}
	}
	return 0
}

// fewestListingCalls are the fewest calls that list every account
// assignment of w per provisioned (account, permission set) pair and per
// principal (every user and group, assigned or not), at 100 a page.
func fewestListingCalls(w *world.World) (perPair, perPrincipal int) {
	inv := worldinv.AWS(w)
	pages := func(n int) int { return max(1, (n+99)/100) }
	byPair, byPrincipal := map[[2]string]int{}, map[string]int{}
	for _, a := range inv.Assignments {
		byPair[[2]string{a.AccountID, a.PermissionSetARN}]++
		byPrincipal[string(a.PrincipalType)+"/"+a.PrincipalName]++
	}
	for _, n := range byPair {
		perPair += pages(n)
	}
	for _, g := range w.AWS.Groups {
		perPrincipal += pages(byPrincipal["GROUP/"+g.DisplayName])
	}
	for _, u := range w.AWS.Users {
		perPrincipal += pages(byPrincipal["USER/"+u.UserName])
	}
	return perPair, perPrincipal
}

// fewestCalls is, for each AWS operation, the fewest calls that read the
// world at the APIs' largest page sizes (100 items a page), listing the
// assignments as listing says.
func fewestCalls(w *world.World, listing string) map[string]int {
	inv := worldinv.AWS(w)
	pages := func(n int) int { return max(1, (n+99)/100) }
	accountsPerSet := map[string]map[string]bool{}
	for _, a := range inv.Assignments {
		if accountsPerSet[a.PermissionSetARN] == nil {
			accountsPerSet[a.PermissionSetARN] = map[string]bool{}
		}
		accountsPerSet[a.PermissionSetARN][a.AccountID] = true
	}
	fewest := map[string]int{
		"sso-admin:ListInstances":         1,
		"sso-admin:ListApplications":      pages(len(inv.Applications)),
		"sso-admin:ListPermissionSets":    pages(len(inv.PermissionSets)),
		"sso-admin:DescribePermissionSet": len(inv.PermissionSets),
		"identitystore:ListGroups":        pages(len(w.AWS.Groups)),
		"identitystore:ListUsers":         pages(len(w.AWS.Users)),
	}
	for _, ps := range inv.PermissionSets {
		fewest["sso-admin:ListAccountsForProvisionedPermissionSet"] += pages(len(accountsPerSet[ps.ARN]))
	}
	perPair, perPrincipal := fewestListingCalls(w)
	if listing == preflight.ListPerPrincipal {
		fewest["sso-admin:ListAccountAssignmentsForPrincipal"] = perPrincipal
	} else {
		fewest["sso-admin:ListAccountAssignments"] = perPair
	}
	for _, app := range inv.Applications {
		fewest["sso-admin:GetApplicationAssignmentConfiguration"]++
		fewest["sso-admin:ListApplicationAssignments"] += pages(len(app.Assignments))
	}
	for _, g := range inv.Groups {
		fewest["identitystore:ListGroupMemberships"] += pages(len(g.MemberUserNames))
	}
	return fewest
}

// peakRSS is the most memory the process has held (VmHWM), in bytes.
func peakRSS(b testing.TB, pid int) int64 {
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
