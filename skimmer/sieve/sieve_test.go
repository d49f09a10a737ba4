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
	Field{Name: "CompanyName", Kind: String},
	Field{Name: "BillingState", Kind: String, Sortable: true},
	Field{Name: "PrimaryEmail", Kind: String},
	Field{Name: "CreatedAt", Kind: Time, Sortable: true},
	Field{Name: "UpdatedAt", Kind: Time},
	Field{Name: "IsInactive", Kind: Bool},
	Field{Name: "ClosedAt", Kind: Time, Nullable: true},
)

func TestEncodeFiltersExactStrings(t *testing.T) {
	tests := []struct {
		name   string
		filter Filter
		want   string
	}{
		{"plain", Filter{Names: []string{"BillingState"}, Op: Equals, Values: []Value{Text("TX")}}, "BillingState==TX"},
		// Without parentheses: Sieve cuts a term starting with "(" at its
		// last ")", so a value holding one would break it.
		{"or names", Filter{Names: []string{"FirstName", "LastName"}, Op: ContainsIgnoreCase, Values: []Value{Text("smith")}}, "FirstName|LastName@=*smith"},
		{"or names, value with parentheses", Filter{Names: []string{"LastName", "CompanyName"}, Op: Equals, Values: []Value{Text("Smith (Jr)")}}, "LastName|CompanyName==Smith (Jr)"},
		{"or values", Filter{Names: []string{"BillingState"}, Op: Equals, Values: []Value{Text("TX"), Text("AZ")}}, "BillingState==TX|AZ"},
		// Sieve ORs the pairs of a term, negated or not: "lacks a OR lacks
		// b". Neither-nor takes one term per pair.
		{"negated, several values", Filter{Names: []string{"CompanyName"}, Op: NotContains, Values: []Value{Text("AAA"), Text("BBB")}}, "CompanyName!@=AAA,CompanyName!@=BBB"},
		{"not equal, several values", Filter{Names: []string{"BillingState"}, Op: NotEquals, Values: []Value{Text("TX"), Text("AZ")}}, "BillingState!=TX,BillingState!=AZ"},
		{"negated, several names", Filter{Names: []string{"FirstName", "LastName"}, Op: NotStartsWithIgnoreCase, Values: []Value{Text("x")}}, "FirstName!_=*x,LastName!_=*x"},
		{"comma", Filter{Names: []string{"LastName"}, Op: Equals, Values: []Value{Text("Smith, Jr")}}, `LastName==Smith\, Jr`},
		{"pipe", Filter{Names: []string{"LastName"}, Op: Equals, Values: []Value{Text("a|b")}}, `LastName==a\|b`},
		{"backslash", Filter{Names: []string{"LastName"}, Op: Equals, Values: []Value{Text(`a\b`)}}, `LastName==a\\b`},
		{"backslash before a comma", Filter{Names: []string{"LastName"}, Op: Equals, Values: []Value{Text(`a\,b`)}}, `LastName==a\\\,b`},
		{"operator in value", Filter{Names: []string{"LastName"}, Op: Contains, Values: []Value{Text("a==b")}}, `LastName@=a\==b`},
		{"negated operator in value", Filter{Names: []string{"LastName"}, Op: Equals, Values: []Value{Text("x!@=y")}}, `LastName==x!\@=y`},
		{"null keyword", Filter{Names: []string{"PrimaryEmail"}, Op: Equals, Values: []Value{Null}}, "PrimaryEmail==null"},
		{"null text", Filter{Names: []string{"LastName"}, Op: Equals, Values: []Value{Text("null")}}, `LastName==\null`},
		{"Null text after starts-with", Filter{Names: []string{"LastName"}, Op: StartsWith, Values: []Value{Text("Null")}}, `LastName_=\Null`},
		{"email", Filter{Names: []string{"PrimaryEmail"}, Op: EndsWithIgnoreCase, Values: []Value{Text("@example.com")}}, "PrimaryEmail_-=*@example.com"},
		{"email-like operator", Filter{Names: []string{"PrimaryEmail"}, Op: Contains, Values: []Value{Text("a@=b")}}, `PrimaryEmail@=a\@=b`},
		{"phone dashes stay", Filter{Names: []string{"FirstName"}, Op: StartsWith, Values: []Value{Text("512-555_0100")}}, "FirstName_=512-555_0100"},
		{"empty text", Filter{Names: []string{"LastName"}, Op: Equals, Values: []Value{Text("")}}, "LastName=="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeFilters([]Filter{tt.filter})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)

			back, err := ParseFilters(got)
			require.NoError(t, err)
			assert.True(t, sameTerms(back, expand(tt.filter)), "Sieve reads %+v", back)
		})
	}
}

func TestParseFiltersLikeSieve(t *testing.T) {
	tests := []struct {
		in   string
		want []Term
	}{
		{"BillingState==TX,BillingCity==Houston", []Term{
			{Names: []string{"BillingState"}, Op: Equals, Values: []string{"TX"}},
			{Names: []string{"BillingCity"}, Op: Equals, Values: []string{"Houston"}},
		}},
		{" (FirstName | LastName) @=* jo ", []Term{{Names: []string{"(FirstName", "LastName)"}, Op: ContainsIgnoreCase, Values: []string{"jo"}}}}, // a leading space: no parenthesis handling
		{"x==1, (FirstName | LastName) @=* jo ", []Term{
			{Names: []string{"x"}, Op: Equals, Values: []string{"1"}},
			{Names: []string{"FirstName", "LastName"}, Op: ContainsIgnoreCase, Values: []string{"jo"}},
		}},
		// Cut at the last ")" and every parenthesis before it deleted.
		{"(LastName|CompanyName)==Pool (East) Co", []Term{{Names: []string{"LastName", "CompanyName"}, Op: Equals, Values: []string{"Pool East Co"}}}},
		{"Name!_-=*x", []Term{{Names: []string{"Name"}, Op: NotEndsWithIgnoreCase, Values: []string{"x"}}}},
		{"Name>=2024-01-01", []Term{{Names: []string{"Name"}, Op: GreaterOrEqual, Values: []string{"2024-01-01"}}}},
		{"Name==a==b", []Term{{Names: []string{"Name"}, Op: Equals, Values: []string{"a"}}}}, // dropped after a second operator
		{"Name==NULL", []Term{{Names: []string{"Name"}, Op: Equals, Values: []string{"NULL"}}}},
		{`Name==\,x\|y\\`, []Term{{Names: []string{"Name"}, Op: Equals, Values: []string{`,x|y\`}}}},
		{`A==x\\,B==y`, []Term{
			{Names: []string{"A"}, Op: Equals, Values: []string{`x\`}},
			{Names: []string{"B"}, Op: Equals, Values: []string{"y"}},
		}},
		{"A==x | y", []Term{{Names: []string{"A"}, Op: Equals, Values: []string{"x ", " y"}}}}, // values are not trimmed one by one
		{"a==1,,  ,b==2,", []Term{ // blank terms are skipped
			{Names: []string{"a"}, Op: Equals, Values: []string{"1"}},
			{Names: []string{"b"}, Op: Equals, Values: []string{"2"}},
		}},
		{"FirstName", []Term{{Names: []string{"FirstName"}}}}, // no operator: no values
		{"LastName==", []Term{{Names: []string{"LastName"}, Op: Equals, Values: []string{""}}}},
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

func TestParseFiltersThrowsWhereSieveDoes(t *testing.T) {
	for _, in := range []string{"(A|B)", "(LastName|CompanyName)==Smith (Jr)"} {
		_, err := ParseFilters(in)
		var ex *Exception
		assert.ErrorAs(t, err, &ex, in)
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
		{Equals, `\\NULL`},
		{Equals, "\\nu\u200bll"},        // an ignorable character may not keep it from being "\null"
		{Equals, "*starts with a star"}, // would turn == into ==*
		{Equals, "bad \xff utf-8"},
	}
	for _, tt := range tests {
		_, err := EscapeValue(tt.op, Text(tt.value))
		assert.ErrorIs(t, err, ErrInvalid, "%q", tt.value)
	}
	got, err := EscapeValue(EqualsIgnoreCase, Text("*star"))
	require.NoError(t, err, "after ==* a leading star is just text")
	assert.Equal(t, "*star", got)
}

func TestEncodeFiltersRefusesNullOutsideEquality(t *testing.T) {
	_, err := EncodeFilters([]Filter{{Names: []string{"LastName"}, Op: StartsWith, Values: []Value{Null}}})
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "null goes only with == or !=")
}

func TestQueryValues(t *testing.T) {
	q := Query{
		Filters: []Filter{
			{Names: []string{"billingstate"}, Op: Equals, Values: []Value{Text("TX")}},
			{Names: []string{"ISINACTIVE"}, Op: Equals, Values: []Value{Text("false")}},
			{Names: []string{"ClosedAt"}, Op: Equals, Values: []Value{Null}},
		},
		Sorts:    []Sort{{Name: "createdat", Desc: true}, {Name: "LastName"}},
		Page:     2,
		PageSize: 25,
	}
	v, err := q.Values(testSchema)
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"filters":  {"BillingState==TX,IsInactive==false,ClosedAt==null"},
		"sorts":    {"-CreatedAt,LastName"},
		"page":     {"2"},
		"pageSize": {"25"},
	}, v)
	assert.Equal(t, "filters=BillingState%3D%3DTX%2CIsInactive%3D%3Dfalse%2CClosedAt%3D%3Dnull&page=2&pageSize=25&sorts=-CreatedAt%2CLastName", v.Encode())
}

func TestQueryValuesRejects(t *testing.T) {
	ok := Filter{Names: []string{"LastName"}, Op: Equals, Values: []Value{Text("x")}}
	one := func(name string, op Op, v Value) Query {
		return Query{Filters: []Filter{{Names: []string{name}, Op: op, Values: []Value{v}}}, Page: 1, PageSize: 1}
	}
	tests := []struct {
		name string
		q    Query
		msg  string
	}{
		{"unknown field", one("Shoe", Equals, Text("x")), `unknown filter field "Shoe"; filterable fields are FirstName, LastName`},
		{"unknown operator", one("LastName", "=~", Text("x")), `unknown operator "=~"`},
		// The rules Sieve throws on, each with its fix.
		{"order on text", one("LastName", GreaterThan, Text("M")), "LastName is text and cannot be compared with > (only CreatedAt, UpdatedAt and ClosedAt can); use _= for starts with"},
		{"order on text, any of them", one("FirstName", LessOrEqual, Text("M")), "cannot be compared with <="},
		{"null on a bool", one("IsInactive", Equals, Null), "IsInactive is never null; compare it with true or false"},
		{"null on a date", one("CreatedAt", NotEquals, Null), "CreatedAt is never null; compare it with a date"},
		{"null with contains", one("LastName", Contains, Null), "null goes only with == or !="},
		{"null with an ordering", one("ClosedAt", GreaterThan, Null), "null goes only with == or !="},
		{"text op on bool", one("IsInactive", Contains, Text("t")), "operator @= only works on text fields, and IsInactive is true/false; use == or !="},
		{"case-blind on a date", one("CreatedAt", EqualsIgnoreCase, Text("2024-01-01")), "operator ==* only works on text fields, and CreatedAt is a date-time; use == != > < >= <="},
		{"order on bool", one("IsInactive", GreaterThan, Text("true")), "IsInactive is true/false, which has no order; use == or !="},
		{"bad bool", one("IsInactive", Equals, Text("yes")), `IsInactive: takes true or false, not "yes"`},
		{"bad date", one("CreatedAt", GreaterThan, Text("last week")), "takes a date like"},
		{"no value", Query{Filters: []Filter{{Names: []string{"LastName"}, Op: Equals}}, Page: 1, PageSize: 1}, "has no value"},
		{"page 0", Query{Filters: []Filter{ok}, Page: 0, PageSize: 1}, "page must be from 1 to 2147483647, got 0"},
		{"negative page size", Query{Page: 1, PageSize: -5}, "page size must be from 1 to 2147483647, got -5"},
		{"page past 32 bits", Query{Page: 100_000_000, PageSize: 25}, "further than the server can count"},
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
	assert.Equal(t, []Sort{{Name: "CreatedAt", Desc: true}, {Name: "LastName"}}, ParseSorts("-CreatedAt, LastName,"))
	// Sieve does not trim names: a space before is part of the name.
	assert.Equal(t, []Sort{{Name: " -CreatedAt"}, {Name: "LastName "}}, ParseSorts(" -CreatedAt,LastName ,"))
	// Duplicates are dropped only in the same case.
	assert.Equal(t, []Sort{{Name: "LastName"}, {Name: "lastname", Desc: true}}, ParseSorts("LastName,-lastname,-LastName"))
	assert.Empty(t, ParseSorts(""))
	assert.Equal(t, Sort{Name: "LastName", Desc: true}, ParseSort(" - LastName "), "a person's sort key is read leniently")
}

func TestOpProperties(t *testing.T) {
	assert.Len(t, Ops(), len(matchOrder))
	for _, op := range Ops() {
		assert.True(t, op.Valid(), op)
		assert.Equal(t, op, opAt(string(op), 0), "the longest operator wins at %s", op)
	}
	assert.True(t, NotContainsIgnoreCase.Negated())
	assert.False(t, NotEquals.Negated())
	assert.True(t, NotEquals.Excludes())
	assert.True(t, NotEqualsIgnoreCase.Excludes())
	assert.False(t, Equals.Excludes())
	assert.Equal(t, Contains, NotContainsIgnoreCase.Positive())
	assert.True(t, EqualsIgnoreCase.TextOnly())
	assert.False(t, GreaterThan.TextOnly())
	assert.True(t, NotEqualsIgnoreCase.TakesNull())
	assert.False(t, StartsWith.TakesNull())
}
