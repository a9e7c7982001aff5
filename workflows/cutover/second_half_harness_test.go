package cutover

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/activities/schedules"
	"github.com/platformguide/ssocutover/activities/scim"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/samlmeta"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/workflowtest"
)

// The activities after the preflight gate, by name, with their types.
var secondHalfActivities = map[string]any{
	identitycenter.EnsureBreakGlassUserName: placeholder[identitycenter.EnsureBreakGlassUserInput, identitycenter.EnsureBreakGlassUserResult](identitycenter.EnsureBreakGlassUserName),
	identitycenter.VerifyAssignmentsName:    placeholder[identitycenter.VerifyAssignmentsInput, model.AssignmentVerification](identitycenter.VerifyAssignmentsName),
	entra.EnsureEnterpriseAppName:           placeholder[entra.EnsureEnterpriseAppInput, entra.EnsureEnterpriseAppResult](entra.EnsureEnterpriseAppName),
	entra.ConfigureSAMLName:                 placeholder[entra.ConfigureSAMLInput, entra.ConfigureSAMLResult](entra.ConfigureSAMLName),
	entra.FetchFederationMetadataName:       placeholder[entra.FetchFederationMetadataInput, model.FederationMetadata](entra.FetchFederationMetadataName),
	entra.AssignGroupsToAppName:             placeholder[entra.AssignGroupsToAppInput, entra.AssignGroupsToAppResult](entra.AssignGroupsToAppName),
	entra.EnsureProvisioningJobName:         placeholder[entra.EnsureProvisioningJobInput, entra.EnsureProvisioningJobResult](entra.EnsureProvisioningJobName),
	entra.ConfigureProvisioningName:         placeholder[entra.ConfigureProvisioningInput, entra.ConfigureProvisioningResult](entra.ConfigureProvisioningName),
	entra.StartProvisioningName:             placeholder[entra.StartProvisioningInput, entra.StartProvisioningResult](entra.StartProvisioningName),
	entra.ProvisioningJobStatusName:         placeholder[entra.ProvisioningJobStatusInput, model.ProvisioningJobStatus](entra.ProvisioningJobStatusName),
	scim.VerifySCIMEndpointName:             placeholder[scim.VerifySCIMEndpointInput, scim.VerifySCIMEndpointResult](scim.VerifySCIMEndpointName),
	entra.StopProvisioningName:              placeholder[entra.StopProvisioningInput, entra.StopProvisioningResult](entra.StopProvisioningName),
	entra.RemoveAppGroupAssignmentsName:     placeholder[entra.RemoveAppGroupAssignmentsInput, entra.RemoveAppGroupAssignmentsResult](entra.RemoveAppGroupAssignmentsName),
	entra.DeleteEnterpriseAppName:           placeholder[entra.DeleteEnterpriseAppInput, entra.DeleteEnterpriseAppResult](entra.DeleteEnterpriseAppName),
	entra.DeleteUnreturnedEnterpriseAppName: placeholder[entra.DeleteUnreturnedEnterpriseAppInput, entra.DeleteUnreturnedEnterpriseAppResult](entra.DeleteUnreturnedEnterpriseAppName),
	schedules.EnsureRotationScheduleName:    placeholder[schedules.EnsureRotationScheduleInput, schedules.EnsureRotationScheduleResult](schedules.EnsureRotationScheduleName),
}

func placeholder[I, O any](name string) func(context.Context, I) (O, error) {
	return func(context.Context, I) (O, error) { panic(name + " is not mocked") }
}

func secondHalfPlaceholder(name string) any {
	fn, ok := secondHalfActivities[name]
	if !ok {
		panic("unknown activity " + name)
	}
	return fn
}

// testSPMetadata is SP metadata of the test instance, as the console gives it.
func testSPMetadata(t *testing.T) string {
	t.Helper()
	data, err := samlmeta.SPMetadata(testRequest().Region, workflowtest.IdentityStoreID, workflowtest.ACSTenantID)
	require.NoError(t, err)
	return string(data)
}

var (
	testTokenRef    = secretref.Ref{ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ssocutover/d-1234567890/scim-token-AbCdEf", VersionID: "0123456789abcdef0123456789abcdef"}
	testPasswordRef = secretref.Ref{ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ssocutover/d-1234567890/break-glass-password-AbCdEf", VersionID: "fedcba9876543210fedcba9876543210"}

	completeVerification = model.AssignmentVerification{
		IdentityStoreID: workflowtest.IdentityStoreID,
		GroupsExpected:  3, GroupsPresent: 3, UsersExpected: 10, UsersPresent: 10, MembersExpected: 12,
		AssignmentsExpected: 5, AssignmentsPresent: 5, AssignmentsRestored: 2,
		Report: store.Ref{Key: "assignment-report-1", Digest: "d1", Size: 100},
	}
	incompleteVerification = model.AssignmentVerification{
		IdentityStoreID: workflowtest.IdentityStoreID,
		GroupsExpected:  3, GroupsPresent: 1, UsersExpected: 10, UsersPresent: 4, MembersExpected: 12, MembersMissing: 8,
		AssignmentsExpected: 5, AssignmentsPresent: 1, AssignmentsRestored: 1, AssignmentsMissing: 4,
		Report: store.Ref{Key: "assignment-report-0", Digest: "d0", Size: 100},
	}
	cycleDone = model.ProvisioningJobStatus{Code: model.JobActive, LastExecutionState: "Succeeded", LastExecutionEnded: time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)}
	notRunYet = model.ProvisioningJobStatus{Code: model.JobActive}
)

// fakeSecondHalf plays the activities after the preflight gate. Answers
// given as lists are used in order, the last one repeating.
type fakeSecondHalf struct {
	appErr error
	// samlErrs are what the ConfigureSAML calls return, in turn.
	samlErrs []error
	// deleteAppErrs fail DeleteEnterpriseApp's first calls.
	deleteAppErrs []error
	// deletedApps are the apps DeleteEnterpriseApp was asked to delete.
	deletedApps []model.EnterpriseApp
	// deletedByName are the names DeleteUnreturnedEnterpriseApp was
	// asked to look for.
	deletedByName []string
	scimErrs      []error
	configureErrs []error
	jobStatuses   []model.ProvisioningJobStatus
	verifications []model.AssignmentVerification

	mu    sync.Mutex
	calls map[string]int
	// inputs of the activities whose input the tests check.
	breakGlass []identitycenter.EnsureBreakGlassUserInput
	saml       []entra.ConfigureSAMLInput
	configure  []entra.ConfigureProvisioningInput
	verify     []identitycenter.VerifyAssignmentsInput
	// order is every activity call in order, by name.
	order []string
}

func newFakeSecondHalf() *fakeSecondHalf {
	return &fakeSecondHalf{
		jobStatuses:   []model.ProvisioningJobStatus{cycleDone},
		verifications: []model.AssignmentVerification{completeVerification},
	}
}

func nth[T any](list []T, n int) T {
	var zero T
	if len(list) == 0 {
		return zero
	}
	return list[min(n, len(list))-1]
}

// called counts a call of name and returns its number, from 1.
func (f *fakeSecondHalf) called(name string) int {
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[name]++
	f.order = append(f.order, name)
	return f.calls[name]
}

func (f *fakeSecondHalf) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

// install mocks the activities; their names must be registered first
// (registration cannot follow a mock).
func (f *fakeSecondHalf) install(env *testsuite.TestWorkflowEnvironment) {
	env.OnActivity(identitycenter.EnsureBreakGlassUserName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in identitycenter.EnsureBreakGlassUserInput) (identitycenter.EnsureBreakGlassUserResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.called(identitycenter.EnsureBreakGlassUserName)
			f.breakGlass = append(f.breakGlass, in)
			return identitycenter.EnsureBreakGlassUserResult{BreakGlassUser: model.BreakGlassUser{
				UserName: in.UserName, UserARN: "arn:aws:iam::123456789012:user/" + in.UserName,
				PolicyARNs: []string{identitycenter.DefaultBreakGlassPolicyARN}, Password: testPasswordRef,
			}, Created: true}, nil
		})
	env.OnActivity(entra.EnsureEnterpriseAppName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in entra.EnsureEnterpriseAppInput) (entra.EnsureEnterpriseAppResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.called(entra.EnsureEnterpriseAppName)
			if f.appErr != nil {
				return entra.EnsureEnterpriseAppResult{}, f.appErr
			}
			return entra.EnsureEnterpriseAppResult{App: workflowtest.App, Created: true}, nil
		})
	env.OnActivity(entra.ConfigureSAMLName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in entra.ConfigureSAMLInput) (entra.ConfigureSAMLResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			n := f.called(entra.ConfigureSAMLName)
			f.saml = append(f.saml, in)
			if n <= len(f.samlErrs) && f.samlErrs[n-1] != nil {
				return entra.ConfigureSAMLResult{}, f.samlErrs[n-1]
			}
			return entra.ConfigureSAMLResult{CertificateThumbprint: "ABCDEF0123456789ABCDEF0123456789ABCDEF01", CertificateExpires: time.Date(2029, 11, 27, 0, 0, 0, 0, time.UTC)}, nil
		})
	env.OnActivity(entra.FetchFederationMetadataName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in entra.FetchFederationMetadataInput) (model.FederationMetadata, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.called(entra.FetchFederationMetadataName)
			return model.FederationMetadata{
				MetadataXML: "<EntityDescriptor/>", EntityID: "https://sts.windows.net/" + in.TenantID + "/",
				CertificateThumbprint: in.CertificateThumbprint,
			}, nil
		})
	env.OnActivity(entra.AssignGroupsToAppName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in entra.AssignGroupsToAppInput) (entra.AssignGroupsToAppResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.called(entra.AssignGroupsToAppName)
			return entra.AssignGroupsToAppResult{
				GroupAssignments: model.GroupAssignments{AppRoleID: "8774f594-1d59-4279-b9d9-59ef09a23530", Groups: 3, Assigned: 3},
				GroupIDs:         []string{"g1", "g2", "g3"},
			}, nil
		})
	env.OnActivity(scim.VerifySCIMEndpointName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in scim.VerifySCIMEndpointInput) (scim.VerifySCIMEndpointResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			n := f.called(scim.VerifySCIMEndpointName)
			if n <= len(f.scimErrs) && f.scimErrs[n-1] != nil {
				return scim.VerifySCIMEndpointResult{}, f.scimErrs[n-1]
			}
			return scim.VerifySCIMEndpointResult{Users: 10}, nil
		})
	env.OnActivity(entra.EnsureProvisioningJobName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in entra.EnsureProvisioningJobInput) (entra.EnsureProvisioningJobResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.called(entra.EnsureProvisioningJobName)
			return entra.EnsureProvisioningJobResult{JobID: "AWSSingleSignon.abc.def", TemplateID: "AWSSingleSignon", Created: true}, nil
		})
	env.OnActivity(entra.ConfigureProvisioningName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in entra.ConfigureProvisioningInput) (entra.ConfigureProvisioningResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			n := f.called(entra.ConfigureProvisioningName)
			f.configure = append(f.configure, in)
			if n <= len(f.configureErrs) && f.configureErrs[n-1] != nil {
				return entra.ConfigureProvisioningResult{}, f.configureErrs[n-1]
			}
			return entra.ConfigureProvisioningResult{}, nil
		})
	env.OnActivity(entra.StartProvisioningName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in entra.StartProvisioningInput) (entra.StartProvisioningResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.called(entra.StartProvisioningName)
			return entra.StartProvisioningResult{OnDemandGroups: len(in.GroupIDs)}, nil
		})
	env.OnActivity(entra.ProvisioningJobStatusName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in entra.ProvisioningJobStatusInput) (model.ProvisioningJobStatus, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return nth(f.jobStatuses, f.called(entra.ProvisioningJobStatusName)), nil
		})
	env.OnActivity(entra.StopProvisioningName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in entra.StopProvisioningInput) (entra.StopProvisioningResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.called(entra.StopProvisioningName)
			return entra.StopProvisioningResult{Stopped: true, SecretsCleared: true}, nil
		})
	env.OnActivity(entra.RemoveAppGroupAssignmentsName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in entra.RemoveAppGroupAssignmentsInput) (entra.RemoveAppGroupAssignmentsResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.called(entra.RemoveAppGroupAssignmentsName)
			return entra.RemoveAppGroupAssignmentsResult{Removed: 3}, nil
		})
	env.OnActivity(entra.DeleteEnterpriseAppName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in entra.DeleteEnterpriseAppInput) (entra.DeleteEnterpriseAppResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			n := f.called(entra.DeleteEnterpriseAppName)
			f.deletedApps = append(f.deletedApps, in.App)
			if n <= len(f.deleteAppErrs) && f.deleteAppErrs[n-1] != nil {
				return entra.DeleteEnterpriseAppResult{}, f.deleteAppErrs[n-1]
			}
			return entra.DeleteEnterpriseAppResult{Deleted: true}, nil
		})
	env.OnActivity(entra.DeleteUnreturnedEnterpriseAppName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in entra.DeleteUnreturnedEnterpriseAppInput) (entra.DeleteUnreturnedEnterpriseAppResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.called(entra.DeleteUnreturnedEnterpriseAppName)
			f.deletedByName = append(f.deletedByName, in.DisplayName)
			return entra.DeleteUnreturnedEnterpriseAppResult{Deleted: []string{}}, nil
		})
	env.OnActivity(identitycenter.VerifyAssignmentsName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in identitycenter.VerifyAssignmentsInput) (model.AssignmentVerification, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.verify = append(f.verify, in)
			return nth(f.verifications, f.called(identitycenter.VerifyAssignmentsName)), nil
		})
}

// newCutoverEnv is an environment where the whole cutover runs: a clean
// preflight and the second half faked by the returned fake.
func newCutoverEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *fakeSecondHalf) {
	return newCutoverEnvWithPolicy(t, &workerPolicy{})
}

// newCutoverEnvWithPolicy is newCutoverEnv with a worker whose approval
// policy is p's.
func newCutoverEnvWithPolicy(t *testing.T, p *workerPolicy) (*testsuite.TestWorkflowEnvironment, *fakeSecondHalf) {
	env := newEnvWithPolicy(t, p)
	for name := range secondHalfActivities {
		registerActivityNames(env, name)
	}
	(&fakePreflight{summaries: []preflight.Summary{cleanSummary}, secondHalf: true}).install(env)
	f := newFakeSecondHalf()
	f.install(env)
	return env, f
}

// A person's answers at each gate, at the times of the test's choice.
func approvePreflight(env *testsuite.TestWorkflowEnvironment) {
	env.SignalWorkflow(workflows.OpApprove, workflows.GateDecision{Gate: workflows.GatePreflight, By: "alice", Reason: "warnings read"})
}

func submitSPMetadata(env *testsuite.TestWorkflowEnvironment, xml string) {
	env.SignalWorkflow(workflows.OpSubmitSPMetadata, workflows.GateDecision{Gate: workflows.GateAWSSPMetadata, By: "alice", SPMetadataXML: xml})
}

func submitSCIM(env *testsuite.TestWorkflowEnvironment) {
	env.SignalWorkflow(workflows.OpSubmitSCIM, workflows.GateDecision{Gate: workflows.GateSCIMCredentials, By: "alice", SCIMEndpoint: workflowtest.SCIMEndpoint, SCIMToken: &testTokenRef})
}

func confirmSignIn(env *testsuite.TestWorkflowEnvironment) {
	env.SignalWorkflow(workflows.OpApprove, workflows.GateDecision{Gate: workflows.GateConfirmSignIn, By: "bob"})
}

// calledInOrder is the order of the activity calls.
func (f *fakeSecondHalf) calledInOrder() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.order...)
}

func confirmGate(env *testsuite.TestWorkflowEnvironment, gate string) {
	env.SignalWorkflow(workflows.OpApprove, workflows.GateDecision{Gate: gate, By: "carol"})
}
