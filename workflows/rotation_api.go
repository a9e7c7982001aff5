package workflows

import (
	"errors"
	"fmt"
	"time"

	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/secretref"
)

// The SCIM token rotation: the names people and scripts use to talk to it.
// It takes the cutover's operations (submit-scim, approve, reject) as
// signals and updates, with the same rules.
const (
	RotationWorkflowName = "ScimTokenRotation"

	// GateNewSCIMToken: the person creates a new SCIM access token in the
	// console and submits it (stored in Secrets Manager, by reference).
	GateNewSCIMToken = "new-scim-token"
	// GateDeleteOldToken: the person deletes the old token in the console.
	GateDeleteOldToken = "delete-old-token"
)

// Phases of a rotation, as status shows them.
const (
	RotationPhaseChecking        = "checking"
	RotationPhaseFresh           = "fresh"
	RotationPhaseAwaitingToken   = "awaiting-new-token"
	RotationPhaseReplacing       = "replacing-token"
	RotationPhaseAwaitingHealthy = "awaiting-healthy-cycle"
	RotationPhaseAwaitingDelete  = "awaiting-old-token-deletion"
	RotationPhaseRotated         = "rotated"
	RotationPhasePostponed       = "postponed"
	RotationPhaseFailed          = "failed"
)

// Defaults of a rotation request.
const (
	DefaultWarningWindow  = 30 * 24 * time.Hour
	DefaultHealthInterval = 2 * time.Minute
	// DefaultHealthDeadline covers Entra's provisioning cycle, which runs
	// about every 40 minutes.
	DefaultHealthDeadline = 2 * time.Hour
	// DefaultRemindEvery is how often a waiting gate is announced again.
	DefaultRemindEvery = 24 * time.Hour
)

// ScimTokenRotationRequest describes the provisioning of one Identity
// Center instance whose SCIM token is kept fresh. A completed cutover
// knows all of it (`starter rotation schedule` reads it from there).
type ScimTokenRotationRequest struct {
	// RefusedPlaintext is set, instead of everything else, when the worker
	// received this as plain JSON, without the keys (internal/codec): it is
	// then refused, saying how to send it.
	RefusedPlaintext string `json:"refusedPlaintext,omitempty" yaml:"-"`
	IdentityStoreID  string `json:"identityStoreId" yaml:"identityStoreId"`
	Region           string `json:"region" yaml:"region"`
	// App and JobID are Entra's enterprise app and its provisioning job.
	App   model.EnterpriseApp `json:"app" yaml:"app"`
	JobID string              `json:"jobId" yaml:"jobId"`
	// SCIMEndpoint is the endpoint the job provisions to.
	SCIMEndpoint string `json:"scimEndpoint" yaml:"scimEndpoint"`
	// TokenSecret is the Secrets Manager secret (name or ARN) whose
	// AWSCURRENT version is the token the job uses; empty means the
	// cutover's (ssocutover/<identity store>/scim-token).
	TokenSecret string `json:"tokenSecret,omitempty" yaml:"tokenSecret,omitempty"`
	// TokenExpiresAt is when the current token expires, for a token stored
	// later than it was created; it applies while TokenVersionID is the
	// current version. Without it the expiry is a year after the version
	// was stored.
	TokenExpiresAt time.Time `json:"tokenExpiresAt,omitzero" yaml:"tokenExpiresAt,omitempty"`
	TokenVersionID string    `json:"tokenVersionId,omitempty" yaml:"tokenVersionId,omitempty"`
	// WarningWindow is how long before expiry the rotation asks for a new
	// token ("720h", 30 days, when empty). A quarantined job asks at once.
	WarningWindow string `json:"warningWindow,omitempty" yaml:"warningWindow,omitempty"`
	// HealthInterval and HealthDeadline: how often, and how long, to check
	// that the job runs a healthy cycle on the new token ("2m", "2h").
	HealthInterval string `json:"healthInterval,omitempty" yaml:"healthInterval,omitempty"`
	HealthDeadline string `json:"healthDeadline,omitempty" yaml:"healthDeadline,omitempty"`
	// RemindEvery is how often a gate that waits is announced again ("24h").
	RemindEvery string `json:"remindEvery,omitempty" yaml:"remindEvery,omitempty"`
	// NotificationEmail is saved again with the job's credentials, as the
	// cutover saved it.
	NotificationEmail string `json:"notificationEmail,omitempty" yaml:"notificationEmail,omitempty"`
	// DeleteThreshold is saved again with the job's credentials, as the
	// cutover saved it: Graph cannot read the saved value back, so the
	// request is its source of truth (DefaultDeleteThreshold when 0).
	DeleteThreshold int `json:"deleteThreshold,omitempty" yaml:"deleteThreshold,omitempty"`
	// Sandbox accepts SCIM endpoints on the loopback interface.
	Sandbox bool `json:"sandbox,omitempty" yaml:"sandbox,omitempty"`
}

// RotationTiming is the request's durations, defaults filled in.
type RotationTiming struct {
	WarningWindow, HealthInterval, HealthDeadline, RemindEvery time.Duration
}

// Timing parses the request's durations.
func (r ScimTokenRotationRequest) Timing() (RotationTiming, error) {
	t := RotationTiming{DefaultWarningWindow, DefaultHealthInterval, DefaultHealthDeadline, DefaultRemindEvery}
	var errs []error
	for _, f := range []struct {
		name, value string
		min         time.Duration
		into        *time.Duration
	}{
		{"warningWindow", r.WarningWindow, time.Hour, &t.WarningWindow},
		{"healthInterval", r.HealthInterval, time.Second, &t.HealthInterval},
		{"healthDeadline", r.HealthDeadline, time.Second, &t.HealthDeadline},
		{"remindEvery", r.RemindEvery, time.Minute, &t.RemindEvery},
	} {
		if f.value == "" {
			continue
		}
		d, err := time.ParseDuration(f.value)
		if err != nil || d < f.min {
			errs = append(errs, fmt.Errorf("%s %q: want a duration of at least %s, such as 720h", f.name, f.value, f.min))
			continue
		}
		*f.into = d
	}
	if t.HealthDeadline < t.HealthInterval {
		errs = append(errs, errors.New("healthDeadline must be no shorter than healthInterval"))
	}
	return t, errors.Join(errs...)
}

// Validate says what is wrong with a request, all at once.
func (r ScimTokenRotationRequest) Validate() error {
	if r.RefusedPlaintext != "" {
		return errors.New("the request was refused: " + r.RefusedPlaintext)
	}
	var errs []error
	if !identityStoreIDPattern.MatchString(r.IdentityStoreID) {
		errs = append(errs, fmt.Errorf("identityStoreId %q: want d- and 10 hex digits", r.IdentityStoreID))
	}
	if !regionPattern.MatchString(r.Region) {
		errs = append(errs, fmt.Errorf("region %q: want an AWS region such as eu-west-1", r.Region))
	}
	if r.App.ServicePrincipalID == "" || r.JobID == "" {
		errs = append(errs, errors.New("app.servicePrincipalId and jobId: name Entra's enterprise app and its provisioning job (the completed cutover's result lists them)"))
	}
	if err := CheckSCIMEndpoint(r.SCIMEndpoint, r.Region, r.Sandbox); err != nil {
		errs = append(errs, fmt.Errorf("scimEndpoint: %w", err))
	}
	if r.TokenExpiresAt.IsZero() != (r.TokenVersionID == "") {
		errs = append(errs, errors.New("tokenExpiresAt and tokenVersionId go together: the date applies to that version of the token's secret"))
	}
	if _, err := r.Timing(); err != nil {
		errs = append(errs, err)
	}
	if err := checkDeleteThreshold(r.DeleteThreshold); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// TokenSecretID is the secret (name or ARN) that holds the job's token.
func (r ScimTokenRotationRequest) TokenSecretID() string {
	if r.TokenSecret != "" {
		return r.TokenSecret
	}
	return SCIMTokenSecretName(r.IdentityStoreID)
}

// RotationScheduleID is the ID of the Temporal Schedule that runs the
// rotation of an identity store's SCIM token; the runs it starts have
// workflow IDs that begin with it.
func RotationScheduleID(identityStoreID string) string {
	return "scim-token-rotation-" + identityStoreID
}

// TokenState is what the rotation knows of a token.
type TokenState struct {
	Token   secretref.Ref `json:"token"`
	Created time.Time     `json:"created"`
	Expires time.Time     `json:"expires"`
	// ExpirySource says where Expires comes from: "secret version created"
	// (a year after) or "given" (the request's tokenExpiresAt).
	ExpirySource string `json:"expirySource"`
}

// Where a token's expiry comes from.
const (
	ExpiryFromSecretVersion = "secret version created"
	ExpiryGiven             = "given"
)

// ScimTokenRotationStatus is the answer to the status query.
type ScimTokenRotationStatus struct {
	WorkflowID string                   `json:"workflowId"`
	Request    ScimTokenRotationRequest `json:"request"`
	Phase      string                   `json:"phase"`
	Step       string                   `json:"step"`
	// GateState is the open gate, the decisions and the refused signals.
	GateState
	// Current is the token the job uses; Job its last known health.
	Current *TokenState                  `json:"current,omitempty"`
	Job     *model.ProvisioningJobStatus `json:"job,omitempty"`
	// Due says why a new token is needed, when it is.
	Due string `json:"due,omitempty"`
	// New is the new token once the job works with it.
	New *TokenState `json:"new,omitempty"`
}

// ScimTokenRotationResult is what a finished rotation run returns.
type ScimTokenRotationResult struct {
	// Outcome is fresh (nothing to do), rotated or postponed.
	Outcome string `json:"outcome"`
	Message string `json:"message"`
	// Token is the token the job uses now, with its expiry; Previous the
	// one it replaced, when it rotated.
	Token     TokenState                   `json:"token"`
	Previous  *TokenState                  `json:"previous,omitempty"`
	Job       *model.ProvisioningJobStatus `json:"job,omitempty"`
	Decisions []Decision                   `json:"decisions"`
}

// RotationRequestFromCutover is the rotation request of the provisioning a
// completed cutover set up, with the rotation's defaults.
func RotationRequestFromCutover(req CutoverRequest, res *Resources) (ScimTokenRotationRequest, error) {
	if res == nil || res.App == nil || res.Provisioning == nil || res.SCIM == nil {
		return ScimTokenRotationRequest{}, fmt.Errorf("the cutover of %s has not set up provisioning (no enterprise app, job or SCIM token in its resources): "+
			"schedule the rotation once the cutover has completed", req.IdentityStoreID)
	}
	return ScimTokenRotationRequest{
		IdentityStoreID: req.IdentityStoreID,
		Region:          req.Region,
		App:             *res.App,
		JobID:           res.Provisioning.JobID,
		SCIMEndpoint:    res.SCIM.Endpoint,
		TokenSecret:     res.SCIM.Token.ARN,
		DeleteThreshold: req.DeleteThreshold,
		Sandbox:         req.Sandbox,
	}, nil
}
