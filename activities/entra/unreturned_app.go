package entra

// DeleteUnreturnedEnterpriseApp: the undo the cutover records before it
// creates the enterprise app, so that a rollback finds the app however the
// step that creates it ended.
//
// instantiate has no idempotency key and Graph v1.0 takes nothing but the
// display name in it, so the name is the marker: it is unique to the
// identity store (workflows.EnterpriseAppName), and the step refuses to go
// on when two apps bear it. A worker that dies between instantiate and its
// first heartbeat, or a rollback asked for while the step runs, leaves an
// app that no history names; this finds it by that name and template.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/progress"
)

// DeleteUnreturnedEnterpriseApp deletes every application named
// in.DisplayName that was created from the gallery template, with its
// service principal, and waits until Entra no longer shows them.
//
// Entra shows a new app only some time after instantiate answered, so a
// search that finds nothing is repeated for AppVisibilityWait before the
// activity concludes that no attempt created the app. That wait is only
// paid when the app step never returned: once it has, the cutover replaces
// this undo with DeleteEnterpriseApp by ID.
func (a *Activities) DeleteUnreturnedEnterpriseApp(ctx context.Context, in DeleteUnreturnedEnterpriseAppInput) (DeleteUnreturnedEnterpriseAppResult, error) {
	e, err := a.appEnsurerFor(DeleteUnreturnedEnterpriseAppName, in.DisplayName, in.TemplateID)
	if err != nil {
		return DeleteUnreturnedEnterpriseAppResult{}, err
	}
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)

	var apps []namedApp
	err = poll(ctx, e.wait, func() (bool, error) {
		heartbeat(ctx, progress.Progress{Step: fmt.Sprintf("look for the application %q an attempt may have created", e.name)})
		named, err := e.named(ctx)
		apps = apps[:0]
		for _, app := range named {
			// An app of that name from another template was never the
			// cutover's: the app step refuses to adopt it.
			if strings.EqualFold(app.templateID, e.templateID) {
				apps = append(apps, app)
			}
		}
		return len(apps) > 0, err
	})
	if errors.Is(err, errPollTimeout) {
		return DeleteUnreturnedEnterpriseAppResult{Deleted: []string{}, APICalls: calls.Counts()}, nil
	}
	if err != nil {
		return DeleteUnreturnedEnterpriseAppResult{}, err
	}

	deleted := []string{}
	for _, app := range apps {
		// The service principal may not show yet; deleting the
		// application deletes it all the same.
		spID, err := e.servicePrincipalOf(ctx, app.AppID)
		if err != nil {
			return DeleteUnreturnedEnterpriseAppResult{}, err
		}
		app.ServicePrincipalID = spID
		if _, err := a.deleteApplication(ctx, app.EnterpriseApp); err != nil {
			return DeleteUnreturnedEnterpriseAppResult{}, err
		}
		if err := a.waitUntilAppGone(ctx, app.EnterpriseApp); err != nil {
			return DeleteUnreturnedEnterpriseAppResult{}, err
		}
		deleted = append(deleted, app.ApplicationObjectID)
	}
	return DeleteUnreturnedEnterpriseAppResult{Deleted: deleted, APICalls: calls.Counts()}, nil
}
