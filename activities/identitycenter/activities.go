// Package identitycenter holds the activities on the AWS side of the
// cutover: they read AWS IAM Identity Center (the instance, its permission
// sets and account assignments through sso-admin, its users and groups
// through identitystore), restore account assignments after the switch, and
// keep a break-glass IAM user whose console password lives in Secrets
// Manager.
package identitycenter

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/platformguide/ssocutover/internal/secretstore"
	"github.com/platformguide/ssocutover/internal/store"
)

// IdentityStoreAPI is the part of the identitystore client the activities
// use; *identitystore.Client satisfies it.
type IdentityStoreAPI interface {
	ListUsers(ctx context.Context, params *identitystore.ListUsersInput, optFns ...func(*identitystore.Options)) (*identitystore.ListUsersOutput, error)
	ListGroups(ctx context.Context, params *identitystore.ListGroupsInput, optFns ...func(*identitystore.Options)) (*identitystore.ListGroupsOutput, error)
	ListGroupMemberships(ctx context.Context, params *identitystore.ListGroupMembershipsInput, optFns ...func(*identitystore.Options)) (*identitystore.ListGroupMembershipsOutput, error)
}

// SSOAdminAPI is the part of the sso-admin client the activities use;
// *ssoadmin.Client satisfies it.
type SSOAdminAPI interface {
	ListInstances(ctx context.Context, params *ssoadmin.ListInstancesInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListInstancesOutput, error)
	ListPermissionSets(ctx context.Context, params *ssoadmin.ListPermissionSetsInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListPermissionSetsOutput, error)
	DescribePermissionSet(ctx context.Context, params *ssoadmin.DescribePermissionSetInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.DescribePermissionSetOutput, error)
	ListAccountsForProvisionedPermissionSet(ctx context.Context, params *ssoadmin.ListAccountsForProvisionedPermissionSetInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountsForProvisionedPermissionSetOutput, error)
	ListAccountAssignments(ctx context.Context, params *ssoadmin.ListAccountAssignmentsInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountAssignmentsOutput, error)
	ListAccountAssignmentsForPrincipal(ctx context.Context, params *ssoadmin.ListAccountAssignmentsForPrincipalInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountAssignmentsForPrincipalOutput, error)
	// The instance's applications and who is assigned to them.
	ListApplications(ctx context.Context, params *ssoadmin.ListApplicationsInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListApplicationsOutput, error)
	GetApplicationAssignmentConfiguration(ctx context.Context, params *ssoadmin.GetApplicationAssignmentConfigurationInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.GetApplicationAssignmentConfigurationOutput, error)
	ListApplicationAssignments(ctx context.Context, params *ssoadmin.ListApplicationAssignmentsInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListApplicationAssignmentsOutput, error)
	CreateApplicationAssignment(ctx context.Context, params *ssoadmin.CreateApplicationAssignmentInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.CreateApplicationAssignmentOutput, error)
	// VerifyAssignments restores missing assignments with these two.
	CreateAccountAssignment(ctx context.Context, params *ssoadmin.CreateAccountAssignmentInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.CreateAccountAssignmentOutput, error)
	DescribeAccountAssignmentCreationStatus(ctx context.Context, params *ssoadmin.DescribeAccountAssignmentCreationStatusInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.DescribeAccountAssignmentCreationStatusOutput, error)
}

// IAMAPI is the part of the IAM client EnsureBreakGlassUser uses;
// *iam.Client satisfies it.
type IAMAPI interface {
	GetUser(ctx context.Context, params *iam.GetUserInput, optFns ...func(*iam.Options)) (*iam.GetUserOutput, error)
	CreateUser(ctx context.Context, params *iam.CreateUserInput, optFns ...func(*iam.Options)) (*iam.CreateUserOutput, error)
	TagUser(ctx context.Context, params *iam.TagUserInput, optFns ...func(*iam.Options)) (*iam.TagUserOutput, error)
	CreateLoginProfile(ctx context.Context, params *iam.CreateLoginProfileInput, optFns ...func(*iam.Options)) (*iam.CreateLoginProfileOutput, error)
	DeleteLoginProfile(ctx context.Context, params *iam.DeleteLoginProfileInput, optFns ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error)
	AttachUserPolicy(ctx context.Context, params *iam.AttachUserPolicyInput, optFns ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error)
	ListAttachedUserPolicies(ctx context.Context, params *iam.ListAttachedUserPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
}

var (
	_ IdentityStoreAPI = (*identitystore.Client)(nil)
	_ SSOAdminAPI      = (*ssoadmin.Client)(nil)
	_ IAMAPI           = (*iam.Client)(nil)
)

// DefaultConcurrency is how many calls an activity makes at once when
// Activities.Concurrency is zero. The pace is set by the HTTP client's rate
// limiter (internal/awsclient); concurrency only hides the latency.
const DefaultConcurrency = 8

// Activities are the Identity Center activities. The worker registers one
// value; its methods are the activities, named by the constants in types.go.
type Activities struct {
	IdentityStore IdentityStoreAPI
	SSOAdmin      SSOAdminAPI
	// IAM and Secrets hold the break-glass user and its console password
	// (EnsureBreakGlassUser); the inventory and verification do not use them.
	IAM     IAMAPI
	Secrets secretstore.API
	// Store keeps the inventories and reports out of workflow history.
	Store store.Store
	// Concurrency bounds the calls in flight per activity and service; 0
	// means DefaultConcurrency.
	Concurrency int

	// listing, when set, makes the inventory list assignments this way
	// (preflight.ListPerPair or ListPerPrincipal) instead of choosing: tests
	// list one world both ways.
	listing string

	// checkpointEvery, when set, is how many units and groups of the
	// assignment listing a checkpoint batch holds (inventory_checkpoint.go):
	// tests checkpoint small worlds.
	checkpointEvery int

	// onProgress, when set, sees every progress report, which heartbeats
	// only sample (the SDK sends at most one per throttle interval).
	onProgress func(Progress)
}

func (a *Activities) concurrency() int {
	if a.Concurrency > 0 {
		return a.Concurrency
	}
	return DefaultConcurrency
}

// region is the region the sso-admin client calls, for error messages that
// tell the user where the instance was looked for.
func (a *Activities) region() string {
	if c, ok := a.SSOAdmin.(interface{ Options() ssoadmin.Options }); ok {
		return c.Options().Region
	}
	return ""
}
