package preflight

import (
	"fmt"
	"slices"
	"strings"

	"github.com/platformguide/ssocutover/internal/attrmap"

	"github.com/platformguide/ssocutover/internal/words"
)

// invalidCharacters are the characters Entra provisioning to AWS rejects in
// the attributes it sends (tab, line breaks, and " < > | ; : %).
const invalidCharacters = "\t\n\r\"<>|;:%"

// checkUsersToProvision applies the rules on the users the provisioning job
// will create, as its mappings send them: unique e-mail and userName,
// required attributes, allowed characters.
func (a *analysis) checkUsersToProvision() {
	firstWithEmail := map[string]int{}    // lower-case e-mail -> first user to provision with it
	sharedEmails := map[string][]string{} // lower-case e-mail -> userPrincipalNames, when shared
	for i, u := range a.entra.Users {
		if !a.toProvision[i] {
			continue
		}
		// A user the mapping sends no e-mail for has none in AWS, which
		// AWS accepts: only e-mails sent can clash.
		if email := strings.ToLower(a.sentValue(i, a.email)); email != "" {
			if first, shared := firstWithEmail[email]; !shared {
				firstWithEmail[email] = i
			} else if users := sharedEmails[email]; users == nil {
				sharedEmails[email] = []string{a.entra.Users[first].UserPrincipalName, u.UserPrincipalName}
			} else {
				sharedEmails[email] = append(users, u.UserPrincipalName)
			}
		}

		if missing := a.missingAttributes(i); len(missing) > 0 {
			a.add(MissingAttribute, Blocker, fmt.Sprintf(
				"Entra user %q has no %s, which AWS requires, so provisioning cannot create the user; set it in Entra.",
				u.UserPrincipalName, strings.Join(missing, ", ")), []string{u.UserPrincipalName})
		}
		if bad := a.invalidAttributes(i); len(bad) > 0 {
			a.add(InvalidCharacter, Blocker, fmt.Sprintf(
				"Entra user %q has characters that provisioning to AWS rejects in %s; remove them in Entra.",
				u.UserPrincipalName, strings.Join(bad, ", ")), []string{u.UserPrincipalName})
		}
	}
	for email, users := range sharedEmails {
		a.add(DuplicateEmail, Blocker, fmt.Sprintf(
			"%d Entra users to provision are sent with the e-mail %q (%s; case-insensitive), "+
				"and AWS refuses all but the first; give each a mail of its own in Entra.",
			len(users), email, a.describeSource(a.email)), users)
	}

	for _, userName := range a.sharedUserNames {
		var users []string
		for _, i := range a.usersByUserName[userName] {
			if a.toProvision[i] {
				users = append(users, a.entra.Users[i].UserPrincipalName)
			}
		}
		if len(users) > 1 {
			a.add(DuplicateUsername, Blocker, fmt.Sprintf(
				"%d Entra users to provision are sent with the userName %q (%s; case-insensitive), "+
					"and AWS refuses all but the first; change it for all but one in Entra.",
				len(users), userName, a.describeUserName()), users)
		}
	}
}

func (a *analysis) describeUserName() string {
	if a.userName < 0 {
		return "userPrincipalName"
	}
	return a.describeSource(a.userName)
}

// missingAttributes names the attributes AWS requires that the mappings
// send empty for Entra user u.
func (a *analysis) missingAttributes(u int) []string {
	var missing []string
	for _, i := range []int{a.givenName, a.familyName, a.displayName} {
		if i >= 0 && strings.TrimSpace(a.sent[u][i]) == "" {
			missing = append(missing, a.describeSource(i))
		}
	}
	if a.userName >= 0 && strings.TrimSpace(a.sent[u][a.userName]) == "" {
		missing = append(missing, a.describeSource(a.userName))
	}
	return missing
}

// invalidAttributes describes each attribute the mappings send for Entra
// user u that holds an invalid character, e.g. `displayName (";")`.
func (a *analysis) invalidAttributes(u int) []string {
	var bad []string
	for i, value := range a.sent[u] {
		if !strings.ContainsAny(value, invalidCharacters) {
			continue
		}
		var found []string
		for _, c := range invalidCharacters {
			if strings.ContainsRune(value, c) {
				found = append(found, characterName(c))
			}
		}
		bad = append(bad, fmt.Sprintf("%s (%s)", a.describeSource(i), strings.Join(found, " ")))
	}
	return bad
}

func characterName(c rune) string {
	switch c {
	case '\t':
		return "tab"
	case '\n':
		return "newline"
	case '\r':
		return "carriage return"
	}
	return string(c)
}

// checkAWSUsers reports the AWS users who hold access but have no Entra user
// to be provisioned as.
func (a *analysis) checkAWSUsers() {
	var missing []string
	for _, u := range a.aws.Users {
		key := strings.ToLower(u.UserName)
		if len(a.usersByUserName[key]) > 0 {
			continue
		}
		if users := a.usersByLowerUPN[key]; len(users) > 0 {
			a.checkUserNameMapping(u.UserName, users[0])
			continue
		}
		missing = append(missing, u.UserName)
	}
	if len(missing) == 0 {
		return
	}
	// How each holds access, for the message.
	groups := make(map[string]int, len(missing))
	for _, name := range missing {
		groups[name] = 0
	}
	for _, g := range a.aws.Groups {
		for _, m := range g.MemberUserNames {
			if n, ok := groups[m]; ok {
				groups[m] = n + 1
			}
		}
	}
	for _, name := range missing {
		a.add(UserNotInEntra, Blocker, fmt.Sprintf(
			"AWS user %q holds access (%s, %s) but no Entra user is sent with that userName (%s), "+
				"so the user loses it; create the Entra user, or correct its %s, if the person still needs access.",
			name, words.Count(groups[name], "assigned group"), words.Count(a.directAssignments[name], "direct assignment"), a.describeUserName(), a.describeUserName()), []string{name})
	}
}

// checkUserNameMapping reports an AWS user whom the gallery's mapping would
// match (an Entra user has its userName as userPrincipalName) but the job's
// changed userName mapping does not: Entra creates a second AWS user
// instead of adopting this one, and the access stays with the old one.
func (a *analysis) checkUserNameMapping(awsUserName string, u int) {
	entraUser := a.entra.Users[u]
	a.add(UserNameMappingMismatch, Blocker, fmt.Sprintf(
		"Entra user %q would adopt AWS user %q under the gallery's mapping (userName from userPrincipalName), "+
			"but this job maps userName %s, which sends %q: provisioning creates a new AWS user instead, and %q's access does not follow. "+
			"Map userName from userPrincipalName again, or make the mapping send %q for this user.",
		entraUser.UserPrincipalName, awsUserName, strings.TrimPrefix(a.describeSource(a.userName), attrmap.TargetUserName+" "),
		a.userNameOf(u), awsUserName, awsUserName), []string{awsUserName})
}

// checkUserAssignments reports each user with direct account assignments:
// kept when the user is provisioned under the same userName, lost when not.
func (a *analysis) checkUserAssignments() {
	for userName, n := range a.directAssignments {
		provisioned := slices.ContainsFunc(a.usersByUserName[strings.ToLower(userName)], func(u int) bool { return a.provisioned[u] })
		if provisioned {
			a.add(UserAssignment, Warning, fmt.Sprintf(
				"AWS user %q is provisioned under the same userName, so the switch keeps its %s; "+
					"a group assignment would be easier to audit.",
				userName, words.Count(n, "direct account assignment")), []string{userName})
			continue
		}
		a.add(UserAssignment, Blocker, fmt.Sprintf(
			"AWS user %q is not a direct member of any matched, security-enabled Entra group, so the switch loses its %s; "+
				"add the user to such a group in Entra, or give that access through a group instead.",
			userName, words.Count(n, "direct account assignment")), []string{userName})
	}
}
