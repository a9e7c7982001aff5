// Package analysis holds the activity that turns the two stored inventories
// into a preflight report. The rules themselves live in internal/preflight,
// which is pure; this package only reads the inventories from the store,
// runs the rules and stores the report, so the workflow sees a reference and
// a summary and never the report itself.
package analysis

import (
	"context"
	"fmt"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/store"
)

// ReportKind is the store kind under which preflight reports are kept.
const ReportKind = "preflight-report"

// Activities are the analysis activities. The worker registers a value of
// this struct; each method is an activity named after its method.
type Activities struct {
	// Store holds the inventories the inventory activities wrote and
	// receives the report. Every worker must see the same store.
	Store store.Store
}

// AnalyzePreflight reads the AWS and Entra inventories, runs the preflight
// rules and stores the full report. It returns the report's reference and
// its summary, whose size depends on the number of finding codes only.
//
// It is idempotent: the store is content-addressed, so a retry stores the
// same report under the same reference.
func (a *Activities) AnalyzePreflight(ctx context.Context, in AnalyzePreflightInput) (AnalyzePreflightResult, error) {
	report := preflight.Report{Findings: []preflight.Finding{}}
	if in.AWSInventory.Key != "" || in.EntraInventory.Key != "" {
		var aws preflight.AWS
		if err := a.Store.Get(ctx, in.AWSInventory, &aws); err != nil {
			return AnalyzePreflightResult{}, fmt.Errorf("read the AWS inventory: %w", err)
		}
		var entra preflight.Entra
		if err := a.Store.Get(ctx, in.EntraInventory, &entra); err != nil {
			return AnalyzePreflightResult{}, fmt.Errorf("read the Entra inventory: %w", err)
		}
		report = preflight.Analyze(aws, entra)
	}
	report = preflight.WithReadiness(report, in.Readiness)

	ref, err := a.Store.Put(ctx, ReportKind, report)
	if err != nil {
		return AnalyzePreflightResult{}, fmt.Errorf("store the preflight report: %w", err)
	}
	return AnalyzePreflightResult{Report: ref, Summary: preflight.Summarize(report)}, nil
}
