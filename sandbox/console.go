package sandbox

// The IAM Identity Center console steps of a cutover, which no public AWS
// API offers (see the package comment for the list). A person does them in
// the console; in the sandbox the demo and the tests call them as methods
// of *Sandbox, or over the control API (console_http.go) from another
// process.
//
// The identity source moves through three states, as on the console's
// Settings > Identity source tab:
//
//	built-in directory --SwitchIdentitySourceToExternal--> external (pending)
//	external (pending) --UploadIdPMetadata--------------> external
//	any                --RevertToBuiltInDirectory--------> built-in directory
//
// Automatic provisioning (the SCIM endpoint) can be enabled only once the
// source is external; while it is off the endpoint refuses every request.
// Users and groups stay in the identity store through every change, so
// Entra adopts them by userName and displayName.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/platformguide/ssocutover/internal/samlmeta"
	"github.com/platformguide/ssocutover/sandbox/world"
)

// ConsoleOptions set what completing the switch to an external identity
// provider does. AWS documents that changing the identity source may remove
// the account assignments of users and groups and that the identity store ID
// can change; the cutover must survive both.
type ConsoleOptions struct {
	// DropAssignments says whose account assignments the switch deletes when
	// it completes. Empty means DropAllAssignments, so that by default the
	// demo and the end-to-end tests exercise the cutover's restoration of
	// assignments from its snapshot.
	DropAssignments AssignmentDrop `json:"dropAssignments,omitempty"`
	// ChangeIdentityStoreID gives the identity store a new d-xxxxxxxxxx ID
	// when the switch completes: ListInstances returns the new ID, and the
	// identitystore operations answer ResourceNotFoundException for the old
	// one. The service provider metadata already carries the new ID. Off by
	// default.
	ChangeIdentityStoreID bool `json:"changeIdentityStoreId,omitempty"`
}

// AssignmentDrop says whose account assignments completing the switch
// deletes.
type AssignmentDrop string

const (
	DropAllAssignments   AssignmentDrop = "all" // the default
	DropGroupAssignments AssignmentDrop = "groups"
	DropUserAssignments  AssignmentDrop = "users"
	KeepAssignments      AssignmentDrop = "none"
)

// principalTypes are the principal types whose assignments d deletes.
func (d AssignmentDrop) principalTypes() ([]string, error) {
	switch d {
	case "", DropAllAssignments:
		return []string{"GROUP", "USER"}, nil
	case DropGroupAssignments:
		return []string{"GROUP"}, nil
	case DropUserAssignments:
		return []string{"USER"}, nil
	case KeepAssignments:
		return nil, nil
	}
	return nil, fmt.Errorf("sandbox: console option dropAssignments %q is not one of all, groups, users, none", string(d))
}

// IdentitySourceKind is the identity source as the console shows it.
type IdentitySourceKind string

const (
	IdentitySourceBuiltIn IdentitySourceKind = "IdentityCenterDirectory"
	// IdentitySourceExternalPending: the switch to an external identity
	// provider has started (the SP metadata was shown) but the IdP
	// metadata has not been uploaded yet, so the built-in directory is
	// still the source.
	IdentitySourceExternalPending IdentitySourceKind = "ExternalIdentityProviderPending"
	IdentitySourceExternal        IdentitySourceKind = "ExternalIdentityProvider"
)

// IdentitySourceStatus is what the console's Settings page shows of the
// identity source and automatic provisioning. It never holds a token value.
type IdentitySourceStatus struct {
	Source          IdentitySourceKind `json:"source"`
	IdentityStoreID string             `json:"identityStoreId"`
	// PendingIdentityStoreID is the ID the identity store takes when the
	// pending switch completes, if the switch changes it.
	PendingIdentityStoreID string `json:"pendingIdentityStoreId,omitempty"`
	// IdPEntityID is the entity ID of the uploaded IdP metadata.
	IdPEntityID           string `json:"idpEntityId,omitempty"`
	AutomaticProvisioning bool   `json:"automaticProvisioning"`
	// SCIMEndpoint is shown while automatic provisioning is enabled.
	SCIMEndpoint string      `json:"scimEndpoint,omitempty"`
	Tokens       []TokenInfo `json:"tokens"`
}

// SCIMCredentials are what the console shows once, when it enables
// automatic provisioning or generates an access token. Token is a secret:
// String and GoString leave it out, so printing the value (%v, %+v, %#v)
// does not reveal it.
type SCIMCredentials struct {
	SCIMEndpoint string    `json:"scimEndpoint"`
	TokenID      string    `json:"tokenId"`
	Token        string    `json:"token"`
	ExpiresAt    time.Time `json:"expiresAt"`
}

func (c SCIMCredentials) String() string {
	return fmt.Sprintf("SCIM endpoint %s, access token %s (value hidden), expires %s", c.SCIMEndpoint, c.TokenID, c.ExpiresAt.Format(time.RFC3339))
}

func (c SCIMCredentials) GoString() string { return c.String() }

// ErrIdentitySourceState refuses a console step the identity source's
// current state does not allow; the error's text says which step comes
// first.
var ErrIdentitySourceState = errors.New("this console step is not possible in the identity source's current state")

// ErrInvalidIdPMetadata refuses IdP metadata that is not Microsoft Entra
// federation metadata for the world's tenant; the error wraps the
// samlmeta error that says what is wrong.
var ErrInvalidIdPMetadata = errors.New("the IdP metadata is not valid")

// consoleError is a refusal worded as the console words it, with the kind
// (one of the Err* values) callers test with errors.Is.
type consoleError struct {
	kind    error
	message string
	cause   error
}

func (e *consoleError) Error() string { return e.message }
func (e *consoleError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

func stateError(format string, args ...any) error {
	return &consoleError{kind: ErrIdentitySourceState, message: fmt.Sprintf(format, args...)}
}

// console holds the identity source and plays the console steps on the
// identity store and the SCIM endpoint.
type console struct {
	store         *awsState
	scim          *scimServer
	entraTenantID string // the tenant whose federation metadata may be uploaded
	opts          ConsoleOptions
	dropTypes     []string
	clock         func() time.Time

	mu             sync.Mutex
	source         IdentitySourceKind
	pendingStoreID string // set while a switch that changes the ID is pending
	idpEntityID    string
	scimEndpoint   string // set once the SCIM listener runs
}

func newConsole(store *awsState, scim *scimServer, entraTenantID string, opts ConsoleOptions, clock func() time.Time) (*console, error) {
	dropTypes, err := opts.DropAssignments.principalTypes()
	if err != nil {
		return nil, err
	}
	return &console{store: store, scim: scim, entraTenantID: entraTenantID, opts: opts, dropTypes: dropTypes,
		clock: clock, source: IdentitySourceBuiltIn}, nil
}

// scimTenantID is the instance's IAM Identity Center tenant ID, the last
// path segment of its ACS URL and the first of its SCIM endpoint's path. It
// is not the identity store ID. It has the shape samlmeta's tests use
// (16 hex digits, then a UUID's last four groups), derived from the
// instance so a sandbox run is repeatable.
func scimTenantID(instanceARN string) string {
	sum := sha256.Sum256([]byte("aws-tenant\x00" + instanceARN))
	h := hex.EncodeToString(sum[:])
	return h[0:16] + "-" + h[16:20] + "-" + h[20:24] + "-" + h[24:28] + "-" + h[28:40]
}

// nextIdentityStoreID is the ID a switch that changes it gives the identity
// store: d- and ten hex digits, derived from the current ID.
func nextIdentityStoreID(current string) string {
	return "d-" + strings.ReplaceAll(world.StableID("aws-identity-store", current), "-", "")[:10]
}

// switchToExternal starts the switch to an external identity provider and
// returns the SP metadata the console offers for download. Asking again
// while the switch is pending returns the same metadata.
func (c *console) switchToExternal() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.source == IdentitySourceExternal {
		return nil, stateError("The identity source is already an external identity provider. " +
			"To update its metadata, upload the new IdP metadata; to start over, change the identity source back to the Identity Center directory first.")
	}
	st := c.store
	st.mu.RLock()
	region, additional, storeID, instanceARN := st.region, st.additionalRegions, st.identityStoreID, st.instanceARN
	st.mu.RUnlock()
	if c.source == IdentitySourceBuiltIn && c.opts.ChangeIdentityStoreID {
		c.pendingStoreID = nextIdentityStoreID(storeID)
	}
	if c.pendingStoreID != "" {
		storeID = c.pendingStoreID
	}
	metadata, err := samlmeta.SPMetadata(region, storeID, scimTenantID(instanceARN), additional...)
	if err != nil {
		return nil, fmt.Errorf("sandbox: the world's region or identity store ID cannot make SP metadata: %w", err)
	}
	c.source = IdentitySourceExternalPending
	return metadata, nil
}

// uploadIdPMetadata validates the IdP metadata and completes a pending
// switch: the identity source becomes external, and the switch drops
// assignments and changes the identity store ID as the options say. With
// the source already external it only replaces the metadata.
func (c *console) uploadIdPMetadata(metadata []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.source == IdentitySourceBuiltIn {
		return stateError("The IdP metadata is uploaded while changing the identity source: " +
			"choose Change identity source > External identity provider first (SwitchIdentitySourceToExternal), then upload the IdP metadata.")
	}
	idp, err := samlmeta.ParseIdPMetadata(metadata, c.entraTenantID, c.clock())
	if err != nil {
		return &consoleError{kind: ErrInvalidIdPMetadata, message: "The IdP SAML metadata was refused: " + err.Error(), cause: err}
	}
	c.idpEntityID = idp.EntityID
	if c.source == IdentitySourceExternal {
		return nil
	}
	c.source = IdentitySourceExternal
	st := c.store
	st.mu.Lock()
	defer st.mu.Unlock()
	st.dropAssignments(c.dropTypes...)
	if c.pendingStoreID != "" {
		st.identityStoreID, c.pendingStoreID = c.pendingStoreID, ""
	}
	return nil
}

func (c *console) enableProvisioning() (SCIMCredentials, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.source != IdentitySourceExternal {
		return SCIMCredentials{}, stateError("Automatic provisioning is available only when the identity source is an external identity provider: " +
			"change the identity source (SwitchIdentitySourceToExternal, then UploadIdPMetadata) first.")
	}
	if c.scim.provisioningEnabled() {
		return SCIMCredentials{}, stateError("Automatic provisioning is already enabled, and its SCIM endpoint and first access token were shown when it was enabled. " +
			"To get a new token, generate one (CreateSCIMToken; at most two exist at once).")
	}
	c.scim.setProvisioning(true)
	creds, err := c.newToken()
	if err != nil {
		c.scim.setProvisioning(false)
	}
	return creds, err
}

func (c *console) createToken() (SCIMCredentials, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.scim.provisioningEnabled() {
		return SCIMCredentials{}, stateError("Access tokens exist only while automatic provisioning is enabled: enable automatic provisioning first (EnableAutomaticProvisioning), which also shows the first token.")
	}
	return c.newToken()
}

// newToken creates a token; the caller holds c.mu with provisioning on.
func (c *console) newToken() (SCIMCredentials, error) {
	id, token, expiresAt, err := c.scim.CreateToken()
	if err != nil {
		return SCIMCredentials{}, err
	}
	return SCIMCredentials{SCIMEndpoint: c.scimEndpoint, TokenID: id, Token: token, ExpiresAt: expiresAt}, nil
}

// disableProvisioning turns automatic provisioning off and deletes its
// tokens; with provisioning already off it does nothing.
func (c *console) disableProvisioning() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scim.setProvisioning(false)
}

// revertToBuiltIn makes the Identity Center directory the identity source
// again: automatic provisioning goes off and its tokens are deleted; users,
// groups and assignments stay. From the built-in directory it does nothing.
func (c *console) revertToBuiltIn() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scim.setProvisioning(false)
	c.source, c.pendingStoreID, c.idpEntityID = IdentitySourceBuiltIn, "", ""
}

func (c *console) status() IdentitySourceStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.store.mu.RLock()
	storeID := c.store.identityStoreID
	c.store.mu.RUnlock()
	status := IdentitySourceStatus{
		Source: c.source, IdentityStoreID: storeID, PendingIdentityStoreID: c.pendingStoreID, IdPEntityID: c.idpEntityID,
		AutomaticProvisioning: c.scim.provisioningEnabled(), Tokens: c.scim.Tokens(),
	}
	if status.AutomaticProvisioning {
		status.SCIMEndpoint = c.scimEndpoint
	}
	return status
}

// dropAssignments deletes every account assignment of the principal types
// (USER, GROUP) and returns how many it deleted. The caller holds the write
// lock.
func (st *awsState) dropAssignments(principalTypes ...string) int {
	var doomed []awsAssignment
	for _, list := range st.byTarget {
		for _, a := range list {
			if slices.Contains(principalTypes, a.PrincipalType) {
				doomed = append(doomed, a)
			}
		}
	}
	for _, a := range doomed {
		st.removeAssignment(a)
	}
	// Application assignments go the same way: they too name the
	// principals of the identity store the switch replaces.
	for _, app := range st.applications {
		app.assignments = slices.DeleteFunc(app.assignments, func(a awsAppAssignment) bool { return slices.Contains(principalTypes, a.PrincipalType) })
	}
	return len(doomed)
}
