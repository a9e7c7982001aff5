package entra

// The compensations of the cutover's Microsoft steps, which a rollback runs
// newest first: StopProvisioning, RemoveAppGroupAssignments,
// DeleteEnterpriseApp. Each is idempotent: what is already gone counts as
// done, so running one again (after a lost answer, or twice) changes nothing
// and succeeds.
//
// Their refusals say which permission is missing and what a person can do
// by hand instead: the rollback then waits at a gate where the person
// retries (after granting it) or skips (after doing it by hand).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/progress"
)

// StopProvisioning stops Entra from calling AWS: it deletes the app's
// provisioning job and clears the SCIM endpoint and token saved as the
// app's provisioning credentials.
//
// Deleting rather than pausing the job is deliberate. Graph's pause keeps
// the job's state (what it provisioned, its watermark) for a later start,
// which would resume incremental cycles that trust that state; after a
// rollback the AWS identity store no longer matches it (the person reverts
// the identity source), so a cutover run again must begin with a fresh job
// and a full first cycle, which is what EnsureProvisioningJob creates once
// this job is gone. Graph's delete stops the job and forgets its state, and
// leaves what it provisioned in AWS as it is.
//
// The credentials belong to the service principal, not the job, so they
// outlive it: they are overwritten with empty values. Graph keeps the keys
// a PUT leaves out as they were, while an empty value clears its key (which
// is also how Terraform's azuread provider removes them); the sandbox
// replaces the whole set on PUT. Either way no endpoint and no token remain.
func (a *Activities) StopProvisioning(ctx context.Context, in StopProvisioningInput) (StopProvisioningResult, error) {
	if err := a.requireGraph(in.App, in.JobID, true); err != nil {
		return StopProvisioningResult{}, err
	}
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)

	stopped, err := a.deleteProvisioningJob(ctx, in)
	if err != nil {
		return StopProvisioningResult{}, err
	}
	cleared, err := a.clearProvisioningCredentials(ctx, in)
	if err != nil {
		return StopProvisioningResult{}, err
	}
	return StopProvisioningResult{Stopped: stopped, SecretsCleared: cleared, APICalls: calls.Counts()}, nil
}

// deleteProvisioningJob deletes the job; false when it (or the app) was
// already gone.
func (a *Activities) deleteProvisioningJob(ctx context.Context, in StopProvisioningInput) (bool, error) {
	err := a.synchronization(in.App).Jobs().BySynchronizationJobId(in.JobID).Delete(ctx, nil)
	if statusOf(err) == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, compensationCallError(fmt.Sprintf("delete the provisioning job %s of %q", in.JobID, in.App.DisplayName), err,
			"Synchronization.ReadWrite.All",
			"stop provisioning by hand (Entra admin center > Enterprise applications > the app > Provisioning > Stop provisioning, and clear the Tenant URL and Secret Token)")
	}
	return true, nil
}

// clearProvisioningCredentials overwrites the saved SCIM endpoint and token
// with empty values; false when the app was already gone.
func (a *Activities) clearProvisioningCredentials(ctx context.Context, in StopProvisioningInput) (bool, error) {
	body := serviceprincipals.NewItemSynchronizationSecretsPutRequestBody()
	body.SetValue([]models.SynchronizationSecretKeyStringValuePairable{
		secretPair(models.BASEADDRESS_SYNCHRONIZATIONSECRET, ""),
		secretPair(models.SECRETTOKEN_SYNCHRONIZATIONSECRET, ""),
	})
	_, err := a.synchronization(in.App).Secrets().Put(ctx, body, nil)
	if statusOf(err) == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, compensationCallError(fmt.Sprintf("clear the provisioning credentials of %q", in.App.DisplayName), err,
			"Synchronization.ReadWrite.All",
			"clear the Tenant URL and Secret Token by hand (Entra admin center > Enterprise applications > the app > Provisioning > Admin Credentials)")
	}
	return true, nil
}

// RemoveAppGroupAssignments removes every app role assignment of the app:
// the app is the cutover's own, so all of them are the cutover's (or were
// made for its sign-in tests). They are listed 999 a page and then deleted
// 20 to a $batch, a few batches at once, as AssignGroupsToApp made them, so
// ten thousand take some five hundred calls. An assignment or app already
// gone is fine (and not counted as removed).
func (a *Activities) RemoveAppGroupAssignments(ctx context.Context, in RemoveAppGroupAssignmentsInput) (RemoveAppGroupAssignmentsResult, error) {
	if a.Graph == nil {
		return RemoveAppGroupAssignmentsResult{}, misconfigured()
	}
	if err := checkApp(RemoveAppGroupAssignmentsName, in.App); err != nil {
		return RemoveAppGroupAssignmentsResult{}, err
	}
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)

	run := &assignRun{graph: a.Graph, app: in.App, concurrency: a.concurrency(), progress: progress.New(ctx, nil)}
	// List them all before deleting any: deleting while paging could make
	// Graph's pages skip some.
	var assignments []assignmentToRemove
	err := run.eachAssignment(ctx, func(as models.AppRoleAssignmentable) {
		principal := deref(as.GetPrincipalDisplayName())
		if as.GetPrincipalId() != nil {
			principal += " (" + as.GetPrincipalId().String() + ")"
		}
		assignments = append(assignments, assignmentToRemove{id: deref(as.GetId()), principal: principal})
	})
	var gone *notFoundError
	if errors.As(err, &gone) {
		// The app is gone, and its assignments with it.
		return RemoveAppGroupAssignmentsResult{APICalls: calls.Counts()}, nil
	}
	if err != nil {
		return RemoveAppGroupAssignmentsResult{}, assignCallError(in.App, fmt.Sprintf("list the assignments of %q", in.App.DisplayName), err)
	}
	if err := run.remove(ctx, assignments); err != nil {
		return RemoveAppGroupAssignmentsResult{}, err
	}
	return RemoveAppGroupAssignmentsResult{Removed: run.changed, APICalls: calls.Counts()}, nil
}

// assignmentToRemove is an assignment's ID and, for errors, its principal
// ("aws-devs (<object ID>)").
type assignmentToRemove struct {
	id, principal string
}

// remove deletes the assignments, 20 to a $batch.
func (r *assignRun) remove(ctx context.Context, assignments []assignmentToRemove) error {
	r.progress.Start("remove the app's assignments", len(assignments))
	deletes := make([]*assignmentWrite, 0, len(assignments))
	for _, as := range assignments {
		info, err := r.servicePrincipal().AppRoleAssignedTo().ByAppRoleAssignmentId(as.id).ToDeleteRequestInformation(ctx, nil)
		if err != nil {
			return fmt.Errorf("build the removal of assignment %s: %w", as.id, err)
		}
		what := fmt.Sprintf("remove the assignment of %s to %q", as.principal, r.app.DisplayName)
		deletes = append(deletes, &assignmentWrite{what: what, info: info, answered: func(status int, code, message string) error {
			switch {
			case status < 300:
				r.count(1)
			case status == http.StatusNotFound:
				// Removed since the listing (by a request whose answer
				// was lost, or by a person), or the app is gone.
				r.count(0)
			default:
				return assignCallError(r.app, what, &graphStatusError{status: status, code: code, message: message})
			}
			return nil
		}})
	}
	return r.writes().send(ctx, deletes)
}

// DeleteEnterpriseApp deletes the app's application object, which deletes
// its service principal with it (the enterprise app, its SAML setup and
// signing certificates, its provisioning job), and waits until Entra no
// longer shows either.
//
// The app was readable when EnsureEnterpriseApp returned it, so Entra's
// delay in showing a new app is over: a 404 here means the app is gone, not
// that it is not visible yet.
func (a *Activities) DeleteEnterpriseApp(ctx context.Context, in DeleteEnterpriseAppInput) (DeleteEnterpriseAppResult, error) {
	if a.Graph == nil {
		return DeleteEnterpriseAppResult{}, misconfigured()
	}
	if err := checkApp(DeleteEnterpriseAppName, in.App); err != nil {
		return DeleteEnterpriseAppResult{}, err
	}
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)

	deleted, err := a.deleteApplication(ctx, in.App)
	if err != nil {
		return DeleteEnterpriseAppResult{}, err
	}
	if err := a.waitUntilAppGone(ctx, in.App); err != nil {
		return DeleteEnterpriseAppResult{}, err
	}
	return DeleteEnterpriseAppResult{Deleted: deleted, APICalls: calls.Counts()}, nil
}

// deleteApplication deletes the application object after checking that it
// is the cutover's app; false when it was already gone.
func (a *Activities) deleteApplication(ctx context.Context, app model.EnterpriseApp) (bool, error) {
	what := fmt.Sprintf("delete the enterprise application %q (object ID %s)", app.DisplayName, app.ApplicationObjectID)
	byID := a.Graph.Client.Applications().ByApplicationId(app.ApplicationObjectID)
	found, err := byID.Get(ctx, &applications.ApplicationItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &applications.ApplicationItemRequestBuilderGetQueryParameters{Select: []string{"id", "appId", "displayName"}},
	})
	if statusOf(err) == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, deleteAppCallError(what, err)
	}
	// The IDs come from the workflow's history; a delete is not undone
	// lightly, so a mismatch stops here rather than deleting another app.
	if !strings.EqualFold(deref(found.GetAppId()), app.AppID) {
		return false, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"the application object %s is %q (app ID %s), not the cutover's app %q (app ID %s): nothing was deleted. "+
				"Delete the cutover's app by hand if it exists (Entra admin center > App registrations > All applications), then skip this step",
			app.ApplicationObjectID, deref(found.GetDisplayName()), deref(found.GetAppId()), app.DisplayName, app.AppID), ErrInvalidRequest, nil)
	}
	err = byID.Delete(ctx, nil)
	if statusOf(err) == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, deleteAppCallError(what, err)
	}
	return true, nil
}

// waitUntilAppGone waits until GET answers 404 for both the application and
// its service principal, as long as Entra may take to show a new app.
func (a *Activities) waitUntilAppGone(ctx context.Context, app model.EnterpriseApp) error {
	wait := a.appVisibilityWait()
	err := poll(ctx, wait, func() (bool, error) {
		heartbeat(ctx, progress.Progress{Step: "wait until Entra no longer shows the app"})
		_, err := a.Graph.Client.Applications().ByApplicationId(app.ApplicationObjectID).Get(ctx, &applications.ApplicationItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &applications.ApplicationItemRequestBuilderGetQueryParameters{Select: []string{"id"}},
		})
		if gone, err := isGone("read the application "+app.ApplicationObjectID, err); !gone || err != nil {
			return false, err
		}
		if app.ServicePrincipalID == "" {
			// Never shown (DeleteUnreturnedEnterpriseApp): it went with
			// the application.
			return true, nil
		}
		_, err = a.Graph.Client.ServicePrincipals().ByServicePrincipalId(app.ServicePrincipalID).Get(ctx, &serviceprincipals.ServicePrincipalItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipals.ServicePrincipalItemRequestBuilderGetQueryParameters{Select: []string{"id"}},
		})
		return isGone("read the service principal "+app.ServicePrincipalID, err)
	})
	if errors.Is(err, errPollTimeout) {
		// Retryable: the retry deletes again (or finds it gone) and waits.
		return fmt.Errorf("the enterprise application %q (object ID %s, service principal %s) is still readable %s after it was deleted; the activity is retried",
			app.DisplayName, app.ApplicationObjectID, app.ServicePrincipalID, wait)
	}
	return err
}

// isGone reports whether the GET that returned err answered 404.
func isGone(what string, err error) (bool, error) {
	switch {
	case statusOf(err) == http.StatusNotFound:
		return true, nil
	case err != nil:
		return false, deleteAppCallError(what, err)
	}
	return false, nil
}

// deleteAppCallError is the error of a call of DeleteEnterpriseApp.
func deleteAppCallError(what string, err error) error {
	return compensationCallError(what, err, "Application.ReadWrite.All",
		"delete the app by hand (Entra admin center > App registrations > All applications > the app > Delete)")
}

// compensationCallError is callError, except that a 403 names the one
// permission the call needs and how to do its work by hand instead.
func compensationCallError(what string, err error, permission, byHand string) error {
	if statusOf(err) == http.StatusForbidden {
		code, message := graphErrorCode(err)
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s: access denied (%s: %s). The worker's app registration needs the Microsoft Graph application permission %s, with admin consent: grant it and retry, or %s and skip this step",
			what, code, message, permission, byHand), ErrAccessDenied, err)
	}
	return callError(what, err)
}
