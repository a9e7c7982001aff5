package sandbox

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Groups live in the identity store (awsGroup, aws_state.go), their members
// in its membership lists. Members are never returned by GET or list (AWS
// answers without them); they are read with the filter
// `id eq "<group>" and members eq "<user>"`, or Snapshot.

// scimGroupResource is a group on the wire.
type scimGroupResource struct {
	Schemas     []string        `json:"schemas"`
	ID          string          `json:"id,omitempty"`
	ExternalID  string          `json:"externalId,omitempty"`
	Meta        *scimMeta       `json:"meta,omitempty"`
	DisplayName string          `json:"displayName"`
	Members     []scimMemberRef `json:"members,omitempty"`
}

type scimMemberRef struct {
	Value string `json:"value"`
}

func renderGroup(g *awsGroup) any {
	return &scimGroupResource{
		Schemas: []string{scimSchemaGroup}, ID: g.ID, ExternalID: g.ExternalID,
		Meta: scimMetaOf("Group", g.Created, g.LastModified), DisplayName: g.DisplayName,
	}
}

// checkMembers refuses member changes beyond the limit and members that are
// not users (groups cannot be nested) or do not exist. The caller holds the
// store's lock.
func checkMembers(st *awsState, refs []scimMemberRef) *scimError {
	if len(refs) > scimMaxMemberChanges {
		return scimBadRequest("A request can carry at most 100 member changes; this one carries " + strconv.Itoa(len(refs)) + ".")
	}
	for _, ref := range refs {
		if _, isGroup := st.groups[ref.Value]; isGroup {
			return scimBadRequest("Member " + ref.Value + " is a group; nested groups are not supported.")
		}
		if _, isUser := st.users[ref.Value]; !isUser {
			return scimBadRequest("Member " + strconv.Quote(ref.Value) + " is not a user ID.")
		}
	}
	return nil
}

func (s *scimServer) createGroup(r *http.Request) (int, any, *scimError) {
	var in scimGroupResource
	if err := decodeSCIMBody(r, &in); err != nil {
		return 0, nil, err
	}
	if strings.TrimSpace(in.DisplayName) == "" {
		return 0, nil, scimBadRequest("displayName is required.")
	}
	now := s.clock()
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := checkMembers(st, in.Members); err != nil {
		return 0, nil, err
	}
	if _, taken := st.groupByName[strings.ToLower(in.DisplayName)]; taken {
		return 0, nil, scimConflict()
	}
	g := &awsGroup{
		ID:         stableSCIMID("scim-group", in.DisplayName, st.idTaken),
		ExternalID: in.ExternalID, DisplayName: in.DisplayName, Created: now, LastModified: now,
	}
	st.addGroup(g)
	for _, ref := range in.Members {
		st.addMember(g.ID, ref.Value)
	}
	return http.StatusCreated, renderGroup(g), nil
}

func (s *scimServer) getGroup(id string) (int, any, *scimError) {
	st := s.store
	st.mu.RLock()
	defer st.mu.RUnlock()
	g, ok := st.groups[id]
	if !ok {
		return 0, nil, scimNotFound("Group", id)
	}
	return http.StatusOK, renderGroup(g), nil
}

func (s *scimServer) deleteGroup(id string) (int, any, *scimError) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	g, ok := st.groups[id]
	if !ok {
		return 0, nil, scimNotFound("Group", id)
	}
	st.removeGroup(g)
	return http.StatusNoContent, nil, nil
}

func (s *scimServer) listGroups(r *http.Request) (int, any, *scimError) {
	page, clauses, err := parseSCIMList(r.URL.Query(), "displayname", "externalid", "id", "members", "members.value")
	if err != nil {
		return 0, nil, err
	}
	st := s.store
	st.mu.RLock()
	defer st.mu.RUnlock()
	ids := matchingIDs(clauses, "displayname", st.groupByName, st.groupIDs, func(id string) bool { return groupMatches(st, st.groups[id], clauses) })
	return pageOf(ids, page, func(id string) any { return renderGroup(st.groups[id]) })
}

func groupMatches(st *awsState, g *awsGroup, clauses []scimClause) bool {
	for _, c := range clauses {
		var ok bool
		switch c.attribute {
		case "displayname":
			ok = strings.EqualFold(g.DisplayName, c.value)
		case "externalid":
			ok = g.ExternalID == c.value
		case "id":
			ok = g.ID == c.value
		case "members", "members.value":
			ok = st.isMember(g.ID, c.value)
		}
		if !ok {
			return false
		}
	}
	return true
}

// scimMemberPath is the path of a remove of one member.
var scimMemberPath = regexp.MustCompile(`(?i)^members\[value eq "([^"]*)"\]$`)

// patchGroup applies add, remove and replace operations. Members can be
// added and removed (at most 100 changes in all), never replaced or removed
// all at once; displayName and externalId can be replaced.
func (s *scimServer) patchGroup(r *http.Request, id string) (int, any, *scimError) {
	patch, err := decodeSCIMPatch(r)
	if err != nil {
		return 0, nil, err
	}
	type memberChange struct {
		user string
		add  bool
	}
	var changes []memberChange
	var displayName, externalID *string
	memberRefs := func(value json.RawMessage) ([]scimMemberRef, *scimError) {
		var list []scimMemberRef
		if json.Unmarshal(value, &list) != nil {
			var one scimMemberRef
			if json.Unmarshal(value, &one) != nil || one.Value == "" {
				return nil, scimBadRequest("members must be a list of {\"value\": user ID}.")
			}
			list = []scimMemberRef{one}
		}
		return list, nil
	}
	for _, op := range patch.Operations {
		verb, path := strings.ToLower(op.Op), op.Path
		switch {
		case strings.EqualFold(path, "members") && verb == "replace":
			return 0, nil, scimBadRequest("Replacing all members of a group is not supported; add and remove members instead.")
		case strings.EqualFold(path, "members") && verb == "remove" && (len(op.Value) == 0 || string(op.Value) == "null"):
			return 0, nil, scimBadRequest("Removing all members of a group is not supported; remove members by value.")
		case strings.EqualFold(path, "members"):
			list, err := memberRefs(op.Value)
			if err != nil {
				return 0, nil, err
			}
			for _, ref := range list {
				changes = append(changes, memberChange{user: ref.Value, add: verb == "add"})
			}
		case scimMemberPath.MatchString(path) && verb == "remove":
			user := scimMemberPath.FindStringSubmatch(path)[1]
			changes = append(changes, memberChange{user: user})
		case path == "" && verb != "remove":
			var values map[string]json.RawMessage
			if json.Unmarshal(op.Value, &values) != nil {
				return 0, nil, scimBadRequest("An operation without a path needs an object value.")
			}
			for key, value := range values {
				var v string
				switch {
				case strings.EqualFold(key, "members"):
					return 0, nil, scimBadRequest("Members can only be changed with path \"members\".")
				case json.Unmarshal(value, &v) != nil:
					return 0, nil, scimBadRequest(key + " must be a string.")
				case strings.EqualFold(key, "displayName"):
					displayName = &v
				case strings.EqualFold(key, "externalId"):
					externalID = &v
				default:
					return 0, nil, scimBadRequest("Only displayName, members and externalId can be patched.")
				}
			}
		case (strings.EqualFold(path, "displayName") || strings.EqualFold(path, "externalId")) && verb != "remove":
			var v string
			if json.Unmarshal(op.Value, &v) != nil {
				return 0, nil, scimBadRequest(path + " must be a string.")
			}
			if strings.EqualFold(path, "displayName") {
				displayName = &v
			} else {
				externalID = &v
			}
		default:
			return 0, nil, scimBadRequest(op.Op + " of " + strconv.Quote(path) + " is not supported; only displayName, members and externalId can be patched.")
		}
	}
	if len(changes) > scimMaxMemberChanges {
		return 0, nil, scimBadRequest("A request can carry at most 100 member changes; this one carries " + strconv.Itoa(len(changes)) + ".")
	}
	if displayName != nil && strings.TrimSpace(*displayName) == "" {
		return 0, nil, scimBadRequest("displayName is required.")
	}

	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	g, ok := st.groups[id]
	if !ok {
		return 0, nil, scimNotFound("Group", id)
	}
	// Removals of users that no longer exist are harmless; only additions
	// must name existing users.
	var added []scimMemberRef
	for _, c := range changes {
		if c.add {
			added = append(added, scimMemberRef{Value: c.user})
		}
	}
	if err := checkMembers(st, added); err != nil {
		return 0, nil, err
	}
	if displayName != nil {
		if other, taken := st.groupByName[strings.ToLower(*displayName)]; taken && other != id {
			return 0, nil, scimConflict()
		}
	}
	for _, c := range changes {
		if c.add {
			st.addMember(id, c.user)
		} else {
			st.removeMember(id, c.user)
		}
	}
	if displayName != nil {
		st.renameGroup(g, *displayName)
	}
	if externalID != nil {
		g.ExternalID = *externalID
	}
	g.LastModified = s.clock()
	return http.StatusNoContent, nil, nil
}
