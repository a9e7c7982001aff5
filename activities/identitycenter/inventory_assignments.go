package identitycenter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/progress"
)

// chooseListing picks the way to list assignments that takes fewer calls,
// from what is known before any is listed: every provisioned (account,
// permission set) pair costs ListAccountAssignments at least one call, and
// every user and group costs ListAccountAssignmentsForPrincipal at least
// one. Beyond that both cost one call per further 100 assignments on one
// pair or principal, which cannot be known beforehand and is the same
// order on either side. A tie goes to per pair: it also sees assignments
// of principals deleted from the identity store, and works from a
// delegated administrator account.
//
// There is no cheaper mix of the two: a principal listed on its own shows
// its assignments in every account, and a pair listed on its own shows
// every principal, so leaving any pair out of the per-pair listing means
// listing every principal (and the other way round) before anything is
// known of where the assignments are.
//
// forced, when set, is the strategy to use whatever the counts.
func chooseListing(pairs, principals int, forced string) preflight.AssignmentListing {
	l := preflight.AssignmentListing{Pairs: pairs, Principals: principals}
	switch {
	case forced != "":
		l.Strategy, l.Reason = forced, "chosen by configuration"
	case principals < pairs:
		l.Strategy = preflight.ListPerPrincipal
		l.Reason = fmt.Sprintf("%d users and groups take fewer calls than %d provisioned (account, permission set) pairs", principals, pairs)
	default:
		l.Strategy = preflight.ListPerPair
		l.Reason = fmt.Sprintf("%d provisioned (account, permission set) pairs take no more calls than %d users and groups", pairs, principals)
	}
	return l
}

// listedAssignments is what the assignment listing found: the assignments,
// the members of each assigned group, and the listing used.
type listedAssignments struct {
	listing      preflight.AssignmentListing
	assignments  []ssotypes.AccountAssignment
	applications []listedApplication
	members      map[string][]string // member user IDs by assigned group ID
}

// groupIDs are the assigned groups, sorted.
func (l listedAssignments) groupIDs() []string {
	ids := make([]string, 0, len(l.members))
	for id := range l.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// holders are the users of users who hold access: members of an assigned
// group and users with a direct assignment.
func (l listedAssignments) holders(users map[string]preflight.AWSUser) map[string]preflight.AWSUser {
	held := map[string]preflight.AWSUser{}
	hold := func(id string) {
		if u, ok := users[id]; ok {
			held[id] = u
		}
	}
	for _, as := range l.assignments {
		if as.PrincipalType == ssotypes.PrincipalTypeUser {
			hold(aws.ToString(as.PrincipalId))
		}
	}
	for _, app := range l.applications {
		for _, as := range app.assignments {
			if as.PrincipalType == ssotypes.PrincipalTypeUser {
				hold(aws.ToString(as.PrincipalId))
			}
		}
	}
	for _, ids := range l.members {
		for _, id := range ids {
			hold(id)
		}
	}
	return held
}

// assignmentsAndMembers lists the account assignments as listing says
// (sso-admin) and, as each assigned group turns up, its members
// (identitystore), both at once.
//
// done is what a former attempt listed (inventory_checkpoint.go): its units
// are not listed again, nor the members of its groups.
func (r *inventoryRun) assignmentsAndMembers(ctx context.Context, pairs provisioned, dir directory, listing preflight.AssignmentListing, done resumedListing) (listedAssignments, error) {
	members := newMemberLister(r, dir.users)
	for id, ids := range done.members {
		members.members[id], members.seen[id] = ids, true
	}
	found := make(chan string)
	foundGroup := func(ctx context.Context, id string) error {
		if !members.firstSight(id) {
			return nil
		}
		select {
		case found <- id:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var (
		assignments []ssotypes.AccountAssignment
		apps        []listedApplication
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(found)
		var err error
		if assignments, listing, err = r.listAssignments(gctx, pairs, dir, listing, done, foundGroup); err != nil {
			return err
		}
		apps, err = r.applications(gctx, pairs.instanceARN, foundGroup)
		return err
	})
	g.Go(func() error { return members.listAsFound(gctx, found) })
	if err := g.Wait(); err != nil {
		return listedAssignments{}, err
	}
	return listedAssignments{listing: listing, assignments: assignments, applications: apps, members: members.members}, nil
}

// listAssignments lists every account assignment as listing says, hands
// each assigned group to foundGroup (more than once, possibly), and returns
// the listing it used.
//
// The per-principal listing is refused (AccessDeniedException) when the
// worker runs in a delegated administrator account: AWS allows
// ListAccountAssignmentsForPrincipal only from the management account
// (https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListAccountAssignmentsForPrincipal.html),
// or when the worker's policy does not grant it. The listing then falls
// back to per pair and says so.
//
// The units of done (pairs or principals, as listing says) are not listed
// again: their assignments are done's, whose groups go to foundGroup first.
func (r *inventoryRun) listAssignments(ctx context.Context, pairs provisioned, dir directory, listing preflight.AssignmentListing,
	done resumedListing, foundGroup func(context.Context, string) error,
) ([]ssotypes.AccountAssignment, preflight.AssignmentListing, error) {
	for _, as := range done.assignments {
		if as.PrincipalType == ssotypes.PrincipalTypeGroup {
			if err := foundGroup(ctx, aws.ToString(as.PrincipalId)); err != nil {
				return nil, listing, err
			}
		}
	}
	if listing.Strategy == preflight.ListPerPrincipal {
		assignments, err := r.assignmentsPerPrincipal(ctx, pairs.instanceARN, dir, listing, done.units, foundGroup)
		if !errors.Is(err, errPerPrincipalRefused) {
			return slices.Concat(done.assignments, assignments), listing, err
		}
		listing.Strategy = preflight.ListPerPair
		listing.Reason = "per principal was refused (ListAccountAssignmentsForPrincipal is allowed only from the management account, and needs sso:ListAccountAssignmentsForPrincipal), so per pair"
		// Its units were principals: per pair lists every pair.
		done = resumedListing{}
		r.checkpoints.forgetListing()
	}
	assignments, err := r.assignmentsPerPair(ctx, pairs.instanceARN, pairs.targets, listing, done.units, foundGroup)
	return slices.Concat(done.assignments, assignments), listing, err
}

// remaining are the units of [0, n) not in done.
func remaining(n int, done map[int]bool) []int {
	todo := make([]int, 0, n-len(done))
	for i := range n {
		if !done[i] {
			todo = append(todo, i)
		}
	}
	return todo
}

// assignmentsPerPair lists the account assignments of every target with
// ListAccountAssignments, and hands each group it finds to foundGroup.
func (r *inventoryRun) assignmentsPerPair(ctx context.Context, instanceARN string, targets []target, listing preflight.AssignmentListing,
	done map[int]bool, foundGroup func(context.Context, string) error,
) ([]ssotypes.AccountAssignment, error) {
	part := r.progress.Begin("assignments", len(targets))
	defer part.End()
	todo := remaining(len(targets), done)
	part.Add(len(targets) - len(todo))
	perTarget := make([][]ssotypes.AccountAssignment, len(targets))
	err := progress.ForEach(ctx, r.a.concurrency(), len(todo), func(ctx context.Context, j int) error {
		i := todo[j]
		t := targets[i]
		pages := ssoadmin.NewListAccountAssignmentsPaginator(r.a.SSOAdmin, &ssoadmin.ListAccountAssignmentsInput{
			InstanceArn: aws.String(instanceARN), AccountId: aws.String(t.accountID), PermissionSetArn: aws.String(t.permissionSetARN), MaxResults: aws.Int32(pageSize),
		})
		for pages.HasMorePages() {
			out, err := pages.NextPage(ctx)
			if err != nil {
				return r.callError(err, fmt.Sprintf("list the assignments of permission set %s in account %s", t.permissionSetARN, t.accountID), false)
			}
			for _, as := range out.AccountAssignments {
				if as.PrincipalType == ssotypes.PrincipalTypeGroup {
					if err := foundGroup(ctx, aws.ToString(as.PrincipalId)); err != nil {
						return err
					}
				}
			}
			perTarget[i] = append(perTarget[i], out.AccountAssignments...)
		}
		part.Add(1)
		return r.checkpoints.unitDone(ctx, listing, i, perTarget[i])
	})
	if err != nil {
		return nil, err
	}
	return slices.Concat(perTarget...), nil
}

// errPerPrincipalRefused: AWS refused ListAccountAssignmentsForPrincipal.
var errPerPrincipalRefused = errors.New("ListAccountAssignmentsForPrincipal refused")

// principal is a user or group to list the assignments of.
type principal struct {
	id  string
	typ ssotypes.PrincipalType
}

// assignmentsPerPrincipal lists the account assignments of every group and
// user of dir with ListAccountAssignmentsForPrincipal (groups first, so the
// listing of their members starts early) and hands each group that holds
// one to foundGroup. It returns errPerPrincipalRefused when AWS refuses the
// first call.
func (r *inventoryRun) assignmentsPerPrincipal(ctx context.Context, instanceARN string, dir directory, listing preflight.AssignmentListing,
	done map[int]bool, foundGroup func(context.Context, string) error,
) ([]ssotypes.AccountAssignment, error) {
	principals := make([]principal, 0, len(dir.groupIDs)+len(dir.userIDs))
	for _, id := range dir.groupIDs {
		principals = append(principals, principal{id: id, typ: ssotypes.PrincipalTypeGroup})
	}
	for _, id := range dir.userIDs {
		principals = append(principals, principal{id: id, typ: ssotypes.PrincipalTypeUser})
	}
	todo := remaining(len(principals), done)
	if len(todo) == 0 {
		return nil, nil
	}

	part := r.progress.Begin("assignments", len(principals))
	defer part.End()
	part.Add(len(principals) - len(todo))
	perPrincipal := make([][]ssotypes.AccountAssignment, len(principals))
	list := func(ctx context.Context, j int) error {
		i := todo[j]
		p := principals[i]
		pages := ssoadmin.NewListAccountAssignmentsForPrincipalPaginator(r.a.SSOAdmin, &ssoadmin.ListAccountAssignmentsForPrincipalInput{
			InstanceArn: aws.String(instanceARN), PrincipalId: aws.String(p.id), PrincipalType: p.typ, MaxResults: aws.Int32(pageSize),
		})
		for pages.HasMorePages() {
			out, err := pages.NextPage(ctx)
			if j == 0 && isAccessDenied(err) {
				return errPerPrincipalRefused
			}
			if err != nil {
				return r.callError(err, fmt.Sprintf("list the assignments of %s %s", p.typ, p.id), false)
			}
			for _, as := range out.AccountAssignments {
				perPrincipal[i] = append(perPrincipal[i], ssotypes.AccountAssignment{
					AccountId: as.AccountId, PermissionSetArn: as.PermissionSetArn, PrincipalId: as.PrincipalId, PrincipalType: as.PrincipalType,
				})
			}
		}
		if p.typ == ssotypes.PrincipalTypeGroup && len(perPrincipal[i]) > 0 {
			if err := foundGroup(ctx, p.id); err != nil {
				return err
			}
		}
		part.Add(1)
		return r.checkpoints.unitDone(ctx, listing, i, perPrincipal[i])
	}
	// The first call alone: if AWS refuses the operation, it refuses it
	// once, and the listing falls back before anything else is spent.
	if err := list(ctx, 0); err != nil {
		return nil, err
	}
	err := progress.ForEach(ctx, r.a.concurrency(), len(todo)-1, func(ctx context.Context, j int) error { return list(ctx, j+1) })
	if err != nil {
		return nil, err
	}
	return slices.Concat(perPrincipal...), nil
}

// isAccessDenied reports whether err is AWS's AccessDeniedException.
func isAccessDenied(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDeniedException"
}

// memberLister lists the members of each assigned group, once, as the
// assignment listing finds it.
type memberLister struct {
	r *inventoryRun
	// users holds one copy of each user's ID, which members share: a user
	// is a member of many groups (a million memberships at 100,000 users),
	// and each page decodes its own copy.
	users map[string]preflight.AWSUser

	mu      sync.Mutex
	seen    map[string]bool     // groups handed to the listing
	members map[string][]string // member user IDs by group ID
}

// newMemberLister returns a lister whose members share the IDs of users
// (which may be nil).
func newMemberLister(r *inventoryRun, users map[string]preflight.AWSUser) *memberLister {
	return &memberLister{r: r, users: users, members: map[string][]string{}, seen: map[string]bool{}}
}

// firstSight reports whether group id is seen for the first time.
func (m *memberLister) firstSight(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[id] {
		return false
	}
	m.seen[id] = true
	return true
}

// listAsFound lists the members of every group that arrives on found, at
// most Concurrency at a time, until found is closed.
func (m *memberLister) listAsFound(ctx context.Context, found <-chan string) error {
	part := m.r.progress.Begin("members", 0)
	defer part.End()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.r.a.concurrency())
	for id := range found {
		if gctx.Err() != nil {
			break // a listing failed: g.Wait returns why
		}
		part.More(1)
		g.Go(func() error {
			if err := m.list(gctx, id); err != nil {
				return err
			}
			part.Add(1)
			return nil
		})
	}
	return g.Wait()
}

// listEach lists the members of each of groupIDs, at most Concurrency at a
// time, as progress step step.
func (m *memberLister) listEach(ctx context.Context, step string, groupIDs []string) error {
	part := m.r.progress.Begin(step, len(groupIDs))
	defer part.End()
	return progress.ForEach(ctx, m.r.a.concurrency(), len(groupIDs), func(ctx context.Context, i int) error {
		if err := m.list(ctx, groupIDs[i]); err != nil {
			return err
		}
		part.Add(1)
		return nil
	})
}

// list reads the members of group id with ListGroupMemberships. A group
// deleted meanwhile has no members.
func (m *memberLister) list(ctx context.Context, id string) error {
	r := m.r
	ids := []string{}
	pages := identitystore.NewListGroupMembershipsPaginator(r.a.IdentityStore, &identitystore.ListGroupMembershipsInput{
		IdentityStoreId: aws.String(r.in.IdentityStoreID), GroupId: aws.String(id), MaxResults: aws.Int32(pageSize),
	})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if isNotFound(err) {
			// The group was deleted but its assignments stayed: they are
			// reported as unresolved, and it has no members.
			break
		}
		if err != nil {
			return r.callError(err, "list the members of group "+id, false)
		}
		for _, membership := range out.GroupMemberships {
			if u, ok := membership.MemberId.(*idtypes.MemberIdMemberUserId); ok {
				if known, ok := m.users[u.Value]; ok {
					ids = append(ids, known.ID)
				} else {
					ids = append(ids, u.Value)
				}
			}
		}
	}
	m.mu.Lock()
	m.members[id] = ids
	m.mu.Unlock()
	return r.checkpoints.groupDone(ctx, id, ids)
}
