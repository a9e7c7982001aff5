package preflight_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/attrmap"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/sandbox/worldinv"
)

// analyzeWithMappings runs the preflight on w's inventories as a job with
// the gallery's mappings, changed by change, would provision them.
func analyzeWithMappings(t *testing.T, w *world.World, change func(set *attrmap.Set)) preflight.Report {
	t.Helper()
	require.NoError(t, w.Validate())
	aws := worldinv.AWS(w)
	entra := worldinv.Entra(w, aws)
	set := attrmap.GalleryDefaults()
	set.Origin = attrmap.OriginJob
	change(&set)
	entra.Mappings = set
	return preflight.Analyze(aws, entra)
}

// mapping returns the mapping of set for target.
func mapping(t *testing.T, set *attrmap.Set, target string) *attrmap.Mapping {
	t.Helper()
	for i := range set.Users {
		if set.Users[i].Target == target {
			return &set.Users[i]
		}
	}
	t.Fatalf("no mapping for %s", target)
	return nil
}

var changed = found{preflight.MappingsChanged, preflight.Warning, []string{"user mappings"}}

// Each case changes one mapping of a world whose users would otherwise pass,
// and sees the findings change the way provisioning would.
func TestUserRulesFollowTheJobsMappings(t *testing.T) {
	t.Run("the gallery's mappings, read from the job, change nothing", func(t *testing.T) {
		requireFindings(t, analyzeWithMappings(t, cleanWorld(), func(*attrmap.Set) {}))
	})

	t.Run("userName from mail breaks the match with an AWS user", func(t *testing.T) {
		w := cleanWorld()
		entraUser(t, w, carol).Mail = "carol.haddad@corp.example"
		r := analyzeWithMappings(t, w, func(set *attrmap.Set) { mapping(t, set, attrmap.TargetUserName).Source = "[mail]" })
		requireFindings(t, r, found{preflight.UserNameMappingMismatch, preflight.Blocker, []string{carol}}, changed)
		require.Contains(t, r.Findings[0].Message, `"carol.haddad@corp.example"`)
		require.Contains(t, r.Findings[1].Message, "userName ← [mail]")
	})

	t.Run("userName from an attribute the inventory read keeps the match", func(t *testing.T) {
		w := cleanWorld()
		aws := worldinv.AWS(w)
		entra := worldinv.Entra(w, aws)
		for i := range entra.Users {
			local, _, _ := strings.Cut(entra.Users[i].UserPrincipalName, "@")
			entra.Users[i].Attributes = map[string]string{"mailNickname": local}
		}
		set := attrmap.GalleryDefaults()
		mapping(t, &set, attrmap.TargetUserName).Source = `Join("@", [mailNickname], "corp.example")`
		entra.Mappings = set
		requireFindings(t, preflight.Analyze(aws, entra), changed)
	})

	t.Run("an e-mail that falls back to the userPrincipalName can clash", func(t *testing.T) {
		w := cleanWorld()
		entraUser(t, w, bob).Mail = ""
		entraUser(t, w, carol).Mail = bob
		r := analyzeWithMappings(t, w, func(set *attrmap.Set) {
			mapping(t, set, attrmap.TargetWorkEmail).Source = "Coalesce([mail], [userPrincipalName])"
		})
		requireFindings(t, r, found{preflight.DuplicateEmail, preflight.Blocker, []string{bob, carol}}, changed)
		require.Contains(t, r.Findings[0].Message, "Coalesce([mail], [userPrincipalName])")
	})

	t.Run("a default fills a missing required attribute", func(t *testing.T) {
		w := cleanWorld()
		entraUser(t, w, carol).GivenName = ""
		requireFindings(t, analyze(t, w), found{preflight.MissingAttribute, preflight.Blocker, []string{carol}})
		r := analyzeWithMappings(t, w, func(set *attrmap.Set) { mapping(t, set, attrmap.TargetGivenName).Default = "-" })
		requireFindings(t, r, changed)
	})

	t.Run("an expression's invalid character is found in what it sends", func(t *testing.T) {
		r := analyzeWithMappings(t, cleanWorld(), func(set *attrmap.Set) {
			mapping(t, set, attrmap.TargetDisplayName).Source = `Join("; ", [surname], [givenName])`
		})
		// Every user to provision (alice, bob, carol) is sent "Ng; Alice" and the like.
		requireFindings(t, r, found{preflight.InvalidCharacter, preflight.Blocker, []string{alice}},
			found{preflight.InvalidCharacter, preflight.Blocker, []string{bob}},
			found{preflight.InvalidCharacter, preflight.Blocker, []string{carol}}, changed)
		require.Contains(t, r.Findings[0].Message, `displayName (mapped from Join("; ", [surname], [givenName])) (;)`)
	})

	t.Run("a mapping the preflight cannot evaluate is a warning", func(t *testing.T) {
		r := analyzeWithMappings(t, cleanWorld(), func(set *attrmap.Set) {
			set.Users = append(set.Users, attrmap.Mapping{Target: "title", Source: `FormatDateTime([createdDateTime], , "yyyy", "yy")`})
		})
		requireFindings(t, r, found{preflight.MappingNotEvaluated, preflight.Warning, []string{"title"}}, changed)
	})

	t.Run("a userName the preflight cannot evaluate is a blocker", func(t *testing.T) {
		r := analyzeWithMappings(t, cleanWorld(), func(set *attrmap.Set) {
			mapping(t, set, attrmap.TargetUserName).Source = `SingleAppRoleAssignment([appRoleAssignments])`
		})
		requireFindings(t, r, found{preflight.MappingNotEvaluated, preflight.Blocker, []string{attrmap.TargetUserName}}, changed)
	})

	t.Run("no userName mapping is a blocker", func(t *testing.T) {
		r := analyzeWithMappings(t, cleanWorld(), func(set *attrmap.Set) { set.Users = set.Users[1:] })
		requireFindings(t, r, found{preflight.MappingNotEvaluated, preflight.Blocker, []string{attrmap.TargetUserName}}, changed)
	})
}
