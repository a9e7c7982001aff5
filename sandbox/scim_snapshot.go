package sandbox

import (
	"slices"
	"strings"
)

// SCIMState is what the identity store holds, as the SCIM endpoint sees
// it: the users and groups of the world file and what provisioning pushed.
type SCIMState struct {
	Users  []SCIMUser  `json:"users"`  // sorted by userName
	Groups []SCIMGroup `json:"groups"` // sorted by displayName
}

// SCIMUser is a provisioned user's identifying attributes.
type SCIMUser struct {
	ID          string `json:"id"`
	ExternalID  string `json:"externalId,omitempty"`
	UserName    string `json:"userName"`
	GivenName   string `json:"givenName"`
	FamilyName  string `json:"familyName"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email,omitempty"`
	Active      bool   `json:"active"`
}

// SCIMGroup is a provisioned group with its member user IDs, sorted.
type SCIMGroup struct {
	ID          string   `json:"id"`
	ExternalID  string   `json:"externalId,omitempty"`
	DisplayName string   `json:"displayName"`
	MemberIDs   []string `json:"memberIds"`
}

// Snapshot copies the users and groups of the identity store the endpoint
// writes.
func (s *scimServer) Snapshot() SCIMState {
	return s.store.snapshot()
}

func (st *awsState) snapshot() SCIMState {
	st.mu.RLock()
	defer st.mu.RUnlock()
	state := SCIMState{Users: make([]SCIMUser, 0, len(st.users)), Groups: make([]SCIMGroup, 0, len(st.groups))}
	for _, id := range st.userIDs {
		u := st.users[id]
		user := SCIMUser{
			ID: u.ID, ExternalID: u.ExternalID, UserName: u.UserName, GivenName: u.Name.GivenName,
			FamilyName: u.Name.FamilyName, DisplayName: u.DisplayName, Active: u.Active,
		}
		if len(u.Emails) > 0 {
			user.Email = u.Emails[0].Value
		}
		state.Users = append(state.Users, user)
	}
	for _, id := range st.groupIDs {
		g := st.groups[id]
		members := append([]string{}, st.members[id]...)
		state.Groups = append(state.Groups, SCIMGroup{ID: g.ID, ExternalID: g.ExternalID, DisplayName: g.DisplayName, MemberIDs: members})
	}
	slices.SortFunc(state.Users, func(a, b SCIMUser) int { return strings.Compare(a.UserName, b.UserName) })
	slices.SortFunc(state.Groups, func(a, b SCIMGroup) int { return strings.Compare(a.DisplayName, b.DisplayName) })
	return state
}
