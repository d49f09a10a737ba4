package sieve

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// row is a record with a property of every kind, nullable or not.
type row struct {
	ID        int
	Text      *string
	Flag      bool
	MaybeFlag *bool
	When      time.Time
	MaybeWhen *time.Time
	Count     int64
}

var rowSchema = NewSchema(
	Field{Name: "Text", Kind: String, Sortable: true},
	Field{Name: "Other", Kind: String},
	Field{Name: "Flag", Kind: Bool},
	Field{Name: "MaybeFlag", Kind: Bool, Nullable: true},
	Field{Name: "When", Kind: Time, Sortable: true},
	Field{Name: "MaybeWhen", Kind: Time, Nullable: true},
	Field{Name: "Count", Kind: Int, Sortable: true},
)

var rowProps = Props[row]{
	"Text":  func(r *row) Val { return TextVal(r.Text) },
	"Other": func(r *row) Val { return TextVal(r.Text) },
	"Flag":  func(r *row) Val { return BoolVal(r.Flag) },
	"MaybeFlag": func(r *row) Val {
		if r.MaybeFlag == nil {
			return NullVal
		}
		return BoolVal(*r.MaybeFlag)
	},
	"When": func(r *row) Val { return TimeVal(r.When) },
	"MaybeWhen": func(r *row) Val {
		if r.MaybeWhen == nil {
			return NullVal
		}
		return TimeVal(*r.MaybeWhen)
	},
	"Count": func(r *row) Val { return IntVal(r.Count) },
}

func rows() []*row {
	return []*row{
		{ID: 0, Text: str("Smith (Jr)"), Flag: true, When: now, Count: 3},
		{ID: 1, Text: str("Pool (East) Co"), When: now.Add(time.Hour), Count: 1},
		{ID: 2, Text: str("AAA and BBB"), When: now.Add(2 * time.Hour), Count: 2},
		{ID: 3, Text: str("only AAA"), When: now.Add(3 * time.Hour), Count: 5},
		{ID: 4, Text: nil, When: now.Add(4 * time.Hour), Count: 4},
	}
}

func ids(rs []*row) []int {
	out := []int{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestApplyAnswersAsSieve(t *testing.T) {
	p := NewProcessor(rowSchema, rowProps, Options{})
	tests := []struct {
		name  string
		model Model
		want  []int
	}{
		// Sieve ORs the negated pairs: lacks AAA, or lacks BBB.
		{"negated, several values", Model{Filters: "Text!@=AAA|BBB"}, []int{0, 1, 3}},
		{"negated, one term per value", Model{Filters: "Text!@=AAA,Text!@=BBB"}, []int{0, 1}},
		{"not equal, several values: nearly everything", Model{Filters: "Text!=Smith (Jr)|only AAA"}, []int{0, 1, 2, 3}},
		{"a value with parentheses, names without", Model{Filters: "Text|Other==Smith (Jr)"}, []int{0}},
		// "(Text|Other)==Pool (East) Co" is cut at its last ")": the value
		// read is "Pool East Co", which matches nothing.
		{"a value with parentheses, names in them", Model{Filters: "(Text|Other)==Pool (East) Co"}, []int{}},
		{"empty terms skipped", Model{Filters: "Count>=2,,Count<5,"}, []int{0, 2, 4}},
		{"a bare known name skipped", Model{Filters: "Text,Count==1"}, []int{1}},
		{"names of different types ORed", Model{Filters: "Text|Count==2"}, []int{2}},
		{"the text Null after starts-with", Model{Filters: "Text_=Null"}, []int{}},
		{"null after ==", Model{Filters: "Text==NULL"}, []int{4}},
		{"null on a nullable bool", Model{Filters: "MaybeFlag==null"}, []int{0, 1, 2, 3, 4}},
		{"nulls never match a value, even negated", Model{Filters: "Text!@=zzz"}, []int{0, 1, 2, 3}},
		{"dates ordered", Model{Filters: "When>" + now.Add(90*time.Minute).Format(time.RFC3339)}, []int{2, 3, 4}},
		{"sorted", Model{Sorts: "-Count"}, []int{3, 4, 0, 2, 1}},
		{"text sorted, nulls first", Model{Sorts: "Text"}, []int{4, 2, 1, 0, 3}},
		{"duplicate sort in another case is kept, and changes nothing", Model{Sorts: "Count,-count"}, []int{1, 2, 0, 4, 3}},
		{"paged", Model{Sorts: "Count", Page: 2, PageSize: 2}, []int{0, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := p.Apply(tt.model, rows())
			require.NoError(t, res.Err)
			assert.Equal(t, tt.want, ids(res.Rows))
		})
	}
}

func TestApplyFailsAsSieve(t *testing.T) {
	p := NewProcessor(rowSchema, rowProps, Options{DefaultPageSize: 2})
	tests := []struct {
		name    string
		model   Model
		message string
		rows    []int // what ThrowExceptions=false returns
		total   int
	}{
		{"text ordered", Model{Filters: "Text>M", Sorts: "Count"}, "The binary operator GreaterThan is not defined for the types 'System.String' and 'System.String'.", []int{0, 1, 2, 3, 4}, 5},
		{"bool ordered", Model{Filters: "Flag<=true"}, "The binary operator LessThanOrEqual is not defined", []int{0, 1, 2, 3, 4}, 5},
		{"null on a bool", Model{Filters: "Flag==null"}, "Argument types do not match", []int{0, 1, 2, 3, 4}, 5},
		{"null on a date", Model{Filters: "When!=NULL"}, "Argument types do not match", []int{0, 1, 2, 3, 4}, 5},
		{"null as text on a bool", Model{Filters: "Flag==maybe"}, "maybe is not a valid value for Boolean.", []int{0, 1, 2, 3, 4}, 5},
		{"case-blind on a date", Model{Filters: "When==*2024-05-01"}, "cannot be called with instance of type 'System.DateTime'", []int{0, 1, 2, 3, 4}, 5},
		{"contains on a number", Model{Filters: "Count@=1"}, "Method 'Boolean Contains(System.String)'", []int{0, 1, 2, 3, 4}, 5},
		{"unknown name", Model{Filters: "Count==1,Shoe==x"}, "Shoe not found.", []int{0, 1, 2, 3, 4}, 5},
		{"a bare unknown name", Model{Filters: "Shoe"}, "Shoe not found.", []int{0, 1, 2, 3, 4}, 5},
		{"parenthesis last", Model{Filters: "(Text|Other)==Smith (Jr)"}, "String cannot be of zero length", []int{0, 1, 2, 3, 4}, 5},
		// A failing sort leaves the rows filtered, but unsorted and unpaged.
		{"unknown sort", Model{Filters: "Count>=2", Sorts: "Count,Shoe"}, "Shoe not found.", []int{0, 2, 3, 4}, 4},
		{"sort names are not trimmed", Model{Sorts: " -Count"}, " -Count not found.", []int{0, 1, 2, 3, 4}, 5},
		{"unsortable", Model{Sorts: "Other"}, "Other not found.", []int{0, 1, 2, 3, 4}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := p.Apply(tt.model, rows())
			var ex *Exception
			require.ErrorAs(t, res.Err, &ex)
			assert.Contains(t, ex.Message, tt.message)
			assert.Equal(t, tt.rows, ids(res.Rows))
			assert.Equal(t, tt.total, res.Total)
		})
	}
}

func TestPagingAsSieve(t *testing.T) {
	many := make([]*row, 300)
	for i := range many {
		many[i] = &row{ID: i}
	}
	capped := NewProcessor(rowSchema, rowProps, Options{MaxPageSize: 100})
	// Skip (page-1)*pageSize with the size asked for, then cap the take.
	res := capped.Apply(Model{Page: 2, PageSize: 150}, many)
	require.Len(t, res.Rows, 100)
	assert.Equal(t, 150, res.Rows[0].ID)
	assert.Equal(t, 300, res.Total)

	// No page size and no default: no paging.
	assert.Len(t, capped.Apply(Model{}, many).Rows, 300)
	// A skip past 32 bits wraps negative, and LINQ skips nothing.
	res = capped.Apply(Model{Page: 100_000_000, PageSize: 25}, many)
	require.Len(t, res.Rows, 25)
	assert.Equal(t, 0, res.Rows[0].ID)
	assert.Empty(t, capped.Apply(Model{Page: 13, PageSize: 25}, many).Rows, "past the end")
}

func TestTolerantCollationNeverRejectsWhatADatabaseMightMatch(t *testing.T) {
	p := NewProcessor(rowSchema, rowProps, Options{})
	tests := []struct {
		filters string
		text    string
		when    time.Time
		ok      bool
	}{
		{"Text==smith", "SMITH", now, true},                     // a case-insensitive collation
		{"Text==smith", "smith  ", now, true},                   // trailing spaces are padding to SQL
		{"Text==jose", "José", now, true},                       // an accent-insensitive one
		{"Text@=ab", "xABx", now, true},                         // contains, any case
		{"Text==smith", "Jones", now, false},                    // certainly not
		{"Text_=sm", "Jones", now, false},                       // certainly not
		{"Text!@=smith", "Mr Smith", now, false},                // certainly not
		{"Text!=*smith", "SMITH", now, false},                   // certainly not
		{"When>=2024-05-02", "", now.Add(-3 * time.Hour), true}, // a time zone away
		{"When>=2024-05-02", "", now.AddDate(0, 0, -3), false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s on %q", tt.filters, tt.text), func(t *testing.T) {
			tolerant, err := p.Compile(tt.filters, Tolerant)
			require.NoError(t, err)
			r := &row{Text: &tt.text, When: tt.when}
			assert.Equal(t, tt.ok, tolerant.Match(r))
			if !tt.ok {
				assert.Equal(t, 0, tolerant.Violated(r))
			}
		})
	}
	// A property the record does not carry cannot be decided.
	unknownProps := Props[row]{}
	for k, v := range rowProps {
		unknownProps[k] = v
	}
	unknownProps["Text"] = func(*row) Val { return Unknown }
	pred, err := NewProcessor(rowSchema, unknownProps, Options{}).Compile("Text==x", Tolerant)
	require.NoError(t, err)
	assert.True(t, pred.Match(&row{}))
}

func TestNewProcessorPanicsOnMismatch(t *testing.T) {
	assert.Panics(t, func() { NewProcessor(rowSchema, Props[row]{"Text": rowProps["Text"]}, Options{}) })
	extra := Props[row]{"Shoe": rowProps["Text"]}
	for k, v := range rowProps {
		extra[k] = v
	}
	assert.Panics(t, func() { NewProcessor(rowSchema, extra, Options{}) })
}

// FuzzTextHoldsUpperCasesLikeToUpper: the case-blind operators, which
// upper-case rune by rune without allocating, agree with upper-casing both
// strings whole, as .NET's ToUpper does.
func FuzzTextHoldsUpperCasesLikeToUpper(f *testing.F) {
	for _, s := range [][2]string{{"Smith", "mit"}, {"ſmith", "SM"}, {"ſ", "s"}, {"KELVIN", "k"}, {"straße", "SSE"}, {"ıi", "II"}, {"日本語", "本"}, {"", ""}, {"abc", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, got, want string) {
		if !utf8.ValidString(got) || !utf8.ValidString(want) {
			return
		}
		g, w := strings.ToUpper(got), strings.ToUpper(want)
		for op, ref := range map[Op]bool{
			Equals: g == w, NotEquals: g != w, Contains: strings.Contains(g, w),
			StartsWith: strings.HasPrefix(g, w), EndsWith: strings.HasSuffix(g, w),
		} {
			if textHolds(op, got, w, true) != ref {
				t.Fatalf("%q %s* %q: %v, upper-cased whole: %v", got, op, want, !ref, ref)
			}
		}
	})
}
