package readiness

// Action is an IAM action the cutover calls, and why.
type Action struct {
	Name string
	Why  string
}

// AWSActions are the IAM actions the worker's principal needs, as the
// README lists them under "Running a cutover" (a test keeps the two the
// same).
var AWSActions = []Action{
	{"sso:ListInstances", "finding the instance"},
	{"sso:DescribeInstance", "the instance's owner account and status"},
	{"sso:ListPermissionSets", "the inventory"},
	{"sso:DescribePermissionSet", "the inventory"},
	{"sso:ListAccountsForProvisionedPermissionSet", "the inventory"},
	{"sso:ListAccountAssignments", "the inventory"},
	{"sso:ListApplications", "the inventory of application assignments"},
	{"sso:GetApplicationAssignmentConfiguration", "the inventory of application assignments"},
	{"sso:ListApplicationAssignments", "the inventory of application assignments"},
	{"identitystore:ListGroups", "the inventory"},
	{"identitystore:ListGroupMemberships", "the inventory"},
	{"identitystore:ListUsers", "the inventory"},
	{"iam:GetUser", "the break-glass user"},
	{"iam:CreateUser", "the break-glass user"},
	{"iam:TagUser", "the break-glass user"},
	{"iam:CreateLoginProfile", "the break-glass user's password"},
	{"iam:DeleteLoginProfile", "the break-glass user's password"},
	{"iam:AttachUserPolicy", "the break-glass user's policy"},
	{"iam:ListAttachedUserPolicies", "the break-glass user's policy"},
	{"secretsmanager:CreateSecret", "the break-glass password and the SCIM token"},
	{"secretsmanager:PutSecretValue", "the break-glass password and the SCIM token"},
	{"secretsmanager:GetSecretValue", "the break-glass password and the SCIM token"},
	{"secretsmanager:DescribeSecret", "the break-glass password and the SCIM token"},
	{"sso:CreateAccountAssignment", "restoring account assignments"},
	{"sso:DescribeAccountAssignmentCreationStatus", "restoring account assignments"},
	{"sso:CreateApplicationAssignment", "restoring application assignments"},
}

// GraphPermission is an application permission (app role) of Microsoft
// Graph the worker's app registration needs.
type GraphPermission struct {
	Name string
	Why  string
	// ForTheCheck marks the permissions only this check needs: without
	// them a check cannot run (a warning), the cutover still can.
	ForTheCheck bool
}

// GraphPermissions are the Graph application permissions the README lists.
var GraphPermissions = []GraphPermission{
	{Name: "Group.Read.All", Why: "the Entra inventory"},
	{Name: "User.Read.All", Why: "the Entra inventory"},
	{Name: "Application.ReadWrite.All", Why: "the enterprise app and its SAML settings"},
	{Name: "AppRoleAssignment.ReadWrite.All", Why: "assigning the groups to the app"},
	{Name: "Synchronization.ReadWrite.All", Why: "the provisioning job"},
	{Name: "Organization.Read.All", Why: "reading the tenant's licences (subscribedSkus)", ForTheCheck: true},
	{Name: "Policy.Read.All", Why: "reading the app management policy", ForTheCheck: true},
}
