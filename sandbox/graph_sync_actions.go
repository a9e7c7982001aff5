package sandbox

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// validateCredentials tests credentials as Entra's "Test connection" does:
// it asks the SCIM endpoint, with the token, for a user that cannot exist,
// and expects an empty list. 204 when that works; 400 with what came back
// when not. The saved credentials are tested when useSavedCredentials is
// set, else the ones in the body.
func (s *syncState) validateCredentials(w http.ResponseWriter, r *http.Request, job *syncJob) *graphError {
	var body struct {
		UseSavedCredentials bool         `json:"useSavedCredentials"`
		Credentials         []secretPair `json:"credentials"`
	}
	if err := decodeGraphBody(r, &body); err != nil {
		return err
	}
	var c credentials
	var ok bool
	if body.UseSavedCredentials {
		if c, ok = s.savedCredentials(job.servicePrincipalID); !ok {
			return graphBadRequest("No credentials are saved for this application: save the BaseAddress and SecretToken with PUT .../synchronization/secrets, or pass them as credentials.")
		}
	} else {
		given := map[string]string{}
		for _, p := range body.Credentials {
			given[p.Key] = p.Value
		}
		if c, ok = credentialsFrom(given); !ok {
			return graphBadRequest("The credentials need a BaseAddress (the SCIM endpoint) and a SecretToken.")
		}
	}
	if err := newSCIMClient(s.scimHTTP, c).probe(r.Context(), newRandomUUID()); err != nil {
		return &graphError{Status: http.StatusBadRequest, Code: "BadRequest",
			Message: "Error code: " + credentialFailureCode + ". While attempting to validate our authorization to access your application, we received this unexpected response: " +
				err.Error() + ". Check the Tenant URL (BaseAddress) and the Secret Token."}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// On-demand provisioning's limits, as Entra documents them: one request
// takes a single user, or a single group with up to five of its members
// (only those members are provisioned with it); the API takes five requests
// per ten seconds.
const (
	onDemandMaxMembers  = 5
	onDemandRateLimit   = 5
	onDemandRateWindow  = 10 * time.Second
	onDemandLimitReason = "The on-demand provisioning request can only accept a single user, or a single group with up to 5 members, at a time."
)

// onDemandSubject is a synchronizationJobSubject.
type onDemandSubject struct {
	ObjectID       string `json:"objectId"`
	ObjectTypeName string `json:"objectTypeName"`
	Links          *struct {
		Members []onDemandSubject `json:"members"`
	} `json:"links"`
}

// onDemandOutcome is the answer: Graph returns a stringKeyStringValuePair
// whose key is {"result", "details"} and whose value describes the change,
// both as JSON text.
type onDemandOutcome struct {
	result    string // Success, Skipped or Failure
	errorCode string
	message   string
	action    string // Create or Other
	name      string
	subject   onDemandSubject
	targetID  string
}

// provisionOnDemand provisions one user, or one group and up to five of its
// members, at once, whether or not the job runs. Only what a cycle would
// provision is provisioned: a group assigned to the app, or a direct member
// of one.
func (s *syncState) provisionOnDemand(w http.ResponseWriter, r *http.Request, job *syncJob) *graphError {
	var body struct {
		Parameters []struct {
			RuleID   string            `json:"ruleId"`
			Subjects []onDemandSubject `json:"subjects"`
		} `json:"parameters"`
	}
	if err := decodeGraphBody(r, &body); err != nil {
		return err
	}
	if len(body.Parameters) != 1 || len(body.Parameters[0].Subjects) != 1 {
		return graphBadRequest(onDemandLimitReason)
	}
	if rule := body.Parameters[0].RuleID; rule != awsSyncRuleID {
		return graphBadRequest("The rule '%s' is not a synchronization rule of this job; read the rule IDs from .../jobs/{jobId}/schema.", rule)
	}
	subject := body.Parameters[0].Subjects[0]
	var members []onDemandSubject
	if subject.Links != nil {
		members = subject.Links.Members
	}
	switch {
	case strings.EqualFold(subject.ObjectTypeName, "Group") && len(members) > onDemandMaxMembers:
		return graphBadRequest(onDemandLimitReason)
	case strings.EqualFold(subject.ObjectTypeName, "Group"):
		for _, m := range members {
			if !strings.EqualFold(m.ObjectTypeName, "User") {
				return graphBadRequest("Group members provisioned on demand must be users; '%s' is a %s.", m.ObjectID, m.ObjectTypeName)
			}
		}
	case strings.EqualFold(subject.ObjectTypeName, "User"):
	default:
		return graphBadRequest("objectTypeName must be User or Group, not '%s'.", subject.ObjectTypeName)
	}
	if wait, limited := s.onDemandRateLimited(job); limited {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		return &graphError{Status: http.StatusTooManyRequests, Code: "TooManyRequests",
			Message: "provisionOnDemand takes at most 5 requests per 10 seconds; retry after the time in the Retry-After header."}
	}

	outcome := s.runOnDemand(r, job, subject, members)
	writeGraphJSON(w, http.StatusOK, outcome.render(r))
	return nil
}

// onDemandRateLimited counts this call against the job's rate limit and
// says how long to wait when it is over it.
func (s *syncState) onDemandRateLimited(job *syncJob) (time.Duration, bool) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	recent := job.onDemandCalls[:0]
	for _, t := range job.onDemandCalls {
		if now.Sub(t) < onDemandRateWindow {
			recent = append(recent, t)
		}
	}
	job.onDemandCalls = recent
	if len(recent) >= onDemandRateLimit {
		return recent[0].Add(onDemandRateWindow).Sub(now), true
	}
	job.onDemandCalls = append(job.onDemandCalls, now)
	return 0, false
}

// runOnDemand provisions the subject between the job's cycles.
func (s *syncState) runOnDemand(r *http.Request, job *syncJob, subject onDemandSubject, members []onDemandSubject) onDemandOutcome {
	out := onDemandOutcome{subject: subject, action: "Other"}
	c, ok := s.savedCredentials(job.servicePrincipalID)
	if !ok {
		out.result, out.errorCode = "Failure", credentialFailureCode
		out.message = "No SCIM endpoint and token are saved (BaseAddress, SecretToken): save them with PUT .../synchronization/secrets."
		return out
	}
	job.cycleMu.Lock()
	defer job.cycleMu.Unlock()
	sc := s.scope(job.servicePrincipalID)
	run := s.newRun(job, c, true)
	if strings.EqualFold(subject.ObjectTypeName, "Group") {
		s.onDemandGroup(r, run, sc, subject, members, &out)
	} else {
		s.onDemandUser(r, run, sc, subject, &out)
	}
	s.mu.Lock()
	job.status.users, job.status.groups = len(job.target.users), len(job.target.groups)
	s.mu.Unlock()
	return out
}

func (s *syncState) onDemandGroup(r *http.Request, run *provisioningRun, sc provisioningScope, subject onDemandSubject, members []onDemandSubject, out *onDemandOutcome) {
	i := slices.IndexFunc(sc.groups, func(g scopeGroup) bool { return g.id == subject.ObjectID })
	if i < 0 {
		out.result, out.errorCode = "Skipped", "NotEffectivelyEntitled"
		out.message = "The group is not assigned to the application, so provisioning does not provision it. Assign it to the application first."
		return
	}
	g := sc.groups[i]
	out.name = g.displayName
	var memberIDs []string
	for _, m := range members {
		if slices.Contains(g.memberIDs, m.ObjectID) && !slices.Contains(memberIDs, m.ObjectID) {
			memberIDs = append(memberIDs, m.ObjectID)
			run.user(r.Context(), sc.users[m.ObjectID])
		}
	}
	run.groupWithMembers(r.Context(), g, memberIDs)
	out.targetID = run.target.groups[g.id]
	out.settle(run, "group")
}

func (s *syncState) onDemandUser(r *http.Request, run *provisioningRun, sc provisioningScope, subject onDemandSubject, out *onDemandOutcome) {
	u, inScope := sc.users[subject.ObjectID]
	if !inScope {
		out.result, out.errorCode = "Skipped", "NotEffectivelyEntitled"
		out.message = "The user is not a direct member of a group assigned to the application, so provisioning does not provision it."
		return
	}
	out.name = u.userPrincipalName
	out.targetID, _ = run.user(r.Context(), u)
	out.settle(run, "user")
}

// settle turns the run's result into the outcome.
func (out *onDemandOutcome) settle(run *provisioningRun, kind string) {
	switch {
	case run.stopped != nil:
		out.result, out.errorCode = "Failure", "TargetUnavailable"
		if run.refused {
			out.errorCode = credentialFailureCode
		}
		out.message = run.stopped.Error()
	case len(run.failed) > 0:
		out.result = "Failure"
		for key := range run.failed {
			why := run.target.escrows[key]
			out.errorCode, out.message = why.code, why.reason
			break
		}
	case run.exported == 0:
		out.result, out.errorCode = "Skipped", "RedundantExport"
		out.message = "The state of the " + kind + " in both the source and target systems already match."
	default:
		out.result, out.action = "Success", "Create"
	}
}

func (out onDemandOutcome) render(r *http.Request) map[string]any {
	details := map[string]any{}
	if out.errorCode != "" {
		details = map[string]any{"errorCode": out.errorCode, "errorMessage": out.message}
	}
	key, _ := json.Marshal(map[string]any{"result": out.result, "details": details})
	value, _ := json.Marshal(map[string]any{
		"action":               out.action,
		"reportableIdentifier": out.name,
		"sourceIdentity":       map[string]any{"id": out.subject.ObjectID, "type": out.subject.ObjectTypeName},
		"targetIdentity":       map[string]any{"id": out.targetID, "type": out.subject.ObjectTypeName},
		"statusInfo":           map[string]any{"status": out.result, "errorCode": nullable(out.errorCode), "reason": nullable(out.message)},
	})
	return map[string]any{
		"@odata.context": graphServiceRoot(r) + "/$metadata#microsoft.graph.stringKeyStringValuePair",
		"key":            string(key),
		"value":          string(value),
	}
}
