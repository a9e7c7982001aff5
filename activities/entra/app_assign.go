package entra

// AssignGroupsToApp: the Entra groups the preflight matched to AWS groups,
// assigned to the enterprise app's User role, so that provisioning carries
// them and their direct members to AWS. Assignments that exist are left
// alone; the missing ones are posted 20 to a $batch, a few batches at a
// time, so ten thousand groups take some hundred calls.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/progress"
)

// userRoleName is the app role groups are assigned to; it is looked up by
// name on the app rather than trusted by ID.
const userRoleName = "User"

// assignmentsPageSize is the largest page of appRoleAssignedTo Graph gives.
const assignmentsPageSize = 999

// AssignGroupsToApp assigns to the app's User role every Entra group that
// the preflight matched to an AWS group (exactly one Entra group of the AWS
// group's name) and that Entra can assign (security-enabled). Groups
// already assigned are counted, not assigned again.
func (a *Activities) AssignGroupsToApp(ctx context.Context, in AssignGroupsToAppInput) (AssignGroupsToAppResult, error) {
	if a.Graph == nil || a.Store == nil {
		return AssignGroupsToAppResult{}, temporal.NewNonRetryableApplicationError("the Entra activities have no Graph client or store: the worker is misconfigured", ErrInvalidRequest, nil)
	}
	if err := checkApp(AssignGroupsToAppName, in.App); err != nil {
		return AssignGroupsToAppResult{}, err
	}
	if in.Report.Key == "" || in.EntraInventory.Key == "" {
		return AssignGroupsToAppResult{}, temporal.NewNonRetryableApplicationError("AssignGroupsToApp needs the references of the preflight report (report) and the Entra inventory (entraInventory)", ErrInvalidRequest, nil)
	}
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)

	groups, skipped, err := a.groupsToAssign(ctx, in)
	if err != nil {
		return AssignGroupsToAppResult{}, err
	}
	run := &assignRun{graph: a.Graph, app: in.App, concurrency: a.concurrency(), progress: progress.New(ctx, nil)}
	roleID, err := run.userRole(ctx)
	if err != nil {
		return AssignGroupsToAppResult{}, err
	}
	assigned, err := run.assignedGroups(ctx, roleID)
	if err != nil {
		return AssignGroupsToAppResult{}, err
	}
	var missing []assignTarget
	for _, g := range groups {
		if !assigned[strings.ToLower(g.ID)] {
			missing = append(missing, g)
		}
	}
	if err := run.assign(ctx, roleID, missing); err != nil {
		return AssignGroupsToAppResult{}, err
	}

	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	slices.Sort(ids)
	// History gets a few of them (for on-demand provisioning), not 10,000.
	ids = ids[:min(len(ids), MaxGroupIDsInResult)]
	return AssignGroupsToAppResult{
		GroupAssignments: model.GroupAssignments{
			AppRoleID:       roleID,
			Groups:          len(groups),
			Assigned:        run.changed,
			AlreadyAssigned: len(groups) - run.changed,
		},
		GroupIDs: ids,
		Skipped:  skipped,
		APICalls: calls.Counts(),
	}, nil
}

// assignTarget is an Entra group to assign.
type assignTarget struct {
	ID          string
	DisplayName string
}

// groupsToAssign reads the matched groups from the stored inventory, once
// each, and the display names of those Entra cannot assign. The report must
// be the one made from that inventory.
func (a *Activities) groupsToAssign(ctx context.Context, in AssignGroupsToAppInput) (groups []assignTarget, skipped []string, err error) {
	var report preflight.Report
	if err := a.Store.Get(ctx, in.Report, &report); err != nil {
		return nil, nil, fmt.Errorf("read the preflight report: %w", err)
	}
	var inv preflight.Entra
	if err := a.Store.Get(ctx, in.EntraInventory, &inv); err != nil {
		return nil, nil, fmt.Errorf("read the Entra inventory: %w", err)
	}
	matched := 0
	seen := map[string]bool{}
	for _, m := range inv.Groups {
		if len(m.Candidates) != 1 {
			continue // missing or ambiguous: the preflight reported it
		}
		matched++
		g := m.Candidates[0]
		switch {
		case !g.SecurityEnabled:
			skipped = append(skipped, m.DisplayName)
		case !seen[strings.ToLower(g.ID)]:
			seen[strings.ToLower(g.ID)] = true
			groups = append(groups, assignTarget{ID: g.ID, DisplayName: g.DisplayName})
		}
	}
	if matched != report.Stats.MatchedGroups {
		return nil, nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"the preflight report (%d matched groups) was not made from this Entra inventory (%d matched groups): run the preflight again (recheck)",
			report.Stats.MatchedGroups, matched), ErrInvalidRequest, nil)
	}
	return groups, skipped, nil
}

// assignRun is one run of AssignGroupsToApp.
type assignRun struct {
	graph       *graphclient.Client
	app         model.EnterpriseApp
	concurrency int
	progress    *progress.Reporter

	mu sync.Mutex
	// changed counts the assignments this run made (or removed).
	changed int
}

func (r *assignRun) servicePrincipal() *serviceprincipals.ServicePrincipalItemRequestBuilder {
	return r.graph.Client.ServicePrincipals().ByServicePrincipalId(r.app.ServicePrincipalID)
}

// userRole returns the ID of the app's enabled role named User that groups
// can be assigned to.
func (r *assignRun) userRole(ctx context.Context) (string, error) {
	sp, err := r.servicePrincipal().Get(ctx, &serviceprincipals.ServicePrincipalItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipals.ServicePrincipalItemRequestBuilderGetQueryParameters{Select: []string{"id", "appRoles"}},
	})
	if err != nil {
		return "", whenGone(r.app, appCallError(fmt.Sprintf("read the app roles of %q", r.app.DisplayName), err))
	}
	var names []string
	for _, role := range sp.GetAppRoles() {
		name := deref(role.GetValue())
		if name == "" {
			name = deref(role.GetDisplayName())
		}
		names = append(names, name)
		enabled := role.GetIsEnabled() == nil || *role.GetIsEnabled()
		if strings.EqualFold(name, userRoleName) && enabled && slices.Contains(role.GetAllowedMemberTypes(), "User") && role.GetId() != nil {
			return role.GetId().String(), nil
		}
	}
	return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"the enterprise application %q has no enabled app role named %s that groups can be assigned to (its roles: %s). "+
			"It was not made from the AWS IAM Identity Center gallery app, or its roles were changed: restore the User role, or delete the app and retry the enterprise app step",
		r.app.DisplayName, userRoleName, strings.Join(names, ", ")), ErrNoUserRole, nil)
}

// assignedGroups returns the (lower-case) IDs of the principals assigned to
// roleID on the app.
func (r *assignRun) assignedGroups(ctx context.Context, roleID string) (map[string]bool, error) {
	assigned := map[string]bool{}
	err := r.eachAssignment(ctx, func(as models.AppRoleAssignmentable) {
		if as.GetAppRoleId() != nil && strings.EqualFold(as.GetAppRoleId().String(), roleID) && as.GetPrincipalId() != nil {
			assigned[strings.ToLower(as.GetPrincipalId().String())] = true
		}
	})
	if err != nil {
		return nil, whenGone(r.app, err)
	}
	return assigned, nil
}

// eachAssignment gives keep every app role assignment of the app, of any
// role and principal, 999 a page. A 404 (the app is gone) is a
// *notFoundError.
func (r *assignRun) eachAssignment(ctx context.Context, keep func(models.AppRoleAssignmentable)) error {
	what := fmt.Sprintf("list the assignments of %q", r.app.DisplayName)
	builder := r.servicePrincipal().AppRoleAssignedTo()
	page, err := builder.Get(ctx, &serviceprincipals.ItemAppRoleAssignedToRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipals.ItemAppRoleAssignedToRequestBuilderGetQueryParameters{
			Select: []string{"id", "principalId", "principalDisplayName", "appRoleId"},
			Top:    ptr(int32(assignmentsPageSize)),
		},
	})
	r.progress.Start("read the app's assignments", 0)
	for {
		if err != nil {
			return appCallError(what, err)
		}
		for _, as := range page.GetValue() {
			keep(as)
		}
		r.progress.More(len(page.GetValue()))
		r.progress.Add(len(page.GetValue()))
		next := page.GetOdataNextLink()
		if next == nil {
			return nil
		}
		page, err = builder.WithUrl(*next).Get(ctx, nil)
	}
}

// assign posts an assignment for every group, 20 to a $batch.
func (r *assignRun) assign(ctx context.Context, roleID string, groups []assignTarget) error {
	r.progress.Start("assign groups to the app", len(groups))
	posts := make([]*assignmentWrite, 0, len(groups))
	for _, g := range groups {
		post, err := r.newPost(ctx, roleID, g)
		if err != nil {
			return err
		}
		posts = append(posts, post)
	}
	return r.writes().send(ctx, posts)
}

// writes sends this run's assignment writes.
func (r *assignRun) writes() assignmentWrites {
	return assignmentWrites{
		graph:       r.graph,
		concurrency: r.concurrency,
		refused:     func(what string, err error) error { return assignCallError(r.app, what, err) },
	}
}

func (r *assignRun) newPost(ctx context.Context, roleID string, g assignTarget) (*assignmentWrite, error) {
	principal, err := uuid.Parse(g.ID)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the Entra inventory names group %q with ID %q, which is not an Entra object ID: run the preflight again", g.DisplayName, g.ID), ErrInvalidRequest, err)
	}
	resource, err := uuid.Parse(r.app.ServicePrincipalID)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the service principal ID %q is not an Entra object ID", r.app.ServicePrincipalID), ErrInvalidRequest, err)
	}
	role, err := uuid.Parse(roleID)
	if err != nil {
		return nil, fmt.Errorf("the User role's ID %q is not a GUID: %w", roleID, err)
	}
	body := models.NewAppRoleAssignment()
	body.SetPrincipalId(&principal)
	body.SetResourceId(&resource)
	body.SetAppRoleId(&role)
	info, err := r.servicePrincipal().AppRoleAssignedTo().ToPostRequestInformation(ctx, body, nil)
	if err != nil {
		return nil, fmt.Errorf("build the assignment of group %q: %w", g.DisplayName, err)
	}
	what := fmt.Sprintf("assign group %q (%s) to %q", g.DisplayName, g.ID, r.app.DisplayName)
	return &assignmentWrite{what: what, info: info, answered: func(status int, code, message string) error {
		switch {
		case status < 300:
			r.count(1)
		case status == 400 && strings.Contains(message, "already exists"):
			// Assigned since the listing: by a lost answer's request, or
			// by a person. Either way it is there.
			r.count(0)
		case status == 404:
			return r.notFound(g, code, message)
		default:
			return assignCallError(r.app, what, &graphStatusError{status: status, code: code, message: message})
		}
		return nil
	}}, nil
}

// count records one write done: it changed an assignment (1), or found
// it as the write would leave it (0).
func (r *assignRun) count(changed int) {
	r.mu.Lock()
	r.changed += changed
	r.mu.Unlock()
	r.progress.Add(1)
}

// assignCallError is appCallError for assignments, which need their own
// permission: Application.ReadWrite.All does not allow them.
func assignCallError(app model.EnterpriseApp, what string, err error) error {
	if statusOf(err) == 403 {
		code, message := graphErrorCode(err)
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s: access denied (%s: %s). The worker's app registration needs the Microsoft Graph application permission AppRoleAssignment.ReadWrite.All (with Application.Read.All), with admin consent",
			what, code, message), ErrAccessDenied, err)
	}
	return whenGone(app, appCallError(what, err))
}

// notFound explains a 404 to an assignment: the app or the group is gone.
func (r *assignRun) notFound(g assignTarget, code, message string) error {
	err := &graphStatusError{status: 404, code: code, message: message}
	if strings.Contains(message, r.app.ServicePrincipalID) {
		return appGone(r.app, err)
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"Entra group %q (%s) no longer exists (%s: %s). Run the preflight again (recheck) so that the cutover assigns the groups that exist",
		g.DisplayName, g.ID, code, message), ErrInvalidRequest, err)
}

// assignmentWrite is one write of an app role assignment (the POST that
// makes it, the DELETE that removes it) and its retries.
type assignmentWrite struct {
	// what names the write for errors: "assign group ...".
	what string
	info *abstractions.RequestInformation
	// answered takes the write's answer and returns nil when the write is
	// done, or the activity's error. Throttling and server errors never
	// reach it: the write is sent again.
	answered func(status int, code, message string) error

	attempt   int
	notBefore time.Time
	lastError string
}

// assignmentWrites sends assignment writes 20 to a $batch, a bounded number
// of calls at once, so ten thousand take some hundred calls. Graph answers
// each write of a batch on its own: one throttled or met by a server error
// is sent again in the next round, after its Retry-After.
type assignmentWrites struct {
	graph       *graphclient.Client
	concurrency int
	// refused makes the activity's error of an error to a whole $batch
	// call that sending it again cannot fix (a 403, say).
	refused func(what string, err error) error
}

// send sends every write until each has an answer its answered accepts.
func (s assignmentWrites) send(ctx context.Context, writes []*assignmentWrite) error {
	for _, w := range writes {
		// The batch resolves the URL on a copy that shares the path
		// parameters: resolve it on the write, so a resend keeps it.
		if w.info.PathParameters["baseurl"] == "" {
			w.info.PathParameters["baseurl"] = s.graph.Adapter.GetBaseUrl()
		}
	}
	pending := writes
	for len(pending) > 0 {
		if err := sleepUntil(ctx, latestWriteNotBefore(pending)); err != nil {
			return err
		}
		var again []*assignmentWrite
		var mu sync.Mutex
		calls := (len(pending) + maxBatchRequests - 1) / maxBatchRequests
		err := progress.ForEach(ctx, s.concurrency, calls, func(ctx context.Context, c int) error {
			retry, err := s.sendBatch(ctx, pending[c*maxBatchRequests:min(len(pending), (c+1)*maxBatchRequests)])
			mu.Lock()
			again = append(again, retry...)
			mu.Unlock()
			return err
		})
		if err != nil {
			return err
		}
		pending = again
	}
	return nil
}

// sendBatch sends one $batch of writes and returns those to send again.
func (s assignmentWrites) sendBatch(ctx context.Context, writes []*assignmentWrite) ([]*assignmentWrite, error) {
	batch := msgraphcore.NewBatchRequest(s.graph.Adapter)
	ids := make([]string, len(writes))
	for i, w := range writes {
		item, err := batch.AddBatchRequestStep(*w.info)
		if err != nil {
			return nil, fmt.Errorf("%s: build the batch request: %w", w.what, err)
		}
		ids[i] = *item.GetId()
	}
	resp, err := sendBatch(ctx, s.graph.Adapter, batch)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if status := statusOf(err); status != 0 && !retryableStatus(status) {
			return nil, s.refused(writes[0].what+" (and the rest of its batch)", err)
		}
		return retryWrites(writes, func(*assignmentWrite) (time.Duration, string) {
			return 0, "an error to the whole batch (" + err.Error() + ")"
		})
	}

	var retry []*assignmentWrite
	for i, w := range writes {
		item := resp.item(ids[i])
		if item == nil || item.Status == 0 {
			retry = append(retry, w)
			w.lastError = "no answer in the batch response"
			continue
		}
		status := item.Status
		if retryableStatus(status) {
			wait, _ := retryAfter(item.Headers)
			w.notBefore = time.Now().Add(wait)
			w.lastError = fmt.Sprintf("HTTP %d", status)
			retry = append(retry, w)
			continue
		}
		code, message := subResponseError(item)
		if err := w.answered(status, code, message); err != nil {
			return nil, err
		}
	}
	return retryWrites(retry, nil)
}

// retryWrites counts an attempt of each write and returns them to send again,
// or an error once one has been tried maxAttempts times. reason, when set,
// gives the wait and the reason for all of them.
func retryWrites(writes []*assignmentWrite, reason func(*assignmentWrite) (time.Duration, string)) ([]*assignmentWrite, error) {
	for _, w := range writes {
		if reason != nil {
			wait, why := reason(w)
			w.notBefore, w.lastError = time.Now().Add(wait), why
		}
		w.attempt++
		if w.attempt >= maxAttempts {
			return nil, fmt.Errorf("%s: Microsoft Graph still answered %s after %d attempts; the activity is retried", w.what, w.lastError, w.attempt)
		}
		if wait := backoff(w.attempt - 1); time.Until(w.notBefore) < wait {
			w.notBefore = time.Now().Add(wait)
		}
	}
	return writes, nil
}

func latestWriteNotBefore(writes []*assignmentWrite) time.Time {
	var latest time.Time
	for _, w := range writes {
		if w.notBefore.After(latest) {
			latest = w.notBefore
		}
	}
	return latest
}
