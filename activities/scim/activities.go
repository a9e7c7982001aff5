// Package scim holds the activities that talk to the SCIM endpoint of IAM
// Identity Center, the one API of the cutover without an SDK: plain
// net/http, with the access token read from Secrets Manager at the moment
// of the call and never written anywhere.
package scim

import (
	"net/http"
	"time"

	"github.com/platformguide/ssocutover/internal/secretstore"
)

// DefaultTimeout bounds one call to the SCIM endpoint when
// Activities.HTTPClient is nil.
const DefaultTimeout = 30 * time.Second

// Activities are the SCIM activities. The worker registers one value; its
// methods are the activities, named by the constants in types.go.
type Activities struct {
	// Secrets reads the access token by the reference the workflow holds.
	Secrets secretstore.API
	// HTTPClient calls the SCIM endpoint; nil means a client with
	// DefaultTimeout. Give it a timeout: an endpoint that never answers
	// must fail the call, not hang the activity.
	HTTPClient *http.Client
}

func (a *Activities) httpClient() *http.Client {
	if a.HTTPClient != nil {
		return a.HTTPClient
	}
	return &http.Client{Timeout: DefaultTimeout}
}
