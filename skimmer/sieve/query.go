package sieve

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kind is the .NET type of a searchable property, which decides the
// operators and values it takes.
type Kind int

// The kinds. Int is here for Sieve's own tests, which filter numbers;
// Skimmer's customer search has none.
const (
	String Kind = iota
	Bool
	Time
	Int
)

// Field is one property a search may filter or sort on.
type Field struct {
	Name string // canonical casing, as the API documents it
	Kind Kind
	// Nullable: text always is (a .NET string); true/false, dates and
	// numbers only when declared bool?, DateTime?, int?. "null" on a
	// property that cannot be null makes Sieve throw.
	Nullable bool
	Sortable bool
	SortOnly bool // sortable but not filterable
}

// Schema is the set of properties one search endpoint accepts.
type Schema struct {
	fields []Field
	byName map[string]int
}

// NewSchema returns the schema of the given fields. A String field is
// always nullable.
func NewSchema(fields ...Field) *Schema {
	s := &Schema{fields: fields, byName: make(map[string]int, len(fields))}
	for i := range s.fields {
		if s.fields[i].Kind == String {
			s.fields[i].Nullable = true
		}
		s.byName[strings.ToLower(s.fields[i].Name)] = i
	}
	return s
}

// Lookup finds a field by name, in any case, spaces around ignored: the
// builder's lenient reading of what a person or model wrote.
func (s *Schema) Lookup(name string) (Field, bool) {
	i, ok := s.byName[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Field{}, false
	}
	return s.fields[i], true
}

// find is Sieve's own lookup (SievePropertyMapper.FindProperty, and
// FindPropertyBySieveAttribute): the exact name, compared with
// StringComparison.OrdinalIgnoreCase, which upper-cases each character
// invariantly; sorting needs a sortable field, filtering a filterable one.
func (s *Schema) find(name string, sorting bool) (int, bool) {
	for i, f := range s.fields {
		if sorting && !f.Sortable || !sorting && f.SortOnly {
			continue
		}
		if equalUpper(f.Name, name) {
			return i, true
		}
	}
	return -1, false
}

func equalUpper(a, b string) bool {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if unicode.ToUpper(ra) != unicode.ToUpper(rb) {
			return false
		}
		a, b = a[na:], b[nb:]
	}
	return a == b
}

// Fields lists the fields, in documented order.
func (s *Schema) Fields() []Field { return append([]Field(nil), s.fields...) }

// Filterable lists the names of the filterable fields, in documented order.
func (s *Schema) Filterable() []string {
	var names []string
	for _, f := range s.fields {
		if !f.SortOnly {
			names = append(names, f.Name)
		}
	}
	return names
}

// Sortable lists the names of the sortable fields, in documented order.
func (s *Schema) Sortable() []string {
	var names []string
	for _, f := range s.fields {
		if f.Sortable {
			names = append(names, f.Name)
		}
	}
	return names
}

// Ordered lists the names of the filterable fields that > < >= <= apply
// to: dates and numbers.
func (s *Schema) Ordered() []string {
	var names []string
	for _, f := range s.fields {
		if !f.SortOnly && f.Kind.ordered() {
			names = append(names, f.Name)
		}
	}
	return names
}

// Query is one search request.
type Query struct {
	Filters  []Filter
	Sorts    []Sort
	Page     int // from 1
	PageSize int // at least 1; always sent, as the server's default is unknown
}

// Values checks q against schema and renders it as query parameters, with
// names in their canonical casing. Nothing gets through that Sieve would
// fail on or read otherwise: an unknown field, an operator the field's
// type cannot take, null where the field is never null, a value of the
// wrong kind, a page it cannot count to.
func (q Query) Values(schema *Schema) (url.Values, error) {
	if q.Page < 1 || q.Page > math.MaxInt32 {
		return nil, fmt.Errorf("%w: page must be from 1 to %d, got %d", ErrInvalid, math.MaxInt32, q.Page)
	}
	if q.PageSize < 1 || q.PageSize > math.MaxInt32 {
		return nil, fmt.Errorf("%w: page size must be from 1 to %d, got %d", ErrInvalid, math.MaxInt32, q.PageSize)
	}
	// Sieve skips (page-1)*pageSize rows in a 32-bit int, which wraps.
	if int64(q.Page-1)*int64(q.PageSize) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: page %d of %d rows is further than the server can count; narrow the search instead", ErrInvalid, q.Page, q.PageSize)
	}
	filters := make([]Filter, len(q.Filters))
	for i, f := range q.Filters {
		cf, err := schema.check(f)
		if err != nil {
			return nil, err
		}
		filters[i] = cf
	}
	fs, err := EncodeFilters(filters)
	if err != nil {
		return nil, err
	}
	sorts, err := schema.checkSorts(q.Sorts)
	if err != nil {
		return nil, err
	}
	v := url.Values{}
	if sorts != "" {
		v.Set("sorts", sorts)
	}
	if fs != "" {
		v.Set("filters", fs)
	}
	v.Set("page", strconv.Itoa(q.Page))
	v.Set("pageSize", strconv.Itoa(q.PageSize))
	return v, nil
}

// check validates one filter and returns it with canonical names.
func (s *Schema) check(f Filter) (Filter, error) {
	// The kind rules assume a known operator. A missing name or value is
	// EncodeFilters' to report.
	if !f.Op.Valid() {
		return Filter{}, fmt.Errorf("%w: unknown operator %q; use one of %s", ErrInvalid, f.Op, opList())
	}
	out := Filter{Op: f.Op, Values: f.Values, Names: make([]string, len(f.Names))}
	for i, n := range f.Names {
		field, ok := s.Lookup(n)
		if !ok || field.SortOnly {
			return Filter{}, fmt.Errorf("%w: unknown filter field %q; filterable fields are %s", ErrInvalid, n, strings.Join(s.Filterable(), ", "))
		}
		if err := s.accepts(field, f.Op, f.Values); err != nil {
			return Filter{}, err
		}
		out.Names[i] = field.Name
	}
	return out, nil
}

// accepts checks op and values against the field's type, with the rule
// and the fix in the error: these are the cases where Sieve throws.
func (s *Schema) accepts(f Field, op Op, values []Value) error {
	switch {
	case f.Kind == String && op.Orders():
		return fmt.Errorf("%w: %s is text and cannot be compared with %s (only %s can); use _= for starts with", ErrInvalid, f.Name, op, orList(s.Ordered()))
	case f.Kind != String && op.TextOnly():
		return fmt.Errorf("%w: operator %s only works on text fields, and %s is %s; use %s", ErrInvalid, op, f.Name, f.Kind, f.Kind.opsText())
	case f.Kind == Bool && op.Orders():
		return fmt.Errorf("%w: %s is true/false, which has no order; use == or !=", ErrInvalid, f.Name)
	}
	for _, v := range values {
		if v.IsNull() {
			if !f.Nullable {
				return fmt.Errorf("%w: %s is never null; %s", ErrInvalid, f.Name, f.Kind.instead())
			}
			continue
		}
		if f.Kind == String {
			continue
		}
		if _, err := f.Kind.Parse(v.String()); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalid, f.Name, err)
		}
	}
	return nil
}

func orList(names []string) string {
	switch len(names) {
	case 0:
		return "no field here"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func (s *Schema) checkSorts(sorts []Sort) (string, error) {
	seen := make(map[string]bool, len(sorts))
	parts := make([]string, 0, len(sorts))
	for _, so := range sorts {
		field, ok := s.Lookup(so.Name)
		if !ok || !field.Sortable {
			return "", fmt.Errorf("%w: cannot sort by %q; sortable fields are %s", ErrInvalid, so.Name, strings.Join(s.Sortable(), ", "))
		}
		if seen[field.Name] {
			return "", fmt.Errorf("%w: %s is sorted on twice; keep one", ErrInvalid, field.Name)
		}
		seen[field.Name] = true
		parts = append(parts, Sort{Name: field.Name, Desc: so.Desc}.String())
	}
	return strings.Join(parts, ","), nil
}

// String names the kind the way an error message should.
func (k Kind) String() string {
	switch k {
	case Bool:
		return "true/false"
	case Time:
		return "a date-time"
	case Int:
		return "a number"
	default:
		return "text"
	}
}

func (k Kind) ordered() bool { return k == Time || k == Int }

func (k Kind) opsText() string {
	if k == Bool {
		return "== or !="
	}
	return "== != > < >= <="
}

// instead says what to compare a never-null field with.
func (k Kind) instead() string {
	switch k {
	case Bool:
		return "compare it with true or false"
	case Time:
		return "compare it with a date"
	}
	return "compare it with a value"
}

// Parse converts the text of a filter value into the kind's Go value:
// string, bool, time.Time or int64. It takes the forms the builder sends,
// a strict subset of what .NET's type converters read.
func (k Kind) Parse(s string) (any, error) {
	switch k {
	case Bool:
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("takes true or false, not %q", s)
	case Time:
		t, err := ParseTime(s)
		if err != nil {
			return nil, fmt.Errorf("takes a date like 2024-05-01 or 2024-05-01T14:00:00Z, not %q", s)
		}
		return t, nil
	case Int:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("takes a whole number, not %q", s)
		}
		return n, nil
	default:
		return s, nil
	}
}

// timeLayouts are the ISO-8601 forms an ASP.NET service reads and writes.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
}

// ParseTime reads an ISO-8601 date or date-time; one without a zone is UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not an ISO-8601 date-time: %q", s)
}
