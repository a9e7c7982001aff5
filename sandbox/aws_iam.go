package sandbox

// IAM speaks the AWS Query protocol, as aws-sdk-go-v2's iam client uses it:
// `POST /` with a form body (`Action=CreateUser&Version=2010-05-08&
// UserName=...&Tags.member.1.Key=...`), no X-Amz-Target, a SigV4 signature
// scoped to the `iam` service, and XML answers:
//
//	<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
//	  <CreateUserResult><User>...</User></CreateUserResult>
//	  <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>
//	</CreateUserResponse>
//
// Errors are an <ErrorResponse> whose <Code> is the short IAM code
// (NoSuchEntity, EntityAlreadyExists, DeleteConflict, ...) with the HTTP
// status of the service model; the SDK maps the code to its typed error
// (*types.NoSuchEntityException, ...).
//
// IAM is global: AWS signs its requests for us-east-1, but against a custom
// endpoint the SDK signs with the client's region, so the sandbox accepts
// any region. The users live in the world's management account.
//
// The console password of a login profile is kept only as a salted PBKDF2
// hash; no answer or error ever contains it.

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

const (
	queryContentType = "text/xml"
	iamAPIVersion    = "2010-05-08"
	iamXMLNamespace  = "https://iam.amazonaws.com/doc/2010-05-08/"
	iamSigningName   = "iam"

	// iamMaxTagsPerUser and iamMaxPoliciesPerUser are IAM's default quotas.
	iamMaxTagsPerUser     = 50
	iamMaxPoliciesPerUser = 10
	// iamMaxItems is the largest MaxItems IAM list operations accept;
	// without MaxItems they return 100.
	iamMaxItems         = 1000
	iamDefaultPageItems = 100

	// passwordHashIterations is the PBKDF2-SHA256 work factor of stored
	// console passwords.
	passwordHashIterations = 100_000
)

// isQueryRequest reports whether r is a Query protocol request (IAM): a
// form-encoded POST without X-Amz-Target.
func isQueryRequest(r *http.Request) bool {
	if r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mediaType == "application/x-www-form-urlencoded"
}

// iamOperation handles one IAM action: it reads its parameters from call and
// returns the members of its <Action>Result element (nil for an action
// without a result) or an *awsError whose Type is the IAM error code.
type iamOperation func(call *queryCall) (any, error)

// queryCall is one Query protocol request as an operation sees it.
type queryCall struct {
	form url.Values
}

func (c *queryCall) param(name string) string { return c.form.Get(name) }

// tags reads a Tags list: Tags.member.1.Key, Tags.member.1.Value, ...
// IAM tag keys are case-insensitive, so one request cannot name a key twice
// in any case.
func (c *queryCall) tags() ([]iamTag, error) {
	var tags []iamTag
	seen := map[string]bool{}
	for i := 1; ; i++ {
		prefix := fmt.Sprintf("Tags.member.%d.", i)
		key, hasKey := c.form[prefix+"Key"]
		if !hasKey {
			if _, hasValue := c.form[prefix+"Value"]; hasValue {
				return nil, iamValidationError("1 validation error detected: Value null at 'tags.%d.member.key' failed to satisfy constraint: Member must not be null", i)
			}
			return tags, nil
		}
		tag := iamTag{Key: key[0], Value: c.form.Get(prefix + "Value")}
		if len(tag.Key) < 1 || len(tag.Key) > 128 || len(tag.Value) > 256 {
			return nil, iamValidationError("1 validation error detected: Value at 'tags.%d.member' failed to satisfy constraint: key must have length between 1 and 128, value at most 256", i)
		}
		if seen[strings.ToLower(tag.Key)] {
			return nil, iamInvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(tag.Key)] = true
		tags = append(tags, tag)
	}
}

func iamValidationError(format string, args ...any) *awsError {
	return &awsError{Type: "ValidationError", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func iamInvalidInput(format string, args ...any) *awsError {
	return &awsError{Type: "InvalidInput", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func iamNoSuchEntity(format string, args ...any) *awsError {
	return &awsError{Type: "NoSuchEntity", Status: http.StatusNotFound, Message: fmt.Sprintf(format, args...)}
}

func iamEntityAlreadyExists(format string, args ...any) *awsError {
	return &awsError{Type: "EntityAlreadyExists", Status: http.StatusConflict, Message: fmt.Sprintf(format, args...)}
}

func iamDeleteConflict(format string, args ...any) *awsError {
	return &awsError{Type: "DeleteConflict", Status: http.StatusConflict, Message: fmt.Sprintf(format, args...)}
}

func iamLimitExceeded(format string, args ...any) *awsError {
	return &awsError{Type: "LimitExceeded", Status: http.StatusConflict, Message: fmt.Sprintf(format, args...)}
}

// serveQuery answers an IAM request.
func (s *awsServer) serveQuery(w http.ResponseWriter, r *http.Request, requestID string) {
	namespace, action, result, err := s.handleQuery(r)
	if err != nil {
		var aerr *awsError
		if !errors.As(err, &aerr) {
			aerr = &awsError{Type: "ServiceFailure", Status: http.StatusInternalServerError, Message: err.Error()}
		}
		writeQueryError(w, requestID, aerr)
		return
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	response := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: namespace}}}
	err = enc.EncodeToken(response)
	if err == nil && result != nil {
		err = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(struct {
			RequestID string `xml:"RequestId"`
		}{requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(response.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		writeQueryError(w, requestID, &awsError{Type: "ServiceFailure", Status: http.StatusInternalServerError, Message: "encode response: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", queryContentType)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// handleQuery answers an IAM or STS request (both speak the Query
// protocol; the signature's credential scope says which) with the XML
// namespace of the answer, the action and its result.
func (s *awsServer) handleQuery(r *http.Request) (string, string, any, error) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return iamXMLNamespace, "", nil, &awsError{Type: "InvalidAction", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("the sandbox serves IAM only as POST /, got %s %s", r.Method, r.URL.Path)}
	}
	service, namespace, version, operations := iamSigningName, iamXMLNamespace, iamAPIVersion, s.iamOperations
	if signingService(r) == stsSigningName {
		service, namespace, version, operations = stsSigningName, stsXMLNamespace, stsAPIVersion, s.stsOperations()
	}
	if _, err := checkSigV4(r, service); err != nil {
		var aerr *awsError
		if errors.As(err, &aerr) {
			aerr.Type = querySignatureErrorCodes[aerr.Type]
		}
		return namespace, "", nil, err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return namespace, "", nil, iamInvalidInput("read request body: %v", err)
	}
	if len(body) > maxRequestBody {
		return namespace, "", nil, &awsError{Type: "InvalidInput", Status: http.StatusRequestEntityTooLarge, Message: "request body too large"}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return namespace, "", nil, &awsError{Type: "MalformedQueryString", Status: http.StatusBadRequest, Message: "the request body is not a valid form: " + err.Error()}
	}
	action := form.Get("Action")
	op, known := operations[action]
	if !known || form.Get("Version") != version {
		return namespace, action, nil, &awsError{Type: "InvalidAction", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Could not find operation %s for version %s (the sandbox implements %s)", action, form.Get("Version"), strings.Join(slices.Sorted(maps.Keys(operations)), ", "))}
	}
	if err := s.allowed(service + ":" + action); err != nil {
		return namespace, action, nil, err
	}
	result, err := op(&queryCall{form: form})
	return namespace, action, result, err
}

// querySignatureErrorCodes are the Query protocol's codes of checkSigV4's
// errors.
var querySignatureErrorCodes = map[string]string{
	"MissingAuthenticationTokenException": "MissingAuthenticationToken",
	"IncompleteSignatureException":        "IncompleteSignature",
	"InvalidSignatureException":           "SignatureDoesNotMatch",
}

// writeQueryError writes e as IAM does: a client error (4xx) is of Type
// Sender, a server error of Type Receiver.
func writeQueryError(w http.ResponseWriter, requestID string, e *awsError) {
	kind := "Sender"
	if e.Status >= 500 {
		kind = "Receiver"
	}
	doc := struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Type      string   `xml:"Error>Type"`
		Code      string   `xml:"Error>Code"`
		Message   string   `xml:"Error>Message"`
		RequestID string   `xml:"RequestId"`
	}{Xmlns: iamXMLNamespace, Type: kind, Code: e.Type, Message: e.Message, RequestID: requestID}
	body, _ := xml.Marshal(doc)
	body = append([]byte(xml.Header), body...)
	w.Header().Set("Content-Type", queryContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// iamState is the IAM users of the management account.
type iamState struct {
	mu        sync.Mutex
	accountID string
	users     map[string]*iamUser // by lower-case user name: IAM names are case-insensitive
}

type iamUser struct {
	Name         string
	Path         string
	ID           string // AIDA...
	ARN          string
	Created      time.Time
	Tags         []iamTag
	LoginProfile *iamLoginProfile
	Policies     []string // attached managed policy ARNs, sorted
}

type iamTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// iamLoginProfile is a console password, kept as a salted hash only.
type iamLoginProfile struct {
	Created               time.Time
	PasswordResetRequired bool
	salt                  []byte
	passwordHash          []byte
}

func newIAMState(accountID string) *iamState {
	return &iamState{accountID: accountID, users: map[string]*iamUser{}}
}

// iamAWSManagedPolicies are the AWS managed policies the sandbox knows: the
// ones a break-glass user is given (Identity Center administration, the
// broad fallbacks) and their read-only counterparts. An ARN of another
// shape, or of a policy not listed, is NoSuchEntity as in an account where
// that policy does not exist.
var iamAWSManagedPolicies = map[string]bool{
	"arn:aws:iam::aws:policy/AWSSSOMasterAccountAdministrator": true,
	"arn:aws:iam::aws:policy/AWSSSOMemberAccountAdministrator": true,
	"arn:aws:iam::aws:policy/AWSSSODirectoryAdministrator":     true,
	"arn:aws:iam::aws:policy/AWSSSOReadOnly":                   true,
	"arn:aws:iam::aws:policy/AWSSSODirectoryReadOnly":          true,
	"arn:aws:iam::aws:policy/AdministratorAccess":              true,
	"arn:aws:iam::aws:policy/ReadOnlyAccess":                   true,
	"arn:aws:iam::aws:policy/IAMUserChangePassword":            true,
	"arn:aws:iam::aws:policy/IAMReadOnlyAccess":                true,
	"arn:aws:iam::aws:policy/SecretsManagerReadWrite":          true,
}

var (
	iamUserNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	iamPathPattern     = regexp.MustCompile(`^(/|/[\x21-\x7E]*/)$`)
	iamPolicyARNShape  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/([\x21-\x7E]*/)?[\w+=,.@-]+$`)
)

func (s *awsServer) iamQueryOperations() map[string]iamOperation {
	return map[string]iamOperation{
		"CreateUser":               s.iamCreateUser,
		"GetUser":                  s.iamGetUser,
		"TagUser":                  s.iamTagUser,
		"CreateLoginProfile":       s.iamCreateLoginProfile,
		"DeleteLoginProfile":       s.iamDeleteLoginProfile,
		"AttachUserPolicy":         s.iamAttachUserPolicy,
		"DetachUserPolicy":         s.iamDetachUserPolicy,
		"ListAttachedUserPolicies": s.iamListAttachedUserPolicies,
		"DeleteUser":               s.iamDeleteUser,
		"SimulatePrincipalPolicy":  s.iamSimulatePrincipalPolicy,
	}
}

// iamUserDoc is the User element of CreateUser and GetUser.
type iamUserDoc struct {
	Path       string   `xml:"Path"`
	UserName   string   `xml:"UserName"`
	UserID     string   `xml:"UserId"`
	ARN        string   `xml:"Arn"`
	CreateDate string   `xml:"CreateDate"`
	Tags       []iamTag `xml:"Tags>member,omitempty"`
}

func (u *iamUser) doc() iamUserDoc {
	return iamUserDoc{Path: u.Path, UserName: u.Name, UserID: u.ID, ARN: u.ARN, CreateDate: iamTime(u.Created), Tags: slices.Clone(u.Tags)}
}

// iamTime writes a timestamp as the Query protocol does (ISO 8601, UTC).
func iamTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// userName reads and checks the UserName parameter.
func (c *queryCall) userName() (string, error) {
	name := c.param("UserName")
	if name == "" {
		return "", iamValidationError("1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null")
	}
	if !iamUserNamePattern.MatchString(name) {
		return "", iamValidationError("1 validation error detected: Value '%s' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and 64", name)
	}
	return name, nil
}

// user finds a user by name; the caller holds s.mu.
func (s *iamState) user(name string) (*iamUser, error) {
	u, ok := s.users[strings.ToLower(name)]
	if !ok {
		return nil, iamNoSuchEntity("The user with name %s cannot be found.", name)
	}
	return u, nil
}

// withUser runs op on the user named name while holding s.mu; a user the
// account does not have is NoSuchEntity and op does not run.
func (s *iamState) withUser(name string, op func(u *iamUser) (any, error)) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.user(name)
	if err != nil {
		return nil, err
	}
	return op(u)
}

func (s *awsServer) iamCreateUser(call *queryCall) (any, error) {
	name, err := call.userName()
	if err != nil {
		return nil, err
	}
	path := call.param("Path")
	if path == "" {
		path = "/"
	}
	if !iamPathPattern.MatchString(path) || len(path) > 512 {
		return nil, iamValidationError("1 validation error detected: Value '%s' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)", path)
	}
	if call.param("PermissionsBoundary") != "" {
		return nil, iamInvalidInput("the sandbox does not support permissions boundaries")
	}
	tags, err := call.tags()
	if err != nil {
		return nil, err
	}
	if len(tags) > iamMaxTagsPerUser {
		return nil, iamLimitExceeded("Cannot exceed quota for TagsPerUser: %d", iamMaxTagsPerUser)
	}
	st := s.iam
	st.mu.Lock()
	defer st.mu.Unlock()
	if existing, ok := st.users[strings.ToLower(name)]; ok {
		return nil, iamEntityAlreadyExists("User with name %s already exists.", existing.Name)
	}
	u := &iamUser{
		Name:    name,
		Path:    path,
		ID:      iamUniqueID("AIDA", name),
		ARN:     "arn:aws:iam::" + st.accountID + ":user" + path + name,
		Created: time.Now().UTC().Truncate(time.Second),
		Tags:    mergeIAMTags(nil, tags),
	}
	st.users[strings.ToLower(name)] = u
	return struct {
		User iamUserDoc `xml:"User"`
	}{u.doc()}, nil
}

// iamUniqueID derives an IAM unique ID (a four-letter type prefix and 17
// upper-case letters and digits) from a name, so the sandbox's IDs are
// stable across runs.
func iamUniqueID(prefix, name string) string {
	sum := sha256.Sum256([]byte("iam-unique-id\x00" + prefix + "\x00" + name))
	return prefix + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

// mergeIAMTags adds tags to existing, replacing a tag whose key is already
// there in any case.
func mergeIAMTags(existing, tags []iamTag) []iamTag {
	for _, t := range tags {
		i := slices.IndexFunc(existing, func(e iamTag) bool { return strings.EqualFold(e.Key, t.Key) })
		if i >= 0 {
			existing[i] = t
		} else {
			existing = append(existing, t)
		}
	}
	return existing
}

// iamGetUser returns the named user. Without UserName, IAM answers for the
// caller's own user; the sandbox's callers are not IAM users, so it answers
// as IAM does for root or role credentials.
func (s *awsServer) iamGetUser(call *queryCall) (any, error) {
	if call.param("UserName") == "" {
		return nil, iamValidationError("Must specify userName when calling with non-User credentials")
	}
	name, err := call.userName()
	if err != nil {
		return nil, err
	}
	return s.iam.withUser(name, func(u *iamUser) (any, error) {
		return struct {
			User iamUserDoc `xml:"User"`
		}{u.doc()}, nil
	})
}

func (s *awsServer) iamTagUser(call *queryCall) (any, error) {
	name, err := call.userName()
	if err != nil {
		return nil, err
	}
	tags, err := call.tags()
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, iamValidationError("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	return s.iam.withUser(name, func(u *iamUser) (any, error) {
		merged := mergeIAMTags(slices.Clone(u.Tags), tags)
		if len(merged) > iamMaxTagsPerUser {
			return nil, iamLimitExceeded("Cannot exceed quota for TagsPerUser: %d", iamMaxTagsPerUser)
		}
		u.Tags = merged
		return nil, nil
	})
}

func (s *awsServer) iamCreateLoginProfile(call *queryCall) (any, error) {
	name, err := call.userName()
	if err != nil {
		return nil, err
	}
	password := call.param("Password")
	if password == "" {
		return nil, iamValidationError("1 validation error detected: Value null at 'password' failed to satisfy constraint: Member must not be null")
	}
	if err := checkIAMPasswordPolicy(password); err != nil {
		return nil, err
	}
	resetRequired := call.param("PasswordResetRequired") == "true"
	return s.iam.withUser(name, func(u *iamUser) (any, error) {
		if u.LoginProfile != nil {
			return nil, iamEntityAlreadyExists("Login Profile for user %s already exists.", u.Name)
		}
		salt := make([]byte, 16)
		_, _ = rand.Read(salt)
		hash, err := pbkdf2.Key(sha256.New, password, salt, passwordHashIterations, 32)
		if err != nil {
			return nil, err
		}
		u.LoginProfile = &iamLoginProfile{Created: time.Now().UTC().Truncate(time.Second), PasswordResetRequired: resetRequired, salt: salt, passwordHash: hash}
		type loginProfileDoc struct {
			UserName              string `xml:"UserName"`
			CreateDate            string `xml:"CreateDate"`
			PasswordResetRequired bool   `xml:"PasswordResetRequired"`
		}
		return struct {
			LoginProfile loginProfileDoc `xml:"LoginProfile"`
		}{loginProfileDoc{UserName: u.Name, CreateDate: iamTime(u.LoginProfile.Created), PasswordResetRequired: resetRequired}}, nil
	})
}

// checkIAMPasswordPolicy applies the account's default password policy:
// at least 8 characters (at most 128) and three of the four character
// types: upper case, lower case, digits, symbols. The message names the
// rule, never the password.
func checkIAMPasswordPolicy(password string) error {
	kinds := map[string]bool{}
	for _, r := range password {
		switch {
		case unicode.IsUpper(r):
			kinds["upper"] = true
		case unicode.IsLower(r):
			kinds["lower"] = true
		case unicode.IsDigit(r):
			kinds["digit"] = true
		case strings.ContainsRune("!@#$%^&*()_+-=[]{}|'", r):
			kinds["symbol"] = true
		}
	}
	if len(password) < 8 || len(password) > 128 || len(kinds) < 3 {
		return &awsError{Type: "PasswordPolicyViolation", Status: http.StatusBadRequest,
			Message: "Password does not conform to the account password policy: it needs 8 to 128 characters and three of: upper case, lower case, digits, symbols (!@#$%^&*()_+-=[]{}|')."}
	}
	return nil
}

func (s *awsServer) iamDeleteLoginProfile(call *queryCall) (any, error) {
	name, err := call.userName()
	if err != nil {
		return nil, err
	}
	return s.iam.withUser(name, func(u *iamUser) (any, error) {
		if u.LoginProfile == nil {
			return nil, iamNoSuchEntity("Login Profile for User %s cannot be found.", u.Name)
		}
		u.LoginProfile = nil
		return nil, nil
	})
}

// policyARN reads and checks the PolicyArn parameter: a malformed ARN is
// InvalidInput, a well-formed one of a policy the account does not have is
// NoSuchEntity.
func (c *queryCall) policyARN() (string, error) {
	arn := c.param("PolicyArn")
	if arn == "" {
		return "", iamValidationError("1 validation error detected: Value null at 'policyArn' failed to satisfy constraint: Member must not be null")
	}
	if !iamPolicyARNShape.MatchString(arn) {
		return "", iamInvalidInput("ARN %s is not valid.", arn)
	}
	return arn, nil
}

func (s *awsServer) iamAttachUserPolicy(call *queryCall) (any, error) {
	name, err := call.userName()
	if err != nil {
		return nil, err
	}
	arn, err := call.policyARN()
	if err != nil {
		return nil, err
	}
	if !iamAWSManagedPolicies[arn] {
		return nil, iamNoSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	return s.iam.withUser(name, func(u *iamUser) (any, error) {
		i, attached := slices.BinarySearch(u.Policies, arn)
		if attached {
			return nil, nil // attaching an attached policy succeeds, as in IAM
		}
		if len(u.Policies) >= iamMaxPoliciesPerUser {
			return nil, iamLimitExceeded("Cannot exceed quota for PoliciesPerUser: %d", iamMaxPoliciesPerUser)
		}
		u.Policies = slices.Insert(u.Policies, i, arn)
		return nil, nil
	})
}

func (s *awsServer) iamDetachUserPolicy(call *queryCall) (any, error) {
	name, err := call.userName()
	if err != nil {
		return nil, err
	}
	arn, err := call.policyARN()
	if err != nil {
		return nil, err
	}
	return s.iam.withUser(name, func(u *iamUser) (any, error) {
		i, attached := slices.BinarySearch(u.Policies, arn)
		if !attached {
			return nil, iamNoSuchEntity("Policy %s was not found.", arn)
		}
		u.Policies = slices.Delete(u.Policies, i, i+1)
		return nil, nil
	})
}

// iamListAttachedUserPolicies pages with IAM's Marker / IsTruncated; the
// marker holds the last ARN returned.
func (s *awsServer) iamListAttachedUserPolicies(call *queryCall) (any, error) {
	name, err := call.userName()
	if err != nil {
		return nil, err
	}
	maxItems := iamDefaultPageItems
	if v := call.param("MaxItems"); v != "" {
		maxItems, err = strconv.Atoi(v)
		if err != nil || maxItems < 1 || maxItems > iamMaxItems {
			return nil, iamValidationError("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to %d and greater than or equal to 1", v, iamMaxItems)
		}
	}
	pathPrefix := call.param("PathPrefix")
	if pathPrefix == "" {
		pathPrefix = "/"
	}
	return s.iam.withUser(name, func(u *iamUser) (any, error) {
		policies := u.Policies
		if marker := call.param("Marker"); marker != "" {
			after, err := base64.RawURLEncoding.DecodeString(marker)
			if err != nil {
				return nil, iamInvalidInput("Invalid Marker.")
			}
			i, found := slices.BinarySearch(policies, string(after))
			if found {
				i++
			}
			policies = policies[i:]
		}
		type attachedPolicyDoc struct {
			PolicyName string `xml:"PolicyName"`
			PolicyArn  string `xml:"PolicyArn"`
		}
		result := struct {
			AttachedPolicies []attachedPolicyDoc `xml:"AttachedPolicies>member"`
			IsTruncated      bool                `xml:"IsTruncated"`
			Marker           string              `xml:"Marker,omitempty"`
		}{AttachedPolicies: []attachedPolicyDoc{}}
		for _, arn := range policies {
			_, resource, _ := strings.Cut(arn, ":policy")
			if !strings.HasPrefix(resource, pathPrefix) {
				continue
			}
			if len(result.AttachedPolicies) == maxItems {
				result.IsTruncated = true
				result.Marker = base64.RawURLEncoding.EncodeToString([]byte(result.AttachedPolicies[maxItems-1].PolicyArn))
				break
			}
			result.AttachedPolicies = append(result.AttachedPolicies, attachedPolicyDoc{PolicyName: resource[strings.LastIndex(resource, "/")+1:], PolicyArn: arn})
		}
		return result, nil
	})
}

// iamDeleteUser deletes a user that has nothing attached any more: IAM
// refuses while a login profile or an attached policy remains.
func (s *awsServer) iamDeleteUser(call *queryCall) (any, error) {
	name, err := call.userName()
	if err != nil {
		return nil, err
	}
	return s.iam.withUser(name, func(u *iamUser) (any, error) {
		if u.LoginProfile != nil {
			return nil, iamDeleteConflict("Cannot delete entity, must delete login profile first.")
		}
		if len(u.Policies) > 0 {
			return nil, iamDeleteConflict("Cannot delete entity, must detach all policies first.")
		}
		delete(s.iam.users, strings.ToLower(name))
		return nil, nil
	})
}

// consoleSignIn checks a console password against the user's login profile.
func (s *iamState) consoleSignIn(userName, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.user(userName)
	if err != nil {
		return err
	}
	if u.LoginProfile == nil {
		return fmt.Errorf("IAM user %s has no console password (no login profile)", u.Name)
	}
	hash, err := pbkdf2.Key(sha256.New, password, u.LoginProfile.salt, passwordHashIterations, 32)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(hash, u.LoginProfile.passwordHash) != 1 {
		return fmt.Errorf("the console password of IAM user %s is not the one given", u.Name)
	}
	return nil
}

// IAMConsoleSignIn checks, as the AWS console's sign-in page would, that
// password is the console password of the IAM user userName; it returns nil
// when it is. The demo and the end-to-end tests use it to show that the
// break-glass password kept in Secrets Manager really opens the console.
// The error never contains the password.
func (s *Sandbox) IAMConsoleSignIn(userName, password string) error {
	return s.aws.iam.consoleSignIn(userName, password)
}
