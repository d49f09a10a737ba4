package sieve

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

var rowProcessor = NewProcessor(rowSchema, rowProps, Options{})

// FuzzEncodeRoundTrip encodes random values with every operator on every
// kind of field, nullable or not, one or two names, one or two values, and
// reads the query back as Sieve would, with both readings of its grammar
// (parse.go and the .NET regular expressions). What the builder does not
// refuse, Sieve reads exactly as meant, and does not throw on.
func FuzzEncodeRoundTrip(f *testing.F) {
	values := []string{"", "Smith", "Smith (Jr)", "a,b", "a|b", `a\`, `\\`, "a==b", "!==", ">>=", "x!@=y", "null", "NULL", "Null",
		`\null`, "*x", "a_-=b", "@example.com", `\,`, `\|\,\\`, "O'Brien & Sons", "5 < 6 > 4", "!_-=*", "==*", "true", "FALSE",
		"2024-05-01", "2024-05-01T14:00:00Z", "42", "-7", " padded", "日本"}
	for i, s := range values {
		f.Add(uint8(i), uint8(i*3), uint8(i%4), s, values[(i+5)%len(values)], i%7 == 0)
	}
	filterable := rowSchema.Filterable()
	f.Fuzz(func(t *testing.T, opIndex, fieldIndex, shape uint8, a, b string, nullA bool) {
		op := Ops()[int(opIndex)%len(Ops())]
		names := []string{filterable[int(fieldIndex)%len(filterable)]}
		if shape&1 == 1 {
			names = append(names, filterable[(int(fieldIndex)/len(filterable)+1+int(fieldIndex))%len(filterable)])
		}
		vals := []Value{Text(a)}
		if nullA {
			vals[0] = Null
		}
		if shape&2 != 0 {
			vals = append(vals, Text(b))
		}
		filter := Filter{Names: names, Op: op, Values: vals}
		q, err := Query{Filters: []Filter{filter}, Page: 1, PageSize: 10}.Values(rowSchema)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%+v: %v is not ErrInvalid", filter, err)
			}
			return // refusing is allowed; sending something else is not
		}
		enc := q.Get("filters")

		terms, err := ParseFilters(enc)
		if err != nil || !sameTerms(terms, expand(filter)) {
			t.Fatalf("%+v was written %q, which Sieve reads as %+v (%v)", filter, enc, terms, err)
		}
		if net, _ := netParseFilters(t, enc); !assert.ObjectsAreEqual(net, terms) {
			t.Fatalf("%q: .NET's regular expressions read %+v, parse.go %+v", enc, net, terms)
		}

		pred, err := rowProcessor.Compile(enc, Ordinal)
		if err != nil {
			t.Fatalf("%+v was written %q, on which Sieve throws: %v", filter, enc, err)
		}
		var want []pair
		for _, term := range expand(filter) {
			for _, n := range term.Names {
				field, _ := rowSchema.Lookup(n)
				for _, m := range term.Values {
					want = append(want, expected(t, field, op, m))
				}
			}
		}
		var got []pair
		for _, pairs := range pred.terms {
			got = append(got, pairs...)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d tests, want %d", enc, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.field != w.field || g.op != w.op || g.negated != w.negated || g.fold != w.fold || g.null != w.null ||
				g.want.text != w.want.text || g.want.flag != w.want.flag || !g.want.when.Equal(w.want.when) || g.want.num != w.want.num {
				t.Fatalf("%+v written %q: Sieve tests %+v, meant %+v", filter, enc, g, w)
			}
		}
	})
}

// expected is the test a filter value is meant to make, from the builder's
// own reading of the value.
func expected(t *testing.T, f Field, op Op, meaning string) pair {
	i, _ := rowSchema.find(f.Name, false)
	p := pair{field: i, kind: f.Kind, op: op.Positive(), negated: op.Negated(), fold: op.IgnoreCase()}
	if meaning == nullMeaning {
		p.null = true
		return p
	}
	v, err := f.Kind.Parse(meaning)
	if err != nil {
		t.Fatalf("the builder sent %q for %s, which it cannot read itself", meaning, f.Name)
	}
	switch x := v.(type) {
	case string:
		p.want.text = x
		if p.fold {
			p.want.text = strings.ToUpper(x)
		}
	case bool:
		p.want.flag = x
	case time.Time:
		p.want.when = x
	case int64:
		p.want.num = x
	}
	return p
}
