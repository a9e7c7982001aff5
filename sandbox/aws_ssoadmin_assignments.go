package sandbox

// sso-admin account assignment writes. In AWS they are asynchronous:
// CreateAccountAssignment and DeleteAccountAssignment answer with a request
// status IN_PROGRESS and a RequestId, and the caller polls
// DescribeAccountAssignmentCreationStatus / ...DeletionStatus until the
// status is SUCCEEDED or FAILED. The sandbox applies a write at once (so
// the list operations see it immediately after the request) and reports
// the request IN_PROGRESS in the write's answer and finished from the first
// describe on, which is enough to exercise a caller's polling loop.
//
// As in AWS, creating an assignment that exists succeeds without a second
// copy, and a principal that is not in the identity store or an account the
// instance does not know fails the request (Status FAILED with a
// FailureReason) rather than the call.

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/platformguide/ssocutover/sandbox/world"
)

// assignmentRequests holds the status of every assignment write, by
// request ID, for the describe operations.
type assignmentRequests struct {
	mu   sync.Mutex
	seq  uint64
	byID map[string]*assignmentRequest
}

type assignmentRequest struct {
	id        string
	deletion  bool
	target    awsAssignment
	failure   string // FailureReason when the request failed
	created   time.Time
	described bool // the first describe moves it out of IN_PROGRESS
}

func newAssignmentRequests() *assignmentRequests {
	return &assignmentRequests{byID: map[string]*assignmentRequest{}}
}

// add records a new request and returns it.
func (r *assignmentRequests) add(deletion bool, target awsAssignment, failure string) *assignmentRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	req := &assignmentRequest{
		id:       world.StableID("aws-assignment-request", fmt.Sprint(r.seq)),
		deletion: deletion,
		target:   target,
		failure:  failure,
		created:  time.Now().UTC(),
	}
	r.byID[req.id] = req
	return req
}

// awsAssignmentStatusDoc is an AccountAssignmentOperationStatus.
type awsAssignmentStatusDoc struct {
	Status           string  `json:"Status"`
	RequestID        string  `json:"RequestId"`
	FailureReason    string  `json:"FailureReason,omitempty"`
	TargetID         string  `json:"TargetId"`
	TargetType       string  `json:"TargetType"`
	PermissionSetARN string  `json:"PermissionSetArn"`
	PrincipalType    string  `json:"PrincipalType"`
	PrincipalID      string  `json:"PrincipalId"`
	CreatedDate      float64 `json:"CreatedDate"`
}

func (req *assignmentRequest) doc() awsAssignmentStatusDoc {
	status := "IN_PROGRESS"
	if req.described {
		status = "SUCCEEDED"
		if req.failure != "" {
			status = "FAILED"
		}
	}
	doc := awsAssignmentStatusDoc{
		Status: status, RequestID: req.id,
		TargetID: req.target.AccountID, TargetType: "AWS_ACCOUNT", PermissionSetARN: req.target.PermissionSetARN,
		PrincipalType: req.target.PrincipalType, PrincipalID: req.target.PrincipalID,
		CreatedDate: awsEpoch(req.created),
	}
	if status == "FAILED" {
		doc.FailureReason = req.failure
	}
	return doc
}

// assignmentWriteRequest is the input of CreateAccountAssignment and
// DeleteAccountAssignment.
type assignmentWriteRequest struct {
	InstanceARN      string `json:"InstanceArn"`
	TargetID         string `json:"TargetId"`
	TargetType       string `json:"TargetType"`
	PermissionSetARN string `json:"PermissionSetArn"`
	PrincipalType    string `json:"PrincipalType"`
	PrincipalID      string `json:"PrincipalId"`
}

// check validates a write as the API does before accepting it, and returns
// the assignment it names. The caller holds the state's lock.
func (st *awsState) checkAssignmentWrite(call *awsCall, req *assignmentWriteRequest) (awsAssignment, error) {
	if err := st.checkInstance(call, req.InstanceARN); err != nil {
		return awsAssignment{}, err
	}
	if req.TargetType != "AWS_ACCOUNT" {
		return awsAssignment{}, awsValidationError("1 validation error detected: Value '%s' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_ACCOUNT]", req.TargetType)
	}
	if !accountIDPattern.MatchString(req.TargetID) {
		return awsAssignment{}, awsValidationError("1 validation error detected: Value '%s' at 'targetId' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}", req.TargetID)
	}
	if err := checkPrincipal(req.PrincipalType, req.PrincipalID); err != nil {
		return awsAssignment{}, err
	}
	if _, err := st.checkPermissionSet(req.PermissionSetARN); err != nil {
		return awsAssignment{}, err
	}
	if st.delegatedAdmin != "" && req.TargetID == st.managementAccount {
		// "The delegated administrator can't ... manage permission sets
		// provisioned in the management account", as the Identity Center
		// user guide on delegated administration says; the error's words
		// are not documented.
		return awsAssignment{}, awsAccessDenied("User is not authorized to manage account assignments in the management account %s from delegated administrator account %s", st.managementAccount, st.delegatedAdmin)
	}
	return awsAssignment{
		assignmentTarget: assignmentTarget{AccountID: req.TargetID, PermissionSetARN: req.PermissionSetARN},
		PrincipalType:    req.PrincipalType,
		PrincipalID:      req.PrincipalID,
	}, nil
}

// assignmentFailure says why AWS would fail a valid-looking create: the
// account is not one of the organisation's, or the principal is not in the
// identity store. Empty when the create can proceed. The caller holds the
// state's lock.
func (st *awsState) assignmentFailure(a awsAssignment) string {
	if _, ok := slices.BinarySearch(st.accountIDs, a.AccountID); !ok {
		return fmt.Sprintf("Account %s is not a member of the organization of this instance.", a.AccountID)
	}
	if a.PrincipalType == "USER" && st.users[a.PrincipalID] == nil || a.PrincipalType == "GROUP" && st.groups[a.PrincipalID] == nil {
		return fmt.Sprintf("Received a 404 status error: the %s %s does not exist in identity store %s.", strings.ToLower(a.PrincipalType), a.PrincipalID, st.identityStoreID)
	}
	return ""
}

// removeAssignment deletes an assignment from both indexes and reports
// whether it existed. The caller holds the write lock.
func (st *awsState) removeAssignment(a awsAssignment) bool {
	t := st.byTarget[a.assignmentTarget]
	i, found := slices.BinarySearchFunc(t, a.principalKey(), func(x awsAssignment, key string) int { return strings.Compare(x.principalKey(), key) })
	if !found {
		return false
	}
	if t = slices.Delete(t, i, i+1); len(t) == 0 {
		delete(st.byTarget, a.assignmentTarget)
	} else {
		st.byTarget[a.assignmentTarget] = t
	}
	p := st.byPrincipal[a.PrincipalID]
	j, found := slices.BinarySearchFunc(p, a.targetKey(), func(x awsAssignment, key string) int { return strings.Compare(x.targetKey(), key) })
	if found {
		if p = slices.Delete(p, j, j+1); len(p) == 0 {
			delete(st.byPrincipal, a.PrincipalID)
		} else {
			st.byPrincipal[a.PrincipalID] = p
		}
	}
	return true
}

func (s *awsServer) createAccountAssignment(call *awsCall) (any, error) {
	var req assignmentWriteRequest
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	assignment, err := st.checkAssignmentWrite(call, &req)
	if err != nil {
		return nil, err
	}
	failure := st.assignmentFailure(assignment)
	if failure == "" {
		st.addAssignment(assignment) // an existing assignment stays as it is
	}
	return struct {
		Status awsAssignmentStatusDoc `json:"AccountAssignmentCreationStatus"`
	}{s.assignmentRequests.add(false, assignment, failure).doc()}, nil
}

// deleteAccountAssignment removes an assignment. Deleting one that does not
// exist succeeds: the end state is the one asked for. Deleting the last
// assignment of a permission set in an account is what, in AWS, removes
// the permission set's IAM role from the account; the sandbox shows that
// in ListAccountsForProvisionedPermissionSet.
func (s *awsServer) deleteAccountAssignment(call *awsCall) (any, error) {
	var req assignmentWriteRequest
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	assignment, err := st.checkAssignmentWrite(call, &req)
	if err != nil {
		return nil, err
	}
	st.removeAssignment(assignment)
	return struct {
		Status awsAssignmentStatusDoc `json:"AccountAssignmentDeletionStatus"`
	}{s.assignmentRequests.add(true, assignment, "").doc()}, nil
}

func (s *awsServer) describeAccountAssignmentCreationStatus(call *awsCall) (any, error) {
	var req struct {
		InstanceARN string `json:"InstanceArn"`
		RequestID   string `json:"AccountAssignmentCreationRequestId"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	doc, err := s.describeAssignmentRequest(call, req.InstanceARN, req.RequestID, false)
	if err != nil {
		return nil, err
	}
	return struct {
		Status awsAssignmentStatusDoc `json:"AccountAssignmentCreationStatus"`
	}{doc}, nil
}

func (s *awsServer) describeAccountAssignmentDeletionStatus(call *awsCall) (any, error) {
	var req struct {
		InstanceARN string `json:"InstanceArn"`
		RequestID   string `json:"AccountAssignmentDeletionRequestId"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	doc, err := s.describeAssignmentRequest(call, req.InstanceARN, req.RequestID, true)
	if err != nil {
		return nil, err
	}
	return struct {
		Status awsAssignmentStatusDoc `json:"AccountAssignmentDeletionStatus"`
	}{doc}, nil
}

// describeAssignmentRequest reports a write request's status; a creation
// request ID given to the deletion describe (or the other way round) is not
// found, as in AWS.
func (s *awsServer) describeAssignmentRequest(call *awsCall, instanceARN, requestID string, deletion bool) (awsAssignmentStatusDoc, error) {
	st := s.state
	st.mu.RLock()
	err := st.checkInstance(call, instanceARN)
	st.mu.RUnlock()
	if err != nil {
		return awsAssignmentStatusDoc{}, err
	}
	r := s.assignmentRequests
	r.mu.Lock()
	defer r.mu.Unlock()
	req, ok := r.byID[requestID]
	if !ok || req.deletion != deletion {
		kind := "creation"
		if deletion {
			kind = "deletion"
		}
		return awsAssignmentStatusDoc{}, &awsError{Type: "ResourceNotFoundException", Status: http.StatusNotFound,
			Message: fmt.Sprintf("Account assignment %s request %s does not exist", kind, requestID)}
	}
	req.described = true
	return req.doc(), nil
}

// checkPrincipal refuses a principal type other than USER and GROUP, and a
// missing principal ID, as sso-admin's input validation does for every
// operation that names a principal.
func checkPrincipal(principalType, principalID string) error {
	if principalType != "USER" && principalType != "GROUP" {
		return awsValidationError("1 validation error detected: Value '%s' at 'principalType' failed to satisfy constraint: Member must satisfy enum value set: [USER, GROUP]", principalType)
	}
	if principalID == "" {
		return awsValidationError("1 validation error detected: Value at 'principalId' failed to satisfy constraint: Member must not be null")
	}
	return nil
}
