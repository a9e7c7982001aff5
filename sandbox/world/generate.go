package world

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// GenerateOptions size a generated world. Zero or negative sizes are raised
// to one (AssignmentsPerGroup is also capped at Accounts × PermissionSets).
type GenerateOptions struct {
	Users, Groups, Accounts, PermissionSets, AssignmentsPerGroup int
	// DirectUserAssignments are assignments to users rather than groups,
	// each to another user who will be provisioned (while there are enough),
	// so each shows up as a user-assignment warning.
	DirectUserAssignments int
	// ProblemRate plants problems for the preflight to find, each kind in
	// its own groups or users: round(ProblemRate × Groups) groups (at least
	// one) of each group kind (missing in Entra, ambiguous, not
	// security-enabled, without owner, nesting a group that holds some of
	// its AWS members) and round(ProblemRate × Users) users (at least one)
	// of each user kind (absent from Entra, missing attribute, invalid
	// character), and as many pairs of users sharing an e-mail. Fewer are
	// planted when the world is too small to hold them. Zero plants none:
	// the world is then clean.
	ProblemRate float64
	Seed        int64
}

// ScaledGenerateOptions are options for an organisation of the given number
// of users with the proportions the design budgets for (100,000 users,
// 10,000 groups, 1,000 accounts, 50,000 assignments) and 1% of problems.
func ScaledGenerateOptions(users int, seed int64) GenerateOptions {
	return GenerateOptions{
		Users:                 users,
		Groups:                max(1, users/10),
		Accounts:              max(3, users/100),
		PermissionSets:        min(100, max(4, users/1000)),
		AssignmentsPerGroup:   5,
		DirectUserAssignments: users / 1000,
		ProblemRate:           0.01,
		Seed:                  seed,
	}
}

// WideGenerateOptions are options for a "wide" organisation: few
// principals and many accounts and permission sets provisioned broadly (2,000
// users, 50 groups, 500 accounts, 20 permission sets, 200 assignments a
// group), where listing assignments per principal is far cheaper than per
// (account, permission set) pair, with 1% of problems.
func WideGenerateOptions(seed int64) GenerateOptions {
	return GenerateOptions{
		Users:                 2_000,
		Groups:                50,
		Accounts:              500,
		PermissionSets:        20,
		AssignmentsPerGroup:   200,
		DirectUserAssignments: 20,
		ProblemRate:           0.01,
		Seed:                  seed,
	}
}

// Generate builds a world from opts, the same world for the same options.
// The organisation is corp.example: user names are given.family@corp.example,
// groups are named aws-<team>-<role>, group sizes have a long tail (a few
// groups with a quarter of the users, most with a handful), every group holds
// AssignmentsPerGroup assignments, and Entra mirrors AWS except for the
// planted problems. The result passes Validate.
func Generate(opts GenerateOptions) *World {
	opts.Users = max(1, opts.Users)
	opts.Groups = max(1, opts.Groups)
	opts.Accounts = max(1, opts.Accounts)
	opts.PermissionSets = max(1, opts.PermissionSets)
	opts.AssignmentsPerGroup = min(max(1, opts.AssignmentsPerGroup), opts.Accounts*opts.PermissionSets)
	opts.DirectUserAssignments = max(0, opts.DirectUserAssignments)
	opts.ProblemRate = min(max(0, opts.ProblemRate), 1)

	g := &generator{
		opts: opts,
		rnd:  rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed_c0de_ca7_0001)),
		w: &World{
			AWS: AWS{
				Region:          "eu-west-1",
				IdentityStoreID: "d-1234567890",
				InstanceARN:     "arn:aws:sso:::instance/ssoins-1234567890abcdef",
			},
			Entra: Entra{TenantID: "00000000-0000-0000-0000-000000000001"},
		},
		groupProblems: make([]groupProblem, opts.Groups),
		userProblems:  make([]userProblem, opts.Users),
		emailOwner:    map[int32]int32{},
		nestedMoved:   make([][]int32, opts.Groups),
	}
	g.makeUsers()
	g.makeGroups()
	g.makeAccounts()
	g.makePermissionSets()
	g.makeGroupAssignments()
	g.plantGroupProblems()
	g.plantUserProblems()
	g.makeDirectAssignments()
	g.makeEntra()
	return g.w
}

// Planted problems of a group and of a user.
type groupProblem uint8

const (
	groupClean groupProblem = iota
	groupMissing
	groupAmbiguous
	groupNotSecurityEnabled
	groupWithoutOwner
	groupNested
)

type userProblem uint8

const (
	userClean userProblem = iota
	userNotInEntra
	userMissingAttribute
	userInvalidCharacter
	userSharesEmail // takes the e-mail of emailOwner
	userEmailShared // the one whose e-mail another user takes
	userNestedOnly  // moved into a nested group; left alone otherwise
)

type generator struct {
	opts GenerateOptions
	rnd  *rand.Rand
	w    *World

	// members[g] are the AWS members of group g as user indexes;
	// groupsOf[u] the groups of user u (the same relation, the other way).
	members  [][]int32
	groupsOf [][]int32
	// entraMembers[g] is how many direct members group g keeps in Entra.
	entraMembers []int

	groupProblems []groupProblem
	userProblems  []userProblem
	emailOwner    map[int32]int32 // user with userSharesEmail -> user whose e-mail it takes
	nestedMoved   [][]int32       // per group with groupNested: members moved to the nested group
}

func (g *generator) makeUsers() {
	n := g.opts.Users
	g.w.AWS.Users = make([]AWSUser, n)
	seen := map[string]int{}
	for i := range n {
		given := givenNames[g.rnd.IntN(len(givenNames))]
		family := familyNames[g.rnd.IntN(len(familyNames))]
		local := strings.ToLower(given) + "." + strings.ToLower(userNameDropper.Replace(family))
		seen[local]++
		if k := seen[local]; k > 1 {
			local += strconv.Itoa(k)
		}
		userName := local + "@corp.example"
		g.w.AWS.Users[i] = AWSUser{
			UserName: userName, GivenName: given, FamilyName: family,
			DisplayName: given + " " + family, Email: userName,
		}
	}
}

// makeGroups names the groups and fills them. Group k (0-based) has about
// total / (H × (k+1)) members, a Zipf-like long tail where the whole adds up
// to 2.5 memberships per user; members are spread over the users with a
// random start and stride, so they are distinct without a set.
func (g *generator) makeGroups() {
	users, groups := g.opts.Users, g.opts.Groups
	g.w.AWS.Groups = make([]AWSGroup, groups)
	g.members = make([][]int32, groups)
	names := map[string]int{}
	harmonic := 0.0
	for k := range groups {
		harmonic += 1 / float64(k+1)
	}
	total := 2.5 * float64(users)
	memberships := make([]int32, users)
	for k := range groups {
		base := "aws-" + teams[g.rnd.IntN(len(teams))] + "-" + roles[g.rnd.IntN(len(roles))]
		names[base]++
		name := base
		if c := names[base]; c > 1 {
			name += "-" + strconv.Itoa(c)
		}
		g.w.AWS.Groups[k].DisplayName = name

		size := min(users, max(2, int(math.Ceil(total/(harmonic*float64(k+1))))))
		start, stride := g.rnd.IntN(users), g.coprimeStride(users)
		members := make([]int32, size)
		for j := range size {
			u := int32((start + j*stride) % users)
			members[j] = u
			memberships[u]++
		}
		g.members[k] = members
	}

	// groupsOf in one backing array: memory grows with the memberships only.
	all := 0
	for _, members := range g.members {
		all += len(members)
	}
	backing := make([]int32, 0, all)
	g.groupsOf = make([][]int32, users)
	for u := range users {
		n := int(memberships[u])
		g.groupsOf[u] = backing[len(backing) : len(backing) : len(backing)+n]
		backing = backing[:len(backing)+n]
	}
	g.entraMembers = make([]int, groups)
	for k, members := range g.members {
		g.entraMembers[k] = len(members)
		for _, u := range members {
			g.groupsOf[u] = append(g.groupsOf[u], int32(k))
		}
	}
}

// coprimeStride returns a stride in [1, n) that visits every index of n
// before repeating.
func (g *generator) coprimeStride(n int) int {
	if n < 2 {
		return 1
	}
	s := 1 + g.rnd.IntN(n-1)
	for gcd(s, n) != 1 {
		s = s%(n-1) + 1
	}
	return s
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (g *generator) makeAccounts() {
	g.w.AWS.Accounts = make([]Account, g.opts.Accounts)
	ids := map[string]bool{}
	names := map[string]int{}
	for i := range g.w.AWS.Accounts {
		id := ""
		for id == "" || ids[id] {
			id = strconv.FormatInt(100_000_000_000+g.rnd.Int64N(900_000_000_000), 10)
		}
		ids[id] = true
		name := teams[g.rnd.IntN(len(teams))] + "-" + environments[g.rnd.IntN(len(environments))]
		if i < len(environments) {
			// The first accounts are the organisation's own: prod, staging, ...
			name = environments[i]
		}
		names[name]++
		if c := names[name]; c > 1 {
			name += "-" + strconv.Itoa(c)
		}
		g.w.AWS.Accounts[i] = Account{ID: id, Name: name}
	}
}

func (g *generator) makePermissionSets() {
	g.w.AWS.PermissionSets = make([]PermissionSet, g.opts.PermissionSets)
	names := map[string]int{}
	for i := range g.w.AWS.PermissionSets {
		var name string
		if i < len(standardPermissionSets) {
			name = standardPermissionSets[i]
		} else {
			team := teams[g.rnd.IntN(len(teams))]
			name = strings.ToUpper(team[:1]) + team[1:] + customPermissionSetSuffixes[g.rnd.IntN(len(customPermissionSetSuffixes))]
		}
		names[name]++
		if c := names[name]; c > 1 {
			name += strconv.Itoa(c)
		}
		g.w.AWS.PermissionSets[i] = PermissionSet{Name: name}
	}
}

func (g *generator) makeGroupAssignments() {
	perGroup := g.opts.AssignmentsPerGroup
	g.w.AWS.Assignments = make([]Assignment, 0, g.opts.Groups*perGroup+g.opts.DirectUserAssignments)
	for k := range g.w.AWS.Groups {
		first := len(g.w.AWS.Assignments)
		for len(g.w.AWS.Assignments)-first < perGroup {
			a := Assignment{
				Group:         g.w.AWS.Groups[k].DisplayName,
				Account:       g.w.AWS.Accounts[g.rnd.IntN(len(g.w.AWS.Accounts))].ID,
				PermissionSet: g.w.AWS.PermissionSets[g.rnd.IntN(len(g.w.AWS.PermissionSets))].Name,
			}
			repeated := false
			for _, b := range g.w.AWS.Assignments[first:] {
				repeated = repeated || a == b
			}
			if !repeated {
				g.w.AWS.Assignments = append(g.w.AWS.Assignments, a)
			}
		}
	}
}

// plantCount is how many groups or users of one problem kind to plant.
func (g *generator) plantCount(of int) int {
	if g.opts.ProblemRate == 0 {
		return 0
	}
	return max(1, int(math.Round(g.opts.ProblemRate*float64(of))))
}

// plantGroupProblems gives each group kind its share of the groups, in a
// random order. A nested group moves one to three AWS members of its group
// into a group of its own, keeping at least one direct member.
func (g *generator) plantGroupProblems() {
	order := g.rnd.Perm(g.opts.Groups)
	next := 0
	want := g.plantCount(g.opts.Groups)
	for _, kind := range []groupProblem{groupMissing, groupAmbiguous, groupNotSecurityEnabled, groupWithoutOwner, groupNested} {
		for planted := 0; planted < want && next < len(order); next++ {
			k := order[next]
			if kind == groupNested && !g.moveToNestedGroup(k) {
				continue
			}
			g.groupProblems[k] = kind
			planted++
		}
	}
}

func (g *generator) moveToNestedGroup(k int) bool {
	members := g.members[k]
	if len(members) < 2 {
		return false
	}
	n := min(1+g.rnd.IntN(3), len(members)-1)
	for _, u := range members {
		if len(g.nestedMoved[k]) == n {
			break
		}
		if g.userProblems[u] == userClean {
			g.userProblems[u] = userNestedOnly
			g.nestedMoved[k] = append(g.nestedMoved[k], u)
		}
	}
	g.entraMembers[k] -= len(g.nestedMoved[k])
	return len(g.nestedMoved[k]) > 0
}

// plantUserProblems gives each user kind its share of the users, in a random
// order. Users with attribute problems are direct members of a clean group,
// so the preflight scans them; a user taken out of Entra leaves every group
// of it at least one other member, so no group becomes empty.
func (g *generator) plantUserProblems() {
	want := g.plantCount(g.opts.Users)
	if want == 0 {
		return
	}
	planted := map[userProblem]int{}
	var emailSource int32 = -1
	for _, i := range g.rnd.Perm(g.opts.Users) {
		u := int32(i)
		if g.userProblems[u] != userClean || len(g.groupsOf[u]) == 0 {
			continue
		}
		switch {
		case planted[userNotInEntra] < want && g.canLeaveEntra(u):
			g.userProblems[u] = userNotInEntra
			for _, k := range g.groupsOf[u] {
				g.entraMembers[k]--
			}
			planted[userNotInEntra]++
		case !g.inCleanGroup(u):
			continue
		case planted[userSharesEmail] < want && emailSource < 0:
			emailSource = u
			g.userProblems[u] = userEmailShared
		case planted[userSharesEmail] < want:
			g.userProblems[u] = userSharesEmail
			g.emailOwner[u] = emailSource
			emailSource = -1
			planted[userSharesEmail]++
		case planted[userMissingAttribute] < want:
			g.userProblems[u] = userMissingAttribute
			planted[userMissingAttribute]++
		case planted[userInvalidCharacter] < want:
			g.userProblems[u] = userInvalidCharacter
			planted[userInvalidCharacter]++
		}
		if planted[userNotInEntra]+planted[userSharesEmail]+planted[userMissingAttribute]+planted[userInvalidCharacter] == 4*want {
			break
		}
	}
	if emailSource >= 0 {
		g.userProblems[emailSource] = userClean // no partner found
	}
}

func (g *generator) canLeaveEntra(u int32) bool {
	for _, k := range g.groupsOf[u] {
		if g.entraMembers[k] < 2 {
			return false
		}
	}
	return true
}

func (g *generator) inCleanGroup(u int32) bool {
	for _, k := range g.groupsOf[u] {
		if g.groupProblems[k] == groupClean {
			return true
		}
	}
	return false
}

// makeDirectAssignments gives users who will be provisioned (untouched
// members of a clean group) direct assignments.
func (g *generator) makeDirectAssignments() {
	if g.opts.DirectUserAssignments == 0 {
		return
	}
	var candidates []int32
	for _, i := range g.rnd.Perm(g.opts.Users) {
		u := int32(i)
		if g.userProblems[u] == userClean && g.inCleanGroup(u) {
			candidates = append(candidates, u)
			if len(candidates) == g.opts.DirectUserAssignments {
				break
			}
		}
	}
	if len(candidates) == 0 {
		return
	}
	seen := map[Assignment]bool{}
	limit := len(candidates) * len(g.w.AWS.Accounts) * len(g.w.AWS.PermissionSets)
	for made := 0; made < min(g.opts.DirectUserAssignments, limit); {
		a := Assignment{
			User:          g.w.AWS.Users[candidates[made%len(candidates)]].UserName,
			Account:       g.w.AWS.Accounts[g.rnd.IntN(len(g.w.AWS.Accounts))].ID,
			PermissionSet: g.w.AWS.PermissionSets[g.rnd.IntN(len(g.w.AWS.PermissionSets))].Name,
		}
		if !seen[a] {
			seen[a] = true
			g.w.AWS.Assignments = append(g.w.AWS.Assignments, a)
			made++
		}
	}
}

// makeEntra mirrors AWS in Entra, with the planted problems, and writes the
// AWS member lists.
func (g *generator) makeEntra() {
	awsUsers := g.w.AWS.Users
	entra := &g.w.Entra
	entra.Users = make([]EntraUser, 0, len(awsUsers))
	variants := map[userProblem]int{} // each kind of problem takes its forms in turn
	for u, a := range awsUsers {
		e := EntraUser{
			UserPrincipalName: a.UserName, Mail: a.Email,
			GivenName: a.GivenName, Surname: a.FamilyName, DisplayName: a.DisplayName,
		}
		problem := g.userProblems[u]
		variant := variants[problem]
		variants[problem]++
		switch problem {
		case userNotInEntra:
			continue
		case userSharesEmail:
			e.Mail = awsUsers[g.emailOwner[int32(u)]].Email
			if variant%2 == 1 {
				e.Mail = strings.ToUpper(e.Mail[:1]) + e.Mail[1:] // the same e-mail, spelled differently
			}
		case userMissingAttribute:
			switch variant % 3 {
			case 0:
				e.Surname = ""
			case 1:
				e.GivenName = ""
			case 2:
				e.DisplayName = ""
			}
		case userInvalidCharacter:
			switch variant % 4 {
			case 0:
				e.DisplayName = a.DisplayName + " | Contractor"
			case 1:
				e.DisplayName = a.FamilyName + "; " + a.GivenName
			case 2:
				e.GivenName = a.GivenName + "\t"
			case 3:
				e.Surname = a.FamilyName + " <ext>"
			}
		}
		entra.Users = append(entra.Users, e)
	}

	entra.Groups = make([]EntraGroup, 0, len(g.w.AWS.Groups)+2*g.plantCount(len(g.w.AWS.Groups)))
	for k := range g.w.AWS.Groups {
		group := &g.w.AWS.Groups[k]
		group.Members = make([]string, len(g.members[k]))
		inEntra := make([]string, 0, g.entraMembers[k])
		for j, u := range g.members[k] {
			group.Members[j] = awsUsers[u].UserName
			if g.userProblems[u] != userNotInEntra && !contains(g.nestedMoved[k], u) {
				inEntra = append(inEntra, awsUsers[u].UserName)
			}
		}
		// The owner is a member, as a team lead usually is. Planting keeps
		// at least one member of every group in Entra.
		owners := []string{}
		if len(inEntra) > 0 {
			owners = []string{inEntra[0]}
		}
		e := EntraGroup{
			DisplayName: group.DisplayName, SecurityEnabled: true,
			Owners: owners, Members: inEntra, MemberGroups: []string{},
		}
		switch g.groupProblems[k] {
		case groupMissing:
			continue
		case groupNotSecurityEnabled:
			e.SecurityEnabled, e.MailEnabled = false, true
		case groupWithoutOwner:
			e.Owners = []string{}
		case groupAmbiguous:
			// Someone made a second group of the same name, in capitals.
			entra.Groups = append(entra.Groups, e)
			e = EntraGroup{
				DisplayName: strings.ToUpper(group.DisplayName), SecurityEnabled: true,
				Owners: e.Owners, Members: inEntra[:min(3, len(inEntra))], MemberGroups: []string{},
			}
		case groupNested:
			nested := EntraGroup{
				DisplayName: group.DisplayName + "-contractors", SecurityEnabled: true,
				Owners: e.Owners, Members: make([]string, len(g.nestedMoved[k])), MemberGroups: []string{},
			}
			for j, u := range g.nestedMoved[k] {
				nested.Members[j] = awsUsers[u].UserName
			}
			e.MemberGroups = []string{nested.DisplayName}
			entra.Groups = append(entra.Groups, nested)
		}
		entra.Groups = append(entra.Groups, e)
	}
}

func contains(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

var (
	givenNames = []string{
		"Aaliyah", "Aaron", "Abdul", "Ada", "Adriana", "Ahmed", "Aiko", "Alan", "Alejandro", "Alice",
		"Amara", "Amir", "Ana", "Andrei", "Anika", "Arjun", "Astrid", "Ben", "Bianca", "Bram",
		"Carlos", "Carmen", "Chen", "Chloe", "Dana", "Daniel", "Deepa", "Diego", "Dmitri", "Elena",
		"Elif", "Emil", "Emma", "Erik", "Fatima", "Felix", "Fiona", "Gabriel", "Grace", "Hana",
		"Hassan", "Ines", "Ingrid", "Isaac", "Ivan", "Jade", "James", "Javier", "Jin", "Joao",
		"Julia", "Kai", "Kamal", "Karin", "Kenji", "Kofi", "Lars", "Layla", "Lena", "Leon",
		"Lucia", "Luis", "Maya", "Marco", "Maria", "Mateo", "Mei", "Mohammed", "Nadia", "Naledi",
		"Nikhil", "Nina", "Noah", "Olga", "Omar", "Oscar", "Pablo", "Pia", "Priya", "Rafael",
		"Rania", "Ravi", "Rosa", "Ruth", "Sami", "Sara", "Sean", "Sofia", "Sven", "Tariq",
		"Thomas", "Tomas", "Uma", "Valentina", "Victor", "Wei", "Yara", "Yusuf", "Zainab", "Zoe",
	}
	familyNames = []string{
		"Abebe", "Ali", "Andersen", "Bakker", "Berg", "Bianchi", "Chen", "Cohen", "Costa", "da Silva",
		"de Vries", "Dubois", "Eriksson", "Fernandez", "Fischer", "Garcia", "Gonzalez", "Gupta", "Haddad", "Hansen",
		"Hoffmann", "Horvath", "Hughes", "Ibrahim", "Ivanova", "Jansen", "Johnson", "Kaya", "Kelly", "Khan",
		"Kim", "Kowalski", "Kumar", "Larsen", "Lee", "Lopez", "Lund", "Martin", "Mensah", "Meyer",
		"Moreau", "Murphy", "Nakamura", "Ng", "Nguyen", "Novak", "O'Brien", "Okafor", "Olsen", "Park",
		"Patel", "Pereira", "Petrov", "Popescu", "Quinn", "Rahman", "Reddy", "Rossi", "Sato", "Schmidt",
		"Silva", "Singh", "Smith", "Sorensen", "Suzuki", "Tanaka", "Taylor", "Torres", "Van Dijk", "Wagner",
		"Walker", "Wang", "Weber", "Wei", "Williams", "Wilson", "Wong", "Yamamoto", "Yilmaz", "Zhang",
	}
	teams = []string{
		"analytics", "api", "billing", "checkout", "catalog", "cloudops", "compliance", "data", "dba", "devex",
		"edge", "finance", "fraud", "gateway", "growth", "identity", "infra", "integrations", "ios", "android",
		"logistics", "marketing", "ml", "mobile", "monitoring", "network", "notifications", "observability", "onboarding", "orders",
		"partners", "payments", "platform", "pricing", "recommendations", "reporting", "risk", "search", "security", "sre",
		"storage", "streaming", "support", "web", "warehouse", "workflows",
	}
	roles                  = []string{"admins", "developers", "readonly", "operators", "oncall", "auditors", "deployers", "analysts"}
	environments           = []string{"prod", "staging", "shared-services", "dev", "sandbox", "logging", "security", "network"}
	standardPermissionSets = []string{
		"AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "Billing", "ViewOnlyAccess", "SecurityAudit",
		"DatabaseAdministrator", "NetworkAdministrator", "SystemAdministrator", "DataScientist", "SupportUser",
	}
	customPermissionSetSuffixes = []string{"Developer", "Deployer", "Operator", "ReadOnly", "Admin"}

	// userNameDropper drops from a family name what a user name leaves out.
	userNameDropper = strings.NewReplacer(" ", "", "'", "")
)
