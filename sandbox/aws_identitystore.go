package sandbox

import (
	"encoding/json"
	"strings"
)

// The identitystore operations: the identity store's users, groups and
// group memberships, read-only. The SCIM endpoint writes them (scim*.go).

func (s *awsServer) identityStoreOperations() map[string]awsOperation {
	return map[string]awsOperation{
		"ListUsers":                     s.listUsers,
		"ListGroups":                    s.listGroups,
		"ListGroupMemberships":          s.listGroupMemberships,
		"ListGroupMembershipsForMember": s.listGroupMembershipsForMember,
		"DescribeUser":                  s.describeUser,
		"DescribeGroup":                 s.describeGroup,
		"GetUserId":                     s.getUserID,
		"GetGroupId":                    s.getGroupID,
	}
}

// Wire shapes of identitystore responses (only the members the sandbox fills).

type awsUserDoc struct {
	UserID          string        `json:"UserId"`
	IdentityStoreID string        `json:"IdentityStoreId"`
	UserName        string        `json:"UserName"`
	DisplayName     string        `json:"DisplayName,omitempty"`
	Name            *awsNameDoc   `json:"Name,omitempty"`
	Emails          []awsEmailDoc `json:"Emails,omitempty"`
	UserStatus      string        `json:"UserStatus"`
}

type awsNameDoc struct {
	GivenName  string `json:"GivenName,omitempty"`
	FamilyName string `json:"FamilyName,omitempty"`
	Formatted  string `json:"Formatted,omitempty"`
}

type awsEmailDoc struct {
	Value   string `json:"Value"`
	Type    string `json:"Type"`
	Primary bool   `json:"Primary"`
}

type awsGroupDoc struct {
	GroupID         string `json:"GroupId"`
	IdentityStoreID string `json:"IdentityStoreId"`
	DisplayName     string `json:"DisplayName"`
}

type awsMembershipDoc struct {
	MembershipID    string         `json:"MembershipId"`
	GroupID         string         `json:"GroupId"`
	IdentityStoreID string         `json:"IdentityStoreId"`
	MemberID        awsMemberIDDoc `json:"MemberId"`
}

type awsMemberIDDoc struct {
	UserID string `json:"UserId"`
}

// filter is the deprecated Filters member of ListUsers / ListGroups: one
// exact match on UserName or DisplayName.
type awsFilter struct {
	AttributePath  string `json:"AttributePath"`
	AttributeValue string `json:"AttributeValue"`
}

// userDoc is a user as identitystore returns it: the attributes it shares
// with SCIM, whoever wrote them (the world file or a SCIM client).
func (s *awsState) userDoc(u *awsUser) awsUserDoc {
	d := awsUserDoc{UserID: u.ID, IdentityStoreID: s.identityStoreID, UserName: u.UserName, DisplayName: u.DisplayName, UserStatus: "ENABLED"}
	if !u.Active {
		d.UserStatus = "DISABLED"
	}
	if n := u.Name; n.GivenName != "" || n.FamilyName != "" {
		formatted := n.Formatted
		if formatted == "" {
			formatted = strings.TrimSpace(n.GivenName + " " + n.FamilyName)
		}
		d.Name = &awsNameDoc{GivenName: n.GivenName, FamilyName: n.FamilyName, Formatted: formatted}
	}
	for _, e := range u.Emails {
		d.Emails = append(d.Emails, awsEmailDoc(e))
	}
	return d
}

// groupNamed finds a group by its exact displayName. The index ignores case,
// as uniqueness does; the identitystore lookups match the name as given.
func (s *awsState) groupNamed(displayName string) (string, bool) {
	id, ok := s.groupByName[strings.ToLower(displayName)]
	if !ok || s.groups[id].DisplayName != displayName {
		return "", false
	}
	return id, true
}

func (s *awsState) groupDoc(g *awsGroup) awsGroupDoc {
	return awsGroupDoc{GroupID: g.ID, IdentityStoreID: s.identityStoreID, DisplayName: g.DisplayName}
}

// awsOnlyFilter returns the value of the single filter on path, or ok=false if
// the request has no filter.
func awsOnlyFilter(filters []awsFilter, path string) (value string, ok bool, err error) {
	switch {
	case len(filters) == 0:
		return "", false, nil
	case len(filters) > 1:
		return "", false, awsValidationError("1 validation error detected: Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to 1")
	case !strings.EqualFold(filters[0].AttributePath, path):
		return "", false, awsValidationError("AttributePath %q is not supported; the only supported filter is %s", filters[0].AttributePath, path)
	}
	return filters[0].AttributeValue, true, nil
}

func (s *awsServer) listUsers(call *awsCall) (any, error) {
	var req struct {
		IdentityStoreID string      `json:"IdentityStoreId"`
		Filters         []awsFilter `json:"Filters"`
		awsPageRequest
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.checkIdentityStore(call, req.IdentityStoreID); err != nil {
		return nil, err
	}
	userName, filtered, err := awsOnlyFilter(req.Filters, "UserName")
	if err != nil {
		return nil, err
	}
	ids := st.userIDs
	if filtered {
		ids = nil
		if id, ok := st.userByName[strings.ToLower(userName)]; ok {
			ids = []string{id}
		}
	}
	users, next, err := awsPageDocs(ids, awsStringKey, req.awsPageRequest, "ListUsers/"+userName,
		func(id string) awsUserDoc { return st.userDoc(st.users[id]) })
	if err != nil {
		return nil, err
	}
	return struct {
		Users     []awsUserDoc `json:"Users"`
		NextToken *string      `json:"NextToken,omitempty"`
	}{users, next}, nil
}

func (s *awsServer) listGroups(call *awsCall) (any, error) {
	var req struct {
		IdentityStoreID string      `json:"IdentityStoreId"`
		Filters         []awsFilter `json:"Filters"`
		awsPageRequest
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.checkIdentityStore(call, req.IdentityStoreID); err != nil {
		return nil, err
	}
	displayName, filtered, err := awsOnlyFilter(req.Filters, "DisplayName")
	if err != nil {
		return nil, err
	}
	ids := st.groupIDs
	if filtered {
		ids = nil
		if id, ok := st.groupNamed(displayName); ok {
			ids = []string{id}
		}
	}
	groups, next, err := awsPageDocs(ids, awsStringKey, req.awsPageRequest, "ListGroups/"+displayName,
		func(id string) awsGroupDoc { return st.groupDoc(st.groups[id]) })
	if err != nil {
		return nil, err
	}
	return struct {
		Groups    []awsGroupDoc `json:"Groups"`
		NextToken *string       `json:"NextToken,omitempty"`
	}{groups, next}, nil
}

func (s *awsServer) listGroupMemberships(call *awsCall) (any, error) {
	var req struct {
		IdentityStoreID string `json:"IdentityStoreId"`
		GroupID         string `json:"GroupId"`
		awsPageRequest
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.checkIdentityStore(call, req.IdentityStoreID); err != nil {
		return nil, err
	}
	if _, ok := st.groups[req.GroupID]; !ok {
		return nil, awsNotFoundError("GROUP", req.GroupID, "GROUP not found.")
	}
	memberships, next, err := awsPageDocs(st.members[req.GroupID], awsStringKey, req.awsPageRequest, "ListGroupMemberships/"+req.GroupID,
		func(userID string) awsMembershipDoc { return st.membershipDoc(req.GroupID, userID) })
	if err != nil {
		return nil, err
	}
	return struct {
		GroupMemberships []awsMembershipDoc `json:"GroupMemberships"`
		NextToken        *string            `json:"NextToken,omitempty"`
	}{memberships, next}, nil
}

func (s *awsState) membershipDoc(groupID, userID string) awsMembershipDoc {
	return awsMembershipDoc{MembershipID: awsMembershipID(groupID, userID), GroupID: groupID, IdentityStoreID: s.identityStoreID, MemberID: awsMemberIDDoc{UserID: userID}}
}

func (s *awsServer) listGroupMembershipsForMember(call *awsCall) (any, error) {
	var req struct {
		IdentityStoreID string         `json:"IdentityStoreId"`
		MemberID        awsMemberIDDoc `json:"MemberId"`
		awsPageRequest
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.checkIdentityStore(call, req.IdentityStoreID); err != nil {
		return nil, err
	}
	userID := req.MemberID.UserID
	if _, ok := st.users[userID]; !ok {
		return nil, awsNotFoundError("USER", userID, "USER not found.")
	}
	memberships, next, err := awsPageDocs(st.memberOf[userID], awsStringKey, req.awsPageRequest, "ListGroupMembershipsForMember/"+userID,
		func(groupID string) awsMembershipDoc { return st.membershipDoc(groupID, userID) })
	if err != nil {
		return nil, err
	}
	return struct {
		GroupMemberships []awsMembershipDoc `json:"GroupMemberships"`
		NextToken        *string            `json:"NextToken,omitempty"`
	}{memberships, next}, nil
}

func (s *awsServer) describeUser(call *awsCall) (any, error) {
	var req struct {
		IdentityStoreID string `json:"IdentityStoreId"`
		UserID          string `json:"UserId"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.checkIdentityStore(call, req.IdentityStoreID); err != nil {
		return nil, err
	}
	u, ok := st.users[req.UserID]
	if !ok {
		return nil, awsNotFoundError("USER", req.UserID, "USER not found.")
	}
	return st.userDoc(u), nil
}

func (s *awsServer) describeGroup(call *awsCall) (any, error) {
	var req struct {
		IdentityStoreID string `json:"IdentityStoreId"`
		GroupID         string `json:"GroupId"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.checkIdentityStore(call, req.IdentityStoreID); err != nil {
		return nil, err
	}
	g, ok := st.groups[req.GroupID]
	if !ok {
		return nil, awsNotFoundError("GROUP", req.GroupID, "GROUP not found.")
	}
	return st.groupDoc(g), nil
}

// alternateIdentifier is the union GetUserId and GetGroupId take. The
// built-in directory has no external IDs, so only UniqueAttribute can match.
type alternateIdentifier struct {
	ExternalID *struct {
		Issuer string `json:"Issuer"`
		ID     string `json:"Id"`
	} `json:"ExternalId"`
	UniqueAttribute *struct {
		AttributePath  string          `json:"AttributePath"`
		AttributeValue json.RawMessage `json:"AttributeValue"`
	} `json:"UniqueAttribute"`
}

// uniqueAttribute returns the lookup the identifier asks for: the attribute
// path (lower case) and its string value.
func (a alternateIdentifier) uniqueAttribute(resourceType string) (path, value string, err error) {
	switch {
	case a.ExternalID != nil && a.UniqueAttribute == nil:
		return "", "", awsNotFoundError(resourceType, a.ExternalID.ID, "%s not found.", resourceType)
	case a.UniqueAttribute == nil || a.ExternalID != nil:
		return "", "", awsValidationError("AlternateIdentifier must set exactly one of ExternalId and UniqueAttribute")
	}
	if err := json.Unmarshal(a.UniqueAttribute.AttributeValue, &value); err != nil {
		return "", "", awsValidationError("UniqueAttribute.AttributeValue must be a string")
	}
	return strings.ToLower(a.UniqueAttribute.AttributePath), value, nil
}

func (s *awsServer) getUserID(call *awsCall) (any, error) {
	var req struct {
		IdentityStoreID     string              `json:"IdentityStoreId"`
		AlternateIdentifier alternateIdentifier `json:"AlternateIdentifier"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.checkIdentityStore(call, req.IdentityStoreID); err != nil {
		return nil, err
	}
	path, value, err := req.AlternateIdentifier.uniqueAttribute("USER")
	if err != nil {
		return nil, err
	}
	var userID string
	switch path {
	case "username":
		userID = st.userByName[strings.ToLower(value)]
	case "emails.value":
		// E-mail addresses need not be unique in the world (finding them is
		// part of the preflight): the first user in ID order answers.
		if ids := st.userByEmail[strings.ToLower(value)]; len(ids) > 0 {
			userID = ids[0]
		}
	default:
		return nil, awsValidationError("AttributePath %q is not supported for users; use userName or emails.value", req.AlternateIdentifier.UniqueAttribute.AttributePath)
	}
	if userID == "" {
		return nil, awsNotFoundError("USER", value, "USER not found.")
	}
	return struct {
		UserID          string `json:"UserId"`
		IdentityStoreID string `json:"IdentityStoreId"`
	}{userID, st.identityStoreID}, nil
}

func (s *awsServer) getGroupID(call *awsCall) (any, error) {
	var req struct {
		IdentityStoreID     string              `json:"IdentityStoreId"`
		AlternateIdentifier alternateIdentifier `json:"AlternateIdentifier"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.checkIdentityStore(call, req.IdentityStoreID); err != nil {
		return nil, err
	}
	path, value, err := req.AlternateIdentifier.uniqueAttribute("GROUP")
	if err != nil {
		return nil, err
	}
	if path != "displayname" {
		return nil, awsValidationError("AttributePath %q is not supported for groups; use displayName", req.AlternateIdentifier.UniqueAttribute.AttributePath)
	}
	groupID, ok := st.groupNamed(value)
	if !ok {
		return nil, awsNotFoundError("GROUP", value, "GROUP not found.")
	}
	return struct {
		GroupID         string `json:"GroupId"`
		IdentityStoreID string `json:"IdentityStoreId"`
	}{groupID, st.identityStoreID}, nil
}
