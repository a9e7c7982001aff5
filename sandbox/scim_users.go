package sandbox

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/platformguide/ssocutover/sandbox/world"
)

// scimUser is a user on the wire: the attributes the identity store keeps
// (userAttributes, aws_state.go) with its ID, schemas and meta.
type scimUser struct {
	Schemas []string `json:"schemas"`
	ID      string   `json:"id"`
	userAttributes
	Meta *scimMeta `json:"meta,omitempty"`
}

type scimMeta struct {
	ResourceType string    `json:"resourceType"`
	Created      time.Time `json:"created"`
	LastModified time.Time `json:"lastModified"`
}

type scimName struct {
	Formatted       string `json:"formatted,omitempty"`
	FamilyName      string `json:"familyName,omitempty"`
	GivenName       string `json:"givenName,omitempty"`
	MiddleName      string `json:"middleName,omitempty"`
	HonorificPrefix string `json:"honorificPrefix,omitempty"`
	HonorificSuffix string `json:"honorificSuffix,omitempty"`
}

type scimMultiValue struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary"`
}

type scimAddress struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"streetAddress,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postalCode,omitempty"`
	Country       string `json:"country,omitempty"`
	Type          string `json:"type,omitempty"`
	Primary       bool   `json:"primary"`
}

type scimEnterpriseUser struct {
	EmployeeNumber string       `json:"employeeNumber,omitempty"`
	CostCenter     string       `json:"costCenter,omitempty"`
	Organization   string       `json:"organization,omitempty"`
	Division       string       `json:"division,omitempty"`
	Department     string       `json:"department,omitempty"`
	Manager        *scimManager `json:"manager,omitempty"`
}

type scimManager struct {
	Value string `json:"value"`
}

// scimUnsupportedUserAttributes are refused on create and replace, as AWS
// refuses them.
var scimUnsupportedUserAttributes = []string{"password", "groups", "ims", "photos", "x509Certificates", "entitlements"}

// validate checks what AWS requires of a user.
func (u *userAttributes) validate() *scimError {
	for attribute, value := range map[string]string{
		"userName": u.UserName, "name.givenName": u.Name.GivenName,
		"name.familyName": u.Name.FamilyName, "displayName": u.DisplayName,
	} {
		if strings.TrimSpace(value) == "" {
			return scimBadRequest(attribute + " is required.")
		}
	}
	if len(u.Emails) > 1 || len(u.PhoneNumbers) > 1 || len(u.Addresses) > 1 {
		return scimBadRequest("Multi-valued attributes (emails, phoneNumbers, addresses) take a single value.")
	}
	if len(u.Emails) == 1 && !u.Emails[0].Primary {
		return scimBadRequest("The email must be marked primary.")
	}
	return nil
}

// decodeUser reads a user's attributes from a create or replace body.
func decodeUser(r *http.Request) (*userAttributes, *scimError) {
	var raw map[string]json.RawMessage
	if err := decodeSCIMBody(r, &raw); err != nil {
		return nil, err
	}
	for _, attribute := range scimUnsupportedUserAttributes {
		for key := range raw {
			if strings.EqualFold(key, attribute) {
				return nil, scimBadRequest("The " + attribute + " attribute is not supported.")
			}
		}
	}
	body, _ := json.Marshal(raw)
	u := &scimUser{userAttributes: userAttributes{Active: true}} // active unless the client says otherwise
	if err := json.Unmarshal(body, u); err != nil {
		return nil, scimBadRequest("The user does not match the User schema: " + err.Error())
	}
	return &u.userAttributes, u.validate()
}

// awsWorldCreated is when the users and groups of the world file were
// created, for their meta.
var awsWorldCreated = time.Unix(awsCreatedEpoch, 0).UTC()

// scimMetaOf is the meta of a resource created and modified at these times
// (zero for the resources of the world file, until a write modifies them).
func scimMetaOf(resourceType string, created, lastModified time.Time) *scimMeta {
	if created.IsZero() {
		created = awsWorldCreated
	}
	if lastModified.IsZero() {
		lastModified = created
	}
	return &scimMeta{ResourceType: resourceType, Created: created, LastModified: lastModified}
}

// renderUser is the user as GET answers it. The stored attributes are never
// changed in place (writes replace them), so the answer may share them.
func renderUser(u *awsUser) *scimUser {
	out := &scimUser{Schemas: []string{scimSchemaUser}, ID: u.ID, userAttributes: u.userAttributes,
		Meta: scimMetaOf("User", u.Created, u.LastModified)}
	if u.Enterprise != nil {
		out.Schemas = append(out.Schemas, scimSchemaEnterpriseUser)
	}
	return out
}

// copyAttributes copies a user's attributes deeply enough to patch the copy.
func copyAttributes(a *userAttributes) userAttributes {
	c := *a
	c.Emails = slices.Clone(a.Emails)
	c.PhoneNumbers = slices.Clone(a.PhoneNumbers)
	c.Addresses = slices.Clone(a.Addresses)
	if a.Enterprise != nil {
		enterprise := *a.Enterprise
		c.Enterprise = &enterprise
	}
	return c
}

// stableSCIMID derives a resource ID from its name, so a sandbox run is
// repeatable; when the ID is taken (a renamed resource kept the ID of its
// old name), a counter is mixed in.
func stableSCIMID(kind, name string, taken func(string) bool) string {
	id := world.StableID(kind, name)
	for n := 2; taken(id); n++ {
		id = world.StableID(kind, name+"\x00"+strconv.Itoa(n))
	}
	return id
}

func (s *scimServer) createUser(r *http.Request) (int, any, *scimError) {
	attrs, err := decodeUser(r)
	if err != nil {
		return 0, nil, err
	}
	now := s.clock()
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.userNameOrEmailTaken(attrs, "") {
		return 0, nil, scimConflict()
	}
	u := &awsUser{ID: stableSCIMID("scim-user", attrs.UserName, st.idTaken), userAttributes: *attrs, Created: now, LastModified: now}
	st.addUser(u)
	return http.StatusCreated, renderUser(u), nil
}

func (s *scimServer) getUser(id string) (int, any, *scimError) {
	st := s.store
	st.mu.RLock()
	defer st.mu.RUnlock()
	u, ok := st.users[id]
	if !ok {
		return 0, nil, scimNotFound("User", id)
	}
	return http.StatusOK, renderUser(u), nil
}

func (s *scimServer) replaceUser(r *http.Request, id string) (int, any, *scimError) {
	attrs, err := decodeUser(r)
	if err != nil {
		return 0, nil, err
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	u, ok := st.users[id]
	if !ok {
		return 0, nil, scimNotFound("User", id)
	}
	if st.userNameOrEmailTaken(attrs, id) {
		return 0, nil, scimConflict()
	}
	st.setUserAttributes(u, *attrs, s.clock())
	return http.StatusOK, renderUser(u), nil
}

func (s *scimServer) deleteUser(id string) (int, any, *scimError) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	u, ok := st.users[id]
	if !ok {
		return 0, nil, scimNotFound("User", id)
	}
	st.removeUser(u)
	return http.StatusNoContent, nil, nil
}

func (s *scimServer) listUsers(r *http.Request) (int, any, *scimError) {
	page, clauses, err := parseSCIMList(r.URL.Query(), "username", "externalid", "id")
	if err != nil {
		return 0, nil, err
	}
	st := s.store
	st.mu.RLock()
	defer st.mu.RUnlock()
	ids := matchingIDs(clauses, "username", st.userByName, st.userIDs, func(id string) bool { return userMatches(st.users[id], clauses) })
	return pageOf(ids, page, func(id string) any { return renderUser(st.users[id]) })
}

func userMatches(u *awsUser, clauses []scimClause) bool {
	for _, c := range clauses {
		var ok bool
		switch c.attribute {
		case "username":
			ok = strings.EqualFold(u.UserName, c.value)
		case "externalid":
			ok = u.ExternalID == c.value
		case "id":
			ok = u.ID == c.value
		}
		if !ok {
			return false
		}
	}
	return true
}

// scimPatchRequest is a PatchOp body.
type scimPatchRequest struct {
	Schemas    []string        `json:"schemas"`
	Operations []scimOperation `json:"Operations"`
}

type scimOperation struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

func decodeSCIMPatch(r *http.Request) (*scimPatchRequest, *scimError) {
	var patch scimPatchRequest
	if err := decodeSCIMBody(r, &patch); err != nil {
		return nil, err
	}
	if len(patch.Operations) == 0 {
		return nil, scimBadRequest("A PatchOp needs at least one operation.")
	}
	for _, op := range patch.Operations {
		switch strings.ToLower(op.Op) {
		case "add", "replace", "remove":
		default:
			return nil, scimBadRequest("Operation " + strconv.Quote(op.Op) + " is not one of add, replace, remove.")
		}
	}
	return &patch, nil
}

func (s *scimServer) patchUser(r *http.Request, id string) (int, any, *scimError) {
	patch, err := decodeSCIMPatch(r)
	if err != nil {
		return 0, nil, err
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	stored, ok := st.users[id]
	if !ok {
		return 0, nil, scimNotFound("User", id)
	}
	// Patch a copy: a request that fails half way changes nothing.
	u := copyAttributes(&stored.userAttributes)
	// AWS refuses more than one operation on userName or active in a request.
	seen := map[string]bool{}
	for _, op := range patch.Operations {
		remove := strings.EqualFold(op.Op, "remove")
		if !remove && len(op.Value) == 0 {
			return 0, nil, scimBadRequest(op.Op + " needs a value.")
		}
		if path := strings.ToLower(op.Path); path == "username" || path == "active" {
			if remove {
				return 0, nil, scimBadRequest(op.Path + " cannot be removed.")
			}
			if seen[path] {
				return 0, nil, scimBadRequest("Only one operation on " + op.Path + " is allowed in a request.")
			}
			seen[path] = true
		}
		if op.Path == "" {
			if remove {
				return 0, nil, scimBadRequest("remove needs a path.")
			}
			var values map[string]json.RawMessage
			if err := json.Unmarshal(op.Value, &values); err != nil {
				return 0, nil, scimBadRequest("An operation without a path needs an object value.")
			}
			for path, value := range values {
				if err := patchUserAttribute(&u, path, value, false); err != nil {
					return 0, nil, err
				}
			}
			continue
		}
		if err := patchUserAttribute(&u, op.Path, op.Value, remove); err != nil {
			return 0, nil, err
		}
	}
	if err := u.validate(); err != nil {
		return 0, nil, err
	}
	if st.userNameOrEmailTaken(&u, id) {
		return 0, nil, scimConflict()
	}
	st.setUserAttributes(stored, u, s.clock())
	return http.StatusNoContent, nil, nil
}

// scimTypedPath is a path into a single-valued entry of a multi-valued
// attribute, such as emails[type eq "work"].value.
var scimTypedPath = regexp.MustCompile(`(?i)^(emails|phoneNumbers|addresses)\[type eq "([^"]*)"\]\.(\w+)$`)

// patchUserAttribute applies one add, replace or remove at path.
func patchUserAttribute(u *userAttributes, path string, value json.RawMessage, remove bool) *scimError {
	str := func() (string, *scimError) {
		if remove {
			return "", nil
		}
		var v string
		if err := json.Unmarshal(value, &v); err != nil {
			return "", scimBadRequest("The value of " + path + " must be a string.")
		}
		return v, nil
	}
	setString := func(field *string) *scimError {
		v, err := str()
		if err == nil {
			*field = v
		}
		return err
	}
	enterprise := func() *scimEnterpriseUser {
		if u.Enterprise == nil {
			u.Enterprise = &scimEnterpriseUser{}
		}
		return u.Enterprise
	}
	lower := strings.ToLower(path)
	if attribute, ok := strings.CutPrefix(lower, strings.ToLower(scimSchemaEnterpriseUser)+":"); ok {
		switch attribute {
		case "employeenumber":
			return setString(&enterprise().EmployeeNumber)
		case "costcenter":
			return setString(&enterprise().CostCenter)
		case "organization":
			return setString(&enterprise().Organization)
		case "division":
			return setString(&enterprise().Division)
		case "department":
			return setString(&enterprise().Department)
		case "manager", "manager.value":
			if remove {
				enterprise().Manager = nil
				return nil
			}
			var manager scimManager
			if json.Unmarshal(value, &manager) != nil {
				if err := json.Unmarshal(value, &manager.Value); err != nil {
					return scimBadRequest("The manager must be a user ID or {\"value\": ID}.")
				}
			}
			enterprise().Manager = &manager
			return nil
		}
		return scimBadRequest("Path " + strconv.Quote(path) + " is not a supported attribute.")
	}
	if m := scimTypedPath.FindStringSubmatch(path); m != nil {
		return patchTypedValue(u, strings.ToLower(m[1]), m[2], strings.ToLower(m[3]), value, remove)
	}
	switch lower {
	case "username":
		return setString(&u.UserName)
	case "externalid":
		return setString(&u.ExternalID)
	case "displayname":
		return setString(&u.DisplayName)
	case "nickname":
		return setString(&u.NickName)
	case "profileurl":
		return setString(&u.ProfileURL)
	case "title":
		return setString(&u.Title)
	case "usertype":
		return setString(&u.UserType)
	case "preferredlanguage":
		return setString(&u.PreferredLanguage)
	case "locale":
		return setString(&u.Locale)
	case "timezone":
		return setString(&u.Timezone)
	case "name.givenname":
		return setString(&u.Name.GivenName)
	case "name.familyname":
		return setString(&u.Name.FamilyName)
	case "name.middlename":
		return setString(&u.Name.MiddleName)
	case "name.formatted":
		return setString(&u.Name.Formatted)
	case "name.honorificprefix":
		return setString(&u.Name.HonorificPrefix)
	case "name.honorificsuffix":
		return setString(&u.Name.HonorificSuffix)
	case "name":
		u.Name = scimName{}
		if !remove && json.Unmarshal(value, &u.Name) != nil {
			return scimBadRequest("The value of name must be an object.")
		}
		return nil
	case "active":
		active, ok := parseSCIMBool(value)
		if !ok {
			return scimBadRequest("The value of active must be true or false.")
		}
		u.Active = active
		return nil
	case "emails", "phonenumbers", "addresses":
		return patchMultiValued(u, lower, value, remove)
	}
	return scimBadRequest("Path " + strconv.Quote(path) + " is not a supported attribute.")
}

// parseSCIMBool reads a boolean sent as JSON true/false or, as Entra sends
// it, as the string "True"/"False".
func parseSCIMBool(value json.RawMessage) (bool, bool) {
	var b bool
	if json.Unmarshal(value, &b) == nil {
		return b, true
	}
	var s string
	if json.Unmarshal(value, &s) != nil {
		return false, false
	}
	b, err := strconv.ParseBool(strings.ToLower(s))
	return b, err == nil
}

// patchMultiValued replaces or removes a whole multi-valued attribute.
func patchMultiValued(u *userAttributes, attribute string, value json.RawMessage, remove bool) *scimError {
	var target any
	switch attribute {
	case "emails":
		u.Emails, target = nil, &u.Emails
	case "phonenumbers":
		u.PhoneNumbers, target = nil, &u.PhoneNumbers
	default:
		u.Addresses, target = nil, &u.Addresses
	}
	if remove {
		return nil
	}
	if err := json.Unmarshal(value, target); err != nil {
		return scimBadRequest("The value of " + attribute + " must be an array.")
	}
	return nil
}

// patchTypedValue sets or removes one sub-attribute of the single entry of
// a multi-valued attribute, creating the entry (primary, of that type).
func patchTypedValue(u *userAttributes, attribute, typ, sub string, value json.RawMessage, remove bool) *scimError {
	var v string
	if !remove {
		if sub == "primary" {
			b, ok := parseSCIMBool(value)
			if !ok {
				return scimBadRequest("primary must be true or false.")
			}
			v = strconv.FormatBool(b)
		} else if err := json.Unmarshal(value, &v); err != nil {
			return scimBadRequest("The value of " + attribute + "." + sub + " must be a string.")
		}
	}
	switch attribute {
	case "emails", "phonenumbers":
		list := &u.Emails
		if attribute == "phonenumbers" {
			list = &u.PhoneNumbers
		}
		if sub != "value" && sub != "primary" {
			return scimBadRequest(attribute + " has no sub-attribute " + sub + ".")
		}
		if remove && sub == "value" {
			*list = nil
			return nil
		}
		if len(*list) == 0 {
			*list = []scimMultiValue{{Type: typ, Primary: true}}
		}
		entry := &(*list)[0]
		entry.Type = typ
		if sub == "value" {
			entry.Value = v
		} else {
			entry.Primary = v == "true"
		}
		return nil
	default:
		if remove && sub == "" {
			u.Addresses = nil
			return nil
		}
		if len(u.Addresses) == 0 {
			u.Addresses = []scimAddress{{Type: typ, Primary: true}}
		}
		a := &u.Addresses[0]
		a.Type = typ
		fields := map[string]*string{
			"formatted": &a.Formatted, "streetaddress": &a.StreetAddress, "locality": &a.Locality,
			"region": &a.Region, "postalcode": &a.PostalCode, "country": &a.Country,
		}
		field, ok := fields[sub]
		if !ok {
			return scimBadRequest("addresses has no sub-attribute " + sub + ".")
		}
		*field = v
		return nil
	}
}
