package sandbox

import "time"

// ProvisioningEvent is one thing the sandbox's provisioning engine did to
// one object, or failed to do: the sandbox's provisioning log. It never
// holds a token.
type ProvisioningEvent struct {
	JobID string
	Time  time.Time
	// OnDemand is set for provisionOnDemand, unset for a cycle.
	OnDemand bool
	// ObjectType is "User" or "Group"; SourceID its Entra object ID; Name
	// its userName (the userPrincipalName) or display name; TargetID its
	// SCIM ID, once known.
	ObjectType string
	SourceID   string
	Name       string
	TargetID   string
	// Action is ProvisioningCreated, ProvisioningMatched or
	// ProvisioningMembersAdded (Members counts them); empty when the
	// object failed before anything was tried.
	Action  string
	Members int
	// Updated names the attributes (SCIM paths) a matched object's PATCH
	// replaced to make it follow the mappings, as "externalId"; empty when
	// it followed them already (or the PATCH failed).
	Updated []string
	// Status is ProvisioningSuccess or ProvisioningFailure; a failure has
	// an ErrorCode and a Reason that says what to fix.
	Status    string
	ErrorCode string
	Reason    string
}

// ProvisioningEvent actions and statuses.
const (
	ProvisioningCreated      = "Create"
	ProvisioningMatched      = "Match"
	ProvisioningMembersAdded = "AddMembers"

	ProvisioningSuccess = "Success"
	ProvisioningFailure = "Failure"
)

// maxProvisioningEvents bounds the log: the oldest events go first.
const maxProvisioningEvents = 200_000

type provisioningLog struct {
	events []ProvisioningEvent
}

func (l *provisioningLog) add(e ProvisioningEvent) {
	if len(l.events) >= maxProvisioningEvents {
		l.events = append(l.events[:0], l.events[len(l.events)-maxProvisioningEvents/2:]...)
	}
	l.events = append(l.events, e)
}

// ProvisioningLog returns what the provisioning engine did, oldest first:
// one event per object created or matched (and updated), per PATCH of
// members, and per failure. Objects a later cycle finds already provisioned add nothing.
func (s *Sandbox) ProvisioningLog() []ProvisioningEvent {
	sync := s.graph.sync
	sync.mu.Lock()
	defer sync.mu.Unlock()
	return append([]ProvisioningEvent(nil), sync.log.events...)
}

// ProvisioningRunners is how many jobs' provisioning cycles are scheduled
// (a runner per active job): 0 once every job is paused, quarantined,
// deleted, or the sandbox closed. A test that checks that nothing more is
// provisioned waits for 0 rather than sleeping for some cycles.
func (s *Sandbox) ProvisioningRunners() int {
	return int(s.graph.sync.live.Load())
}
