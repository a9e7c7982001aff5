// Package attrmap evaluates the attribute mappings of an Entra provisioning
// job's schema: what Entra sends to AWS for a user, attribute by attribute.
// The preflight judges users through it, so that a mapping an administrator
// changed (userName from mail instead of userPrincipalName, say) changes the
// findings the way it changes what provisioning does.
//
// Expressions follow Microsoft's "Reference for writing expressions for
// attribute mappings in Microsoft Entra ID"
// (https://learn.microsoft.com/entra/identity/app-provisioning/functions-for-customizing-application-data):
// [attribute], "constant" (backslash escapes \ and "), and functions, nested.
// The functions that compute a string from a user's attributes are
// evaluated; the others (dates, app role assignments, random values,
// Guid) make Parse fail with ErrUnsupported, and the preflight says it
// could not judge that mapping rather than guessing.
package attrmap

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// ErrUnsupported is wrapped by Parse's error for a function this package
// does not evaluate.
var ErrUnsupported = errors.New("not evaluated by the preflight")

// Attributes gives a user's source attribute by its Entra name (compared
// case-insensitively, as the schema's attribute names are). An empty value
// is null.
type Attributes func(name string) string

// Expr is a parsed mapping expression.
type Expr struct {
	attribute string // [attribute]
	constant  *string
	function  string
	args      []Expr
}

// Parse reads one expression.
func Parse(s string) (Expr, error) {
	p := parser{in: s}
	e, err := p.expr()
	if err != nil {
		return Expr{}, fmt.Errorf("the expression %q: %w", s, err)
	}
	p.space()
	if p.pos != len(p.in) {
		return Expr{}, fmt.Errorf("the expression %q: unexpected %q at %d", s, p.in[p.pos:], p.pos)
	}
	return e, nil
}

// Attributes are the source attributes the expression reads, in order,
// each once.
func (e Expr) Attributes() []string {
	var names []string
	var walk func(Expr)
	walk = func(e Expr) {
		if e.attribute != "" && !containsFold(names, e.attribute) {
			names = append(names, e.attribute)
		}
		for _, a := range e.args {
			walk(a)
		}
	}
	walk(e)
	return names
}

// Attribute is the one attribute the expression is, when it is a plain
// [attribute] and nothing else.
func (e Expr) Attribute() (string, bool) { return e.attribute, e.attribute != "" }

// Eval computes the expression's value for a user; "" is null.
func (e Expr) Eval(attrs Attributes) string {
	switch {
	case e.attribute != "":
		return attrs(e.attribute)
	case e.constant != nil:
		return *e.constant
	}
	v := func(i int) string {
		if i < len(e.args) {
			return e.args[i].Eval(attrs)
		}
		return ""
	}
	switch e.function {
	case "Append":
		return v(0) + v(1)
	case "Coalesce":
		for i := range e.args {
			if s := v(i); s != "" {
				return s
			}
		}
		return ""
	case "Join":
		// The reference joins every source value; it does not say what a
		// null one adds, and Entra's portal examples only join present
		// values. A null value is left out here.
		var parts []string
		for i := 1; i < len(e.args); i++ {
			if s := v(i); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, v(0))
	case "Left":
		n, _ := strconv.Atoi(v(1))
		r := []rune(v(0))
		return string(r[:max(0, min(n, len(r)))])
	case "Mid":
		// start is 1-based.
		start, _ := strconv.Atoi(v(1))
		length, _ := strconv.Atoi(v(2))
		r := []rune(v(0))
		from := max(0, min(start-1, len(r)))
		return string(r[from:max(from, min(from+length, len(r)))])
	case "ToLower":
		return strings.ToLower(v(0))
	case "ToUpper":
		return strings.ToUpper(v(0))
	case "StripSpaces":
		return strings.ReplaceAll(v(0), " ", "")
	case "NormalizeDiacritics":
		s, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), v(0))
		if err != nil {
			return v(0)
		}
		return s
	case "Replace":
		// Only the form Replace(source, oldValue, , , replacementValue, , )
		// parses (see checkArity); the regular-expression forms do not.
		if old := v(1); old != "" {
			return strings.ReplaceAll(v(0), old, v(4))
		}
		return v(0)
	case "Switch":
		source := v(0)
		for i := 2; i+1 < len(e.args); i += 2 {
			if source == v(i) {
				return v(i + 1)
			}
		}
		return v(1)
	case "IIF":
		if isTrue(v(0)) {
			return v(1)
		}
		return v(2)
	case "IsNullOrEmpty", "IsNull":
		return boolString(v(0) == "")
	case "IsPresent":
		return boolString(v(0) != "")
	case "Not":
		return boolString(!isTrue(v(0)))
	case "CStr":
		return v(0)
	}
	return "" // Parse refuses any other function
}

func isTrue(s string) bool { return strings.EqualFold(s, "true") }

func boolString(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// arity is how many arguments each evaluated function takes: at least, and
// at most (-1: any number).
var arity = map[string][2]int{
	"Append": {2, 2}, "Coalesce": {1, -1}, "Join": {2, -1}, "Left": {2, 2}, "Mid": {3, 3},
	"ToLower": {1, 2}, "ToUpper": {1, 2}, "StripSpaces": {1, 1}, "NormalizeDiacritics": {1, 1},
	"Replace": {7, 7}, "Switch": {2, -1}, "IIF": {3, 3}, "IsNullOrEmpty": {1, 1}, "IsNull": {1, 1},
	"IsPresent": {1, 1}, "Not": {1, 1}, "CStr": {1, 1},
}

// parser reads the grammar: expr = attribute | constant | number |
// name "(" [args] ")";
// an argument may be left empty (Switch's default, Replace's unused ones).
type parser struct {
	in  string
	pos int
}

func (p *parser) space() {
	for p.pos < len(p.in) && unicode.IsSpace(rune(p.in[p.pos])) {
		p.pos++
	}
}

func (p *parser) expr() (Expr, error) {
	p.space()
	if p.pos == len(p.in) {
		return Expr{}, errors.New("ends where a value was expected")
	}
	switch c := p.in[p.pos]; {
	case c == '[':
		end := strings.IndexByte(p.in[p.pos:], ']')
		if end < 0 {
			return Expr{}, errors.New("an attribute's [ is not closed")
		}
		name := strings.TrimSpace(p.in[p.pos+1 : p.pos+end])
		p.pos += end + 1
		if name == "" {
			return Expr{}, errors.New("an attribute has no name")
		}
		return Expr{attribute: name}, nil
	case c == '"':
		return p.constant()
	case c == '-' || unicode.IsDigit(rune(c)):
		// A number, as Left's NumChars and Mid's start and length are.
		start := p.pos
		p.pos++
		for p.pos < len(p.in) && unicode.IsDigit(rune(p.in[p.pos])) {
			p.pos++
		}
		n := p.in[start:p.pos]
		return Expr{constant: &n}, nil
	case unicode.IsLetter(rune(c)):
		return p.function()
	default:
		return Expr{}, fmt.Errorf("unexpected %q at %d", c, p.pos)
	}
}

func (p *parser) constant() (Expr, error) {
	var b strings.Builder
	for i := p.pos + 1; i < len(p.in); i++ {
		switch c := p.in[i]; c {
		case '\\':
			if i+1 < len(p.in) {
				i++
				b.WriteByte(p.in[i])
			}
		case '"':
			p.pos = i + 1
			s := b.String()
			return Expr{constant: &s}, nil
		default:
			b.WriteByte(c)
		}
	}
	return Expr{}, errors.New("a string constant is not closed")
}

func (p *parser) function() (Expr, error) {
	start := p.pos
	for p.pos < len(p.in) && (unicode.IsLetter(rune(p.in[p.pos])) || unicode.IsDigit(rune(p.in[p.pos]))) {
		p.pos++
	}
	name := p.in[start:p.pos]
	p.space()
	if p.pos == len(p.in) || p.in[p.pos] != '(' {
		return Expr{}, fmt.Errorf("the function %s has no (", name)
	}
	p.pos++
	e := Expr{function: name}
	for {
		p.space()
		if p.pos < len(p.in) && p.in[p.pos] == ')' && len(e.args) == 0 {
			p.pos++
			break
		}
		if p.pos < len(p.in) && (p.in[p.pos] == ',' || p.in[p.pos] == ')') {
			empty := ""
			e.args = append(e.args, Expr{constant: &empty}) // an argument left empty
		} else {
			arg, err := p.expr()
			if err != nil {
				return Expr{}, err
			}
			e.args = append(e.args, arg)
		}
		p.space()
		if p.pos == len(p.in) {
			return Expr{}, fmt.Errorf("the function %s is not closed", name)
		}
		if p.in[p.pos] == ')' {
			p.pos++
			break
		}
		if p.in[p.pos] != ',' {
			return Expr{}, fmt.Errorf("unexpected %q at %d in the arguments of %s", p.in[p.pos], p.pos, name)
		}
		p.pos++
	}
	return e, checkArity(e)
}

func checkArity(e Expr) error {
	n, ok := arity[e.function]
	if !ok {
		return fmt.Errorf("the function %s is %w", e.function, ErrUnsupported)
	}
	if len(e.args) < n[0] || (n[1] >= 0 && len(e.args) > n[1]) {
		return fmt.Errorf("the function %s takes %s, not %d", e.function, arityWords(n), len(e.args))
	}
	if e.function == "Replace" {
		// Only the plain form: source, oldValue, and replacementValue.
		for _, i := range []int{2, 3, 5, 6} {
			if c := e.args[i].constant; c == nil || *c != "" {
				return fmt.Errorf("the function Replace with a regular expression, a replacement attribute or a template is %w", ErrUnsupported)
			}
		}
	}
	return nil
}

func arityWords(n [2]int) string {
	switch {
	case n[1] < 0:
		return fmt.Sprintf("at least %d arguments", n[0])
	case n[0] == n[1]:
		return fmt.Sprintf("%d arguments", n[0])
	}
	return fmt.Sprintf("%d to %d arguments", n[0], n[1])
}

func containsFold(names []string, name string) bool {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}
