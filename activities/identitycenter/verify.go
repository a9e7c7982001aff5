package identitycenter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/preflight"
	"golang.org/x/sync/errgroup"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/progress"
)

// AssignmentReportKind is the store kind of the report VerifyAssignments
// writes.
const AssignmentReportKind = "assignment-report"

// AssignmentReport lists every difference between the snapshot and the
// instance after provisioning, and what VerifyAssignments did about each.
// Principals are compared by name, as Entra adopts them: groups by display
// name, users by userName, both without regard to case.
type AssignmentReport struct {
	InstanceARN string `json:"instanceArn"`
	// IdentityStoreID is the instance's identity store now;
	// SnapshotIdentityStoreID the one the snapshot was taken of.
	IdentityStoreID         string `json:"identityStoreId"`
	SnapshotIdentityStoreID string `json:"snapshotIdentityStoreId"`
	Restore                 bool   `json:"restore"`

	MissingGroups      []MissingPrincipal  `json:"missingGroups"`
	MissingUsers       []MissingPrincipal  `json:"missingUsers"`
	MissingMemberships []MissingMembership `json:"missingMemberships"`
	// Assignments are the snapshot's assignments that were missing, each
	// with what became of it.
	Assignments []AssignmentItem `json:"assignments"`
	// ApplicationAssignments are the snapshot's application assignments
	// that were missing, each with what became of it.
	ApplicationAssignments []ApplicationAssignmentItem `json:"applicationAssignments"`
	// Unverifiable are snapshot assignments whose principal had no name
	// already in the snapshot (deleted, the assignment left behind): no
	// name, nothing to match, nothing to restore.
	Unverifiable []preflight.Assignment `json:"unverifiable,omitempty"`
}

// MissingPrincipal is a group or user of the snapshot not found now.
type MissingPrincipal struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
	// Members is how many snapshot members a missing group had; they are
	// counted as missing memberships, not listed one by one.
	Members int `json:"members,omitempty"`
}

// MissingMembership is a snapshot member of a group that exists now but
// does not have that member.
type MissingMembership struct {
	Group    string `json:"group"`
	UserName string `json:"userName"`
	Reason   string `json:"reason"`
}

// AssignmentOutcome says what became of a missing assignment.
type AssignmentOutcome string

// The outcomes. Only OutcomeRestored leaves the assignment present.
const (
	OutcomeRestored             AssignmentOutcome = "restored"
	OutcomeNotRequested         AssignmentOutcome = "not-requested"
	OutcomePrincipalMissing     AssignmentOutcome = "principal-missing"
	OutcomePrincipalAmbiguous   AssignmentOutcome = "principal-ambiguous"
	OutcomePermissionSetMissing AssignmentOutcome = "permission-set-missing"
	OutcomeFailed               AssignmentOutcome = "failed"
	// OutcomeRefused: AWS refused the creation to the worker's account,
	// as it refuses a delegated administrator every assignment in the
	// management account. Command creates it from the management account.
	OutcomeRefused AssignmentOutcome = "refused"
)

// ApplicationAssignmentItem is a snapshot application assignment that was
// missing, with what became of it.
type ApplicationAssignmentItem struct {
	Application    string                  `json:"application"`
	ApplicationARN string                  `json:"applicationArn"`
	PrincipalType  preflight.PrincipalType `json:"principalType"`
	PrincipalName  string                  `json:"principalName"`
	PrincipalID    string                  `json:"principalId,omitempty"`
	Outcome        AssignmentOutcome       `json:"outcome"`
	Reason         string                  `json:"reason"`
}

// AssignmentItem is a snapshot assignment that was missing.
type AssignmentItem struct {
	AccountID         string                  `json:"accountId"`
	PermissionSetARN  string                  `json:"permissionSetArn"`
	PermissionSetName string                  `json:"permissionSetName"`
	PrincipalType     preflight.PrincipalType `json:"principalType"`
	PrincipalName     string                  `json:"principalName"`
	// PrincipalID is the principal's ID now, when exactly one has the name.
	PrincipalID string            `json:"principalId,omitempty"`
	Outcome     AssignmentOutcome `json:"outcome"`
	Reason      string            `json:"reason"`
	// RequestID is the CreateAccountAssignment request, when one was made.
	RequestID string `json:"requestId,omitempty"`
	// Command is the AWS CLI command that creates the assignment, for a
	// person to run where the worker was refused (OutcomeRefused).
	Command string `json:"command,omitempty"`
}

// restoreIAMActions are what restoring assignments needs beyond the
// inventory's read actions.
var restoreIAMActions = []string{"sso:CreateAccountAssignment", "sso:DescribeAccountAssignmentCreationStatus", "sso:CreateApplicationAssignment"}

// Polling of an assignment creation: AWS creates it asynchronously, usually
// within seconds.
const (
	firstPollDelay = 250 * time.Millisecond
	maxPollDelay   = 5 * time.Second
)

// VerifyAssignments compares the instance, after the switch and
// provisioning, with the snapshot the preflight took, and with Restore
// creates the snapshot's missing account assignments whose principal exists
// again. It never deletes anything.
//
// It reads the instance once (the inventory's paging: permission sets,
// accounts, assignments, every group and user, the members of the
// snapshot's groups) and compares by name through maps, so 50,000
// assignments cost their list calls and no more. A retry lists again before
// it creates, so an assignment created by an earlier attempt is found
// present and not created twice (AWS would also accept it as a no-op).
func (a *Activities) VerifyAssignments(ctx context.Context, in VerifyAssignmentsInput) (model.AssignmentVerification, error) {
	if in.InstanceARN == "" || in.Snapshot.Key == "" {
		return model.AssignmentVerification{}, temporal.NewNonRetryableApplicationError(
			"instanceArn and snapshot are required: the workflow passes the instance and the AWS inventory of the preflight; this is a bug in the caller", ErrInvalidRequest, nil)
	}
	var snap preflight.AWS
	if err := a.Store.Get(ctx, in.Snapshot, &snap); err != nil {
		return model.AssignmentVerification{}, fmt.Errorf("read the AWS snapshot taken before the switch: %w", err)
	}
	if snap.InstanceARN != in.InstanceARN {
		return model.AssignmentVerification{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the snapshot %s is of instance %s, not %s: pass the snapshot of this instance's preflight", in.Snapshot.Key, snap.InstanceARN, in.InstanceARN),
			ErrInvalidRequest, nil)
	}

	counter := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, counter)
	v := &verifyRun{
		a: a, in: in, snap: &snap,
		r: &inventoryRun{a: a, in: InventoryAWSInput{InstanceARN: in.InstanceARN}, region: a.region(), progress: progress.New(ctx, a.onProgress)},
	}
	if err := v.run(ctx); err != nil {
		return model.AssignmentVerification{}, err
	}
	ref, err := a.Store.Put(ctx, AssignmentReportKind, v.report)
	if err != nil {
		return model.AssignmentVerification{}, fmt.Errorf("store the assignment report: %w", err)
	}
	v.result.Report = ref
	v.result.APICalls = counter.Counts()
	activityLogger(ctx).Info("Verified the account assignments against the snapshot", "IdentityStoreID", v.result.IdentityStoreID,
		"AssignmentsExpected", v.result.AssignmentsExpected, "AssignmentsRestored", v.result.AssignmentsRestored,
		"AssignmentsMissing", v.result.AssignmentsMissing, "Report", ref.Key)
	return v.result, nil
}

// verifyRun is one run of VerifyAssignments.
type verifyRun struct {
	a    *Activities
	in   VerifyAssignmentsInput
	snap *preflight.AWS
	// r reads the instance with the inventory's code; its identity store
	// is set once looked up.
	r *inventoryRun

	now    *instanceNow
	report AssignmentReport
	result model.AssignmentVerification
}

// instanceNow is the instance as it is now, indexed by name.
type instanceNow struct {
	groupsByName map[string][]string // folded display name -> group IDs
	groupName    map[string]string   // group ID -> display name
	usersByName  map[string][]string // folded userName -> user IDs
	userName     map[string]string   // user ID -> userName
	// permissionSets are the instance's permission sets by ARN.
	permissionSets map[string]bool
	// present are the assignments by name; an assignment of a principal
	// that no longer exists is not among them.
	present map[assignmentKey]bool
	// applications are the application assignments by name, by
	// application ARN.
	applications map[string]map[appAssignmentKey]bool
}

// nameOf is the name of the group or user id now; ok is false for a
// principal that no longer exists (an assignment left behind).
func (d *instanceNow) nameOf(principalType preflight.PrincipalType, id string) (name string, ok bool) {
	if principalType == preflight.PrincipalGroup {
		name, ok = d.groupName[id]
	} else {
		name, ok = d.userName[id]
	}
	return name, ok
}

// appAssignmentKey identifies an application assignment of one
// application by its principal's name.
type appAssignmentKey struct {
	principalType preflight.PrincipalType
	principalName string // folded
}

// assignmentKey identifies an assignment by its principal's name.
type assignmentKey struct {
	accountID        string
	permissionSetARN string
	principalType    preflight.PrincipalType
	principalName    string // folded
}

// fold is how names are compared. Identity Center treats userName and group
// displayName as case-insensitive (its SCIM schema says caseExact false,
// and a second user whose name differs only in case is a duplicate), and
// Entra matches them the same way.
func fold(name string) string { return strings.ToLower(name) }

func (v *verifyRun) run(ctx context.Context) error {
	storeID, err := v.identityStoreNow(ctx)
	if err != nil {
		return err
	}
	v.r.in.IdentityStoreID = storeID
	v.report = AssignmentReport{
		InstanceARN: v.in.InstanceARN, IdentityStoreID: storeID, SnapshotIdentityStoreID: v.snap.IdentityStoreID, Restore: v.in.Restore,
		MissingGroups: []MissingPrincipal{}, MissingUsers: []MissingPrincipal{}, MissingMemberships: []MissingMembership{}, Assignments: []AssignmentItem{}, ApplicationAssignments: []ApplicationAssignmentItem{},
	}
	v.result.IdentityStoreID = storeID
	if v.now, err = v.readInstance(ctx); err != nil {
		return err
	}
	v.compareUsers()
	if err := v.compareGroups(ctx); err != nil {
		return err
	}
	if err := v.compareAssignments(ctx); err != nil {
		return err
	}
	return v.compareApplicationAssignments(ctx)
}

// identityStoreNow looks up the identity store of the instance: switching
// the identity source may have given it a new one.
func (v *verifyRun) identityStoreNow(ctx context.Context) (string, error) {
	part := v.r.progress.Begin("instance", 1)
	defer part.End()
	instances, err := v.r.instances(ctx)
	if err != nil {
		return "", err
	}
	var seen []string
	for _, inst := range instances {
		if aws.ToString(inst.InstanceArn) == v.in.InstanceARN {
			part.Add(1)
			return aws.ToString(inst.IdentityStoreId), nil
		}
		seen = append(seen, fmt.Sprintf("%s (identity store %s)", aws.ToString(inst.InstanceArn), aws.ToString(inst.IdentityStoreId)))
	}
	return "", temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("instance %s was not found in region %q (instances found: %s): check instanceArn in the cutover request and the worker's region (AWS_REGION)",
			v.in.InstanceARN, v.r.region, describeInstances(seen)),
		ErrInstanceNotFound, nil)
}

// readInstance reads the instance now: its permission sets and
// assignments, and every group and user of its identity store by name. The
// assignments are listed the cheaper way, as the inventory lists them.
func (v *verifyRun) readInstance(ctx context.Context) (*instanceNow, error) {
	r := v.r
	var (
		pairs provisioned
		dir   directory
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { pairs, err = r.provisioned(gctx, v.in.InstanceARN); return err })
	g.Go(func() (err error) { dir, err = r.directory(gctx); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	listing := chooseListing(len(pairs.targets), len(dir.groupIDs)+len(dir.userIDs), v.a.listing)
	ignore := func(context.Context, string) error { return nil }
	assignments, _, err := r.listAssignments(ctx, pairs, dir, listing, resumedListing{}, ignore)
	if err != nil {
		return nil, err
	}
	apps, err := r.applications(ctx, pairs.instanceARN, ignore)
	if err != nil {
		return nil, err
	}

	d := &instanceNow{
		applications: make(map[string]map[appAssignmentKey]bool, len(apps)),
		groupsByName: map[string][]string{}, groupName: dir.groupNames,
		usersByName: map[string][]string{}, userName: make(map[string]string, len(dir.users)),
		permissionSets: make(map[string]bool, len(pairs.permissionSets)), present: make(map[assignmentKey]bool, len(assignments)),
	}
	for _, ps := range pairs.permissionSets {
		d.permissionSets[ps.ARN] = true
	}
	for _, id := range dir.groupIDs {
		name := dir.groupNames[id]
		d.groupsByName[fold(name)] = append(d.groupsByName[fold(name)], id)
	}
	for _, id := range dir.userIDs {
		name := dir.users[id].UserName
		d.userName[id] = name
		d.usersByName[fold(name)] = append(d.usersByName[fold(name)], id)
	}

	for _, as := range assignments {
		key := assignmentKey{accountID: aws.ToString(as.AccountId), permissionSetARN: aws.ToString(as.PermissionSetArn), principalType: preflight.PrincipalType(as.PrincipalType)}
		if name, ok := d.nameOf(key.principalType, aws.ToString(as.PrincipalId)); ok {
			key.principalName = fold(name)
			d.present[key] = true
		}
	}
	for _, app := range apps {
		present := make(map[appAssignmentKey]bool, len(app.assignments))
		for _, as := range app.assignments {
			key := appAssignmentKey{principalType: preflight.PrincipalType(as.PrincipalType)}
			if name, ok := d.nameOf(key.principalType, aws.ToString(as.PrincipalId)); ok {
				key.principalName = fold(name)
				present[key] = true
			}
		}
		d.applications[app.arn] = present
	}
	return d, nil
}

// compareUsers finds the snapshot's users by userName.
func (v *verifyRun) compareUsers() {
	v.result.UsersExpected = len(v.snap.Users)
	for _, u := range v.snap.Users {
		switch ids := v.now.usersByName[fold(u.UserName)]; len(ids) {
		case 1:
			v.result.UsersPresent++
		case 0:
			v.report.MissingUsers = append(v.report.MissingUsers, MissingPrincipal{Name: u.UserName, Reason: fmt.Sprintf(
				"no user with this userName in identity store %s: provisioning has not created it. In Entra ID, check that the user is a direct member of a group assigned to the enterprise application (or assigned itself) and that its provisioning did not fail (provisioning logs)", v.report.IdentityStoreID)})
		default:
			v.report.MissingUsers = append(v.report.MissingUsers, MissingPrincipal{Name: u.UserName, Reason: ambiguous("users", ids)})
		}
	}
}

func ambiguous(kind string, ids []string) string {
	return fmt.Sprintf("%d %s have this name when case is ignored (%s): rename or remove all but one in Entra ID, then verify again", len(ids), kind, strings.Join(ids, ", "))
}

// compareGroups finds the snapshot's groups by display name and lists the
// members of those found, to find the snapshot's memberships.
func (v *verifyRun) compareGroups(ctx context.Context) error {
	v.result.GroupsExpected = len(v.snap.Groups)
	var found []preflight.AWSGroup // snapshot groups that exist now
	var foundIDs []string          // their IDs now
	for _, g := range v.snap.Groups {
		v.result.MembersExpected += len(g.MemberUserNames)
		switch ids := v.now.groupsByName[fold(g.DisplayName)]; len(ids) {
		case 1:
			v.result.GroupsPresent++
			found = append(found, g)
			foundIDs = append(foundIDs, ids[0])
		case 0:
			v.result.MembersMissing += len(g.MemberUserNames)
			v.report.MissingGroups = append(v.report.MissingGroups, MissingPrincipal{Name: g.DisplayName, Members: len(g.MemberUserNames), Reason: fmt.Sprintf(
				"no group with this display name in identity store %s: provisioning has not created it. In Entra ID, check that the group is assigned to the enterprise application, is security-enabled, and that its provisioning did not fail", v.report.IdentityStoreID)})
		default:
			v.result.MembersMissing += len(g.MemberUserNames)
			v.report.MissingGroups = append(v.report.MissingGroups, MissingPrincipal{Name: g.DisplayName, Members: len(g.MemberUserNames), Reason: ambiguous("groups", ids)})
		}
	}

	lister := newMemberLister(v.r, nil)
	if err := lister.listEach(ctx, "memberships", foundIDs); err != nil {
		return err
	}
	members := lister.members
	for i, g := range found {
		has := make(map[string]bool, len(members[foundIDs[i]]))
		for _, id := range members[foundIDs[i]] {
			has[fold(v.now.userName[id])] = true
		}
		for _, name := range g.MemberUserNames {
			if has[fold(name)] {
				continue
			}
			v.result.MembersMissing++
			reason := "the user exists but is not a member of the group: in Entra ID, check that the user is a direct member (nested groups are not provisioned)"
			if len(v.now.usersByName[fold(name)]) == 0 {
				reason = "the user does not exist (see missingUsers)"
			}
			v.report.MissingMemberships = append(v.report.MissingMemberships, MissingMembership{Group: g.DisplayName, UserName: name, Reason: reason})
		}
	}
	return nil
}

// compareAssignments finds the snapshot's assignments by name and, with
// Restore, creates the missing ones whose principal exists.
func (v *verifyRun) compareAssignments(ctx context.Context) error {
	var restorable []int // indexes into report.Assignments
	seen := make(map[assignmentKey]bool, len(v.snap.Assignments))
	for _, as := range v.snap.Assignments {
		if as.PrincipalName == "" {
			v.report.Unverifiable = append(v.report.Unverifiable, as)
			continue
		}
		key := assignmentKey{accountID: as.AccountID, permissionSetARN: as.PermissionSetARN, principalType: as.PrincipalType, principalName: fold(as.PrincipalName)}
		if seen[key] {
			continue // two principals whose names differ only in case: one assignment by name
		}
		seen[key] = true
		v.result.AssignmentsExpected++
		if v.now.present[key] {
			v.result.AssignmentsPresent++
			continue
		}
		item := v.missingAssignment(as)
		if item.Outcome == OutcomeNotRequested && v.in.Restore {
			restorable = append(restorable, len(v.report.Assignments))
		}
		v.report.Assignments = append(v.report.Assignments, item)
	}

	v.r.progress.Start("restore", len(restorable))
	err := progress.ForEach(ctx, v.a.concurrency(), len(restorable), func(ctx context.Context, i int) error {
		item := &v.report.Assignments[restorable[i]] // each goroutine has its own item
		err := v.restore(ctx, item)
		v.r.progress.Add(1)
		return err
	})
	if err != nil {
		return err
	}
	if err := v.refusedEverywhere(restorable); err != nil {
		return err
	}
	for _, item := range v.report.Assignments {
		switch item.Outcome {
		case OutcomeRestored:
			v.result.AssignmentsRestored++
		case OutcomeRefused:
			v.result.AssignmentsRefused = append(v.result.AssignmentsRefused, item.Command)
		}
	}
	v.result.AssignmentsMissing = v.result.AssignmentsExpected - v.result.AssignmentsPresent - v.result.AssignmentsRestored
	return nil
}

// missingAssignment says whether a missing assignment can be restored: its
// permission set and exactly one principal of its name exist. Such an item
// is OutcomeNotRequested until restore makes it OutcomeRestored or
// OutcomeFailed.
func (v *verifyRun) missingAssignment(as preflight.Assignment) AssignmentItem {
	item := AssignmentItem{
		AccountID: as.AccountID, PermissionSetARN: as.PermissionSetARN, PermissionSetName: as.PermissionSetName,
		PrincipalType: as.PrincipalType, PrincipalName: as.PrincipalName,
	}
	if !v.now.permissionSets[as.PermissionSetARN] {
		item.Outcome = OutcomePermissionSetMissing
		item.Reason = fmt.Sprintf("permission set %s (%s) no longer exists in the instance: recreate it (a new one has a new ARN, so assign it by hand), or accept the loss", as.PermissionSetName, as.PermissionSetARN)
	} else {
		item.PrincipalID, item.Outcome, item.Reason = v.principalNow(as.PrincipalType, as.PrincipalName)
	}
	return item
}

// restore creates one assignment and waits until AWS has finished.
func (v *verifyRun) restore(ctx context.Context, item *AssignmentItem) error {
	what := fmt.Sprintf("create the assignment of %s %q to permission set %s in account %s", strings.ToLower(string(item.PrincipalType)), item.PrincipalName, item.PermissionSetName, item.AccountID)
	out, err := v.a.SSOAdmin.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{
		InstanceArn:      aws.String(v.in.InstanceARN),
		TargetId:         aws.String(item.AccountID),
		TargetType:       ssotypes.TargetTypeAwsAccount,
		PermissionSetArn: aws.String(item.PermissionSetARN),
		PrincipalType:    ssotypes.PrincipalType(item.PrincipalType),
		PrincipalId:      aws.String(item.PrincipalID),
	})
	if isAccessDenied(err) {
		// One refusal does not stop the others: from a delegated
		// administrator account AWS refuses every assignment in the
		// management account, and only there.
		item.Outcome = OutcomeRefused
		item.Reason = fmt.Sprintf("AWS refused the creation to the worker's account (%s). A delegated administrator may not assign permission sets in the organisation's management account: run the command with the management account's credentials, then verify again", errorMessage(err))
		item.Command = createAssignmentCommand(v.in.InstanceARN, *item)
		return nil
	}
	if err != nil {
		return v.restoreError(err, what)
	}
	status, err := v.awaitCreation(ctx, out.AccountAssignmentCreationStatus, what)
	if err != nil {
		return err
	}
	item.RequestID = aws.ToString(status.RequestId)
	if status.Status == ssotypes.StatusValuesSucceeded {
		item.Outcome = OutcomeRestored
		item.Reason = "created by this verification"
		return nil
	}
	item.Outcome = OutcomeFailed
	item.Reason = fmt.Sprintf("AWS failed the creation: %s. Fix the cause, then verify again (or assign it in the IAM Identity Center console)", aws.ToString(status.FailureReason))
	return nil
}

// awaitCreation polls a creation request until it is no longer in
// progress, waiting longer between polls up to maxPollDelay.
func (v *verifyRun) awaitCreation(ctx context.Context, status *ssotypes.AccountAssignmentOperationStatus, what string) (*ssotypes.AccountAssignmentOperationStatus, error) {
	delay := time.Duration(0) // the first poll at once: the request may be done already
	for status != nil && status.Status == ssotypes.StatusValuesInProgress {
		if delay > 0 {
			timer := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				timer.Stop()
				return nil, ctx.Err()
			case <-timer.C:
			}
		}
		delay = min(max(2*delay, firstPollDelay), maxPollDelay)
		out, err := v.a.SSOAdmin.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
			InstanceArn:                        aws.String(v.in.InstanceARN),
			AccountAssignmentCreationRequestId: status.RequestId,
		})
		if err != nil {
			return nil, v.restoreError(err, what+" (wait for request "+aws.ToString(status.RequestId)+")")
		}
		status = out.AccountAssignmentCreationStatus
		v.r.progress.Add(0) // a heartbeat while AWS works
	}
	if status == nil {
		return nil, fmt.Errorf("%s: AWS answered without a request status (the activity is retried)", what)
	}
	return status, nil
}

// restoreError is callError with the actions restoring needs named when
// access is denied.
func (v *verifyRun) restoreError(err error, what string) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDeniedException" {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: access denied: %s. Restoring assignments needs %s, and what AWS needs to provision a permission set in an account (the AWS managed policy AWSSSOMasterAccountAdministrator has all of it); or verify without restore and assign by hand",
				what, apiErr.ErrorMessage(), strings.Join(restoreIAMActions, ", ")),
			ErrAccessDenied, err)
	}
	return v.r.callError(err, what, false)
}

// refusedEverywhere is the restore's error when AWS refused every creation
// it tried, in more than one account: then the worker lacks the permission
// to create assignments at all, which no command per assignment fixes.
func (v *verifyRun) refusedEverywhere(restorable []int) error {
	accounts := map[string]bool{}
	for _, i := range restorable {
		item := v.report.Assignments[i]
		if item.Outcome != OutcomeRefused {
			return nil
		}
		accounts[item.AccountID] = true
	}
	if len(accounts) < 2 {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("AWS refused every assignment this verification tried to restore, in %d accounts: restoring assignments needs %s, and what AWS needs to provision a permission set in an account (the AWS managed policy AWSSSOMasterAccountAdministrator has all of it); or verify without restore and assign by hand",
			len(accounts), strings.Join(restoreIAMActions, ", ")),
		ErrAccessDenied, nil)
}

// createAssignmentCommand is the AWS CLI command that creates item's
// assignment (sso-admin create-account-assignment).
func createAssignmentCommand(instanceARN string, item AssignmentItem) string {
	return fmt.Sprintf("aws sso-admin create-account-assignment --instance-arn %s --target-id %s --target-type AWS_ACCOUNT --permission-set-arn %s --principal-type %s --principal-id %s",
		instanceARN, item.AccountID, item.PermissionSetARN, item.PrincipalType, item.PrincipalID)
}

// errorMessage is an AWS error's code and message, without the SDK's
// request details.
func errorMessage(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode() + ": " + apiErr.ErrorMessage()
	}
	return err.Error()
}

// compareApplicationAssignments finds the snapshot's application
// assignments by name and, with Restore, creates the missing ones whose
// principal exists (CreateApplicationAssignment is synchronous).
func (v *verifyRun) compareApplicationAssignments(ctx context.Context) error {
	for _, app := range v.snap.Applications {
		present, appExists := v.now.applications[app.ARN]
		for _, as := range app.Assignments {
			if as.PrincipalName == "" {
				continue // deleted principal: nothing to match (counted unresolved by the inventory)
			}
			v.result.ApplicationAssignmentsExpected++
			key := appAssignmentKey{principalType: as.PrincipalType, principalName: fold(as.PrincipalName)}
			if present[key] {
				v.result.ApplicationAssignmentsPresent++
				continue
			}
			item := ApplicationAssignmentItem{Application: app.Name, ApplicationARN: app.ARN, PrincipalType: as.PrincipalType, PrincipalName: as.PrincipalName}
			v.resolveApplicationAssignment(&item, appExists)
			if item.Outcome == OutcomeNotRequested && v.in.Restore {
				if err := v.restoreApplicationAssignment(ctx, &item); err != nil {
					return err
				}
			}
			if item.Outcome == OutcomeRestored {
				v.result.ApplicationAssignmentsRestored++
			}
			v.report.ApplicationAssignments = append(v.report.ApplicationAssignments, item)
		}
	}
	v.result.ApplicationAssignmentsMissing = v.result.ApplicationAssignmentsExpected - v.result.ApplicationAssignmentsPresent - v.result.ApplicationAssignmentsRestored
	return nil
}

// resolveApplicationAssignment says whether a missing application
// assignment can be restored: the application and exactly one principal
// of its name exist.
func (v *verifyRun) resolveApplicationAssignment(item *ApplicationAssignmentItem, appExists bool) {
	if !appExists {
		item.Outcome = OutcomeFailed
		item.Reason = fmt.Sprintf("application %s (%s) no longer exists in the instance: recreate it and assign it by hand, or accept the loss", item.Application, item.ApplicationARN)
		return
	}
	item.PrincipalID, item.Outcome, item.Reason = v.principalNow(item.PrincipalType, item.PrincipalName)
}

// principalNow finds the group or user named name in the identity store
// now: its ID when exactly one has the name (OutcomeNotRequested: it can
// be restored), or why not.
func (v *verifyRun) principalNow(principalType preflight.PrincipalType, name string) (id string, outcome AssignmentOutcome, reason string) {
	kind, ids := "group", v.now.groupsByName[fold(name)]
	if principalType == preflight.PrincipalUser {
		kind, ids = "user", v.now.usersByName[fold(name)]
	}
	switch len(ids) {
	case 0:
		return "", OutcomePrincipalMissing, fmt.Sprintf("the %s %q does not exist in identity store %s yet: once provisioning has created it, verify again to restore this assignment", kind, name, v.report.IdentityStoreID)
	case 1:
		return ids[0], OutcomeNotRequested, "the principal exists; verify with restore to create the assignment"
	default:
		return "", OutcomePrincipalAmbiguous, ambiguous(kind+"s", ids)
	}
}

// restoreApplicationAssignment creates one application assignment.
func (v *verifyRun) restoreApplicationAssignment(ctx context.Context, item *ApplicationAssignmentItem) error {
	_, err := v.a.SSOAdmin.CreateApplicationAssignment(ctx, &ssoadmin.CreateApplicationAssignmentInput{
		ApplicationArn: aws.String(item.ApplicationARN), PrincipalType: ssotypes.PrincipalType(item.PrincipalType), PrincipalId: aws.String(item.PrincipalID),
	})
	if isAccessDenied(err) {
		item.Outcome = OutcomeRefused
		item.Reason = fmt.Sprintf("AWS refused the creation to the worker's account (%s): the worker needs sso:CreateApplicationAssignment, or assign it in the IAM Identity Center console", errorMessage(err))
		return nil
	}
	if err != nil {
		return v.r.callError(err, fmt.Sprintf("assign %s %q to application %s", strings.ToLower(string(item.PrincipalType)), item.PrincipalName, item.Application), false)
	}
	item.Outcome = OutcomeRestored
	item.Reason = "created by this verification"
	return nil
}
