package readiness

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The README's "Running a cutover" lists the permissions a worker needs;
// the check checks the same, no more and no fewer.
func TestTheChecksCheckWhatTheREADMELists(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	readme := string(data)
	start := strings.Index(readme, "## Running a cutover")
	end := strings.Index(readme[start:], "   - A store for inventories")
	require.True(t, start >= 0 && end > 0, "the README's worker requirements moved")
	section := readme[start : start+end]

	var listed []string
	for _, m := range regexp.MustCompile("`((?:sso|identitystore|iam|secretsmanager):[A-Za-z]+)`").FindAllStringSubmatch(section, -1) {
		listed = append(listed, m[1])
	}
	// Optional: the per-principal listing falls back without it, and the
	// simulation is what the check itself uses.
	optional := []string{"sso:ListAccountAssignmentsForPrincipal", "iam:SimulatePrincipalPolicy"}
	var checked []string
	for _, a := range AWSActions {
		checked = append(checked, a.Name)
	}
	listed = slices.DeleteFunc(slices.Compact(slices.Sorted(slices.Values(listed))), func(a string) bool { return slices.Contains(optional, a) })
	require.Equal(t, slices.Sorted(slices.Values(checked)), listed)

	for _, p := range GraphPermissions {
		require.Contains(t, section, "`"+p.Name+"`")
	}
}
