package sandbox

// Secrets Manager over JSON 1.1 (`X-Amz-Target: secretsmanager.<Op>`): the
// secrets the cutover keeps (the break-glass password, the SCIM token).
// Secrets are regional, held per region of the request's signature, in the
// world's management account.
//
// As in Secrets Manager, a version's ID is the ClientRequestToken of the
// call that created it (the SDK fills one in when the caller gives none), so
// a retried CreateSecret or PutSecretValue with the same token and value is
// a success that creates nothing, and the same token with another value is
// refused. Secret values appear in GetSecretValue answers only: never in
// another answer, an error message or a log.

import (
	"bytes"
	"crypto/sha256"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// secretsMaxValueBytes is the largest SecretString or SecretBinary.
	secretsMaxValueBytes = 65536
	// secretsMaxVersions is how many versions a secret keeps; past it the
	// oldest versions without a staging label are removed, as Secrets
	// Manager does.
	secretsMaxVersions = 100
	// secretsDefaultRecoveryDays is the recovery window of a DeleteSecret
	// that sets none.
	secretsDefaultRecoveryDays = 30

	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"

	// secretsMaxListResults is the largest MaxResults of
	// ListSecretVersionIds.
	secretsMaxListResults = 100
)

var secretNamePattern = regexp.MustCompile(`^[a-zA-Z0-9/_+=.@-]{1,512}$`)

type secretsState struct {
	mu        sync.Mutex
	accountID string
	// clock is the sandbox's (movable) time: versions are dated by it.
	clock   func() time.Time
	secrets map[secretKey]*awsSecret
}

type secretKey struct {
	region string
	name   string
}

type awsSecret struct {
	Name        string
	ARN         string
	Description string
	Created     time.Time
	LastChanged time.Time
	// Deleted is when DeleteSecret scheduled the secret for deletion
	// (nil while it is live); DeletionDate is when it goes.
	Deleted      *time.Time
	DeletionDate time.Time
	Tags         []secretTag
	// createToken is the ClientRequestToken of the CreateSecret that made
	// the secret, to recognise a retry of it.
	createToken  string
	versions     map[string]*secretVersion // by version ID
	versionOrder []string                  // version IDs, oldest first
	stages       map[string]string         // staging label -> version ID
}

type secretTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type secretVersion struct {
	ID      string
	String  *string
	Binary  []byte
	Created time.Time
}

func (v *secretVersion) sameValue(s *string, b []byte) bool {
	return (v.String == nil) == (s == nil) && (v.String == nil || *v.String == *s) && bytes.Equal(v.Binary, b)
}

func newSecretsState(accountID string, clock func() time.Time) *secretsState {
	if clock == nil {
		clock = time.Now
	}
	return &secretsState{accountID: accountID, clock: clock, secrets: map[secretKey]*awsSecret{}}
}

// now is the sandbox's time, in UTC.
func (s *secretsState) now() time.Time { return s.clock().UTC() }

func (s *awsServer) secretsManagerOperations() map[string]awsOperation {
	return map[string]awsOperation{
		"CreateSecret":   s.createSecret,
		"PutSecretValue": s.putSecretValue,
		"GetSecretValue": s.getSecretValue,
		"DescribeSecret": s.describeSecret,
		"DeleteSecret":   s.deleteSecret,

		"UpdateSecretVersionStage": s.updateSecretVersionStage,
		"ListSecretVersionIds":     s.listSecretVersionIds,
	}
}

func secretsError(kind, message string) *awsError {
	return &awsError{Type: kind, Status: http.StatusBadRequest, Message: message}
}

func secretNotFound() *awsError {
	return secretsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

func secretMarkedForDeletion() *awsError {
	return secretsError("InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.")
}

// secretARN gives a secret the ARN shape of Secrets Manager,
// arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>;
// the six characters are derived from the name so they are stable.
func secretARN(region, accountID, name string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	sum := sha256.Sum256([]byte("secret-arn-suffix\x00" + region + "\x00" + name))
	suffix := make([]byte, 6)
	for i := range suffix {
		suffix[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return "arn:aws:secretsmanager:" + region + ":" + accountID + ":secret:" + name + "-" + string(suffix)
}

// awsEpoch writes a timestamp as the JSON protocol does: epoch seconds,
// with milliseconds.
func awsEpoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// find looks a secret up by name or full ARN in the caller's region; the
// caller holds s.mu.
func (s *secretsState) find(call *awsCall, secretID string) (*awsSecret, error) {
	if secretID == "" {
		return nil, awsValidationError("1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null")
	}
	if strings.HasPrefix(secretID, "arn:") {
		// arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>
		parts := strings.SplitN(secretID, ":", 7)
		if len(parts) == 7 && parts[3] == call.region {
			if i := strings.LastIndex(parts[6], "-"); i > 0 {
				if secret, ok := s.secrets[secretKey{call.region, parts[6][:i]}]; ok && secret.ARN == secretID {
					return secret, nil
				}
			}
		}
		return nil, secretNotFound()
	}
	secret, ok := s.secrets[secretKey{call.region, secretID}]
	if !ok {
		return nil, secretNotFound()
	}
	return secret, nil
}

// withSecret runs op on the secret secretID names (see find) while holding
// s.mu; a secret the caller's region does not have is not found and op does
// not run.
func (s *secretsState) withSecret(call *awsCall, secretID string, op func(secret *awsSecret) (any, error)) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	secret, err := s.find(call, secretID)
	if err != nil {
		return nil, err
	}
	return op(secret)
}

// checkSecretValue checks the value of a create or put: at most one of
// string and binary, within the size limit.
func checkSecretValue(str *string, bin []byte) error {
	if str != nil && bin != nil {
		return secretsError("InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret.")
	}
	if (str != nil && len(*str) > secretsMaxValueBytes) || len(bin) > secretsMaxValueBytes {
		return secretsError("InvalidParameterException", "The secret value exceeds the maximum size of 65536 bytes.")
	}
	return nil
}

// checkClientRequestToken checks a ClientRequestToken, which becomes the
// version ID: 32 to 64 characters.
func checkClientRequestToken(token string) error {
	if len(token) < 32 || len(token) > 64 {
		return awsValidationError("1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length between 32 and 64")
	}
	return nil
}

// addVersion stores a new version and moves the requested staging labels to
// it; a version that loses AWSCURRENT becomes AWSPREVIOUS. The caller holds
// the lock.
func (secret *awsSecret) addVersion(v *secretVersion, stages []string) {
	secret.versions[v.ID] = v
	secret.versionOrder = append(secret.versionOrder, v.ID)
	for _, stage := range stages {
		if stage == stageCurrent {
			if old, ok := secret.stages[stageCurrent]; ok && old != v.ID {
				secret.stages[stagePrevious] = old
			}
		}
		secret.stages[stage] = v.ID
	}
	secret.LastChanged = v.Created
	for len(secret.versionOrder) > secretsMaxVersions {
		i := slices.IndexFunc(secret.versionOrder, func(id string) bool { return len(secret.stagesOf(id)) == 0 })
		if i < 0 {
			break
		}
		delete(secret.versions, secret.versionOrder[i])
		secret.versionOrder = slices.Delete(secret.versionOrder, i, i+1)
	}
}

// stagesOf lists the staging labels of a version, sorted.
func (secret *awsSecret) stagesOf(versionID string) []string {
	stages := []string{}
	for stage, id := range secret.stages {
		if id == versionID {
			stages = append(stages, stage)
		}
	}
	slices.Sort(stages)
	return stages
}

func (s *awsServer) createSecret(call *awsCall) (any, error) {
	var req struct {
		Name               string      `json:"Name"`
		ClientRequestToken string      `json:"ClientRequestToken"`
		Description        string      `json:"Description"`
		SecretString       *string     `json:"SecretString"`
		SecretBinary       []byte      `json:"SecretBinary"`
		Tags               []secretTag `json:"Tags"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	if !secretNamePattern.MatchString(req.Name) {
		return nil, secretsError("InvalidParameterException", "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	if err := checkSecretValue(req.SecretString, req.SecretBinary); err != nil {
		return nil, err
	}
	hasValue := req.SecretString != nil || req.SecretBinary != nil
	if hasValue {
		if err := checkClientRequestToken(req.ClientRequestToken); err != nil {
			return nil, err
		}
	}
	st := s.secrets
	st.mu.Lock()
	defer st.mu.Unlock()
	key := secretKey{call.region, req.Name}
	type createSecretResult struct {
		ARN       string `json:"ARN"`
		Name      string `json:"Name"`
		VersionID string `json:"VersionId,omitempty"`
	}
	if existing, ok := st.secrets[key]; ok {
		if existing.Deleted != nil {
			return nil, secretsError("InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.")
		}
		// A retry of the create that made this secret (same token, same
		// value) succeeds; anything else is a second secret of the same
		// name, or an attempt to change a version's value.
		if req.ClientRequestToken == "" || req.ClientRequestToken != existing.createToken {
			return nil, secretsError("ResourceExistsException", "The operation failed because the secret "+req.Name+" already exists.")
		}
		v, created := existing.versions[req.ClientRequestToken]
		switch {
		case !hasValue && !created:
			return createSecretResult{ARN: existing.ARN, Name: existing.Name}, nil
		case hasValue && created && v.sameValue(req.SecretString, req.SecretBinary):
			return createSecretResult{ARN: existing.ARN, Name: existing.Name, VersionID: v.ID}, nil
		}
		return nil, secretsError("ResourceExistsException", "You can't modify an existing version, you can only create a new version. Use PutSecretValue with another ClientRequestToken.")
	}
	now := st.now()
	secret := &awsSecret{
		Name:        req.Name,
		ARN:         secretARN(call.region, st.accountID, req.Name),
		Description: req.Description,
		Created:     now,
		LastChanged: now,
		Tags:        slices.Clone(req.Tags),
		createToken: req.ClientRequestToken,
		versions:    map[string]*secretVersion{},
		stages:      map[string]string{},
	}
	result := createSecretResult{ARN: secret.ARN, Name: secret.Name}
	if hasValue {
		secret.addVersion(&secretVersion{ID: req.ClientRequestToken, String: req.SecretString, Binary: slices.Clone(req.SecretBinary), Created: now}, []string{stageCurrent})
		result.VersionID = req.ClientRequestToken
	}
	st.secrets[key] = secret
	return result, nil
}

func (s *awsServer) putSecretValue(call *awsCall) (any, error) {
	var req struct {
		SecretID           string   `json:"SecretId"`
		ClientRequestToken string   `json:"ClientRequestToken"`
		SecretString       *string  `json:"SecretString"`
		SecretBinary       []byte   `json:"SecretBinary"`
		VersionStages      []string `json:"VersionStages"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	if err := checkSecretValue(req.SecretString, req.SecretBinary); err != nil {
		return nil, err
	}
	if req.SecretString == nil && req.SecretBinary == nil {
		return nil, secretsError("InvalidRequestException", "You must provide either SecretString or SecretBinary.")
	}
	if err := checkClientRequestToken(req.ClientRequestToken); err != nil {
		return nil, err
	}
	stages := req.VersionStages
	if len(stages) == 0 {
		stages = []string{stageCurrent}
	}
	return s.secrets.withSecret(call, req.SecretID, func(secret *awsSecret) (any, error) {
		if secret.Deleted != nil {
			return nil, secretMarkedForDeletion()
		}
		type putSecretValueResult struct {
			ARN           string   `json:"ARN"`
			Name          string   `json:"Name"`
			VersionID     string   `json:"VersionId"`
			VersionStages []string `json:"VersionStages"`
		}
		if v, ok := secret.versions[req.ClientRequestToken]; ok {
			if !v.sameValue(req.SecretString, req.SecretBinary) {
				return nil, secretsError("ResourceExistsException", "You can't modify an existing version, you can only create a new version. Use another ClientRequestToken.")
			}
			return putSecretValueResult{ARN: secret.ARN, Name: secret.Name, VersionID: v.ID, VersionStages: secret.stagesOf(v.ID)}, nil
		}
		v := &secretVersion{ID: req.ClientRequestToken, String: req.SecretString, Binary: slices.Clone(req.SecretBinary), Created: s.secrets.now()}
		secret.addVersion(v, stages)
		return putSecretValueResult{ARN: secret.ARN, Name: secret.Name, VersionID: v.ID, VersionStages: secret.stagesOf(v.ID)}, nil
	})
}

func (s *awsServer) getSecretValue(call *awsCall) (any, error) {
	var req struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string `json:"VersionStage"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	return s.secrets.withSecret(call, req.SecretID, func(secret *awsSecret) (any, error) {
		if secret.Deleted != nil {
			return nil, secretMarkedForDeletion()
		}
		versionID := req.VersionID
		if req.VersionStage != "" || versionID == "" {
			stage := req.VersionStage
			if stage == "" {
				stage = stageCurrent
			}
			staged, ok := secret.stages[stage]
			if !ok || (versionID != "" && versionID != staged) {
				return nil, secretsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: "+stage)
			}
			versionID = staged
		}
		v, ok := secret.versions[versionID]
		if !ok {
			return nil, secretsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: "+versionID)
		}
		return struct {
			ARN           string   `json:"ARN"`
			Name          string   `json:"Name"`
			VersionID     string   `json:"VersionId"`
			SecretString  *string  `json:"SecretString,omitempty"`
			SecretBinary  []byte   `json:"SecretBinary,omitempty"`
			VersionStages []string `json:"VersionStages"`
			CreatedDate   float64  `json:"CreatedDate"`
		}{secret.ARN, secret.Name, v.ID, v.String, v.Binary, secret.stagesOf(v.ID), awsEpoch(v.Created)}, nil
	})
}

// describeSecret describes a secret without its value; a secret scheduled
// for deletion can still be described, with its DeletedDate.
func (s *awsServer) describeSecret(call *awsCall) (any, error) {
	var req struct {
		SecretID string `json:"SecretId"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	return s.secrets.withSecret(call, req.SecretID, func(secret *awsSecret) (any, error) {
		versions := map[string][]string{}
		for _, id := range secret.versionOrder {
			versions[id] = secret.stagesOf(id)
		}
		var deleted *float64
		if secret.Deleted != nil {
			d := awsEpoch(*secret.Deleted)
			deleted = &d
		}
		return struct {
			ARN                string              `json:"ARN"`
			Name               string              `json:"Name"`
			Description        string              `json:"Description,omitempty"`
			CreatedDate        float64             `json:"CreatedDate"`
			LastChangedDate    float64             `json:"LastChangedDate"`
			DeletedDate        *float64            `json:"DeletedDate,omitempty"`
			RotationEnabled    bool                `json:"RotationEnabled"`
			Tags               []secretTag         `json:"Tags"`
			VersionIdsToStages map[string][]string `json:"VersionIdsToStages"`
		}{secret.ARN, secret.Name, secret.Description, awsEpoch(secret.Created), awsEpoch(secret.LastChanged), deleted, false, slices.Clone(secret.Tags), versions}, nil
	})
}

// deleteSecret schedules a secret for deletion after its recovery window
// (7 to 30 days, 30 by default), or removes it at once with
// ForceDeleteWithoutRecovery.
func (s *awsServer) deleteSecret(call *awsCall) (any, error) {
	var req struct {
		SecretID                   string `json:"SecretId"`
		RecoveryWindowInDays       *int64 `json:"RecoveryWindowInDays"`
		ForceDeleteWithoutRecovery *bool  `json:"ForceDeleteWithoutRecovery"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	force := req.ForceDeleteWithoutRecovery != nil && *req.ForceDeleteWithoutRecovery
	if force && req.RecoveryWindowInDays != nil {
		return nil, secretsError("InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	days := int64(secretsDefaultRecoveryDays)
	if req.RecoveryWindowInDays != nil {
		days = *req.RecoveryWindowInDays
		if days < 7 || days > 30 {
			return nil, secretsError("InvalidParameterException", "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		}
	}
	st := s.secrets
	return st.withSecret(call, req.SecretID, func(secret *awsSecret) (any, error) {
		now := st.now()
		if force {
			delete(st.secrets, secretKey{call.region, secret.Name})
			secret.DeletionDate = now
		} else {
			if secret.Deleted != nil {
				return nil, secretMarkedForDeletion()
			}
			secret.Deleted = &now
			secret.DeletionDate = now.Add(time.Duration(days) * 24 * time.Hour)
		}
		return struct {
			ARN          string  `json:"ARN"`
			Name         string  `json:"Name"`
			DeletionDate float64 `json:"DeletionDate"`
		}{secret.ARN, secret.Name, awsEpoch(secret.DeletionDate)}, nil
	})
}

// updateSecretVersionStage moves a staging label, as Secrets Manager does:
// the label goes to MoveToVersionId, and when another version holds it
// that version must be named in RemoveFromVersionId (so a caller cannot
// take a label it did not know was elsewhere); with RemoveFromVersionId
// alone the label is removed. Moving AWSCURRENT labels the version that
// had it AWSPREVIOUS. AWSCURRENT can be moved but not removed.
func (s *awsServer) updateSecretVersionStage(call *awsCall) (any, error) {
	var req struct {
		SecretID            string `json:"SecretId"`
		VersionStage        string `json:"VersionStage"`
		MoveToVersionID     string `json:"MoveToVersionId"`
		RemoveFromVersionID string `json:"RemoveFromVersionId"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	if len(req.VersionStage) < 1 || len(req.VersionStage) > 256 {
		return nil, awsValidationError("1 validation error detected: Value at 'versionStage' failed to satisfy constraint: Member must have length between 1 and 256")
	}
	return s.secrets.withSecret(call, req.SecretID, func(secret *awsSecret) (any, error) {
		if secret.Deleted != nil {
			return nil, secretMarkedForDeletion()
		}
		if err := secret.moveStage(req.VersionStage, req.MoveToVersionID, req.RemoveFromVersionID); err != nil {
			return nil, err
		}
		secret.LastChanged = s.secrets.now()
		return struct {
			ARN  string `json:"ARN"`
			Name string `json:"Name"`
		}{secret.ARN, secret.Name}, nil
	})
}

// moveStage is updateSecretVersionStage's change; the caller holds the lock.
func (secret *awsSecret) moveStage(stage, moveTo, removeFrom string) error {
	for _, id := range []string{moveTo, removeFrom} {
		if _, ok := secret.versions[id]; id != "" && !ok {
			return secretsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: "+id)
		}
	}
	holder, held := secret.stages[stage]
	switch {
	case moveTo == "" && removeFrom == "":
		return secretsError("InvalidParameterException", "You must specify MoveToVersionId, RemoveFromVersionId, or both.")
	case removeFrom != "" && (!held || holder != removeFrom):
		return secretsError("InvalidParameterException", "The staging label "+stage+" is not attached to the version "+removeFrom+" (RemoveFromVersionId).")
	case moveTo == "" && stage == stageCurrent:
		return secretsError("InvalidParameterException", "You can't remove the staging label AWSCURRENT; move it to another version instead (MoveToVersionId).")
	case moveTo == "":
		delete(secret.stages, stage)
		return nil
	case held && holder != moveTo && removeFrom == "":
		return secretsError("InvalidParameterException", "The staging label "+stage+" is currently attached to version "+holder+". When you move a label to a different version, you must specify the version it's moving from in RemoveFromVersionId.")
	}
	if stage == stageCurrent && held && holder != moveTo {
		secret.stages[stagePrevious] = holder
	}
	secret.stages[stage] = moveTo
	return nil
}

// listSecretVersionIds lists a secret's versions, oldest first, without
// values: those with a staging label, and with IncludeDeprecated also
// those without one.
func (s *awsServer) listSecretVersionIds(call *awsCall) (any, error) {
	var req struct {
		SecretID          string `json:"SecretId"`
		MaxResults        *int   `json:"MaxResults"`
		NextToken         string `json:"NextToken"`
		IncludeDeprecated bool   `json:"IncludeDeprecated"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	limit := secretsMaxListResults
	if req.MaxResults != nil {
		if *req.MaxResults < 1 || *req.MaxResults > secretsMaxListResults {
			return nil, awsValidationError("1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100")
		}
		limit = *req.MaxResults
	}
	start := 0
	if req.NextToken != "" {
		n, err := strconv.Atoi(req.NextToken)
		if err != nil || n < 0 {
			return nil, secretsError("InvalidNextTokenException", "The NextToken value is invalid.")
		}
		start = n
	}
	type versionEntry struct {
		VersionID     string   `json:"VersionId"`
		VersionStages []string `json:"VersionStages"`
		CreatedDate   float64  `json:"CreatedDate"`
	}
	return s.secrets.withSecret(call, req.SecretID, func(secret *awsSecret) (any, error) {
		var all []versionEntry
		for _, id := range secret.versionOrder {
			stages := secret.stagesOf(id)
			if len(stages) == 0 && !req.IncludeDeprecated {
				continue
			}
			all = append(all, versionEntry{VersionID: id, VersionStages: stages, CreatedDate: awsEpoch(secret.versions[id].Created)})
		}
		page := all[min(start, len(all)):min(start+limit, len(all))]
		next := ""
		if start+limit < len(all) {
			next = strconv.Itoa(start + limit)
		}
		return struct {
			ARN       string         `json:"ARN"`
			Name      string         `json:"Name"`
			Versions  []versionEntry `json:"Versions"`
			NextToken string         `json:"NextToken,omitempty"`
		}{secret.ARN, secret.Name, append([]versionEntry{}, page...), next}, nil
	})
}
