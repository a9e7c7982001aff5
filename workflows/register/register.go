// Package register registers the workflows with a worker (or a replayer)
// under the names clients start them by.
package register

import (
	"go.temporal.io/sdk/worker"

	"github.com/platformguide/ssocutover/workflows/cutover"
	"github.com/platformguide/ssocutover/workflows/readiness"
	"github.com/platformguide/ssocutover/workflows/rotation"
)

// Workflows registers the cutover, the SCIM token rotation and the
// readiness checks.
func Workflows(r worker.WorkflowRegistry) {
	cutover.Register(r)
	rotation.Register(r)
	readiness.Register(r)
}
