package preflight

import (
	"fmt"
	"strings"

	"github.com/platformguide/ssocutover/internal/attrmap"
)

// compileMappings parses the job's user mappings once and notes where the
// attributes the rules look at are.
func (a *analysis) compileMappings(set attrmap.Set) {
	a.mappings = set.Compile()
	index := func(target string) int {
		for i, m := range a.mappings.Users {
			if m.Target == target {
				return i
			}
		}
		return -1
	}
	a.userName, a.email = index(attrmap.TargetUserName), index(attrmap.TargetWorkEmail)
	a.givenName, a.familyName, a.displayName = index(attrmap.TargetGivenName), index(attrmap.TargetFamilyName), index(attrmap.TargetDisplayName)
	source, plain := a.mappings.UserNameSource()
	a.userNameChanged = a.userName >= 0 && (!plain || !strings.EqualFold(source, "userPrincipalName"))
	if a.userNameChanged {
		a.usersByLowerUPN = make(map[string][]int, len(a.entra.Users))
	}
}

// userNameOf is the userName provisioning sends for Entra user u; the
// userPrincipalName when the userName mapping could not be evaluated, so
// the other rules still say something useful (and mapping-not-evaluated
// says why they may be wrong).
func (a *analysis) userNameOf(u int) string {
	if a.userName < 0 {
		return a.entra.Users[u].UserPrincipalName
	}
	return a.sent[u][a.userName]
}

// sentValue is what provisioning sends for u in the mapping at index i
// ("" when i is -1: not mapped).
func (a *analysis) sentValue(u, i int) string {
	if i < 0 {
		return ""
	}
	return a.sent[u][i]
}

// describeSource names where a mapped attribute comes from for a person who
// fixes it in Entra: the Entra attribute of a plain mapping ("givenName"),
// or the AWS attribute and its expression.
func (a *analysis) describeSource(i int) string {
	m := a.mappings.Users[i]
	if strings.HasPrefix(m.Source, "[") && strings.HasSuffix(m.Source, "]") && strings.Count(m.Source, "[") == 1 {
		return strings.Trim(m.Source, "[]")
	}
	return fmt.Sprintf("%s (mapped from %s)", m.Target, m.Source)
}

// checkMappings reports mappings that differ from the gallery app's, so a
// person knows the users were judged by them, and mappings the preflight
// could not evaluate.
func (a *analysis) checkMappings() {
	origin := a.mappings.Origin
	if changed := a.entra.UserMappings().Changed(); len(changed) > 0 {
		a.add(MappingsChanged, Warning, fmt.Sprintf(
			"The user attribute mappings (%s) differ from the gallery app's: %s. The users were judged as these mappings send them; "+
				"check that this is what AWS should receive.",
			origin, strings.Join(changed, "; ")), []string{"user mappings"})
	}
	unevaluatedUserName := false
	for _, problem := range a.mappings.Unevaluated {
		severity, consequence := Warning, "the users were judged without it; provision one user on demand in the portal to see what it sends"
		if strings.HasPrefix(problem, attrmap.TargetUserName+":") {
			unevaluatedUserName = true
			severity, consequence = Blocker, "so the preflight cannot tell which AWS user each Entra user becomes (it assumed the userPrincipalName); "+
				"check by provisioning one user on demand, then override this blocker, or map userName from an attribute"
		}
		a.add(MappingNotEvaluated, severity, fmt.Sprintf(
			"The mapping %s (%s) cannot be evaluated by the preflight, %s.", problem, origin, consequence),
			[]string{strings.SplitN(problem, ":", 2)[0]})
	}
	if a.userName < 0 && !unevaluatedUserName {
		a.add(MappingNotEvaluated, Blocker, fmt.Sprintf(
			"The user mappings (%s) do not map userName, which AWS requires and matches users on, so provisioning creates no user; "+
				"map userName (the gallery maps it from userPrincipalName).", origin), []string{attrmap.TargetUserName})
	}
}
