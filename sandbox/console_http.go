package sandbox

// The console's control API on the AWS listener, and a client for it. No AWS
// API uses a path under /_sandbox/: every AWS JSON and Query request is a
// POST to /. The control API is never faulted and needs no signature: it
// stands for a person at the console, not for an API.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ConsolePath is the path prefix of the control API's commands.
const ConsolePath = "/_sandbox/console/"

// The control API's commands, the last segment of their path.
const (
	ConsoleSwitchIdentitySourceToExternal = "switch-identity-source-to-external"
	ConsoleUploadIdPMetadata              = "upload-idp-metadata"
	ConsoleEnableAutomaticProvisioning    = "enable-automatic-provisioning"
	ConsoleCreateSCIMToken                = "create-scim-token"
	ConsoleDeleteSCIMToken                = "delete-scim-token"
	ConsoleListSCIMTokens                 = "list-scim-tokens"
	ConsoleDisableAutomaticProvisioning   = "disable-automatic-provisioning"
	ConsoleRevertToBuiltInDirectory       = "revert-to-built-in-directory"
	ConsoleIdentitySource                 = "identity-source"
	// ConsoleAdvanceClock is no console step: it moves the sandbox's time
	// (Sandbox.AdvanceClock), so a demo can let a SCIM token expire.
	ConsoleAdvanceClock = "advance-clock"
)

// The request and answer bodies that are not IdentitySourceStatus or
// SCIMCredentials.
type (
	spMetadataAnswer struct {
		SPMetadata string `json:"spMetadata"`
	}
	idpMetadataRequest struct {
		Metadata string `json:"metadata"`
	}
	deleteTokenRequest struct {
		TokenID string `json:"tokenId"`
	}
	tokensAnswer struct {
		Tokens []TokenInfo `json:"tokens"`
	}
	// advanceClockRequest's By is a Go duration ("8784h", "90m").
	advanceClockRequest struct {
		By string `json:"by"`
	}
	clockAnswer struct {
		Now time.Time `json:"now"`
	}
	consoleErrorAnswer struct {
		Error consoleErrorBody `json:"error"`
	}
	consoleErrorBody struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
)

// consoleErrorCodes name the kinds of console error on the wire, with the
// HTTP status each answers.
var consoleErrorCodes = []struct {
	kind   error
	code   string
	status int
}{
	{ErrIdentitySourceState, "IdentitySourceState", http.StatusConflict},
	{ErrInvalidIdPMetadata, "InvalidIdPMetadata", http.StatusBadRequest},
	{ErrSCIMTokenLimit, "SCIMTokenLimit", http.StatusConflict},
	{ErrSCIMTokenNotFound, "SCIMTokenNotFound", http.StatusNotFound},
}

// withConsole serves the control API's paths and passes every other request
// to next.
func withConsole(s *Sandbox, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		command, ok := strings.CutPrefix(r.URL.Path, ConsolePath)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		answer, err := s.runConsoleCommand(r, command)
		if err != nil {
			writeConsoleError(w, err)
			return
		}
		writeConsoleJSON(w, http.StatusOK, answer)
	})
}

func (s *Sandbox) runConsoleCommand(r *http.Request, command string) (any, error) {
	if r.Method != http.MethodPost && !(r.Method == http.MethodGet && command == ConsoleIdentitySource) {
		return nil, &consoleHTTPError{status: http.StatusMethodNotAllowed, code: "MethodNotAllowed",
			message: "console commands are POST requests (identity-source also answers GET)"}
	}
	switch command {
	case ConsoleSwitchIdentitySourceToExternal:
		metadata, err := s.SwitchIdentitySourceToExternal()
		return spMetadataAnswer{SPMetadata: string(metadata)}, err
	case ConsoleUploadIdPMetadata:
		var req idpMetadataRequest
		if err := decodeConsoleBody(r, &req); err != nil {
			return nil, err
		}
		if err := s.UploadIdPMetadata([]byte(req.Metadata)); err != nil {
			return nil, err
		}
	case ConsoleEnableAutomaticProvisioning:
		return s.EnableAutomaticProvisioning()
	case ConsoleCreateSCIMToken:
		return s.CreateSCIMToken()
	case ConsoleDeleteSCIMToken:
		var req deleteTokenRequest
		if err := decodeConsoleBody(r, &req); err != nil {
			return nil, err
		}
		if err := s.DeleteSCIMToken(req.TokenID); err != nil {
			return nil, err
		}
	case ConsoleListSCIMTokens:
		return tokensAnswer{Tokens: s.ListSCIMTokens()}, nil
	case ConsoleDisableAutomaticProvisioning:
		if err := s.DisableAutomaticProvisioning(); err != nil {
			return nil, err
		}
	case ConsoleRevertToBuiltInDirectory:
		if err := s.RevertToBuiltInDirectory(); err != nil {
			return nil, err
		}
	case ConsoleAdvanceClock:
		return s.advanceClockCommand(r)
	case ConsoleIdentitySource:
	default:
		return nil, &consoleHTTPError{status: http.StatusNotFound, code: "UnknownCommand",
			message: fmt.Sprintf("%q is not a console command; the commands are listed in the sandbox package comment", command)}
	}
	return s.IdentitySource(), nil
}

// advanceClockCommand moves the clock by the request's duration; only
// forward, as time goes.
func (s *Sandbox) advanceClockCommand(r *http.Request) (any, error) {
	var req advanceClockRequest
	if err := decodeConsoleBody(r, &req); err != nil {
		return nil, err
	}
	d, err := time.ParseDuration(req.By)
	if err != nil || d < 0 {
		return nil, &consoleHTTPError{status: http.StatusBadRequest, code: "BadRequest",
			message: fmt.Sprintf("by %q is not a duration to move the clock forward by: give one such as \"8784h\" (366 days) or \"90m\"", req.By)}
	}
	return clockAnswer{Now: s.AdvanceClock(d)}, nil
}

// consoleHTTPError is a control API error that is not a console refusal: a
// bad request, an unknown command.
type consoleHTTPError struct {
	status  int
	code    string
	message string
}

func (e *consoleHTTPError) Error() string { return e.message }

func decodeConsoleBody(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err == nil && len(body) > maxRequestBody {
		err = errors.New("the body is larger than 1 MiB")
	}
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		return &consoleHTTPError{status: http.StatusBadRequest, code: "BadRequest", message: "the request body is not this command's JSON: " + err.Error()}
	}
	return nil
}

func writeConsoleError(w http.ResponseWriter, err error) {
	answer := consoleErrorBody{Code: "InternalError", Message: err.Error()}
	status := http.StatusInternalServerError
	var httpErr *consoleHTTPError
	if errors.As(err, &httpErr) {
		answer.Code, status = httpErr.code, httpErr.status
	}
	for _, c := range consoleErrorCodes {
		if errors.Is(err, c.kind) {
			answer.Code, status = c.code, c.status
			break
		}
	}
	writeConsoleJSON(w, status, consoleErrorAnswer{Error: answer})
}

func writeConsoleJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// ConsoleClient plays the console steps on a sandbox in another process,
// over its control API. Its errors match the same Err* values with
// errors.Is as the *Sandbox methods' do.
type ConsoleClient struct {
	awsURL string
	http   *http.Client
}

// NewConsoleClient calls the control API of the sandbox whose AWS endpoint
// is awsURL (Sandbox.AWSURL, AWS_ENDPOINT_URL). A nil httpClient is
// http.DefaultClient.
func NewConsoleClient(awsURL string, httpClient *http.Client) *ConsoleClient {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &ConsoleClient{awsURL: strings.TrimSuffix(awsURL, "/"), http: httpClient}
}

func (c *ConsoleClient) SwitchIdentitySourceToExternal(ctx context.Context) ([]byte, error) {
	var answer spMetadataAnswer
	err := c.call(ctx, ConsoleSwitchIdentitySourceToExternal, nil, &answer)
	return []byte(answer.SPMetadata), err
}

func (c *ConsoleClient) UploadIdPMetadata(ctx context.Context, metadata []byte) (IdentitySourceStatus, error) {
	var status IdentitySourceStatus
	err := c.call(ctx, ConsoleUploadIdPMetadata, idpMetadataRequest{Metadata: string(metadata)}, &status)
	return status, err
}

func (c *ConsoleClient) EnableAutomaticProvisioning(ctx context.Context) (SCIMCredentials, error) {
	var creds SCIMCredentials
	err := c.call(ctx, ConsoleEnableAutomaticProvisioning, nil, &creds)
	return creds, err
}

func (c *ConsoleClient) CreateSCIMToken(ctx context.Context) (SCIMCredentials, error) {
	var creds SCIMCredentials
	err := c.call(ctx, ConsoleCreateSCIMToken, nil, &creds)
	return creds, err
}

func (c *ConsoleClient) DeleteSCIMToken(ctx context.Context, id string) error {
	return c.call(ctx, ConsoleDeleteSCIMToken, deleteTokenRequest{TokenID: id}, nil)
}

func (c *ConsoleClient) ListSCIMTokens(ctx context.Context) ([]TokenInfo, error) {
	var answer tokensAnswer
	err := c.call(ctx, ConsoleListSCIMTokens, nil, &answer)
	return answer.Tokens, err
}

func (c *ConsoleClient) DisableAutomaticProvisioning(ctx context.Context) error {
	return c.call(ctx, ConsoleDisableAutomaticProvisioning, nil, nil)
}

func (c *ConsoleClient) RevertToBuiltInDirectory(ctx context.Context) error {
	return c.call(ctx, ConsoleRevertToBuiltInDirectory, nil, nil)
}

func (c *ConsoleClient) IdentitySource(ctx context.Context) (IdentitySourceStatus, error) {
	var status IdentitySourceStatus
	err := c.call(ctx, ConsoleIdentitySource, nil, &status)
	return status, err
}

// AdvanceClock moves the sandbox's time forward by d and returns the new
// time (Sandbox.AdvanceClock).
func (c *ConsoleClient) AdvanceClock(ctx context.Context, d time.Duration) (time.Time, error) {
	var answer clockAnswer
	err := c.call(ctx, ConsoleAdvanceClock, advanceClockRequest{By: d.String()}, &answer)
	return answer.Now, err
}

// call POSTs a command and decodes its answer into out (nil: discard it).
// An error answer becomes a *ConsoleAPIError.
func (c *ConsoleClient) call(ctx context.Context, command string, in, out any) error {
	body := []byte("{}")
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("sandbox console %s: %w", command, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.awsURL+ConsolePath+command, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sandbox console %s: %w", command, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox console %s: is the sandbox running at %s? %w", command, c.awsURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var answer consoleErrorAnswer
		if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || answer.Error.Code == "" {
			return fmt.Errorf("sandbox console %s: HTTP %d without a console error: is %s a sandbox's AWS endpoint?", command, resp.StatusCode, c.awsURL)
		}
		return &ConsoleAPIError{Command: command, Status: resp.StatusCode, Code: answer.Error.Code, Message: answer.Error.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("sandbox console %s: the answer is not JSON: %w", command, err)
	}
	return nil
}

// ConsoleAPIError is a console command's error answer. It matches the
// Err* value of its code with errors.Is.
type ConsoleAPIError struct {
	Command string
	Status  int
	Code    string
	Message string
}

func (e *ConsoleAPIError) Error() string { return e.Message }

func (e *ConsoleAPIError) Is(target error) bool {
	for _, c := range consoleErrorCodes {
		if c.kind == target {
			return c.code == e.Code
		}
	}
	return false
}
