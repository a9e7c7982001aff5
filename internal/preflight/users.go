package preflight

import (
	"fmt"
	"slices"
	"strings"

	"github.com/platformguide/ssocutover/internal/words"
)

// invalidCharacters are the characters Entra provisioning to AWS rejects in
// the attributes it sends (tab, line breaks, and " < > | ; : %).
const invalidCharacters = "\t\n\r\"<>|;:%"

// checkUsersToProvision applies the rules on the users the provisioning job
// will create: unique e-mail and userName, required attributes, allowed
// characters.
func (a *analysis) checkUsersToProvision() {
	firstWithEmail := map[string]int{}    // lower-case e-mail -> first user to provision with it
	sharedEmails := map[string][]string{} // lower-case e-mail -> userPrincipalNames, when shared
	for i, u := range a.entra.Users {
		if !a.toProvision[i] {
			continue
		}
		email := strings.ToLower(emailOf(u))
		if first, shared := firstWithEmail[email]; !shared {
			firstWithEmail[email] = i
		} else if users := sharedEmails[email]; users == nil {
			sharedEmails[email] = []string{a.entra.Users[first].UserPrincipalName, u.UserPrincipalName}
		} else {
			sharedEmails[email] = append(users, u.UserPrincipalName)
		}

		if missing := missingAttributes(u); len(missing) > 0 {
			a.add(MissingAttribute, Blocker, fmt.Sprintf(
				"Entra user %q has no %s, which AWS requires, so provisioning cannot create the user; set it in Entra.",
				u.UserPrincipalName, strings.Join(missing, ", ")), []string{u.UserPrincipalName})
		}
		if bad := invalidAttributes(u); len(bad) > 0 {
			a.add(InvalidCharacter, Blocker, fmt.Sprintf(
				"Entra user %q has characters that provisioning to AWS rejects in %s; remove them in Entra.",
				u.UserPrincipalName, strings.Join(bad, ", ")), []string{u.UserPrincipalName})
		}
	}
	for email, users := range sharedEmails {
		a.add(DuplicateEmail, Blocker, fmt.Sprintf(
			"%d Entra users to provision share the e-mail %q (mail, or userPrincipalName when mail is empty; case-insensitive), "+
				"and AWS refuses all but the first; give each a mail of its own in Entra.",
			len(users), email), users)
	}

	for _, userName := range a.sharedUPNs {
		var users []string
		for _, i := range a.usersByLowerUPN[userName] {
			if a.toProvision[i] {
				users = append(users, a.entra.Users[i].UserPrincipalName)
			}
		}
		if len(users) > 1 {
			a.add(DuplicateUsername, Blocker, fmt.Sprintf(
				"%d Entra users to provision have the userPrincipalName %q (case-insensitive), which becomes their AWS userName, "+
					"and AWS refuses all but the first; change the userPrincipalName of all but one in Entra.",
				len(users), userName), users)
		}
	}
}

// emailOf is the e-mail provisioning sends for u: mail, or the
// userPrincipalName when mail is empty.
func emailOf(u EntraUser) string {
	if strings.TrimSpace(u.Mail) != "" {
		return u.Mail
	}
	return u.UserPrincipalName
}

func missingAttributes(u EntraUser) []string {
	var missing []string
	for _, attr := range []struct{ name, value string }{
		{"givenName", u.GivenName},
		{"surname", u.Surname},
		{"displayName", u.DisplayName},
	} {
		if strings.TrimSpace(attr.value) == "" {
			missing = append(missing, attr.name)
		}
	}
	return missing
}

// invalidAttributes describes each provisioned attribute of u that holds an
// invalid character, e.g. `displayName (";")`.
func invalidAttributes(u EntraUser) []string {
	var bad []string
	for _, attr := range []struct{ name, value string }{
		{"userPrincipalName", u.UserPrincipalName},
		{"mail", u.Mail},
		{"givenName", u.GivenName},
		{"surname", u.Surname},
		{"displayName", u.DisplayName},
	} {
		if !strings.ContainsAny(attr.value, invalidCharacters) {
			continue
		}
		var found []string
		for _, c := range invalidCharacters {
			if strings.ContainsRune(attr.value, c) {
				found = append(found, characterName(c))
			}
		}
		bad = append(bad, fmt.Sprintf("%s (%s)", attr.name, strings.Join(found, " ")))
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
		if len(a.usersByLowerUPN[strings.ToLower(u.UserName)]) == 0 {
			missing = append(missing, u.UserName)
		}
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
			"AWS user %q holds access (%s, %s) but no Entra user has that userPrincipalName, "+
				"so the user loses it; create the Entra user, or correct its userPrincipalName, if the person still needs access.",
			name, words.Count(groups[name], "assigned group"), words.Count(a.directAssignments[name], "direct assignment")), []string{name})
	}
}

// checkUserAssignments reports each user with direct account assignments:
// kept when the user is provisioned under the same userName, lost when not.
func (a *analysis) checkUserAssignments() {
	for userName, n := range a.directAssignments {
		provisioned := slices.ContainsFunc(a.usersByLowerUPN[strings.ToLower(userName)], func(u int) bool { return a.provisioned[u] })
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
