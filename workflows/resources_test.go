package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/model"
)

// Application assignments count in the verification's line and in
// whether it is complete (the confirm-sign-in gate's "missing" rule).
func TestVerificationCountsApplicationAssignments(t *testing.T) {
	v := model.AssignmentVerification{GroupsExpected: 1, GroupsPresent: 1, UsersExpected: 2, UsersPresent: 2, AssignmentsExpected: 3, AssignmentsPresent: 3,
		ApplicationAssignmentsExpected: 2, ApplicationAssignmentsPresent: 1, ApplicationAssignmentsMissing: 1}
	require.False(t, v.Complete(), "a missing application assignment is missing")
	require.Contains(t, VerificationLine(&Resources{Verification: &v}), "application assignments 1 of 2 present (0 restored by the cutover)")

	v.ApplicationAssignmentsMissing, v.ApplicationAssignmentsRestored = 0, 1
	require.True(t, v.Complete())
	require.Contains(t, VerificationLine(&Resources{Verification: &v}), "application assignments 2 of 2 present (1 restored by the cutover)")

	none := model.AssignmentVerification{AssignmentsExpected: 1, AssignmentsPresent: 1}
	require.NotContains(t, VerificationLine(&Resources{Verification: &none}), "application", "an instance without applications says nothing of them")
}
