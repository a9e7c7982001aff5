package sandbox

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/platformguide/ssocutover/internal/world"
)

// scimUser is a user as IAM Identity Center stores and returns it: the
// single-valued core attributes, at most one email, address and phone
// number, and the enterprise extension.
type scimUser struct {
	Schemas           []string            `json:"schemas"`
	ID                string              `json:"id"`
	ExternalID        string              `json:"externalId,omitempty"`
	Meta              *scimMeta           `json:"meta,omitempty"`
	UserName          string              `json:"userName"`
	Name              scimName            `json:"name"`
	DisplayName       string              `json:"displayName"`
	NickName          string              `json:"nickName,omitempty"`
	ProfileURL        string              `json:"profileUrl,omitempty"`
	Title             string              `json:"title,omitempty"`
	UserType          string              `json:"userType,omitempty"`
	PreferredLanguage string              `json:"preferredLanguage,omitempty"`
	Locale            string              `json:"locale,omitempty"`
	Timezone          string              `json:"timezone,omitempty"`
	Active            bool                `json:"active"`
	Emails            []scimMultiValue    `json:"emails,omitempty"`
	PhoneNumbers      []scimMultiValue    `json:"phoneNumbers,omitempty"`
	Addresses         []scimAddress       `json:"addresses,omitempty"`
	Enterprise        *scimEnterpriseUser `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
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

// email is the user's email, lower-cased, as uniqueness compares it.
func (u *scimUser) email() string {
	if len(u.Emails) == 0 {
		return ""
	}
	return strings.ToLower(u.Emails[0].Value)
}

// validate checks what AWS requires of a user.
func (u *scimUser) validate() *scimError {
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

// decodeUser reads a user from a create or replace body.
func decodeUser(r *http.Request) (*scimUser, *scimError) {
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
	u := &scimUser{Active: true} // active unless the client says otherwise
	if err := json.Unmarshal(body, u); err != nil {
		return nil, scimBadRequest("The user does not match the User schema: " + err.Error())
	}
	u.ID, u.Meta = "", nil
	return u, u.validate()
}

// render is the user as GET answers it.
func (u *scimUser) render() any {
	out := *u
	out.Schemas = []string{scimSchemaUser}
	if u.Enterprise != nil {
		out.Schemas = append(out.Schemas, scimSchemaEnterpriseUser)
	}
	meta := *u.Meta
	out.Meta = &meta
	return &out
}

// conflicts reports whether another user than id holds u's userName or email.
func (s *scimServer) userConflicts(u *scimUser, id string) bool {
	if other, ok := s.userByName[strings.ToLower(u.UserName)]; ok && other != id {
		return true
	}
	if email := u.email(); email != "" {
		if other, ok := s.userByEmail[email]; ok && other != id {
			return true
		}
	}
	return false
}

// indexUser adds u to the userName and email indexes; unindexUser removes it.
func (s *scimServer) indexUser(u *scimUser) {
	s.userByName[strings.ToLower(u.UserName)] = u.ID
	if email := u.email(); email != "" {
		s.userByEmail[email] = u.ID
	}
}

func (s *scimServer) unindexUser(u *scimUser) {
	delete(s.userByName, strings.ToLower(u.UserName))
	if email := u.email(); email != "" {
		delete(s.userByEmail, email)
	}
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
	u, err := decodeUser(r)
	if err != nil {
		return 0, nil, err
	}
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.userConflicts(u, "") {
		return 0, nil, scimConflict()
	}
	u.ID = stableSCIMID("scim-user", u.UserName, func(id string) bool {
		_, user := s.users[id]
		_, group := s.groups[id]
		return user || group
	})
	u.Meta = &scimMeta{ResourceType: "User", Created: now, LastModified: now}
	s.users[u.ID] = u
	s.indexUser(u)
	s.userIDs.changed()
	return http.StatusCreated, u.render(), nil
}

func (s *scimServer) getUser(id string) (int, any, *scimError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return 0, nil, scimNotFound("User", id)
	}
	return http.StatusOK, u.render(), nil
}

func (s *scimServer) replaceUser(r *http.Request, id string) (int, any, *scimError) {
	u, err := decodeUser(r)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.users[id]
	if !ok {
		return 0, nil, scimNotFound("User", id)
	}
	if s.userConflicts(u, id) {
		return 0, nil, scimConflict()
	}
	u.ID = id
	u.Meta = &scimMeta{ResourceType: "User", Created: old.Meta.Created, LastModified: s.clock()}
	s.unindexUser(old)
	s.users[id] = u
	s.indexUser(u)
	return http.StatusOK, u.render(), nil
}

func (s *scimServer) deleteUser(id string) (int, any, *scimError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return 0, nil, scimNotFound("User", id)
	}
	s.unindexUser(u)
	delete(s.users, id)
	s.userIDs.changed()
	for _, g := range s.groups {
		delete(g.members, id)
	}
	return http.StatusNoContent, nil, nil
}

func (s *scimServer) listUsers(r *http.Request) (int, any, *scimError) {
	page, clauses, err := parseSCIMList(r.URL.Query(), "username", "externalid", "id")
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := matchingIDs(clauses, "username", s.userByName, s.users, &s.userIDs, userMatches)
	return pageOf(ids, page, func(id string) any { return s.users[id].render() })
}

func userMatches(u *scimUser, clauses []scimClause) bool {
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

func decodePatch(r *http.Request) (*scimPatchRequest, *scimError) {
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
	patch, err := decodePatch(r)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.users[id]
	if !ok {
		return 0, nil, scimNotFound("User", id)
	}
	// Patch a copy: a request that fails half way changes nothing.
	u := *old
	u.Emails = append([]scimMultiValue(nil), old.Emails...)
	u.PhoneNumbers = append([]scimMultiValue(nil), old.PhoneNumbers...)
	u.Addresses = append([]scimAddress(nil), old.Addresses...)
	if old.Enterprise != nil {
		enterprise := *old.Enterprise
		u.Enterprise = &enterprise
	}
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
	if s.userConflicts(&u, id) {
		return 0, nil, scimConflict()
	}
	u.Meta = &scimMeta{ResourceType: "User", Created: old.Meta.Created, LastModified: s.clock()}
	s.unindexUser(old)
	s.users[id] = &u
	s.indexUser(&u)
	return http.StatusNoContent, nil, nil
}

// scimTypedPath is a path into a single-valued entry of a multi-valued
// attribute, such as emails[type eq "work"].value.
var scimTypedPath = regexp.MustCompile(`(?i)^(emails|phoneNumbers|addresses)\[type eq "([^"]*)"\]\.(\w+)$`)

// patchUserAttribute applies one add, replace or remove at path.
func patchUserAttribute(u *scimUser, path string, value json.RawMessage, remove bool) *scimError {
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
func patchMultiValued(u *scimUser, attribute string, value json.RawMessage, remove bool) *scimError {
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
func patchTypedValue(u *scimUser, attribute, typ, sub string, value json.RawMessage, remove bool) *scimError {
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
