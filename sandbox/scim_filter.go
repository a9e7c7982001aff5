package sandbox

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// scimClause is one `attribute eq "value"` of a filter; attribute is
// lower-cased, as SCIM attribute names are case-insensitive.
type scimClause struct {
	attribute string
	value     string
}

// parseSCIMFilter parses the only filters IAM Identity Center accepts:
// `attr eq "value"` clauses joined by `and`. Every other operator (ne, co,
// sw, ew, pr, gt, ...), `or`, `not`, grouping and value paths are refused,
// as are attributes outside supported.
func parseSCIMFilter(filter string, supported ...string) ([]scimClause, *scimError) {
	unsupported := func(why string) *scimError {
		return scimBadRequest("Unsupported filter " + strconv.Quote(filter) + ": " + why +
			" Only `<attribute> eq \"<value>\"` clauses joined by `and` are supported.")
	}
	var clauses []scimClause
	rest := strings.TrimSpace(filter)
	for {
		attribute, afterAttribute, ok := strings.Cut(rest, " ")
		if !ok {
			return nil, unsupported("it is incomplete.")
		}
		if strings.ContainsAny(attribute, "()[]\"") || strings.EqualFold(attribute, "not") {
			return nil, unsupported("grouping, value paths and not are not supported.")
		}
		operator, afterOperator, ok := strings.Cut(strings.TrimLeft(afterAttribute, " "), " ")
		if !ok || !strings.EqualFold(operator, "eq") {
			return nil, unsupported("operator " + strconv.Quote(operator) + " is not supported.")
		}
		value, afterValue, err := cutQuoted(strings.TrimLeft(afterOperator, " "))
		if err != nil {
			return nil, unsupported("the value must be a double-quoted string.")
		}
		name := strings.ToLower(attribute)
		if !slices.Contains(supported, name) {
			return nil, unsupported("attribute " + strconv.Quote(attribute) + " cannot be filtered on.")
		}
		clauses = append(clauses, scimClause{attribute: name, value: value})

		rest = strings.TrimSpace(afterValue)
		if rest == "" {
			return clauses, nil
		}
		conjunction, afterConjunction, ok := strings.Cut(rest, " ")
		if !ok || !strings.EqualFold(conjunction, "and") {
			return nil, unsupported(strconv.Quote(conjunction) + " is not supported; only and joins clauses.")
		}
		rest = strings.TrimSpace(afterConjunction)
	}
}

// cutQuoted cuts a JSON string literal off the front of s.
func cutQuoted(s string) (value, rest string, err error) {
	if !strings.HasPrefix(s, `"`) {
		return "", "", strconv.ErrSyntax
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			value, err := strconv.Unquote(s[:i+1])
			return value, s[i+1:], err
		}
	}
	return "", "", strconv.ErrSyntax
}

// scimPageRequest is the paging of a list request: count, and whether the
// client pages by cursor and from where.
type scimPageRequest struct {
	count    int
	byCursor bool   // the request carried a cursor parameter (empty: first page)
	after    string // the last ID of the previous page
}

func parseSCIMPage(query url.Values) (scimPageRequest, *scimError) {
	page := scimPageRequest{count: scimMaxPage}
	if raw := query.Get("count"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > scimMaxPage {
			return page, scimBadRequest("count must be between 1 and 100.")
		}
		page.count = n
	}
	// startIndex is not supported: a client that pages by it would read the
	// first page forever, so anything but the first index is refused.
	if raw := query.Get("startIndex"); raw != "" && raw != "1" {
		return page, scimBadRequest("startIndex is not supported; page with cursor (send cursor= for the first page, then each answer's nextCursor).")
	}
	if cursors, ok := query["cursor"]; ok {
		page.byCursor = true
		if cursors[0] != "" {
			after, err := base64.RawURLEncoding.DecodeString(cursors[0])
			if err != nil || len(after) == 0 {
				return page, scimBadRequest("cursor is not one this endpoint returned.")
			}
			page.after = string(after)
		}
	}
	return page, nil
}

// parseSCIMList reads the query of a list request: its paging, and its
// filter, which may test only the given attributes (lower case).
func parseSCIMList(query url.Values, attributes ...string) (scimPageRequest, []scimClause, *scimError) {
	page, err := parseSCIMPage(query)
	if err != nil {
		return page, nil, err
	}
	var clauses []scimClause
	if filter := query.Get("filter"); filter != "" {
		if clauses, err = parseSCIMFilter(filter, attributes...); err != nil {
			return page, nil, err
		}
	}
	return page, clauses, nil
}

// matchingIDs are the sorted IDs of the resources (users or groups) every
// clause matches. A clause on nameAttribute (userName, displayName: byName
// holds their lower-case values) or on id is answered from the indexes,
// without testing every resource: Entra looks every user up by userName
// before it creates it.
func matchingIDs(clauses []scimClause, nameAttribute string, byName map[string]string, sorted []string, matches func(id string) bool) []string {
	if len(clauses) == 0 {
		return sorted
	}
	candidates := sorted
	for _, c := range clauses {
		var id string
		switch c.attribute {
		case nameAttribute:
			id = byName[strings.ToLower(c.value)]
		case "id":
			if _, found := slices.BinarySearch(sorted, c.value); found {
				id = c.value
			}
		default:
			continue
		}
		candidates = nil
		if id != "" {
			candidates = []string{id}
		}
		break
	}
	var ids []string
	for _, id := range candidates {
		if matches(id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// scimListResponse is a ListResponse. Without a cursor it carries
// totalResults and startIndex (and only the first page); with a cursor it
// carries nextCursor until the last page.
type scimListResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults *int     `json:"totalResults,omitempty"`
	ItemsPerPage int      `json:"itemsPerPage"`
	StartIndex   *int     `json:"startIndex,omitempty"`
	NextCursor   string   `json:"nextCursor,omitempty"`
	Resources    []any    `json:"Resources"`
}

// pageOf cuts one page out of matching IDs (sorted) and renders it.
func pageOf(ids []string, page scimPageRequest, render func(id string) any) (int, any, *scimError) {
	from := 0
	if page.after != "" {
		from = sort.SearchStrings(ids, page.after)
		if from < len(ids) && ids[from] == page.after {
			from++
		}
	}
	to := min(from+page.count, len(ids))
	resp := scimListResponse{Schemas: []string{scimSchemaListResponse}, Resources: make([]any, 0, to-from)}
	for _, id := range ids[from:to] {
		resp.Resources = append(resp.Resources, render(id))
	}
	resp.ItemsPerPage = len(resp.Resources)
	if page.byCursor {
		if to < len(ids) {
			resp.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(ids[to-1]))
		}
	} else {
		total, start := len(ids), 1
		resp.TotalResults, resp.StartIndex = &total, &start
	}
	return http.StatusOK, resp, nil
}
