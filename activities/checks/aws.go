package checks

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/platformguide/ssocutover/internal/partition"
	"github.com/platformguide/ssocutover/internal/readiness"
)

// The narrow parts of the AWS clients the checks call: reads only.
type (
	STS interface {
		GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, opts ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
	}
	IAM interface {
		SimulatePrincipalPolicy(ctx context.Context, in *iam.SimulatePrincipalPolicyInput, opts ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error)
	}
	SSOAdmin interface {
		ListInstances(ctx context.Context, in *ssoadmin.ListInstancesInput, opts ...func(*ssoadmin.Options)) (*ssoadmin.ListInstancesOutput, error)
		DescribeInstance(ctx context.Context, in *ssoadmin.DescribeInstanceInput, opts ...func(*ssoadmin.Options)) (*ssoadmin.DescribeInstanceOutput, error)
		ListPermissionSets(ctx context.Context, in *ssoadmin.ListPermissionSetsInput, opts ...func(*ssoadmin.Options)) (*ssoadmin.ListPermissionSetsOutput, error)
	}
	IdentityStore interface {
		ListUsers(ctx context.Context, in *identitystore.ListUsersInput, opts ...func(*identitystore.Options)) (*identitystore.ListUsersOutput, error)
	}
)

// AWSClients are the clients the AWS checks use.
type AWSClients struct {
	STS           STS
	IAM           IAM
	SSOAdmin      SSOAdmin
	IdentityStore IdentityStore
}

// AWSTarget is what the cutover will work on.
type AWSTarget struct {
	Region string
	// IdentityStoreID picks the instance; empty takes the Region's only one.
	IdentityStoreID string
}

// CheckAWS checks the caller, the instance, and every IAM action the
// cutover calls.
func CheckAWS(ctx context.Context, c AWSClients, t AWSTarget) readiness.Report {
	var r readiness.Report
	who, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		r.Fail(readiness.AreaAWS, "AWS credentials", readiness.CodeNotReady, "sts:GetCallerIdentity failed: "+errorText(err),
			"give the worker AWS credentials through the SDK's usual chain (AWS_PROFILE, AWS_REGION, a role for the pod or instance), then run this again")
		return r
	}
	account, callerARN := aws.ToString(who.Account), aws.ToString(who.Arn)
	p := partition.ForRegion(t.Region)
	r.Pass(readiness.AreaAWS, "AWS identity", fmt.Sprintf("%s in account %s; Region %s, partition %s", callerARN, account, t.Region, p.Name))

	instance, ok := checkInstance(ctx, &r, c.SSOAdmin, t, account)
	if !ok {
		return r
	}
	checkPermissions(ctx, &r, c, t, callerARN, account, instance)
	return r
}

// checkInstance finds the Identity Center instance and says whether this
// account administers it as the management account or as a delegated
// administrator.
func checkInstance(ctx context.Context, r *readiness.Report, sso SSOAdmin, t AWSTarget, account string) (ssotypes.InstanceMetadata, bool) {
	list, err := sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		r.Fail(readiness.AreaAWS, "sso:ListInstances", permissionCode(err), errorText(err), "allow sso:ListInstances for the worker's principal")
		return ssotypes.InstanceMetadata{}, false
	}
	var found *ssotypes.InstanceMetadata
	for i, in := range list.Instances {
		if t.IdentityStoreID == "" || aws.ToString(in.IdentityStoreId) == t.IdentityStoreID {
			found = &list.Instances[i]
			break
		}
	}
	if found == nil {
		r.Fail(readiness.AreaAWS, "Identity Center instance", readiness.CodeNotReady,
			fmt.Sprintf("no instance with identity store %q in %s is visible to account %s", t.IdentityStoreID, t.Region, account),
			"run from the management account or the delegated administrator account of the instance, in its Region (AWS_REGION)")
		return ssotypes.InstanceMetadata{}, false
	}
	described, err := sso.DescribeInstance(ctx, &ssoadmin.DescribeInstanceInput{InstanceArn: found.InstanceArn})
	if err != nil {
		r.Fail(readiness.AreaAWS, "sso:DescribeInstance", permissionCode(err), errorText(err), "allow sso:DescribeInstance for the worker's principal")
		return ssotypes.InstanceMetadata{}, false
	}
	if described.Status != ssotypes.InstanceStatusActive {
		r.Fail(readiness.AreaAWS, "Identity Center instance", readiness.CodeNotReady,
			fmt.Sprintf("%s is %s, not ACTIVE", aws.ToString(found.InstanceArn), described.Status),
			"wait until the instance is ACTIVE (IAM Identity Center > Settings)")
		return ssotypes.InstanceMetadata{}, false
	}
	owner := aws.ToString(described.OwnerAccountId)
	detail := fmt.Sprintf("%s (identity store %s), owned by account %s", aws.ToString(found.InstanceArn), aws.ToString(found.IdentityStoreId), owner)
	if owner == account {
		r.Pass(readiness.AreaAWS, "Identity Center instance", detail+"; this is the management account")
	} else {
		r.Warn(readiness.AreaAWS, "Identity Center instance", detail+"; this account ("+account+") administers it as a delegated administrator",
			"a delegated administrator cannot assign permission sets in the management account: the cutover names those assignments for a person to recreate from the management account")
	}
	return *found, true
}

// checkPermissions simulates every action of readiness.AWSActions for the caller's
// principal against the resources the cutover touches; where simulation is
// not allowed, it says so and makes harmless reads instead.
func checkPermissions(ctx context.Context, r *readiness.Report, c AWSClients, t AWSTarget, callerARN, account string, instance ssotypes.InstanceMetadata) {
	principal, problem := principalARN(callerARN)
	if problem != "" {
		r.Warn(readiness.AreaAWS, "IAM permissions", "not simulated: "+problem, "run the check with the role the worker uses")
		checkByReading(ctx, r, c, instance)
		return
	}
	resources := actionResources(partition.ForRegion(t.Region).Name, t.Region, account, instance)
	allowed := 0
	for _, group := range groupByResource(resources) {
		decisions, err := simulate(ctx, c.IAM, principal, group.actions, group.resource)
		if err != nil {
			r.Warn(readiness.AreaAWS, "iam:SimulatePrincipalPolicy", "the permissions were not simulated: "+errorText(err),
				"allow iam:SimulatePrincipalPolicy on "+principal+" to check every action; harmless reads were made instead")
			checkByReading(ctx, r, c, instance)
			return
		}
		for _, a := range group.actions {
			if d := decisions[a.Name]; d != iamtypes.PolicyEvaluationDecisionTypeAllowed {
				r.Fail(readiness.AreaAWS, a.Name, readiness.CodeMissingPermission,
					fmt.Sprintf("%s for %s on %s (%s)", d, principal, group.resource, a.Why),
					fmt.Sprintf("allow %s on %s in a policy of %s (or of the permission set its role comes from)", a.Name, group.resource, principal))
				continue
			}
			allowed++
		}
	}
	r.Pass(readiness.AreaAWS, "IAM permissions", fmt.Sprintf("%d of %d actions allowed for %s (simulated)", allowed, len(readiness.AWSActions), principal))
}

// checkByReading makes the reads a cutover starts with; only they can be
// checked without simulation.
func checkByReading(ctx context.Context, r *readiness.Report, c AWSClients, instance ssotypes.InstanceMetadata) {
	if _, err := c.SSOAdmin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: instance.InstanceArn, MaxResults: aws.Int32(1)}); err != nil {
		r.Fail(readiness.AreaAWS, "sso:ListPermissionSets", permissionCode(err), errorText(err), "allow sso:ListPermissionSets for the worker's principal")
	} else {
		r.Pass(readiness.AreaAWS, "sso:ListPermissionSets", "read one permission set")
	}
	if _, err := c.IdentityStore.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: instance.IdentityStoreId, MaxResults: aws.Int32(1)}); err != nil {
		r.Fail(readiness.AreaAWS, "identitystore:ListUsers", permissionCode(err), errorText(err), "allow identitystore:ListUsers for the worker's principal")
	} else {
		r.Pass(readiness.AreaAWS, "identitystore:ListUsers", "read one user")
	}
}

// simulate returns each action's decision on resource.
func simulate(ctx context.Context, c IAM, principal string, actions []readiness.Action, resource string) (map[string]iamtypes.PolicyEvaluationDecisionType, error) {
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = a.Name
	}
	decisions := map[string]iamtypes.PolicyEvaluationDecisionType{}
	in := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: &principal, ActionNames: names, ResourceArns: []string{resource}}
	for {
		out, err := c.SimulatePrincipalPolicy(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, res := range out.EvaluationResults {
			decisions[aws.ToString(res.EvalActionName)] = res.EvalDecision
		}
		if !out.IsTruncated {
			return decisions, nil
		}
		in.Marker = out.Marker
	}
}

// principalARN is the IAM principal whose policies apply to the caller:
// the role of an assumed-role session, or the user. A session ARN does not
// carry the role's path: for a role with a path the simulation answers
// NoSuchEntity, and the check falls back to reads and says so.
func principalARN(callerARN string) (string, string) {
	parts := strings.SplitN(callerARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", fmt.Sprintf("%q is not an ARN", callerARN)
	}
	part, service, account, resource := parts[1], parts[2], parts[4], parts[5]
	switch {
	case service == "sts" && strings.HasPrefix(resource, "assumed-role/"):
		role := strings.SplitN(strings.TrimPrefix(resource, "assumed-role/"), "/", 2)[0]
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", part, account, role), ""
	case service == "iam" && strings.HasPrefix(resource, "user/"):
		return callerARN, ""
	case service == "iam" && resource == "root":
		return "", "the account's root user has every permission; use a role"
	}
	return "", fmt.Sprintf("%s is neither a role session nor an IAM user", callerARN)
}

// actionResources is the resource each action is simulated on: what the
// cutover touches.
func actionResources(part, region, account string, instance ssotypes.InstanceMetadata) map[string]string {
	store := aws.ToString(instance.IdentityStoreId)
	byService := map[string]string{
		"sso":            aws.ToString(instance.InstanceArn),
		"identitystore":  fmt.Sprintf("arn:%s:identitystore::%s:identitystore/%s", part, aws.ToString(instance.OwnerAccountId), store),
		"iam":            fmt.Sprintf("arn:%s:iam::%s:user/ssocutover-breakglass-%s", part, account, store),
		"secretsmanager": fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:ssocutover/*", part, region, account),
	}
	out := make(map[string]string, len(readiness.AWSActions))
	for _, a := range readiness.AWSActions {
		service, _, _ := strings.Cut(a.Name, ":")
		out[a.Name] = byService[service]
	}
	return out
}

type resourceGroup struct {
	resource string
	actions  []readiness.Action
}

// groupByResource groups readiness.AWSActions by resource, in readiness.AWSActions' order.
func groupByResource(resources map[string]string) []resourceGroup {
	var groups []resourceGroup
	index := map[string]int{}
	for _, a := range readiness.AWSActions {
		res := resources[a.Name]
		i, ok := index[res]
		if !ok {
			i = len(groups)
			index[res] = i
			groups = append(groups, resourceGroup{resource: res})
		}
		groups[i].actions = append(groups[i].actions, a)
	}
	return groups
}

// permissionCode is the finding a refused call becomes: a missing
// permission when AWS said access was denied.
func permissionCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) && strings.Contains(api.ErrorCode(), "AccessDenied") {
		return readiness.CodeMissingPermission
	}
	return readiness.CodeNotReady
}

func errorText(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode() + ": " + api.ErrorMessage()
	}
	return err.Error()
}
