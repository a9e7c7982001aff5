// Package secretref names a secret kept in AWS Secrets Manager without
// holding its value. Workflow inputs, signals, results and status carry a
// Ref; only the activity that uses a secret reads its value, at that moment.
package secretref

import (
	"fmt"
	"regexp"
)

// Ref is a secret version in Secrets Manager.
type Ref struct {
	// ARN of the secret.
	ARN string `json:"arn"`
	// VersionID pins the version; empty means the current one (AWSCURRENT).
	VersionID string `json:"versionId,omitempty"`
}

// arnPattern is the shape of a Secrets Manager secret ARN: the name, a dash
// and the six random characters AWS appends.
var arnPattern = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}-[A-Za-z0-9]{6}$`)

// versionPattern is the shape of a version ID (a client request token: 32
// to 64 characters).
var versionPattern = regexp.MustCompile(`^[A-Za-z0-9-]{32,64}$`)

// Validate says what is wrong with r, in words a person can act on.
func (r Ref) Validate() error {
	if !arnPattern.MatchString(r.ARN) {
		return fmt.Errorf("secret ARN %q: want arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, as Secrets Manager shows it", r.ARN)
	}
	if r.VersionID != "" && !versionPattern.MatchString(r.VersionID) {
		return fmt.Errorf("secret version %q: want the version ID Secrets Manager returned (32 to 64 letters, digits and dashes)", r.VersionID)
	}
	return nil
}

// String names the secret for logs and messages; it never has a value to show.
func (r Ref) String() string {
	if r.VersionID == "" {
		return r.ARN
	}
	return r.ARN + " (version " + r.VersionID + ")"
}
