package sandbox

import (
	"encoding/base64"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/platformguide/ssocutover/internal/world"
)

// awsState is the Identity Center instance the sandbox serves, built from a
// world. Every list is kept sorted by the key its operation pages by, so a
// page is a binary search and a slice, even at 100,000 users. Reads take the
// read lock; operations that change the state (account assignments, SCIM
// writes) take the write lock and keep the indexes sorted.
type awsState struct {
	mu sync.RWMutex

	region          string
	identityStoreID string
	instanceARN     string
	instanceID      string // ssoins-..., the last part of instanceARN

	users      map[string]*awsUser // by user ID
	userIDs    []string            // sorted
	userByName map[string]string   // lower-case userName -> user ID

	groups      map[string]*awsGroup // by group ID
	groupIDs    []string             // sorted
	groupByName map[string]string    // displayName -> group ID

	members  map[string][]string // group ID -> member user IDs, sorted
	memberOf map[string][]string // user ID -> group IDs, sorted

	permissionSets    map[string]*awsPermissionSet // by ARN
	permissionSetARNs []string                     // sorted

	accountIDs []string // sorted

	// Account assignments, indexed both ways they are listed.
	byTarget    map[assignmentTarget][]awsAssignment // sorted by principalKey
	byPrincipal map[string][]awsAssignment           // principal ID -> sorted by targetKey
}

type awsUser struct {
	ID          string
	UserName    string
	GivenName   string
	FamilyName  string
	DisplayName string
	Email       string
}

type awsGroup struct {
	ID          string
	DisplayName string
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

func newAWSState(w *world.World) *awsState {
	a := w.AWS
	s := &awsState{
		region:          a.Region,
		identityStoreID: a.IdentityStoreID,
		instanceARN:     a.InstanceARN,
		instanceID:      instanceIDOf(a.InstanceARN),
		users:           map[string]*awsUser{},
		userByName:      map[string]string{},
		groups:          map[string]*awsGroup{},
		groupByName:     map[string]string{},
		members:         map[string][]string{},
		memberOf:        map[string][]string{},
		permissionSets:  map[string]*awsPermissionSet{},
		byTarget:        map[assignmentTarget][]awsAssignment{},
		byPrincipal:     map[string][]awsAssignment{},
	}
	for _, u := range a.Users {
		id := world.StableID("aws-user", u.UserName)
		s.users[id] = &awsUser{ID: id, UserName: u.UserName, GivenName: u.GivenName, FamilyName: u.FamilyName, DisplayName: u.DisplayName, Email: u.Email}
		s.userIDs = append(s.userIDs, id)
		s.userByName[strings.ToLower(u.UserName)] = id
	}
	for _, g := range a.Groups {
		id := world.StableID("aws-group", g.DisplayName)
		s.groups[id] = &awsGroup{ID: id, DisplayName: g.DisplayName}
		s.groupIDs = append(s.groupIDs, id)
		s.groupByName[g.DisplayName] = id
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
	for _, as := range a.Assignments {
		assignment := awsAssignment{assignmentTarget: assignmentTarget{AccountID: as.Account, PermissionSetARN: world.PermissionSetARN(a.InstanceARN, as.PermissionSet)}}
		if as.Group != "" {
			assignment.PrincipalType, assignment.PrincipalID = "GROUP", s.groupByName[as.Group]
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
