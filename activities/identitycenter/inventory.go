package identitycenter

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/platformguide/ssocutover/internal/preflight"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/sync/errgroup"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/progress"
	"github.com/platformguide/ssocutover/internal/store"
)

// pageSize is the largest page every list operation used here accepts.
const pageSize = 100

// inventoryKind is the store kind of the AWS snapshot.
const inventoryKind = "aws-inventory"

// InventoryAWS snapshots the Identity Center instance of the identity store
// in.IdentityStoreID: every account assignment with the name of its
// principal (group display name or userName), every application with its
// assignments likewise, the groups that hold one with their members, and
// the users who hold access. The snapshot is stored
// (Store.Put); the result carries its reference, counts, the API calls made
// and how the assignments were listed.
//
// The calls, and why each: ListInstances finds the instance of the identity
// store; ListPermissionSets and DescribePermissionSet give the permission
// sets and their names; ListAccountsForProvisionedPermissionSet narrows the
// (account, permission set) pairs to those that can have assignments.
// ListGroups and ListUsers are read whole (100 per page) rather than one
// Describe call per principal: at 100,000 users that is 1,000 calls instead
// of up to 100,000. The assignments are then listed the cheaper way for the
// organisation's shape (chooseListing): ListAccountAssignments per pair, or
// ListAccountAssignmentsForPrincipal per user and group. ListApplications,
// GetApplicationAssignmentConfiguration and ListApplicationAssignments give
// the applications (inventory_applications.go). ListGroupMemberships is
// read for each assigned group only.
//
// sso-admin and identitystore are paced each at its own rate
// (apicalls.Pacer), so each is read while the other is: the pairs while the
// users and groups are listed, and the members of each assigned group as
// soon as the assignment listing finds it.
func (a *Activities) InventoryAWS(ctx context.Context, in InventoryAWSInput) (InventoryAWSResult, error) {
	if in.IdentityStoreID == "" {
		return InventoryAWSResult{}, temporal.NewNonRetryableApplicationError(
			"identityStoreId is required: it is shown in the IAM Identity Center console under Settings (d-xxxxxxxxxx)", ErrInvalidRequest, nil)
	}
	counter := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, counter)
	r := &inventoryRun{a: a, in: in, region: a.region(), progress: progress.New(ctx, a.onProgress)}
	inv, listing, unresolved, err := r.run(ctx)
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
		AssignmentListing:    listing,
		UnresolvedPrincipals: unresolved,
	}, nil
}

// inventoryRun is one run of InventoryAWS.
type inventoryRun struct {
	a        *Activities
	in       InventoryAWSInput
	region   string
	progress *progress.Reporter
	// checkpoints, in InventoryAWS only, store what is done for a retry
	// (inventory_checkpoint.go).
	checkpoints *checkpoints
}

func (r *inventoryRun) run(ctx context.Context) (*preflight.AWS, preflight.AssignmentListing, int, error) {
	var resumed inventoryCheckpoint
	progress.Resume(ctx, &resumed)
	r.checkpoints = newCheckpoints(r, resumed)

	// The instance first: it proves the identity store exists here, and
	// its error says best what to correct when it does not.
	instanceARN, err := r.findInstance(ctx)
	if err != nil {
		return nil, preflight.AssignmentListing{}, 0, err
	}
	var (
		pairs provisioned
		dir   directory
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		pairs, err = r.provisionedOrResumed(gctx, instanceARN, resumed.Provisioned)
		return err
	})
	g.Go(func() (err error) { dir, err = r.directoryOrResumed(gctx, resumed.Directory); return err })
	if err := g.Wait(); err != nil {
		return nil, preflight.AssignmentListing{}, 0, err
	}

	listing := chooseListing(len(pairs.targets), len(dir.groupIDs)+len(dir.userIDs), r.a.listing)
	var done resumedListing
	if begun := r.checkpoints.listing(); begun != nil {
		// The last attempt began the listing; its batches' units are
		// indexes into the pairs and principals resumed above.
		listing = *begun
		if done, err = r.checkpoints.loadListing(ctx); err != nil {
			return nil, preflight.AssignmentListing{}, 0, err
		}
	}
	listed, err := r.assignmentsAndMembers(ctx, pairs, dir, listing, done)
	if err != nil {
		return nil, preflight.AssignmentListing{}, 0, err
	}
	inv, unresolved := r.snapshot(pairs, dir, listed)
	return inv, listed.listing, unresolved, nil
}

// provisionedOrResumed is provisioned, read from the checkpoint when the
// last attempt stored it for this instance.
func (r *inventoryRun) provisionedOrResumed(ctx context.Context, instanceARN string, stored *store.Ref) (provisioned, error) {
	if stored != nil {
		p, err := r.checkpoints.loadProvisioned(ctx, *stored)
		if err != nil || p.instanceARN == instanceARN {
			return p, err
		}
		// Another instance's (which cannot happen within one cutover, whose
		// retries have one input): nothing of it is of use.
		r.checkpoints.forgetListing()
	}
	p, err := r.provisioned(ctx, instanceARN)
	if err != nil {
		return provisioned{}, err
	}
	return p, r.checkpoints.saveProvisioned(ctx, p)
}

// directoryOrResumed is directory, read from the checkpoint when the last
// attempt stored it.
func (r *inventoryRun) directoryOrResumed(ctx context.Context, stored *store.Ref) (directory, error) {
	if stored != nil {
		return r.checkpoints.loadDirectory(ctx, *stored)
	}
	d, err := r.directory(ctx)
	if err != nil {
		return directory{}, err
	}
	return d, r.checkpoints.saveDirectory(ctx, d)
}

// provisioned is what sso-admin says before any assignment is listed: the
// instance, its permission sets and the pairs that can hold assignments.
type provisioned struct {
	instanceARN    string
	permissionSets []preflight.PermissionSet
	targets        []target
}

// provisioned lists the permission sets of the instance and the accounts
// each is provisioned to.
func (r *inventoryRun) provisioned(ctx context.Context, instanceARN string) (provisioned, error) {
	sets, err := r.permissionSets(ctx, instanceARN)
	if err != nil {
		return provisioned{}, err
	}
	targets, err := r.targets(ctx, instanceARN, sets)
	if err != nil {
		return provisioned{}, err
	}
	return provisioned{instanceARN: instanceARN, permissionSets: sets, targets: targets}, nil
}

// findInstance returns the ARN of the instance whose identity store is
// in.IdentityStoreID, and checks in.InstanceARN against it when given.
func (r *inventoryRun) findInstance(ctx context.Context) (string, error) {
	part := r.progress.Begin("instance", 1)
	defer part.End()
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
			part.Add(1)
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
	part := r.progress.Begin("permission-sets", len(arns))
	defer part.End()
	sets := make([]preflight.PermissionSet, len(arns))
	err := progress.ForEach(ctx, r.a.concurrency(), len(arns), func(ctx context.Context, i int) error {
		out, err := r.a.SSOAdmin.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(instanceARN), PermissionSetArn: aws.String(arns[i])})
		if err != nil {
			return r.callError(err, "describe permission set "+arns[i], false)
		}
		sets[i] = preflight.PermissionSet{ARN: arns[i], Name: aws.ToString(out.PermissionSet.Name)}
		part.Add(1)
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
	part := r.progress.Begin("accounts", len(sets))
	defer part.End()
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
		part.Add(1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return slices.Concat(perSet...), nil
}

// snapshot assembles the inventory, every slice sorted so that the same
// instance always gives the same document (and the same store digest),
// whichever way the assignments were listed. It also returns how many
// assignments name a principal the identity store no longer has.
func (r *inventoryRun) snapshot(pairs provisioned, dir directory, listed listedAssignments) (*preflight.AWS, int) {
	sets, assignments, groupNames := pairs.permissionSets, listed.assignments, dir.groupNames
	users := listed.holders(dir.users)
	setNames := make(map[string]string, len(sets))
	for _, ps := range sets {
		setNames[ps.ARN] = ps.Name
	}
	inv := &preflight.AWS{
		InstanceARN:     pairs.instanceARN,
		IdentityStoreID: r.in.IdentityStoreID,
		Region:          r.region,
		PermissionSets:  sets,
		Accounts:        []string{},
		Assignments:     make([]preflight.Assignment, 0, len(assignments)),
		Groups:          []preflight.AWSGroup{},
		Users:           make([]preflight.AWSUser, 0, len(users)),
	}
	// nameOf is a principal's name, counting those the identity store no
	// longer has.
	unresolved := 0
	nameOf := func(principalType preflight.PrincipalType, id string) string {
		name := users[id].UserName
		if principalType == preflight.PrincipalGroup {
			name = groupNames[id]
		}
		if name == "" {
			unresolved++
		}
		return name
	}
	for _, as := range assignments {
		a := preflight.Assignment{
			AccountID:         aws.ToString(as.AccountId),
			PermissionSetARN:  aws.ToString(as.PermissionSetArn),
			PermissionSetName: setNames[aws.ToString(as.PermissionSetArn)],
			PrincipalType:     preflight.PrincipalType(as.PrincipalType),
			PrincipalID:       aws.ToString(as.PrincipalId),
		}
		a.PrincipalName = nameOf(a.PrincipalType, a.PrincipalID)
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

	for _, id := range listed.groupIDs() {
		name, ok := groupNames[id]
		if !ok {
			continue // deleted group: its assignments are counted as unresolved
		}
		memberNames := []string{}
		for _, userID := range listed.members[id] {
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

	for _, app := range listed.applications {
		out := preflight.Application{ARN: app.arn, Name: app.name, AssignmentRequired: app.assignmentRequired, Assignments: []preflight.ApplicationAssignment{}}
		for _, as := range app.assignments {
			a := preflight.ApplicationAssignment{PrincipalType: preflight.PrincipalType(as.PrincipalType), PrincipalID: aws.ToString(as.PrincipalId)}
			a.PrincipalName = nameOf(a.PrincipalType, a.PrincipalID)
			out.Assignments = append(out.Assignments, a)
		}
		slices.SortFunc(out.Assignments, preflight.CompareApplicationAssignments)
		inv.Applications = append(inv.Applications, out)
	}
	slices.SortFunc(inv.Applications, func(x, y preflight.Application) int {
		return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.ARN, y.ARN))
	})
	return inv, unresolved
}
