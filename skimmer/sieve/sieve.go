// Package sieve writes and reads the query grammar of the .NET Sieve library,
// which Skimmer's search endpoint uses for its filters, sorts and paging.
//
// The grammar, as Sieve implements it:
//
//   - Filters are terms separated by commas; terms are ANDed. A comma preceded
//     by an odd number of backslashes is part of a value.
//   - A term is Names OP Values. Several names in parentheses, (A|B), or
//     several values, A==x|y, are ORed. "|" splits like ",".
//   - The operator is the first operator in the term that is not directly
//     preceded by a backslash; anything after a second unescaped operator is
//     dropped by the server without a word.
//   - In a value, "\" + operator stands for the operator, and "\\", "\,", "\|"
//     for a backslash, a comma and a pipe. Values are trimmed.
//   - The value null (any case) means null; "\null" is the text "null".
//
// Sieve's unescaping is a series of plain string replacements, so not every
// string survives a round trip. The builder therefore checks every value it
// escapes by parsing it back, and refuses the few it cannot express rather
// than sending a query that means something else.
package sieve

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrInvalid is wrapped by every error about a query that must not be sent.
var ErrInvalid = errors.New("invalid search query")

// Op is a Sieve filter operator.
type Op string

// The operators. A trailing * makes a comparison case-insensitive; a leading
// ! negates the string operators.
const (
	Equals                  Op = "=="
	NotEquals               Op = "!="
	GreaterThan             Op = ">"
	LessThan                Op = "<"
	GreaterOrEqual          Op = ">="
	LessOrEqual             Op = "<="
	Contains                Op = "@="
	StartsWith              Op = "_="
	EndsWith                Op = "_-="
	NotContains             Op = "!@="
	NotStartsWith           Op = "!_="
	NotEndsWith             Op = "!_-="
	EqualsIgnoreCase        Op = "==*"
	NotEqualsIgnoreCase     Op = "!=*"
	ContainsIgnoreCase      Op = "@=*"
	StartsWithIgnoreCase    Op = "_=*"
	EndsWithIgnoreCase      Op = "_-=*"
	NotContainsIgnoreCase   Op = "!@=*"
	NotStartsWithIgnoreCase Op = "!_=*"
	NotEndsWithIgnoreCase   Op = "!_-=*"
)

// matchOrder is the order in which Sieve's operator regex tries the
// alternatives at a position; it always finds the longest operator there.
var matchOrder = []Op{
	NotContainsIgnoreCase, NotStartsWithIgnoreCase, NotEndsWithIgnoreCase, NotEqualsIgnoreCase,
	NotContains, NotStartsWith, NotEndsWith,
	EqualsIgnoreCase, ContainsIgnoreCase, StartsWithIgnoreCase, EndsWithIgnoreCase,
	Equals, NotEquals, GreaterOrEqual, LessOrEqual, GreaterThan, LessThan,
	Contains, StartsWith, EndsWith,
}

// Ops lists every operator, in a stable order fit for documentation.
func Ops() []Op {
	return []Op{
		Equals, NotEquals, GreaterThan, LessThan, GreaterOrEqual, LessOrEqual,
		Contains, StartsWith, EndsWith, NotContains, NotStartsWith, NotEndsWith,
		EqualsIgnoreCase, NotEqualsIgnoreCase, ContainsIgnoreCase, StartsWithIgnoreCase,
		EndsWithIgnoreCase, NotContainsIgnoreCase, NotStartsWithIgnoreCase, NotEndsWithIgnoreCase,
	}
}

// Valid reports whether op is one of Sieve's operators.
func (op Op) Valid() bool {
	for _, o := range matchOrder {
		if o == op {
			return true
		}
	}
	return false
}

// IgnoreCase reports whether op compares without regard to case.
func (op Op) IgnoreCase() bool { return strings.HasSuffix(string(op), "*") }

// Negated reports whether op is a negated string operator (!@=, !_=, !_-=).
// != is not one: Sieve treats it as a comparison of its own.
func (op Op) Negated() bool {
	b := op.Base()
	return b == NotContains || b == NotStartsWith || b == NotEndsWith
}

// Base is op without its case-insensitivity star.
func (op Op) Base() Op { return Op(strings.TrimSuffix(string(op), "*")) }

// Positive is the base operator with its negation removed: !@= gives @=.
func (op Op) Positive() Op {
	if op.Negated() {
		return op.Base()[1:]
	}
	return op.Base()
}

// TextOnly reports whether op only applies to text fields.
func (op Op) TextOnly() bool {
	p := op.Positive()
	return p == Contains || p == StartsWith || p == EndsWith || op.IgnoreCase()
}

// opAt returns the operator that Sieve's regex matches at s[i:], if any,
// ignoring what precedes position i.
func opAt(s string, i int) Op {
	for _, op := range matchOrder {
		if strings.HasPrefix(s[i:], string(op)) {
			return op
		}
	}
	return ""
}

// findOp returns the first operator in s that is not directly preceded by a
// backslash: Sieve's lookbehind looks at one character only.
func findOp(s string) (int, Op) {
	for i := 0; i < len(s); i++ {
		if i > 0 && s[i-1] == '\\' {
			continue
		}
		if op := opAt(s, i); op != "" {
			return i, op
		}
	}
	return -1, ""
}

// fieldName is what a property name may look like: a C# identifier, or a
// dotted path of them, ending in a letter or digit. Anything else could run
// into the operator: "A_" + "==" reads as "A" + "_=" + "=".
var fieldName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

func validName(n string) bool {
	return fieldName.MatchString(n) && !strings.HasSuffix(n, "_")
}

// Value is one value of a filter term: a text, or the null keyword.
type Value struct {
	text string
	null bool
}

// Null is the null keyword.
var Null = Value{null: true}

// Text is a value that means its text, even when the text is "null".
func Text(s string) Value { return Value{text: s} }

// IsNull reports whether v is the null keyword.
func (v Value) IsNull() bool { return v.null }

// String returns the text of v, or "null" for the keyword.
func (v Value) String() string {
	if v.null {
		return "null"
	}
	return v.text
}

// Filter is one term: any of Names compared by Op with any of Values.
type Filter struct {
	Names  []string
	Op     Op
	Values []Value
}

// Sort orders by one field.
type Sort struct {
	Name string
	Desc bool
}

// String renders s as Sieve writes it: Name, or -Name for descending.
func (s Sort) String() string {
	if s.Desc {
		return "-" + s.Name
	}
	return s.Name
}

// ParseSort reads "Name" or "-Name".
func ParseSort(s string) Sort {
	s = strings.TrimSpace(s)
	if name, ok := strings.CutPrefix(s, "-"); ok {
		return Sort{Name: strings.TrimSpace(name), Desc: true}
	}
	return Sort{Name: s}
}

// EncodeFilters renders filters in Sieve's grammar. Names are written as
// given; use Query.Values to check them against a schema first.
func EncodeFilters(filters []Filter) (string, error) {
	terms := make([]string, 0, len(filters))
	for _, f := range filters {
		t, err := encodeFilter(f)
		if err != nil {
			return "", err
		}
		terms = append(terms, t)
	}
	return strings.Join(terms, ","), nil
}

func encodeFilter(f Filter) (string, error) {
	if len(f.Names) == 0 {
		return "", fmt.Errorf("%w: a filter needs a field name", ErrInvalid)
	}
	if !f.Op.Valid() {
		return "", fmt.Errorf("%w: unknown operator %q; use one of %s", ErrInvalid, f.Op, opList())
	}
	if len(f.Values) == 0 {
		return "", fmt.Errorf("%w: the filter on %s has no value", ErrInvalid, strings.Join(f.Names, "|"))
	}
	var b strings.Builder
	if len(f.Names) > 1 {
		b.WriteByte('(')
	}
	for i, n := range f.Names {
		if !validName(n) {
			return "", fmt.Errorf("%w: %q is not a field name", ErrInvalid, n)
		}
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(n)
	}
	if len(f.Names) > 1 {
		b.WriteByte(')')
	}
	b.WriteString(string(f.Op))
	for i, v := range f.Values {
		if i > 0 {
			b.WriteByte('|')
		}
		ev, err := EscapeValue(f.Op, v)
		if err != nil {
			return "", err
		}
		b.WriteString(ev)
	}
	return b.String(), nil
}

// EscapeValue renders one value, to follow op, so that Sieve reads it back
// unchanged. It fails for the rare texts Sieve's unescaping cannot
// reproduce (a leading "*" after an operator without one, say), and for text
// with leading or trailing spaces, which Sieve trims.
func EscapeValue(op Op, v Value) (string, error) {
	if v.null {
		return "null", nil
	}
	s := v.text
	if strings.TrimSpace(s) != s {
		return "", fmt.Errorf("%w: value %q starts or ends with spaces, which the server trims; trim it", ErrInvalid, s)
	}
	if strings.EqualFold(s, "null") {
		return `\` + s, nil
	}
	if strings.EqualFold(s, `\null`) {
		return "", fmt.Errorf("%w: the text %q cannot be searched for; search for \"null\" instead", ErrInvalid, s)
	}
	for _, skipOverlapped := range []bool{false, true} {
		cand := escapeText(s, skipOverlapped)
		if got, ok := parseValue(op, cand); ok && got.text == s && !got.null {
			return cand, nil
		}
	}
	return "", fmt.Errorf("%w: value %q mixes operator characters in a way the search grammar cannot escape; search for a part of it without them", ErrInvalid, s)
}

// escapeText escapes the characters and operators of s. An operator is
// escaped by a backslash before it; a negated operator by a backslash before
// its inner operator, because Sieve would otherwise still find the inner one
// (!@= contains @=). With skipOverlapped, an operator that overlaps the next
// one is left for the next one's backslash to break.
func escapeText(s string, skipOverlapped bool) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		op := opAt(s, i)
		if op != "" && skipOverlapped && i+1 < len(s) && opAt(s, i+1) != "" && len(op) > 1 {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch {
		case op != "" && op[0] == '!' && opAt(string(op), 1) != "":
			b.WriteString(`!\`)
			b.WriteString(string(op[1:]))
			i += len(op)
		case op != "":
			b.WriteByte('\\')
			b.WriteString(string(op))
			i += len(op)
		case s[i] == '\\' || s[i] == ',' || s[i] == '|':
			b.WriteByte('\\')
			b.WriteByte(s[i])
			i++
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

// parseValue reads a single escaped value after op the way Sieve reads the
// value part of a term, and reports whether it is exactly one value.
func parseValue(op Op, escaped string) (Value, bool) {
	f, err := ParseFilter("X" + string(op) + escaped)
	if err != nil || f.Op != op || len(f.Values) != 1 {
		return Value{}, false
	}
	// The value must also survive being one term among others.
	terms := splitUnescaped(escaped+",Y==1", ',')
	if len(terms) != 2 {
		return Value{}, false
	}
	return f.Values[0], true
}

// ParseFilters reads a Sieve filters string.
func ParseFilters(s string) ([]Filter, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []Filter
	for _, term := range splitUnescaped(s, ',') {
		f, err := ParseFilter(term)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// ParseFilter reads one filter term, following Sieve's own splitting.
func ParseFilter(term string) (Filter, error) {
	i, op := findOp(term)
	if op == "" {
		return Filter{}, fmt.Errorf("%w: filter %q has no operator; write Name==value", ErrInvalid, strings.TrimSpace(term))
	}
	namePart := strings.TrimSpace(term[:i])
	rest := term[i+len(op):]
	if j, second := findOp(rest); second != "" {
		rest = rest[:j] // Sieve drops everything from a second operator on.
	}
	value := strings.TrimSpace(rest)

	if strings.HasPrefix(namePart, "(") && strings.HasSuffix(namePart, ")") {
		namePart = namePart[1 : len(namePart)-1]
	}
	var names []string
	for _, n := range splitUnescaped(namePart, '|') {
		if n = strings.TrimSpace(n); n == "" {
			return Filter{}, fmt.Errorf("%w: filter %q has an empty field name", ErrInvalid, strings.TrimSpace(term))
		}
		names = append(names, n)
	}

	value = unescapeOperators(value)
	var values []Value
	for _, v := range splitUnescaped(value, '|') {
		v = unescape(v)
		switch {
		case strings.EqualFold(v, "null"):
			values = append(values, Null)
		case strings.EqualFold(v, `\null`):
			values = append(values, Text(v[1:]))
		default:
			values = append(values, Text(v))
		}
	}
	return Filter{Names: names, Op: op, Values: values}, nil
}

// unescapeOperators does what Sieve does: for every operator preceded by a
// backslash, found left to right without overlap, replace every "\"+op in
// the value by op.
func unescapeOperators(s string) string {
	var found []Op
	for i := 1; i < len(s); {
		if s[i-1] == '\\' {
			if op := opAt(s, i); op != "" {
				found = append(found, op)
				i += len(op)
				continue
			}
		}
		i++
	}
	for _, op := range found {
		s = strings.ReplaceAll(s, `\`+string(op), string(op))
	}
	return s
}

// unescape is Sieve's UnEscape: three replacements, in this order.
func unescape(s string) string {
	s = strings.ReplaceAll(s, `\\`, `\`)
	s = strings.ReplaceAll(s, `\,`, `,`)
	return strings.ReplaceAll(s, `\|`, `|`)
}

// splitUnescaped splits s at every sep not preceded by an odd number of
// backslashes.
func splitUnescaped(s string, sep byte) []string {
	var parts []string
	start, slashes := 0, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			slashes++
			continue
		case s[i] == sep && slashes%2 == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
		slashes = 0
	}
	return append(parts, s[start:])
}

// ParseSorts reads a Sieve sorts string. Empty entries are skipped.
func ParseSorts(s string) []Sort {
	var out []Sort
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		out = append(out, ParseSort(part))
	}
	return out
}

func opList() string {
	ops := Ops()
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = string(op)
	}
	return strings.Join(parts, " ")
}
