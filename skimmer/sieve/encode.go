package sieve

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Value is one value of a filter: a text, or the null keyword.
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

// Filter is one condition for the builder: some (name, value) pair holds
// under Op. For an operator that excludes (!=, !@=, !_=, !_-=) it is the
// other way round: no pair holds under the positive operator, so
// Name!=a|b means "neither a nor b". Under Sieve's null rule a null
// property matches no value, negated or not.
type Filter struct {
	Names  []string
	Op     Op
	Values []Value
}

// EncodeFilters writes filters in Sieve's grammar. Names are written as
// given (Query.Values checks them against a schema first). A filter with an
// excluding operator and several pairs becomes one term per pair, because
// Sieve ORs the pairs of a term. The result is read back with ParseFilters
// before it is returned: what Sieve would read differently is refused.
func EncodeFilters(filters []Filter) (string, error) {
	var terms []string
	var want []Term
	for _, f := range filters {
		if err := checkFilter(f); err != nil {
			return "", err
		}
		for _, t := range expand(f) {
			enc, err := encodeTerm(t)
			if err != nil {
				return "", err
			}
			terms = append(terms, enc)
			want = append(want, t)
		}
	}
	out := strings.Join(terms, ",")
	got, err := ParseFilters(out)
	if err != nil || !sameTerms(got, want) {
		return "", fmt.Errorf("%w: these filters cannot be written so that the server reads them as meant; search for fewer values at once", ErrInvalid)
	}
	return out, nil
}

func checkFilter(f Filter) error {
	if len(f.Names) == 0 {
		return fmt.Errorf("%w: a filter needs a field name", ErrInvalid)
	}
	if !f.Op.Valid() {
		return fmt.Errorf("%w: unknown operator %q; use one of %s", ErrInvalid, f.Op, opList())
	}
	if len(f.Values) == 0 {
		return fmt.Errorf("%w: the filter on %s has no value", ErrInvalid, strings.Join(f.Names, "|"))
	}
	for _, n := range f.Names {
		if !validName(n) {
			return fmt.Errorf("%w: %q is not a field name", ErrInvalid, n)
		}
	}
	for _, v := range f.Values {
		if v.null && !f.Op.TakesNull() {
			return fmt.Errorf("%w: null goes only with == or != (is, or is not, empty), not with %s", ErrInvalid, f.Op)
		}
	}
	return nil
}

// expand gives the terms that write f: one, or one per pair for an
// excluding operator. Their values are meanings (see meaning), which
// ParseFilters' output must match.
func expand(f Filter) []Term {
	if !f.Op.Excludes() || len(f.Names)*len(f.Values) == 1 {
		return []Term{{Names: f.Names, Op: f.Op, Values: meanings(f.Values)}}
	}
	var out []Term
	for _, n := range f.Names {
		for _, v := range f.Values {
			out = append(out, Term{Names: []string{n}, Op: f.Op, Values: meanings([]Value{v})})
		}
	}
	return out
}

// nullMeaning stands for the keyword among meanings: no text the builder
// sends can be it, since it is not valid UTF-8.
const nullMeaning = "\xff null"

func meanings(vs []Value) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.text
		if v.null {
			out[i] = nullMeaning
		}
	}
	return out
}

// meaning is what Sieve makes of a raw value after op on a text property:
// null for "null" in any case after == or !=; the text with its backslash
// dropped for "\null" in any case (ConvertStringValueToConstantExpression);
// else the text.
func meaning(op Op, raw string) string {
	switch {
	case op.TakesNull() && strings.EqualFold(raw, "null"):
		return nullMeaning
	case strings.EqualFold(raw, `\null`):
		return raw[1:]
	}
	return raw
}

func sameTerms(got, want []Term) bool {
	return slices.EqualFunc(got, want, func(g, w Term) bool {
		if g.Op != w.Op || !slices.Equal(g.Names, w.Names) || len(g.Values) != len(w.Values) {
			return false
		}
		for i, raw := range g.Values {
			if meaning(g.Op, raw) != w.Values[i] {
				return false
			}
		}
		return true
	})
}

func encodeTerm(t Term) (string, error) {
	var b strings.Builder
	b.WriteString(strings.Join(t.Names, "|"))
	b.WriteString(string(t.Op))
	for i, m := range t.Values {
		if i > 0 {
			b.WriteByte('|')
		}
		v := Text(m)
		if m == nullMeaning {
			v = Null
		}
		ev, err := EscapeValue(t.Op, v)
		if err != nil {
			return "", err
		}
		b.WriteString(ev)
	}
	return b.String(), nil
}

// fieldName is what a property name may look like: a C# identifier, or a
// dotted path of them, ending in a letter or digit. Anything else could run
// into the operator: "A_" + "==" reads as "A" + "_=" + "=".
var fieldName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

func validName(n string) bool {
	return fieldName.MatchString(n) && !strings.HasSuffix(n, "_")
}

// EscapeValue writes one value, to follow op, so that Sieve reads it back
// unchanged. It fails for text Sieve cannot be made to read: not valid
// UTF-8, leading or trailing spaces (values are trimmed), a backslash and
// the letters of "null" (read as the text "null"), and the rare mixes of
// operator characters its unescaping cannot reproduce.
func EscapeValue(op Op, v Value) (string, error) {
	if v.null {
		return "null", nil
	}
	s := v.text
	switch {
	case !utf8.ValidString(s):
		return "", fmt.Errorf("%w: value %q is not valid UTF-8", ErrInvalid, s)
	case strings.TrimSpace(s) != s:
		return "", fmt.Errorf("%w: value %q starts or ends with spaces, which the server trims; trim it", ErrInvalid, s)
	case strings.EqualFold(s, "null"):
		return `\` + s, nil
	case spellsNull(s):
		return "", fmt.Errorf("%w: the text %q cannot be searched for; search for \"null\" instead", ErrInvalid, s)
	}
	for _, skipOverlapped := range []bool{false, true} {
		cand := escapeText(s, skipOverlapped)
		if got, err := ParseFilters("X" + string(op) + cand); err == nil && len(got) == 1 &&
			got[0].Op == op && len(got[0].Values) == 1 && meaning(op, got[0].Values[0]) == s {
			return cand, nil
		}
	}
	return "", fmt.Errorf("%w: value %q mixes operator characters in a way the search grammar cannot escape; search for a part of it without them", ErrInvalid, s)
}

// spellsNull: a text that starts with a backslash and whose letters and
// digits spell null. Sieve compares a value with "\null" in the invariant
// culture, which may pass over characters it deems ignorable, and then
// strips the backslash; such a text would not arrive as written.
func spellsNull(s string) bool {
	if !strings.HasPrefix(s, `\`) {
		return false
	}
	var alnum []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			alnum = append(alnum, c)
		}
	}
	return strings.EqualFold(string(alnum), "null")
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
