package entra

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/platformguide/ssocutover/internal/attrmap"
	"github.com/platformguide/ssocutover/internal/preflight"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/progress"
	"github.com/platformguide/ssocutover/internal/store"
)

// Graph's limits that decide how many calls the inventory makes.
const (
	// pageSize is the largest $top of users, groups and members.
	pageSize = 999
	// valuesPerFilter is how many values one $filter may compare with
	// ("in" counts each): Graph allows 15.
	valuesPerFilter = 15
	// maxFilterLength keeps a $filter well inside Graph's URL length limit
	// (2,048 characters for advanced queries) even for long names.
	maxFilterLength = 1000
)

// The properties the inventory reads: only what the analysis uses.
var (
	groupFields  = []string{"id", "displayName", "securityEnabled"}
	memberFields = []string{"id", "userPrincipalName", "mail", "givenName", "surname", "displayName", "otherMails"}
	ownerFields  = []string{"id"}
	nestedFields = []string{"id", "userPrincipalName"}
)

// inventoryRun is one run of InventoryEntra.
type inventoryRun struct {
	graph       *graphclient.Client
	concurrency int
	progress    *progress.Reporter
	aws         awsNames

	// mappings are the user mappings provisioning will apply, and
	// userFields the user properties read: those the analysis uses and
	// those the mappings read.
	mappings   attrmap.Compiled
	userFields []string

	candidates map[string]*candidate          // by Entra group ID
	users      map[string]preflight.EntraUser // by Entra user ID

	// store keeps the checkpoints (inventory_checkpoint.go); nil keeps none.
	store store.Store
	// groupsPerChunk is how many groups readGroups reads between two
	// checkpoints; 0 means defaultGroupsPerChunk.
	groupsPerChunk int
	// resume is the checkpoint: the last attempt's, then this one's.
	resume inventoryCheckpoint
	// newUsers are the users first seen in the chunk being read.
	newUsers []string
}

// awsNames is the part of the AWS inventory that is looked up in Entra: the
// groups' display names and the users' userNames, in the snapshot's order.
// Reading only these leaves the member lists (a million names at 100,000
// users) and the assignments on disk.
type awsNames struct {
	Groups []struct {
		DisplayName string `json:"displayName"`
	} `json:"groups"`
	Users []struct {
		UserName string `json:"userName"`
	} `json:"users"`
}

// candidate is an Entra group whose display name is an AWS group's, and
// what its members and owners showed.
type candidate struct {
	group        preflight.EntraGroup
	nestedGroups map[string]bool   // display names of the direct group members
	reached      map[string]string // ID -> userPrincipalName of every user reached, nesting included
	askedNested  bool
}

func (r *inventoryRun) inventory(ctx context.Context, tenantID, appName string) (preflight.Entra, error) {
	r.candidates = map[string]*candidate{}
	r.users = map[string]preflight.EntraUser{}
	set, err := r.readMappings(ctx, appName)
	if err != nil {
		return preflight.Entra{}, err
	}
	r.mappings = set.Compile()
	r.userFields = slices.Clone(memberFields)
	for _, name := range r.mappings.SourceAttributes() {
		if _, builtin := attrmap.Builtin(name, ""); !builtin && !slices.ContainsFunc(r.userFields, func(f string) bool { return strings.EqualFold(f, name) }) {
			r.userFields = append(r.userFields, name)
		}
	}
	if r.store == nil || !progress.Resume(ctx, &r.resume) {
		r.resume = inventoryCheckpoint{}
	}
	if r.resume.Candidates != nil {
		if err := r.loadCandidates(ctx); err != nil {
			return preflight.Entra{}, err
		}
	} else {
		if err := r.findGroups(ctx); err != nil {
			return preflight.Entra{}, err
		}
		if err := r.saveCandidates(ctx); err != nil {
			return preflight.Entra{}, err
		}
	}
	if err := r.readGroups(ctx); err != nil {
		return preflight.Entra{}, err
	}
	if err := r.findUsers(ctx); err != nil {
		return preflight.Entra{}, err
	}
	inv := r.result(tenantID)
	inv.Mappings = set
	return inv, nil
}

// findGroups finds every Entra group whose display name equals an AWS
// group's, ignoring case (as Graph's $filter compares). It looks the names
// up 15 to a $filter and 20 filters to a $batch, or, when the tenant has so
// few groups that listing them all takes fewer calls, lists them all.
func (r *inventoryRun) findGroups(ctx context.Context) error {
	wanted := map[string]string{} // lower-case name -> the AWS spelling
	for _, g := range r.aws.Groups {
		if _, ok := wanted[strings.ToLower(g.DisplayName)]; !ok {
			wanted[strings.ToLower(g.DisplayName)] = g.DisplayName
		}
	}
	if len(wanted) == 0 {
		return nil
	}
	r.progress.Start("find the groups in Entra", len(wanted))
	names := slices.Sorted(maps.Values(wanted))
	defer r.progress.Add(len(wanted))
	return findByName(ctx, r, collection[models.GroupCollectionResponseable]{
		name: "groups", property: "displayName",
		count: func(ctx context.Context) (*int32, error) {
			return r.graph.Client.Groups().Count().Get(ctx, &groups.CountRequestBuilderGetRequestConfiguration{Headers: eventual()})
		},
		request: func(ctx context.Context, filter *string) (*abstractions.RequestInformation, error) {
			return r.graph.Client.Groups().ToGetRequestInformation(ctx, &groups.GroupsRequestBuilderGetRequestConfiguration{
				QueryParameters: &groups.GroupsRequestBuilderGetQueryParameters{Filter: filter, Select: groupFields, Top: ptr(int32(pageSize))},
			})
		},
		next: func(ctx context.Context, nextLink string) (*abstractions.RequestInformation, error) {
			return r.graph.Client.Groups().WithUrl(nextLink).ToGetRequestInformation(ctx, nil)
		},
		factory: models.CreateGroupCollectionResponseFromDiscriminatorValue,
		keep: func(page models.GroupCollectionResponseable) {
			for _, g := range page.GetValue() {
				if _, ok := wanted[strings.ToLower(deref(g.GetDisplayName()))]; ok {
					r.addCandidate(g)
				}
			}
		},
	}, names)
}

func (r *inventoryRun) addCandidate(g models.Groupable) {
	id := deref(g.GetId())
	if _, ok := r.candidates[id]; ok {
		return
	}
	r.candidates[id] = newCandidate(preflight.EntraGroup{
		ID:              id,
		DisplayName:     deref(g.GetDisplayName()),
		SecurityEnabled: deref(g.GetSecurityEnabled()),
	})
}

// newCandidate is a candidate for group, before (or as) its members are read.
func newCandidate(group preflight.EntraGroup) *candidate {
	if group.MemberIDs == nil {
		group.MemberIDs = []string{}
	}
	return &candidate{group: group, nestedGroups: map[string]bool{}, reached: map[string]string{}}
}

// readGroups reads, for every candidate, its direct members (users with the
// attributes provisioning maps; nested groups by name), its owners, and,
// when it has nested groups, the users it reaches through them. The
// requests go 20 to a $batch; big groups are paged through their nextLink.
// It reads groupsPerChunk groups at a time and checkpoints each chunk; the
// groups of the last attempt's chunks are not read again.
func (r *inventoryRun) readGroups(ctx context.Context) error {
	if len(r.candidates) == 0 {
		return nil
	}
	read := map[string]bool{}
	if r.resume.LastChunk != nil {
		var err error
		if read, err = r.loadChunks(ctx); err != nil {
			return err
		}
	}
	r.progress.Start("read the members and owners of the groups in Entra", 2*len(r.candidates))
	r.progress.Add(2 * len(read))
	todo := slices.DeleteFunc(slices.Sorted(maps.Keys(r.candidates)), func(id string) bool { return read[id] })
	for chunk := range slices.Chunk(todo, cmp.Or(r.groupsPerChunk, defaultGroupsPerChunk)) {
		r.newUsers = nil
		if err := r.readChunk(ctx, chunk); err != nil {
			return err
		}
		if err := r.saveChunk(ctx, chunk, r.newUsers); err != nil {
			return err
		}
	}
	return nil
}

// readChunk reads the members and owners of the candidates ids.
func (r *inventoryRun) readChunk(ctx context.Context, ids []string) error {
	b := r.newBatcher(func(n int) { r.progress.Add(n) })
	for _, id := range ids {
		c := r.candidates[id]
		members, err := r.graph.Client.Groups().ByGroupId(id).Members().ToGetRequestInformation(ctx, &groups.ItemMembersRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.ItemMembersRequestBuilderGetQueryParameters{Select: r.userFields, Top: ptr(int32(pageSize))},
		})
		if err != nil {
			return err
		}
		b.add(r.membersRequest(ctx, b, c, members))
		// Entra allows at most 100 owners, so one page holds them all;
		// the nextLink is followed all the same.
		owners, err := r.graph.Client.Groups().ByGroupId(id).Owners().ToGetRequestInformation(ctx, &groups.ItemOwnersRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.ItemOwnersRequestBuilderGetQueryParameters{Select: ownerFields, Top: ptr(int32(pageSize))},
		})
		if err != nil {
			return err
		}
		b.add(r.ownersRequest(ctx, b, c, owners))
	}
	return b.run(ctx)
}

func (r *inventoryRun) membersRequest(ctx context.Context, b *batcher, c *candidate, info *abstractions.RequestInformation) *batchRequest {
	what := fmt.Sprintf("list the members of group %q (%s)", c.group.DisplayName, c.group.ID)
	return pages[*memberPage]{
		what:    what,
		factory: memberPageFactory(r.userFields[len(memberFields):]),
		next: func(ctx context.Context, nextLink string) (*abstractions.RequestInformation, error) {
			return r.graph.Client.Groups().ByGroupId(c.group.ID).Members().WithUrl(nextLink).ToGetRequestInformation(ctx, nil)
		},
		more: func() { r.progress.More(1) },
		page: func(page *memberPage) error {
			for _, m := range page.members {
				switch m.odataType {
				case odataTypeUser:
					id := m.ID
					if known, ok := r.users[id]; ok {
						// Keep one copy of the ID: a user is a member of
						// many groups (a million memberships at 100,000
						// users).
						id = known.ID
					} else {
						r.users[id] = m.EntraUser
						r.newUsers = append(r.newUsers, id)
					}
					c.group.MemberIDs = append(c.group.MemberIDs, id)
				case odataTypeGroup:
					c.nestedGroups[m.DisplayName] = true
					if !c.askedNested {
						c.askedNested = true
						nested, err := r.graph.Client.Groups().ByGroupId(c.group.ID).TransitiveMembers().GraphUser().ToGetRequestInformation(ctx, &groups.ItemTransitiveMembersGraphUserRequestBuilderGetRequestConfiguration{
							QueryParameters: &groups.ItemTransitiveMembersGraphUserRequestBuilderGetQueryParameters{Select: nestedFields, Top: ptr(int32(pageSize))},
						})
						if err != nil {
							return fmt.Errorf("%s: %w", what, err)
						}
						r.progress.More(1)
						b.add(r.nestedRequest(ctx, b, c, nested))
					}
				}
				// Other members (devices, service principals, contacts)
				// are not provisioned to AWS and do not matter here.
			}
			return nil
		},
	}.request(ctx, b, info)
}

func (r *inventoryRun) ownersRequest(ctx context.Context, b *batcher, c *candidate, info *abstractions.RequestInformation) *batchRequest {
	return pages[models.DirectoryObjectCollectionResponseable]{
		what:    fmt.Sprintf("list the owners of group %q (%s)", c.group.DisplayName, c.group.ID),
		factory: models.CreateDirectoryObjectCollectionResponseFromDiscriminatorValue,
		next: func(ctx context.Context, nextLink string) (*abstractions.RequestInformation, error) {
			return r.graph.Client.Groups().ByGroupId(c.group.ID).Owners().WithUrl(nextLink).ToGetRequestInformation(ctx, nil)
		},
		more: func() { r.progress.More(1) },
		page: func(page models.DirectoryObjectCollectionResponseable) error {
			c.group.OwnerCount += len(page.GetValue())
			return nil
		},
	}.request(ctx, b, info)
}

// nestedRequest lists the users a group reaches, nesting included
// (transitiveMembers cast to users): those that are not direct members are
// the ones provisioning will not carry.
func (r *inventoryRun) nestedRequest(ctx context.Context, b *batcher, c *candidate, info *abstractions.RequestInformation) *batchRequest {
	return pages[models.UserCollectionResponseable]{
		what:    fmt.Sprintf("list the users reached through the nested groups of group %q (%s)", c.group.DisplayName, c.group.ID),
		factory: models.CreateUserCollectionResponseFromDiscriminatorValue,
		next: func(ctx context.Context, nextLink string) (*abstractions.RequestInformation, error) {
			return r.graph.Client.Groups().ByGroupId(c.group.ID).TransitiveMembers().GraphUser().WithUrl(nextLink).ToGetRequestInformation(ctx, nil)
		},
		more: func() { r.progress.More(1) },
		page: func(page models.UserCollectionResponseable) error {
			for _, u := range page.GetValue() {
				c.reached[deref(u.GetId())] = deref(u.GetUserPrincipalName())
			}
			return nil
		},
	}.request(ctx, b, info)
}

// findUsers finds the Entra users that provisioning would send under an
// AWS user's userName and that are not direct members of a candidate
// group. With userName mapped from one attribute (the gallery maps it from
// userPrincipalName) it looks the userNames up by that attribute, 15 to a
// $filter, or lists every user of the tenant when that takes fewer calls;
// with userName computed by an expression, only a listing can tell, so it
// lists. Users not in Entra are left out: the analysis reports them.
func (r *inventoryRun) findUsers(ctx context.Context) error {
	found := map[string]bool{}
	for _, u := range r.users {
		found[strings.ToLower(r.userName(u))] = true
	}
	missing := map[string]string{} // lower-case userName -> the AWS spelling
	for _, u := range r.aws.Users {
		key := strings.ToLower(u.UserName)
		if _, dup := missing[key]; !found[key] && !dup {
			missing[key] = u.UserName
		}
	}
	if len(missing) == 0 {
		return nil
	}
	r.progress.Start("find the other AWS users in Entra", len(missing))
	defer r.progress.Add(len(missing))
	property, byProperty := r.mappings.UserNameSource()
	byProperty = byProperty && slices.ContainsFunc(filterableUserProperties, func(p string) bool { return strings.EqualFold(p, property) })
	// With userName mapped otherwise than from userPrincipalName, the users
	// whose userPrincipalName is an AWS userName are wanted too: the
	// analysis tells whom the changed mapping stops matching.
	byUPNToo := !byProperty || !strings.EqualFold(property, "userPrincipalName")
	// The users found so far are in the tenant: a listing takes at least
	// the pages they fill.
	users := collection[models.UserCollectionResponseable]{
		name: "users", property: property, known: len(r.users),
		count: func(ctx context.Context) (*int32, error) {
			return r.graph.Client.Users().Count().Get(ctx, &users.CountRequestBuilderGetRequestConfiguration{Headers: eventual()})
		},
		request: func(ctx context.Context, filter *string) (*abstractions.RequestInformation, error) {
			return r.graph.Client.Users().ToGetRequestInformation(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: filter, Select: r.userFields, Top: ptr(int32(pageSize))},
			})
		},
		next: func(ctx context.Context, nextLink string) (*abstractions.RequestInformation, error) {
			return r.graph.Client.Users().WithUrl(nextLink).ToGetRequestInformation(ctx, nil)
		},
		factory: models.CreateUserCollectionResponseFromDiscriminatorValue,
		keep: func(page models.UserCollectionResponseable) {
			for _, u := range page.GetValue() {
				user := r.entraUser(u)
				_, byUserName := missing[strings.ToLower(r.userName(user))]
				_, byUPN := missing[strings.ToLower(user.UserPrincipalName)]
				if byUserName || (byUPNToo && byUPN) {
					r.users[user.ID] = user
				}
			}
		},
	}
	if !byProperty {
		return listAll(ctx, r, users)
	}
	names := slices.Sorted(maps.Values(missing))
	if err := findByName(ctx, r, users, names); err != nil || !byUPNToo {
		return err
	}
	users.property = "userPrincipalName"
	return findByName(ctx, r, users, names)
}

// filterableUserProperties are the user properties Graph filters with "in"
// without advanced query parameters, which the lookup by userName can use.
var filterableUserProperties = []string{"userPrincipalName", "mail", "mailNickname"}

// userName is the userName provisioning sends for u.
func (r *inventoryRun) userName(u preflight.EntraUser) string {
	if v := r.mappings.Value(r.mappings.Apply(u.Attribute), attrmap.TargetUserName); v != "" {
		return v
	}
	return u.UserPrincipalName
}

// listIsCheaper decides between looking objects up by name (filters
// requests, 20 to a $batch call) and listing the whole collection (999 to a
// page). It asks Graph for the collection's size ($count, one call) only
// when the answer can change the decision: looking up takes at least one
// call, and listing at least the pages of the known objects of the
// collection.
func (r *inventoryRun) listIsCheaper(ctx context.Context, filters, known int, collection string, count func(context.Context) (*int32, error)) (bool, error) {
	lookupCalls := ceilDiv(filters, maxBatchRequests)
	if lookupCalls <= max(1, ceilDiv(known, pageSize)) {
		return false, nil
	}
	n, err := count(ctx)
	if err != nil {
		return false, callError("count the "+collection+" of the tenant", err)
	}
	listCalls := max(1, ceilDiv(int(deref(n)), pageSize))
	return listCalls < lookupCalls, nil
}

func (r *inventoryRun) newBatcher(onDone func(int)) *batcher {
	return &batcher{adapter: r.graph.Adapter, concurrency: r.concurrency, onDone: onDone}
}

// result is the inventory in a deterministic order (the same tenant gives
// the same bytes): one match per AWS group in the snapshot's order,
// candidates by ID, member IDs by ID, names sorted, users by lower-case
// userPrincipalName.
func (r *inventoryRun) result(tenantID string) preflight.Entra {
	byName := map[string][]*candidate{}
	for _, id := range slices.Sorted(maps.Keys(r.candidates)) {
		c := r.candidates[id]
		key := strings.ToLower(c.group.DisplayName)
		byName[key] = append(byName[key], c)
	}
	inv := preflight.Entra{
		TenantID: tenantID,
		Groups:   make([]preflight.GroupMatch, 0, len(r.aws.Groups)),
		Users:    make([]preflight.EntraUser, 0, len(r.users)),
	}
	for _, g := range r.aws.Groups {
		match := preflight.GroupMatch{DisplayName: g.DisplayName, Candidates: []preflight.EntraGroup{}}
		for _, c := range byName[strings.ToLower(g.DisplayName)] {
			match.Candidates = append(match.Candidates, c.finish())
		}
		inv.Groups = append(inv.Groups, match)
	}
	for _, u := range r.users {
		inv.Users = append(inv.Users, u)
	}
	slices.SortFunc(inv.Users, func(a, b preflight.EntraUser) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.UserPrincipalName), strings.ToLower(b.UserPrincipalName)), cmp.Compare(a.ID, b.ID))
	})
	return inv
}

// finish sorts what the pages of a candidate gathered; a member listed
// twice is kept once.
func (c *candidate) finish() preflight.EntraGroup {
	g := c.group
	g.MemberIDs = slices.Compact(slices.Sorted(slices.Values(g.MemberIDs)))
	if len(c.nestedGroups) > 0 {
		g.NestedGroups = slices.Sorted(maps.Keys(c.nestedGroups))
	}
	for id, upn := range c.reached {
		if _, direct := slices.BinarySearch(g.MemberIDs, id); !direct {
			g.NestedOnlyUsers = append(g.NestedOnlyUsers, upn)
		}
	}
	slices.Sort(g.NestedOnlyUsers)
	return g
}

// entraUser is the inventory's view of a Graph user, with the other
// properties the mappings read.
func (r *inventoryRun) entraUser(u models.Userable) preflight.EntraUser {
	out := preflight.EntraUser{
		ID:                deref(u.GetId()),
		UserPrincipalName: deref(u.GetUserPrincipalName()),
		Mail:              deref(u.GetMail()),
		GivenName:         deref(u.GetGivenName()),
		Surname:           deref(u.GetSurname()),
		DisplayName:       deref(u.GetDisplayName()),
	}
	if others := u.GetOtherMails(); len(others) > 0 {
		out.OtherMails = slices.Clone(others)
	}
	for _, name := range r.userFields[len(memberFields):] {
		if v := userProperty(u, name); v != "" {
			if out.Attributes == nil {
				out.Attributes = map[string]string{}
			}
			out.Attributes[name] = v
		}
	}
	return out
}

// userProperty reads a property of a user by its Graph name: from the
// SDK's backing store, where every property the model knows is kept by
// name, or from the additional data, where the others (directory
// extensions) are.
func userProperty(u models.Userable, name string) string {
	var v any
	if store := u.GetBackingStore(); store != nil {
		v, _ = store.Get(name)
	}
	if v == nil {
		v = u.GetAdditionalData()[name]
	}
	return rawString(v)
}

// packFilters writes `property in ('a', 'b', ...)` filters that together
// compare with every value, as few as Graph's limits allow. A quote in a
// value is doubled, as OData escapes it.
func packFilters(property string, values []string) []string {
	var filters []string
	var current []string
	length := 0
	flush := func() {
		if len(current) > 0 {
			filters = append(filters, property+" in ("+strings.Join(current, ",")+")")
			current, length = nil, 0
		}
	}
	for _, v := range values {
		literal := "'" + strings.ReplaceAll(v, "'", "''") + "'"
		if len(current) == valuesPerFilter || (len(current) > 0 && length+len(literal)+1 > maxFilterLength) {
			flush()
		}
		current = append(current, literal)
		length += len(literal) + 1
	}
	flush()
	return filters
}

// eventual is the header Graph requires for $count (an advanced query).
func eventual() *abstractions.RequestHeaders {
	h := abstractions.NewRequestHeaders()
	h.Add("ConsistencyLevel", "eventual")
	return h
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
