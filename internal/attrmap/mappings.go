package attrmap

import (
	"fmt"
	"strings"
)

// The AWS (SCIM) attributes the preflight looks at.
const (
	TargetUserName    = "userName"
	TargetGivenName   = "name.givenName"
	TargetFamilyName  = "name.familyName"
	TargetDisplayName = "displayName"
	TargetWorkEmail   = `emails[type eq "work"].value`
	TargetExternalID  = "externalId"
)

// Mapping is one attribute mapping of the user object mapping: the source
// expression (synchronizationSchema's attributeMappingSource.expression),
// the AWS attribute it fills, the value used when the expression is null,
// and its matching priority (1 for the attribute users are matched on, 0
// for none).
type Mapping struct {
	Target   string `json:"target"`
	Source   string `json:"source"`
	Default  string `json:"default,omitempty"`
	Matching int    `json:"matching,omitempty"`
}

// Where a set of mappings was read.
const (
	// OriginGalleryDefault: no enterprise app exists yet, so Graph has no
	// schema to read (a template's schema is read through an app's service
	// principal). The cutover creates the job from the gallery template,
	// whose mappings these are.
	OriginGalleryDefault = "gallery template defaults (no enterprise app yet)"
	OriginTemplate       = "the synchronization template's schema"
	OriginJob            = "the provisioning job's schema"
)

// Set is the user mappings a job applies, and where they were read.
type Set struct {
	Origin string    `json:"origin"`
	Users  []Mapping `json:"users"`
}

// GalleryDefaults are the user mappings of the AWS IAM Identity Center
// gallery app's synchronization template, as far as this tool relies on
// them (Microsoft's tutorial "Configure AWS IAM Identity Center for
// automatic user provisioning" lists them): userName from
// userPrincipalName, matched on; the name parts, displayName and the work
// e-mail from the attributes of the same names; externalId from the object
// ID. A set without changes to these is judged as the preflight always has.
func GalleryDefaults() Set {
	return Set{Origin: OriginGalleryDefault, Users: []Mapping{
		{Target: TargetUserName, Source: "[userPrincipalName]", Matching: 1},
		{Target: TargetGivenName, Source: "[givenName]"},
		{Target: TargetFamilyName, Source: "[surname]"},
		{Target: TargetDisplayName, Source: "[displayName]"},
		{Target: TargetWorkEmail, Source: "[mail]"},
		{Target: TargetExternalID, Source: "[objectId]"},
	}}
}

// Changed are the mappings of s that differ from the gallery defaults for
// the same target, and those with no default, described for a person
// ("userName ← [mail]").
func (s Set) Changed() []string {
	defaults := map[string]Mapping{}
	for _, m := range GalleryDefaults().Users {
		defaults[m.Target] = m
	}
	var changed []string
	for _, m := range s.Users {
		if d, ok := defaults[m.Target]; !ok || !strings.EqualFold(strings.Join(strings.Fields(d.Source), ""), strings.Join(strings.Fields(m.Source), "")) || d.Default != m.Default {
			changed = append(changed, m.String())
		}
	}
	for _, d := range GalleryDefaults().Users {
		if _, ok := s.mapping(d.Target); !ok {
			changed = append(changed, d.Target+" not mapped")
		}
	}
	return changed
}

func (m Mapping) String() string {
	s := m.Target + " ← " + m.Source
	if m.Default != "" {
		s += fmt.Sprintf(" (default %q)", m.Default)
	}
	return s
}

func (s Set) mapping(target string) (Mapping, bool) {
	for _, m := range s.Users {
		if strings.EqualFold(m.Target, target) {
			return m, true
		}
	}
	return Mapping{}, false
}

// Compiled is a Set parsed once, to be applied to many users.
type Compiled struct {
	Set
	exprs []Expr
	// Unevaluated names each mapping that did not parse, with why; it
	// maps nothing.
	Unevaluated []string
}

// Compile parses every mapping; one that does not parse is left out and
// named in Unevaluated.
func (s Set) Compile() Compiled {
	c := Compiled{Set: Set{Origin: s.Origin}}
	for _, m := range s.Users {
		e, err := Parse(m.Source)
		if err != nil {
			c.Unevaluated = append(c.Unevaluated, fmt.Sprintf("%s: %v", m.Target, err))
			continue
		}
		c.Users = append(c.Users, m)
		c.exprs = append(c.exprs, e)
	}
	return c
}

// SourceAttributes are the source attributes the mappings read, each once.
func (c Compiled) SourceAttributes() []string {
	var names []string
	for _, e := range c.exprs {
		for _, a := range e.Attributes() {
			if !containsFold(names, a) {
				names = append(names, a)
			}
		}
	}
	return names
}

// UserNameSource is the one attribute userName is mapped from, when its
// mapping is a plain [attribute]: the attribute the preflight can look
// AWS's userNames up by.
func (c Compiled) UserNameSource() (string, bool) {
	for i, m := range c.Users {
		if m.Target == TargetUserName {
			return c.exprs[i].Attribute()
		}
	}
	return "", false
}

// User is what the mappings send for one user: the value of each mapping
// of the Compiled it came from, by index; "" is null (the attribute is not
// sent).
type User []string

// Apply evaluates every mapping for a user.
func (c Compiled) Apply(attrs Attributes) User {
	u := make(User, len(c.exprs))
	for i, e := range c.exprs {
		u[i] = e.Eval(attrs)
		if u[i] == "" {
			u[i] = c.Users[i].Default
		}
	}
	return u
}

// Value is what u sends for an AWS attribute; "" when nothing.
func (c Compiled) Value(u User, target string) string {
	for i, m := range c.Users {
		if m.Target == target && i < len(u) {
			return u[i]
		}
	}
	return ""
}

// Builtin answers the source attributes that are no Graph property:
// objectId is Entra's name for the ID, and IsSoftDeleted is "False" for
// every user a directory read returns.
func Builtin(name, id string) (string, bool) {
	switch {
	case strings.EqualFold(name, "objectId"):
		return id, true
	case strings.EqualFold(name, "IsSoftDeleted"):
		return "False", true
	}
	return "", false
}
