package preflight

import (
	"slices"

	"github.com/platformguide/ssocutover/internal/readiness"
)

// EnvironmentWarning is the code of a readiness warning (a delegated
// administrator, a permission only the check needs).
const EnvironmentWarning Code = "environment-warning"

// WithReadiness adds the readiness checks that are not ok to a report: a
// missing check is a blocker under its code (missing-permission,
// missing-graph-permission, missing-licence, identifier-uri-blocked,
// not-ready), named by what is missing, with what to do; a warning is a
// warning. The findings stay sorted.
func WithReadiness(r Report, checks []readiness.Check) Report {
	for _, c := range checks {
		f := Finding{Names: []string{c.Name}, Message: c.Detail}
		if c.Fix != "" {
			f.Message += ". What to do: " + c.Fix + "."
		}
		switch c.Status {
		case readiness.Missing:
			f.Code, f.Severity = Code(c.Code), Blocker
			if f.Code == "" {
				f.Code = Code(readiness.CodeNotReady)
			}
		case readiness.Warning:
			f.Code, f.Severity = EnvironmentWarning, Warning
		default:
			continue
		}
		r.Findings = append(r.Findings, f)
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	slices.SortFunc(r.Findings, compareFindings)
	return r
}
