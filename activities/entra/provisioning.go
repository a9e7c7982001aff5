package entra

// The provisioning activities: the enterprise app's provisioning job, its
// credentials (the AWS SCIM endpoint and token), its start, and its status.
//
// The SCIM token is read from Secrets Manager in ConfigureProvisioning and
// goes nowhere but into the PUT .../synchronization/secrets body: no result,
// error or log line carries it, and an error that would is rewritten.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/secretstore"
	"github.com/platformguide/ssocutover/workflows"
)

// Error types of the provisioning activities' non-retryable errors
// (besides ErrInvalidRequest, ErrAccessDenied and
// ErrSCIMCredentialsRejected).
const (
	// ErrNoProvisioningTemplate: the app offers no aWSSingleSignon
	// synchronization template, so it is not the AWS IAM Identity Center
	// gallery app.
	ErrNoProvisioningTemplate = "NoProvisioningTemplate"
	// ErrProvisioningJobNotFound: the service principal or its job was
	// deleted.
	ErrProvisioningJobNotFound = "ProvisioningJobNotFound"
	// ErrSCIMTokenNotFound: the SCIM token's secret (or that version of it)
	// is not in Secrets Manager.
	ErrSCIMTokenNotFound = "SCIMTokenNotFound"
)

// On-demand provisioning, as Entra allows it: one group and at most five of
// its members a request, five requests per ten seconds. StartProvisioning
// provisions on demand only groups whose direct members all fit in one
// request, and at most one rate-limit window of them: it is a fast first
// pass, and the job's cycles provision everything anyway.
const (
	onDemandMaxMembers = 5
	onDemandMaxGroups  = 5
	// onDemandCandidates bounds how many groups are looked at to find the
	// small ones.
	onDemandCandidates = 20
)

// entraSourceDirectory is the source directory of Entra's outbound rule,
// the one provisionOnDemand takes.
const entraSourceDirectory = "Azure Active Directory"

func (a *Activities) requireGraph(in model.EnterpriseApp, jobID string, needJob bool) error {
	switch {
	case a.Graph == nil:
		return temporal.NewNonRetryableApplicationError("the Entra activities have no Graph client: the worker is misconfigured", ErrInvalidRequest, nil)
	case in.ServicePrincipalID == "":
		return temporal.NewNonRetryableApplicationError("the enterprise app's servicePrincipalId is missing: run EnsureEnterpriseApp first and pass its app", ErrInvalidRequest, nil)
	case needJob && jobID == "":
		return temporal.NewNonRetryableApplicationError("the provisioning job's jobId is missing: run EnsureProvisioningJob first and pass its jobId", ErrInvalidRequest, nil)
	}
	return nil
}

func (a *Activities) synchronization(app model.EnterpriseApp) *serviceprincipals.ItemSynchronizationRequestBuilder {
	return a.Graph.Client.ServicePrincipals().ByServicePrincipalId(app.ServicePrincipalID).Synchronization()
}

// provisioningCallError is callError, except that a 404 means the app or
// job is gone, which no retry brings back.
func provisioningCallError(what string, app model.EnterpriseApp, jobID string, err error) error {
	if statusOf(err) == 404 {
		code, message := graphErrorCode(err)
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: the enterprise app's service principal %s or its provisioning job %s no longer exists (%s: %s). If the app was deleted, roll back and start again; if only the job was, run EnsureProvisioningJob again",
				what, app.ServicePrincipalID, jobID, code, message),
			ErrProvisioningJobNotFound, err)
	}
	return callError(what, err)
}

// EnsureProvisioningJob returns the app's provisioning job of the
// aWSSingleSignon template, creating it when the app has none. A retry after
// a create whose answer was lost finds the job it created.
func (a *Activities) EnsureProvisioningJob(ctx context.Context, in EnsureProvisioningJobInput) (EnsureProvisioningJobResult, error) {
	if err := a.requireGraph(in.App, "", false); err != nil {
		return EnsureProvisioningJobResult{}, err
	}
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)

	templateID, err := a.awsTemplateID(ctx, in.App)
	if err != nil {
		return EnsureProvisioningJobResult{}, err
	}
	jobs, err := a.synchronization(in.App).Jobs().Get(ctx, nil)
	if err != nil {
		return EnsureProvisioningJobResult{}, provisioningCallError("list the provisioning jobs", in.App, "", err)
	}
	// Jobs come oldest first; the oldest of the template is the one.
	for _, job := range jobs.GetValue() {
		if deref(job.GetTemplateId()) == templateID {
			return EnsureProvisioningJobResult{JobID: deref(job.GetId()), TemplateID: templateID, APICalls: calls.Counts()}, nil
		}
	}

	body := models.NewSynchronizationJob()
	body.SetTemplateId(&templateID)
	// The SDK would resend the POST after a 503 or 504 (its retry handler),
	// and a job Entra made before the gateway gave up would get a twin:
	// only a 429 (nothing done) is resent; the activity's retry lists the
	// jobs before it creates one.
	job, err := a.synchronization(in.App).Jobs().Post(ctx, body,
		&serviceprincipals.ItemSynchronizationJobsRequestBuilderPostRequestConfiguration{Options: retryThrottledOnly()})
	if err != nil {
		return EnsureProvisioningJobResult{}, provisioningCallError("create the provisioning job", in.App, "", err)
	}
	return EnsureProvisioningJobResult{JobID: deref(job.GetId()), TemplateID: templateID, Created: true, APICalls: calls.Counts()}, nil
}

// awsTemplateID finds the app's synchronization template by its factory
// tag.
func (a *Activities) awsTemplateID(ctx context.Context, app model.EnterpriseApp) (string, error) {
	templates, err := a.synchronization(app).Templates().Get(ctx, nil)
	if err != nil {
		return "", provisioningCallError("list the provisioning templates", app, "", err)
	}
	for _, t := range templates.GetValue() {
		if strings.EqualFold(deref(t.GetFactoryTag()), AWSProvisioningTemplateFactoryTag) {
			return deref(t.GetId()), nil
		}
	}
	return "", temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("the enterprise app %q (service principal %s) has no provisioning template with factoryTag %s: it is not the AWS IAM Identity Center gallery app. Roll back and let the cutover create the app from the gallery template %s",
			app.DisplayName, app.ServicePrincipalID, AWSProvisioningTemplateFactoryTag, AWSIdentityCenterTemplateID),
		ErrNoProvisioningTemplate, nil)
}

// ConfigureProvisioning saves the SCIM endpoint and the token (read from
// Secrets Manager) as the app's provisioning credentials, with SyncAll off
// (only assigned users and groups are provisioned), and has Entra test
// them. Saving replaces what was saved, so a retry saves the same again.
func (a *Activities) ConfigureProvisioning(ctx context.Context, in ConfigureProvisioningInput) (ConfigureProvisioningResult, error) {
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)
	token, err := a.credentialsToken(ctx, in)
	if err != nil {
		return ConfigureProvisioningResult{}, err
	}
	if err := a.saveCredentials(ctx, in, token); err != nil {
		return ConfigureProvisioningResult{}, withoutSecret(err, token)
	}
	if err := a.validateSavedCredentials(ctx, in); err != nil {
		return ConfigureProvisioningResult{}, withoutSecret(err, token)
	}
	return ConfigureProvisioningResult{APICalls: calls.Counts()}, nil
}

// credentialsToken checks what saving credentials needs (the job, an
// endpoint, a token reference and the client that reads it) and reads the
// token.
func (a *Activities) credentialsToken(ctx context.Context, in ConfigureProvisioningInput) (secretstore.Value, error) {
	if err := a.requireGraph(in.App, in.JobID, true); err != nil {
		return secretstore.Value{}, err
	}
	if err := checkSCIMEndpoint(in.SCIMEndpoint); err != nil {
		return secretstore.Value{}, err
	}
	if a.Secrets == nil {
		return secretstore.Value{}, temporal.NewNonRetryableApplicationError("the Entra activities have no Secrets Manager client: the worker is misconfigured", ErrInvalidRequest, nil)
	}
	if in.SCIMToken.ARN == "" {
		return secretstore.Value{}, temporal.NewNonRetryableApplicationError("the SCIM token reference (scimToken) is missing: store the token in Secrets Manager and submit its reference", ErrInvalidRequest, nil)
	}
	return a.readSCIMToken(ctx, in.SCIMToken)
}

// readSCIMToken reads the token from Secrets Manager; a secret or version
// that is not there is ErrSCIMTokenNotFound. Its errors name the secret,
// never its value; other errors are retried.
func (a *Activities) readSCIMToken(ctx context.Context, ref secretref.Ref) (secretstore.Value, error) {
	token, err := secretstore.Read(ctx, a.Secrets, ref)
	if errors.Is(err, secretstore.ErrNotFound) {
		return secretstore.Value{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the SCIM token %s is not in Secrets Manager: store the token again and submit the new reference", ref),
			ErrSCIMTokenNotFound, err)
	}
	return token, err
}

// checkSCIMEndpoint refuses what cannot be a SCIM endpoint. The sandbox's
// is plain http; AWS's is https://scim.<region>.amazonaws.com/<tenant>/scim/v2.
func checkSCIMEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the SCIM endpoint %q is not a URL: submit the endpoint the IAM Identity Center console shows (https://scim.<region>.amazonaws.com/<tenant ID>/scim/v2)", endpoint),
			ErrInvalidRequest, nil)
	}
	return nil
}

// saveCredentials PUTs the provisioning secrets.
func (a *Activities) saveCredentials(ctx context.Context, in ConfigureProvisioningInput, token secretstore.Value) error {
	secrets := []models.SynchronizationSecretKeyStringValuePairable{
		secretPair(models.BASEADDRESS_SYNCHRONIZATIONSECRET, in.SCIMEndpoint),
		secretPair(models.SECRETTOKEN_SYNCHRONIZATIONSECRET, token.Reveal()),
		secretPair(models.SYNCALL_SYNCHRONIZATIONSECRET, "false"),
	}
	// Accidental deletion prevention stays on: a cycle that would delete
	// more than the threshold stops for a person. Graph never returns the
	// saved secrets, so an administrator's value set in the portal cannot
	// be read and kept; the request's value is saved every time.
	settings, err := json.Marshal(syncNotificationSettings{
		Enabled:                in.NotificationEmail != "",
		Recipients:             in.NotificationEmail,
		DeleteThresholdEnabled: true,
		DeleteThresholdValue:   workflows.DeleteThresholdOrDefault(in.DeleteThreshold),
	})
	if err != nil {
		return err
	}
	secrets = append(secrets, secretPair(models.SYNCNOTIFICATIONSETTINGS_SYNCHRONIZATIONSECRET, string(settings)))
	body := serviceprincipals.NewItemSynchronizationSecretsPutRequestBody()
	body.SetValue(secrets)
	if _, err := a.synchronization(in.App).Secrets().Put(ctx, body, nil); err != nil {
		return provisioningCallError("save the provisioning credentials", in.App, in.JobID, err)
	}
	return nil
}

// syncNotificationSettings is the value of the SyncNotificationSettings
// secret: failure e-mails and accidental deletion prevention
// (https://learn.microsoft.com/graph/api/resources/synchronization-synchronizationsecretkeystringvaluepair).
type syncNotificationSettings struct {
	Enabled                bool   `json:"Enabled"`
	Recipients             string `json:"Recipients"`
	DeleteThresholdEnabled bool   `json:"DeleteThresholdEnabled"`
	DeleteThresholdValue   int    `json:"DeleteThresholdValue"`
}

func secretPair(key models.SynchronizationSecret, value string) models.SynchronizationSecretKeyStringValuePairable {
	p := models.NewSynchronizationSecretKeyStringValuePair()
	p.SetKey(&key)
	p.SetValue(&value)
	return p
}

// validateSavedCredentials is the portal's "Test connection": Entra calls
// the SCIM endpoint with the saved token. Graph answers 400 when the
// endpoint refuses it or does not answer.
func (a *Activities) validateSavedCredentials(ctx context.Context, in ConfigureProvisioningInput) error {
	body := serviceprincipals.NewItemSynchronizationJobsItemValidateCredentialsPostRequestBody()
	useSaved := true
	body.SetUseSavedCredentials(&useSaved)
	return a.testCredentials(ctx, in.App, in.JobID, body, "test the provisioning credentials", func(code, message string) string {
		return fmt.Sprintf("Entra could not use the SCIM endpoint %s with the token %s (%s: %s). Check that the endpoint is the one the IAM Identity Center console shows and that the token still exists there and has not expired; if in doubt, create a new token in the console, store it in Secrets Manager, and submit the endpoint and the new token reference again",
			in.SCIMEndpoint, in.SCIMToken, code, message)
	})
}

// testCredentials posts validateCredentials. Graph answers 400 when the
// SCIM endpoint refuses the credentials or does not answer: that is
// ErrSCIMCredentialsRejected, with refused's words for Graph's code and
// message; other failures are what step met, retried.
func (a *Activities) testCredentials(ctx context.Context, app model.EnterpriseApp, jobID string,
	body serviceprincipals.ItemSynchronizationJobsItemValidateCredentialsPostRequestBodyable, step string, refused func(code, message string) string) error {
	err := a.synchronization(app).Jobs().BySynchronizationJobId(jobID).ValidateCredentials().Post(ctx, body, nil)
	if err == nil {
		return nil
	}
	if statusOf(err) == 400 {
		code, message := graphErrorCode(err)
		if endpointUnavailable(message) {
			// The test met AWS's SCIM rate limit or a server error, not a
			// bad token: the activity tries again (saving and testing is
			// idempotent).
			return temporal.NewApplicationError(fmt.Sprintf("Entra's credential test met a SCIM endpoint that was throttling or failing (%s); trying again", code), ErrSCIMEndpointUnavailable)
		}
		return temporal.NewNonRetryableApplicationError(refused(code, message), ErrSCIMCredentialsRejected, err)
	}
	return provisioningCallError(step, app, jobID, err)
}

// endpointUnavailable says whether Entra's answer to a credential test
// quotes a 429 or a 5xx of the SCIM endpoint (Entra puts the response it
// received in the message): a state of the endpoint, which passes, not a
// refusal of the credentials. Graph documents no code for it, so the
// message is read.
func endpointUnavailable(message string) bool {
	return unavailableStatus.MatchString(message)
}

var unavailableStatus = regexp.MustCompile(`(?i)(\b(429|50[0-4])\s+(too many requests|internal server error|bad gateway|service unavailable|gateway time-?out))|too many requests|service unavailable`)

// withoutSecret makes sure an error does not carry the secret: should a
// message ever echo it, the error is replaced by one that says the same
// without it (and without the original as cause, which would carry it).
func withoutSecret(err error, secret secretstore.Value) error {
	if err == nil || secret.IsZero() || !strings.Contains(err.Error(), secret.Reveal()) {
		return err
	}
	message := strings.ReplaceAll(err.Error(), secret.Reveal(), "[the SCIM token]")
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.NonRetryable() {
		return temporal.NewNonRetryableApplicationError(message, app.Type(), nil)
	}
	return errors.New(message)
}

// StartProvisioning starts the job unless it is running already (Graph asks
// callers not to start a running job again), then provisions on demand the
// assigned groups small enough for one request, so that they reach AWS
// before the first cycle gets to them. A job that was running already has
// its cycles doing that work: it gets no on-demand requests.
func (a *Activities) StartProvisioning(ctx context.Context, in StartProvisioningInput) (StartProvisioningResult, error) {
	if err := a.requireGraph(in.App, in.JobID, true); err != nil {
		return StartProvisioningResult{}, err
	}
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)
	jobRequest := a.synchronization(in.App).Jobs().BySynchronizationJobId(in.JobID)

	job, err := jobRequest.Get(ctx, nil)
	if err != nil {
		return StartProvisioningResult{}, provisioningCallError("read the provisioning job", in.App, in.JobID, err)
	}
	if running(job) {
		return StartProvisioningResult{APICalls: calls.Counts()}, nil
	}
	if err := jobRequest.Start().Post(ctx, nil); err != nil {
		return StartProvisioningResult{}, provisioningCallError("start the provisioning job", in.App, in.JobID, err)
	}
	// On-demand provisioning only speeds the first pass up: when it fails,
	// the job's cycles do the work, so the activity still succeeds.
	onDemand, err := a.provisionSmallGroupsOnDemand(ctx, in)
	if err != nil {
		activity.GetLogger(ctx).Warn("on-demand provisioning stopped; the job's cycles provision the rest", "job", in.JobID, "error", err)
	}
	return StartProvisioningResult{OnDemandGroups: onDemand, APICalls: calls.Counts()}, nil
}

// running reports whether the job's cycles run: scheduled, and not in
// quarantine (start lifts a quarantine).
func running(job models.SynchronizationJobable) bool {
	schedule, status := job.GetSchedule(), job.GetStatus()
	if schedule == nil || schedule.GetState() == nil || *schedule.GetState() != models.ACTIVE_SYNCHRONIZATIONSCHEDULESTATE {
		return false
	}
	return status == nil || status.GetCode() == nil || *status.GetCode() != models.QUARANTINE_SYNCHRONIZATIONSTATUSCODE
}

// provisionSmallGroupsOnDemand provisions on demand, with all their direct
// members, up to onDemandMaxGroups of the assigned groups that have at most
// onDemandMaxMembers direct users, and returns how many Entra provisioned
// (or found already provisioned). A group Entra could not provision is
// left to the cycles and logged.
func (a *Activities) provisionSmallGroupsOnDemand(ctx context.Context, in StartProvisioningInput) (int, error) {
	if len(in.GroupIDs) == 0 {
		return 0, nil
	}
	ruleID, err := a.outboundRuleID(ctx, in)
	if err != nil || ruleID == "" {
		return 0, err
	}
	logger := activity.GetLogger(ctx)
	provisioned := 0
	for _, groupID := range slices.Sorted(slices.Values(in.GroupIDs))[:min(len(in.GroupIDs), onDemandCandidates)] {
		if provisioned == onDemandMaxGroups {
			break
		}
		members, small, err := a.smallGroupMembers(ctx, groupID)
		if err != nil {
			return provisioned, err
		}
		if !small {
			continue
		}
		result, err := a.provisionOnDemand(ctx, in, ruleID, groupID, members)
		if err != nil {
			return provisioned, err
		}
		if result.done() {
			provisioned++
		} else {
			logger.Warn("on-demand provisioning did not provision the group; the job's cycles will",
				"group", groupID, "result", result.Result, "errorCode", result.Details.ErrorCode, "error", result.Details.ErrorMessage)
		}
	}
	return provisioned, nil
}

// outboundRuleID is the job's rule from Entra to the app, which on-demand
// requests name. A job without one gets no on-demand requests.
func (a *Activities) outboundRuleID(ctx context.Context, in StartProvisioningInput) (string, error) {
	schema, err := a.synchronization(in.App).Jobs().BySynchronizationJobId(in.JobID).Schema().Get(ctx, nil)
	if err != nil {
		return "", provisioningCallError("read the provisioning job's schema", in.App, in.JobID, err)
	}
	for _, rule := range schema.GetSynchronizationRules() {
		if deref(rule.GetSourceDirectoryName()) == entraSourceDirectory {
			return deref(rule.GetId()), nil
		}
	}
	activity.GetLogger(ctx).Warn("the provisioning job has no rule from Entra ID; no group is provisioned on demand", "job", in.JobID)
	return "", nil
}

// smallGroupMembers returns the group's direct user members when there are
// at most onDemandMaxMembers of them.
func (a *Activities) smallGroupMembers(ctx context.Context, groupID string) ([]string, bool, error) {
	page, err := a.Graph.Client.Groups().ByGroupId(groupID).Members().GraphUser().Get(ctx, &groups.ItemMembersGraphUserRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.ItemMembersGraphUserRequestBuilderGetQueryParameters{Select: []string{"id"}, Top: ptr(int32(onDemandMaxMembers + 1))},
	})
	if err != nil {
		return nil, false, callError("list the members of group "+groupID, err)
	}
	if len(page.GetValue()) > onDemandMaxMembers || page.GetOdataNextLink() != nil {
		return nil, false, nil
	}
	ids := make([]string, 0, len(page.GetValue()))
	for _, u := range page.GetValue() {
		ids = append(ids, deref(u.GetId()))
	}
	return ids, true, nil
}

// onDemandResult is the key of provisionOnDemand's answer.
type onDemandResult struct {
	Result  string `json:"result"`
	Details struct {
		ErrorCode    string `json:"errorCode"`
		ErrorMessage string `json:"errorMessage"`
	} `json:"details"`
}

// done reports whether the group is in AWS now: provisioned, or found
// already in the state Entra would have made.
func (r onDemandResult) done() bool {
	return r.Result == "Success" || (r.Result == "Skipped" && r.Details.ErrorCode == "RedundantExport")
}

func (a *Activities) provisionOnDemand(ctx context.Context, in StartProvisioningInput, ruleID, groupID string, memberIDs []string) (onDemandResult, error) {
	subject := models.NewSynchronizationJobSubject()
	subject.SetObjectId(&groupID)
	subject.SetObjectTypeName(ptr("Group"))
	if len(memberIDs) > 0 {
		members := make([]models.SynchronizationJobSubjectable, len(memberIDs))
		for i, id := range memberIDs {
			m := models.NewSynchronizationJobSubject()
			m.SetObjectId(ptr(id))
			m.SetObjectTypeName(ptr("User"))
			members[i] = m
		}
		links := models.NewSynchronizationLinkedObjects()
		links.SetMembers(members)
		subject.SetLinks(links)
	}
	params := models.NewSynchronizationJobApplicationParameters()
	params.SetRuleId(&ruleID)
	params.SetSubjects([]models.SynchronizationJobSubjectable{subject})
	body := serviceprincipals.NewItemSynchronizationJobsItemProvisionOnDemandPostRequestBody()
	body.SetParameters([]models.SynchronizationJobApplicationParametersable{params})

	answer, err := a.synchronization(in.App).Jobs().BySynchronizationJobId(in.JobID).ProvisionOnDemand().Post(ctx, body, nil)
	if err != nil {
		return onDemandResult{}, provisioningCallError("provision group "+groupID+" on demand", in.App, in.JobID, err)
	}
	var result onDemandResult
	if answer == nil || json.Unmarshal([]byte(deref(answer.GetKey())), &result) != nil {
		result.Result = "Unknown"
	}
	return result, nil
}

// ProvisioningJobStatus reads what the job reports of itself.
func (a *Activities) ProvisioningJobStatus(ctx context.Context, in ProvisioningJobStatusInput) (model.ProvisioningJobStatus, error) {
	if err := a.requireGraph(in.App, in.JobID, true); err != nil {
		return model.ProvisioningJobStatus{}, err
	}
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)
	job, err := a.synchronization(in.App).Jobs().BySynchronizationJobId(in.JobID).Get(ctx, nil)
	if err != nil {
		return model.ProvisioningJobStatus{}, provisioningCallError("read the provisioning job", in.App, in.JobID, err)
	}
	res := jobStatus(job.GetStatus())
	res.APICalls = calls.Counts()
	return res, nil
}

// jobStatus maps Graph's synchronizationStatus onto the activity's result.
func jobStatus(st models.SynchronizationStatusable) model.ProvisioningJobStatus {
	res := model.ProvisioningJobStatus{Code: model.JobNotRun}
	if st == nil {
		return res
	}
	if code := st.GetCode(); code != nil {
		res.Code = code.String()
	}
	if q := st.GetQuarantine(); q != nil && q.GetReason() != nil {
		res.QuarantineReason = q.GetReason().String()
		if e := q.GetError(); e != nil {
			res.QuarantineReason += ": " + deref(e.GetMessage())
			res.QuarantineErrorCode = deref(e.GetCode())
		}
	}
	if last := st.GetLastExecution(); last != nil {
		if state := last.GetState(); state != nil {
			res.LastExecutionState = state.String()
		}
		res.LastExecutionEnded = graphTime(last.GetTimeEnded())
		if e := last.GetError(); e != nil {
			res.LastExecutionError = deref(e.GetCode()) + ": " + deref(e.GetMessage())
		}
		res.Escrowed = int(deref(last.GetCountEscrowed()))
	}
	res.SteadyStateAchieved = graphTime(st.GetSteadyStateLastAchievedTime())
	for _, c := range st.GetSynchronizedEntryCountByType() {
		if res.Provisioned == nil {
			res.Provisioned = map[string]int{}
		}
		// Graph names the types "user to User", "group to Group": source
		// to target. The target's name is what the target holds.
		key := deref(c.GetKey())
		if _, target, ok := strings.Cut(key, " to "); ok {
			key = target
		}
		res.Provisioned[key] = int(deref(c.GetValue()))
	}
	return res
}

// graphTime is a time Graph reported; Graph writes "never" as
// 0001-01-01T00:00:00Z, which becomes the zero time.
func graphTime(t *time.Time) time.Time {
	if t == nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t.UTC()
}
