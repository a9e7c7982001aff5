package preflight_test

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/sandbox/worldinv"
)

const (
	alice = "alice@corp.example"
	bob   = "bob@corp.example"
	carol = "carol@corp.example"
	dave  = "dave@corp.example"
	prod  = "111111111111"
	stage = "222222222222"
)

// cleanWorld is an organisation ready for the cutover: aws-admins (alice,
// bob) and aws-developers (bob, carol) hold assignments and exist once in
// Entra, security-enabled, owned, with the same direct members; every user
// has every attribute. Dave is in a group without assignments, so he holds
// no access.
func cleanWorld() *world.World {
	awsUser := func(userName, given, family string) world.AWSUser {
		return world.AWSUser{UserName: userName, GivenName: given, FamilyName: family, DisplayName: given + " " + family, Email: userName}
	}
	entraUser := func(upn, given, surname string) world.EntraUser {
		return world.EntraUser{UserPrincipalName: upn, Mail: upn, GivenName: given, Surname: surname, DisplayName: given + " " + surname}
	}
	return &world.World{
		AWS: world.AWS{
			Region:          "eu-west-1",
			IdentityStoreID: "d-1234567890",
			InstanceARN:     "arn:aws:sso:::instance/ssoins-1234567890abcdef",
			Accounts:        []world.Account{{ID: prod, Name: "prod"}, {ID: stage, Name: "staging"}},
			PermissionSets:  []world.PermissionSet{{Name: "AdministratorAccess"}, {Name: "ReadOnlyAccess"}},
			Users: []world.AWSUser{
				awsUser(alice, "Alice", "Ng"), awsUser(bob, "Bob", "Okafor"),
				awsUser(carol, "Carol", "Haddad"), awsUser(dave, "Dave", "Lund"),
			},
			Groups: []world.AWSGroup{
				{DisplayName: "aws-admins", Members: []string{alice, bob}},
				{DisplayName: "aws-developers", Members: []string{bob, carol}},
				{DisplayName: "aws-unassigned", Members: []string{dave}},
			},
			Assignments: []world.Assignment{
				{Group: "aws-admins", Account: prod, PermissionSet: "AdministratorAccess"},
				{Group: "aws-admins", Account: stage, PermissionSet: "AdministratorAccess"},
				{Group: "aws-developers", Account: prod, PermissionSet: "ReadOnlyAccess"},
			},
		},
		Entra: world.Entra{
			TenantID: "00000000-0000-0000-0000-000000000001",
			Users: []world.EntraUser{
				entraUser(alice, "Alice", "Ng"), entraUser(bob, "Bob", "Okafor"),
				entraUser(carol, "Carol", "Haddad"), entraUser(dave, "Dave", "Lund"),
			},
			Groups: []world.EntraGroup{
				{DisplayName: "aws-admins", SecurityEnabled: true, Owners: []string{alice}, Members: []string{alice, bob}},
				{DisplayName: "aws-developers", SecurityEnabled: true, Owners: []string{carol}, Members: []string{bob, carol}},
				{DisplayName: "aws-unassigned", SecurityEnabled: true, Owners: []string{dave}, Members: []string{dave}},
			},
		},
	}
}

// entraGroup returns the Entra group of w with that display name.
func entraGroup(t *testing.T, w *world.World, name string) *world.EntraGroup {
	t.Helper()
	for i := range w.Entra.Groups {
		if w.Entra.Groups[i].DisplayName == name {
			return &w.Entra.Groups[i]
		}
	}
	t.Fatalf("no Entra group %q", name)
	return nil
}

func entraUser(t *testing.T, w *world.World, upn string) *world.EntraUser {
	t.Helper()
	for i := range w.Entra.Users {
		if w.Entra.Users[i].UserPrincipalName == upn {
			return &w.Entra.Users[i]
		}
	}
	t.Fatalf("no Entra user %q", upn)
	return nil
}

// analyze checks that w is a world that can exist, then runs the preflight
// on its inventories, as the workflow would after inventorying the sandbox.
func analyze(t *testing.T, w *world.World) preflight.Report {
	t.Helper()
	require.NoError(t, w.Validate())
	aws := worldinv.AWS(w)
	return preflight.Analyze(aws, worldinv.Entra(w, aws))
}

// found is the part of a finding a test asserts on; the message is checked
// to be there.
type found struct {
	Code     preflight.Code
	Severity preflight.Severity
	Names    []string
}

func requireFindings(t *testing.T, r preflight.Report, want ...found) {
	t.Helper()
	got := make([]found, len(r.Findings))
	for i, f := range r.Findings {
		got[i] = found{f.Code, f.Severity, f.Names}
		require.NotEmpty(t, f.Message, "finding %+v", f)
	}
	if want == nil {
		want = []found{}
	}
	require.Equal(t, want, got)
}

func TestACleanWorldHasNoFindings(t *testing.T) {
	r := analyze(t, cleanWorld())
	requireFindings(t, r)
	require.Equal(t, preflight.Stats{
		Groups: 2, MatchedGroups: 2, AWSUsers: 3, UsersToProvision: 3,
		Assignments: 3, GroupAssignments: 3, UserAssignments: 0, Accounts: 2, PermissionSets: 2,
	}, r.Stats)
}

func TestMissingGroup(t *testing.T) {
	w := cleanWorld()
	entraGroup(t, w, "aws-developers").DisplayName = "developers"

	r := analyze(t, w)
	requireFindings(t, r, found{preflight.MissingGroup, preflight.Blocker, []string{"aws-developers"}})
	require.Contains(t, r.Findings[0].Message, "create a security group")
	require.Equal(t, 1, r.Stats.MatchedGroups)
	require.Equal(t, 2, r.Stats.UsersToProvision, "carol is only in the missing group")
}

func TestAmbiguousGroup(t *testing.T) {
	w := cleanWorld()
	// Another group of the same name, spelled in capitals: Entra matches
	// display names case-insensitively.
	w.Entra.Groups = append(w.Entra.Groups, world.EntraGroup{
		DisplayName: "AWS-Developers", SecurityEnabled: true, Owners: []string{dave}, Members: []string{dave},
	})

	r := analyze(t, w)
	requireFindings(t, r, found{preflight.AmbiguousGroup, preflight.Blocker, []string{"aws-developers"}})
	require.Contains(t, r.Findings[0].Message, "2 groups")
}

func TestGroupNotSecurityEnabled(t *testing.T) {
	w := cleanWorld()
	g := entraGroup(t, w, "aws-developers")
	g.SecurityEnabled, g.MailEnabled = false, true

	requireFindings(t, analyze(t, w), found{preflight.GroupNotSecurityEnabled, preflight.Blocker, []string{"aws-developers"}})
}

func TestGroupWithoutOwner(t *testing.T) {
	w := cleanWorld()
	entraGroup(t, w, "aws-admins").Owners = nil

	requireFindings(t, analyze(t, w), found{preflight.GroupWithoutOwner, preflight.Warning, []string{"aws-admins"}})
}

func TestEmptyGroup(t *testing.T) {
	w := cleanWorld()
	// A break-glass group kept empty on both sides until needed.
	w.AWS.Groups = append(w.AWS.Groups, world.AWSGroup{DisplayName: "aws-breakglass"})
	w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{Group: "aws-breakglass", Account: prod, PermissionSet: "AdministratorAccess"})
	w.Entra.Groups = append(w.Entra.Groups, world.EntraGroup{DisplayName: "aws-breakglass", SecurityEnabled: true, Owners: []string{alice}})

	requireFindings(t, analyze(t, w), found{preflight.EmptyGroup, preflight.Warning, []string{"aws-breakglass"}})
}

// TestNestedGroup covers the blocker / warning split: a blocker only when a
// user reached only through nesting holds the group's access in AWS today.
func TestNestedGroup(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, w *world.World)
		want   found
	}{{
		name: "an AWS member reached only through the nested group loses access",
		change: func(t *testing.T, w *world.World) {
			g := entraGroup(t, w, "aws-developers")
			g.Members = []string{bob}
			g.MemberGroups = []string{"dev-contractors"}
			w.Entra.Groups = append(w.Entra.Groups, world.EntraGroup{
				DisplayName: "dev-contractors", SecurityEnabled: true, Owners: []string{bob}, Members: []string{carol},
			})
		},
		want: found{preflight.NestedGroup, preflight.Blocker, []string{"aws-developers", carol, "dev-contractors"}},
	}, {
		name: "nesting is followed through several levels",
		change: func(t *testing.T, w *world.World) {
			g := entraGroup(t, w, "aws-developers")
			g.Members = []string{bob}
			g.MemberGroups = []string{"engineering"}
			w.Entra.Groups = append(w.Entra.Groups,
				world.EntraGroup{DisplayName: "engineering", SecurityEnabled: true, Owners: []string{bob}, MemberGroups: []string{"dev-contractors"}},
				// A cycle back to the top does not loop.
				world.EntraGroup{DisplayName: "dev-contractors", SecurityEnabled: true, Owners: []string{bob}, Members: []string{carol}, MemberGroups: []string{"aws-developers"}},
			)
		},
		want: found{preflight.NestedGroup, preflight.Blocker, []string{"aws-developers", carol, "engineering"}},
	}, {
		name: "a nested-only user who is not an AWS member loses nothing",
		change: func(t *testing.T, w *world.World) {
			entraGroup(t, w, "aws-developers").MemberGroups = []string{"new-joiners"}
			w.Entra.Groups = append(w.Entra.Groups, world.EntraGroup{
				DisplayName: "new-joiners", SecurityEnabled: true, Owners: []string{bob}, Members: []string{dave},
			})
		},
		want: found{preflight.NestedGroup, preflight.Warning, []string{"aws-developers", dave, "new-joiners"}},
	}, {
		name: "a nested group whose users are all direct members loses nothing",
		change: func(t *testing.T, w *world.World) {
			entraGroup(t, w, "aws-developers").MemberGroups = []string{"backend"}
			w.Entra.Groups = append(w.Entra.Groups, world.EntraGroup{
				DisplayName: "backend", SecurityEnabled: true, Owners: []string{bob}, Members: []string{bob, carol},
			})
		},
		want: found{preflight.NestedGroup, preflight.Warning, []string{"aws-developers", "backend"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := cleanWorld()
			tt.change(t, w)
			requireFindings(t, analyze(t, w), tt.want)
		})
	}
}

func TestMemberNotInEntraGroup(t *testing.T) {
	w := cleanWorld()
	// Carol is in Entra, but was taken out of the developers' group there.
	entraGroup(t, w, "aws-developers").Members = []string{bob}

	r := analyze(t, w)
	requireFindings(t, r, found{preflight.MemberNotInEntraGroup, preflight.Warning, []string{"aws-developers", carol}})
	require.Contains(t, r.Findings[0].Message, "lacks 1 member")
}

func TestDuplicateEmail(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, w *world.World)
		want   []found
	}{{
		name:   "the same mail, spelled differently",
		change: func(t *testing.T, w *world.World) { entraUser(t, w, carol).Mail = "Bob@Corp.Example" },
		want:   []found{{preflight.DuplicateEmail, preflight.Blocker, []string{bob, carol}}},
	}, {
		// The gallery maps the work e-mail from mail alone: a user without
		// mail is sent without an e-mail, not with its userPrincipalName.
		name: "an empty mail sends no e-mail, so it cannot clash",
		change: func(t *testing.T, w *world.World) {
			entraUser(t, w, bob).Mail = ""
			entraUser(t, w, carol).Mail = bob
		},
		want: nil,
	}, {
		name: "three users share one mail: one finding",
		change: func(t *testing.T, w *world.World) {
			entraUser(t, w, bob).Mail = alice
			entraUser(t, w, carol).Mail = alice
		},
		want: []found{{preflight.DuplicateEmail, preflight.Blocker, []string{alice, bob, carol}}},
	}, {
		name: "a user who is not provisioned does not count",
		change: func(t *testing.T, w *world.World) {
			entraUser(t, w, dave).Mail = bob // dave is only in a group without assignments
		},
		want: nil,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := cleanWorld()
			tt.change(t, w)
			requireFindings(t, analyze(t, w), tt.want...)
		})
	}
}

// TestDuplicateUsername works on inventories: Entra keeps userPrincipalName
// unique, so no world (and no sandbox) can hold two users with one; the rule
// guards against an inventory that does, e.g. one read while a user was
// being renamed.
func TestDuplicateUsername(t *testing.T) {
	w := cleanWorld()
	aws := worldinv.AWS(w)
	entra := worldinv.Entra(w, aws)
	entra.Users = append(entra.Users, preflight.EntraUser{
		ID: "another-carol", UserPrincipalName: "Carol@corp.example", Mail: "carol.h@corp.example",
		GivenName: "Carol", Surname: "Haddad", DisplayName: "Carol Haddad",
	})
	developers := &entra.Groups[1].Candidates[0]
	require.Equal(t, "aws-developers", developers.DisplayName)
	developers.MemberIDs = append(developers.MemberIDs, "another-carol")

	r := preflight.Analyze(aws, entra)
	requireFindings(t, r, found{preflight.DuplicateUsername, preflight.Blocker, []string{"Carol@corp.example", carol}})
	require.Contains(t, r.Findings[0].Message, `"carol@corp.example"`)
}

func TestMissingAttribute(t *testing.T) {
	tests := []struct {
		attribute string
		clear     func(u *world.EntraUser)
	}{
		{"givenName", func(u *world.EntraUser) { u.GivenName = "" }},
		{"surname", func(u *world.EntraUser) { u.Surname = "" }},
		{"displayName", func(u *world.EntraUser) { u.DisplayName = "  " }}, // blank is missing
	}
	for _, tt := range tests {
		t.Run(tt.attribute, func(t *testing.T) {
			w := cleanWorld()
			tt.clear(entraUser(t, w, carol))
			r := analyze(t, w)
			requireFindings(t, r, found{preflight.MissingAttribute, preflight.Blocker, []string{carol}})
			require.Contains(t, r.Findings[0].Message, "no "+tt.attribute)
		})
	}

	t.Run("every missing attribute in one finding", func(t *testing.T) {
		w := cleanWorld()
		u := entraUser(t, w, carol)
		u.GivenName, u.Surname = "", ""
		r := analyze(t, w)
		requireFindings(t, r, found{preflight.MissingAttribute, preflight.Blocker, []string{carol}})
		require.Contains(t, r.Findings[0].Message, "no givenName, surname")
	})
}

func TestInvalidCharacter(t *testing.T) {
	for _, c := range []string{"\t", "\n", "\r", `"`, "<", ">", "|", ";", ":", "%"} {
		t.Run("displayName with "+strconv.Quote(c), func(t *testing.T) {
			w := cleanWorld()
			entraUser(t, w, carol).DisplayName = "Carol " + c + " Haddad"
			requireFindings(t, analyze(t, w), found{preflight.InvalidCharacter, preflight.Blocker, []string{carol}})
		})
	}
	attributes := []struct {
		name string
		set  func(u *world.EntraUser)
	}{
		{"mail", func(u *world.EntraUser) { u.Mail = "carol;haddad@corp.example" }},
		{"givenName", func(u *world.EntraUser) { u.GivenName = "Carol\t" }},
		{"surname", func(u *world.EntraUser) { u.Surname = "Haddad <ext>" }},
	}
	for _, tt := range attributes {
		t.Run(tt.name, func(t *testing.T) {
			w := cleanWorld()
			tt.set(entraUser(t, w, carol))
			r := analyze(t, w)
			requireFindings(t, r, found{preflight.InvalidCharacter, preflight.Blocker, []string{carol}})
			require.Contains(t, r.Findings[0].Message, tt.name+" (")
		})
	}
	t.Run("userPrincipalName", func(t *testing.T) {
		w := cleanWorld()
		const odd = "carol%haddad@corp.example"
		entraUser(t, w, carol).UserPrincipalName = odd
		entraGroup(t, w, "aws-developers").Members = []string{bob, odd}
		entraGroup(t, w, "aws-developers").Owners = []string{odd}
		// Carol's AWS userName no longer has an Entra user, too.
		requireFindings(t, analyze(t, w),
			found{preflight.InvalidCharacter, preflight.Blocker, []string{odd}},
			found{preflight.UserNotInEntra, preflight.Blocker, []string{carol}},
		)
	})
}

func TestUserNotInEntra(t *testing.T) {
	w := cleanWorld()
	// Carol left; her Entra account is gone, her AWS user is not.
	w.Entra.Users = w.Entra.Users[:2]
	w.Entra.Users = append(w.Entra.Users, world.EntraUser{UserPrincipalName: dave, Mail: dave, GivenName: "Dave", Surname: "Lund", DisplayName: "Dave Lund"})
	g := entraGroup(t, w, "aws-developers")
	g.Members, g.Owners = []string{bob}, []string{bob}

	r := analyze(t, w)
	requireFindings(t, r, found{preflight.UserNotInEntra, preflight.Blocker, []string{carol}})
	require.Contains(t, r.Findings[0].Message, "1 assigned group, 0 direct assignments")
}

func TestUserNotInEntraMatchesUserNamesCaseInsensitively(t *testing.T) {
	w := cleanWorld()
	entraUser(t, w, carol).UserPrincipalName = "Carol@Corp.Example"
	requireFindings(t, analyze(t, w))
}

// TestUserAssignment covers the blocker / warning split: a direct assignment
// survives only when its user is provisioned under the same userName.
func TestUserAssignment(t *testing.T) {
	tests := []struct {
		name   string
		user   string
		change func(t *testing.T, w *world.World)
		want   []found
	}{{
		name: "the user is provisioned: kept",
		user: carol,
		want: []found{{preflight.UserAssignment, preflight.Warning, []string{carol}}},
	}, {
		name:   "the user is provisioned, userPrincipalName in other letter case: kept",
		user:   carol,
		change: func(t *testing.T, w *world.World) { entraUser(t, w, carol).UserPrincipalName = "CAROL@corp.example" },
		want:   []found{{preflight.UserAssignment, preflight.Warning, []string{carol}}},
	}, {
		name: "the user is in Entra but in no assigned group: lost",
		user: dave,
		want: []found{{preflight.UserAssignment, preflight.Blocker, []string{dave}}},
	}, {
		name: "the user's only group is not security-enabled: lost",
		user: carol,
		change: func(t *testing.T, w *world.World) {
			w.AWS.Groups[1].Members = []string{carol}
			g := entraGroup(t, w, "aws-developers")
			g.Members, g.SecurityEnabled = []string{carol}, false
		},
		want: []found{
			{preflight.GroupNotSecurityEnabled, preflight.Blocker, []string{"aws-developers"}},
			{preflight.UserAssignment, preflight.Blocker, []string{carol}},
		},
	}, {
		name: "the user is not in Entra: lost",
		user: dave,
		change: func(t *testing.T, w *world.World) {
			w.Entra.Users = w.Entra.Users[:3]
			w.Entra.Groups = w.Entra.Groups[:2]
		},
		want: []found{
			{preflight.UserAssignment, preflight.Blocker, []string{dave}},
			{preflight.UserNotInEntra, preflight.Blocker, []string{dave}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := cleanWorld()
			w.AWS.Assignments = append(w.AWS.Assignments,
				world.Assignment{User: tt.user, Account: stage, PermissionSet: "ReadOnlyAccess"},
				world.Assignment{User: tt.user, Account: prod, PermissionSet: "AdministratorAccess"})
			if tt.change != nil {
				tt.change(t, w)
			}
			r := analyze(t, w)
			requireFindings(t, r, tt.want...)
			require.Equal(t, 2, r.Stats.UserAssignments)
			for _, f := range r.Findings {
				if f.Code == preflight.UserAssignment {
					require.Contains(t, f.Message, "2 direct account assignments")
				}
			}
		})
	}
}

// troubledWorld has a problem of every kind the sample has, and more.
func troubledWorld(t *testing.T) *world.World {
	w := cleanWorld()
	entraGroup(t, w, "aws-admins").Owners = nil
	entraUser(t, w, carol).Surname = ""
	entraUser(t, w, bob).Mail = alice
	entraUser(t, w, alice).DisplayName = "Alice | Ng"
	w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{User: dave, Account: prod, PermissionSet: "ReadOnlyAccess"})
	w.AWS.Groups = append(w.AWS.Groups, world.AWSGroup{DisplayName: "aws-auditors", Members: []string{dave}})
	w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{Group: "aws-auditors", Account: stage, PermissionSet: "ReadOnlyAccess"})
	return w
}

func TestFindingsAreSortedBlockersFirstThenByCodeAndNames(t *testing.T) {
	r := analyze(t, troubledWorld(t))
	requireFindings(t, r,
		found{preflight.DuplicateEmail, preflight.Blocker, []string{alice, bob}},
		found{preflight.InvalidCharacter, preflight.Blocker, []string{alice}},
		found{preflight.MissingAttribute, preflight.Blocker, []string{carol}},
		found{preflight.MissingGroup, preflight.Blocker, []string{"aws-auditors"}},
		found{preflight.UserAssignment, preflight.Blocker, []string{dave}},
		found{preflight.GroupWithoutOwner, preflight.Warning, []string{"aws-admins"}},
	)
}

// TestAnalyzeDoesNotDependOnInventoryOrder shuffles every list of the
// inventories: the report must not change, as the activities may read
// pages in any order.
func TestAnalyzeDoesNotDependOnInventoryOrder(t *testing.T) {
	w := troubledWorld(t)
	aws := worldinv.AWS(w)
	entra := worldinv.Entra(w, aws)
	want := preflight.Analyze(aws, entra)

	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		rnd.Shuffle(len(aws.Groups), func(i, j int) { aws.Groups[i], aws.Groups[j] = aws.Groups[j], aws.Groups[i] })
		rnd.Shuffle(len(aws.Users), func(i, j int) { aws.Users[i], aws.Users[j] = aws.Users[j], aws.Users[i] })
		rnd.Shuffle(len(aws.Assignments), func(i, j int) {
			aws.Assignments[i], aws.Assignments[j] = aws.Assignments[j], aws.Assignments[i]
		})
		rnd.Shuffle(len(entra.Groups), func(i, j int) { entra.Groups[i], entra.Groups[j] = entra.Groups[j], entra.Groups[i] })
		rnd.Shuffle(len(entra.Users), func(i, j int) { entra.Users[i], entra.Users[j] = entra.Users[j], entra.Users[i] })
		require.Equal(t, want, preflight.Analyze(aws, entra))
	}
}

func TestSummarizeCountsBySeverityAndCode(t *testing.T) {
	r := preflight.Report{
		Findings: []preflight.Finding{
			{Code: preflight.MissingGroup, Severity: preflight.Blocker, Names: []string{"a"}},
			{Code: preflight.MissingGroup, Severity: preflight.Blocker, Names: []string{"b"}},
			{Code: preflight.UserAssignment, Severity: preflight.Blocker, Names: []string{"c"}},
			{Code: preflight.UserAssignment, Severity: preflight.Warning, Names: []string{"d"}},
			{Code: preflight.UserAssignment, Severity: preflight.Warning, Names: []string{"e"}},
			{Code: preflight.EmptyGroup, Severity: preflight.Warning, Names: []string{"f"}},
		},
		Stats: preflight.Stats{Groups: 6, Assignments: 9},
	}
	require.Equal(t, preflight.Summary{
		Blockers: 3,
		Warnings: 3,
		ByCode: []preflight.CodeCount{
			{Code: preflight.MissingGroup, Severity: preflight.Blocker, Count: 2},
			{Code: preflight.UserAssignment, Severity: preflight.Blocker, Count: 1},
			{Code: preflight.EmptyGroup, Severity: preflight.Warning, Count: 1},
			{Code: preflight.UserAssignment, Severity: preflight.Warning, Count: 2},
		},
		Stats: r.Stats,
	}, preflight.Summarize(r))

	empty := preflight.Summarize(preflight.Report{})
	require.Zero(t, empty.Blockers)
	require.Zero(t, empty.Warnings)
	require.Empty(t, empty.ByCode)
}

func TestSummarizeOfAnAnalysis(t *testing.T) {
	s := preflight.Summarize(analyze(t, troubledWorld(t)))
	require.Equal(t, 5, s.Blockers)
	require.Equal(t, 1, s.Warnings)
	require.Len(t, s.ByCode, 6)
	require.Equal(t, 3, s.Stats.Groups)
}

// BenchmarkAnalyze measures the analysis alone at the design's scale
// (100,000 users, 10,000 groups, 50,000 assignments, 1% problems).
func BenchmarkAnalyze(b *testing.B) {
	w := world.Generate(world.ScaledGenerateOptions(100_000, 1))
	aws := worldinv.AWS(w)
	entra := worldinv.Entra(w, aws)
	b.ReportAllocs()
	for b.Loop() {
		preflight.Analyze(aws, entra)
	}
}
