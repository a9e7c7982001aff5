package identitycenter

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/preflight"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/samlmeta/samlmetatest"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

// snapshotOf takes the preflight's snapshot of the world w serves.
func snapshotOf(t *testing.T, w *awsWorld, sample *world.World) (store.Ref, preflight.AWS) {
	t.Helper()
	res, err := w.a.InventoryAWS(context.Background(), InventoryAWSInput{IdentityStoreID: sample.AWS.IdentityStoreID})
	require.NoError(t, err)
	return res.Inventory, load(t, w.a, res.Inventory)
}

func verify(t *testing.T, w *awsWorld, in VerifyAssignmentsInput) (model.AssignmentVerification, AssignmentReport, error) {
	t.Helper()
	res, err := runActivity[model.AssignmentVerification](t, w, VerifyAssignmentsName, in)
	if err != nil {
		return res, AssignmentReport{}, err
	}
	var report AssignmentReport
	require.NoError(t, w.a.Store.Get(context.Background(), res.Report, &report))
	return res, report, nil
}

// deleteAssignment removes an assignment through sso-admin, as a change of
// identity source may.
func deleteAssignment(t *testing.T, w *awsWorld, instanceARN string, as preflight.Assignment) {
	t.Helper()
	out, err := w.a.SSOAdmin.(*ssoadmin.Client).DeleteAccountAssignment(context.Background(), &ssoadmin.DeleteAccountAssignmentInput{
		InstanceArn: aws.String(instanceARN), TargetId: aws.String(as.AccountID), TargetType: ssotypes.TargetTypeAwsAccount,
		PermissionSetArn: aws.String(as.PermissionSetARN), PrincipalType: ssotypes.PrincipalType(as.PrincipalType), PrincipalId: aws.String(as.PrincipalID),
	})
	require.NoError(t, err)
	require.NotEmpty(t, aws.ToString(out.AccountAssignmentDeletionStatus.RequestId))
}

// someAssignments picks assignments of the snapshot to delete: both of a
// group in one account, the only assignment of a permission set in an
// account (which takes the permission set out of that account), and the
// direct user assignment.
func someAssignments(t *testing.T, snap preflight.AWS) []preflight.Assignment {
	t.Helper()
	var picked []preflight.Assignment
	for _, as := range snap.Assignments {
		if as.PrincipalName == "aws-billing" && as.AccountID == "210987654321" ||
			as.PrincipalName == "aws-admins" && as.AccountID == "432109876543" ||
			as.PrincipalType == preflight.PrincipalUser {
			picked = append(picked, as)
		}
	}
	require.Len(t, picked, 4)
	return picked
}

func TestVerifyRestoresDeletedAssignments(t *testing.T) {
	sample := world.Sample()
	w := startAWS(t, sample, 0)
	ref, snap := snapshotOf(t, w, sample)
	deleted := someAssignments(t, snap)
	for _, as := range deleted {
		deleteAssignment(t, w, snap.InstanceARN, as)
	}

	// Without restore: reported, nothing created.
	res, report, err := verify(t, w, VerifyAssignmentsInput{InstanceARN: snap.InstanceARN, Snapshot: ref})
	require.NoError(t, err)
	require.Equal(t, model.AssignmentVerification{
		IdentityStoreID: sample.AWS.IdentityStoreID,
		GroupsExpected:  6, GroupsPresent: 6, MembersExpected: 18, UsersExpected: len(snap.Users), UsersPresent: len(snap.Users),
		AssignmentsExpected: 20, AssignmentsPresent: 16, AssignmentsMissing: 4,
		ApplicationAssignmentsExpected: 2, ApplicationAssignmentsPresent: 2,
		Report: res.Report, APICalls: res.APICalls,
	}, res)
	require.False(t, res.Complete())
	require.NotContains(t, countsByOperation(res.APICalls), "sso-admin:CreateAccountAssignment")
	require.Len(t, report.Assignments, 4)
	for _, item := range report.Assignments {
		require.Equal(t, OutcomeNotRequested, item.Outcome, "%+v", item)
		require.NotEmpty(t, item.PrincipalID)
	}

	// With restore: created, and the instance is as in the snapshot again.
	res, report, err = verify(t, w, VerifyAssignmentsInput{InstanceARN: snap.InstanceARN, Snapshot: ref, Restore: true})
	require.NoError(t, err)
	require.Equal(t, 4, res.AssignmentsRestored)
	require.Equal(t, 16, res.AssignmentsPresent)
	require.Zero(t, res.AssignmentsMissing)
	require.True(t, res.Complete())
	calls := countsByOperation(res.APICalls)
	require.Equal(t, 4, calls["sso-admin:CreateAccountAssignment"])
	require.Equal(t, 4, calls["sso-admin:DescribeAccountAssignmentCreationStatus"], "each request polled until done")
	var restored []string
	for _, item := range report.Assignments {
		require.Equal(t, OutcomeRestored, item.Outcome, "%+v", item)
		require.NotEmpty(t, item.RequestID)
		restored = append(restored, item.AccountID+" "+item.PermissionSetName+" "+item.PrincipalName)
	}
	require.ElementsMatch(t, []string{
		"210987654321 Billing aws-billing", "210987654321 ReadOnlyAccess aws-billing",
		"432109876543 AdministratorAccess aws-admins", "321098765432 AdministratorAccess dana.okafor@corp.example",
	}, restored)
	_, again := snapshotOf(t, w, sample)
	require.Equal(t, snap, again, "the instance holds the snapshot's assignments again")

	// A second run finds everything and creates nothing.
	res, report, err = verify(t, w, VerifyAssignmentsInput{InstanceARN: snap.InstanceARN, Snapshot: ref, Restore: true})
	require.NoError(t, err)
	require.Zero(t, res.AssignmentsRestored)
	require.Equal(t, 20, res.AssignmentsPresent)
	require.True(t, res.Complete())
	require.Empty(t, report.Assignments)
	require.NotContains(t, countsByOperation(res.APICalls), "sso-admin:CreateAccountAssignment")
}

// TestVerifyAfterTheConsoleSwitch: the console's switch to Entra drops
// every account assignment and gives the identity store a new ID, as AWS
// warns it may; users and groups stay, for Entra to adopt. Verification
// finds the new identity store and restores all of them, once.
func TestVerifyAfterTheConsoleSwitch(t *testing.T) {
	sample := world.Sample()
	w := startAWSWith(t, sample, 0, sandbox.Options{Console: sandbox.ConsoleOptions{ChangeIdentityStoreID: true}})
	ref, snap := snapshotOf(t, w, sample)
	_, err := w.sb.SwitchIdentitySourceToExternal()
	require.NoError(t, err)
	require.NoError(t, w.sb.UploadIdPMetadata(samlmetatest.EntraMetadata(t, sample.Entra.TenantID)))
	require.Empty(t, w.sb.AccountAssignments(), "the switch dropped them")
	require.Empty(t, w.sb.ApplicationAssignments(), "application assignments too")

	// Without restore, the missing application assignments keep the
	// verification from being complete.
	res, _, err := verify(t, w, VerifyAssignmentsInput{InstanceARN: snap.InstanceARN, Snapshot: ref})
	require.NoError(t, err)
	require.Equal(t, 2, res.ApplicationAssignmentsMissing)
	require.False(t, res.Complete())

	res, report, err := verify(t, w, VerifyAssignmentsInput{InstanceARN: snap.InstanceARN, Snapshot: ref, Restore: true})
	require.NoError(t, err)
	require.NotEqual(t, sample.AWS.IdentityStoreID, res.IdentityStoreID)
	require.Equal(t, w.sb.IdentitySource().IdentityStoreID, res.IdentityStoreID)
	require.Equal(t, 20, res.AssignmentsRestored)
	require.Equal(t, 2, res.ApplicationAssignmentsRestored)
	require.Zero(t, res.ApplicationAssignmentsMissing)
	require.True(t, res.Complete(), "%+v", report)
	require.Len(t, w.sb.AccountAssignments(), 20)
	require.Equal(t, []sandbox.ApplicationAssignment{
		{Application: "Grafana", PrincipalType: "GROUP", PrincipalName: "aws-developers"},
		{Application: "Grafana", PrincipalType: "USER", PrincipalName: "dana.okafor@corp.example"},
	}, w.sb.ApplicationAssignments())
	require.Len(t, report.ApplicationAssignments, 2)
	for _, item := range report.ApplicationAssignments {
		require.Equal(t, OutcomeRestored, item.Outcome, "%+v", item)
	}

	res, _, err = verify(t, w, VerifyAssignmentsInput{InstanceARN: snap.InstanceARN, Snapshot: ref, Restore: true})
	require.NoError(t, err)
	require.Zero(t, res.AssignmentsRestored)
	require.Zero(t, res.ApplicationAssignmentsRestored)
	require.Equal(t, 2, res.ApplicationAssignmentsPresent)
	require.Equal(t, 20, res.AssignmentsPresent)
}

// switchedWorld is the sample after the switch to Entra: a new identity
// store, in which provisioning created
//   - aws-developers as "AWS-Developers" (Entra's spelling; a new ID), and
//     it holds no assignments yet;
//   - not aws-billing (not assigned to the enterprise app);
//   - aws-readonly without one of its members, and without that user.
func switchedWorld(t *testing.T) (*world.World, string) {
	t.Helper()
	w := world.Sample()
	w.AWS.IdentityStoreID = "d-9999999999"
	readonly := slices.IndexFunc(w.AWS.Groups, func(g world.AWSGroup) bool { return g.DisplayName == "aws-readonly" })
	gone := w.AWS.Groups[readonly].Members[0]
	var groups []world.AWSGroup
	for _, g := range w.AWS.Groups {
		switch g.DisplayName {
		case "aws-billing":
			continue
		case "aws-developers":
			g.DisplayName = "AWS-Developers"
		}
		g.Members = slices.DeleteFunc(slices.Clone(g.Members), func(m string) bool { return m == gone })
		groups = append(groups, g)
	}
	w.AWS.Groups = groups
	w.AWS.Users = slices.DeleteFunc(w.AWS.Users, func(u world.AWSUser) bool { return u.UserName == gone })
	w.AWS.Assignments = slices.DeleteFunc(w.AWS.Assignments, func(as world.Assignment) bool {
		return as.Group == "aws-billing" || as.Group == "aws-developers" || as.User == gone
	})
	for i := range w.AWS.Applications {
		w.AWS.Applications[i].Assignments = nil // the switch dropped them
	}
	return w, gone
}

func TestVerifyAfterTheSwitchMatchesByNameAndRestoresOnlyWhatExists(t *testing.T) {
	sample := world.Sample()
	before := startAWS(t, sample, 0)
	ref, snap := snapshotOf(t, before, sample)

	after, gone := switchedWorld(t)
	w := startAWS(t, after, 0)
	w.a.Store = before.a.Store
	res, report, err := verify(t, w, VerifyAssignmentsInput{InstanceARN: snap.InstanceARN, Snapshot: ref, Restore: true})
	require.NoError(t, err)

	require.Equal(t, "d-9999999999", res.IdentityStoreID, "the identity store of the instance now, not the snapshot's")
	require.Equal(t, sample.AWS.IdentityStoreID, report.SnapshotIdentityStoreID)
	require.Equal(t, 6, res.GroupsExpected)
	require.Equal(t, 5, res.GroupsPresent, "AWS-Developers is aws-developers")
	require.Equal(t, len(snap.Users)-1, res.UsersPresent)
	require.Equal(t, 3, res.AssignmentsRestored, "the three of AWS-Developers, under its new ID")
	require.Equal(t, 4, res.AssignmentsMissing, "the four of aws-billing")
	require.Equal(t, 20, res.AssignmentsPresent+res.AssignmentsRestored+res.AssignmentsMissing)
	require.False(t, res.Complete())

	require.Len(t, report.MissingGroups, 1)
	require.Equal(t, "aws-billing", report.MissingGroups[0].Name)
	require.Contains(t, report.MissingGroups[0].Reason, "assigned to the enterprise application")
	require.Equal(t, []MissingPrincipal{{Name: gone, Reason: report.MissingUsers[0].Reason}}, report.MissingUsers)
	require.Equal(t, []MissingMembership{{Group: "aws-readonly", UserName: gone, Reason: "the user does not exist (see missingUsers)"}}, report.MissingMemberships)
	require.Equal(t, 2+1, res.MembersMissing, "aws-billing's two members and the one gone from aws-readonly")

	developers := world.StableID("aws-group", "AWS-Developers") // its new ID
	require.NotEqual(t, world.StableID("aws-group", "aws-developers"), developers)
	for _, item := range report.Assignments {
		switch item.PrincipalName {
		case "aws-billing":
			require.Equal(t, OutcomePrincipalMissing, item.Outcome)
			require.Contains(t, item.Reason, "verify again")
			require.Empty(t, item.RequestID, "never created")
		case "aws-developers":
			require.Equal(t, OutcomeRestored, item.Outcome)
			require.Equal(t, developers, item.PrincipalID)
		default:
			t.Fatalf("unexpected item %+v", item)
		}
	}
	require.Equal(t, 3, countsByOperation(res.APICalls)["sso-admin:CreateAccountAssignment"], "nothing created for the missing group")

	// The restored assignments are held by the new group.
	out, err := w.a.SSOAdmin.ListAccountAssignments(context.Background(), &ssoadmin.ListAccountAssignmentsInput{
		InstanceArn: aws.String(snap.InstanceARN), AccountId: aws.String("321098765432"), PermissionSetArn: aws.String(world.PermissionSetARN(snap.InstanceARN, "PowerUserAccess")),
	})
	require.NoError(t, err)
	var holders []string
	for _, as := range out.AccountAssignments {
		holders = append(holders, aws.ToString(as.PrincipalId))
	}
	require.Contains(t, holders, developers)
}

// TestVerifyRestoreAfterALostAnswer: AWS created the assignment but the
// answer was lost and the activity failed; its retry lists first, finds
// the assignment and creates nothing.
func TestVerifyRestoreAfterALostAnswer(t *testing.T) {
	sample := world.Sample()
	w := startAWS(t, sample, 1)
	ref, snap := snapshotOf(t, w, sample)
	deleted := someAssignments(t, snap)[:1]
	deleteAssignment(t, w, snap.InstanceARN, deleted[0])

	w.lose.next("CreateAccountAssignment")
	_, _, err := verify(t, w, VerifyAssignmentsInput{InstanceARN: snap.InstanceARN, Snapshot: ref, Restore: true})
	require.Error(t, err)
	require.Equal(t, []string{"CreateAccountAssignment"}, w.lose.lostOperations())

	res, report, err := verify(t, w, VerifyAssignmentsInput{InstanceARN: snap.InstanceARN, Snapshot: ref, Restore: true})
	require.NoError(t, err)
	require.True(t, res.Complete())
	require.Zero(t, res.AssignmentsRestored, "the first attempt restored it")
	require.Empty(t, report.Assignments)
	require.NotContains(t, countsByOperation(res.APICalls), "sso-admin:CreateAccountAssignment")
}

func TestVerifyRefusesAWrongInstance(t *testing.T) {
	sample := world.Sample()
	w := startAWS(t, sample, 0)
	ref, snap := snapshotOf(t, w, sample)

	other := strings.Replace(snap.InstanceARN, "ssoins-", "ssoins-0", 1)
	_, _, err := verify(t, w, VerifyAssignmentsInput{InstanceARN: other, Snapshot: ref})
	requireNonRetryable(t, err, ErrInvalidRequest, snap.InstanceARN, other)

	moved := snap
	moved.InstanceARN = other
	movedRef, err := w.a.Store.Put(context.Background(), "aws-inventory", moved)
	require.NoError(t, err)
	_, _, err = verify(t, w, VerifyAssignmentsInput{InstanceARN: other, Snapshot: movedRef})
	requireNonRetryable(t, err, ErrInstanceNotFound, other, snap.InstanceARN, "AWS_REGION")

	_, _, err = verify(t, w, VerifyAssignmentsInput{Snapshot: ref})
	requireNonRetryable(t, err, ErrInvalidRequest, "instanceArn")
}

// TestVerifyAtScale: an organisation of 10,000 users (5,000 assignments)
// with a tenth of its assignments gone. One inventory, one create and one
// poll per missing assignment: nothing grows with the product of two sizes.
func TestVerifyAtScale(t *testing.T) {
	generated := world.Generate(world.ScaledGenerateOptions(10_000, 7))
	w := startAWS(t, generated, 0)
	inv, err := w.a.InventoryAWS(context.Background(), InventoryAWSInput{IdentityStoreID: generated.AWS.IdentityStoreID})
	require.NoError(t, err)
	snap := load(t, w.a, inv.Inventory)
	removed := 0
	for i, as := range snap.Assignments {
		if i%10 == 0 && as.PrincipalName != "" {
			deleteAssignment(t, w, snap.InstanceARN, as)
			removed++
		}
	}

	start := time.Now()
	res, _, err := verify(t, w, VerifyAssignmentsInput{InstanceARN: snap.InstanceARN, Snapshot: inv.Inventory, Restore: true})
	require.NoError(t, err)
	t.Logf("verified %d assignments, restored %d, in %s", res.AssignmentsExpected, res.AssignmentsRestored, time.Since(start))
	require.Equal(t, removed, res.AssignmentsRestored)
	require.Zero(t, res.AssignmentsMissing)

	// Attempts are counted, and in a run this long the SDK may send a call
	// again whose keep-alive connection the sandbox closed meanwhile: allow
	// a few. What must not happen is calls growing with a product of sizes.
	calls := countsByOperation(res.APICalls)
	invCalls := countsByOperation(inv.APICalls)
	requireAbout(t, removed, calls["sso-admin:CreateAccountAssignment"], "one create per missing assignment")
	requireAbout(t, removed, calls["sso-admin:DescribeAccountAssignmentCreationStatus"], "one poll per create (the sandbox finishes at once)")
	requireAbout(t, invCalls["identitystore:ListUsers"], calls["identitystore:ListUsers"], "every user read once")
	requireAbout(t, invCalls["identitystore:ListGroups"], calls["identitystore:ListGroups"], "every group read once")
	require.LessOrEqual(t, calls["sso-admin:ListAccountAssignments"], invCalls["sso-admin:ListAccountAssignments"]+3, "every assignment read once")
}

// requireAbout checks a number of calls: want, or a few more for retries.
func requireAbout(t *testing.T, want, got int, what string) {
	t.Helper()
	require.GreaterOrEqual(t, got, want, what)
	require.LessOrEqual(t, got, want+3, what)
}

// TestVerifyFromADelegatedAdministrator: after the switch dropped every
// assignment, a worker in the delegated administrator account restores
// all but those in the management account, which AWS refuses it; each of
// those is reported with the command that creates it there, and counts as
// missing. The inventory, refused the per-principal listing, lists per
// pair.
func TestVerifyFromADelegatedAdministrator(t *testing.T) {
	sample := world.Sample()
	management := sample.AWS.Accounts[0].ID
	sample.AWS.DelegatedAdministrator = sample.AWS.Accounts[1].ID
	w := startAWS(t, sample, 0)
	w.a.listing = preflight.ListPerPrincipal
	ref, snap := snapshotOf(t, w, sample)
	inManagement := 0
	for _, as := range snap.Assignments {
		if as.AccountID == management {
			inManagement++
		}
	}
	require.Positive(t, inManagement, "the sample assigns permission sets in its management account")

	_, err := w.sb.SwitchIdentitySourceToExternal()
	require.NoError(t, err)
	require.NoError(t, w.sb.UploadIdPMetadata(samlmetatest.EntraMetadata(t, sample.Entra.TenantID)))
	require.Empty(t, w.sb.AccountAssignments(), "the switch dropped them")

	res, report, err := verify(t, w, VerifyAssignmentsInput{InstanceARN: snap.InstanceARN, Snapshot: ref, Restore: true})
	require.NoError(t, err, "one account's refusals do not fail the restore")
	require.Equal(t, len(snap.Assignments)-inManagement, res.AssignmentsRestored)
	require.Equal(t, inManagement, res.AssignmentsMissing)
	require.Len(t, res.AssignmentsRefused, inManagement)
	for _, item := range report.Assignments {
		if item.AccountID != management {
			require.Equal(t, OutcomeRestored, item.Outcome, "%+v", item)
			continue
		}
		require.Equal(t, OutcomeRefused, item.Outcome, "%+v", item)
		require.Contains(t, item.Reason, "management account")
		require.Equal(t, "aws sso-admin create-account-assignment --instance-arn "+snap.InstanceARN+" --target-id "+management+
			" --target-type AWS_ACCOUNT --permission-set-arn "+item.PermissionSetARN+" --principal-type "+string(item.PrincipalType)+" --principal-id "+item.PrincipalID,
			item.Command)
		require.Contains(t, res.AssignmentsRefused, item.Command)
	}
	require.Len(t, w.sb.AccountAssignments(), len(snap.Assignments)-inManagement)
}
