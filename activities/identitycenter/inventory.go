package identitycenter

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/platformguide/ssocutover/internal/preflight"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/sync/errgroup"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/progress"
)

// pageSize is the largest page every list operation used here accepts.
const pageSize = 100

// inventoryKind is the store kind of the AWS snapshot.
const inventoryKind = "aws-inventory"

// InventoryAWS snapshots the Identity Center instance of the identity store
// in.IdentityStoreID: every account assignment with the name of its
// principal (group display name or userName), the groups that hold one with
// their members, and the users who hold access. The snapshot is stored
// (Store.Put); the result carries its reference, counts and the API calls
// made.
//
// The calls, and why each: ListInstances finds the instance of the identity
// store; ListPermissionSets and DescribePermissionSet give the permission
// sets and their names; ListAccountsForProvisionedPermissionSet narrows the
// (account, permission set) pairs to those that can have assignments, and
// ListAccountAssignments lists each pair. ListGroups and ListUsers are read
// whole (100 per page) rather than one Describe call per principal: at
// 100,000 users that is 1,000 calls instead of up to 100,000.
// ListGroupMemberships is read for each assigned group only.
func (a *Activities) InventoryAWS(ctx context.Context, in InventoryAWSInput) (InventoryAWSResult, error) {
	if in.IdentityStoreID == "" {
		return InventoryAWSResult{}, temporal.NewNonRetryableApplicationError(
			"identityStoreId is required: it is shown in the IAM Identity Center console under Settings (d-xxxxxxxxxx)", ErrInvalidRequest, nil)
	}
	counter := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, counter)
	r := &inventoryRun{a: a, in: in, region: a.region(), progress: progress.New(ctx, a.onProgress)}
	inv, unresolved, err := r.run(ctx)
	if err != nil {
		return InventoryAWSResult{}, err
	}
	ref, err := a.Store.Put(ctx, inventoryKind, inv)
	if err != nil {
		return InventoryAWSResult{}, fmt.Errorf("store the AWS inventory: %w", err)
	}
	return InventoryAWSResult{
		Inventory:            ref,
		InstanceARN:          inv.InstanceARN,
		Groups:               len(inv.Groups),
		Users:                len(inv.Users),
		Assignments:          len(inv.Assignments),
		Accounts:             len(inv.Accounts),
		PermissionSets:       len(inv.PermissionSets),
		APICalls:             counter.Counts(),
		UnresolvedPrincipals: unresolved,
	}, nil
}

// inventoryRun is one run of InventoryAWS.
type inventoryRun struct {
	a        *Activities
	in       InventoryAWSInput
	region   string
	progress *progress.Reporter
}

func (r *inventoryRun) run(ctx context.Context) (*preflight.AWS, int, error) {
	instanceARN, err := r.findInstance(ctx)
	if err != nil {
		return nil, 0, err
	}
	permissionSets, err := r.permissionSets(ctx, instanceARN)
	if err != nil {
		return nil, 0, err
	}
	targets, err := r.targets(ctx, instanceARN, permissionSets)
	if err != nil {
		return nil, 0, err
	}
	assignments, err := r.assignments(ctx, instanceARN, targets)
	if err != nil {
		return nil, 0, err
	}

	// The principals that hold access: assigned groups and directly
	// assigned users, by ID.
	var groupIDs []string
	holders := map[string]bool{}
	for _, as := range assignments {
		if as.PrincipalType == ssotypes.PrincipalTypeGroup {
			groupIDs = append(groupIDs, aws.ToString(as.PrincipalId))
		} else {
			holders[aws.ToString(as.PrincipalId)] = true
		}
	}
	slices.Sort(groupIDs)
	groupIDs = slices.Compact(groupIDs)

	groupNames, members, err := r.groups(ctx, groupIDs)
	if err != nil {
		return nil, 0, err
	}
	for _, ids := range members {
		for _, id := range ids {
			holders[id] = true
		}
	}
	users, err := r.users(ctx, holders)
	if err != nil {
		return nil, 0, err
	}
	inv, unresolved := r.snapshot(instanceARN, permissionSets, assignments, groupIDs, groupNames, members, users)
	return inv, unresolved, nil
}

// findInstance returns the ARN of the instance whose identity store is
// in.IdentityStoreID, and checks in.InstanceARN against it when given.
func (r *inventoryRun) findInstance(ctx context.Context) (string, error) {
	r.progress.Start("instance", 1)
	instances, err := r.instances(ctx)
	if err != nil {
		return "", err
	}
	var seen []string
	storeInstance := "" // the instance of the identity store, when in.InstanceARN names another
	for _, inst := range instances {
		arn, storeID := aws.ToString(inst.InstanceArn), aws.ToString(inst.IdentityStoreId)
		seen = append(seen, fmt.Sprintf("%s (identity store %s)", arn, storeID))
		switch {
		case storeID == r.in.IdentityStoreID && (r.in.InstanceARN == "" || r.in.InstanceARN == arn):
			r.progress.Add(1)
			return arn, nil
		case storeID == r.in.IdentityStoreID:
			storeInstance = arn
		case arn == r.in.InstanceARN:
			return "", temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("instance %s belongs to identity store %s, not %s: correct identityStoreId or instanceArn in the cutover request", arn, storeID, r.in.IdentityStoreID),
				ErrInvalidRequest, nil)
		}
	}
	if storeInstance != "" {
		return "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("instance %s was not found in region %q; identity store %s belongs to instance %s: correct instanceArn in the cutover request, or leave it empty",
				r.in.InstanceARN, r.region, r.in.IdentityStoreID, storeInstance),
			ErrInstanceNotFound, nil)
	}
	return "", temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("no IAM Identity Center instance with identity store %s in region %q (instances found: %s): check identityStoreId (and instanceArn) in the cutover request and the worker's region (AWS_REGION); the credentials must be of the organisation's management account or the delegated administrator",
			r.in.IdentityStoreID, r.region, describeInstances(seen)),
		ErrInstanceNotFound, nil)
}

// instances lists the Identity Center instances the worker's credentials
// see in its region: one, in an organisation with Identity Center enabled.
func (r *inventoryRun) instances(ctx context.Context) ([]ssotypes.InstanceMetadata, error) {
	var instances []ssotypes.InstanceMetadata
	pages := ssoadmin.NewListInstancesPaginator(r.a.SSOAdmin, &ssoadmin.ListInstancesInput{MaxResults: aws.Int32(pageSize)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, r.callError(err, "list the Identity Center instances", true)
		}
		instances = append(instances, out.Instances...)
	}
	return instances, nil
}

// describeInstances lists the instances found, for an error message.
func describeInstances(seen []string) string {
	if len(seen) == 0 {
		return "none"
	}
	return strings.Join(seen, ", ")
}

// permissionSets lists the instance's permission sets with their names,
// sorted by name.
func (r *inventoryRun) permissionSets(ctx context.Context, instanceARN string) ([]preflight.PermissionSet, error) {
	var arns []string
	pages := ssoadmin.NewListPermissionSetsPaginator(r.a.SSOAdmin, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(instanceARN), MaxResults: aws.Int32(pageSize)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, r.callError(err, "list the permission sets of "+instanceARN, true)
		}
		arns = append(arns, out.PermissionSets...)
	}
	r.progress.Start("permission-sets", len(arns))
	sets := make([]preflight.PermissionSet, len(arns))
	err := progress.ForEach(ctx, r.a.concurrency(), len(arns), func(ctx context.Context, i int) error {
		out, err := r.a.SSOAdmin.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(instanceARN), PermissionSetArn: aws.String(arns[i])})
		if err != nil {
			return r.callError(err, "describe permission set "+arns[i], false)
		}
		sets[i] = preflight.PermissionSet{ARN: arns[i], Name: aws.ToString(out.PermissionSet.Name)}
		r.progress.Add(1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(sets, func(x, y preflight.PermissionSet) int {
		return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.ARN, y.ARN))
	})
	return sets, nil
}

// target is an (account, permission set) pair that may hold assignments.
type target struct {
	accountID        string
	permissionSetARN string
}

// targets lists, for every permission set, the accounts it is provisioned
// to: only there can it have assignments.
func (r *inventoryRun) targets(ctx context.Context, instanceARN string, sets []preflight.PermissionSet) ([]target, error) {
	r.progress.Start("accounts", len(sets))
	perSet := make([][]target, len(sets))
	err := progress.ForEach(ctx, r.a.concurrency(), len(sets), func(ctx context.Context, i int) error {
		pages := ssoadmin.NewListAccountsForProvisionedPermissionSetPaginator(r.a.SSOAdmin, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{
			InstanceArn: aws.String(instanceARN), PermissionSetArn: aws.String(sets[i].ARN), MaxResults: aws.Int32(pageSize),
		})
		for pages.HasMorePages() {
			out, err := pages.NextPage(ctx)
			if err != nil {
				return r.callError(err, "list the accounts of permission set "+sets[i].Name, false)
			}
			for _, account := range out.AccountIds {
				perSet[i] = append(perSet[i], target{accountID: account, permissionSetARN: sets[i].ARN})
			}
		}
		r.progress.Add(1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return slices.Concat(perSet...), nil
}

// assignments lists the account assignments of every target.
func (r *inventoryRun) assignments(ctx context.Context, instanceARN string, targets []target) ([]ssotypes.AccountAssignment, error) {
	r.progress.Start("assignments", len(targets))
	perTarget := make([][]ssotypes.AccountAssignment, len(targets))
	err := progress.ForEach(ctx, r.a.concurrency(), len(targets), func(ctx context.Context, i int) error {
		t := targets[i]
		pages := ssoadmin.NewListAccountAssignmentsPaginator(r.a.SSOAdmin, &ssoadmin.ListAccountAssignmentsInput{
			InstanceArn: aws.String(instanceARN), AccountId: aws.String(t.accountID), PermissionSetArn: aws.String(t.permissionSetARN), MaxResults: aws.Int32(pageSize),
		})
		for pages.HasMorePages() {
			out, err := pages.NextPage(ctx)
			if err != nil {
				return r.callError(err, fmt.Sprintf("list the assignments of permission set %s in account %s", t.permissionSetARN, t.accountID), false)
			}
			perTarget[i] = append(perTarget[i], out.AccountAssignments...)
		}
		r.progress.Add(1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return slices.Concat(perTarget...), nil
}

// groups returns the display names of groupIDs (read from ListGroups) and
// the member user IDs of each (ListGroupMemberships), both at once: neither
// needs the other.
func (r *inventoryRun) groups(ctx context.Context, groupIDs []string) (names map[string]string, members map[string][]string, err error) {
	r.progress.Start("groups", len(groupIDs))
	wanted := make(map[string]bool, len(groupIDs))
	for _, id := range groupIDs {
		wanted[id] = true
	}
	names = make(map[string]string, len(groupIDs))
	listAll := func(ctx context.Context) error {
		return r.eachGroupPage(ctx, func(groups []idtypes.Group) {
			for _, g := range groups {
				if id := aws.ToString(g.GroupId); wanted[id] {
					names[id] = aws.ToString(g.DisplayName)
				}
			}
		})
	}
	var listMembers func(ctx context.Context) error
	members, listMembers = r.membersOf(groupIDs)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return listAll(gctx) })
	g.Go(func() error { return listMembers(gctx) })
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return names, members, nil
}

// eachGroupPage reads every group of the identity store, 100 per call, and
// hands each page to visit. visit is called from one goroutine at a time.
func (r *inventoryRun) eachGroupPage(ctx context.Context, visit func([]idtypes.Group)) error {
	pages := identitystore.NewListGroupsPaginator(r.a.IdentityStore, &identitystore.ListGroupsInput{IdentityStoreId: aws.String(r.in.IdentityStoreID), MaxResults: aws.Int32(pageSize)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return r.callError(err, "list the groups of identity store "+r.in.IdentityStoreID, true)
		}
		visit(out.Groups)
	}
	return nil
}

// membersOf returns the map that will hold the member user IDs of each of
// groupIDs, and the function that fills it: ListGroupMemberships for every
// group, concurrently, one progress unit per group. A group deleted
// meanwhile has no members.
func (r *inventoryRun) membersOf(groupIDs []string) (map[string][]string, func(ctx context.Context) error) {
	members := make(map[string][]string, len(groupIDs))
	// userIDs holds one copy of each member's ID: a user is a member of
	// many groups (a million memberships at 100,000 users), and each page
	// decodes its own copy.
	userIDs := map[string]string{}
	var mu sync.Mutex // guards members and userIDs

	listMembers := func(ctx context.Context, i int) error {
		var ids []string
		pages := identitystore.NewListGroupMembershipsPaginator(r.a.IdentityStore, &identitystore.ListGroupMembershipsInput{
			IdentityStoreId: aws.String(r.in.IdentityStoreID), GroupId: aws.String(groupIDs[i]), MaxResults: aws.Int32(pageSize),
		})
		for pages.HasMorePages() {
			out, err := pages.NextPage(ctx)
			if isNotFound(err) {
				// The group was deleted but its assignments stayed: they
				// are reported as unresolved, and it has no members.
				break
			}
			if err != nil {
				return r.callError(err, "list the members of group "+groupIDs[i], false)
			}
			for _, m := range out.GroupMemberships {
				if u, ok := m.MemberId.(*idtypes.MemberIdMemberUserId); ok {
					ids = append(ids, u.Value)
				}
			}
		}
		mu.Lock()
		for k, id := range ids {
			if known, ok := userIDs[id]; ok {
				ids[k] = known
			} else {
				userIDs[id] = id
			}
		}
		members[groupIDs[i]] = ids
		mu.Unlock()
		r.progress.Add(1)
		return nil
	}
	return members, func(ctx context.Context) error {
		return progress.ForEach(ctx, r.a.concurrency(), len(groupIDs), listMembers)
	}
}

// users reads every user of the identity store and keeps those in holders.
func (r *inventoryRun) users(ctx context.Context, holders map[string]bool) (map[string]preflight.AWSUser, error) {
	r.progress.Start("users", len(holders))
	users := make(map[string]preflight.AWSUser, len(holders))
	err := r.eachUserPage(ctx, func(page []idtypes.User) {
		kept := 0
		for _, u := range page {
			id := aws.ToString(u.UserId)
			if !holders[id] {
				continue
			}
			users[id] = preflight.AWSUser{ID: id, UserName: aws.ToString(u.UserName), DisplayName: aws.ToString(u.DisplayName), Email: primaryEmail(u.Emails)}
			kept++
		}
		r.progress.Add(kept)
	})
	if err != nil {
		return nil, err
	}
	return users, nil
}

// eachUserPage reads every user of the identity store, 100 per call, and
// hands each page to visit.
func (r *inventoryRun) eachUserPage(ctx context.Context, visit func([]idtypes.User)) error {
	pages := identitystore.NewListUsersPaginator(r.a.IdentityStore, &identitystore.ListUsersInput{IdentityStoreId: aws.String(r.in.IdentityStoreID), MaxResults: aws.Int32(pageSize)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return r.callError(err, "list the users of identity store "+r.in.IdentityStoreID, true)
		}
		visit(out.Users)
	}
	return nil
}

// primaryEmail is the primary address, or the first if none is marked.
func primaryEmail(emails []idtypes.Email) string {
	for _, e := range emails {
		if e.Primary {
			return aws.ToString(e.Value)
		}
	}
	if len(emails) > 0 {
		return aws.ToString(emails[0].Value)
	}
	return ""
}

// snapshot assembles the inventory, every slice sorted so that the same
// instance always gives the same document (and the same store digest). It
// also returns how many assignments name a principal the identity store no
// longer has.
func (r *inventoryRun) snapshot(instanceARN string, sets []preflight.PermissionSet, assignments []ssotypes.AccountAssignment,
	groupIDs []string, groupNames map[string]string, members map[string][]string, users map[string]preflight.AWSUser,
) (*preflight.AWS, int) {
	setNames := make(map[string]string, len(sets))
	for _, ps := range sets {
		setNames[ps.ARN] = ps.Name
	}
	inv := &preflight.AWS{
		InstanceARN:     instanceARN,
		IdentityStoreID: r.in.IdentityStoreID,
		Region:          r.region,
		PermissionSets:  sets,
		Accounts:        []string{},
		Assignments:     make([]preflight.Assignment, 0, len(assignments)),
		Groups:          []preflight.AWSGroup{},
		Users:           make([]preflight.AWSUser, 0, len(users)),
	}
	unresolved := 0
	for _, as := range assignments {
		a := preflight.Assignment{
			AccountID:         aws.ToString(as.AccountId),
			PermissionSetARN:  aws.ToString(as.PermissionSetArn),
			PermissionSetName: setNames[aws.ToString(as.PermissionSetArn)],
			PrincipalType:     preflight.PrincipalType(as.PrincipalType),
			PrincipalID:       aws.ToString(as.PrincipalId),
		}
		if a.PrincipalType == preflight.PrincipalGroup {
			a.PrincipalName = groupNames[a.PrincipalID]
		} else {
			a.PrincipalName = users[a.PrincipalID].UserName
		}
		if a.PrincipalName == "" {
			unresolved++
		}
		inv.Assignments = append(inv.Assignments, a)
		inv.Accounts = append(inv.Accounts, a.AccountID)
	}
	slices.Sort(inv.Accounts)
	inv.Accounts = slices.Compact(inv.Accounts)
	slices.SortFunc(inv.Assignments, func(x, y preflight.Assignment) int {
		return cmp.Or(
			cmp.Compare(x.AccountID, y.AccountID),
			cmp.Compare(x.PermissionSetName, y.PermissionSetName),
			cmp.Compare(x.PermissionSetARN, y.PermissionSetARN),
			cmp.Compare(x.PrincipalType, y.PrincipalType),
			cmp.Compare(x.PrincipalName, y.PrincipalName),
			cmp.Compare(x.PrincipalID, y.PrincipalID),
		)
	})

	for _, id := range groupIDs {
		name, ok := groupNames[id]
		if !ok {
			continue // deleted group: its assignments are counted as unresolved
		}
		memberNames := []string{}
		for _, userID := range members[id] {
			if u, ok := users[userID]; ok {
				memberNames = append(memberNames, u.UserName)
			}
		}
		slices.Sort(memberNames)
		inv.Groups = append(inv.Groups, preflight.AWSGroup{ID: id, DisplayName: name, MemberUserNames: memberNames})
	}
	slices.SortFunc(inv.Groups, func(x, y preflight.AWSGroup) int {
		return cmp.Or(cmp.Compare(x.DisplayName, y.DisplayName), cmp.Compare(x.ID, y.ID))
	})

	for _, u := range users {
		inv.Users = append(inv.Users, u)
	}
	slices.SortFunc(inv.Users, func(x, y preflight.AWSUser) int {
		return cmp.Or(cmp.Compare(x.UserName, y.UserName), cmp.Compare(x.ID, y.ID))
	})
	return inv, unresolved
}
