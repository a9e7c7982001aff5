// Package world describes an organisation as the sandbox serves it: the AWS
// Identity Center side and the Entra ID side, loaded from a JSON world file.
package world

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// World is one organisation: what AWS Identity Center holds today and what
// Entra ID holds.
type World struct {
	AWS   AWS   `json:"aws"`
	Entra Entra `json:"entra"`
}

// AWS is the Identity Center instance with its built-in directory.
type AWS struct {
	Region string `json:"region"`
	// AdditionalRegions are the Regions a multi-Region Identity Center
	// instance is replicated to: its service provider metadata lists an
	// assertion consumer service in each.
	AdditionalRegions []string `json:"additionalRegions,omitempty"`
	// DelegatedAdministrator, when set, is the member account from which
	// the worker administers Identity Center (registered as its delegated
	// administrator) instead of the management account, the first of
	// Accounts. AWS then refuses it what only the management account may
	// do: assignments in the management account, and listing assignments
	// per principal.
	DelegatedAdministrator string `json:"delegatedAdministrator,omitempty"`
	// DeniedActions are IAM actions (sso:CreateAccountAssignment, ...)
	// the sandbox's credentials are not allowed: a call is refused with
	// AccessDenied, and iam:SimulatePrincipalPolicy answers implicitDeny.
	DeniedActions   []string        `json:"deniedActions,omitempty"`
	IdentityStoreID string          `json:"identityStoreId"`
	InstanceARN     string          `json:"instanceArn"`
	Accounts        []Account       `json:"accounts"`
	PermissionSets  []PermissionSet `json:"permissionSets"`
	Users           []AWSUser       `json:"users"`
	Groups          []AWSGroup      `json:"groups"`
	Assignments     []Assignment    `json:"assignments"`
	// Applications are the instance's applications (customer managed SAML
	// apps, AWS managed ones such as Amazon Q) with their user and group
	// assignments.
	Applications []Application `json:"applications,omitempty"`
}

// Account is an AWS account of the organisation.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// PermissionSet is an Identity Center permission set, named as in the console.
type PermissionSet struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// AWSUser is a user of the identity store.
type AWSUser struct {
	UserName    string `json:"userName"`
	GivenName   string `json:"givenName"`
	FamilyName  string `json:"familyName"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email"`
}

// AWSGroup is a group of the identity store; Members are user names.
type AWSGroup struct {
	DisplayName string   `json:"displayName"`
	Members     []string `json:"members"`
}

// Assignment gives a group or a user a permission set in an account. Exactly
// one of Group and User is set.
type Assignment struct {
	Group         string `json:"group,omitempty"`
	User          string `json:"user,omitempty"`
	Account       string `json:"account"`
	PermissionSet string `json:"permissionSet"`
}

// Application is an application of the Identity Center instance.
type Application struct {
	Name string `json:"name"`
	// Provider is "custom" (a customer managed SAML 2.0 application, the
	// default) or the name of an AWS managed application's provider
	// ("qbusiness", "quicksight").
	Provider string `json:"provider,omitempty"`
	// AssignmentNotRequired: every user may use the application, assigned
	// or not (GetApplicationAssignmentConfiguration's AssignmentRequired
	// false). Applications require assignments by default.
	AssignmentNotRequired bool                    `json:"assignmentNotRequired,omitempty"`
	Assignments           []ApplicationAssignment `json:"assignments"`
}

// ApplicationAssignment gives a group or a user (exactly one) access to an
// application.
type ApplicationAssignment struct {
	Group string `json:"group,omitempty"`
	User  string `json:"user,omitempty"`
}

// Entra is the Microsoft Entra ID tenant.
type Entra struct {
	TenantID string `json:"tenantId"`
	// RestrictIdentifierURIs turns on the tenant's app management policy
	// restriction of identifier URIs (nonDefaultUriAddition, SAML apps
	// not excluded): setting the AWS entity ID on the app is refused until
	// an administrator exempts SAML apps.
	RestrictIdentifierURIs bool `json:"restrictIdentifierUris,omitempty"`
	// WithoutPremiumLicence leaves the tenant without an Entra ID P1 or
	// P2 subscription (subscribedSkus lists Office 365 E1 only).
	WithoutPremiumLicence bool         `json:"withoutPremiumLicence,omitempty"`
	Users                 []EntraUser  `json:"users"`
	Groups                []EntraGroup `json:"groups"`
}

// EntraUser is a user of the tenant.
type EntraUser struct {
	UserPrincipalName string   `json:"userPrincipalName"`
	Mail              string   `json:"mail"`
	GivenName         string   `json:"givenName"`
	Surname           string   `json:"surname"`
	DisplayName       string   `json:"displayName"`
	OtherMails        []string `json:"otherMails,omitempty"`
}

// EntraGroup is a group of the tenant. Owners and Members are user principal
// names; MemberGroups are display names of groups nested in this one.
type EntraGroup struct {
	DisplayName     string   `json:"displayName"`
	SecurityEnabled bool     `json:"securityEnabled"`
	MailEnabled     bool     `json:"mailEnabled,omitempty"`
	Owners          []string `json:"owners"`
	Members         []string `json:"members"`
	MemberGroups    []string `json:"memberGroups"`
}

// Load reads and validates a world file.
func Load(path string) (*World, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read world file: %w", err)
	}
	w, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("world file %s: %w", path, err)
	}
	return w, nil
}

// Parse decodes and validates a world. Unknown fields are refused so that a
// typo in a world file is not silently ignored.
func Parse(data []byte) (*World, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var w World
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if err := w.Validate(); err != nil {
		return nil, err
	}
	return &w, nil
}

// Validate checks that every reference in the world points at something that
// exists. Problems the preflight is meant to find (duplicate e-mails, missing
// attributes, ambiguous Entra groups) are allowed: worlds exist to show them.
func (w *World) Validate() error {
	var errs []error
	if d := w.AWS.DelegatedAdministrator; d != "" {
		if len(w.AWS.Accounts) == 0 || d == w.AWS.Accounts[0].ID || !slices.ContainsFunc(w.AWS.Accounts, func(a Account) bool { return a.ID == d }) {
			errs = append(errs, fmt.Errorf("aws.delegatedAdministrator %q: name one of aws.accounts other than the first (the management account)", d))
		}
	}
	if w.AWS.Region == "" || w.AWS.IdentityStoreID == "" || w.AWS.InstanceARN == "" {
		errs = append(errs, errors.New("aws.region, aws.identityStoreId and aws.instanceArn are required"))
	}
	if w.Entra.TenantID == "" {
		errs = append(errs, errors.New("entra.tenantId is required"))
	}
	accounts := set(w.AWS.Accounts, func(a Account) string { return a.ID })
	permissionSets := set(w.AWS.PermissionSets, func(p PermissionSet) string { return p.Name })
	awsUsers := map[string]bool{}
	for _, u := range w.AWS.Users {
		if awsUsers[u.UserName] {
			errs = append(errs, fmt.Errorf("aws user %q appears twice (AWS keeps userName unique)", u.UserName))
		}
		awsUsers[u.UserName] = true
	}
	awsGroups := map[string]bool{}
	for _, g := range w.AWS.Groups {
		if awsGroups[g.DisplayName] {
			errs = append(errs, fmt.Errorf("aws group %q appears twice (AWS keeps displayName unique)", g.DisplayName))
		}
		awsGroups[g.DisplayName] = true
		for _, m := range g.Members {
			if !awsUsers[m] {
				errs = append(errs, fmt.Errorf("aws group %q: member %q is not an aws user", g.DisplayName, m))
			}
		}
	}
	assignments := make(map[Assignment]int, len(w.AWS.Assignments))
	for i, a := range w.AWS.Assignments {
		switch {
		case (a.Group == "") == (a.User == ""):
			errs = append(errs, fmt.Errorf("aws assignment %d: set exactly one of group and user", i))
		case a.Group != "" && !awsGroups[a.Group]:
			errs = append(errs, fmt.Errorf("aws assignment %d: group %q does not exist", i, a.Group))
		case a.User != "" && !awsUsers[a.User]:
			errs = append(errs, fmt.Errorf("aws assignment %d: user %q does not exist", i, a.User))
		}
		if !accounts[a.Account] {
			errs = append(errs, fmt.Errorf("aws assignment %d: account %q does not exist", i, a.Account))
		}
		if !permissionSets[a.PermissionSet] {
			errs = append(errs, fmt.Errorf("aws assignment %d: permission set %q does not exist", i, a.PermissionSet))
		}
		// AWS holds an assignment once (a second create is a conflict), so a
		// world that lists one twice could not exist.
		if first, dup := assignments[a]; dup {
			errs = append(errs, fmt.Errorf("aws assignment %d repeats assignment %d", i, first))
		} else {
			assignments[a] = i
		}
	}
	applications := map[string]bool{}
	for _, app := range w.AWS.Applications {
		if app.Name == "" || applications[app.Name] {
			errs = append(errs, fmt.Errorf("aws application %q: a name, once per instance, is required", app.Name))
		}
		applications[app.Name] = true
		for i, a := range app.Assignments {
			switch {
			case (a.Group == "") == (a.User == ""):
				errs = append(errs, fmt.Errorf("aws application %q, assignment %d: set exactly one of group and user", app.Name, i))
			case a.Group != "" && !awsGroups[a.Group]:
				errs = append(errs, fmt.Errorf("aws application %q, assignment %d: group %q does not exist", app.Name, i, a.Group))
			case a.User != "" && !awsUsers[a.User]:
				errs = append(errs, fmt.Errorf("aws application %q, assignment %d: user %q does not exist", app.Name, i, a.User))
			}
		}
	}
	entraUsers := map[string]bool{}
	for _, u := range w.Entra.Users {
		key := strings.ToLower(u.UserPrincipalName)
		if entraUsers[key] {
			errs = append(errs, fmt.Errorf("entra user %q appears twice (userPrincipalName is unique)", u.UserPrincipalName))
		}
		entraUsers[key] = true
	}
	entraGroups := map[string]bool{}
	for _, g := range w.Entra.Groups {
		entraGroups[g.DisplayName] = true
	}
	for _, g := range w.Entra.Groups {
		for _, m := range append(append([]string{}, g.Owners...), g.Members...) {
			if !entraUsers[strings.ToLower(m)] {
				errs = append(errs, fmt.Errorf("entra group %q: %q is not an entra user", g.DisplayName, m))
			}
		}
		for _, n := range g.MemberGroups {
			if !entraGroups[n] {
				errs = append(errs, fmt.Errorf("entra group %q: nested group %q does not exist", g.DisplayName, n))
			}
		}
	}
	return errors.Join(errs...)
}

func set[T any](items []T, key func(T) string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, it := range items {
		m[key(it)] = true
	}
	return m
}

// StableID derives an ID from a kind and a name, so the same world always
// gets the same IDs (in the sandbox and in tests that predict them). It has
// the shape of a UUID, like identity store and Entra object IDs.
func StableID(kind, name string) string {
	sum := sha1.Sum([]byte(kind + "\x00" + name))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ApplicationARN derives the ARN of an application from the instance ARN,
// the account that holds the instance and the application's name, in the
// shape AWS uses (arn:aws:sso::<account>:application/<instance id>/apl-<16
// hex digits>).
func ApplicationARN(instanceARN, account, name string) string {
	instanceID := instanceARN[strings.LastIndex(instanceARN, "/")+1:]
	sum := sha1.Sum([]byte("application\x00" + name))
	return "arn:aws:sso::" + account + ":application/" + instanceID + "/apl-" + hex.EncodeToString(sum[:])[:16]
}

// PermissionSetARN derives the ARN of a permission set from the instance ARN
// and the set's name, in the shape AWS uses
// (arn:aws:sso:::permissionSet/<instance id>/ps-<16 hex digits>), so the
// sandbox and the tests that predict its answers agree on it.
func PermissionSetARN(instanceARN, name string) string {
	instanceID := instanceARN[strings.LastIndex(instanceARN, "/")+1:]
	sum := sha1.Sum([]byte("permission-set\x00" + name))
	return "arn:aws:sso:::permissionSet/" + instanceID + "/ps-" + hex.EncodeToString(sum[:])[:16]
}
