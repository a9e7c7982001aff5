package sandbox

// A job's synchronization schema: its attribute mappings are what the
// provisioning engine sends, so a mapping changed with PUT changes what the
// next cycle creates or updates.
//
//	GET .../templates/{templateId}/schema   the template's schema
//	GET .../jobs/{jobId}/schema             the job's (the template's until changed)
//	PUT .../jobs/{jobId}/schema             replaces it: 204 No Content
//
// Documented under "Get synchronizationSchema" and "Update
// synchronizationSchema"
// (https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-update).
// The page documents PUT; msgraph-sdk-go v1 sends the same full
// replacement as PATCH, so both are served alike.
// Graph documents no validation rules for PUT; the sandbox refuses what it
// could not apply (no rule, an expression that does not parse) with 400,
// and applies a function it does not evaluate as null.

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/platformguide/ssocutover/internal/attrmap"
)

// schemaOf is the job's schema, the template's until a PUT replaced it.
func (s *syncState) schemaOf(job *syncJob) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if job.schema == nil {
		return awsSyncSchema()
	}
	var copied map[string]any
	raw, _ := json.Marshal(job.schema)
	_ = json.Unmarshal(raw, &copied)
	return copied
}

// putSchema replaces the job's schema.
func (s *syncState) putSchema(w http.ResponseWriter, r *http.Request, job *syncJob) *graphError {
	var body map[string]any
	if err := decodeGraphBody(r, &body); err != nil {
		return err
	}
	if _, err := userMappingsOf(body); err != nil {
		return graphBadRequest("The schema cannot be applied: %s.", err.Error())
	}
	delete(body, "@odata.context")
	s.mu.Lock()
	job.schema = body
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// jobMappings are the user mappings the engine applies for the job.
func (s *syncState) jobMappings(job *syncJob) attrmap.Compiled {
	set, err := userMappingsOf(s.schemaOf(job))
	if err != nil {
		set = attrmap.GalleryDefaults() // putSchema refused such a schema
	}
	return set.Compile()
}

// schemaJSON is the part of a synchronizationSchema the engine reads.
type schemaJSON struct {
	SynchronizationRules []struct {
		SourceDirectoryName string `json:"sourceDirectoryName"`
		ObjectMappings      []struct {
			Enabled           bool   `json:"enabled"`
			SourceObjectName  string `json:"sourceObjectName"`
			AttributeMappings []struct {
				TargetAttributeName string `json:"targetAttributeName"`
				DefaultValue        string `json:"defaultValue"`
				MatchingPriority    int    `json:"matchingPriority"`
				Source              struct {
					Expression string `json:"expression"`
					Name       string `json:"name"`
				} `json:"source"`
			} `json:"attributeMappings"`
		} `json:"objectMappings"`
	} `json:"synchronizationRules"`
}

// userMappingsOf reads the user object mapping of the rule from Entra ID.
func userMappingsOf(schema map[string]any) (attrmap.Set, error) {
	raw, _ := json.Marshal(schema)
	var parsed schemaJSON
	if err := json.Unmarshal(raw, &parsed); err != nil {
		return attrmap.Set{}, err
	}
	for _, rule := range parsed.SynchronizationRules {
		if rule.SourceDirectoryName != "Azure Active Directory" {
			continue
		}
		for _, om := range rule.ObjectMappings {
			if !om.Enabled || !strings.EqualFold(om.SourceObjectName, "User") {
				continue
			}
			set := attrmap.Set{Origin: attrmap.OriginJob}
			for _, m := range om.AttributeMappings {
				expr := m.Source.Expression
				if expr == "" {
					expr = "[" + m.Source.Name + "]"
				}
				if _, err := attrmap.Parse(expr); err != nil && !errors.Is(err, attrmap.ErrUnsupported) {
					return attrmap.Set{}, err
				}
				set.Users = append(set.Users, attrmap.Mapping{Target: m.TargetAttributeName, Source: expr, Default: m.DefaultValue, Matching: m.MatchingPriority})
			}
			return set, nil
		}
	}
	return attrmap.Set{}, errors.New("it has no enabled User object mapping in a rule from Azure Active Directory")
}
