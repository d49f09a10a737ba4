package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sieve"
)

// defaultPageSize applies when a search sends none. Skimmer's default is
// not documented; the client always sends one.
const defaultPageSize = 10

// prop reads one searchable property of a customer. Exactly one getter is
// set, by kind; typed getters keep the search free of boxing.
type prop struct {
	kind sieve.Kind
	text func(*skimmer.Customer) *string      // nil: null
	flag func(*skimmer.Customer) bool         // never null
	when func(*skimmer.Customer) skimmer.Time // zero: null
}

func text(f func(*skimmer.Customer) *string) prop { return prop{kind: sieve.String, text: f} }
func flag(f func(*skimmer.Customer) bool) prop    { return prop{kind: sieve.Bool, flag: f} }
func stamp(f func(*skimmer.Customer) skimmer.Time) prop {
	return prop{kind: sieve.Time, when: f}
}

// props reads each field of skimmer.CustomerSearch; a test checks the two
// name the same fields.
var props = map[string]prop{
	"Id":             text(func(c *skimmer.Customer) *string { return &c.ID }),
	"FirstName":      text(func(c *skimmer.Customer) *string { return c.FirstName }),
	"LastName":       text(func(c *skimmer.Customer) *string { return c.LastName }),
	"CompanyName":    text(func(c *skimmer.Customer) *string { return c.CompanyName }),
	"BillingCity":    text(func(c *skimmer.Customer) *string { return c.BillingCity }),
	"BillingState":   text(func(c *skimmer.Customer) *string { return c.BillingState }),
	"BillingZip":     text(func(c *skimmer.Customer) *string { return c.BillingZip }),
	"CreatedAt":      stamp(func(c *skimmer.Customer) skimmer.Time { return c.CreatedAt }),
	"UpdatedAt":      stamp(func(c *skimmer.Customer) skimmer.Time { return c.UpdatedAt }),
	"MobilePhone":    text(func(c *skimmer.Customer) *string { return c.MobilePhone }),
	"MobilePhone2":   text(func(c *skimmer.Customer) *string { return c.MobilePhone2 }),
	"HomePhone":      text(func(c *skimmer.Customer) *string { return c.HomePhone }),
	"WorkPhone":      text(func(c *skimmer.Customer) *string { return c.WorkPhone }),
	"PrimaryEmail":   text(func(c *skimmer.Customer) *string { return c.PrimaryEmail }),
	"SecondaryEmail": text(func(c *skimmer.Customer) *string { return c.SecondaryEmail }),
	"Email3":         text(func(c *skimmer.Customer) *string { return c.Email3 }),
	"Email4":         text(func(c *skimmer.Customer) *string { return c.Email4 }),
	"Deleted":        flag(func(c *skimmer.Customer) bool { return c.Deleted }),
	"IsInactive":     flag(func(c *skimmer.Customer) bool { return c.IsInactive }),
}

// fval is one filter value, converted to its property's kind.
type fval struct {
	null bool
	s    string
	b    bool
	t    time.Time
}

// term is a parsed filter with its properties looked up and its values
// converted, ready to test against customers.
type term struct {
	props  []prop
	op     sieve.Op
	values []fval
}

func (s *Server) searchCustomers(w http.ResponseWriter, r *http.Request) {
	page, ok := intParam(w, r, "page", 1)
	if !ok {
		return
	}
	pageSize, ok := intParam(w, r, "pageSize", defaultPageSize)
	if !ok {
		return
	}
	pageSize = min(pageSize, s.opts.MaxPageSize)
	terms, herr := compileFilters(queryParam(r, "filters"))
	if herr != nil {
		fail(w, herr)
		return
	}
	sorts, herr := compileSorts(queryParam(r, "sorts"))
	if herr != nil {
		fail(w, herr)
		return
	}

	var matched []*skimmer.Customer
	for _, c := range s.store.customers() {
		if matchesAll(c, terms) {
			matched = append(matched, c)
		}
	}
	if len(sorts) > 0 {
		slices.SortStableFunc(matched, func(a, b *skimmer.Customer) int {
			for _, so := range sorts {
				if c := compareProp(so.prop, a, b); c != 0 {
					if so.desc {
						return -c
					}
					return c
				}
			}
			return 0
		})
	}
	total := len(matched)
	start := total // a page past the end, however large, is empty: no (page-1)*pageSize to overflow
	if page-1 <= total/pageSize {
		start = min((page-1)*pageSize, total)
	}
	end := min(start+pageSize, total)
	items := make([]skimmer.Customer, 0, end-start)
	for _, c := range matched[start:end] {
		items = append(items, listView(c))
	}
	if s.opts.Envelope == "bare" {
		writeJSON(w, http.StatusOK, items)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{s.opts.Envelope: items, "page": page, "pageSize": pageSize, "totalCount": total})
}

func intParam(w http.ResponseWriter, r *http.Request, name string, def int) (int, bool) {
	v := queryParam(r, name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		validationProblem(w, map[string][]string{name: {fmt.Sprintf("The value '%s' is not valid.", v)}})
		return 0, false
	}
	if n < 1 {
		validationProblem(w, map[string][]string{name: {fmt.Sprintf("%s must be 1 or more.", name)}})
		return 0, false
	}
	return n, true
}

func compileFilters(raw string) ([]term, *httpError) {
	filters, err := sieve.ParseFilters(raw)
	if err != nil {
		return nil, invalid(map[string][]string{"Filters": {err.Error()}})
	}
	terms := make([]term, 0, len(filters))
	for _, f := range filters {
		t := term{op: f.Op}
		for _, name := range f.Names {
			field, ok := skimmer.CustomerSearch.Lookup(name)
			if !ok {
				return nil, &httpError{status: http.StatusBadRequest, title: "Unknown filter property",
					detail: fmt.Sprintf("Property '%s' is not filterable.", name)}
			}
			p := props[field.Name]
			if p.kind != sieve.String && f.Op.TextOnly() || p.kind == sieve.Bool && f.Op.Positive() != sieve.Equals && f.Op.Positive() != sieve.NotEquals {
				return nil, invalid(map[string][]string{"Filters": {fmt.Sprintf("Operator %s cannot be applied to %s.", f.Op, field.Name)}})
			}
			t.props = append(t.props, p)
		}
		kind := t.props[0].kind
		for _, v := range f.Values {
			if v.IsNull() && (kind != sieve.String || nullMeansNull(f.Op)) {
				t.values = append(t.values, fval{null: true})
				continue
			}
			conv, err := kind.Parse(v.String())
			if err != nil {
				return nil, invalid(map[string][]string{"Filters": {fmt.Sprintf("%s %s", f.Names[0], err)}})
			}
			var fv fval
			switch x := conv.(type) {
			case string:
				fv.s = x
			case bool:
				fv.b = x
			case time.Time:
				fv.t = x
			}
			t.values = append(t.values, fv)
		}
		for _, p := range t.props[1:] {
			if p.kind != kind {
				return nil, invalid(map[string][]string{"Filters": {"Properties ORed in one filter must have the same type."}})
			}
		}
		terms = append(terms, t)
	}
	return terms, nil
}

// nullMeansNull: the value null is the null keyword for == and != (any
// case); with the other operators on text it is the text "null".
func nullMeansNull(op sieve.Op) bool {
	b := op.Base()
	return b == sieve.Equals || b == sieve.NotEquals
}

func matchesAll(c *skimmer.Customer, terms []term) bool {
	for _, t := range terms {
		if !t.matches(c) {
			return false
		}
	}
	return true
}

// matches ORs the names; it ORs the values of a positive operator and ANDs
// those of a negated one (x !@= a|b: contains neither).
func (t term) matches(c *skimmer.Customer) bool {
	for _, p := range t.props {
		var hit bool
		if t.op.Negated() {
			hit = true
			for _, want := range t.values {
				hit = hit && compare(t.op, p, c, want)
			}
		} else {
			for _, want := range t.values {
				hit = hit || compare(t.op, p, c, want)
			}
		}
		if hit {
			return true
		}
	}
	return false
}

// compare applies op to one property of c and one filter value. A null
// property never matches a non-null value, even for != and the negated
// operators: that is Sieve's rule.
func compare(op sieve.Op, p prop, c *skimmer.Customer, want fval) bool {
	var null bool
	var order int
	switch p.kind {
	case sieve.String:
		got := p.text(c)
		null = got == nil
		if null || want.null {
			break
		}
		// A negated operator is the opposite of the whole match, a value
		// too short to hold the text included.
		switch op.Positive() {
		case sieve.Contains:
			return containsFold(*got, want.s, op.IgnoreCase()) != op.Negated()
		case sieve.StartsWith:
			return (len(*got) >= len(want.s) && equal((*got)[:len(want.s)], want.s, op.IgnoreCase())) != op.Negated()
		case sieve.EndsWith:
			return (len(*got) >= len(want.s) && equal((*got)[len(*got)-len(want.s):], want.s, op.IgnoreCase())) != op.Negated()
		}
		// Only == and != come with a * variant, so a case-blind
		// comparison needs equality, not an order.
		if op.IgnoreCase() {
			if !strings.EqualFold(*got, want.s) {
				order = 1
			}
		} else {
			order = strings.Compare(*got, want.s)
		}
	case sieve.Bool:
		if want.null {
			break
		}
		if p.flag(c) != want.b {
			order = 1
		}
	case sieve.Time:
		got := p.when(c)
		null = got.IsZero()
		if !null && !want.null {
			order = got.Compare(want.t)
		}
	}
	if want.null {
		switch op.Base() {
		case sieve.Equals:
			return null
		case sieve.NotEquals:
			return !null
		}
		return false
	}
	if null {
		return false
	}
	switch op.Base() {
	case sieve.Equals:
		return order == 0
	case sieve.NotEquals:
		return order != 0
	case sieve.GreaterThan:
		return order > 0
	case sieve.LessThan:
		return order < 0
	case sieve.GreaterOrEqual:
		return order >= 0
	case sieve.LessOrEqual:
		return order <= 0
	}
	return false
}

func equal(a, b string, fold bool) bool {
	if fold {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// containsFold is strings.Contains, optionally without regard to case,
// and without allocating. Folding is byte-aligned: good for the sandbox's
// data, not for scripts whose case forms differ in length.
func containsFold(s, sub string, fold bool) bool {
	if !fold {
		return strings.Contains(s, sub)
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

type sortKey struct {
	prop prop
	desc bool
}

// compileSorts reads the sorts; the first mention of a name wins.
func compileSorts(raw string) ([]sortKey, *httpError) {
	var keys []sortKey
	seen := map[string]bool{}
	for _, so := range sieve.ParseSorts(raw) {
		field, ok := skimmer.CustomerSearch.Lookup(so.Name)
		if !ok || !field.Sortable {
			return nil, &httpError{status: http.StatusBadRequest, title: "Unknown sort property",
				detail: fmt.Sprintf("Property '%s' is not sortable.", so.Name)}
		}
		if seen[field.Name] {
			continue
		}
		seen[field.Name] = true
		keys = append(keys, sortKey{prop: props[field.Name], desc: so.Desc})
	}
	return keys, nil
}

// compareProp orders two customers by one property, nulls first, as SQL
// Server does.
func compareProp(p prop, a, b *skimmer.Customer) int {
	switch p.kind {
	case sieve.String:
		x, y := p.text(a), p.text(b)
		if x == nil || y == nil {
			return nullsFirst(x == nil, y == nil)
		}
		return strings.Compare(*x, *y)
	case sieve.Time:
		x, y := p.when(a), p.when(b)
		if x.IsZero() || y.IsZero() {
			return nullsFirst(x.IsZero(), y.IsZero())
		}
		return x.Compare(y.Time)
	default:
		x, y := p.flag(a), p.flag(b)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
}

func nullsFirst(aNull, bNull bool) int {
	switch {
	case aNull && bNull:
		return 0
	case aNull:
		return -1
	}
	return 1
}
