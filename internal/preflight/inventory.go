package preflight

import (
	"cmp"
	"strings"

	"github.com/platformguide/ssocutover/internal/attrmap"
)

// The inventories: what the preflight reads from both sides before the
// cutover, the AWS snapshot (kept by group display name so it survives a
// change of identity store) and what Entra ID holds for the same groups and
// users. Activities write these to the store; the analysis (analyze.go)
// reads them and makes the findings (findings.go).

// PrincipalType says whether an account assignment is held by a group or a user.
type PrincipalType string

// The principal types, spelled as sso-admin spells them.
const (
	PrincipalGroup PrincipalType = "GROUP"
	PrincipalUser  PrincipalType = "USER"
)

// AWS is the snapshot of the Identity Center instance.
type AWS struct {
	InstanceARN     string          `json:"instanceArn"`
	IdentityStoreID string          `json:"identityStoreId"`
	Region          string          `json:"region"`
	PermissionSets  []PermissionSet `json:"permissionSets"`
	// Accounts are the IDs of the accounts with at least one assignment.
	Accounts []string `json:"accounts"`
	// Assignments are every account assignment of the instance.
	Assignments []Assignment `json:"assignments"`
	// Groups are the groups that hold at least one assignment, with members.
	Groups []AWSGroup `json:"groups"`
	// Users are the users that hold access: members of Groups and users
	// with a direct assignment.
	Users []AWSUser `json:"users"`
	// Applications are the instance's applications (customer managed SAML
	// apps, AWS managed ones) with their assignments; the groups and users
	// assigned to one are among Groups and Users.
	Applications []Application `json:"applications,omitempty"`
}

// Application is an application of the Identity Center instance.
type Application struct {
	ARN  string `json:"arn"`
	Name string `json:"name"`
	// AssignmentRequired: only assigned users and groups may use it
	// (GetApplicationAssignmentConfiguration).
	AssignmentRequired bool                    `json:"assignmentRequired"`
	Assignments        []ApplicationAssignment `json:"assignments"`
}

// ApplicationAssignment gives a group or a user access to an application;
// PrincipalName is, as in Assignment, the key it is verified and restored
// by after the switch.
type ApplicationAssignment struct {
	PrincipalType PrincipalType `json:"principalType"`
	PrincipalID   string        `json:"principalId"`
	PrincipalName string        `json:"principalName"`
}

// PermissionSet is a permission set of the instance.
type PermissionSet struct {
	ARN  string `json:"arn"`
	Name string `json:"name"`
}

// Assignment is one account assignment. PrincipalName is the group's display
// name or the user's userName: the keys Entra matches on, and so the keys by
// which an assignment is verified and restored after the switch.
type Assignment struct {
	AccountID         string        `json:"accountId"`
	PermissionSetARN  string        `json:"permissionSetArn"`
	PermissionSetName string        `json:"permissionSetName"`
	PrincipalType     PrincipalType `json:"principalType"`
	PrincipalID       string        `json:"principalId"`
	PrincipalName     string        `json:"principalName"`
}

// AWSGroup is a group of the identity store with its members' user names.
type AWSGroup struct {
	ID              string   `json:"id"`
	DisplayName     string   `json:"displayName"`
	MemberUserNames []string `json:"memberUserNames"`
}

// AWSUser is a user of the identity store.
type AWSUser struct {
	ID          string `json:"id"`
	UserName    string `json:"userName"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email"`
}

// Entra is what the tenant holds for the groups and users of the AWS snapshot.
type Entra struct {
	TenantID string `json:"tenantId"`
	// Groups has one entry per AWS group display name, in the order of the
	// AWS snapshot, with every Entra group of that display name.
	Groups []GroupMatch `json:"groups"`
	// Users are the direct user members of the candidate groups and the
	// Entra users whose userName (as the mappings make it) equals an AWS
	// user's.
	Users []EntraUser `json:"users"`
	// Mappings are the user attribute mappings the provisioning job
	// applies, and where they were read; none means the gallery defaults
	// (an inventory stored before they were read).
	Mappings attrmap.Set `json:"mappings"`
}

// UserMappings are the mappings to judge users by.
func (e Entra) UserMappings() attrmap.Set {
	if len(e.Mappings.Users) == 0 {
		return attrmap.GalleryDefaults()
	}
	return e.Mappings
}

// GroupMatch is the result of looking up one display name in Entra.
type GroupMatch struct {
	DisplayName string       `json:"displayName"`
	Candidates  []EntraGroup `json:"candidates"`
}

// EntraGroup is an Entra group with what provisioning cares about.
type EntraGroup struct {
	ID              string `json:"id"`
	DisplayName     string `json:"displayName"`
	SecurityEnabled bool   `json:"securityEnabled"`
	OwnerCount      int    `json:"ownerCount"`
	// MemberIDs are the IDs of the direct user members (see Entra.Users).
	MemberIDs []string `json:"memberIds"`
	// NestedGroups are the display names of groups that are direct members.
	NestedGroups []string `json:"nestedGroups,omitempty"`
	// NestedOnlyUsers are the userPrincipalNames of users reached only
	// through a nested group: provisioning will not carry them.
	NestedOnlyUsers []string `json:"nestedOnlyUsers,omitempty"`
}

// EntraUser is an Entra user with the attributes provisioning maps to AWS.
type EntraUser struct {
	ID                string   `json:"id"`
	UserPrincipalName string   `json:"userPrincipalName"`
	Mail              string   `json:"mail"`
	GivenName         string   `json:"givenName"`
	Surname           string   `json:"surname"`
	DisplayName       string   `json:"displayName"`
	OtherMails        []string `json:"otherMails,omitempty"`
	// Attributes are the other properties the mappings read (a changed
	// mapping may read mailNickname or employeeId, say), by Graph name.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Attribute is the user's source attribute of that name for the mappings
// (case-insensitive, as the schema's names are); "" when the user has none.
func (u EntraUser) Attribute(name string) string {
	if v, ok := attrmap.Builtin(name, u.ID); ok {
		return v
	}
	switch strings.ToLower(name) {
	case "userprincipalname":
		return u.UserPrincipalName
	case "mail":
		return u.Mail
	case "givenname":
		return u.GivenName
	case "surname":
		return u.Surname
	case "displayname":
		return u.DisplayName
	}
	for k, v := range u.Attributes {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// The two ways the AWS inventory can list account assignments.
const (
	// ListPerPair calls ListAccountAssignments for each provisioned
	// (account, permission set) pair: cheaper on tall organisations (many
	// principals, assignments on few pairs).
	ListPerPair = "per-pair"
	// ListPerPrincipal calls ListAccountAssignmentsForPrincipal for each
	// user and group: cheaper on wide ones (many accounts and permission
	// sets provisioned broadly, fewer principals).
	ListPerPrincipal = "per-principal"
)

// AssignmentListing says how the AWS inventory listed the account
// assignments and why. Both ways read the same assignments; each call
// returns up to 100, so either costs one call per pair (or principal) and a
// further call per 100 assignments beyond the first on one of them.
type AssignmentListing struct {
	// Strategy is ListPerPair or ListPerPrincipal.
	Strategy string `json:"strategy"`
	// Pairs is the number of provisioned (account, permission set) pairs,
	// Principals the number of users and groups: the fewest calls each way
	// can take, known before any assignment is listed.
	Pairs      int `json:"pairs"`
	Principals int `json:"principals"`
	// Reason says why Strategy was chosen, for the preflight's report.
	Reason string `json:"reason"`
}

// CompareApplicationAssignments orders an application's assignments in a
// snapshot: by principal type, name and ID.
func CompareApplicationAssignments(a, b ApplicationAssignment) int {
	return cmp.Or(cmp.Compare(a.PrincipalType, b.PrincipalType), cmp.Compare(a.PrincipalName, b.PrincipalName), cmp.Compare(a.PrincipalID, b.PrincipalID))
}
