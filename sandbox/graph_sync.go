package sandbox

// The provisioning (synchronization) API of Microsoft Graph v1.0 under
// /servicePrincipals/{id}/synchronization, as msgraph-sdk-go calls it:
//
//	GET    .../templates                      the app's one template (aWSSingleSignon)
//	GET    .../templates/{templateId}
//	PUT    .../secrets                        the credentials (replaces the saved set)
//	GET    .../jobs                           list; POST {templateId}: create (201)
//	GET    .../jobs/{jobId}                   the job and its status; DELETE: delete (204)
//	GET    .../templates/{templateId}/schema  (graph_sync_schema.go)
//	GET    .../jobs/{jobId}/schema            the mappings and the rule provisionOnDemand names
//	PUT    .../jobs/{jobId}/schema            changed mappings (PATCH alike; graph_sync_schema.go)
//	POST   .../jobs/{jobId}/start | pause | restart
//	POST   .../jobs/{jobId}/validateCredentials
//	POST   .../jobs/{jobId}/provisionOnDemand (graph_sync_ondemand.go)
//
// The secrets stay here: no endpoint returns them, and no error or log
// carries the token. A started job provisions the service principal's
// assigned groups to the SCIM endpoint of its BaseAddress
// (graph_provision*.go).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/platformguide/ssocutover/sandbox/world"
)

// The AWS IAM Identity Center gallery app's provisioning template, as Entra
// names it: the template ID is its factory tag, and job IDs are
// "<templateId>.<tenant without dashes>.<GUID>".
const (
	awsSyncTemplateID = "aWSSingleSignon"
	awsSyncFactoryTag = "aWSSingleSignon"
	// awsSyncRuleID is the template's outbound rule, the one
	// provisionOnDemand names (it is the same in every tenant).
	awsSyncRuleID = "03f7d90d-bf71-41b1-bda6-aaf0ddbee5d8"
)

// DefaultProvisioningInterval is the time between two provisioning cycles of
// a sandbox that sets no GraphOptions.ProvisioningInterval. Entra's is 40
// minutes; the sandbox's is short so a demo converges at once.
const DefaultProvisioningInterval = 2 * time.Second

// provisioningInterval is the interval o asks for.
func (o GraphOptions) provisioningInterval() time.Duration {
	if o.ProvisioningInterval > 0 {
		return o.ProvisioningInterval
	}
	return DefaultProvisioningInterval
}

// appDirectory is what provisioning needs of the tenant's enterprise apps:
// appState, or what a test puts in its place.
type appDirectory interface {
	servicePrincipalExists(id string) bool
	assignedGroupIDs(servicePrincipalID string) []string
}

// syncState holds the service principals' provisioning (synchronization)
// jobs and secrets, and runs the provisioning engine.
type syncState struct {
	graph *graphServer
	// scimHTTP sends the engine's and validateCredentials' SCIM requests.
	scimHTTP *http.Client

	// ctx ends when the sandbox closes; runners waits for the engine's
	// goroutines.
	ctx     context.Context
	cancel  context.CancelFunc
	runners sync.WaitGroup
	// live counts the runners under way, so that a test can wait for a
	// paused or quarantined job's runner to end instead of sleeping.
	live atomic.Int64

	mu sync.Mutex
	// apps is read through directory(); tests put their own in its place.
	apps    appDirectory
	secrets map[string]map[string]string // service principal ID -> key -> value
	jobs    map[string][]*syncJob        // service principal ID -> jobs, oldest first
	jobSeq  int
	log     provisioningLog
}

func newSyncState(g *graphServer) *syncState {
	ctx, cancel := context.WithCancel(context.Background())
	return &syncState{
		graph:    g,
		apps:     g.apps,
		scimHTTP: &http.Client{Timeout: 30 * time.Second},
		ctx:      ctx,
		cancel:   cancel,
		secrets:  map[string]map[string]string{},
		jobs:     map[string][]*syncJob{},
	}
}

// directory is the tenant's enterprise apps.
func (s *syncState) directory() appDirectory {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apps
}

// serve answers /servicePrincipals/{id}/synchronization/{rest...}.
func (s *syncState) serve(w http.ResponseWriter, r *http.Request, servicePrincipalID string, rest []string) {
	if !s.directory().servicePrincipalExists(servicePrincipalID) {
		writeGraphError(w, graphNotFound(servicePrincipalID))
		return
	}
	if err := s.route(w, r, servicePrincipalID, rest); err != nil {
		writeGraphError(w, err)
	}
}

func (s *syncState) route(w http.ResponseWriter, r *http.Request, spID string, rest []string) *graphError {
	switch {
	case rest[0] == "templates" && len(rest) == 1 && r.Method == http.MethodGet:
		writeGraphJSON(w, http.StatusOK, map[string]any{
			"@odata.context": graphServiceRoot(r) + "/$metadata#servicePrincipals('" + spID + "')/synchronization/templates",
			"value":          []any{awsSyncTemplate()},
		})
		return nil
	case rest[0] == "templates" && len(rest) == 2 && r.Method == http.MethodGet:
		if rest[1] != awsSyncTemplateID {
			return graphNotFound(rest[1])
		}
		body := awsSyncTemplate()
		body["@odata.context"] = graphServiceRoot(r) + "/$metadata#servicePrincipals('" + spID + "')/synchronization/templates/$entity"
		writeGraphJSON(w, http.StatusOK, body)
		return nil
	case rest[0] == "templates" && len(rest) == 3 && rest[2] == "schema" && r.Method == http.MethodGet:
		if rest[1] != awsSyncTemplateID {
			return graphNotFound(rest[1])
		}
		body := awsSyncSchema()
		body["@odata.context"] = graphServiceRoot(r) + "/$metadata#servicePrincipals('" + spID + "')/synchronization/templates('" + rest[1] + "')/schema/$entity"
		writeGraphJSON(w, http.StatusOK, body)
		return nil
	case rest[0] == "secrets" && len(rest) == 1 && r.Method == http.MethodPut:
		return s.putSecrets(w, r, spID)
	case rest[0] == "jobs" && len(rest) == 1 && r.Method == http.MethodGet:
		return s.listJobs(w, r, spID)
	case rest[0] == "jobs" && len(rest) == 1 && r.Method == http.MethodPost:
		return s.createJob(w, r, spID)
	case rest[0] == "jobs" && len(rest) >= 2:
		job := s.job(spID, rest[1])
		if job == nil {
			return graphNotFound(rest[1])
		}
		return s.routeJob(w, r, job, rest[2:])
	}
	return &graphError{Status: http.StatusBadRequest, Code: "BadRequest",
		Message: fmt.Sprintf("The sandbox does not serve %s %s.", r.Method, r.URL.Path)}
}

// routeJob answers /jobs/{jobId}[/action].
func (s *syncState) routeJob(w http.ResponseWriter, r *http.Request, job *syncJob, rest []string) *graphError {
	action := ""
	if len(rest) == 1 {
		action = rest[0]
	}
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		body := s.renderJob(job)
		body["@odata.context"] = graphServiceRoot(r) + "/$metadata#servicePrincipals('" + job.servicePrincipalID + "')/synchronization/jobs/$entity"
		writeGraphJSON(w, http.StatusOK, body)
		return nil
	case len(rest) == 0 && r.Method == http.MethodDelete:
		s.deleteJob(job)
		w.WriteHeader(http.StatusNoContent)
		return nil
	case action == "schema" && (r.Method == http.MethodPut || r.Method == http.MethodPatch):
		return s.putSchema(w, r, job)
	case action == "schema" && r.Method == http.MethodGet:
		body := s.schemaOf(job)
		body["@odata.context"] = graphServiceRoot(r) + "/$metadata#servicePrincipals('" + job.servicePrincipalID + "')/synchronization/jobs('" + job.id + "')/schema/$entity"
		writeGraphJSON(w, http.StatusOK, body)
		return nil
	case r.Method != http.MethodPost || len(rest) != 1:
	case action == "start":
		return s.startJob(w, job)
	case action == "pause":
		s.pauseJob(job)
		w.WriteHeader(http.StatusNoContent)
		return nil
	case action == "restart":
		return s.restartJob(w, r, job)
	case action == "validateCredentials":
		return s.validateCredentials(w, r, job)
	case action == "provisionOnDemand":
		return s.provisionOnDemand(w, r, job)
	}
	return &graphError{Status: http.StatusBadRequest, Code: "BadRequest",
		Message: fmt.Sprintf("The sandbox does not serve %s %s.", r.Method, r.URL.Path)}
}

// awsSyncTemplate is the gallery app's synchronization template.
func awsSyncTemplate() map[string]any {
	return map[string]any{
		"id":            awsSyncTemplateID,
		"factoryTag":    awsSyncFactoryTag,
		"applicationId": nil,
		"default":       true,
		"description":   "Provision users and groups to AWS IAM Identity Center over SCIM 2.0",
		"discoverable":  true,
		"metadata":      []any{},
	}
}

// awsSyncSchema is the job's schema, reduced to its one rule and the
// attribute mappings the engine applies (the gallery app's defaults).
func awsSyncSchema() map[string]any {
	mapping := func(source, target string, matching int) map[string]any {
		return map[string]any{
			"source":                  map[string]any{"expression": "[" + source + "]", "name": source, "type": "Attribute", "parameters": []any{}},
			"targetAttributeName":     target,
			"matchingPriority":        matching,
			"flowType":                "Always",
			"flowBehavior":            "FlowWhenChanged",
			"defaultValue":            "",
			"exportMissingReferences": false,
		}
	}
	return map[string]any{
		"id":      awsSyncTemplateID,
		"version": "Date:" + time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339),
		"directories": []any{
			map[string]any{"id": "AzureActiveDirectory", "name": "Azure Active Directory"},
			map[string]any{"id": "customappsso", "name": "customappsso"},
		},
		"synchronizationRules": []any{map[string]any{
			"id":                  awsSyncRuleID,
			"name":                "USER_GROUP_OUTBOUND",
			"editable":            true,
			"priority":            1,
			"sourceDirectoryName": "Azure Active Directory",
			"targetDirectoryName": "customappsso",
			"metadata":            []any{},
			"objectMappings": []any{
				map[string]any{
					"name": "Provision Microsoft Entra ID Users", "enabled": true, "flowTypes": "Add, Update, Delete",
					"sourceObjectName": "User", "targetObjectName": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
					"attributeMappings": []any{
						mapping("userPrincipalName", "userName", 1),
						mapping("givenName", "name.givenName", 0),
						mapping("surname", "name.familyName", 0),
						mapping("displayName", "displayName", 0),
						mapping("mail", `emails[type eq "work"].value`, 0),
						mapping("objectId", "externalId", 0),
					},
				},
				map[string]any{
					"name": "Provision Microsoft Entra ID Groups", "enabled": true, "flowTypes": "Add, Update, Delete",
					"sourceObjectName": "Group", "targetObjectName": "urn:ietf:params:scim:schemas:core:2.0:Group",
					"attributeMappings": []any{
						mapping("displayName", "displayName", 1),
						mapping("objectId", "externalId", 0),
						mapping("members", "members", 0),
					},
				},
			},
		}},
	}
}

// decodeGraphBody reads a JSON request body into v (an empty body leaves v
// as it is).
func decodeGraphBody(r *http.Request, v any) *graphError {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		return graphBadRequest("The request body could not be read: %v", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		// The decoder's message quotes no value, only types and offsets.
		return &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: "Invalid request body: " + err.Error()}
	}
	return nil
}

// secretPair is a synchronizationSecretKeyStringValuePair.
type secretPair struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// putSecrets saves the service principal's credentials. A PUT replaces the
// whole set, as PUT does: a key left out is no longer saved.
func (s *syncState) putSecrets(w http.ResponseWriter, r *http.Request, spID string) *graphError {
	var body struct {
		Value []secretPair `json:"value"`
	}
	if err := decodeGraphBody(r, &body); err != nil {
		return err
	}
	saved := map[string]string{}
	for _, p := range body.Value {
		if p.Key == "" {
			return graphBadRequest("Every secret needs a key.")
		}
		saved[p.Key] = p.Value
	}
	s.mu.Lock()
	s.secrets[spID] = saved
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// credentials are what the engine needs of the secrets.
type credentials struct {
	baseAddress string
	token       string
}

func credentialsFrom(secrets map[string]string) (credentials, bool) {
	c := credentials{baseAddress: strings.TrimSpace(secrets["BaseAddress"]), token: secrets["SecretToken"]}
	return c, c.baseAddress != "" && c.token != ""
}

// savedCredentials returns the service principal's saved credentials.
func (s *syncState) savedCredentials(spID string) (credentials, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return credentialsFrom(s.secrets[spID])
}

// job returns the job with this ID of the service principal, or nil.
func (s *syncState) job(spID, jobID string) *syncJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs[spID] {
		if j.id == jobID {
			return j
		}
	}
	return nil
}

func (s *syncState) listJobs(w http.ResponseWriter, r *http.Request, spID string) *graphError {
	s.mu.Lock()
	jobs := append([]*syncJob(nil), s.jobs[spID]...)
	s.mu.Unlock()
	value := make([]any, 0, len(jobs))
	for _, j := range jobs {
		value = append(value, s.renderJob(j))
	}
	writeGraphJSON(w, http.StatusOK, map[string]any{
		"@odata.context": graphServiceRoot(r) + "/$metadata#servicePrincipals('" + spID + "')/synchronization/jobs",
		"value":          value,
	})
	return nil
}

// createJob creates a job from the template; like Entra, it does not stop a
// second job of the same template (callers look before they create).
func (s *syncState) createJob(w http.ResponseWriter, r *http.Request, spID string) *graphError {
	var body struct {
		TemplateID string `json:"templateId"`
	}
	if err := decodeGraphBody(r, &body); err != nil {
		return err
	}
	if body.TemplateID != awsSyncTemplateID {
		return graphBadRequest("The template '%s' is not a synchronization template of this application; list .../synchronization/templates for its templates.", body.TemplateID)
	}
	s.mu.Lock()
	s.jobSeq++
	tenant := strings.ReplaceAll(world.StableID("sync-tenant", spID), "-", "")
	job := &syncJob{
		id:                 body.TemplateID + "." + tenant + "." + world.StableID("sync-job", fmt.Sprint(spID, "/", s.jobSeq)),
		templateID:         body.TemplateID,
		servicePrincipalID: spID,
		schedule:           scheduleDisabled,
		target:             newProvisionedState(),
	}
	s.jobs[spID] = append(s.jobs[spID], job)
	s.mu.Unlock()

	out := s.renderJob(job)
	out["@odata.context"] = graphServiceRoot(r) + "/$metadata#servicePrincipals('" + spID + "')/synchronization/jobs/$entity"
	writeGraphJSON(w, http.StatusCreated, out)
	return nil
}

// deleteJob stops the job and forgets it and all it knew.
func (s *syncState) deleteJob(job *syncJob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	job.generation++
	job.deleted = true
	jobs := s.jobs[job.servicePrincipalID]
	for i, j := range jobs {
		if j == job {
			s.jobs[job.servicePrincipalID] = append(jobs[:i:i], jobs[i+1:]...)
			break
		}
	}
}

// startJob starts the job's cycles (the first at once), or resumes a paused
// one, and lifts a quarantine. Starting an active job is harmless.
func (s *syncState) startJob(w http.ResponseWriter, job *syncJob) *graphError {
	if _, ok := s.savedCredentials(job.servicePrincipalID); !ok {
		return graphBadRequest("The job cannot start without credentials: save the BaseAddress and SecretToken with PUT .../synchronization/secrets first.")
	}
	s.mu.Lock()
	running := job.schedule == scheduleActive && job.status.quarantine == nil
	if !running {
		job.schedule = scheduleActive
		job.status.quarantine = nil
		s.launchRunner(job)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pauseJob stops the job's cycles; what it provisioned and knows is kept.
func (s *syncState) pauseJob(job *syncJob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if job.schedule == scheduleActive {
		job.schedule = schedulePaused
		job.generation++
	}
}

// restartJob makes the job reprocess every object from the start: the next
// cycle forgets what the job provisioned (and, by the criteria's resetScope,
// its escrows) and looks every object up again. The quarantine is lifted and
// the job runs at once.
func (s *syncState) restartJob(w http.ResponseWriter, r *http.Request, job *syncJob) *graphError {
	var body struct {
		Criteria *struct {
			ResetScope string `json:"resetScope"`
		} `json:"criteria"`
	}
	if err := decodeGraphBody(r, &body); err != nil {
		return err
	}
	reset := resetWatermark
	if body.Criteria != nil && body.Criteria.ResetScope != "" {
		var err *graphError
		if reset, err = parseResetScope(body.Criteria.ResetScope); err != nil {
			return err
		}
	}
	if _, ok := s.savedCredentials(job.servicePrincipalID); !ok {
		return graphBadRequest("The job cannot restart without credentials: save the BaseAddress and SecretToken with PUT .../synchronization/secrets first.")
	}
	s.mu.Lock()
	job.pendingReset |= reset
	job.schedule = scheduleActive
	job.status.quarantine = nil
	s.launchRunner(job)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// resetScope says what a restart forgets.
type resetScope int

const (
	// resetWatermark forgets what the job provisioned, so every object is
	// looked up again (a restart always does this).
	resetWatermark resetScope = 1 << iota
	// resetEscrows forgets the objects the job kept failing on.
	resetEscrows
)

// parseResetScope reads synchronizationJobRestartScope flags ("Watermark,
// Escrows, QuarantineState"; msgraph-sdk-go writes them without spaces).
func parseResetScope(raw string) (resetScope, *graphError) {
	reset := resetWatermark
	for _, flag := range strings.Split(raw, ",") {
		switch strings.TrimSpace(flag) {
		case "None", "Watermark", "QuarantineState", "ConnectorDataStore", "ForceDeletes":
		case "Escrows", "Full":
			reset |= resetEscrows
		default:
			return 0, graphBadRequest("'%s' is not a synchronizationJobRestartScope: use None, ConnectorDataStore, Escrows, Watermark, QuarantineState, Full or ForceDeletes.", strings.TrimSpace(flag))
		}
	}
	return reset, nil
}

// close stops the provisioning engine and waits for its cycles to end.
func (s *syncState) close() {
	s.cancel()
	s.runners.Wait()
}
