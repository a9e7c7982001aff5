package world_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/sandbox/worldinv"
)

func analyze(w *world.World) preflight.Report {
	aws := worldinv.AWS(w)
	return preflight.Analyze(aws, worldinv.Entra(w, aws))
}

// findingCounts counts a report's findings by code and severity.
func findingCounts(r preflight.Report) map[preflight.CodeCount]int {
	counts := map[preflight.CodeCount]int{}
	for _, f := range r.Findings {
		counts[preflight.CodeCount{Code: f.Code, Severity: f.Severity}]++
	}
	return counts
}

func mediumOptions(seed int64) world.GenerateOptions {
	return world.GenerateOptions{
		Users: 2000, Groups: 200, Accounts: 20, PermissionSets: 8, AssignmentsPerGroup: 3,
		DirectUserAssignments: 10, ProblemRate: 0.02, Seed: seed,
	}
}

func TestGenerateIsDeterministicFromTheSeed(t *testing.T) {
	first, err := json.Marshal(world.Generate(mediumOptions(7)))
	require.NoError(t, err)
	again, err := json.Marshal(world.Generate(mediumOptions(7)))
	require.NoError(t, err)
	require.Equal(t, first, again, "the same options must give the same world, byte for byte")

	other, err := json.Marshal(world.Generate(mediumOptions(8)))
	require.NoError(t, err)
	require.NotEqual(t, first, other, "another seed must give another world")
}

func TestGenerateMakesAValidWorldOfTheRequestedSize(t *testing.T) {
	opts := mediumOptions(1)
	w := world.Generate(opts)
	require.NoError(t, w.Validate())

	// The JSON round trip (Parse refuses unknown fields and validates) works.
	data, err := json.Marshal(w)
	require.NoError(t, err)
	parsed, err := world.Parse(data)
	require.NoError(t, err)
	require.Equal(t, w, parsed)

	require.Len(t, w.AWS.Users, opts.Users)
	require.Len(t, w.AWS.Groups, opts.Groups)
	require.Len(t, w.AWS.Accounts, opts.Accounts)
	require.Len(t, w.AWS.PermissionSets, opts.PermissionSets)
	require.Len(t, w.AWS.Assignments, opts.Groups*opts.AssignmentsPerGroup+opts.DirectUserAssignments)
	for _, a := range w.AWS.Accounts {
		require.Regexp(t, `^[1-9][0-9]{11}$`, a.ID)
	}
	require.Equal(t, "prod", w.AWS.Accounts[0].Name)
	require.Equal(t, "AdministratorAccess", w.AWS.PermissionSets[0].Name)
	for _, u := range w.AWS.Users {
		require.Regexp(t, `^[a-z]+\.[a-z]+[0-9]*@corp\.example$`, u.UserName)
	}
}

// TestGeneratePlantsEveryProblemKindAndTheAnalysisFindsIt checks the
// counts GenerateOptions documents: round(rate × groups) groups of each
// group kind, round(rate × users) users of each user kind, and nothing else
// but the user-assignment warnings of the direct assignments.
func TestGeneratePlantsEveryProblemKindAndTheAnalysisFindsIt(t *testing.T) {
	opts := mediumOptions(11) // 200 groups and 2,000 users at 2%: 4 groups and 40 users of each kind
	w := world.Generate(opts)
	require.NoError(t, w.Validate())

	perGroupKind, perUserKind := 4, 40
	require.Equal(t, map[preflight.CodeCount]int{
		{Code: preflight.MissingGroup, Severity: preflight.Blocker}:            perGroupKind,
		{Code: preflight.AmbiguousGroup, Severity: preflight.Blocker}:          perGroupKind,
		{Code: preflight.GroupNotSecurityEnabled, Severity: preflight.Blocker}: perGroupKind,
		{Code: preflight.GroupWithoutOwner, Severity: preflight.Warning}:       perGroupKind,
		{Code: preflight.NestedGroup, Severity: preflight.Blocker}:             perGroupKind,
		{Code: preflight.UserNotInEntra, Severity: preflight.Blocker}:          perUserKind,
		{Code: preflight.DuplicateEmail, Severity: preflight.Blocker}:          perUserKind,
		{Code: preflight.MissingAttribute, Severity: preflight.Blocker}:        perUserKind,
		{Code: preflight.InvalidCharacter, Severity: preflight.Blocker}:        perUserKind,
		{Code: preflight.UserAssignment, Severity: preflight.Warning}:          opts.DirectUserAssignments,
	}, findingCounts(analyze(w)))
}

func TestGenerateWithASmallRatePlantsAtLeastOneOfEachKind(t *testing.T) {
	w := world.Generate(world.GenerateOptions{
		Users: 60, Groups: 12, Accounts: 3, PermissionSets: 4, AssignmentsPerGroup: 2, ProblemRate: 0.001, Seed: 5,
	})
	require.NoError(t, w.Validate())
	codes := map[preflight.Code]bool{}
	for _, f := range analyze(w).Findings {
		codes[f.Code] = true
	}
	for _, c := range []preflight.Code{
		preflight.MissingGroup, preflight.AmbiguousGroup, preflight.GroupNotSecurityEnabled, preflight.GroupWithoutOwner,
		preflight.NestedGroup, preflight.UserNotInEntra, preflight.DuplicateEmail, preflight.MissingAttribute,
		preflight.InvalidCharacter,
	} {
		require.True(t, codes[c], "no %s finding in %v", c, codes)
	}
}

func TestGenerateWithoutProblemsIsClean(t *testing.T) {
	opts := mediumOptions(21)
	opts.ProblemRate, opts.DirectUserAssignments = 0, 0
	w := world.Generate(opts)
	require.NoError(t, w.Validate())
	require.Empty(t, analyze(w).Findings)

	// Direct user assignments alone give user-assignment warnings only.
	opts.DirectUserAssignments = 5
	require.Equal(t, map[preflight.CodeCount]int{
		{Code: preflight.UserAssignment, Severity: preflight.Warning}: 5,
	}, findingCounts(analyze(world.Generate(opts))))
}

func TestGenerateRaisesZeroSizesToOne(t *testing.T) {
	w := world.Generate(world.GenerateOptions{})
	require.NoError(t, w.Validate())
	require.Len(t, w.AWS.Users, 1)
	require.Len(t, w.AWS.Groups, 1)
	require.Len(t, w.AWS.Assignments, 1)
	require.Empty(t, analyze(w).Findings)
}

// TestGenerateAtTheDesignScale generates the largest organisation the design
// budgets for and analyses it. How long that takes is BenchmarkGenerate's
// to say (about 1.5 s on an idle machine), not a test's: shared machines
// are noisy.
func TestGenerateAtTheDesignScale(t *testing.T) {
	opts := world.ScaledGenerateOptions(100_000, 1)
	w := world.Generate(opts)
	require.Len(t, w.AWS.Users, 100_000)
	require.Len(t, w.AWS.Groups, 10_000)
	require.Len(t, w.AWS.Accounts, 1_000)
	require.Len(t, w.AWS.Assignments, 50_000+100)
	require.NoError(t, w.Validate())

	// Group sizes have a long tail: a few groups are large, most are small.
	large, small := 0, 0
	for _, g := range w.AWS.Groups {
		switch {
		case len(g.Members) > 1000:
			large++
		case len(g.Members) <= 10:
			small++
		}
	}
	require.GreaterOrEqual(t, large, 10, "groups with more than 1,000 members")
	require.Greater(t, small, len(w.AWS.Groups)/2, "groups with at most 10 members")

	report := analyze(w)
	require.Equal(t, 100_000/10, report.Stats.Groups)
	require.NotEmpty(t, report.Findings)
}

func BenchmarkGenerate(b *testing.B) {
	for _, users := range []int{1_000, 10_000, 100_000} {
		opts := world.ScaledGenerateOptions(users, 1)
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				world.Generate(opts)
			}
		})
	}
}

// TestGenerateAWideWorld: the wide shape has more provisioned pairs than
// principals, so its inventory lists per principal.
func TestGenerateAWideWorld(t *testing.T) {
	w := world.Generate(world.WideGenerateOptions(1))
	require.NoError(t, w.Validate())
	require.Len(t, w.AWS.Users, 2_000)
	require.Len(t, w.AWS.Groups, 50)
	require.Len(t, w.AWS.Accounts, 500)
	require.Len(t, w.AWS.Assignments, 50*200+20)
	pairs := map[[2]string]bool{}
	for _, a := range w.AWS.Assignments {
		pairs[[2]string{a.Account, a.PermissionSet}] = true
	}
	require.Greater(t, len(pairs), 3*(2_000+50), "several times more pairs than principals")
}
