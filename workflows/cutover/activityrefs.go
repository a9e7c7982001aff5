package cutover

import (
	"github.com/platformguide/ssocutover/activities/checks"
	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/scim"
)

// The Entra and SCIM activities, as method values of nil pointers (see
// workflows/step): entraID.ConfigureSAML names the activity and fixes its
// input and result types. The worker registers the real structs
// (worker/app).
var (
	entraID      *entra.Activities
	scimEndpoint *scim.Activities
	checker      *checks.Activities
)
