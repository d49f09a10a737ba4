package sieve

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file reads filters and sorts as Sieve does, one C# step after
// another. It is what the sandbox serves with and what the builder checks
// its own output against, so it follows Sieve where Sieve surprises, too.
// Where .NET's culture-sensitive string methods would differ from ordinal
// ones (a term starting with an ignorable character, say), it compares
// ordinally: the builder never writes such a term.

// Term is one filter term as FilterTerm's Filter setter reads it: the
// names, the operator, and the values unescaped but not yet given a
// meaning. Only the property a name stands for decides whether "null" is
// the null keyword.
type Term struct {
	Names []string
	// Op is "" when the term has no operator: Sieve then skips a known name
	// and fails on an unknown one.
	Op     Op
	Values []string // nil when the term has no operator
}

// String writes the term back, unescaped: for messages, not for sending.
func (t Term) String() string {
	return strings.Join(t.Names, "|") + string(t.Op) + strings.Join(t.Values, "|")
}

// ParseFilters reads a filters parameter as SieveModel.GetFiltersParsed
// does. Its only error is where that method itself throws: a term that
// starts with "(" and ends with ")", which has nothing after its last ")"
// to cut (string.Replace of an empty string).
func ParseFilters(s string) ([]Term, error) {
	var out []Term
	for _, piece := range splitTerms(s) {
		if blank(piece) {
			continue
		}
		v := strings.ReplaceAll(piece, `\,`, ",")
		if strings.HasPrefix(piece, "(") {
			opAndValue := v[strings.LastIndex(v, ")")+1:]
			if opAndValue == "" {
				return nil, throw("String cannot be of zero length. (Parameter 'oldValue')")
			}
			names := strings.ReplaceAll(v, opAndValue, "")
			names = strings.ReplaceAll(strings.ReplaceAll(names, "(", ""), ")", "")
			v = names + opAndValue
		}
		out = append(out, parseTerm(v))
	}
	return out, nil
}

// parseTerm is FilterTerm's Filter setter.
func parseTerm(v string) Term {
	i, op := findOp(v, 0)
	if op == "" {
		return Term{Names: splitNames(strings.TrimFunc(v, unicode.IsSpace))}
	}
	rest := v[i+len(op):]
	if j, second := findOp(v, i+len(op)); second != "" {
		rest = v[i+len(op) : j] // Regex.Split: what follows a second operator is never read
	}
	t := Term{Names: splitNames(strings.TrimFunc(v[:i], unicode.IsSpace)), Op: op}
	value := unescapeOperators(strings.TrimFunc(rest, unicode.IsSpace))
	for _, part := range splitPipes(value) {
		t.Values = append(t.Values, unescape(part))
	}
	return t
}

func splitNames(s string) []string {
	names := splitPipes(s)
	for i, n := range names {
		names[i] = strings.TrimFunc(n, unicode.IsSpace)
	}
	return names
}

// unescapeOperators: for every operator directly after a backslash, found
// left to right without overlap, every "\"+op in the value becomes op.
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

// unescape is FilterTerm.UnEscape: "\|" becomes "|", then "\\" becomes "\",
// in the order of its HashSet. A comma was unescaped before, for the whole
// term.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	s = strings.ReplaceAll(s, `\|`, `|`)
	return strings.ReplaceAll(s, `\\`, `\`)
}

// splitTerms is Regex.Split with SieveModel's EscapedCommaPattern,
// (?<!($|[^\\])(\\\\)*?\\),\s* : a comma after an odd run of backslashes is
// escaped, unless the run starts the string; the whitespace after a
// separating comma goes with it.
func splitTerms(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] != ',' {
			continue
		}
		if run := backslashesBefore(s, i); run%2 == 1 && run < i {
			continue
		}
		parts = append(parts, s[start:i])
		j := i + 1
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if !unicode.IsSpace(r) {
				break
			}
			j += size
		}
		start = j
		i = j - 1
	}
	return append(parts, s[start:])
}

// splitPipes is Regex.Split with FilterTerm's EscapedPipePattern,
// (?<!($|[^\\]|^)(\\\\)*?\\)\| : a pipe after an odd run of backslashes is
// escaped, wherever the run starts.
func splitPipes(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '|' && backslashesBefore(s, i)%2 == 0 {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func backslashesBefore(s string, i int) int {
	n := 0
	for i-n-1 >= 0 && s[i-n-1] == '\\' {
		n++
	}
	return n
}

// blank is string.IsNullOrWhiteSpace. Go's unicode.IsSpace and .NET's
// char.IsWhiteSpace (and the regex \s) name the same characters.
func blank(s string) bool {
	return strings.TrimFunc(s, unicode.IsSpace) == ""
}

// Sort orders by one property.
type Sort struct {
	Name string
	Desc bool
}

// String writes s as Sieve reads it: Name, or -Name for descending.
func (s Sort) String() string {
	if s.Desc {
		return "-" + s.Name
	}
	return s.Name
}

// ParseSort reads one sort key as a person writes it, "Name" or "-Name",
// spaces around ignored. The builder uses it; ParseSorts is Sieve's reading.
func ParseSort(s string) Sort {
	s = strings.TrimSpace(s)
	if name, ok := strings.CutPrefix(s, "-"); ok {
		return Sort{Name: strings.TrimSpace(name), Desc: true}
	}
	return Sort{Name: s}
}

// ParseSorts reads a sorts parameter as SieveModel.GetSortsParsed and
// SortTerm do: split like filters, blank entries skipped, a leading "-"
// for descending, names NOT trimmed (" -LastName" is an unknown name), and
// a name already seen, in the same case, dropped.
func ParseSorts(s string) []Sort {
	var out []Sort
	for _, piece := range splitTerms(s) {
		if blank(piece) {
			continue
		}
		so := Sort{Name: piece}
		if name, ok := strings.CutPrefix(piece, "-"); ok {
			so = Sort{Name: name, Desc: true}
		}
		dup := false
		for _, seen := range out {
			dup = dup || seen.Name == so.Name
		}
		if !dup {
			out = append(out, so)
		}
	}
	return out
}
