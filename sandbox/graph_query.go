package sandbox

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Graph's paging limits for users, groups and directory-object collections
// (members, transitiveMembers, owners).
const (
	graphDefaultPageSize = 100
	graphMaxPageSize     = 999
	// graphMaxFilterClauses is how many eq comparisons (or values of in)
	// one $filter may hold.
	graphMaxFilterClauses = 15
)

// graphQuery is the OData query options of one request.
type graphQuery struct {
	filter   []filterClause // any of them matches; empty means everything
	selected []string       // canonical property names; nil means the defaults
	top      int
	skip     int // from $skiptoken
	count    bool
	options  url.Values // as received, to repeat them in the nextLink
}

// filterClause is `property eq value` (or `property in (values)`).
type filterClause struct {
	property string
	values   []any // string or bool
}

// The query options the sandbox understands; Graph has more ($expand,
// $orderby, $search, $skip), which the sandbox refuses rather than ignores.
var supportedGraphOptions = []string{"$filter", "$select", "$top", "$count", "$skiptoken"}

// parseGraphQuery reads r's query options for a collection whose objects
// have properties.
func parseGraphQuery(r *http.Request, properties []string) (*graphQuery, *graphError) {
	options, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: "The query specified in the URI is not valid: " + err.Error()}
	}
	q := &graphQuery{top: graphDefaultPageSize, options: options}
	for name, values := range options {
		if len(values) > 1 {
			return nil, &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: fmt.Sprintf("Query option '%s' was specified more than once, but it must be specified at most once.", name)}
		}
		if strings.HasPrefix(name, "$") && !slices.Contains(supportedGraphOptions, name) {
			return nil, &graphError{Status: http.StatusBadRequest, Code: "Request_UnsupportedQuery", Message: fmt.Sprintf("The sandbox does not support the query option '%s' (it supports %s).", name, strings.Join(supportedGraphOptions, ", "))}
		}
	}
	canonical := map[string]string{} // lower-case name -> name
	for _, p := range properties {
		canonical[strings.ToLower(p)] = p
	}

	if v := options.Get("$select"); v != "" {
		for _, name := range strings.Split(v, ",") {
			p, ok := canonical[strings.ToLower(strings.TrimSpace(name))]
			if !ok {
				return nil, graphBadRequest("Could not find a property named '%s' on type 'microsoft.graph.directoryObject'.", strings.TrimSpace(name))
			}
			if !slices.Contains(q.selected, p) {
				q.selected = append(q.selected, p)
			}
		}
	}
	if v := options.Get("$top"); v != "" {
		top, err := strconv.Atoi(v)
		if err != nil || top < 1 || top > graphMaxPageSize {
			return nil, graphBadRequest("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", v, graphMaxPageSize)
		}
		q.top = top
	}
	if v := options.Get("$count"); v != "" {
		switch strings.ToLower(v) {
		case "true":
			q.count = true
		case "false":
		default:
			return nil, &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: fmt.Sprintf("Invalid value '%s' for $count: use true or false.", v)}
		}
		if q.count && !strings.EqualFold(r.Header.Get("ConsistencyLevel"), "eventual") {
			return nil, graphBadRequest("$count=true is an advanced query: it needs the header 'ConsistencyLevel: eventual'.")
		}
	}
	if v := options.Get("$skiptoken"); v != "" {
		skip, ok := decodeSkipToken(v)
		if !ok {
			return nil, graphBadRequest("The $skiptoken '%s' is not valid: use the @odata.nextLink of the previous page as it is.", v)
		}
		q.skip = skip
	}
	if v := options.Get("$filter"); v != "" {
		clauses, err := parseGraphFilter(v, canonical)
		if err != nil {
			return nil, err
		}
		q.filter = clauses
	}
	return q, nil
}

// apply returns the objects that pass only (a type cast) and the filter.
func (q *graphQuery) apply(only func(graphObject) bool, objects []graphObject) []graphObject {
	if only == nil && len(q.filter) == 0 {
		return objects
	}
	var out []graphObject
	for _, o := range objects {
		if (only == nil || only(o)) && q.matches(o) {
			out = append(out, o)
		}
	}
	return out
}

func (q *graphQuery) matches(o graphObject) bool {
	if len(q.filter) == 0 {
		return true
	}
	for _, c := range q.filter {
		value, ok := o.property(c.property)
		if !ok || value == nil {
			continue
		}
		for _, want := range c.values {
			switch want := want.(type) {
			case string:
				// Graph compares directory strings case-insensitively.
				if s, isString := value.(string); isString && strings.EqualFold(s, want) {
					return true
				}
			case bool:
				if b, isBool := value.(bool); isBool && b == want {
					return true
				}
			}
		}
	}
	return false
}

// render writes o with the selected properties (all it has when none are
// selected), always with id and @odata.type.
func (q *graphQuery) render(o graphObject) map[string]any {
	names := q.selected
	if names == nil {
		names = graphUserProperties
		if o.odataType() == odataTypeGroup {
			names = graphGroupProperties
		}
	}
	out := map[string]any{"@odata.type": o.odataType()}
	out["id"], _ = o.property("id")
	for _, name := range names {
		if v, ok := o.property(name); ok {
			out[name] = v
		}
	}
	return out
}

// contextSelect is the "(a,b)" suffix of @odata.context for a $select.
func (q *graphQuery) contextSelect() string {
	if q.selected == nil {
		return ""
	}
	return "(" + strings.Join(q.selected, ",") + ")"
}

// nextLink is the absolute URL of the page that starts at offset: the same
// request with a $skiptoken.
func (q *graphQuery) nextLink(r *http.Request, offset int) string {
	options := url.Values{}
	for k, v := range q.options {
		options[k] = v
	}
	options.Set("$skiptoken", encodeSkipToken(offset))
	keys := make([]string, 0, len(options))
	for k := range options {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(escapeQuery(k))
		b.WriteByte('=')
		b.WriteString(escapeQuery(options.Get(k)))
	}
	return graphServiceRoot(r) + strings.TrimPrefix(r.URL.Path, graphVersionPrefix) + "?" + b.String()
}

// escapeQuery escapes a query key or value, leaving the $ of OData option
// names readable and writing spaces as %20, as Graph's links do.
func escapeQuery(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(url.QueryEscape(s), "+", "%20"), "%24", "$")
}

// A skip token is opaque to clients; the sandbox's holds the offset.
func encodeSkipToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("skip:" + strconv.Itoa(offset)))
}

func decodeSkipToken(token string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(raw), "skip:"))
	if err != nil || n < 0 || !strings.HasPrefix(string(raw), "skip:") {
		return 0, false
	}
	return n, true
}

// parseGraphFilter reads the subset of OData $filter the cutover uses:
//
//	property eq 'value' [or property eq 'value' ...]
//	property in ('value', 'value', ...)
//
// with string literals in single quotes (a quote inside doubled) or true /
// false. Collection-valued properties (otherMails, groupTypes) need lambda
// operators, which the sandbox does not support.
func parseGraphFilter(expr string, canonical map[string]string) ([]filterClause, *graphError) {
	invalid := func(format string, args ...any) *graphError {
		return &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: "Invalid filter clause: " + fmt.Sprintf(format, args...)}
	}
	tokens, err := tokenizeFilter(expr)
	if err != nil {
		return nil, invalid("%s", err)
	}
	var clauses []filterClause
	comparisons := 0
	pos := 0
	next := func() filterToken {
		if pos >= len(tokens) {
			return filterToken{}
		}
		t := tokens[pos]
		pos++
		return t
	}
	for {
		name := next()
		if name.kind != tokenWord {
			return nil, invalid("expected a property name in '%s'.", expr)
		}
		property, ok := canonical[strings.ToLower(name.text)]
		if !ok {
			return nil, graphBadRequest("Could not find a property named '%s' on type 'microsoft.graph.directoryObject'.", name.text)
		}
		if property == "otherMails" || property == "groupTypes" {
			return nil, &graphError{Status: http.StatusBadRequest, Code: "Request_UnsupportedQuery", Message: fmt.Sprintf("Unsupported or invalid query filter clause specified for property '%s': the sandbox does not support lambda operators.", property)}
		}
		clause := filterClause{property: property}
		switch op := next(); {
		case op.kind == tokenWord && strings.EqualFold(op.text, "eq"):
			v, err := filterLiteral(next())
			if err != nil {
				return nil, invalid("%s in '%s'.", err, expr)
			}
			clause.values = append(clause.values, v)
		case op.kind == tokenWord && strings.EqualFold(op.text, "in"):
			if t := next(); t.kind != tokenOpen {
				return nil, invalid("expected '(' after 'in' in '%s'.", expr)
			}
			for {
				v, err := filterLiteral(next())
				if err != nil {
					return nil, invalid("%s in '%s'.", err, expr)
				}
				clause.values = append(clause.values, v)
				t := next()
				if t.kind == tokenClose {
					break
				}
				if t.kind != tokenComma {
					return nil, invalid("expected ',' or ')' in '%s'.", expr)
				}
			}
		default:
			return nil, &graphError{Status: http.StatusBadRequest, Code: "Request_UnsupportedQuery", Message: fmt.Sprintf("The sandbox supports only 'eq', 'in' and 'or' in $filter: '%s'.", expr)}
		}
		comparisons += len(clause.values)
		clauses = append(clauses, clause)

		t := next()
		if t.kind == tokenEnd {
			break
		}
		if t.kind != tokenWord || !strings.EqualFold(t.text, "or") {
			return nil, &graphError{Status: http.StatusBadRequest, Code: "Request_UnsupportedQuery", Message: fmt.Sprintf("The sandbox supports only 'eq', 'in' and 'or' in $filter: '%s'.", expr)}
		}
	}
	if comparisons > graphMaxFilterClauses {
		return nil, &graphError{Status: http.StatusBadRequest, Code: "Request_UnsupportedQuery", Message: fmt.Sprintf("Too many child clauses specified in search filter expression containing 'OR' operators: %d. Max allowed: %d.", comparisons, graphMaxFilterClauses)}
	}
	return clauses, nil
}

type filterTokenKind int

const (
	tokenEnd filterTokenKind = iota
	tokenWord
	tokenString
	tokenOpen
	tokenClose
	tokenComma
)

type filterToken struct {
	kind filterTokenKind
	text string
}

func tokenizeFilter(expr string) ([]filterToken, error) {
	var tokens []filterToken
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(':
			tokens = append(tokens, filterToken{kind: tokenOpen})
			i++
		case c == ')':
			tokens = append(tokens, filterToken{kind: tokenClose})
			i++
		case c == ',':
			tokens = append(tokens, filterToken{kind: tokenComma})
			i++
		case c == '\'':
			// A quote inside a literal is written twice.
			var b strings.Builder
			i++
			for {
				if i >= len(expr) {
					return nil, fmt.Errorf("unterminated string literal in '%s'", expr)
				}
				if expr[i] == '\'' {
					if i+1 < len(expr) && expr[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(expr[i])
				i++
			}
			tokens = append(tokens, filterToken{kind: tokenString, text: b.String()})
		default:
			start := i
			for i < len(expr) && !strings.ContainsRune(" \t(),'", rune(expr[i])) {
				i++
			}
			tokens = append(tokens, filterToken{kind: tokenWord, text: expr[start:i]})
		}
	}
	return tokens, nil
}

func filterLiteral(t filterToken) (any, error) {
	switch {
	case t.kind == tokenString:
		return t.text, nil
	case t.kind == tokenWord && (t.text == "true" || t.text == "false"):
		return t.text == "true", nil
	}
	return nil, fmt.Errorf("expected a quoted string or true/false")
}
