// Package workflows is the contract of the cutover's workflows: their
// names and IDs, requests, statuses and results, the operations and gates a
// person decides at, and the resource names they create. The starter, the
// schedule activity and the tests use it; the workflows themselves are its
// subpackages: cutover and rotation, built on gate (the gates) and step (the
// activity calls); register registers them with a worker.
package workflows

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/approval"
	"github.com/platformguide/ssocutover/internal/partition"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/store"
)

// The names people and scripts use to talk to a cutover. Each operation is
// both a signal (for `temporal workflow signal` and tctl) and an update with
// a validator (for `starter` and `temporal workflow update`, which get an
// immediate error for bad input).
const (
	CutoverWorkflowName = "Cutover"

	QueryStatus = "status"

	OpApprove = "approve"
	OpReject  = "reject"
	OpRecheck = "recheck"
	// OpSubmitSPMetadata carries the AWS service provider metadata XML.
	OpSubmitSPMetadata = "submit-sp-metadata"
	// OpSubmitSCIM carries the SCIM endpoint and a reference to the token,
	// which is kept in Secrets Manager.
	OpSubmitSCIM = "submit-scim"
	// OpRollback undoes what the cutover did, at a gate or while a step
	// runs (it takes effect when the step ends). Needs a reason.
	OpRollback = "rollback"
	// OpRetry runs a failed step (or compensation) again.
	OpRetry = "retry"
	// OpSkip leaves a compensation that keeps failing to a person, who
	// says in the reason what they did instead.
	OpSkip = "skip"
)

// Gates: where the cutover waits for a person, in the order it meets them.
const (
	GatePreflight = "preflight"
	// GateAWSSPMetadata: the person starts the identity source change in
	// the Identity Center console and submits its service provider metadata.
	GateAWSSPMetadata = "aws-sp-metadata"
	// GateSCIMCredentials: the person uploads Entra's metadata, finishes
	// the change, enables automatic provisioning and submits the SCIM
	// endpoint and token.
	GateSCIMCredentials = "scim-credentials"
	// GateConfirmSignIn: the person checks that signing in through Entra
	// works before the cutover is called done.
	GateConfirmSignIn = "confirm-sign-in"
)

// Gates that open only when something goes wrong.
const (
	// GateStepFailed: a step failed in a way retries could not fix; a
	// person retries it or rolls back.
	GateStepFailed = "step-failed"
	// GateCompensationFailed: a compensation keeps failing; a person
	// retries it or does it by hand.
	GateCompensationFailed = "compensation-failed"
	// GateDeleteSCIMTokens and GateRevertIdentitySource: the console steps
	// of a rollback, confirmed with approve.
	GateDeleteSCIMTokens     = "rollback-delete-scim-tokens"
	GateRevertIdentitySource = "rollback-revert-identity-source"
)

// Gates lists every gate in the order a cutover meets them.
var Gates = []string{GatePreflight, GateAWSSPMetadata, GateSCIMCredentials, GateConfirmSignIn}

// Phases of a cutover, as status shows them.
const (
	PhasePreflight         = "preflight"
	PhaseAwaitingPreflight = "awaiting-preflight-approval"
	PhaseRejected          = "rejected"
	PhaseBreakGlass        = "break-glass-user"
	PhaseAwaitingSPMeta    = "awaiting-aws-sp-metadata"
	PhaseEnterpriseApp     = "enterprise-app"
	PhaseAwaitingSCIM      = "awaiting-scim-credentials"
	PhaseProvisioning      = "provisioning"
	PhaseVerifying         = "verifying"
	PhaseAwaitingSignIn    = "awaiting-sign-in-confirmation"
	PhaseCompleted         = "completed"
	PhaseStepFailed        = "step-failed"
	PhaseRollingBack       = "rolling-back"
	PhaseRolledBack        = "rolled-back"
	// PhaseFailed: the workflow stopped on an error it cannot get past;
	// Step says what failed and what to do.
	PhaseFailed = "failed"
)

// Error types of a failed cutover, for scripts that match on them.
const (
	// ErrInvalidRequest: the request (or the workflow ID it was started
	// under) is wrong; nothing was done.
	ErrInvalidRequest = "InvalidRequest"
	// ErrPreflightFailed: a preflight activity failed in a way retries
	// could not fix; nothing was changed in AWS or Entra.
	ErrPreflightFailed = "PreflightFailed"
	// ErrStepFailed: a step after the preflight failed in a way retries
	// could not fix; status lists what the cutover created so far.
	ErrStepFailed = "StepFailed"
)

// CutoverRequest starts a cutover of one Identity Center instance.
type CutoverRequest struct {
	// RefusedPlaintext is set, instead of everything else, when the worker
	// received this as plain JSON, without the keys (internal/codec): it is
	// then refused, saying how to send it.
	RefusedPlaintext string `json:"refusedPlaintext,omitempty" yaml:"-"`
	// IdentityStoreID is the instance's identity store (d-xxxxxxxxxx); the
	// workflow ID is derived from it, so one instance has one cutover at a time.
	IdentityStoreID string `json:"identityStoreId" yaml:"identityStoreId"`
	// InstanceARN is optional: when empty the instance of IdentityStoreID is looked up.
	InstanceARN string `json:"instanceArn,omitempty" yaml:"instanceArn,omitempty"`
	// Region of the Identity Center instance.
	Region string `json:"region" yaml:"region"`
	// EntraTenantID is the Microsoft Entra tenant that becomes the identity source.
	EntraTenantID string `json:"entraTenantId" yaml:"entraTenantId"`
	// RequestedBy names the person who starts the cutover.
	RequestedBy string `json:"requestedBy" yaml:"requestedBy"`
	// Ticket is an optional change ticket reference, shown in status.
	Ticket string `json:"ticket,omitempty" yaml:"ticket,omitempty"`

	// BreakGlassPolicyARNs are attached to the break-glass IAM user; empty
	// means Identity Center administration (AWSSSOMasterAccountAdministrator).
	BreakGlassPolicyARNs []string `json:"breakGlassPolicyArns,omitempty" yaml:"breakGlassPolicyArns,omitempty"`
	// VerifyInterval is how long to wait between checks of provisioning
	// ("5m" when empty); VerifyDeadline how long to keep checking before
	// asking a person ("4h" when empty). Go durations.
	VerifyInterval string `json:"verifyInterval,omitempty" yaml:"verifyInterval,omitempty"`
	VerifyDeadline string `json:"verifyDeadline,omitempty" yaml:"verifyDeadline,omitempty"`
	// GateTimeout is how long a gate may wait for a person ("72h"; empty:
	// no limit). Halfway the cutover reminds (log, status, UI); at the end
	// it acts as OnGateTimeout says.
	GateTimeout string `json:"gateTimeout,omitempty" yaml:"gateTimeout,omitempty"`
	// OnGateTimeout is "remind" (the default: remind again and keep
	// waiting) or "rollback" (undo the cutover). Gates of a rollback only
	// ever remind.
	OnGateTimeout string `json:"onGateTimeout,omitempty" yaml:"onGateTimeout,omitempty"`
	// ScheduleTokenRotation: once the cutover completes, it creates the
	// Temporal Schedule that runs the SCIM token rotation daily (as
	// `starter rotation schedule` does).
	ScheduleTokenRotation bool `json:"scheduleTokenRotation,omitempty" yaml:"scheduleTokenRotation,omitempty"`
	// DeleteThreshold is the provisioning job's accidental-deletion
	// threshold: a cycle that would delete more users and groups than this
	// in IAM Identity Center stops for a person to look
	// (DefaultDeleteThreshold when 0). The token rotation saves it again.
	DeleteThreshold int `json:"deleteThreshold,omitempty" yaml:"deleteThreshold,omitempty"`
	// Sandbox marks a cutover of the local sandbox (the demo, the tests):
	// SCIM endpoints on the loopback interface are accepted.
	Sandbox bool `json:"sandbox,omitempty" yaml:"sandbox,omitempty"`

	// Approvers are the people whose signed decisions the gates named in
	// RequiredApprovals take (see README, Signed approvals). Without
	// approvers any decision is taken unsigned, as in the demo.
	Approvers []Approver `json:"approvers,omitempty" yaml:"approvers,omitempty"`
	// RequiredApprovals names the gates that need signed decisions, and
	// how many distinct approvers must approve each: a gate needing 2
	// stays open after the first signed approve and closes at the second
	// from another approver. Any other decision at such a gate (reject,
	// rollback, ...) needs one approver's signature.
	RequiredApprovals map[string]int `json:"requiredApprovals,omitempty" yaml:"requiredApprovals,omitempty"`
	// SeparateRequester: the person named in RequestedBy cannot approve at
	// the gates of RequiredApprovals (four eyes); they can still reject or
	// roll back.
	SeparateRequester bool `json:"separateRequester,omitempty" yaml:"separateRequester,omitempty"`
}

// Approver is a person who may sign gate decisions.
type Approver struct {
	// Name is how the person is named in decisions and, with
	// separateRequester, compared with requestedBy.
	Name string `json:"name" yaml:"name"`
	// PublicKey is the person's SSH public key as an authorized_keys line
	// (the content of ~/.ssh/id_ed25519.pub).
	PublicKey string `json:"publicKey" yaml:"publicKey"`
}

// Defaults of the request's verification timing.
const (
	DefaultVerifyInterval = 5 * time.Minute
	DefaultVerifyDeadline = 4 * time.Hour
)

// Actions at a gate's timeout.
const (
	OnGateTimeoutRemind   = "remind"
	OnGateTimeoutRollback = "rollback"
)

// GateTimeoutDuration is the request's gate timeout, 0 for none.
func (r CutoverRequest) GateTimeoutDuration() (time.Duration, error) {
	var errs []error
	switch r.OnGateTimeout {
	case "", OnGateTimeoutRemind, OnGateTimeoutRollback:
	default:
		errs = append(errs, fmt.Errorf("onGateTimeout %q: want %s or %s", r.OnGateTimeout, OnGateTimeoutRemind, OnGateTimeoutRollback))
	}
	var d time.Duration
	if r.GateTimeout != "" {
		var err error
		if d, err = time.ParseDuration(r.GateTimeout); err != nil || d < time.Minute {
			errs = append(errs, fmt.Errorf("gateTimeout %q: want a duration of at least 1m, such as 72h", r.GateTimeout))
		}
	}
	if len(errs) > 0 {
		return 0, errors.Join(errs...)
	}
	return d, nil
}

// VerifyTiming is the request's verification interval and deadline.
func (r CutoverRequest) VerifyTiming() (interval, deadline time.Duration, err error) {
	interval, deadline = DefaultVerifyInterval, DefaultVerifyDeadline
	if r.VerifyInterval != "" {
		if interval, err = time.ParseDuration(r.VerifyInterval); err != nil || interval < time.Second {
			return 0, 0, fmt.Errorf("verifyInterval %q: want a duration of at least 1s, such as 5m", r.VerifyInterval)
		}
	}
	if r.VerifyDeadline != "" {
		if deadline, err = time.ParseDuration(r.VerifyDeadline); err != nil || deadline < interval {
			return 0, 0, fmt.Errorf("verifyDeadline %q: want a duration no shorter than verifyInterval, such as 4h", r.VerifyDeadline)
		}
	}
	return interval, deadline, nil
}

var (
	identityStoreIDPattern = regexp.MustCompile(`^d-[0-9a-f]{10}$`)
	regionPattern          = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	tenantIDPattern        = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	policyARNPattern       = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/[\w+=,.@/-]{1,512}$`)
	instanceARNPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$`)
)

// Validate says what is wrong with a request, all at once.
func (r CutoverRequest) Validate() error {
	if r.RefusedPlaintext != "" {
		return errors.New("the request was refused: " + r.RefusedPlaintext)
	}
	var errs []error
	if !identityStoreIDPattern.MatchString(r.IdentityStoreID) {
		errs = append(errs, fmt.Errorf("identityStoreId %q: want d- and 10 hex digits, as shown in the Identity Center console under Settings", r.IdentityStoreID))
	}
	if r.InstanceARN != "" && !instanceARNPattern.MatchString(r.InstanceARN) {
		errs = append(errs, fmt.Errorf("instanceArn %q: want arn:aws:sso:::instance/ssoins-<16 characters>", r.InstanceARN))
	}
	if !regionPattern.MatchString(r.Region) {
		errs = append(errs, fmt.Errorf("region %q: want an AWS region such as eu-west-1", r.Region))
	}
	if !tenantIDPattern.MatchString(r.EntraTenantID) {
		errs = append(errs, fmt.Errorf("entraTenantId %q: want the tenant's GUID", r.EntraTenantID))
	}
	if r.RequestedBy == "" {
		errs = append(errs, errors.New("requestedBy: name the person starting the cutover"))
	}
	for _, arn := range r.BreakGlassPolicyARNs {
		if !policyARNPattern.MatchString(arn) {
			errs = append(errs, fmt.Errorf("breakGlassPolicyArns: %q is not an IAM policy ARN (arn:aws:iam::aws:policy/NAME or arn:aws:iam::ACCOUNT:policy/NAME)", arn))
		}
	}
	if _, _, err := r.VerifyTiming(); err != nil {
		errs = append(errs, err)
	}
	if err := checkDeleteThreshold(r.DeleteThreshold); err != nil {
		errs = append(errs, err)
	}
	if _, err := r.GateTimeoutDuration(); err != nil {
		errs = append(errs, err)
	}
	if _, err := r.ParseApprovers(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// CutoverWorkflowID is the workflow ID of the cutover of an identity store.
func CutoverWorkflowID(identityStoreID string) string {
	return "cutover-" + identityStoreID
}

// GateDecision is the payload of approve, reject and recheck.
type GateDecision struct {
	// RefusedPlaintext is set, instead of everything else, when the worker
	// received this as plain JSON, without the keys (internal/codec): it is
	// then refused, saying how to send it.
	RefusedPlaintext string `json:"refusedPlaintext,omitempty" yaml:"-"`
	// Gate must name the gate that is open, so a decision meant for one gate
	// is never taken at another.
	Gate string `json:"gate"`
	// By names the person deciding.
	By string `json:"by"`
	// Reason says why. Required to reject and to override.
	Reason string `json:"reason,omitempty"`
	// Override approves despite blockers; it needs a Reason.
	Override bool `json:"override,omitempty"`

	// SPMetadataXML is the AWS service provider metadata file, for
	// submit-sp-metadata at gate aws-sp-metadata.
	SPMetadataXML string `json:"spMetadataXml,omitempty"`
	// SCIMEndpoint and SCIMToken are for submit-scim at gate
	// scim-credentials: the endpoint as the console shows it, and the
	// Secrets Manager secret that holds the token (never the token).
	SCIMEndpoint string         `json:"scimEndpoint,omitempty"`
	SCIMToken    *secretref.Ref `json:"scimToken,omitempty"`

	// Signature is an approver's armored SSH signature (ssh-keygen -Y sign
	// -n ssocutover) of the decision's statement, which names the
	// workflow, its run, the gate, the operation, override and SignedAt
	// (see approval.Statement). Required at the gates the request's
	// requiredApprovals names; elsewhere optional, but checked when sent.
	Signature string `json:"signature,omitempty"`
	// SignedAt is the time the statement names, in UTC to the second
	// (2026-05-01T09:30:00Z). It must be after the gate opened and at most
	// MaxSignatureAge before the workflow takes the decision.
	SignedAt string `json:"signedAt,omitempty"`
}

// Decision is a gate decision the workflow accepted.
type Decision struct {
	Gate     string    `json:"gate"`
	Action   string    `json:"action"`
	By       string    `json:"by"`
	Reason   string    `json:"reason,omitempty"`
	Override bool      `json:"override,omitempty"`
	At       time.Time `json:"at"`
	// Signer is the approver who signed this decision, when it was signed.
	Signer *Signer `json:"signer,omitempty"`
	// Approval counts signed approvals at a gate that needs several
	// ("1 of 2"); the gate closes at the last.
	Approval string `json:"approval,omitempty"`
	// ApprovedBy names every approver whose signed approval closed the gate.
	ApprovedBy []string `json:"approvedBy,omitempty"`
}

// Signer is an approver whose signature the workflow verified.
type Signer struct {
	Name string `json:"name"`
	// Fingerprint is the key's SHA256 fingerprint, as ssh-keygen -l shows it.
	Fingerprint string    `json:"fingerprint"`
	SignedAt    time.Time `json:"signedAt"`
}

// RefusedInput is a signal the workflow ignored, with why.
type RefusedInput struct {
	Operation string    `json:"operation"`
	Gate      string    `json:"gate,omitempty"`
	By        string    `json:"by,omitempty"`
	Error     string    `json:"error"`
	At        time.Time `json:"at"`
}

// GateStatus describes the open gate and what the person must do.
type GateStatus struct {
	Name         string    `json:"name"`
	Instructions string    `json:"instructions"`
	Operations   []string  `json:"operations"`
	OpenedAt     time.Time `json:"openedAt"`
	// RemindedAt is when the cutover last reminded that the gate waits.
	RemindedAt time.Time `json:"remindedAt,omitzero"`
	// ApprovalsNeeded is how many distinct approvers must sign an approve
	// here (0: the gate takes unsigned decisions); Approvals are the
	// signed approvals it has so far.
	ApprovalsNeeded int      `json:"approvalsNeeded,omitempty"`
	Approvals       []Signer `json:"approvals,omitempty"`
}

// PreflightResult is what history keeps of a preflight run: counts, a
// summary and references to the stored inventories and report.
type PreflightResult struct {
	Run            int                       `json:"run"`
	Summary        preflight.Summary         `json:"summary"`
	Report         store.Ref                 `json:"report"`
	AWSInventory   store.Ref                 `json:"awsInventory"`
	EntraInventory store.Ref                 `json:"entraInventory"`
	APICalls       []apicalls.OperationCount `json:"apiCalls"`
	// AssignmentListing says how the AWS inventory listed the account
	// assignments (per pair or per principal) and why.
	AssignmentListing preflight.AssignmentListing `json:"assignmentListing,omitzero"`
	// NotReady names the readiness checks that found something missing:
	// the run stopped before the inventories, and approve is refused until
	// a recheck finds nothing missing.
	NotReady []string `json:"notReady,omitempty"`
	// UserMappings says where the user attribute mappings the users were
	// judged by were read, and which differ from the gallery's.
	UserMappings string `json:"userMappings,omitempty"`
	// InstanceARN is the Identity Center instance the inventory read.
	InstanceARN string `json:"instanceArn,omitempty"`
	// FinishedAt is when this run's analysis was done.
	FinishedAt time.Time `json:"finishedAt"`
}

// GateState is what a workflow's status says of its gates: the gate open
// now, the decisions taken, and the newest refused signals (at most
// MaxRefusedShown; RefusedTotal counts them all). Both workflows' statuses
// embed it, so its fields are theirs in JSON.
type GateState struct {
	// ApprovalPolicy is the worker's approval policy in force (nil: none;
	// the request's approvers, if any, apply).
	ApprovalPolicy *ApprovalPolicy `json:"approvalPolicy,omitempty"`
	Gate           *GateStatus     `json:"gate,omitempty"`
	Decisions      []Decision      `json:"decisions"`
	Refused        []RefusedInput  `json:"refused"`
	RefusedTotal   int             `json:"refusedTotal"`
}

// CutoverStatus is the answer to the status query.
type CutoverStatus struct {
	WorkflowID string `json:"workflowId"`
	// RunID is the run a signed decision's statement names.
	RunID     string           `json:"runId,omitempty"`
	Request   CutoverRequest   `json:"request"`
	Phase     string           `json:"phase"`
	Step      string           `json:"step"`
	Preflight *PreflightResult `json:"preflight,omitempty"`
	// GateState is the open gate, the decisions and the refused signals.
	GateState
	// Resources lists what the cutover created or configured so far.
	Resources *Resources `json:"resources,omitempty"`
	// PendingCompensations are what a rollback would undo now, oldest
	// first (it runs them newest first).
	PendingCompensations []string `json:"pendingCompensations,omitempty"`
	// Rollback is the rollback's progress and report, once one started.
	Rollback *RollbackReport `json:"rollback,omitempty"`
}

// RollbackReport says what a rollback undid and what is left to a person.
type RollbackReport struct {
	Trigger     string                `json:"trigger"`
	RequestedBy string                `json:"requestedBy,omitempty"`
	Reason      string                `json:"reason,omitempty"`
	StartedAt   time.Time             `json:"startedAt"`
	FinishedAt  time.Time             `json:"finishedAt,omitzero"`
	Steps       []CompensationOutcome `json:"steps"`
	// ByHand lists what a person must still do.
	ByHand []string `json:"byHand,omitempty"`
}

// CompensationOutcome is one step of a rollback.
type CompensationOutcome struct {
	Undoes string `json:"undoes"`
	// Kind is automated or person.
	Kind    string    `json:"kind"`
	Outcome string    `json:"outcome"`
	By      string    `json:"by,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	At      time.Time `json:"at"`
}

// MaxRefusedShown bounds CutoverStatus.Refused, so a script that keeps
// sending bad signals cannot make status grow without end.
const MaxRefusedShown = 20

// CutoverResult is what a finished cutover returns.
type CutoverResult struct {
	Outcome   string           `json:"outcome"`
	Message   string           `json:"message"`
	Preflight *PreflightResult `json:"preflight,omitempty"`
	Decisions []Decision       `json:"decisions"`
	// Resources lists every resource the cutover created (IDs, names,
	// secret ARNs; never a secret's value), what provisioning did and the
	// verification of the account assignments.
	Resources *Resources `json:"resources,omitempty"`
	// Rollback is the report of the rollback, when the cutover was rolled back.
	Rollback *RollbackReport `json:"rollback,omitempty"`
}

// maxApprovers bounds the request, which history keeps.
const maxApprovers = 50

// allGates are the gates requiredApprovals may name.
var allGates = append(slices.Clone(Gates), GateStepFailed, GateCompensationFailed, GateDeleteSCIMTokens, GateRevertIdentitySource)

// ParseApprovers reads the request's approvers and checks that every gate of
// requiredApprovals can be approved by them.
func (r CutoverRequest) ParseApprovers() ([]approval.Approver, error) {
	var errs []error
	if len(r.Approvers) > maxApprovers {
		errs = append(errs, fmt.Errorf("approvers: %d are more than %d", len(r.Approvers), maxApprovers))
	}
	var approvers []approval.Approver
	names, keys := map[string]bool{}, map[string]string{}
	for i, spec := range r.Approvers {
		a, err := approval.ParseApprover(spec.Name, spec.PublicKey)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("approvers[%d]: %w", i, err))
			continue
		case len(a.Name) > MaxByLength:
			errs = append(errs, fmt.Errorf("approvers[%d]: the name is longer than %d characters", i, MaxByLength))
		case names[strings.ToLower(a.Name)]:
			errs = append(errs, fmt.Errorf("approvers: %q is named twice: name each person once", a.Name))
		case keys[a.Fingerprint] != "":
			errs = append(errs, fmt.Errorf("approvers: %q and %q have the same key (%s): each approver signs with their own key",
				keys[a.Fingerprint], a.Name, a.Fingerprint))
		}
		names[strings.ToLower(a.Name)], keys[a.Fingerprint] = true, a.Name
		approvers = append(approvers, a)
	}

	switch {
	case len(r.Approvers) > 0 && len(r.RequiredApprovals) == 0:
		errs = append(errs, errors.New("approvers are named but requiredApprovals is empty: name the gates that need signed decisions, such as requiredApprovals: {preflight: 2, confirm-sign-in: 1}"))
	}

	canApprove := len(approvers)
	if r.SeparateRequester && slices.ContainsFunc(approvers, r.IsRequester) {
		canApprove--
	}
	gates := make([]string, 0, len(r.RequiredApprovals))
	for gate := range r.RequiredApprovals {
		gates = append(gates, gate)
	}
	slices.Sort(gates) // the same errors in the same order every time
	for _, gate := range gates {
		n := r.RequiredApprovals[gate]
		switch {
		case !slices.Contains(allGates, gate):
			errs = append(errs, fmt.Errorf("requiredApprovals: %q is not a gate; gates are %s", Clip(gate, 100), strings.Join(allGates, ", ")))
		case n < 1:
			errs = append(errs, fmt.Errorf("requiredApprovals[%s] is %d: want at least 1 (leave the gate out to take unsigned decisions there)", gate, n))
		case len(r.Approvers) > 0 && n > canApprove:
			errs = append(errs, fmt.Errorf("requiredApprovals[%s] is %d, but only %d approvers can approve (with separateRequester the requester cannot): name more approvers or ask for fewer",
				gate, n, canApprove))
		}
	}
	return approvers, errors.Join(errs...)
}

// CheckApprovals applies the rules that depend on the worker's approval
// policy p. With one in force it names the approvers, and the request may
// only ask for more approvals: a request that names approvers is refused.
// Without one the request's approvers are the only ones, so asking for
// approvals or four eyes needs some.
func (r CutoverRequest) CheckApprovals(p ApprovalPolicy) error {
	switch {
	case p.InForce() && len(r.Approvers) > 0:
		return fmt.Errorf("the worker's approval policy (%s) names who may approve; a request cannot: remove approvers from the request (requiredApprovals may ask for more approvals than the policy, never fewer)", p.Digest)
	case p.InForce():
		return nil
	case len(r.RequiredApprovals) > 0 && len(r.Approvers) == 0:
		return errors.New("requiredApprovals needs approvers: name the people who sign, with their SSH public keys (or give the worker an approval policy)")
	case r.SeparateRequester && len(r.Approvers) == 0:
		return errors.New("separateRequester needs approvers and requiredApprovals: without them decisions are not signed, so who approves cannot be told apart")
	}
	return nil
}

// IsRequester reports whether a is the person who requested the cutover.
func (r CutoverRequest) IsRequester(a approval.Approver) bool {
	return strings.EqualFold(a.Name, strings.TrimSpace(r.RequestedBy))
}

// CheckSCIMEndpoint checks an endpoint a person copied from the console:
// https://scim.<region>.<DNS suffix>/<tenant ID>/scim/v2, in the instance's
// Region and on its partition's DNS suffix (amazonaws.com, amazonaws.com.cn
// in China). A sandbox cutover also takes a loopback endpoint.
func CheckSCIMEndpoint(endpoint, region string, sandbox bool) error {
	host := partition.SCIMHost(region)
	want := "want the SCIM endpoint as the console shows it, https://" + host + "/<tenant ID>/scim/v2"
	if strings.TrimSpace(endpoint) == "" {
		return fmt.Errorf(`"scimEndpoint" is required: %s`, want)
	}
	if len(endpoint) > maxSCIMEndpointLength {
		return fmt.Errorf(`"scimEndpoint" is longer than %d characters: %s`, maxSCIMEndpointLength, want)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || !scimEndpointPath.MatchString(u.Path) {
		return fmt.Errorf(`"scimEndpoint" %q: %s`, Clip(endpoint, 100), want)
	}
	if sandbox && u.Scheme == "http" && isLoopback(u.Hostname()) {
		return nil
	}
	if u.Scheme != "https" {
		return fmt.Errorf(`"scimEndpoint" %q is not https: %s`, Clip(endpoint, 100), want)
	}
	if u.Host != host {
		return fmt.Errorf(`"scimEndpoint" %q is not on %s, the SCIM host of the instance's Region: %s`, Clip(endpoint, 100), host, want)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// maxSCIMEndpointLength bounds the SCIM endpoint a person sends.
const maxSCIMEndpointLength = 500

// scimEndpointPath is the path of an Identity Center SCIM endpoint:
// /<tenant ID>/scim/v2.
var scimEndpointPath = regexp.MustCompile(`^/[A-Za-z0-9-]{1,100}/scim/v2/?$`)

// Limits on what a person types, so no decision can grow history or status.
const (
	MaxByLength     = 200
	MaxReasonLength = 2000
)

// Clip shortens text a person sent, at a character boundary, before it is
// echoed in an error or in status.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := 0
	for i := range s {
		if i > n {
			break
		}
		end = i
	}
	return s[:end] + "..."
}

// Rollback triggers, as the report names them.
const (
	TriggerReject     = "reject"
	TriggerRollback   = "rollback"
	TriggerStepFailed = "step-failed"
	TriggerCancelled  = "cancelled"
	// TriggerGateTimeout: a gate waited past the request's gateTimeout and
	// onGateTimeout says rollback.
	TriggerGateTimeout = "gate-timeout"
)

// Outcomes of a compensation in the rollback report.
const (
	OutcomeDone      = "done"
	OutcomeConfirmed = "confirmed by a person"
	OutcomeSkipped   = "skipped by a person; to do by hand"
)

// MaxSignatureAge is how long after signing a signed decision must reach
// the workflow (README, Signed approvals).
const MaxSignatureAge = 15 * time.Minute

// DefaultDeleteThreshold is the accidental-deletion threshold a request
// that names none gets: the example value of Microsoft's documentation of
// accidental deletion prevention for provisioning.
const DefaultDeleteThreshold = 500

// DeleteThresholdOrDefault is threshold, or DefaultDeleteThreshold for 0.
func DeleteThresholdOrDefault(threshold int) int {
	if threshold == 0 {
		return DefaultDeleteThreshold
	}
	return threshold
}

func checkDeleteThreshold(threshold int) error {
	if threshold < 0 {
		return fmt.Errorf("deleteThreshold %d: want a positive number of deletions (or leave it out for %d)", threshold, DefaultDeleteThreshold)
	}
	return nil
}
