package sieve

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a searchable property, which decides the operators
// and values it takes.
type Kind int

// The kinds of property Skimmer's search exposes.
const (
	String Kind = iota
	Bool
	Time
)

// Field is one property a search may filter or sort on.
type Field struct {
	Name     string // canonical casing, as the API documents it
	Kind     Kind
	Sortable bool
}

// Schema is the set of properties one search endpoint accepts. Sieve matches
// names without regard to case, and an unknown name makes it drop the whole
// query silently, so names are checked here before anything is sent.
type Schema struct {
	fields []Field
	byName map[string]Field
}

// NewSchema returns the schema of the given fields.
func NewSchema(fields ...Field) *Schema {
	s := &Schema{fields: fields, byName: make(map[string]Field, len(fields))}
	for _, f := range fields {
		s.byName[strings.ToLower(f.Name)] = f
	}
	return s
}

// Lookup finds a field by name, in any case.
func (s *Schema) Lookup(name string) (Field, bool) {
	f, ok := s.byName[strings.ToLower(strings.TrimSpace(name))]
	return f, ok
}

// Filterable lists every field name, in documented order.
func (s *Schema) Filterable() []string {
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = f.Name
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

// Query is one search request.
type Query struct {
	Filters  []Filter
	Sorts    []Sort
	Page     int // from 1
	PageSize int // at least 1; always sent, as the server's default is unknown
}

// Values checks q against schema and renders it as query parameters, with
// names in their canonical casing. Nothing invalid gets through: an unknown
// field, an operator the field cannot take, a value of the wrong kind, a
// page below 1.
func (q Query) Values(schema *Schema) (url.Values, error) {
	if q.Page < 1 || q.Page > math.MaxInt32 {
		return nil, fmt.Errorf("%w: page must be from 1 to %d, got %d", ErrInvalid, math.MaxInt32, q.Page)
	}
	if q.PageSize < 1 || q.PageSize > math.MaxInt32 {
		return nil, fmt.Errorf("%w: page size must be from 1 to %d, got %d", ErrInvalid, math.MaxInt32, q.PageSize)
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
		if !ok {
			return Filter{}, fmt.Errorf("%w: unknown filter field %q; filterable fields are %s", ErrInvalid, n, strings.Join(s.Filterable(), ", "))
		}
		if err := field.accepts(f.Op, f.Values); err != nil {
			return Filter{}, err
		}
		out.Names[i] = field.Name
	}
	return out, nil
}

// accepts checks that op and values make sense for the field's kind.
func (f Field) accepts(op Op, values []Value) error {
	if f.Kind == String {
		return nil
	}
	if op.TextOnly() {
		return fmt.Errorf("%w: operator %s only works on text fields, and %s is %s; use == or !=", ErrInvalid, op, f.Name, f.Kind)
	}
	if f.Kind == Bool && op != Equals && op != NotEquals {
		return fmt.Errorf("%w: %s is %s, which has no order; use == or !=", ErrInvalid, f.Name, f.Kind)
	}
	for _, v := range values {
		if v.IsNull() {
			continue
		}
		if _, err := f.Kind.Parse(v.String()); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalid, f.Name, err)
		}
	}
	return nil
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
	default:
		return "text"
	}
}

// Parse converts the text of a filter value into the kind's Go value:
// string, bool or time.Time.
func (k Kind) Parse(s string) (any, error) {
	switch k {
	case Bool:
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("takes true, false or null, not %q", s)
	case Time:
		t, err := ParseTime(s)
		if err != nil {
			return nil, fmt.Errorf("takes a date like 2024-05-01 or 2024-05-01T14:00:00Z, not %q", s)
		}
		return t, nil
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
