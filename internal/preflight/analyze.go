package preflight

import (
	"cmp"
	"slices"
	"strings"

	"github.com/platformguide/ssocutover/internal/attrmap"
)

// Analyze applies every preflight rule to the two inventories. It is pure and
// deterministic: the same inventories give the same report, findings sorted
// blockers first, then by code, then by names. Its cost grows with the size
// of the inventories (maps, no pairwise comparisons), so 100,000 users are
// fine.
//
// Words used below: a group is *matched* when Entra has exactly one group of
// its display name (compared case-insensitively, as Entra matches groups by
// displayName). The *users to provision* are the direct user members of the
// matched groups: what the provisioning job creates in AWS once the group
// blockers are fixed (provisioning never follows nested groups). A user is
// *provisioned* when a direct member of a matched, security-enabled group
// (only those can be assigned to the app). A user's userName, e-mail and
// names are what the provisioning job's user mappings send (Entra.Mappings;
// the gallery's by default: userName from userPrincipalName, the work
// e-mail from mail, none when mail is empty). Names in findings are AWS group
// display names, Entra nested group names, AWS userNames and Entra
// userPrincipalNames, sorted.
//
// The rules, with why each is a blocker or a warning. Group rules give one
// finding per AWS group; user rules one per user, or per set of clashing
// users.
//
//   - missing-group, blocker: no Entra group has the AWS group's display
//     name. Its account assignments cannot be restored after the switch, so
//     its members lose that access.
//   - ambiguous-group, blocker: two or more Entra groups have that name.
//     Entra adopts AWS groups by displayName; which one wins is undefined.
//   - group-not-security-enabled, blocker: the matched Entra group is not
//     security-enabled. Entra cannot assign it to the app, so it is never
//     provisioned.
//   - group-without-owner, warning: the matched Entra group has no owner.
//     Provisioning works; nobody is accountable for who gets the access.
//   - empty-group, warning: the matched Entra group has no direct user
//     member. It arrives in AWS empty and nobody gets its access, which may
//     be intended.
//   - nested-group: the matched Entra group has groups as members, and
//     provisioning carries only direct members. Blocker when a user reached
//     only through nesting is a member of the AWS group today (that user
//     loses the access); warning otherwise (nothing is lost, but the nesting
//     grants nothing in AWS).
//   - member-not-in-entra-group, warning: a member of the AWS group exists in
//     Entra but is neither a direct nor a nested member of the matched group.
//     Entra's membership becomes the truth: right if the person left the
//     team, a loss if not, so a person must look.
//   - duplicate-email, blocker: users to provision are sent with the same
//     e-mail (case-insensitively); AWS keeps e-mails unique and refuses the
//     second user. Users sent without an e-mail do not clash.
//   - duplicate-username, blocker: users to provision are sent with the
//     same userName (case-insensitively), which AWS keeps unique.
//   - missing-attribute, blocker: a user to provision is sent without a
//     userName, given name, family name or displayName. AWS SCIM requires
//     them; the user is not created.
//   - invalid-character, blocker: an attribute provisioning sends for a
//     user to provision holds a tab, a line break or one of " < > | ; : %.
//     Provisioning that user fails.
//   - user-not-in-entra, blocker: an AWS user who holds access has no Entra
//     user sent with its userName (case-insensitively).
//     Nobody is provisioned under that userName; the person loses access.
//   - username-mapping-mismatch, blocker: the job maps userName otherwise
//     than the gallery, and an AWS user who holds access would be adopted by
//     an Entra user under the gallery's mapping but not under this one.
//     Provisioning creates a second AWS user; the access stays behind.
//   - mapping-not-evaluated: a mapping uses a function the preflight does
//     not evaluate (attrmap says which). Warning; blocker for userName, on
//     which every user rule depends, and when userName is not mapped.
//   - mappings-changed, warning: the mappings differ from the gallery's, so
//     a person confirms that AWS should receive what they send.
//   - user-assignment: a direct user assignment. Warning when the user is
//     provisioned: the assignment is restored by userName, but group
//     assignments are easier to audit. Blocker when not: the assignment has
//     no principal after the switch and is lost.
//
// The checks on a group's Entra side are made only for matched groups: for a
// missing or ambiguous group there is no single Entra group to look at.
// otherMails is not checked unless a mapping sends it.
func Analyze(aws AWS, entra Entra) Report {
	a := newAnalysis(aws, entra)
	for i := range aws.Groups {
		a.checkGroup(i)
	}
	a.checkMappings()
	a.checkUsersToProvision()
	a.checkAWSUsers()
	a.checkUserAssignments()

	slices.SortFunc(a.findings, compareFindings)
	return Report{Findings: a.findings, Stats: a.stats()}
}

// analysis holds the indexes the rules look things up in. Entra users are
// referred to by their index in entra.Users, so that per-user facts are
// slices rather than maps: at 100,000 users, map lookups dominate the cost.
type analysis struct {
	aws   AWS
	entra Entra

	findings []Finding

	// mappings are the user mappings the job applies, sent[u] what they
	// send for Entra user u, and userName... the index of each attribute
	// the rules look at in mappings.Users (-1: not mapped).
	mappings                               attrmap.Compiled
	sent                                   []attrmap.User
	userName, email, givenName, familyName int
	displayName                            int
	userNameChanged                        bool

	userByID        map[string]int   // Entra user ID -> index
	usersByUserName map[string][]int // lower-case userName sent -> indexes
	// sharedUserNames are the keys of usersByUserName with more than one
	// user.
	sharedUserNames []string
	// usersByLowerUPN is filled only when userName is not mapped from the
	// userPrincipalName as the gallery maps it: lower-case
	// userPrincipalName -> indexes, to find the AWS users that mapping would
	// have matched.
	usersByLowerUPN map[string][]int

	// matched[i] is the one Entra group of aws.Groups[i]'s name, nil when
	// the group is missing or ambiguous; directMembers[i] are its direct
	// members found in entra.Users.
	matched       []*EntraGroup
	candidates    []int
	directMembers [][]int
	matchedGroups int
	// checkedGroup[u] is i while checkGroup(i) runs if Entra user u is a
	// direct member of aws.Groups[i]'s Entra group: a membership test with
	// no map per group.
	checkedGroup []int

	// toProvision and provisioned are indexed by Entra user (see Analyze).
	toProvision      []bool
	provisioned      []bool
	usersToProvision int

	directAssignments map[string]int // AWS userName -> direct assignments
	accounts          map[string]bool
	groupAssignments  int
	userAssignments   int
}

func newAnalysis(aws AWS, entra Entra) *analysis {
	a := &analysis{
		aws:               aws,
		entra:             entra,
		findings:          []Finding{},
		userByID:          make(map[string]int, len(entra.Users)),
		usersByUserName:   make(map[string][]int, len(entra.Users)),
		sent:              make([]attrmap.User, len(entra.Users)),
		matched:           make([]*EntraGroup, len(aws.Groups)),
		candidates:        make([]int, len(aws.Groups)),
		directMembers:     make([][]int, len(aws.Groups)),
		checkedGroup:      make([]int, len(entra.Users)),
		toProvision:       make([]bool, len(entra.Users)),
		provisioned:       make([]bool, len(entra.Users)),
		directAssignments: map[string]int{},
		accounts:          make(map[string]bool, len(aws.Accounts)),
	}
	a.compileMappings(entra.UserMappings())
	for i, u := range entra.Users {
		a.checkedGroup[i] = -1
		a.userByID[u.ID] = i
		a.sent[i] = a.mappings.Apply(u.Attribute)
		key := strings.ToLower(a.userNameOf(i))
		a.usersByUserName[key] = append(a.usersByUserName[key], i)
		if len(a.usersByUserName[key]) == 2 {
			a.sharedUserNames = append(a.sharedUserNames, key)
		}
		if a.usersByLowerUPN != nil {
			upn := strings.ToLower(u.UserPrincipalName)
			a.usersByLowerUPN[upn] = append(a.usersByLowerUPN[upn], i)
		}
	}

	matchByName := make(map[string][]EntraGroup, len(entra.Groups))
	for _, m := range entra.Groups {
		matchByName[m.DisplayName] = m.Candidates
	}
	for i, g := range aws.Groups {
		candidates := matchByName[g.DisplayName]
		a.candidates[i] = len(candidates)
		if len(candidates) != 1 {
			continue
		}
		group := &candidates[0]
		a.matched[i] = group
		a.matchedGroups++
		for _, id := range group.MemberIDs {
			u, ok := a.userByID[id]
			if !ok {
				continue // not in the inventory's users: nothing to check
			}
			a.directMembers[i] = append(a.directMembers[i], u)
			if !a.toProvision[u] {
				a.toProvision[u] = true
				a.usersToProvision++
			}
			a.provisioned[u] = a.provisioned[u] || group.SecurityEnabled
		}
	}

	for _, id := range aws.Accounts {
		a.accounts[id] = true
	}
	for _, as := range aws.Assignments {
		a.accounts[as.AccountID] = true
		switch as.PrincipalType {
		case PrincipalGroup:
			a.groupAssignments++
		case PrincipalUser:
			a.userAssignments++
			a.directAssignments[as.PrincipalName]++
		}
	}
	return a
}

func (a *analysis) add(code Code, severity Severity, message string, names ...[]string) {
	var all []string
	for _, n := range names {
		all = append(all, n...)
	}
	slices.Sort(all)
	a.findings = append(a.findings, Finding{Code: code, Severity: severity, Names: slices.Compact(all), Message: message})
}

func (a *analysis) stats() Stats {
	return Stats{
		Groups:           len(a.aws.Groups),
		MatchedGroups:    a.matchedGroups,
		AWSUsers:         len(a.aws.Users),
		UsersToProvision: a.usersToProvision,
		Assignments:      len(a.aws.Assignments),
		GroupAssignments: a.groupAssignments,
		UserAssignments:  a.userAssignments,
		Accounts:         len(a.accounts),
		PermissionSets:   len(a.aws.PermissionSets),
	}
}

// compareFindings orders blockers first, then by code, then by names (and by
// message, so that the order is total).
func compareFindings(x, y Finding) int {
	return cmp.Or(
		cmp.Compare(severityRank(x.Severity), severityRank(y.Severity)),
		cmp.Compare(x.Code, y.Code),
		slices.Compare(x.Names, y.Names),
		cmp.Compare(x.Message, y.Message),
	)
}

func severityRank(s Severity) int {
	if s == Blocker {
		return 0
	}
	return 1
}

// Summarize counts a report's findings by severity and by code (blockers
// first, then by code; a code that has both severities counts each), small
// enough for workflow history at any scale.
func Summarize(r Report) Summary {
	s := Summary{ByCode: []CodeCount{}, Stats: r.Stats}
	counts := map[CodeCount]int{}
	for _, f := range r.Findings {
		switch f.Severity {
		case Blocker:
			s.Blockers++
		default:
			s.Warnings++
		}
		counts[CodeCount{Code: f.Code, Severity: f.Severity}]++
	}
	for key, n := range counts {
		key.Count = n
		s.ByCode = append(s.ByCode, key)
	}
	slices.SortFunc(s.ByCode, func(x, y CodeCount) int {
		return cmp.Or(cmp.Compare(severityRank(x.Severity), severityRank(y.Severity)), cmp.Compare(x.Code, y.Code))
	})
	return s
}
