package preflight

import (
	"fmt"
	"slices"
	"strings"

	"github.com/platformguide/ssocutover/internal/words"
)

// checkGroup applies the group rules to aws.Groups[i], a group that holds
// assignments (see Analyze).
func (a *analysis) checkGroup(i int) {
	g := a.aws.Groups[i]
	name := []string{g.DisplayName}
	group := a.matched[i]
	if group == nil {
		candidates := a.candidates[i]
		if candidates == 0 {
			a.add(MissingGroup, Blocker, fmt.Sprintf(
				"Entra has no group named %q, so its AWS members (%s) lose the access it grants; "+
					"create a security group of that name in Entra with those members, or rename the existing one.",
				g.DisplayName, words.Count(len(g.MemberUserNames), "user")), name)
			return
		}
		a.add(AmbiguousGroup, Blocker, fmt.Sprintf(
			"Entra has %d groups named %q (compared case-insensitively), so provisioning cannot tell which one is the AWS group; "+
				"rename or delete all but one.",
			candidates, g.DisplayName), name)
		return
	}

	if !group.SecurityEnabled {
		a.add(GroupNotSecurityEnabled, Blocker, fmt.Sprintf(
			"Entra group %q is not security-enabled, so it cannot be assigned to the AWS app and is never provisioned; "+
				"make it a security group (or replace it with a security group of the same name).",
			g.DisplayName), name)
	}
	if group.OwnerCount == 0 {
		a.add(GroupWithoutOwner, Warning, fmt.Sprintf(
			"Entra group %q has no owner; add one so that someone is accountable for who gets this AWS access.",
			g.DisplayName), name)
	}
	if len(group.MemberIDs) == 0 {
		a.add(EmptyGroup, Warning, fmt.Sprintf(
			"Entra group %q has no direct user members, so it reaches AWS empty and nobody gets its access; "+
				"add the users who need it as direct members, unless that is intended.",
			g.DisplayName), name)
	}
	if len(group.NestedGroups) > 0 {
		a.checkNesting(g, group)
	}

	// Members who exist in Entra but are not in the Entra group at all
	// (nested-only members are reported by nested-group).
	for _, u := range a.directMembers[i] {
		a.checkedGroup[u] = i
	}
	direct := func(u int) bool { return a.checkedGroup[u] == i }
	nestedOnly := make(map[string]bool, len(group.NestedOnlyUsers))
	for _, u := range group.NestedOnlyUsers {
		nestedOnly[strings.ToLower(u)] = true
	}
	var left []string
	for _, m := range g.MemberUserNames {
		key := strings.ToLower(m)
		users := a.usersByUserName[key]
		if len(users) == 0 || nestedOnly[key] {
			continue // not in Entra (user-not-in-entra), or nested-only (nested-group)
		}
		if !slices.ContainsFunc(users, direct) {
			left = append(left, m)
		}
	}
	if len(left) > 0 {
		a.add(MemberNotInEntraGroup, Warning, fmt.Sprintf(
			"Entra group %q lacks %s that the AWS group has (they exist in Entra), so they lose its access; "+
				"add them to the Entra group if they still need it.",
			g.DisplayName, words.Count(len(left), "member")), name, left)
	}
}

// checkNesting reports a group whose Entra side nests other groups.
func (a *analysis) checkNesting(g AWSGroup, group *EntraGroup) {
	awsMembers := make(map[string]bool, len(g.MemberUserNames))
	for _, m := range g.MemberUserNames {
		awsMembers[strings.ToLower(m)] = true
	}
	losing := 0
	for _, u := range group.NestedOnlyUsers {
		if awsMembers[strings.ToLower(u)] {
			losing++
		}
	}
	nested := strings.Join(quoteAll(group.NestedGroups), ", ")
	names := [][]string{{g.DisplayName}, group.NestedGroups, group.NestedOnlyUsers}
	switch {
	case losing > 0:
		a.add(NestedGroup, Blocker, fmt.Sprintf(
			"Entra group %q reaches %s only through nested group(s) %s, and provisioning carries direct members only, "+
				"so %d of them lose the access they hold in AWS today; add them as direct members of %q.",
			g.DisplayName, words.Count(len(group.NestedOnlyUsers), "user"), nested, losing, g.DisplayName), names...)
	case len(group.NestedOnlyUsers) > 0:
		a.add(NestedGroup, Warning, fmt.Sprintf(
			"Entra group %q reaches %s only through nested group(s) %s, and provisioning carries direct members only, "+
				"so they do not get its AWS access (none holds it today); add them as direct members if they need it.",
			g.DisplayName, words.Count(len(group.NestedOnlyUsers), "user"), nested), names...)
	default:
		a.add(NestedGroup, Warning, fmt.Sprintf(
			"Entra group %q contains nested group(s) %s, which provisioning ignores; every user in them is also a direct member, "+
				"so nothing is lost, but remove the nesting to avoid surprises.",
			g.DisplayName, nested), names...)
	}
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}
