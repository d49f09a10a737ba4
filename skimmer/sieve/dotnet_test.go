package sieve

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	regexp2 "github.com/dlclark/regexp2/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file is a second reading of Sieve's parsing, written against its C#
// line by line and run with regexp2, a port of .NET's regular expression
// engine, on Sieve's own patterns copied verbatim. The hand-written parser
// in parse.go must agree with it on every input: a table of hard cases here,
// and FuzzParseFiltersAgreesWithDotNet for the rest.

// The patterns of SieveModel.cs and FilterTerm.cs (commit b73f748).
const (
	netEscapedCommaPattern  = `(?<!($|[^\\])(\\\\)*?\\),\s*`
	netEscapedPipePattern   = `(?<!($|[^\\]|^)(\\\\)*?\\)\|`
	netOperatorsRegEx       = `(!@=\*|!_=\*|!_-=\*|!=\*|!@=|!_=|!_-=|==\*|@=\*|_=\*|_-=\*|==|!=|>=|<=|>|<|@=|_=|_-=)`
	netEscapeNegPatternOper = `(?<!\\)` + netOperatorsRegEx
	netEscapePosPatternOper = `(?<=\\)` + netOperatorsRegEx
)

var (
	netComma  = regexp2.MustCompile(netEscapedCommaPattern, regexp2.None)
	netPipe   = regexp2.MustCompile(netEscapedPipePattern, regexp2.None)
	netNegOp  = regexp2.MustCompile(netEscapeNegPatternOper, regexp2.None)
	netPosOp  = regexp2.MustCompile(netEscapePosPatternOper, regexp2.None)
	netUnPipe = regexp2.MustCompile(`(\\)(\|)`, regexp2.None)
	netUnBack = regexp2.MustCompile(`(\\)(\\)`, regexp2.None)
)

// netSplit is Regex.Split: the pieces between matches, and after each
// match the groups that took part in it.
func netSplit(t testing.TB, re *regexp2.Regexp, s string) []string {
	runes := []rune(s)
	var out []string
	prior := 0
	m, err := re.FindStringMatch(s)
	require.NoError(t, err)
	for m != nil {
		out = append(out, string(runes[prior:m.RuneIndex]))
		for _, g := range m.Groups()[1:] {
			if len(g.Captures) > 0 {
				out = append(out, g.String())
			}
		}
		prior = m.RuneIndex + m.RuneLength
		m, err = re.FindNextMatch(m)
		require.NoError(t, err)
	}
	return append(out, string(runes[prior:]))
}

func netMatches(t testing.TB, re *regexp2.Regexp, s string) []string {
	var out []string
	m, err := re.FindStringMatch(s)
	require.NoError(t, err)
	for m != nil {
		out = append(out, m.String())
		m, err = re.FindNextMatch(m)
		require.NoError(t, err)
	}
	return out
}

func netTrim(s string) string { return strings.TrimFunc(s, unicode.IsSpace) }

// netParseFilters is SieveModel.GetFiltersParsed with FilterTerm.Filter.
func netParseFilters(t testing.TB, filters string) ([]Term, error) {
	var out []Term
	for _, filter := range netSplit(t, netComma, filters) {
		if netTrim(filter) == "" {
			continue
		}
		filterValue := strings.ReplaceAll(filter, `\,`, ",")
		if strings.HasPrefix(filter, "(") {
			filterOpAndVal := filterValue[strings.LastIndex(filterValue, ")")+1:]
			if filterOpAndVal == "" {
				return nil, &Exception{Message: "String cannot be of zero length. (Parameter 'oldValue')"}
			}
			subFilters := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(filterValue, filterOpAndVal, ""), "(", ""), ")", "")
			filterValue = subFilters + filterOpAndVal
		}
		out = append(out, netFilterTerm(t, filterValue))
	}
	return out, nil
}

func netFilterTerm(t testing.TB, value string) Term {
	var filterSplits []string
	for _, s := range netSplit(t, netNegOp, value) {
		filterSplits = append(filterSplits, netTrim(s))
	}
	var term Term
	for _, n := range netSplit(t, netPipe, filterSplits[0]) {
		term.Names = append(term.Names, netTrim(n))
	}
	if len(filterSplits) > 2 {
		for _, match := range netMatches(t, netPosOp, filterSplits[2]) {
			filterSplits[2] = strings.ReplaceAll(filterSplits[2], `\`+match, match)
		}
		for _, v := range netSplit(t, netPipe, filterSplits[2]) {
			term.Values = append(term.Values, netUnEscape(t, v))
		}
	}
	m, err := netNegOp.FindStringMatch(value)
	require.NoError(t, err)
	if m != nil {
		term.Op = Op(m.String())
	}
	return term
}

func netUnEscape(t testing.TB, s string) string {
	for _, re := range []*regexp2.Regexp{netUnPipe, netUnBack} {
		var err error
		s, err = re.Replace(s, "$2", -1, -1)
		require.NoError(t, err)
	}
	return s
}

// netParseSorts is SieveModel.GetSortsParsed with SortTerm.
func netParseSorts(t testing.TB, sorts string) []Sort {
	var out []Sort
	for _, sort := range netSplit(t, netComma, sorts) {
		if netTrim(sort) == "" {
			continue
		}
		term := Sort{Name: sort}
		if strings.HasPrefix(sort, "-") {
			term = Sort{Name: sort[1:], Desc: true}
		}
		dup := false
		for _, s := range out {
			dup = dup || s.Name == term.Name
		}
		if !dup {
			out = append(out, term)
		}
	}
	return out
}

// hardFilters are inputs where a careless reading of Sieve goes wrong.
var hardFilters = []string{
	"", " ", ",", ",,", "a==1,", ", a==1", "a==1, ,b==2", "a==1,\t\u00a0b==2",
	"BillingState==TX,BillingCity==Houston",
	`A==x\,y`, `A==x\\,B==y`, `A==x\\\,y`, `\,A==x`, `A==\,`, `A==a\\\\,B==b`,
	"A|B@=x", " A | B @=* x ", "(A|B)@=x", "(A|B)==Smith (Jr)", "(A|B)==Pool (East) Co", "(A|B)", "(A==x", "A==x)",
	"(A|B)==x)(", " (A|B)==x", "a==1,(A|B)==x", "((A))==x", "(A|B)==x,(C)==y",
	"A==x|y", `A==x\|y`, `A==x\\|y`, `A==x\\\|y`, `\|A==x`, `A\|B==x`, "A==|", "A==||x",
	"A==a==b", "A==a!=b", `A==a\==b`, `A@=\== `, `A@=!\@=`, `A@=\_-=*`, `A==x!@=y`, `A==\!=`,
	"A!_-=*x", "A==*", "A", "==x", "A>=2024-01-01", "A<=-1", "A<>b", "A=>b", "A_-==x", "A__=x",
	"A==null", "A==NULL", `A==\null`, `A==\\null`, `A@=\NuLl`,
	`A==\`, `A==\\`, `A==\\\`, `A==x\`, `\\==x`, `A\==x`, `A\\==x`,
	"A==\u00e9t\u00e9", "A==日本", "A== x ", "A==x | y",
}

func TestParseFiltersAgreesWithDotNetRegex(t *testing.T) {
	for _, in := range hardFilters {
		got, gotErr := ParseFilters(in)
		want, wantErr := netParseFilters(t, in)
		assert.Equal(t, wantErr, gotErr, "%q", in)
		assert.Equal(t, want, got, "%q", in)
	}
	for _, in := range []string{"", "A,B", "-A, B", " -A", "A,-a,A", "A ,B", `A\,B`, "A,,B", "-"} {
		assert.Equal(t, netParseSorts(t, in), ParseSorts(in), "%q", in)
	}
}

// FuzzParseFiltersAgreesWithDotNet: on any input the hand-written parser
// reads what Sieve's regular expressions read. (regexp2 works on runes, so
// the input must be valid UTF-8; ASP.NET would have made it so.)
func FuzzParseFiltersAgreesWithDotNet(f *testing.F) {
	for _, s := range hardFilters {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || len(s) > 256 { // regexp2 backtracks on long runs of backslashes
			return
		}
		got, gotErr := ParseFilters(s)
		want, wantErr := netParseFilters(t, s)
		if (gotErr == nil) != (wantErr == nil) || !assert.ObjectsAreEqual(want, got) {
			t.Fatalf("%q: parsed %#v (%v), Sieve reads %#v (%v)", s, got, gotErr, want, wantErr)
		}
		if g, w := ParseSorts(s), netParseSorts(t, s); !assert.ObjectsAreEqual(w, g) {
			t.Fatalf("%q: sorts %#v, Sieve reads %#v", s, g, w)
		}
		// And what was read, written again by the builder, reads the same.
		for _, term := range got {
			if term.Op == "" {
				continue
			}
			f := Filter{Names: term.Names, Op: term.Op}
			for _, raw := range term.Values {
				if m := meaning(term.Op, raw); m == nullMeaning {
					f.Values = append(f.Values, Null)
				} else {
					f.Values = append(f.Values, Text(m))
				}
			}
			enc, err := EncodeFilters([]Filter{f})
			if err != nil {
				continue // names or values the builder refuses to write
			}
			if back, err := ParseFilters(enc); err != nil || !sameTerms(back, expand(f)) {
				t.Fatalf("%q read as %+v, written %q, reads back as %+v (%v)", s, term, enc, back, err)
			}
		}
	})
}
