package attrmap

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// user is a user's Graph properties, as an Attributes.
func user(props map[string]string) Attributes {
	return func(name string) string {
		if v, ok := Builtin(name, "id-1"); ok {
			return v
		}
		return props[name]
	}
}

// The examples are those of Microsoft's expression reference, evaluated on
// a user; each checks one function's documented behaviour.
func TestEvalFollowsTheReference(t *testing.T) {
	u := user(map[string]string{
		"givenName": "Zoë", "surname": "van Dijk", "userPrincipalName": "zoe@corp.example", "mail": "",
		"mailNickname": "zvd",
	})
	for _, tc := range []struct{ expr, want string }{
		{`[givenName]`, "Zoë"},
		{`"Company name: \"Contoso\""`, `Company name: "Contoso"`},
		{`Append([mailNickname], "@contoso.com")`, "zvd@contoso.com"},
		{`Join("@", NormalizeDiacritics(StripSpaces([givenName])), "contoso.com")`, "Zoe@contoso.com"},
		{`Join(" ", [givenName], [surname])`, "Zoë van Dijk"},
		{`Coalesce([mail], [userPrincipalName])`, "zoe@corp.example"},
		{`Switch([IsSoftDeleted], , "False", "True", "True", "False")`, "True"},
		{`Switch([surname], "other", "Smith", "S")`, "other"},
		{`Left([surname], 3)`, "van"},
		{`Left([surname], 30)`, "van Dijk"},
		{`Mid([surname], 5, 4)`, "Dijk"},
		{`ToLower([userPrincipalName], "en-US")`, "zoe@corp.example"},
		{`ToUpper([mailNickname])`, "ZVD"},
		{`IIF(IsPresent([mail]), [mail], [userPrincipalName])`, "zoe@corp.example"},
		{`IIF(Not(IsNullOrEmpty([mailNickname])), "yes", "no")`, "yes"},
		{`Replace([userPrincipalName], "@corp.example", , , "@corp.test", , )`, "zoe@corp.test"},
		{`[objectId]`, "id-1"},
		{`[MAIL]`, ""}, // case matters in the props map above, not in the schema
	} {
		e, err := Parse(tc.expr)
		require.NoError(t, err, tc.expr)
		require.Equal(t, tc.want, e.Eval(u), tc.expr)
	}
}

func TestParseRefusesWhatItCannotEvaluate(t *testing.T) {
	for _, expr := range []string{
		`DateAdd("d", 7, CDate([StatusHireDate]))`,
		`SingleAppRoleAssignment([appRoleAssignments])`,
		`Replace([mail], , "(?<name>.*)@", "name", , , )`,
	} {
		_, err := Parse(expr)
		require.ErrorIs(t, err, ErrUnsupported, expr)
	}
	for _, expr := range []string{`[mail`, `"open`, `Append([mail] "x")`, `Append([mail])`, `Left([mail], 1) x`, ``, `Append(`} {
		_, err := Parse(expr)
		require.Error(t, err, expr)
		require.False(t, errors.Is(err, ErrUnsupported), expr)
	}
}

func TestAttributesListsEachSourceOnce(t *testing.T) {
	e, err := Parse(`Coalesce([mail], Join("@", [mailNickname], "x"), [Mail])`)
	require.NoError(t, err)
	require.Equal(t, []string{"mail", "mailNickname"}, e.Attributes())
	attr, ok := e.Attribute()
	require.False(t, ok, attr)

	e, err = Parse(` [mail] `)
	require.NoError(t, err)
	attr, ok = e.Attribute()
	require.True(t, ok)
	require.Equal(t, "mail", attr)
}

func TestApplyUsesTheDefaultForNull(t *testing.T) {
	set := GalleryDefaults()
	set.Users[1].Default = "Unknown" // name.givenName
	c := set.Compile()
	require.Empty(t, c.Unevaluated)
	u := c.Apply(user(map[string]string{"userPrincipalName": "a@corp.example", "surname": "A"}))
	require.Equal(t, "a@corp.example", c.Value(u, TargetUserName))
	require.Equal(t, "Unknown", c.Value(u, TargetGivenName))
	require.Equal(t, "", c.Value(u, TargetWorkEmail), "no mail, no e-mail: the mapping does not fall back to the UPN")
	require.Equal(t, "id-1", c.Value(u, TargetExternalID))
}

func TestChangedNamesWhatDiffersFromTheGallery(t *testing.T) {
	require.Empty(t, GalleryDefaults().Changed())

	set := GalleryDefaults()
	set.Users[0].Source = "[mail]"
	set.Users = append(set.Users[:4], set.Users[5:]...) // no work e-mail
	set.Users = append(set.Users, Mapping{Target: "title", Source: "[jobTitle]"})
	require.Equal(t, []string{"userName ← [mail]", "title ← [jobTitle]", `emails[type eq "work"].value not mapped`}, set.Changed())

	// Spacing and case of the expression do not count.
	set = GalleryDefaults()
	set.Users[0].Source = " [UserPrincipalName] "
	require.Empty(t, set.Changed())
}

func TestCompileSetsAsideWhatDoesNotParse(t *testing.T) {
	set := GalleryDefaults()
	set.Users[3].Source = `FormatDateTime([createdDateTime], , "yyyy", "yy")`
	c := set.Compile()
	require.Len(t, c.Unevaluated, 1)
	require.Contains(t, c.Unevaluated[0], "displayName: ")
	require.Equal(t, []string{"userPrincipalName", "givenName", "surname", "mail", "objectId"}, c.SourceAttributes())
	src, ok := c.UserNameSource()
	require.True(t, ok)
	require.Equal(t, "userPrincipalName", src)
}
