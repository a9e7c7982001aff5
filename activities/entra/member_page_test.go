package entra

import (
	"testing"

	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/preflight"
)

// TestMemberPageReadsWhatTheInventorySelects: a page of members as Graph
// answers GET /groups/{id}/members?$select=... (users, a nested group, a
// device), with two attributes a mapping reads.
func TestMemberPageReadsWhatTheInventorySelects(t *testing.T) {
	body := `{
	  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects(id,userPrincipalName)",
	  "@odata.nextLink": "https://graph.microsoft.com/v1.0/groups/g-1/members?$skiptoken=X",
	  "value": [
	    {"@odata.type": "#microsoft.graph.user", "id": "u-1", "userPrincipalName": "zoë@corp.example", "mail": "zoe@corp.example",
	     "givenName": "Zoë", "surname": "Ng", "displayName": "Zoë Ng", "otherMails": ["z@old.example"],
	     "employeeId": "E-7", "extension_0a1b_isContractor": true, "jobTitle": "not selected"},
	    {"@odata.type": "#microsoft.graph.user", "id": "u-2", "userPrincipalName": "bob@corp.example", "mail": null, "otherMails": []},
	    {"@odata.type": "#microsoft.graph.group", "id": "g-2", "displayName": "contractors"},
	    {"@odata.type": "#microsoft.graph.device", "id": "d-1", "displayName": "laptop"}
	  ]
	}`
	node, err := jsonserialization.NewJsonParseNode([]byte(body))
	require.NoError(t, err)
	parsed, err := node.GetObjectValue(memberPageFactory([]string{"employeeId", "extension_0a1b_isContractor"}))
	require.NoError(t, err)
	page := parsed.(*memberPage)

	require.Equal(t, "https://graph.microsoft.com/v1.0/groups/g-1/members?$skiptoken=X", deref(page.GetOdataNextLink()))
	require.Len(t, page.members, 4)
	require.Equal(t, []string{odataTypeUser, odataTypeUser, odataTypeGroup, "#microsoft.graph.device"},
		[]string{page.members[0].odataType, page.members[1].odataType, page.members[2].odataType, page.members[3].odataType})
	require.Equal(t, preflight.EntraUser{
		ID: "u-1", UserPrincipalName: "zoë@corp.example", Mail: "zoe@corp.example", GivenName: "Zoë", Surname: "Ng", DisplayName: "Zoë Ng",
		OtherMails: []string{"z@old.example"}, Attributes: map[string]string{"employeeId": "E-7", "extension_0a1b_isContractor": "true"},
	}, page.members[0].EntraUser)
	require.Equal(t, preflight.EntraUser{ID: "u-2", UserPrincipalName: "bob@corp.example"}, page.members[1].EntraUser)
	require.Equal(t, "contractors", page.members[2].DisplayName)
}
