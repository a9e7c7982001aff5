package analysis

import (
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/readiness"
	"github.com/platformguide/ssocutover/internal/store"
)

// Activity names, as registered with the worker and called by the workflow.
const (
	AnalyzePreflightName = "AnalyzePreflight"
)

// AnalyzePreflightInput points at the two stored inventories, and carries
// the readiness checks that were not ok. Without inventories (the
// environment was not ready, so they were not taken) the report holds the
// readiness findings alone.
type AnalyzePreflightInput struct {
	AWSInventory   store.Ref         `json:"awsInventory"`
	EntraInventory store.Ref         `json:"entraInventory"`
	Readiness      []readiness.Check `json:"readiness,omitempty"`
}

// AnalyzePreflightResult points at the stored preflight.Report and carries
// its summary, which is small enough for history at any scale.
type AnalyzePreflightResult struct {
	Report  store.Ref         `json:"report"`
	Summary preflight.Summary `json:"summary"`
}
