package sandbox

import (
	"fmt"
	"strings"
	"sync"

	"github.com/platformguide/ssocutover/sandbox/world"
)

// graphState is the Entra tenant the Graph half of the sandbox serves.
// Reads take the read lock; the write endpoints of later work take the lock.
type graphState struct {
	mu sync.RWMutex

	users     []*graphUser // in world order
	userByID  map[string]*graphUser
	userByUPN map[string]*graphUser // by lower-case userPrincipalName

	groups    []*graphGroup // in world order
	groupByID map[string]*graphGroup
}

// graphUser is a user of the tenant.
type graphUser struct {
	ID                string
	UserPrincipalName string
	Mail              string
	GivenName         string
	Surname           string
	DisplayName       string
	OtherMails        []string
}

// graphGroup is a group of the tenant. Display names may repeat (Entra does
// not keep them unique), which is why the ID includes the world index.
type graphGroup struct {
	ID              string
	DisplayName     string
	SecurityEnabled bool
	MailEnabled     bool
	Owners          []*graphUser
	MemberUsers     []*graphUser
	MemberGroups    []*graphGroup
}

// graphUserID and graphGroupID are the IDs the sandbox gives the world's
// Entra objects (sandbox/worldinv predicts them the same way).
func graphUserID(userPrincipalName string) string {
	return world.StableID("entra-user", strings.ToLower(userPrincipalName))
}

func graphGroupID(index int, displayName string) string {
	return world.StableID("entra-group", fmt.Sprint(index, displayName))
}

// newGraphState indexes w's tenant. w is valid (sandbox.Start validated it):
// every owner and member names a user, every nested group a group.
func newGraphState(w *world.World) *graphState {
	s := &graphState{
		users:     make([]*graphUser, 0, len(w.Entra.Users)),
		userByID:  make(map[string]*graphUser, len(w.Entra.Users)),
		userByUPN: make(map[string]*graphUser, len(w.Entra.Users)),
		groups:    make([]*graphGroup, 0, len(w.Entra.Groups)),
		groupByID: make(map[string]*graphGroup, len(w.Entra.Groups)),
	}
	for _, u := range w.Entra.Users {
		gu := &graphUser{
			ID:                graphUserID(u.UserPrincipalName),
			UserPrincipalName: u.UserPrincipalName,
			Mail:              u.Mail,
			GivenName:         u.GivenName,
			Surname:           u.Surname,
			DisplayName:       u.DisplayName,
			OtherMails:        u.OtherMails,
		}
		s.users = append(s.users, gu)
		s.userByID[gu.ID] = gu
		s.userByUPN[strings.ToLower(gu.UserPrincipalName)] = gu
	}

	groupsByName := map[string][]*graphGroup{} // exact display name, as MemberGroups names them
	for i, g := range w.Entra.Groups {
		gg := &graphGroup{
			ID:              graphGroupID(i, g.DisplayName),
			DisplayName:     g.DisplayName,
			SecurityEnabled: g.SecurityEnabled,
			MailEnabled:     g.MailEnabled,
			Owners:          s.usersNamed(g.Owners),
			MemberUsers:     s.usersNamed(g.Members),
		}
		s.groups = append(s.groups, gg)
		s.groupByID[gg.ID] = gg
		groupsByName[g.DisplayName] = append(groupsByName[g.DisplayName], gg)
	}
	// A nested group is named by display name; every group of that name is
	// nested (a world cannot tell two groups of one name apart otherwise).
	for i, g := range w.Entra.Groups {
		seen := map[*graphGroup]bool{}
		for _, name := range g.MemberGroups {
			for _, nested := range groupsByName[name] {
				if !seen[nested] {
					seen[nested] = true
					s.groups[i].MemberGroups = append(s.groups[i].MemberGroups, nested)
				}
			}
		}
	}
	return s
}

// usersNamed resolves user principal names, once each, in the given order.
func (s *graphState) usersNamed(upns []string) []*graphUser {
	out := make([]*graphUser, 0, len(upns))
	seen := map[*graphUser]bool{}
	for _, upn := range upns {
		if u := s.userByUPN[strings.ToLower(upn)]; u != nil && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// transitiveMembers returns every user and group reached from g through
// nesting, breadth first, each once, g itself excluded (cycles are allowed
// in a world and harmless here).
func (g *graphGroup) transitiveMembers() []graphObject {
	var out []graphObject
	seenUsers := map[*graphUser]bool{}
	seenGroups := map[*graphGroup]bool{g: true}
	queue := []*graphGroup{g}
	for len(queue) > 0 {
		current := queue[0]
		queue = queue[1:]
		for _, u := range current.MemberUsers {
			if !seenUsers[u] {
				seenUsers[u] = true
				out = append(out, u)
			}
		}
		for _, nested := range current.MemberGroups {
			if !seenGroups[nested] {
				seenGroups[nested] = true
				out = append(out, nested)
				queue = append(queue, nested)
			}
		}
	}
	return out
}

// directMembers returns g's users, then its nested groups.
func (g *graphGroup) directMembers() []graphObject {
	out := make([]graphObject, 0, len(g.MemberUsers)+len(g.MemberGroups))
	for _, u := range g.MemberUsers {
		out = append(out, u)
	}
	for _, n := range g.MemberGroups {
		out = append(out, n)
	}
	return out
}

// graphObject is a directoryObject: a user or a group.
type graphObject interface {
	odataType() string
	// property returns the JSON value of a property and whether the type
	// has it.
	property(name string) (any, bool)
}

// The properties the sandbox models, in the order Graph lists them. A
// $select of any other property is refused as Graph refuses an unknown one.
var (
	graphUserProperties  = []string{"id", "displayName", "givenName", "surname", "mail", "userPrincipalName", "otherMails"}
	graphGroupProperties = []string{"id", "displayName", "groupTypes", "mailEnabled", "securityEnabled"}
)

const (
	odataTypeUser  = "#microsoft.graph.user"
	odataTypeGroup = "#microsoft.graph.group"
)

func (u *graphUser) odataType() string { return odataTypeUser }

func (u *graphUser) property(name string) (any, bool) {
	switch name {
	case "id":
		return u.ID, true
	case "displayName":
		return nullable(u.DisplayName), true
	case "givenName":
		return nullable(u.GivenName), true
	case "surname":
		return nullable(u.Surname), true
	case "mail":
		return nullable(u.Mail), true
	case "userPrincipalName":
		return u.UserPrincipalName, true
	case "otherMails":
		if u.OtherMails == nil {
			return []string{}, true
		}
		return u.OtherMails, true
	}
	return nil, false
}

func (g *graphGroup) odataType() string { return odataTypeGroup }

func (g *graphGroup) property(name string) (any, bool) {
	switch name {
	case "id":
		return g.ID, true
	case "displayName":
		return g.DisplayName, true
	case "groupTypes":
		return []string{}, true
	case "mailEnabled":
		return g.MailEnabled, true
	case "securityEnabled":
		return g.SecurityEnabled, true
	}
	return nil, false
}

// nullable writes an empty string as JSON null, as Graph does for an unset
// property.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
