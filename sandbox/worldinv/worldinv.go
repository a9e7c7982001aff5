// Package worldinv derives, from a world, the inventories a correct
// preflight reads from it: what the AWS and Entra inventory activities must
// produce when they run against a sandbox serving that world. Tests compare
// the activities' output with it, and the analysis tests use it to turn a
// hand-made world into inventories without a sandbox.
//
// IDs are the sandbox's, from world.StableID:
//
//	AWS user      StableID("aws-user", userName)
//	AWS group     StableID("aws-group", displayName)
//	Entra user    StableID("entra-user", lower(userPrincipalName))
//	Entra group   StableID("entra-group", fmt.Sprint(index, displayName)), index in w.Entra.Groups
//	permission set ARN  world.PermissionSetARN(instanceArn, name)
//
// Order (so that two correct inventories are equal value for value):
//
//	AWS permission sets   by name
//	AWS accounts          by ID
//	AWS groups            by displayName; members by userName
//	AWS users             by userName
//	AWS assignments       by account ID, permission set name, principal type, principal name
//	Entra group matches   in the order of the AWS groups
//	Entra candidates      by ID; member IDs by ID; nested groups and nested-only users by name
//	Entra users           by lower-case userPrincipalName
package worldinv

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/platformguide/ssocutover/internal/attrmap"
	"github.com/platformguide/ssocutover/internal/preflight"

	"github.com/platformguide/ssocutover/sandbox/world"
)

// AWS is the snapshot of w's Identity Center instance: every permission set,
// every assignment (repeats collapsed, as AWS keeps an assignment once), the
// groups that hold at least one assignment with their members, and the users
// who hold access (members of those groups and directly assigned users).
func AWS(w *world.World) preflight.AWS {
	usersByName := make(map[string]*world.AWSUser, len(w.AWS.Users))
	for i := range w.AWS.Users {
		usersByName[w.AWS.Users[i].UserName] = &w.AWS.Users[i]
	}

	inv := preflight.AWS{
		InstanceARN:     w.AWS.InstanceARN,
		IdentityStoreID: w.AWS.IdentityStoreID,
		Region:          w.AWS.Region,
		PermissionSets:  make([]preflight.PermissionSet, 0, len(w.AWS.PermissionSets)),
		Accounts:        []string{},
		Assignments:     make([]preflight.Assignment, 0, len(w.AWS.Assignments)),
		Groups:          []preflight.AWSGroup{},
	}
	arns := make(map[string]string, len(w.AWS.PermissionSets)) // name -> ARN
	for _, ps := range w.AWS.PermissionSets {
		arns[ps.Name] = world.PermissionSetARN(w.AWS.InstanceARN, ps.Name)
		inv.PermissionSets = append(inv.PermissionSets, preflight.PermissionSet{ARN: arns[ps.Name], Name: ps.Name})
	}
	slices.SortFunc(inv.PermissionSets, func(a, b preflight.PermissionSet) int { return cmp.Compare(a.Name, b.Name) })

	seen := make(map[world.Assignment]bool, len(w.AWS.Assignments))
	accounts := map[string]bool{}
	assignedGroups := map[string]bool{}
	holders := map[string]bool{} // user names of the users who hold access
	for _, a := range w.AWS.Assignments {
		if seen[a] {
			continue
		}
		seen[a] = true
		accounts[a.Account] = true
		out := preflight.Assignment{
			AccountID:         a.Account,
			PermissionSetARN:  arns[a.PermissionSet],
			PermissionSetName: a.PermissionSet,
		}
		if a.Group != "" {
			assignedGroups[a.Group] = true
			out.PrincipalType = preflight.PrincipalGroup
			out.PrincipalID = world.StableID("aws-group", a.Group)
			out.PrincipalName = a.Group
		} else {
			holders[a.User] = true
			out.PrincipalType = preflight.PrincipalUser
			out.PrincipalID = world.StableID("aws-user", a.User)
			out.PrincipalName = a.User
		}
		inv.Assignments = append(inv.Assignments, out)
	}
	slices.SortFunc(inv.Assignments, compareAssignments)

	for id := range accounts {
		inv.Accounts = append(inv.Accounts, id)
	}
	slices.Sort(inv.Accounts)

	inv.Applications = applications(w, assignedGroups, holders)

	for _, g := range w.AWS.Groups {
		if !assignedGroups[g.DisplayName] {
			continue
		}
		members := sortedUnique(g.Members)
		for _, m := range members {
			holders[m] = true
		}
		inv.Groups = append(inv.Groups, preflight.AWSGroup{
			ID:              world.StableID("aws-group", g.DisplayName),
			DisplayName:     g.DisplayName,
			MemberUserNames: members,
		})
	}
	slices.SortFunc(inv.Groups, func(a, b preflight.AWSGroup) int { return cmp.Compare(a.DisplayName, b.DisplayName) })

	inv.Users = make([]preflight.AWSUser, 0, len(holders))
	for name := range holders {
		u := usersByName[name]
		if u == nil {
			continue // an invalid world; Validate reports it
		}
		inv.Users = append(inv.Users, preflight.AWSUser{
			ID:          world.StableID("aws-user", u.UserName),
			UserName:    u.UserName,
			DisplayName: u.DisplayName,
			Email:       u.Email,
		})
	}
	slices.SortFunc(inv.Users, func(a, b preflight.AWSUser) int { return cmp.Compare(a.UserName, b.UserName) })
	return inv
}

// applications are w's applications with their assignments, sorted by
// name; their groups join assignedGroups and their users holders.
func applications(w *world.World, assignedGroups, holders map[string]bool) []preflight.Application {
	var apps []preflight.Application
	management := "123456789012"
	if len(w.AWS.Accounts) > 0 {
		management = w.AWS.Accounts[0].ID
	}
	for _, app := range w.AWS.Applications {
		out := preflight.Application{
			ARN:                world.ApplicationARN(w.AWS.InstanceARN, management, app.Name),
			Name:               app.Name,
			AssignmentRequired: !app.AssignmentNotRequired,
			Assignments:        []preflight.ApplicationAssignment{},
		}
		seen := map[world.ApplicationAssignment]bool{}
		for _, a := range app.Assignments {
			if seen[a] {
				continue
			}
			seen[a] = true
			if a.Group != "" {
				assignedGroups[a.Group] = true
				out.Assignments = append(out.Assignments, preflight.ApplicationAssignment{
					PrincipalType: preflight.PrincipalGroup, PrincipalID: world.StableID("aws-group", a.Group), PrincipalName: a.Group})
			} else {
				holders[a.User] = true
				out.Assignments = append(out.Assignments, preflight.ApplicationAssignment{
					PrincipalType: preflight.PrincipalUser, PrincipalID: world.StableID("aws-user", a.User), PrincipalName: a.User})
			}
		}
		slices.SortFunc(out.Assignments, preflight.CompareApplicationAssignments)
		apps = append(apps, out)
	}
	slices.SortFunc(apps, func(a, b preflight.Application) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ARN, b.ARN))
	})
	return apps
}

func compareAssignments(a, b preflight.Assignment) int {
	return cmp.Or(
		cmp.Compare(a.AccountID, b.AccountID),
		cmp.Compare(a.PermissionSetName, b.PermissionSetName),
		cmp.Compare(a.PrincipalType, b.PrincipalType),
		cmp.Compare(a.PrincipalName, b.PrincipalName),
	)
}

// Entra is what w's tenant holds for the groups and users of the AWS
// snapshot aws: for every AWS group, the Entra groups of the same display
// name (compared case-insensitively, as a Graph $filter on displayName
// compares), and the Entra users that are direct members of those groups or
// whose userPrincipalName equals an AWS user's userName (case-insensitively).
//
// A nested group is named in MemberGroups by display name; every Entra group
// of exactly that name is nested. NestedOnlyUsers follows nesting
// transitively (cycles are harmless) and names the users with their own
// spelling of userPrincipalName.
func Entra(w *world.World, aws preflight.AWS) preflight.Entra {
	tenant := newTenant(w)

	// A world's tenant has no enterprise app before the cutover, so the
	// inventory judges users by the gallery's mappings.
	inv := preflight.Entra{
		TenantID: w.Entra.TenantID,
		Groups:   make([]preflight.GroupMatch, 0, len(aws.Groups)),
		Mappings: attrmap.GalleryDefaults(),
	}
	included := make([]bool, len(w.Entra.Users)) // by index in w.Entra.Users
	for _, g := range aws.Groups {
		match := preflight.GroupMatch{DisplayName: g.DisplayName, Candidates: []preflight.EntraGroup{}}
		for _, gi := range tenant.groupsByLowerName[strings.ToLower(g.DisplayName)] {
			candidate := tenant.group(gi)
			match.Candidates = append(match.Candidates, candidate)
			for _, m := range w.Entra.Groups[gi].Members {
				if ui, ok := tenant.userByLowerUPN[strings.ToLower(m)]; ok {
					included[ui] = true
				}
			}
		}
		slices.SortFunc(match.Candidates, func(a, b preflight.EntraGroup) int { return cmp.Compare(a.ID, b.ID) })
		inv.Groups = append(inv.Groups, match)
	}
	for _, u := range aws.Users {
		if ui, ok := tenant.userByLowerUPN[strings.ToLower(u.UserName)]; ok {
			included[ui] = true
		}
	}

	var order []int
	for ui, in := range included {
		if in {
			order = append(order, ui)
		}
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(tenant.lowerUPNs[a], tenant.lowerUPNs[b]) })
	inv.Users = make([]preflight.EntraUser, 0, len(order))
	for _, ui := range order {
		u := w.Entra.Users[ui]
		inv.Users = append(inv.Users, preflight.EntraUser{
			ID:                tenant.userIDs[ui],
			UserPrincipalName: u.UserPrincipalName,
			Mail:              u.Mail,
			GivenName:         u.GivenName,
			Surname:           u.Surname,
			DisplayName:       u.DisplayName,
			OtherMails:        slices.Clone(u.OtherMails),
		})
	}
	return inv
}

// tenant indexes a world's Entra side.
type tenant struct {
	w                 *world.World
	userByLowerUPN    map[string]int // index in w.Entra.Users
	lowerUPNs         []string       // by index in w.Entra.Users
	userIDs           []string
	groupsByName      map[string][]int // exact display name, for nesting
	groupsByLowerName map[string][]int // case-insensitive, for matching
}

func newTenant(w *world.World) *tenant {
	t := &tenant{
		w:                 w,
		userByLowerUPN:    make(map[string]int, len(w.Entra.Users)),
		lowerUPNs:         make([]string, len(w.Entra.Users)),
		userIDs:           make([]string, len(w.Entra.Users)),
		groupsByName:      make(map[string][]int, len(w.Entra.Groups)),
		groupsByLowerName: make(map[string][]int, len(w.Entra.Groups)),
	}
	for i, u := range w.Entra.Users {
		key := strings.ToLower(u.UserPrincipalName)
		t.userByLowerUPN[key] = i
		t.lowerUPNs[i] = key
		t.userIDs[i] = world.StableID("entra-user", key)
	}
	for i, g := range w.Entra.Groups {
		t.groupsByName[g.DisplayName] = append(t.groupsByName[g.DisplayName], i)
		lower := strings.ToLower(g.DisplayName)
		t.groupsByLowerName[lower] = append(t.groupsByLowerName[lower], i)
	}
	return t
}

// group describes the Entra group at index gi as the inventory holds it.
func (t *tenant) group(gi int) preflight.EntraGroup {
	g := t.w.Entra.Groups[gi]
	out := preflight.EntraGroup{
		ID:              world.StableID("entra-group", fmt.Sprint(gi, g.DisplayName)),
		DisplayName:     g.DisplayName,
		SecurityEnabled: g.SecurityEnabled,
		MemberIDs:       []string{},
	}

	owners := map[int]bool{}
	for _, o := range g.Owners {
		if ui, ok := t.userByLowerUPN[strings.ToLower(o)]; ok {
			owners[ui] = true
		}
	}
	out.OwnerCount = len(owners)

	direct := map[int]bool{}
	for _, m := range g.Members {
		if ui, ok := t.userByLowerUPN[strings.ToLower(m)]; ok && !direct[ui] {
			direct[ui] = true
			out.MemberIDs = append(out.MemberIDs, t.userIDs[ui])
		}
	}
	slices.Sort(out.MemberIDs)

	if len(g.MemberGroups) == 0 {
		return out
	}
	out.NestedGroups = sortedUnique(g.MemberGroups)

	// Walk the nested groups breadth first; every user met there who is not
	// a direct member is reached only through nesting.
	visited := map[int]bool{gi: true}
	queue := []int{}
	enqueue := func(names []string) {
		for _, name := range names {
			for _, ni := range t.groupsByName[name] {
				if !visited[ni] {
					visited[ni] = true
					queue = append(queue, ni)
				}
			}
		}
	}
	enqueue(g.MemberGroups)
	nestedOnly := map[int]bool{}
	for len(queue) > 0 {
		nested := t.w.Entra.Groups[queue[0]]
		queue = queue[1:]
		for _, m := range nested.Members {
			if ui, ok := t.userByLowerUPN[strings.ToLower(m)]; ok && !direct[ui] {
				nestedOnly[ui] = true
			}
		}
		enqueue(nested.MemberGroups)
	}
	for ui := range nestedOnly {
		out.NestedOnlyUsers = append(out.NestedOnlyUsers, t.w.Entra.Users[ui].UserPrincipalName)
	}
	slices.Sort(out.NestedOnlyUsers)
	return out
}

// sortedUnique returns a sorted copy of names without repeats; never nil.
func sortedUnique(names []string) []string {
	out := slices.Clone(names)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
