package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A job's schedule state, as Graph's synchronizationSchedule.state names it.
const (
	scheduleDisabled = "Disabled"
	scheduleActive   = "Active"
	schedulePaused   = "Paused"
)

// syncJob is a provisioning job of a service principal.
type syncJob struct {
	id                 string
	templateID         string
	servicePrincipalID string

	// Under syncState.mu:
	schedule string
	// schema replaces the template's when a PUT set one (graph_sync_schema.go).
	schema map[string]any
	// generation changes whenever the job is started, restarted, paused or
	// deleted: a runner of an older generation stops.
	generation   int
	deleted      bool
	pendingReset resetScope
	status       jobStatus
	// onDemandCalls are the times of the latest provisionOnDemand calls,
	// for its rate limit.
	onDemandCalls []time.Time

	// cycleMu serialises the job's cycles and on-demand runs; target is
	// what they provisioned and is read and written under it.
	cycleMu sync.Mutex
	target  *provisionedState
}

// jobStatus is what the job reports of itself (synchronizationStatus).
type jobStatus struct {
	lastExecution                      *taskExecution
	lastSuccessfulExecution            *taskExecution
	lastSuccessfulExecutionWithExports *taskExecution
	quarantine                         *quarantine
	steadyStateFirstAchieved           time.Time
	steadyStateLastAchieved            time.Time
	countSuccessiveCompleteFailures    int
	// users and groups count the objects the job knows in the target.
	users, groups int
}

// taskExecution is a synchronizationTaskExecution: one cycle's result.
type taskExecution struct {
	activityID    string
	state         string // Succeeded, Failed or EntryLevelErrors
	began, ended  time.Time
	countEntitled int // users and groups in scope
	countExported int // writes to the target
	countEscrowed int // objects that failed
	err           *syncError
}

// syncError is a synchronizationError.
type syncError struct {
	code, message    string
	tenantActionable bool
}

// quarantine is a synchronizationQuarantine.
type quarantine struct {
	reason                    string
	currentBegan, seriesBegan time.Time
	seriesCount               int
	err                       *syncError
}

// code is the job's synchronizationStatusCode.
func (j *syncJob) code(hasCredentials bool) string {
	switch {
	case j.status.quarantine != nil:
		return "Quarantine"
	case j.schedule == schedulePaused:
		return "Paused"
	case j.schedule == scheduleActive && j.status.lastExecution == nil:
		return "NotRun"
	case j.schedule == scheduleActive:
		return "Active"
	case hasCredentials:
		return "NotRun"
	}
	return "NotConfigured"
}

// renderJob is the job as Graph writes a synchronizationJob.
func (s *syncState) renderJob(j *syncJob) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, hasCredentials := credentialsFrom(s.secrets[j.servicePrincipalID])
	st := j.status
	counts := []any{}
	if st.groups > 0 || st.users > 0 {
		counts = []any{
			map[string]any{"key": "group to Group", "value": st.groups},
			map[string]any{"key": "user to User", "value": st.users},
		}
	}
	status := map[string]any{
		"code":                               j.code(hasCredentials),
		"countSuccessiveCompleteFailures":    st.countSuccessiveCompleteFailures,
		"escrowsPruned":                      false,
		"lastExecution":                      st.lastExecution.render(),
		"lastSuccessfulExecution":            st.lastSuccessfulExecution.render(),
		"lastSuccessfulExecutionWithExports": st.lastSuccessfulExecutionWithExports.render(),
		"progress":                           []any{},
		"quarantine":                         st.quarantine.render(s.graph.opts.provisioningInterval()),
		"steadyStateFirstAchievedTime":       graphTime(st.steadyStateFirstAchieved),
		"steadyStateLastAchievedTime":        graphTime(st.steadyStateLastAchieved),
		"synchronizedEntryCountByType":       counts,
		"troubleshootingUrl":                 nil,
	}
	return map[string]any{
		"id":         j.id,
		"templateId": j.templateID,
		"schedule": map[string]any{
			"expiration": nil,
			"interval":   isoDuration(s.graph.opts.provisioningInterval()),
			"state":      j.schedule,
		},
		"status": status,
		"synchronizationJobSettings": []any{
			map[string]any{"name": "QuarantineTooManyDeletesThreshold", "value": "500"},
		},
	}
}

func (e *taskExecution) render() any {
	if e == nil {
		return nil
	}
	return map[string]any{
		"activityIdentifier":           e.activityID,
		"countEntitled":                e.countEntitled,
		"countEntitledForProvisioning": e.countEntitled,
		"countEscrowed":                e.countEscrowed,
		"countEscrowedRaw":             e.countEscrowed,
		"countExported":                e.countExported,
		"countExports":                 e.countExported,
		"countImported":                e.countEntitled,
		"countImportedDeltas":          0,
		"countImportedReferenceDeltas": 0,
		"error":                        e.err.render(),
		"state":                        e.state,
		"timeBegan":                    graphTime(e.began),
		"timeEnded":                    graphTime(e.ended),
	}
}

func (e *syncError) render() any {
	if e == nil {
		return nil
	}
	return map[string]any{"code": e.code, "message": e.message, "tenantActionable": e.tenantActionable}
}

func (q *quarantine) render(interval time.Duration) any {
	if q == nil {
		return nil
	}
	return map[string]any{
		"currentBegan": graphTime(q.currentBegan),
		// The sandbox does not retry a quarantined job by itself; a person
		// fixes the credentials and starts (or restarts) it.
		"nextAttempt": graphTime(q.currentBegan.Add(interval)),
		"reason":      q.reason,
		"seriesBegan": graphTime(q.seriesBegan),
		"seriesCount": q.seriesCount,
		"error":       q.err.render(),
	}
}

// graphTime writes a time as Graph does: UTC, and the zero time as
// 0001-01-01T00:00:00Z rather than null.
func graphTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// isoDuration writes d as an ISO 8601 duration (PT40M, PT2.0S, PT0.05S), as
// Graph writes a schedule's interval. Seconds always carry a fraction, as
// Graph's do: msgraph-sdk-go's parser (kiota v1.9) reads seconds only when
// they have one.
func isoDuration(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteString("PT")
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dH", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dM", m)
		d -= m * time.Minute
	}
	if d > 0 {
		seconds := strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
		if !strings.Contains(seconds, ".") {
			seconds += ".0"
		}
		b.WriteString(seconds + "S")
	}
	return b.String()
}

// launchRunner starts a runner for the job's new generation: it runs a
// cycle at once and then one every interval, until the job is paused,
// quarantined, restarted, deleted or the sandbox closes. Called under
// syncState.mu.
func (s *syncState) launchRunner(job *syncJob) {
	if s.ctx.Err() != nil {
		return
	}
	job.generation++
	generation := job.generation
	s.runners.Add(1)
	s.live.Add(1)
	go func() {
		defer s.runners.Done()
		defer s.live.Add(-1)
		s.run(job, generation)
	}()
}

// run is a runner's loop. A job whose service principal was deleted goes
// with it, as in Entra.
func (s *syncState) run(job *syncJob, generation int) {
	interval := s.graph.opts.provisioningInterval()
	if delay := s.graph.opts.FirstCycleDelay; delay > 0 {
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(delay):
		}
	}
	for s.current(job, generation) {
		if !s.directory().servicePrincipalExists(job.servicePrincipalID) {
			s.deleteJob(job)
			return
		}
		s.runCycle(job, generation)
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// current reports whether the runner of this generation should go on.
func (s *syncState) current(job *syncJob, generation int) bool {
	if s.ctx.Err() != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return job.generation == generation && !job.deleted &&
		job.schedule == scheduleActive && job.status.quarantine == nil
}
