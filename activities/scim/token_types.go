package scim

import (
	"time"

	"github.com/platformguide/ssocutover/internal/secretref"
)

// Activity names of SCIM token rotation.
const (
	DescribeSCIMTokenName = "DescribeSCIMToken"
	PromoteSCIMTokenName  = "PromoteSCIMToken"
)

// TokenLifetime is how long a SCIM access token of IAM Identity Center is
// valid after the console creates it.
const TokenLifetime = 365 * 24 * time.Hour

// DescribeSCIMTokenInput names the Secrets Manager secret that holds the
// SCIM access token the provisioning job uses.
type DescribeSCIMTokenInput struct {
	// Secret is the secret's name or ARN.
	Secret string `json:"secret"`
}

// DescribeSCIMTokenResult tells about the token without reading it.
type DescribeSCIMTokenResult struct {
	// Current is the version labelled AWSCURRENT: the token the job uses.
	Current secretref.Ref `json:"current"`
	// CurrentCreated is when that version was stored, which is when the
	// person made the token (give the date by hand when it was not).
	CurrentCreated time.Time `json:"currentCreated"`
}

// PromoteSCIMTokenInput names the version to make AWSCURRENT, once the
// provisioning job works with it.
type PromoteSCIMTokenInput struct {
	Token secretref.Ref `json:"token"`
}

// PromoteSCIMTokenResult is what the promotion did.
type PromoteSCIMTokenResult struct {
	// Previous is the version that was AWSCURRENT (now AWSPREVIOUS); the
	// same as the promoted one when it already was current.
	Previous secretref.Ref `json:"previous"`
	// Created is when the promoted version was stored.
	Created time.Time `json:"created"`
}

// ErrTokenSecretNotFound: the secret (or the version) does not exist.
const ErrTokenSecretNotFound = "SCIMTokenSecretNotFound"
