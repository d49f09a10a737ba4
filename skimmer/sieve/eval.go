package sieve

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Val is one property of one record, as a processor reads it.
type Val struct {
	state valState
	text  string
	num   int64
	when  time.Time
	flag  bool
}

type valState uint8

const (
	present valState = iota
	null
	unreachable
	unknown
)

// The values a Props function returns.
var (
	// NullVal is a property that is null.
	NullVal = Val{state: null}
	// Unreachable is a property behind a null object (TopComment.Text when
	// TopComment is null): Sieve's null checks make every filter on it
	// false, and it sorts as its type's default value.
	Unreachable = Val{state: unreachable}
	// Unknown is a property the record does not carry (a field missing from
	// an API answer). A Tolerant check cannot decide on it.
	Unknown = Val{state: unknown}
)

// TextVal is a text property; nil is null.
func TextVal(p *string) Val {
	if p == nil {
		return NullVal
	}
	return Val{text: *p}
}

// BoolVal is a true/false property.
func BoolVal(b bool) Val { return Val{flag: b} }

// TimeVal is a date-time property.
func TimeVal(t time.Time) Val { return Val{when: t} }

// IntVal is a number property.
func IntVal(n int64) Val { return Val{num: n} }

// IsZero reports whether v is a present zero value: "", false, 0 or the
// zero time.
func (v Val) IsZero() bool {
	return v.state == present && v.text == "" && !v.flag && v.num == 0 && v.when.IsZero()
}

// Props reads a record's properties: one function for each field of a
// schema, by the field's canonical name, returning a Val of its kind.
type Props[T any] map[string]func(*T) Val

// Options are the SieveOptions this package follows. The zero value is
// Sieve's default, except that ThrowExceptions is the caller's to act on
// (see Result.Err).
type Options struct {
	DefaultPageSize int // the page size when none is given; no paging when 0
	MaxPageSize     int // the most rows a page takes; no cap when 0
	// KeepNullsOnNotEqual is IgnoreNullsOnNotEqual=false: != matches a
	// null property.
	KeepNullsOnNotEqual bool
}

// Processor is SieveProcessor for one type of record.
type Processor[T any] struct {
	schema *Schema
	get    []func(*T) Val // by field index
	opts   Options
}

// NewProcessor binds props to schema. It panics when the two do not name
// the same fields: that is a programming error, found at start.
func NewProcessor[T any](schema *Schema, props Props[T], opts Options) *Processor[T] {
	get := make([]func(*T) Val, len(schema.fields))
	for i, f := range schema.fields {
		g, ok := props[f.Name]
		if !ok {
			panic("sieve: no property function for field " + f.Name)
		}
		get[i] = g
	}
	if len(props) != len(schema.fields) {
		panic("sieve: property functions for fields the schema does not have")
	}
	return &Processor[T]{schema: schema, get: get, opts: opts}
}

// Model is a search request: SieveModel. A zero Page or PageSize was not
// given.
type Model struct {
	Filters  string
	Sorts    string
	Page     int
	PageSize int
}

// Result is what Apply returns.
type Result[T any] struct {
	Rows  []*T
	Total int // rows after filtering, before paging; all of them when filtering failed
	// Err is what Sieve threw. With ThrowExceptions=false (Sieve's default)
	// it swallows it and returns the rows as they were before the failing
	// step: Rows are those. With ThrowExceptions=true the call fails with it.
	Err error
}

// Apply is SieveProcessor.Apply: filter, sort, page, in that order, each
// step on the previous one's rows. rows is not modified.
func (p *Processor[T]) Apply(m Model, rows []*T) Result[T] {
	res := Result[T]{Rows: rows, Total: len(rows)}
	pred, err := p.Compile(m.Filters, Ordinal)
	if err != nil {
		res.Err = err
		return res
	}
	if len(pred.terms) > 0 {
		kept := make([]*T, 0, len(rows)/4)
		for _, r := range rows {
			if pred.Match(r) {
				kept = append(kept, r)
			}
		}
		res.Rows, res.Total = kept, len(kept)
	}
	keys, err := p.sortKeys(m.Sorts)
	if err != nil {
		res.Err = err
		return res
	}
	if len(keys) > 0 {
		res.Rows = p.sorted(keys, res.Rows)
	}
	res.Rows = p.page(m, res.Rows)
	return res
}

// page is ApplyPagination: skip (page-1)*pageSize rows in 32-bit
// arithmetic, as C# does unchecked, then take pageSize capped at
// MaxPageSize. LINQ skips nothing for a negative count.
func (p *Processor[T]) page(m Model, rows []*T) []*T {
	page, size := cmp.Or(m.Page, 1), cmp.Or(m.PageSize, p.opts.DefaultPageSize)
	if size <= 0 {
		return rows
	}
	maxSize := size
	if p.opts.MaxPageSize > 0 {
		maxSize = p.opts.MaxPageSize
	}
	skip := int(max(int32(page-1)*int32(size), 0))
	if skip >= len(rows) {
		return rows[:0]
	}
	rows = rows[skip:]
	return rows[:min(len(rows), size, maxSize)]
}

// Collation is how a Predicate compares text and dates.
type Collation int

const (
	// Ordinal is .NET's own comparison, as Sieve's tests run it in memory:
	// case-sensitive unless the operator has a *. The sandbox serves with it.
	Ordinal Collation = iota
	// Tolerant answers "could match" for anything a database's collation
	// might match: text in any case and with trailing spaces ignored, any
	// text with characters beyond plain ASCII, dates within a day (time
	// zones). A row it rejects was certainly not matched by the filters:
	// the client uses it to tell an unfiltered answer from a filtered one.
	Tolerant
)

// Predicate is a compiled filters parameter.
type Predicate[T any] struct {
	get       []func(*T) Val
	terms     [][]pair // ANDed; each ORs its pairs
	src       []Term
	coll      Collation
	keepNulls bool
}

// pair is one (property, value) test of a term.
type pair struct {
	field         int
	kind          Kind
	op            Op // positive and without *: == != > < >= <= @= _= _-=
	negated, fold bool
	null          bool // the value is the null keyword
	want          Val  // the value, converted; upper-cased when fold
}

// Compile reads filters and builds its predicate, failing where
// SieveProcessor.ApplyFiltering throws, with the same message as far as
// known: an unknown name, a value its property's type cannot convert,
// null for a property that cannot be null, * on anything but text, an
// ordering of text or true/false, a text operator on anything but text.
// A term whose names are all known but which has no operator is skipped.
func (p *Processor[T]) Compile(filters string, coll Collation) (*Predicate[T], error) {
	terms, err := ParseFilters(filters)
	if err != nil {
		return nil, err
	}
	pr := &Predicate[T]{get: p.get, coll: coll, keepNulls: p.opts.KeepNullsOnNotEqual}
	for _, t := range terms {
		var pairs []pair
		for _, name := range t.Names {
			i, ok := p.schema.find(name, false)
			if !ok {
				return nil, throw("%s not found.", name) // SieveMethodNotFoundException: no custom filter method either
			}
			if t.Values == nil {
				continue
			}
			for _, raw := range t.Values {
				pc, err := compilePair(p.schema.fields[i], i, t.Op, raw)
				if err != nil {
					return nil, err
				}
				if coll == Tolerant && pc.kind == String && !pc.fold {
					pc.want.text = strings.ToUpper(pc.want.text) // compared in any case
				}
				pairs = append(pairs, pc)
			}
		}
		if len(pairs) > 0 {
			pr.terms = append(pr.terms, pairs)
			pr.src = append(pr.src, t)
		}
	}
	return pr, nil
}

// compilePair follows the body of ApplyFiltering's innermost loop.
func compilePair(f Field, index int, op Op, raw string) (pair, error) {
	pc := pair{field: index, kind: f.Kind, op: op.Positive(), negated: op.Negated(), fold: op.IgnoreCase()}
	// IsFilterTermValueNull
	pc.null = len(raw) == 4 && strings.EqualFold(raw, "null") && (f.Kind != String || op.TakesNull())
	if pc.null {
		if !f.Nullable {
			return pc, throw("Argument types do not match") // Expression.Constant(null, a value type)
		}
	} else {
		v, err := convert(f.Kind, raw)
		if err != nil {
			return pc, err
		}
		pc.want = v
		if pc.fold {
			if f.Kind != String {
				return pc, throw("Method 'System.String ToUpper()' declared on type 'System.String' cannot be called with instance of type '%s'", f.Kind.dotnet())
			}
			pc.want.text = strings.ToUpper(pc.want.text)
		}
	}
	// GetExpression
	switch pc.op {
	case GreaterThan, LessThan, GreaterOrEqual, LessOrEqual:
		if f.Kind == String || f.Kind == Bool {
			return pc, throw("The binary operator %s is not defined for the types '%s' and '%s'.", opName[pc.op], f.Kind.dotnet(), f.Kind.dotnet())
		}
	case Contains, StartsWith, EndsWith:
		if f.Kind != String {
			return pc, throw("Method 'Boolean %s(System.String)' declared on type 'System.String' cannot be called with instance of type '%s'", opName[pc.op], f.Kind.dotnet())
		}
	}
	return pc, nil
}

var opName = map[Op]string{
	GreaterThan: "GreaterThan", LessThan: "LessThan", GreaterOrEqual: "GreaterThanOrEqual", LessOrEqual: "LessThanOrEqual",
	Contains: "Contains", StartsWith: "StartsWith", EndsWith: "EndsWith",
}

func (k Kind) dotnet() string {
	switch k {
	case Bool:
		return "System.Boolean"
	case Time:
		return "System.DateTime"
	case Int:
		return "System.Int32"
	}
	return "System.String"
}

// convert is ConvertStringValueToConstantExpression: "\null" in any case
// loses its backslashes, then the property type's TypeConverter reads the
// text.
func convert(k Kind, raw string) (Val, error) {
	if strings.EqualFold(raw, `\null`) {
		raw = strings.TrimLeft(raw, `\`)
	}
	s := strings.TrimFunc(raw, unicode.IsSpace) // every converter but StringConverter trims
	switch k {
	case String:
		return Val{text: raw}, nil
	case Bool: // BooleanConverter: bool.Parse, which also ignores NULs around
		switch strings.ToLower(strings.Trim(s, "\x00")) {
		case "true":
			return BoolVal(true), nil
		case "false":
			return BoolVal(false), nil
		}
		return Val{}, throw("%s is not a valid value for Boolean.", raw)
	case Time: // DateTimeConverter: empty is DateTime.MinValue, else DateTime.Parse
		if s == "" {
			return TimeVal(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)), nil
		}
		t, err := ParseTime(s)
		if err != nil {
			return Val{}, throw("%s is not a valid value for DateTime.", raw)
		}
		return TimeVal(t), nil
	default: // Int32Converter: decimal with a sign, or hex after #, 0x or &h
		n, err := parseInt32(s)
		if err != nil {
			return Val{}, throw("%s is not a valid value for Int32.", raw)
		}
		return IntVal(n), nil
	}
}

func parseInt32(s string) (int64, error) {
	for _, prefix := range []string{"#", "0x", "&h"} {
		if len(s) > len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
			n, err := strconv.ParseUint(s[len(prefix):], 16, 32)
			return int64(int32(uint32(n))), err
		}
	}
	return strconv.ParseInt(s, 10, 32)
}

// Match reports whether r passes every term: for an Ordinal predicate, as
// Sieve decides; for a Tolerant one, unless it certainly fails.
func (pr *Predicate[T]) Match(r *T) bool { return pr.Violated(r) < 0 }

// Violated returns the index of the first term r certainly fails, or -1.
func (pr *Predicate[T]) Violated(r *T) int {
	for i, pairs := range pr.terms {
		res := no
		for j := range pairs {
			if res = res.or(pr.test(&pairs[j], r)); res == yes {
				break
			}
		}
		if res == no {
			return i
		}
	}
	return -1
}

// Term returns the i-th term that filters (blank and skipped ones left out).
func (pr *Predicate[T]) Term(i int) Term { return pr.src[i] }

// tri is a test's answer: a Tolerant comparison may not know.
type tri uint8

const (
	no tri = iota
	maybe
	yes
)

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}

func (t tri) or(u tri) tri { return max(t, u) }

func (t tri) not() tri { return yes - t }

// test is one pair's expression, with Sieve's null checks around it: a
// null property fails every non-null value, negated or not, unless
// IgnoreNullsOnNotEqual is off and the operator is !=.
func (pr *Predicate[T]) test(pc *pair, r *T) tri {
	v := pr.get[pc.field](r)
	switch v.state {
	case unknown:
		return maybe
	case unreachable:
		return no
	}
	if pc.null {
		switch pc.op {
		case Equals:
			return triOf(v.state == null)
		case NotEquals:
			return triOf(v.state != null)
		}
		return no // a lifted comparison with null is false
	}
	if v.state == null {
		return triOf(pr.keepNulls && pc.op == NotEquals && !pc.fold)
	}
	res := pr.compare(pc, v)
	if pc.negated {
		res = res.not()
	}
	return res
}

func (pr *Predicate[T]) compare(pc *pair, v Val) tri {
	switch pc.kind {
	case String:
		if pr.coll == Tolerant {
			return tolerantText(pc.op, v.text, pc.want.text)
		}
		return triOf(textHolds(pc.op, v.text, pc.want.text, pc.fold))
	case Bool:
		return triOf(holds(pc.op, boolCompare(v.flag, pc.want.flag)))
	case Time:
		if pr.coll == Tolerant {
			if d := v.when.Sub(pc.want.when); d > -24*time.Hour && d < 24*time.Hour {
				return maybe
			}
		}
		return triOf(holds(pc.op, v.when.Compare(pc.want.when)))
	default:
		return triOf(holds(pc.op, cmp.Compare(v.num, pc.want.num)))
	}
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func holds(op Op, c int) bool {
	switch op {
	case Equals:
		return c == 0
	case NotEquals:
		return c != 0
	case GreaterThan:
		return c > 0
	case LessThan:
		return c < 0
	case GreaterOrEqual:
		return c >= 0
	case LessOrEqual:
		return c <= 0
	}
	return false
}

// textHolds applies a text operator as .NET does in memory: ordinally, or
// with both sides upper-cased (want already is). Upper-casing goes rune by
// rune, so nothing is allocated per row.
func textHolds(op Op, got, want string, fold bool) bool {
	switch op {
	case Equals, NotEquals:
		eq := got == want
		if fold {
			eq = upperPrefix(got, want) == len(got)
		}
		return eq == (op == Equals)
	case Contains:
		if !fold {
			return strings.Contains(got, want)
		}
		if want == "" {
			return true
		}
		for i := 0; i < len(got); {
			c := got[i]
			if c < utf8.RuneSelf {
				// An ASCII byte that cannot start the match is passed over
				// without decoding; a non-ASCII one might upper-case to
				// ASCII (ſ to S), so it is always tried.
				if asciiUpper(c) == want[0] && upperPrefix(got[i:], want) >= 0 {
					return true
				}
				i++
				continue
			}
			if upperPrefix(got[i:], want) >= 0 {
				return true
			}
			_, size := utf8.DecodeRuneInString(got[i:])
			i += size
		}
		return false
	case StartsWith:
		if !fold {
			return strings.HasPrefix(got, want)
		}
		return upperPrefix(got, want) >= 0
	case EndsWith:
		if !fold {
			return strings.HasSuffix(got, want)
		}
		for got != "" && want != "" {
			if g, w := got[len(got)-1], want[len(want)-1]; g < utf8.RuneSelf && w < utf8.RuneSelf {
				if asciiUpper(g) != w {
					return false
				}
				got, want = got[:len(got)-1], want[:len(want)-1]
				continue
			}
			rg, ng := utf8.DecodeLastRuneInString(got)
			rw, nw := utf8.DecodeLastRuneInString(want)
			if unicode.ToUpper(rg) != rw {
				return false
			}
			got, want = got[:len(got)-ng], want[:len(want)-nw]
		}
		return want == ""
	}
	return false
}

// upperPrefix reports how many bytes of s, upper-cased, spell want: -1
// when they do not.
func upperPrefix(s, want string) int {
	n := 0
	for want != "" {
		if n >= len(s) {
			return -1
		}
		if s[n] < utf8.RuneSelf && want[0] < utf8.RuneSelf {
			if asciiUpper(s[n]) != want[0] {
				return -1
			}
			n, want = n+1, want[1:]
			continue
		}
		rs, ns := utf8.DecodeRuneInString(s[n:])
		rw, nw := utf8.DecodeRuneInString(want)
		if unicode.ToUpper(rs) != rw {
			return -1
		}
		n, want = n+ns, want[nw:]
	}
	return n
}

func asciiUpper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// tolerantText is textHolds for any collation a database might use: it
// knows the answer only for plain ASCII without trailing spaces, and
// ignores case (want is upper-cased when compiled).
func tolerantText(op Op, got, want string) tri {
	if !plainASCII(got) || !plainASCII(want) {
		return maybe
	}
	return triOf(textHolds(op, got, want, true)) // want is upper-cased
}

func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return !strings.HasSuffix(s, " ")
}

type sortKey struct {
	field int
	kind  Kind
	null  bool // the property may be null
	desc  bool
}

// sortKeys follows ApplySorting: each name must be a sortable property,
// or Sieve looks for a custom sort method and throws.
func (p *Processor[T]) sortKeys(sorts string) ([]sortKey, error) {
	var keys []sortKey
	for _, so := range ParseSorts(sorts) {
		i, ok := p.schema.find(so.Name, true)
		if !ok {
			return nil, throw("%s not found.", so.Name)
		}
		f := p.schema.fields[i]
		keys = append(keys, sortKey{field: i, kind: f.Kind, null: f.Nullable, desc: so.Desc})
	}
	return keys, nil
}

// sorted returns rows ordered by each key in turn, stably (OrderBy then
// ThenBy), nulls first. Each row's keys are read once, not at every
// comparison. Text is compared ordinally; Sieve in memory would use the
// culture's order, a database its collation's.
func (p *Processor[T]) sorted(keys []sortKey, rows []*T) []*T {
	cols := make([]column, len(keys))
	for j, k := range keys {
		cols[j] = p.column(k, rows)
	}
	order := make([]int32, len(rows))
	for i := range order {
		order[i] = int32(i)
	}
	// Ties go by position, which makes the sort stable, as OrderBy and
	// ThenBy are, at the cost of an unstable sort.
	slices.SortFunc(order, func(a, b int32) int {
		for j := range cols {
			if c := cols[j].compare(a, b); c != 0 {
				return c
			}
		}
		return cmp.Compare(a, b)
	})
	out := make([]*T, len(rows))
	for i, o := range order {
		out[i] = rows[o]
	}
	return out
}

// column is one sort key read from every row, in the narrowest form its
// kind allows.
type column struct {
	kind Kind
	desc bool
	null []bool // nil when no row is null
	text []string
	when []time.Time
	num  []int64 // numbers, and true/false as 1/0
}

func (p *Processor[T]) column(k sortKey, rows []*T) column {
	c := column{kind: k.kind, desc: k.desc}
	switch k.kind {
	case String:
		c.text = make([]string, len(rows))
	case Time:
		c.when = make([]time.Time, len(rows))
	default:
		c.num = make([]int64, len(rows))
	}
	get := p.get[k.field]
	for i, r := range rows {
		v := defaulted(k, get(r))
		switch {
		case v.state == null:
			if c.null == nil {
				c.null = make([]bool, len(rows))
			}
			c.null[i] = true
		case k.kind == String:
			c.text[i] = v.text
		case k.kind == Time:
			c.when[i] = v.when
		case k.kind == Bool && v.flag:
			c.num[i] = 1
		default:
			c.num[i] = v.num
		}
	}
	return c
}

// compare orders rows a and b by the column: nulls first, then by value.
func (c *column) compare(a, b int32) int {
	r := 0
	if c.null != nil && (c.null[a] || c.null[b]) {
		r = boolCompare(c.null[b], c.null[a])
	} else {
		switch c.kind {
		case String:
			r = strings.Compare(c.text[a], c.text[b])
		case Time:
			r = c.when[a].Compare(c.when[b])
		default:
			r = cmp.Compare(c.num[a], c.num[b])
		}
	}
	if c.desc {
		return -r
	}
	return r
}

// defaulted is what OrderByDynamic sorts a property behind a null object
// as: its type's default, null or the zero value.
func defaulted(k sortKey, v Val) Val {
	if v.state != unreachable {
		return v
	}
	if k.null {
		return NullVal
	}
	return Val{}
}
