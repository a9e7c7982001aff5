package sandbox

// The provisioning engine: what Entra's provisioning service does for the
// AWS IAM Identity Center app, against the SCIM endpoint and token saved as
// the service principal's secrets.
//
// A cycle provisions the groups assigned to the service principal and their
// direct user members (nested groups are not provisioned, as in Entra):
//
//   - a user is looked up by userName (filter userName eq "<UPN>") and
//     created when missing, with the gallery app's mappings: userName =
//     userPrincipalName, name.givenName, name.familyName = surname,
//     displayName, one primary work email = mail, externalId = the Entra
//     object ID, active;
//   - a group is looked up by displayName and created when missing
//     (externalId = the Entra object ID);
//   - a user or group found instead (one the target had already, which
//     Entra adopts) is updated by PATCH to follow the same mappings, when
//     it does not (graph_provision_match.go);
//   - members are added by PATCH, at most 100 to a request.
//
// The job remembers what it provisioned (Entra's watermark), so later cycles
// look up and add only what is new: no object is created twice and no
// member added twice. A restart forgets it and looks everything up again.
//
// An object that fails (a missing or invalid attribute, a duplicate the
// target refuses, any other error) is escrowed and retried by the next
// cycle; the cycle goes on. A 401 or 403 (a token deleted, expired or
// wrong) stops the cycle and quarantines the job until it is started or
// restarted; an endpoint that does not answer fails the cycle, and the next
// cycle tries again. Every cycle starts with the test validateCredentials
// makes, so a token deleted while nothing changes is noticed all the same.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/platformguide/ssocutover/internal/attrmap"
)

// provisionedState is what a job knows of the target: what it created or
// matched there, and what keeps failing.
type provisionedState struct {
	users   map[string]string          // Entra user ID -> SCIM user ID
	groups  map[string]string          // Entra group ID -> SCIM group ID
	members map[string]map[string]bool // Entra group ID -> Entra user IDs added
	escrows map[string]escrow          // objectKey -> why it failed last
}

func newProvisionedState() *provisionedState {
	return &provisionedState{
		users:   map[string]string{},
		groups:  map[string]string{},
		members: map[string]map[string]bool{},
		escrows: map[string]escrow{},
	}
}

type escrow struct {
	code, reason string
}

func objectKey(objectType, id string) string { return objectType + "/" + id }

// provisioningScope is what a cycle provisions: the assigned groups that
// exist, with their direct user members, read from the tenant at the
// cycle's start.
type provisioningScope struct {
	groups []scopeGroup
	users  map[string]scopeUser // by Entra ID
}

type scopeGroup struct {
	id, displayName string
	memberIDs       []string // direct user members, in the tenant's order
}

type scopeUser struct {
	id, userPrincipalName, mail, givenName, surname, displayName string
}

// entitled counts the users and groups in scope.
func (sc provisioningScope) entitled() int { return len(sc.groups) + len(sc.users) }

// scope reads the service principal's assigned groups and their direct user
// members from the tenant.
func (s *syncState) scope(spID string) provisioningScope {
	ids := s.directory().assignedGroupIDs(spID)
	state := s.graph.state
	state.mu.RLock()
	defer state.mu.RUnlock()
	sc := provisioningScope{users: map[string]scopeUser{}}
	for _, id := range ids {
		g := state.groupByID[id]
		if g == nil {
			continue // deleted since it was assigned
		}
		group := scopeGroup{id: g.ID, displayName: g.DisplayName}
		for _, u := range g.MemberUsers {
			group.memberIDs = append(group.memberIDs, u.ID)
			sc.users[u.ID] = scopeUser{
				id: u.ID, userPrincipalName: u.UserPrincipalName, mail: u.Mail,
				givenName: u.GivenName, surname: u.Surname, displayName: u.DisplayName,
			}
		}
		sc.groups = append(sc.groups, group)
	}
	return sc
}

// invalidCharacters make provisioning a user fail when an attribute the app
// sends holds one of them (DESIGN.md section 1).
const invalidCharacters = "\t\r\n\"<>|;:%"

// userProblem is why a user cannot be provisioned, if it cannot: an
// attribute AWS requires is sent empty, or an attribute sent holds a
// character that makes provisioning fail.
func userProblem(want scimNewUser) *escrow {
	for _, a := range []struct{ name, value string }{
		{"userName", want.UserName}, {"name.givenName", want.Name.GivenName},
		{"name.familyName", want.Name.FamilyName}, {"displayName", want.DisplayName},
	} {
		if strings.TrimSpace(a.value) == "" {
			return &escrow{code: "MissingRequiredAttribute",
				reason: fmt.Sprintf("The mappings send no %s for the user; AWS IAM Identity Center requires one. Set the attribute it is mapped from in Entra ID and the next cycle provisions the user.", a.name)}
		}
	}
	sent := []struct{ name, value string }{
		{"userName", want.UserName}, {"name.givenName", want.Name.GivenName},
		{"name.familyName", want.Name.FamilyName}, {"displayName", want.DisplayName},
	}
	for _, e := range want.Emails {
		sent = append(sent, struct{ name, value string }{"emails", e.Value})
	}
	for _, a := range sent {
		if i := strings.IndexAny(a.value, invalidCharacters); i >= 0 {
			return &escrow{code: "InvalidCharacter",
				reason: fmt.Sprintf("The user's %s holds the character %q, which provisioning to AWS IAM Identity Center cannot send. Change it in Entra ID.", a.name, a.value[i:i+1])}
		}
	}
	return nil
}

// provisioningRun is one cycle, or one on-demand request, of a job. It runs
// under the job's cycleMu.
type provisioningRun struct {
	s        *syncState
	job      *syncJob
	target   *provisionedState
	scim     *scimClient
	mappings attrmap.Compiled // the job's user mappings
	onDemand bool

	exported int             // successful writes
	failed   map[string]bool // objectKeys that failed in this run
	// stopped is the error that ended the run early: the token refused
	// (refused is true) or the endpoint not answering.
	stopped error
	refused bool
}

func (s *syncState) newRun(job *syncJob, c credentials, onDemand bool) *provisioningRun {
	return &provisioningRun{
		s: s, job: job, target: job.target, scim: newSCIMClient(s.scimHTTP, c),
		mappings: s.jobMappings(job), onDemand: onDemand, failed: map[string]bool{},
	}
}

// provisionScope provisions every group in scope: its users, the group,
// then its members.
func (p *provisioningRun) provisionScope(ctx context.Context, sc provisioningScope) {
	for _, g := range sc.groups {
		for _, id := range g.memberIDs {
			p.user(ctx, sc.users[id])
		}
		p.groupWithMembers(ctx, g, g.memberIDs)
		if p.stopped != nil {
			return
		}
	}
}

// groupWithMembers provisions the group and adds those of memberIDs that
// are provisioned users.
func (p *provisioningRun) groupWithMembers(ctx context.Context, g scopeGroup, memberIDs []string) {
	if groupID, ok := p.group(ctx, g); ok {
		p.members(ctx, g, groupID, memberIDs)
	}
}

// user returns the user's SCIM ID, looking it up or creating it if the job
// does not know it yet.
func (p *provisioningRun) user(ctx context.Context, u scopeUser) (string, bool) {
	key := objectKey("User", u.id)
	if p.stopped != nil || p.failed[key] {
		return "", false
	}
	if id, ok := p.target.users[u.id]; ok {
		return id, true
	}
	event := ProvisioningEvent{ObjectType: "User", SourceID: u.id, Name: u.userPrincipalName}
	want := mappedUser(u, p.mappings)
	if problem := userProblem(want); problem != nil {
		p.escrow(key, event, *problem)
		return "", false
	}
	id, err := p.matchOrCreateUser(ctx, want, &event)
	if err != nil {
		p.fail(key, event, err)
		return "", false
	}
	p.target.users[u.id] = id
	p.succeed(key, event, id)
	return id, true
}

// matchOrCreateUser adopts the target's user of the userName the mappings
// send (the matching attribute), updated
// to follow the mappings, or creates the user; event gets what was done.
func (p *provisioningRun) matchOrCreateUser(ctx context.Context, want scimNewUser, event *ProvisioningEvent) (string, error) {
	var found scimFoundUser
	matched, err := p.scim.findOne(ctx, "Users", "userName", want.UserName, &found)
	if err != nil {
		return "", err
	}
	if !matched {
		event.Action = ProvisioningCreated
		id, err := p.scim.createUser(ctx, want)
		if err == nil {
			p.exported++
		}
		return id, err
	}
	event.Action, event.TargetID = ProvisioningMatched, found.ID
	return found.ID, p.update(ctx, "Users", found.ID, userReplacements(found.scimNewUser, want), event)
}

// group returns the group's SCIM ID, looking it up by display name or
// creating it if the job does not know it yet.
func (p *provisioningRun) group(ctx context.Context, g scopeGroup) (string, bool) {
	key := objectKey("Group", g.id)
	if p.stopped != nil || p.failed[key] {
		return "", false
	}
	if id, ok := p.target.groups[g.id]; ok {
		return id, true
	}
	event := ProvisioningEvent{ObjectType: "Group", SourceID: g.id, Name: g.displayName}
	id, err := p.matchOrCreateGroup(ctx, g, &event)
	if err != nil {
		p.fail(key, event, err)
		return "", false
	}
	p.target.groups[g.id] = id
	p.succeed(key, event, id)
	return id, true
}

// matchOrCreateGroup adopts the target's group of the same displayName,
// updated to follow the mappings, or creates the group; event gets what
// was done.
func (p *provisioningRun) matchOrCreateGroup(ctx context.Context, g scopeGroup, event *ProvisioningEvent) (string, error) {
	var found scimFoundGroup
	matched, err := p.scim.findOne(ctx, "Groups", "displayName", g.displayName, &found)
	if err != nil {
		return "", err
	}
	if !matched {
		event.Action = ProvisioningCreated
		id, err := p.scim.createGroup(ctx, g.displayName, g.id)
		if err == nil {
			p.exported++
		}
		return id, err
	}
	event.Action, event.TargetID = ProvisioningMatched, found.ID
	return found.ID, p.update(ctx, "Groups", found.ID, groupReplacements(found, g), event)
}

// members adds to the group the users of memberIDs the job provisioned and
// has not added yet, scimMaxMemberChanges to a PATCH.
func (p *provisioningRun) members(ctx context.Context, g scopeGroup, groupID string, memberIDs []string) {
	added := p.target.members[g.id]
	if added == nil {
		added = map[string]bool{}
		p.target.members[g.id] = added
	}
	var pending []string // Entra IDs
	for _, id := range memberIDs {
		if _, provisioned := p.target.users[id]; provisioned && !added[id] && !slices.Contains(pending, id) {
			pending = append(pending, id)
		}
	}
	key := objectKey("Group", g.id)
	for chunk := range slices.Chunk(pending, scimMaxMemberChanges) {
		if p.stopped != nil {
			return
		}
		scimIDs := make([]string, len(chunk))
		for i, id := range chunk {
			scimIDs[i] = p.target.users[id]
		}
		event := ProvisioningEvent{ObjectType: "Group", SourceID: g.id, Name: g.displayName, Action: ProvisioningMembersAdded, Members: len(chunk)}
		if err := p.scim.addMembers(ctx, groupID, scimIDs); err != nil {
			p.fail(key, event, err)
			return
		}
		for _, id := range chunk {
			added[id] = true
		}
		p.exported++
		p.succeed(key, event, groupID)
	}
}

// succeed records a write or match and lifts the object's escrow.
func (p *provisioningRun) succeed(key string, event ProvisioningEvent, targetID string) {
	if !p.failed[key] {
		delete(p.target.escrows, key)
	}
	event.TargetID = targetID
	event.Status = ProvisioningSuccess
	p.record(event)
}

// fail records a failed call: a refused token or an endpoint that does not
// answer stops the run; anything else escrows the object.
func (p *provisioningRun) fail(key string, event ProvisioningEvent, err error) {
	call, _ := err.(*scimCallError)
	switch {
	case isUnauthorized(err):
		p.stopped, p.refused = err, true
	case call == nil || call.status == 0:
		p.stopped = err
	case call.status == http.StatusConflict:
		p.escrow(key, event, escrow{code: "DuplicateInTarget",
			reason: "AWS IAM Identity Center refused it as a duplicate (" + call.detail + "): another user there has the same userName or email, or another group the same displayName."})
	default:
		p.escrow(key, event, escrow{code: fmt.Sprintf("SCIM%d", call.status), reason: call.Error()})
	}
	if p.stopped != nil {
		event.Status = ProvisioningFailure
		event.ErrorCode = "TargetUnavailable"
		if p.refused {
			event.ErrorCode = credentialFailureCode
		}
		event.Reason = p.stopped.Error()
		p.record(event)
	}
}

// escrow records an object that failed; the next cycle tries it again.
func (p *provisioningRun) escrow(key string, event ProvisioningEvent, why escrow) {
	p.failed[key] = true
	p.target.escrows[key] = why
	event.Status = ProvisioningFailure
	event.ErrorCode, event.Reason = why.code, why.reason
	p.record(event)
}

func (p *provisioningRun) record(event ProvisioningEvent) {
	event.JobID = p.job.id
	event.OnDemand = p.onDemand
	event.Time = time.Now().UTC()
	p.s.mu.Lock()
	p.s.log.add(event)
	p.s.mu.Unlock()
}

// credentialFailureCode is the error code Entra gives a job whose SCIM
// endpoint refuses its token.
const credentialFailureCode = "SystemForCrossDomainIdentityManagementCredentialValidationFailure"

// runCycle runs one cycle of the job, unless the job stopped while the
// cycle waited for the previous one (or an on-demand run) to end.
func (s *syncState) runCycle(job *syncJob, generation int) {
	job.cycleMu.Lock()
	defer job.cycleMu.Unlock()
	if !s.current(job, generation) {
		return
	}
	began := time.Now().UTC()
	s.applyPendingReset(job)

	c, ok := s.savedCredentials(job.servicePrincipalID)
	if !ok {
		s.quarantine(job, began, &syncError{code: credentialFailureCode, tenantActionable: true,
			message: "No SCIM endpoint and token are saved (BaseAddress, SecretToken). Save them with PUT .../synchronization/secrets, then start the job."})
		return
	}
	sc := s.scope(job.servicePrincipalID)
	run := s.newRun(job, c, false)
	if run.testConnection(s.ctx) {
		run.provisionScope(s.ctx, sc)
	}
	if run.stopped == nil {
		run.forgetEscrowsOutOfScope(sc)
	}
	s.finishCycle(job, run, sc, began)
}

// forgetEscrowsOutOfScope drops the escrows of objects a whole cycle no
// longer provisions (unassigned, or no longer a member of an assigned
// group): they are not failing any more, only gone.
func (p *provisioningRun) forgetEscrowsOutOfScope(sc provisioningScope) {
	inScope := map[string]bool{}
	for _, g := range sc.groups {
		inScope[objectKey("Group", g.id)] = true
	}
	for id := range sc.users {
		inScope[objectKey("User", id)] = true
	}
	for key := range p.target.escrows {
		if !inScope[key] {
			delete(p.target.escrows, key)
		}
	}
}

// testConnection starts every cycle, as Entra's does: without it a cycle
// with nothing new to write would never notice a deleted or expired token.
func (p *provisioningRun) testConnection(ctx context.Context) bool {
	err := p.scim.probe(ctx, newRandomUUID())
	if err != nil {
		p.stopped, p.refused = err, isUnauthorized(err)
	}
	return err == nil
}

// applyPendingReset forgets what a restart asked to forget.
func (s *syncState) applyPendingReset(job *syncJob) {
	s.mu.Lock()
	reset := job.pendingReset
	job.pendingReset = 0
	s.mu.Unlock()
	if reset&resetWatermark != 0 {
		escrows := job.target.escrows
		job.target = newProvisionedState()
		job.target.escrows = escrows
	}
	if reset&resetEscrows != 0 {
		job.target.escrows = map[string]escrow{}
	}
}

// finishCycle records the cycle's outcome in the job's status.
func (s *syncState) finishCycle(job *syncJob, run *provisioningRun, sc provisioningScope, began time.Time) {
	if run.refused {
		s.quarantine(job, began, &syncError{code: credentialFailureCode, tenantActionable: true,
			message: "While attempting to validate our authorization to access your application, we received this unexpected response: " +
				run.stopped.Error() + ". The SCIM token may have been deleted or have expired: create a new one in the IAM Identity Center console, save it as the SecretToken, and restart the job."})
		return
	}
	now := time.Now().UTC()
	exec := &taskExecution{
		activityID: newRandomUUID(), began: began, ended: now,
		countEntitled: sc.entitled(), countExported: run.exported, countEscrowed: len(job.target.escrows),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &job.status
	st.users, st.groups = len(job.target.users), len(job.target.groups)
	switch {
	case run.stopped != nil:
		exec.state = "Failed"
		exec.err = &syncError{code: "TargetUnavailable", message: run.stopped.Error() + ". The next cycle tries again.", tenantActionable: true}
		st.countSuccessiveCompleteFailures++
	case len(run.failed) > 0:
		exec.state = "EntryLevelErrors"
		st.countSuccessiveCompleteFailures = 0
	default:
		exec.state = "Succeeded"
		st.countSuccessiveCompleteFailures = 0
		st.lastSuccessfulExecution = exec
		if run.exported > 0 {
			st.lastSuccessfulExecutionWithExports = exec
		}
	}
	// Steady state: a whole cycle that found nothing left to write.
	if run.stopped == nil && run.exported == 0 {
		if st.steadyStateFirstAchieved.IsZero() {
			st.steadyStateFirstAchieved = now
		}
		st.steadyStateLastAchieved = now
	}
	st.lastExecution = exec
}

// quarantine puts the job in quarantine (reason
// EncounteredQuarantineException): its cycles stop until it is started or
// restarted.
func (s *syncState) quarantine(job *syncJob, began time.Time, why *syncError) {
	now := time.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &job.status
	st.users, st.groups = len(job.target.users), len(job.target.groups)
	st.countSuccessiveCompleteFailures++
	st.lastExecution = &taskExecution{
		activityID: newRandomUUID(), state: "Failed", began: began, ended: now,
		countEscrowed: len(job.target.escrows), err: why,
	}
	st.quarantine = &quarantine{reason: "EncounteredQuarantineException", currentBegan: now, seriesBegan: now, err: why}
}
