// Package sandbox serves a world over the real wire protocols of the APIs the
// cutover uses, on three listeners: AWS (JSON 1.1 for identitystore, sso-admin
// and Secrets Manager, the Query protocol for IAM), Microsoft Graph v1.0, and
// the IAM Identity Center SCIM v2 endpoint. The real SDK clients talk to it by
// endpoint configuration alone, so what runs against the sandbox is what runs
// against AWS and Entra. The SCIM endpoint writes the identity store the
// identitystore operations read, as in AWS.
//
// # Console steps
//
// Some steps of a cutover exist only in the IAM Identity Center console. The
// sandbox offers them as methods of *Sandbox and, for a process that plays the
// person (the starter's demo), as a control API on the AWS listener:
// POST <AWSURL>/_sandbox/console/<command> with a JSON body, answering JSON
// (ConsoleClient calls it). Errors answer {"error": {"code", "message"}}
// with 400, 404 or 409.
//
//	command (JSON in)                   method                          answer
//	switch-identity-source-to-external  SwitchIdentitySourceToExternal  {"spMetadata": "<xml>"}
//	upload-idp-metadata {"metadata"}    UploadIdPMetadata               IdentitySourceStatus
//	enable-automatic-provisioning       EnableAutomaticProvisioning     SCIMCredentials (token shown once)
//	create-scim-token                   CreateSCIMToken                 SCIMCredentials (token shown once)
//	delete-scim-token {"tokenId"}       DeleteSCIMToken                 IdentitySourceStatus
//	list-scim-tokens                    ListSCIMTokens                  {"tokens": [TokenInfo]}
//	disable-automatic-provisioning      DisableAutomaticProvisioning    IdentitySourceStatus
//	revert-to-built-in-directory        RevertToBuiltInDirectory        IdentitySourceStatus
//	identity-source (also GET)          IdentitySource                  IdentitySourceStatus
//	advance-clock {"by": "8784h"}       AdvanceClock                    {"now": "<RFC 3339>"}
//
// Switching to an external identity provider is pending until the IdP
// metadata is uploaded; completing it drops account assignments and changes
// the identity store ID as Options.Console says (by default it drops every
// assignment and keeps the ID). Automatic provisioning can be enabled only
// with an external source; until then, and after it is disabled or the source
// reverts to the built-in directory (both delete the tokens), the SCIM
// endpoint refuses every request.
//
// Options.Faults apply to the three API listeners alike, never to the
// control API.
package sandbox

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/platformguide/ssocutover/sandbox/world"
)

// Options configure a sandbox.
type Options struct {
	// AWSAddr, GraphAddr and SCIMAddr are the listen addresses; empty means
	// a free port on 127.0.0.1.
	AWSAddr   string
	GraphAddr string
	SCIMAddr  string
	// S3Addr is the listen address of the S3 emulator (s3.go).
	S3Addr string
	Faults Faults
	// Graph configures the Microsoft half (graph_options.go).
	Graph GraphOptions
	// Console configures what the console's identity source switch does.
	Console ConsoleOptions
	// Clock is the time of the console, the SCIM endpoint (token creation
	// and expiry, IdP certificate validity) and Secrets Manager (a
	// version's CreatedDate); nil is time.Now. AdvanceClock moves it on.
	Clock func() time.Time
}

// Sandbox is a running sandbox.
type Sandbox struct {
	// AWSURL is the endpoint for AWS_ENDPOINT_URL.
	AWSURL string
	// GraphURL is the Graph service root, without the version (append /v1.0).
	GraphURL string
	// SCIMURL is the base of the SCIM listener; the instance's SCIM endpoint
	// is SCIMEndpoint(): SCIMURL + "/<tenant ID>/scim/v2", as AWS's is
	// https://scim.<region>.amazonaws.com/<tenant ID>/scim/v2.
	SCIMURL string
	// S3URL is the S3 endpoint (path-style) with the bucket StoreBucket.
	S3URL string

	servers []*http.Server
	clock   *sandboxClock
	aws     *awsServer
	graph   *graphServer
	scim    *scimServer
	s3      *s3mem.Backend
	console *console
	faults  faultStats
}

// FaultCounts says how many requests the sandbox faulted, and how.
func (s *Sandbox) FaultCounts() FaultCounts { return s.faults.counts() }

// AWSCalls is how many requests each AWS JSON operation (sso-admin,
// identitystore, secretsmanager) received, by "service:Operation", every
// attempt counted: what the worker spent, whatever its own counters saw
// before it died.
func (s *Sandbox) AWSCalls() map[string]int { return s.aws.calls.snapshot() }

// Start serves w until Close.
func Start(w *world.World, opts Options) (*Sandbox, error) {
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	clock := newSandboxClock(opts.Clock)
	s := &Sandbox{clock: clock, aws: newAWSServer(w, clock.now), graph: newGraphServer(w, opts.Graph)}
	s.scim = newSCIMServerOn(s.aws.state, scimTenantID(w.AWS.InstanceARN), clock.now)
	var err error
	if s.console, err = newConsole(s.aws.state, s.scim, w.Entra.TenantID, opts.Console, clock.now); err != nil {
		return nil, err
	}

	// SCIM first: the console shows its endpoint.
	if s.SCIMURL, err = s.serve(opts.SCIMAddr, withFaults(opts.Faults, scimFaultWriter, s.scim, &s.faults)); err != nil {
		s.Close()
		return nil, err
	}
	s.console.scimEndpoint = s.SCIMEndpoint()
	awsAPIs := withQueryFaultFormat(withFaults(opts.Faults, awsFaultWriter, s.aws, &s.faults))
	if s.AWSURL, err = s.serve(opts.AWSAddr, withConsole(s, awsAPIs)); err != nil {
		s.Close()
		return nil, err
	}
	if s.GraphURL, err = s.serve(opts.GraphAddr, withFaults(opts.Faults, graphFaultWriter, s.graph, &s.faults)); err != nil {
		s.Close()
		return nil, err
	}
	var s3 http.Handler
	if s3, s.s3, err = newS3(); err != nil {
		s.Close()
		return nil, err
	}
	if s.S3URL, err = s.serve(opts.S3Addr, s3); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Sandbox) serve(addr string, h http.Handler) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the servers.
func (s *Sandbox) Close() {
	for _, srv := range s.servers {
		srv.Close()
	}
	if s.graph != nil {
		s.graph.sync.close()
	}
}

// SCIMEndpoint is the instance's SCIM endpoint, whether or not automatic
// provisioning is enabled (the console shows it only when it is).
func (s *Sandbox) SCIMEndpoint() string {
	return s.SCIMURL + s.scim.prefix
}

// IdentityStoreSnapshot copies the identity store's users and groups with
// their members: the world's and what SCIM provisioning wrote.
func (s *Sandbox) IdentityStoreSnapshot() SCIMState {
	return s.aws.state.snapshot()
}

// AccountAssignment is an account assignment with the names of what it
// joins, for end-to-end assertions.
type AccountAssignment struct {
	AccountID         string `json:"accountId"`
	PermissionSetARN  string `json:"permissionSetArn"`
	PermissionSetName string `json:"permissionSetName"`
	PrincipalType     string `json:"principalType"` // USER or GROUP
	PrincipalID       string `json:"principalId"`
	// PrincipalName is the user's userName or the group's displayName;
	// empty when the principal no longer exists (AWS keeps the assignments
	// of deleted identities).
	PrincipalName string `json:"principalName,omitempty"`
}

// AccountAssignments lists every account assignment, sorted by account,
// permission set name, principal type and principal name.
func (s *Sandbox) AccountAssignments() []AccountAssignment {
	st := s.aws.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	var out []AccountAssignment
	for target, list := range st.byTarget {
		for _, a := range list {
			out = append(out, AccountAssignment{
				AccountID: target.AccountID, PermissionSetARN: target.PermissionSetARN,
				PermissionSetName: st.permissionSets[target.PermissionSetARN].Name,
				PrincipalType:     a.PrincipalType, PrincipalID: a.PrincipalID, PrincipalName: st.principalName(a),
			})
		}
	}
	slices.SortFunc(out, func(a, b AccountAssignment) int {
		for _, c := range [][2]string{
			{a.AccountID, b.AccountID}, {a.PermissionSetName, b.PermissionSetName},
			{a.PrincipalType, b.PrincipalType}, {a.PrincipalName, b.PrincipalName}, {a.PrincipalID, b.PrincipalID},
		} {
			if n := strings.Compare(c[0], c[1]); n != 0 {
				return n
			}
		}
		return 0
	})
	return out
}

// principalName is the userName or displayName of an assignment's
// principal, or empty if it no longer exists. The caller holds the lock.
func (st *awsState) principalName(a awsAssignment) string {
	if a.PrincipalType == "USER" {
		if u, ok := st.users[a.PrincipalID]; ok {
			return u.UserName
		}
		return ""
	}
	if g, ok := st.groups[a.PrincipalID]; ok {
		return g.DisplayName
	}
	return ""
}

// The console steps; see the package comment.

// SwitchIdentitySourceToExternal starts changing the identity source to an
// external identity provider and returns the service provider metadata the
// console offers for download (samlmeta.SPMetadata's format). The switch is
// pending until UploadIdPMetadata; calling it again meanwhile returns the
// same metadata.
func (s *Sandbox) SwitchIdentitySourceToExternal() ([]byte, error) {
	return s.console.switchToExternal()
}

// UploadIdPMetadata checks the IdP metadata (Entra federation metadata for
// the world's tenant, a signing certificate valid now) and completes the
// pending switch. Bad metadata is ErrInvalidIdPMetadata; without a switch
// started it is ErrIdentitySourceState.
func (s *Sandbox) UploadIdPMetadata(metadata []byte) error {
	return s.console.uploadIdPMetadata(metadata)
}

// EnableAutomaticProvisioning turns the SCIM endpoint on and returns its
// URL and a first access token, shown this once. It needs an external
// identity source, and provisioning off (ErrIdentitySourceState otherwise).
func (s *Sandbox) EnableAutomaticProvisioning() (SCIMCredentials, error) {
	return s.console.enableProvisioning()
}

// CreateSCIMToken generates another access token (shown this once), valid
// one year. At most two exist at once (ErrSCIMTokenLimit).
func (s *Sandbox) CreateSCIMToken() (SCIMCredentials, error) {
	return s.console.createToken()
}

// DeleteSCIMToken deletes an access token by ID (ErrSCIMTokenNotFound if
// none has it); requests with it fail from then on.
func (s *Sandbox) DeleteSCIMToken(id string) error {
	return s.scim.DeleteToken(id)
}

// ListSCIMTokens lists the access tokens, oldest first, without values.
func (s *Sandbox) ListSCIMTokens() []TokenInfo {
	return s.scim.Tokens()
}

// DisableAutomaticProvisioning turns the SCIM endpoint off and deletes its
// access tokens. With provisioning already off it does nothing.
func (s *Sandbox) DisableAutomaticProvisioning() error {
	s.console.disableProvisioning()
	return nil
}

// RevertToBuiltInDirectory makes the Identity Center directory the identity
// source again: automatic provisioning goes off and its tokens are deleted;
// users, groups and account assignments stay. From the built-in directory it
// does nothing.
func (s *Sandbox) RevertToBuiltInDirectory() error {
	s.console.revertToBuiltIn()
	return nil
}

// IdentitySource is what the console's Settings page shows.
func (s *Sandbox) IdentitySource() IdentitySourceStatus {
	return s.console.status()
}

// Now is the sandbox's time: Options.Clock moved on by AdvanceClock.
func (s *Sandbox) Now() time.Time {
	return s.clock.now()
}

// AdvanceClock moves the sandbox's time forward by d and returns the new
// time. The SCIM endpoint judges token expiry by it (a token past its
// expiry is refused with 401, and the provisioning job that uses it goes
// into quarantine on its next cycle), the console dates new tokens by it,
// and Secrets Manager dates new versions by it. Graph's own timestamps and
// the engine's schedule keep the real time.
func (s *Sandbox) AdvanceClock(d time.Duration) time.Time {
	return s.clock.advance(d)
}

// SetGraphForbiddenPaths replaces GraphOptions.ForbiddenPaths of the running
// sandbox: nil grants every permission again.
func (s *Sandbox) SetGraphForbiddenPaths(paths []string) {
	s.graph.forbidden.set(paths)
}
