package sandbox

import (
	"encoding/base64"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/platformguide/ssocutover/sandbox/world"
)

// awsState is the Identity Center instance the sandbox serves, built from a
// world. Every list is kept sorted by the key its operation pages by, so a
// page is a binary search and a slice, even at 100,000 users. Reads take the
// read lock; operations that change the state (account assignments, SCIM
// writes, console steps) take the write lock and keep the indexes sorted.
//
// The users, groups and memberships are the identity store: the
// identitystore operations read them and the SCIM endpoint reads and writes
// the same ones, as in AWS, where what provisioning writes is what
// identitystore:ListUsers returns.
type awsState struct {
	mu sync.RWMutex

	region            string
	additionalRegions []string
	// applications are the instance's applications by ARN
	// (aws_ssoadmin_applications.go); applicationARNs sorted.
	applications    map[string]*awsApplication
	applicationARNs []string
	// managementAccount holds the instance; delegatedAdmin, when set, is
	// the member account the caller administers it from.
	managementAccount string
	delegatedAdmin    string
	identityStoreID   string // changes when a console switch is set to change it
	instanceARN       string
	instanceID        string // ssoins-..., the last part of instanceARN

	users       map[string]*awsUser // by user ID
	userIDs     []string            // sorted
	userByName  map[string]string   // lower-case userName -> user ID
	userByEmail map[string][]string // lower-case email -> user IDs (the world may repeat one)

	groups      map[string]*awsGroup // by group ID
	groupIDs    []string             // sorted
	groupByName map[string]string    // lower-case displayName -> group ID

	members  map[string][]string // group ID -> member user IDs, sorted
	memberOf map[string][]string // user ID -> group IDs, sorted

	permissionSets    map[string]*awsPermissionSet // by ARN
	permissionSetARNs []string                     // sorted

	accountIDs []string // sorted

	// Account assignments, indexed both ways they are listed.
	byTarget    map[assignmentTarget][]awsAssignment // sorted by principalKey
	byPrincipal map[string][]awsAssignment           // principal ID -> sorted by targetKey
}

// awsUser is a user of the identity store with every attribute IAM
// Identity Center keeps, named as SCIM names them. Users of the world file
// have no creation time.
type awsUser struct {
	ID string
	userAttributes
	Created      time.Time
	LastModified time.Time
}

// userAttributes are what a SCIM client writes of a user, and what the
// identity store keeps: the single-valued core attributes, at most one
// email, address and phone number, the enterprise extension, and the
// SCIM-only externalId and active.
type userAttributes struct {
	ExternalID        string              `json:"externalId,omitempty"`
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

// email is the user's email, lower-cased, as uniqueness compares it.
func (u *userAttributes) email() string {
	if len(u.Emails) == 0 {
		return ""
	}
	return strings.ToLower(u.Emails[0].Value)
}

// awsGroup is a group of the identity store. ExternalID is what a SCIM
// client wrote; groups of the world file have none, and no creation time.
type awsGroup struct {
	ID           string
	DisplayName  string
	ExternalID   string
	Created      time.Time
	LastModified time.Time
}

type awsPermissionSet struct {
	ARN         string
	Name        string
	Description string
}

// assignmentTarget is where an assignment applies: a permission set in an
// account.
type assignmentTarget struct {
	AccountID        string
	PermissionSetARN string
}

type awsAssignment struct {
	assignmentTarget
	PrincipalType string // USER or GROUP
	PrincipalID   string
}

func (a awsAssignment) principalKey() string { return a.PrincipalType + "/" + a.PrincipalID }
func (a awsAssignment) targetKey() string    { return a.AccountID + "/" + a.PermissionSetARN }

func instanceIDOf(instanceARN string) string {
	return instanceARN[strings.LastIndex(instanceARN, "/")+1:]
}

func awsMembershipID(groupID, userID string) string {
	return world.StableID("aws-membership", groupID+"\x00"+userID)
}

// newEmptyAWSState is an identity store without an instance around it, for
// a SCIM endpoint served on its own.
func newEmptyAWSState() *awsState {
	return newAWSState(&world.World{})
}

func newAWSState(w *world.World) *awsState {
	a := w.AWS
	s := &awsState{
		region:            a.Region,
		additionalRegions: a.AdditionalRegions,
		managementAccount: managementAccountID(w),
		delegatedAdmin:    a.DelegatedAdministrator,
		identityStoreID:   a.IdentityStoreID,
		instanceARN:       a.InstanceARN,
		instanceID:        instanceIDOf(a.InstanceARN),
		users:             map[string]*awsUser{},
		userByName:        map[string]string{},
		userByEmail:       map[string][]string{},
		groups:            map[string]*awsGroup{},
		groupByName:       map[string]string{},
		members:           map[string][]string{},
		memberOf:          map[string][]string{},
		permissionSets:    map[string]*awsPermissionSet{},
		byTarget:          map[assignmentTarget][]awsAssignment{},
		applications:      map[string]*awsApplication{},
		byPrincipal:       map[string][]awsAssignment{},
	}
	for _, u := range a.Users {
		id := world.StableID("aws-user", u.UserName)
		user := &awsUser{ID: id, userAttributes: userAttributes{
			UserName: u.UserName, Name: scimName{GivenName: u.GivenName, FamilyName: u.FamilyName},
			DisplayName: u.DisplayName, Active: true,
		}}
		if u.Email != "" {
			user.Emails = []scimMultiValue{{Value: u.Email, Type: "work", Primary: true}}
		}
		s.users[id] = user
		s.userIDs = append(s.userIDs, id)
		s.indexUser(user)
	}
	for _, g := range a.Groups {
		id := world.StableID("aws-group", g.DisplayName)
		s.groups[id] = &awsGroup{ID: id, DisplayName: g.DisplayName}
		s.groupIDs = append(s.groupIDs, id)
		s.groupByName[strings.ToLower(g.DisplayName)] = id
		for _, m := range g.Members {
			userID := s.userByName[strings.ToLower(m)]
			s.members[id] = append(s.members[id], userID)
			s.memberOf[userID] = append(s.memberOf[userID], id)
		}
	}
	for _, p := range a.PermissionSets {
		arn := world.PermissionSetARN(a.InstanceARN, p.Name)
		s.permissionSets[arn] = &awsPermissionSet{ARN: arn, Name: p.Name, Description: p.Description}
		s.permissionSetARNs = append(s.permissionSetARNs, arn)
	}
	for _, acc := range a.Accounts {
		s.accountIDs = append(s.accountIDs, acc.ID)
	}
	slices.Sort(s.userIDs)
	slices.Sort(s.groupIDs)
	slices.Sort(s.permissionSetARNs)
	slices.Sort(s.accountIDs)
	for _, ids := range s.members {
		slices.Sort(ids)
	}
	for _, ids := range s.memberOf {
		slices.Sort(ids)
	}
	for _, app := range a.Applications {
		s.addApplication(app)
	}
	for _, as := range a.Assignments {
		assignment := awsAssignment{assignmentTarget: assignmentTarget{AccountID: as.Account, PermissionSetARN: world.PermissionSetARN(a.InstanceARN, as.PermissionSet)}}
		if as.Group != "" {
			assignment.PrincipalType, assignment.PrincipalID = "GROUP", s.groupByName[strings.ToLower(as.Group)]
		} else {
			assignment.PrincipalType, assignment.PrincipalID = "USER", s.userByName[strings.ToLower(as.User)]
		}
		s.addAssignment(assignment)
	}
	return s
}

// addAssignment records an assignment in both indexes, keeping them sorted.
// It reports false if the assignment already existed. The caller holds the
// write lock (or owns the state, while building it).
func (s *awsState) addAssignment(a awsAssignment) bool {
	t := s.byTarget[a.assignmentTarget]
	i, found := slices.BinarySearchFunc(t, a.principalKey(), func(x awsAssignment, key string) int { return strings.Compare(x.principalKey(), key) })
	if found {
		return false
	}
	s.byTarget[a.assignmentTarget] = slices.Insert(t, i, a)
	p := s.byPrincipal[a.PrincipalID]
	j, _ := slices.BinarySearchFunc(p, a.targetKey(), func(x awsAssignment, key string) int { return strings.Compare(x.targetKey(), key) })
	s.byPrincipal[a.PrincipalID] = slices.Insert(p, j, a)
	return true
}

// The identity store writes below are what the SCIM endpoint does. Each
// keeps every index in step and the sorted lists sorted; the caller holds
// the write lock.

// insertSorted adds v to the sorted list and reports whether it was new.
func insertSorted(list []string, v string) ([]string, bool) {
	i, found := slices.BinarySearch(list, v)
	if found {
		return list, false
	}
	return slices.Insert(list, i, v), true
}

// removeSorted removes v from the sorted list and reports whether it was there.
func removeSorted(list []string, v string) ([]string, bool) {
	i, found := slices.BinarySearch(list, v)
	if !found {
		return list, false
	}
	return slices.Delete(list, i, i+1), true
}

// indexUser adds u to the userName and email indexes; unindexUser removes it.
func (s *awsState) indexUser(u *awsUser) {
	s.userByName[strings.ToLower(u.UserName)] = u.ID
	if email := u.email(); email != "" {
		s.userByEmail[email], _ = insertSorted(s.userByEmail[email], u.ID)
	}
}

func (s *awsState) unindexUser(u *awsUser) {
	delete(s.userByName, strings.ToLower(u.UserName))
	if email := u.email(); email != "" {
		if ids, _ := removeSorted(s.userByEmail[email], u.ID); len(ids) > 0 {
			s.userByEmail[email] = ids
		} else {
			delete(s.userByEmail, email)
		}
	}
}

// userNameOrEmailTaken reports whether a user other than id holds the
// userName or the email of attrs.
func (s *awsState) userNameOrEmailTaken(attrs *userAttributes, id string) bool {
	if other, ok := s.userByName[strings.ToLower(attrs.UserName)]; ok && other != id {
		return true
	}
	if email := attrs.email(); email != "" {
		for _, other := range s.userByEmail[email] {
			if other != id {
				return true
			}
		}
	}
	return false
}

// idTaken reports whether a user or a group has this ID.
func (s *awsState) idTaken(id string) bool {
	_, user := s.users[id]
	_, group := s.groups[id]
	return user || group
}

func (s *awsState) addUser(u *awsUser) {
	s.users[u.ID] = u
	s.userIDs, _ = insertSorted(s.userIDs, u.ID)
	s.indexUser(u)
}

// setUserAttributes replaces what u holds with attrs.
func (s *awsState) setUserAttributes(u *awsUser, attrs userAttributes, now time.Time) {
	s.unindexUser(u)
	u.userAttributes = attrs
	u.LastModified = now
	s.indexUser(u)
}

// removeUser deletes a user and its group memberships. Its account
// assignments stay: AWS does not delete the assignments of a deleted
// identity either ("Considerations for changing your identity source").
func (s *awsState) removeUser(u *awsUser) {
	s.unindexUser(u)
	delete(s.users, u.ID)
	s.userIDs, _ = removeSorted(s.userIDs, u.ID)
	for _, groupID := range s.memberOf[u.ID] {
		s.setMembers(groupID, func(ids []string) []string { ids, _ = removeSorted(ids, u.ID); return ids })
	}
	delete(s.memberOf, u.ID)
}

func (s *awsState) addGroup(g *awsGroup) {
	s.groups[g.ID] = g
	s.groupIDs, _ = insertSorted(s.groupIDs, g.ID)
	s.groupByName[strings.ToLower(g.DisplayName)] = g.ID
}

func (s *awsState) renameGroup(g *awsGroup, displayName string) {
	delete(s.groupByName, strings.ToLower(g.DisplayName))
	g.DisplayName = displayName
	s.groupByName[strings.ToLower(displayName)] = g.ID
}

// removeGroup deletes a group and its memberships; its account assignments
// stay, as removeUser's do.
func (s *awsState) removeGroup(g *awsGroup) {
	delete(s.groupByName, strings.ToLower(g.DisplayName))
	delete(s.groups, g.ID)
	s.groupIDs, _ = removeSorted(s.groupIDs, g.ID)
	for _, userID := range s.members[g.ID] {
		s.setMemberOf(userID, func(ids []string) []string { ids, _ = removeSorted(ids, g.ID); return ids })
	}
	delete(s.members, g.ID)
}

func (s *awsState) isMember(groupID, userID string) bool {
	_, found := slices.BinarySearch(s.members[groupID], userID)
	return found
}

// addMember makes a user a member of a group; removeMember undoes it.
func (s *awsState) addMember(groupID, userID string) {
	s.setMembers(groupID, func(ids []string) []string { ids, _ = insertSorted(ids, userID); return ids })
	s.setMemberOf(userID, func(ids []string) []string { ids, _ = insertSorted(ids, groupID); return ids })
}

func (s *awsState) removeMember(groupID, userID string) {
	s.setMembers(groupID, func(ids []string) []string { ids, _ = removeSorted(ids, userID); return ids })
	s.setMemberOf(userID, func(ids []string) []string { ids, _ = removeSorted(ids, groupID); return ids })
}

// setMembers and setMemberOf change one membership list, dropping it when
// it becomes empty.
func (s *awsState) setMembers(groupID string, change func([]string) []string) {
	setList(s.members, groupID, change)
}

func (s *awsState) setMemberOf(userID string, change func([]string) []string) {
	setList(s.memberOf, userID, change)
}

func setList(lists map[string][]string, key string, change func([]string) []string) {
	if list := change(lists[key]); len(list) > 0 {
		lists[key] = list
	} else {
		delete(lists, key)
	}
}

// Identity store IDs and instance ARNs as the APIs validate them; a value of
// the right shape that names nothing is ResourceNotFoundException instead.
var (
	identityStoreIDPattern = regexp.MustCompile(`^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
	instanceARNPattern     = regexp.MustCompile(`^arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$`)
	accountIDPattern       = regexp.MustCompile(`^\d{12}$`)
)

// checkIdentityStore accepts the world's identity store, by ID or by ARN
// (arn:aws:identitystore::<account>:identitystore/<id>), in the world's region.
func (s *awsState) checkIdentityStore(call *awsCall, id string) error {
	if id == "" {
		return awsValidationError("1 validation error detected: Value at 'identityStoreId' failed to satisfy constraint: Member must not be null")
	}
	bare := id
	if strings.HasPrefix(id, "arn:") {
		bare = id[strings.LastIndex(id, "/")+1:]
	}
	if bare == s.identityStoreID && call.region == s.region {
		return nil
	}
	if !identityStoreIDPattern.MatchString(bare) && bare != s.identityStoreID {
		return awsValidationError("1 validation error detected: Value '%s' at 'identityStoreId' failed to satisfy constraint: Member must satisfy regular expression pattern: d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", id)
	}
	return awsNotFoundError("IDENTITY_STORE", id, "Identity store %s does not exist in region %s", id, call.region)
}

// checkInstance accepts the world's instance ARN in the world's region.
func (s *awsState) checkInstance(call *awsCall, arn string) error {
	if arn == "" {
		return awsValidationError("1 validation error detected: Value at 'instanceArn' failed to satisfy constraint: Member must not be null")
	}
	if arn == s.instanceARN && call.region == s.region {
		return nil
	}
	if !instanceARNPattern.MatchString(arn) && arn != s.instanceARN {
		return awsValidationError("1 validation error detected: Value '%s' at 'instanceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}", arn)
	}
	return awsNotFoundError("INSTANCE", arn, "Instance %s does not exist in region %s", arn, call.region)
}

func (s *awsState) checkPermissionSet(arn string) (*awsPermissionSet, error) {
	if arn == "" {
		return nil, awsValidationError("1 validation error detected: Value at 'permissionSetArn' failed to satisfy constraint: Member must not be null")
	}
	ps, ok := s.permissionSets[arn]
	if !ok {
		return nil, awsNotFoundError("PERMISSION_SET", arn, "Could not find PermissionSet with PermissionSetArn %s", arn)
	}
	return ps, nil
}

func checkAccountID(id string) error {
	if !accountIDPattern.MatchString(id) {
		return awsValidationError("1 validation error detected: Value '%s' at 'accountId' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}", id)
	}
	return nil
}

// Paging. Every list operation accepts MaxResults from 1 to 100 (the range
// the API models give) and pages with an opaque NextToken. Without
// MaxResults the sandbox returns pages of awsDefaultPageSize, below the maximum,
// so a client that forgets to ask for the largest page shows it in its call
// counts.
const (
	awsMaxPageSize     = 100
	awsDefaultPageSize = 50
)

// awsPageRequest is the paging part of every list request.
type awsPageRequest struct {
	MaxResults *int    `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

// page returns the part of items, sorted by key, that the request asks for
// and the token for the next page (nil on the last page). The token holds
// the key of the last item returned, so a page continues correctly when
// items are added or removed between calls; it also holds scope (the
// operation and its parameters), so a token cannot be replayed against
// another list.
func awsPage[T any](items []T, key func(T) string, req awsPageRequest, scope string) ([]T, *string, error) {
	size := awsDefaultPageSize
	if req.MaxResults != nil {
		size = *req.MaxResults
		if size < 1 || size > awsMaxPageSize {
			return nil, nil, awsValidationError("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d and greater than or equal to 1", size, awsMaxPageSize)
		}
	}
	start := 0
	if req.NextToken != nil && *req.NextToken != "" {
		after, err := awsDecodePageToken(*req.NextToken, scope)
		if err != nil {
			return nil, nil, err
		}
		start, _ = slices.BinarySearchFunc(items, after, func(x T, k string) int {
			if key(x) <= k {
				return -1
			}
			return 1
		})
	}
	end := min(start+size, len(items))
	var next *string
	if end < len(items) {
		token := awsEncodePageToken(scope, key(items[end-1]))
		next = &token
	}
	return items[start:end], next, nil
}

// awsPageDocs pages items as awsPage does and returns the page as the
// response documents doc makes of them: an empty page is an empty list,
// never null.
func awsPageDocs[T, D any](items []T, key func(T) string, req awsPageRequest, scope string, doc func(T) D) ([]D, *string, error) {
	page, next, err := awsPage(items, key, req, scope)
	if err != nil {
		return nil, nil, err
	}
	docs := make([]D, 0, len(page))
	for _, item := range page {
		docs = append(docs, doc(item))
	}
	return docs, next, nil
}

func awsEncodePageToken(scope, lastKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(scope + "\x00" + lastKey))
}

func awsDecodePageToken(token, scope string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	tokenScope, lastKey, ok := strings.Cut(string(raw), "\x00")
	if err != nil || !ok || tokenScope != scope {
		return "", awsValidationError("The NextToken is invalid or was issued for another request")
	}
	return lastKey, nil
}

// awsStringKey is the sort key of a list of IDs: the ID itself.
func awsStringKey(s string) string { return s }
