package sandbox

import (
	"cmp"
	"slices"
	"strings"

	"github.com/platformguide/ssocutover/sandbox/world"
)

// The sso-admin operations on the instance's applications and their
// assignments, as the IAM Identity Center API reference documents them:
// ListApplications, DescribeApplication,
// GetApplicationAssignmentConfiguration, ListApplicationAssignments,
// CreateApplicationAssignment and DeleteApplicationAssignment
// (https://docs.aws.amazon.com/singlesignon/latest/APIReference/).

// awsApplication is an application of the instance.
type awsApplication struct {
	ARN                string
	Name               string
	ProviderARN        string
	AssignmentRequired bool
	assignments        []awsAppAssignment // sorted by principalKey
}

// awsAppAssignment gives a user or group access to an application.
type awsAppAssignment struct {
	PrincipalType string
	PrincipalID   string
}

func (a awsAppAssignment) principalKey() string { return a.PrincipalType + "/" + a.PrincipalID }

// addApplication adds a world's application with its assignments. The
// caller holds the write lock or owns the state.
func (st *awsState) addApplication(w world.Application) {
	provider := cmp.Or(w.Provider, "custom")
	app := &awsApplication{
		ARN:                world.ApplicationARN(st.instanceARN, st.managementAccount, w.Name),
		Name:               w.Name,
		ProviderARN:        "arn:aws:sso::aws:applicationProvider/" + provider,
		AssignmentRequired: !w.AssignmentNotRequired,
	}
	for _, as := range w.Assignments {
		a := awsAppAssignment{PrincipalType: "GROUP", PrincipalID: world.StableID("aws-group", as.Group)}
		if as.User != "" {
			a = awsAppAssignment{PrincipalType: "USER", PrincipalID: world.StableID("aws-user", as.User)}
		}
		app.add(a)
	}
	st.applications[app.ARN] = app
	st.applicationARNs = append(st.applicationARNs, app.ARN)
	slices.Sort(st.applicationARNs)
}

// add adds a, once.
func (app *awsApplication) add(a awsAppAssignment) {
	i, found := slices.BinarySearchFunc(app.assignments, a.principalKey(), func(x awsAppAssignment, key string) int { return strings.Compare(x.principalKey(), key) })
	if !found {
		app.assignments = slices.Insert(app.assignments, i, a)
	}
}

type awsApplicationDoc struct {
	ApplicationARN         string `json:"ApplicationArn"`
	ApplicationAccount     string `json:"ApplicationAccount"`
	ApplicationProviderARN string `json:"ApplicationProviderArn"`
	InstanceARN            string `json:"InstanceArn"`
	Name                   string `json:"Name"`
	Status                 string `json:"Status"`
	CreatedDate            int64  `json:"CreatedDate"`
}

func (st *awsState) applicationDoc(app *awsApplication) awsApplicationDoc {
	return awsApplicationDoc{
		ApplicationARN: app.ARN, ApplicationAccount: st.managementAccount, ApplicationProviderARN: app.ProviderARN,
		InstanceARN: st.instanceARN, Name: app.Name, Status: "ENABLED", CreatedDate: awsCreatedEpoch,
	}
}

// application returns the application of arn, or AWS's not-found error.
func (st *awsState) application(arn string) (*awsApplication, error) {
	if arn == "" {
		return nil, awsValidationError("1 validation error detected: Value at 'applicationArn' failed to satisfy constraint: Member must not be null")
	}
	app, ok := st.applications[arn]
	if !ok {
		return nil, awsNotFoundError("APPLICATION", arn, "Application %s does not exist.", arn)
	}
	return app, nil
}

func (s *awsServer) listApplications(call *awsCall) (any, error) {
	var req struct {
		InstanceARN string `json:"InstanceArn"`
		Filter      *struct {
			ApplicationAccount  string `json:"ApplicationAccount"`
			ApplicationProvider string `json:"ApplicationProvider"`
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
	var apps []*awsApplication
	for _, arn := range st.applicationARNs {
		app := st.applications[arn]
		if f := req.Filter; f != nil && (f.ApplicationAccount != "" && f.ApplicationAccount != st.managementAccount || f.ApplicationProvider != "" && f.ApplicationProvider != app.ProviderARN) {
			continue
		}
		apps = append(apps, app)
	}
	docs, next, err := awsPageDocs(apps, func(a *awsApplication) string { return a.ARN }, req.awsPageRequest, "ListApplications", st.applicationDoc)
	if err != nil {
		return nil, err
	}
	return struct {
		Applications []awsApplicationDoc `json:"Applications"`
		NextToken    *string             `json:"NextToken,omitempty"`
	}{docs, next}, nil
}

// readApplication answers an operation whose input is one ApplicationArn
// with what answer makes of the application, under the read lock.
func (s *awsServer) readApplication(call *awsCall, answer func(*awsState, *awsApplication) any) (any, error) {
	var req struct {
		ApplicationARN string `json:"ApplicationArn"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	app, err := st.application(req.ApplicationARN)
	if err != nil {
		return nil, err
	}
	return answer(st, app), nil
}

func (s *awsServer) describeApplication(call *awsCall) (any, error) {
	return s.readApplication(call, func(st *awsState, app *awsApplication) any { return st.applicationDoc(app) })
}

func (s *awsServer) getApplicationAssignmentConfiguration(call *awsCall) (any, error) {
	return s.readApplication(call, func(_ *awsState, app *awsApplication) any {
		return struct {
			AssignmentRequired bool `json:"AssignmentRequired"`
		}{app.AssignmentRequired}
	})
}

type awsAppAssignmentDoc struct {
	ApplicationARN string `json:"ApplicationArn"`
	PrincipalID    string `json:"PrincipalId"`
	PrincipalType  string `json:"PrincipalType"`
}

func (s *awsServer) listApplicationAssignments(call *awsCall) (any, error) {
	var req struct {
		ApplicationARN string `json:"ApplicationArn"`
		awsPageRequest
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	app, err := st.application(req.ApplicationARN)
	if err != nil {
		return nil, err
	}
	docs, next, err := awsPageDocs(app.assignments, awsAppAssignment.principalKey, req.awsPageRequest, "ListApplicationAssignments/"+app.ARN,
		func(a awsAppAssignment) awsAppAssignmentDoc {
			return awsAppAssignmentDoc{ApplicationARN: app.ARN, PrincipalID: a.PrincipalID, PrincipalType: a.PrincipalType}
		})
	if err != nil {
		return nil, err
	}
	return struct {
		ApplicationAssignments []awsAppAssignmentDoc `json:"ApplicationAssignments"`
		NextToken              *string               `json:"NextToken,omitempty"`
	}{docs, next}, nil
}

// appAssignmentRequest is the input of CreateApplicationAssignment and
// DeleteApplicationAssignment.
type appAssignmentRequest struct {
	ApplicationARN string `json:"ApplicationArn"`
	PrincipalID    string `json:"PrincipalId"`
	PrincipalType  string `json:"PrincipalType"`
}

// writeAppAssignment decodes and checks the input of a write to an
// application's assignments and applies it under the write lock; the
// operation answers with an empty structure.
func (s *awsServer) writeAppAssignment(call *awsCall, apply func(*awsState, *awsApplication, awsAppAssignment) error) (any, error) {
	var req appAssignmentRequest
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	app, err := st.application(req.ApplicationARN)
	if err != nil {
		return nil, err
	}
	if err := checkPrincipal(req.PrincipalType, req.PrincipalID); err != nil {
		return nil, err
	}
	if err := apply(st, app, awsAppAssignment{PrincipalType: req.PrincipalType, PrincipalID: req.PrincipalID}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// createApplicationAssignment grants a principal of the identity store
// access to the application. The API reference does not say what a
// second create of an existing assignment answers; the sandbox answers
// success and keeps one, as AWS does for account assignments.
func (s *awsServer) createApplicationAssignment(call *awsCall) (any, error) {
	return s.writeAppAssignment(call, func(st *awsState, app *awsApplication, a awsAppAssignment) error {
		if a.PrincipalType == "USER" && st.users[a.PrincipalID] == nil || a.PrincipalType == "GROUP" && st.groups[a.PrincipalID] == nil {
			return awsNotFoundError(a.PrincipalType, a.PrincipalID, "The %s %s does not exist in identity store %s.", strings.ToLower(a.PrincipalType), a.PrincipalID, st.identityStoreID)
		}
		app.add(a)
		return nil
	})
}

// deleteApplicationAssignment revokes an assignment; one that does not
// exist is gone already, so it succeeds.
func (s *awsServer) deleteApplicationAssignment(call *awsCall) (any, error) {
	return s.writeAppAssignment(call, func(_ *awsState, app *awsApplication, a awsAppAssignment) error {
		app.assignments = slices.DeleteFunc(app.assignments, func(x awsAppAssignment) bool { return x == a })
		return nil
	})
}

// ApplicationAssignment is an application assignment, for tests.
type ApplicationAssignment struct {
	Application   string
	PrincipalType string
	PrincipalName string
}

// ApplicationAssignments lists every application assignment, sorted.
func (s *Sandbox) ApplicationAssignments() []ApplicationAssignment {
	st := s.aws.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	var out []ApplicationAssignment
	for _, arn := range st.applicationARNs {
		app := st.applications[arn]
		for _, a := range app.assignments {
			out = append(out, ApplicationAssignment{Application: app.Name, PrincipalType: a.PrincipalType,
				PrincipalName: st.principalName(awsAssignment{PrincipalType: a.PrincipalType, PrincipalID: a.PrincipalID})})
		}
	}
	slices.SortFunc(out, func(a, b ApplicationAssignment) int {
		return strings.Compare(a.Application+"/"+a.PrincipalType+"/"+a.PrincipalName, b.Application+"/"+b.PrincipalType+"/"+b.PrincipalName)
	})
	return out
}
