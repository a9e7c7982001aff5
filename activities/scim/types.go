package scim

import (
	"github.com/platformguide/ssocutover/internal/secretref"
)

// Activity names, as registered with the worker and called by the workflow.
const (
	VerifySCIMEndpointName = "VerifySCIMEndpoint"
)

// VerifySCIMEndpointInput is the SCIM endpoint and token a person copied
// from the Identity Center console.
type VerifySCIMEndpointInput struct {
	Endpoint string        `json:"endpoint"`
	Token    secretref.Ref `json:"token"`
}

// VerifySCIMEndpointResult says the endpoint accepted the token.
type VerifySCIMEndpointResult struct {
	// Users is the endpoint's totalResults for users: the users Identity
	// Center holds, which provisioning will adopt by userName.
	Users int `json:"users"`
}

// Error types of the non-retryable errors, for the workflow and scripts.
const (
	// ErrTokenRejected: the endpoint answered 401 to the token.
	ErrTokenRejected = "SCIMTokenRejected"
	// ErrEndpointInvalid: the endpoint is not a SCIM endpoint of Identity
	// Center (404, not SCIM, wrong tenant).
	ErrEndpointInvalid = "SCIMEndpointInvalid"
	// ErrSecretUnreadable: the token's secret cannot be read.
	ErrSecretUnreadable = "SCIMTokenSecretUnreadable"
)
