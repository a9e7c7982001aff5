// Package preflight decides whether an organisation is ready for the cutover.
// It is pure: it reads the two inventories and returns findings, with no I/O,
// so every rule is tested on hand-made worlds.
package preflight

// Severity says whether a finding stops the cutover.
type Severity string

// A blocker must be fixed (then recheck) or explicitly overridden; a warning
// is shown and recorded.
const (
	Blocker Severity = "blocker"
	Warning Severity = "warning"
)

// Code names a kind of finding. Codes are stable: people and scripts match on them.
type Code string

// The finding codes.
const (
	MissingGroup            Code = "missing-group"
	AmbiguousGroup          Code = "ambiguous-group"
	GroupNotSecurityEnabled Code = "group-not-security-enabled"
	GroupWithoutOwner       Code = "group-without-owner"
	EmptyGroup              Code = "empty-group"
	NestedGroup             Code = "nested-group"
	DuplicateEmail          Code = "duplicate-email"
	DuplicateUsername       Code = "duplicate-username"
	MissingAttribute        Code = "missing-attribute"
	InvalidCharacter        Code = "invalid-character"
	UserNotInEntra          Code = "user-not-in-entra"
	UserAssignment          Code = "user-assignment"
	MemberNotInEntraGroup   Code = "member-not-in-entra-group"
	UserNameMappingMismatch Code = "username-mapping-mismatch"
	MappingNotEvaluated     Code = "mapping-not-evaluated"
	MappingsChanged         Code = "mappings-changed"
)

// Finding is one problem found, with the names of what it concerns.
type Finding struct {
	Code     Code     `json:"code"`
	Severity Severity `json:"severity"`
	// Names are the groups or users concerned, sorted.
	Names   []string `json:"names"`
	Message string   `json:"message"`
}

// Report is the whole preflight result. It can be large (one finding per
// user at worst), so it is stored, never put in workflow history.
type Report struct {
	Findings []Finding `json:"findings"`
	Stats    Stats     `json:"stats"`
}

// Stats counts what the preflight looked at.
type Stats struct {
	Groups           int `json:"groups"`
	MatchedGroups    int `json:"matchedGroups"`
	AWSUsers         int `json:"awsUsers"`
	UsersToProvision int `json:"usersToProvision"`
	Assignments      int `json:"assignments"`
	GroupAssignments int `json:"groupAssignments"`
	UserAssignments  int `json:"userAssignments"`
	Accounts         int `json:"accounts"`
	PermissionSets   int `json:"permissionSets"`
}

// CodeCount is how many findings of one code a report has.
type CodeCount struct {
	Code     Code     `json:"code"`
	Severity Severity `json:"severity"`
	Count    int      `json:"count"`
}

// Summary is the small part of a report that goes into workflow history.
type Summary struct {
	Blockers int         `json:"blockers"`
	Warnings int         `json:"warnings"`
	ByCode   []CodeCount `json:"byCode"`
	Stats    Stats       `json:"stats"`
}
