package sandbox

import (
	"fmt"
)

// The sso-admin operations: the instance, its permission sets and its
// account assignments; the assignment writes are in
// aws_ssoadmin_assignments.go.

func (s *awsServer) ssoAdminOperations() map[string]awsOperation {
	return map[string]awsOperation{
		"ListInstances":                           s.listInstances,
		"DescribeInstance":                        s.describeInstance,
		"ListPermissionSets":                      s.listPermissionSets,
		"DescribePermissionSet":                   s.describePermissionSet,
		"ListAccountsForProvisionedPermissionSet": s.listAccountsForProvisionedPermissionSet,
		"ListAccountAssignments":                  s.listAccountAssignments,
		"ListAccountAssignmentsForPrincipal":      s.listAccountAssignmentsForPrincipal,
		"CreateAccountAssignment":                 s.createAccountAssignment,
		"DeleteAccountAssignment":                 s.deleteAccountAssignment,
		"DescribeAccountAssignmentCreationStatus": s.describeAccountAssignmentCreationStatus,
		"DescribeAccountAssignmentDeletionStatus": s.describeAccountAssignmentDeletionStatus,
		"ListApplications":                        s.listApplications,
		"DescribeApplication":                     s.describeApplication,
		"GetApplicationAssignmentConfiguration":   s.getApplicationAssignmentConfiguration,
		"ListApplicationAssignments":              s.listApplicationAssignments,
		"CreateApplicationAssignment":             s.createApplicationAssignment,
		"DeleteApplicationAssignment":             s.deleteApplicationAssignment,
	}
}

// awsCreatedEpoch is the creation time the sandbox reports for its instance and
// permission sets (2024-01-01T00:00:00Z, epoch seconds as the JSON protocol
// writes timestamps).
const awsCreatedEpoch = 1704067200

type awsInstanceDoc struct {
	InstanceARN     string `json:"InstanceArn"`
	IdentityStoreID string `json:"IdentityStoreId"`
	OwnerAccountID  string `json:"OwnerAccountId"`
	Name            string `json:"Name"`
	Status          string `json:"Status"`
	CreatedDate     int64  `json:"CreatedDate"`
}

type awsAssignmentDoc struct {
	AccountID        string `json:"AccountId"`
	PermissionSetARN string `json:"PermissionSetArn"`
	PrincipalID      string `json:"PrincipalId"`
	PrincipalType    string `json:"PrincipalType"`
}

// instanceDoc is the world's instance as ListInstances and
// DescribeInstance show it; the caller holds st.mu.
func (st *awsState) instanceDoc() awsInstanceDoc {
	return awsInstanceDoc{InstanceARN: st.instanceARN, IdentityStoreID: st.identityStoreID, OwnerAccountID: st.managementAccount,
		Name: "sandbox", Status: "ACTIVE", CreatedDate: awsCreatedEpoch}
}

func (a awsAssignment) doc() awsAssignmentDoc {
	return awsAssignmentDoc{AccountID: a.AccountID, PermissionSetARN: a.PermissionSetARN, PrincipalID: a.PrincipalID, PrincipalType: a.PrincipalType}
}

// listInstances lists the instance of the caller's region: none when the
// client is configured for another region than the world's.
func (s *awsServer) listInstances(call *awsCall) (any, error) {
	var req struct{ awsPageRequest }
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	var arns []string
	if call.region == st.region {
		arns = []string{st.instanceARN}
	}
	instances, next, err := awsPageDocs(arns, awsStringKey, req.awsPageRequest, "ListInstances", func(string) awsInstanceDoc {
		return st.instanceDoc()
	})
	if err != nil {
		return nil, err
	}
	return struct {
		Instances []awsInstanceDoc `json:"Instances"`
		NextToken *string          `json:"NextToken,omitempty"`
	}{instances, next}, nil
}

func (s *awsServer) listPermissionSets(call *awsCall) (any, error) {
	var req struct {
		InstanceARN string `json:"InstanceArn"`
		awsPageRequest
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.checkInstance(call, req.InstanceARN); err != nil {
		return nil, err
	}
	arns, next, err := awsPage(st.permissionSetARNs, awsStringKey, req.awsPageRequest, "ListPermissionSets")
	if err != nil {
		return nil, err
	}
	return struct {
		PermissionSets []string `json:"PermissionSets"`
		NextToken      *string  `json:"NextToken,omitempty"`
	}{append([]string{}, arns...), next}, nil
}

func (s *awsServer) describePermissionSet(call *awsCall) (any, error) {
	var req struct {
		InstanceARN      string `json:"InstanceArn"`
		PermissionSetARN string `json:"PermissionSetArn"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.checkInstance(call, req.InstanceARN); err != nil {
		return nil, err
	}
	ps, err := st.checkPermissionSet(req.PermissionSetARN)
	if err != nil {
		return nil, err
	}
	type permissionSetDoc struct {
		Name             string `json:"Name"`
		PermissionSetARN string `json:"PermissionSetArn"`
		Description      string `json:"Description,omitempty"`
		CreatedDate      int64  `json:"CreatedDate"`
		SessionDuration  string `json:"SessionDuration"`
	}
	return struct {
		PermissionSet permissionSetDoc `json:"PermissionSet"`
	}{permissionSetDoc{Name: ps.Name, PermissionSetARN: ps.ARN, Description: ps.Description, CreatedDate: awsCreatedEpoch, SessionDuration: "PT1H"}}, nil
}

// listAccountsForProvisionedPermissionSet lists the accounts a permission set
// is provisioned to: in the sandbox, those where it has an assignment, all
// of them with the latest version of the permission set.
func (s *awsServer) listAccountsForProvisionedPermissionSet(call *awsCall) (any, error) {
	var req struct {
		InstanceARN        string `json:"InstanceArn"`
		PermissionSetARN   string `json:"PermissionSetArn"`
		ProvisioningStatus string `json:"ProvisioningStatus"`
		awsPageRequest
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.checkInstance(call, req.InstanceARN); err != nil {
		return nil, err
	}
	if _, err := st.checkPermissionSet(req.PermissionSetARN); err != nil {
		return nil, err
	}
	var accounts []string
	switch req.ProvisioningStatus {
	case "", "LATEST_PERMISSION_SET_PROVISIONED":
		for _, id := range st.accountIDs {
			if len(st.byTarget[assignmentTarget{AccountID: id, PermissionSetARN: req.PermissionSetARN}]) > 0 {
				accounts = append(accounts, id)
			}
		}
	case "LATEST_PERMISSION_SET_NOT_PROVISIONED":
	default:
		return nil, awsValidationError("1 validation error detected: Value '%s' at 'provisioningStatus' failed to satisfy constraint: Member must satisfy enum value set: [LATEST_PERMISSION_SET_PROVISIONED, LATEST_PERMISSION_SET_NOT_PROVISIONED]", req.ProvisioningStatus)
	}
	accounts, next, err := awsPage(accounts, awsStringKey, req.awsPageRequest, fmt.Sprintf("ListAccountsForProvisionedPermissionSet/%s/%s", req.PermissionSetARN, req.ProvisioningStatus))
	if err != nil {
		return nil, err
	}
	return struct {
		AccountIds []string `json:"AccountIds"`
		NextToken  *string  `json:"NextToken,omitempty"`
	}{append([]string{}, accounts...), next}, nil
}

func (s *awsServer) listAccountAssignments(call *awsCall) (any, error) {
	var req struct {
		InstanceARN      string `json:"InstanceArn"`
		AccountID        string `json:"AccountId"`
		PermissionSetARN string `json:"PermissionSetArn"`
		awsPageRequest
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.checkInstance(call, req.InstanceARN); err != nil {
		return nil, err
	}
	if err := checkAccountID(req.AccountID); err != nil {
		return nil, err
	}
	if _, err := st.checkPermissionSet(req.PermissionSetARN); err != nil {
		return nil, err
	}
	target := assignmentTarget{AccountID: req.AccountID, PermissionSetARN: req.PermissionSetARN}
	assignments, next, err := awsPageDocs(st.byTarget[target], awsAssignment.principalKey, req.awsPageRequest,
		"ListAccountAssignments/"+req.AccountID+"/"+req.PermissionSetARN, awsAssignment.doc)
	if err != nil {
		return nil, err
	}
	return struct {
		AccountAssignments []awsAssignmentDoc `json:"AccountAssignments"`
		NextToken          *string            `json:"NextToken,omitempty"`
	}{assignments, next}, nil
}

func (s *awsServer) listAccountAssignmentsForPrincipal(call *awsCall) (any, error) {
	var req struct {
		InstanceARN   string `json:"InstanceArn"`
		PrincipalID   string `json:"PrincipalId"`
		PrincipalType string `json:"PrincipalType"`
		Filter        *struct {
			AccountID string `json:"AccountId"`
		} `json:"Filter"`
		awsPageRequest
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.checkInstance(call, req.InstanceARN); err != nil {
		return nil, err
	}
	if err := checkPrincipal(req.PrincipalType, req.PrincipalID); err != nil {
		return nil, err
	}
	if st.delegatedAdmin != "" {
		// "This action must be called from the management account containing
		// your organization instance of IAM Identity Center" (the API
		// reference of ListAccountAssignmentsForPrincipal).
		return nil, awsAccessDenied("ListAccountAssignmentsForPrincipal must be called from the management account %s, not from delegated administrator account %s", st.managementAccount, st.delegatedAdmin)
	}
	var assignments []awsAssignment
	for _, a := range st.byPrincipal[req.PrincipalID] {
		if a.PrincipalType == req.PrincipalType && (req.Filter == nil || req.Filter.AccountID == "" || a.AccountID == req.Filter.AccountID) {
			assignments = append(assignments, a)
		}
	}
	scope := "ListAccountAssignmentsForPrincipal/" + req.PrincipalType + "/" + req.PrincipalID
	if req.Filter != nil {
		scope += "/" + req.Filter.AccountID
	}
	docs, next, err := awsPageDocs(assignments, awsAssignment.targetKey, req.awsPageRequest, scope, awsAssignment.doc)
	if err != nil {
		return nil, err
	}
	return struct {
		AccountAssignments []awsAssignmentDoc `json:"AccountAssignments"`
		NextToken          *string            `json:"NextToken,omitempty"`
	}{docs, next}, nil
}
