package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/workflows"
)

// BenchmarkInventoryResume kills the worker half-way through the AWS
// inventory of the 100,000-user tall organisation (when half of the
// fewest ListAccountAssignments calls have reached the sandbox), starts
// another, and lets Temporal retry the inventory there. The retry resumes
// from the checkpoint the dead attempt sent in its heartbeats. It reports
// the AWS calls both attempts made, counted by the sandbox, against the
// fewest the APIs allow, and fails above 1.1 times the fewest.
func BenchmarkInventoryResume(b *testing.B) {
	for _, users := range []int{100_000} {
		b.Run(fmt.Sprintf("tall/users=%d", users), func(b *testing.B) {
			for b.Loop() {
				benchmarkInventoryResume(b, world.ScaledGenerateOptions(users, 1))
			}
		})
	}
}

func benchmarkInventoryResume(b *testing.B, opts world.GenerateOptions) {
	w := world.Generate(opts)
	e := startEnv(b, w, sandbox.Faults{}, fmt.Sprintf("SSOCUTOVER_AWS_RPS=%d", benchAWSRate), fmt.Sprintf("SSOCUTOVER_GRAPH_RPS=%d", benchGraphRate))
	id := workflows.CutoverWorkflowID(w.AWS.IdentityStoreID)
	fewest := fewestCalls(w, preflight.ListPerPair)
	const listing = "sso-admin:ListAccountAssignments"

	e.starter(b, "start", "-f", e.request(b))
	deadline := time.Now().Add(45 * time.Minute)
	for e.sandbox.AWSCalls()[listing] < fewest[listing]/2 {
		require.True(b, time.Now().Before(deadline), "the listing never got half-way")
		time.Sleep(100 * time.Millisecond)
	}
	atKill := sum(e.sandbox.AWSCalls(), fewest)
	e.crashWorker(b)

	st := e.waitFor(b, id, 45*time.Minute, func(s statusJSON) bool { return s.Gate != nil })
	require.Equal(b, workflows.GatePreflight, st.Gate.Name)
	require.Equal(b, preflight.ListPerPair, st.Preflight.AssignmentListing.Strategy)
	calls := e.sandbox.AWSCalls()
	made, least := sum(calls, fewest), sum(fewest, fewest)
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(fewest)) {
		parts = append(parts, fmt.Sprintf("%s %d (%d)", op, calls[op], fewest[op]))
	}
	extra := float64(made-least) / float64(least)
	b.ReportMetric(float64(made), "aws-calls")
	b.ReportMetric(float64(least), "fewest-aws-calls")
	b.ReportMetric(100*extra, "extra-%")
	b.Logf("%d users, worker killed after %d of the inventory's AWS calls: %d calls in all against %d fewest (%.1f%% more): %s",
		opts.Users, atKill, made, least, 100*extra, strings.Join(parts, ", "))
	require.LessOrEqual(b, float64(made), 1.1*float64(least), "the resumed inventory makes at most 10%% more calls than the fewest")
}

// sum adds up the calls of counts to the operations of ops.
func sum(counts, ops map[string]int) int {
	n := 0
	for op := range ops {
		n += counts[op]
	}
	return n
}
