package sieve

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testSchema = NewSchema(
	Field{Name: "FirstName", Kind: String, Sortable: true},
	Field{Name: "LastName", Kind: String, Sortable: true},
	Field{Name: "BillingState", Kind: String, Sortable: true},
	Field{Name: "PrimaryEmail", Kind: String},
	Field{Name: "CreatedAt", Kind: Time, Sortable: true},
	Field{Name: "IsInactive", Kind: Bool},
)

func TestEncodeFiltersExactStrings(t *testing.T) {
	tests := []struct {
		name   string
		filter Filter
		want   string
	}{
		{"plain", Filter{Names: []string{"BillingState"}, Op: Equals, Values: []Value{Text("TX")}}, "BillingState==TX"},
		{"or names", Filter{Names: []string{"FirstName", "LastName"}, Op: ContainsIgnoreCase, Values: []Value{Text("smith")}}, "(FirstName|LastName)@=*smith"},
		{"or values", Filter{Names: []string{"BillingState"}, Op: Equals, Values: []Value{Text("TX"), Text("AZ")}}, "BillingState==TX|AZ"},
		{"comma", Filter{Names: []string{"LastName"}, Op: Equals, Values: []Value{Text("Smith, Jr")}}, `LastName==Smith\, Jr`},
		{"pipe", Filter{Names: []string{"LastName"}, Op: Equals, Values: []Value{Text("a|b")}}, `LastName==a\|b`},
		{"backslash", Filter{Names: []string{"LastName"}, Op: Equals, Values: []Value{Text(`a\b`)}}, `LastName==a\\b`},
		{"operator in value", Filter{Names: []string{"LastName"}, Op: Contains, Values: []Value{Text("a==b")}}, `LastName@=a\==b`},
		{"negated operator in value", Filter{Names: []string{"LastName"}, Op: Equals, Values: []Value{Text("x!@=y")}}, `LastName==x!\@=y`},
		{"null keyword", Filter{Names: []string{"PrimaryEmail"}, Op: Equals, Values: []Value{Null}}, "PrimaryEmail==null"},
		{"null text", Filter{Names: []string{"LastName"}, Op: Equals, Values: []Value{Text("null")}}, `LastName==\null`},
		{"email", Filter{Names: []string{"PrimaryEmail"}, Op: EndsWithIgnoreCase, Values: []Value{Text("@example.com")}}, "PrimaryEmail_-=*@example.com"},
		{"email-like operator", Filter{Names: []string{"PrimaryEmail"}, Op: Contains, Values: []Value{Text("a@=b")}}, `PrimaryEmail@=a\@=b`},
		{"phone dashes stay", Filter{Names: []string{"FirstName"}, Op: StartsWith, Values: []Value{Text("512-555_0100")}}, "FirstName_=512-555_0100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeFilters([]Filter{tt.filter})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)

			back, err := ParseFilters(got)
			require.NoError(t, err)
			require.Len(t, back, 1)
			assert.Equal(t, tt.filter, back[0], "parsing the encoded filter gives it back")
		})
	}
}

func TestParseFiltersLikeSieve(t *testing.T) {
	tests := []struct {
		in   string
		want []Filter
	}{
		{"BillingState==TX,BillingCity==Houston", []Filter{
			{Names: []string{"BillingState"}, Op: Equals, Values: []Value{Text("TX")}},
			{Names: []string{"BillingCity"}, Op: Equals, Values: []Value{Text("Houston")}},
		}},
		{" (FirstName | LastName) @=* jo ", []Filter{{Names: []string{"FirstName", "LastName"}, Op: ContainsIgnoreCase, Values: []Value{Text("jo")}}}},
		{"Name!_-=*x", []Filter{{Names: []string{"Name"}, Op: NotEndsWithIgnoreCase, Values: []Value{Text("x")}}}},
		{"Name>=2024-01-01", []Filter{{Names: []string{"Name"}, Op: GreaterOrEqual, Values: []Value{Text("2024-01-01")}}}},
		// Everything from a second unescaped operator on is dropped.
		{"Name==a==b", []Filter{{Names: []string{"Name"}, Op: Equals, Values: []Value{Text("a")}}}},
		{"Name==NULL", []Filter{{Names: []string{"Name"}, Op: Equals, Values: []Value{Null}}}},
		{`Name==\,x\|y\\`, []Filter{{Names: []string{"Name"}, Op: Equals, Values: []Value{Text(`,x|y\`)}}}},
		{`A==x\\,B==y`, []Filter{
			{Names: []string{"A"}, Op: Equals, Values: []Value{Text(`x\`)}},
			{Names: []string{"B"}, Op: Equals, Values: []Value{Text("y")}},
		}},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFilters(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	for _, in := range []string{"FirstName", "==x", "(A|)==x"} {
		_, err := ParseFilters(in)
		assert.ErrorIs(t, err, ErrInvalid, in)
	}
}

func TestEscapeValueRefusesWhatSieveCannotExpress(t *testing.T) {
	tests := []struct {
		op    Op
		value string
	}{
		{Equals, " padded"},
		{Equals, "trailing "},
		{Equals, `\null`},
		{Equals, "*starts with a star"}, // would turn == into ==*
	}
	for _, tt := range tests {
		_, err := EscapeValue(tt.op, Text(tt.value))
		assert.ErrorIs(t, err, ErrInvalid, "%q", tt.value)
	}
	got, err := EscapeValue(EqualsIgnoreCase, Text("*star"))
	require.NoError(t, err, "after ==* a leading star is just text")
	assert.Equal(t, "*star", got)
}

func TestQueryValues(t *testing.T) {
	q := Query{
		Filters: []Filter{
			{Names: []string{"billingstate"}, Op: Equals, Values: []Value{Text("TX")}},
			{Names: []string{"ISINACTIVE"}, Op: Equals, Values: []Value{Text("false")}},
		},
		Sorts:    []Sort{{Name: "createdat", Desc: true}, {Name: "LastName"}},
		Page:     2,
		PageSize: 25,
	}
	v, err := q.Values(testSchema)
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"filters":  {"BillingState==TX,IsInactive==false"},
		"sorts":    {"-CreatedAt,LastName"},
		"page":     {"2"},
		"pageSize": {"25"},
	}, v)
	assert.Equal(t, "filters=BillingState%3D%3DTX%2CIsInactive%3D%3Dfalse&page=2&pageSize=25&sorts=-CreatedAt%2CLastName", v.Encode())
}

func TestQueryValuesRejects(t *testing.T) {
	ok := Filter{Names: []string{"LastName"}, Op: Equals, Values: []Value{Text("x")}}
	tests := []struct {
		name string
		q    Query
		msg  string
	}{
		{"unknown field", Query{Filters: []Filter{{Names: []string{"Shoe"}, Op: Equals, Values: []Value{Text("x")}}}, Page: 1, PageSize: 1}, `unknown filter field "Shoe"; filterable fields are FirstName, LastName`},
		{"unknown operator", Query{Filters: []Filter{{Names: []string{"LastName"}, Op: "=~", Values: []Value{Text("x")}}}, Page: 1, PageSize: 1}, `unknown operator "=~"`},
		{"text op on bool", Query{Filters: []Filter{{Names: []string{"IsInactive"}, Op: Contains, Values: []Value{Text("t")}}}, Page: 1, PageSize: 1}, "operator @= only works on text fields, and IsInactive is true/false; use == or !="},
		{"order on bool", Query{Filters: []Filter{{Names: []string{"IsInactive"}, Op: GreaterThan, Values: []Value{Text("true")}}}, Page: 1, PageSize: 1}, "IsInactive is true/false, which has no order; use == or !="},
		{"bad bool", Query{Filters: []Filter{{Names: []string{"IsInactive"}, Op: Equals, Values: []Value{Text("yes")}}}, Page: 1, PageSize: 1}, `IsInactive: takes true, false or null, not "yes"`},
		{"bad date", Query{Filters: []Filter{{Names: []string{"CreatedAt"}, Op: GreaterThan, Values: []Value{Text("last week")}}}, Page: 1, PageSize: 1}, "takes a date like"},
		{"no value", Query{Filters: []Filter{{Names: []string{"LastName"}, Op: Equals}}, Page: 1, PageSize: 1}, "has no value"},
		{"page 0", Query{Filters: []Filter{ok}, Page: 0, PageSize: 1}, "page must be from 1 to 2147483647, got 0"},
		{"negative page size", Query{Page: 1, PageSize: -5}, "page size must be from 1 to 2147483647, got -5"},
		{"unsortable", Query{Sorts: []Sort{{Name: "PrimaryEmail"}}, Page: 1, PageSize: 1}, `cannot sort by "PrimaryEmail"; sortable fields are FirstName, LastName, BillingState, CreatedAt`},
		{"sorted twice", Query{Sorts: []Sort{{Name: "LastName"}, {Name: "lastname", Desc: true}}, Page: 1, PageSize: 1}, "LastName is sorted on twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.q.Values(testSchema)
			require.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestParseSorts(t *testing.T) {
	assert.Equal(t, []Sort{{Name: "CreatedAt", Desc: true}, {Name: "LastName"}}, ParseSorts(" -CreatedAt , LastName,"))
	assert.Empty(t, ParseSorts(""))
}

func TestOpProperties(t *testing.T) {
	assert.Len(t, Ops(), len(matchOrder))
	for _, op := range Ops() {
		assert.True(t, op.Valid(), op)
		assert.Equal(t, op, opAt(string(op), 0), "the longest operator wins at %s", op)
	}
	assert.True(t, NotContainsIgnoreCase.Negated())
	assert.False(t, NotEquals.Negated())
	assert.Equal(t, Contains, NotContainsIgnoreCase.Positive())
	assert.True(t, EqualsIgnoreCase.TextOnly())
	assert.False(t, GreaterThan.TextOnly())
}

// FuzzValueRoundTrip checks the builder against the parser: every value the
// builder accepts comes back from the parser unchanged, alone and next to
// other terms.
func FuzzValueRoundTrip(f *testing.F) {
	for _, s := range []string{"", "Smith", "a,b", "a|b", `a\`, `\\`, "a==b", "!==", ">>=", "x!@=y", "null", "NULL",
		`\null`, "*x", "a_-=b", "@example.com", `\,`, `\|\,\\`, "O'Brien & Sons", "5 < 6 > 4", "!_-=*", "==*"} {
		for _, op := range []Op{Equals, ContainsIgnoreCase, NotEndsWith} {
			f.Add(s, string(op))
		}
	}
	f.Fuzz(func(t *testing.T, s, opText string) {
		op := Op(opText)
		if !op.Valid() {
			return
		}
		filter := Filter{Names: []string{"A"}, Op: op, Values: []Value{Text(s)}}
		enc, err := EncodeFilters([]Filter{filter})
		if err != nil {
			return // refusing is allowed; sending something else is not
		}
		both, err := ParseFilters(enc + "," + enc)
		if err != nil {
			t.Fatalf("encoded %q as %q, which does not parse: %v", s, enc, err)
		}
		if len(both) != 2 {
			t.Fatalf("encoded %q as %q: two terms parse as %d", s, enc, len(both))
		}
		for _, got := range both {
			if got.Op != op || len(got.Values) != 1 || got.Values[0] != Text(s) {
				t.Fatalf("encoded %q with %s as %q, parsed back as %+v", s, op, enc, got)
			}
		}
	})
}

// FuzzParseFilters feeds the parser anything: it must not panic, and a
// filter it reads must survive being written and read again.
func FuzzParseFilters(f *testing.F) {
	for _, s := range []string{"BillingState==TX,BillingCity==Houston", "(A|B)@=*x|y", `A==a\,b\|c\\`, "A==a==b", "A!_-=*x",
		`A==\null`, "A==null", ",,", "A", `A==\!@=`, "(A)==1", `A\==b`, "A==*", "A>=2024-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		filters, err := ParseFilters(s)
		if err != nil {
			return
		}
		for _, fl := range filters {
			enc, err := EncodeFilters([]Filter{fl})
			if err != nil {
				continue // names or values the builder refuses to write
			}
			back, err := ParseFilters(enc)
			if err != nil || len(back) != 1 {
				t.Fatalf("%q parsed to %+v, written as %q, which reads back as %+v (%v)", s, fl, enc, back, err)
			}
			if back[0].Op != fl.Op || len(back[0].Values) != len(fl.Values) || len(back[0].Names) != len(fl.Names) {
				t.Fatalf("%q: %+v became %+v", s, fl, back[0])
			}
			for i := range fl.Values {
				if back[0].Values[i] != fl.Values[i] {
					t.Fatalf("%q: value %q became %q via %q", s, fl.Values[i], back[0].Values[i], enc)
				}
			}
		}
	})
}
