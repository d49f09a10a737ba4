package sieve

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Sieve's own tests, ported: SieveUnitTests/General.cs and
// SieveUnitTests/StringFilterNullTests.cs at commit b73f748. Each case
// names the C# test it comes from. The entities and their mapping are those
// of SieveUnitTests/Entities and Services/ApplicationSieveProcessor.cs;
// the tests run with ThrowExceptions=true, so a case expecting rows also
// expects no exception.
//
// Not ported, because they exercise custom filter and sort methods, which
// Skimmer's documented search does not have: CustomFiltersWork,
// CustomGenericFiltersWork, CustomFiltersWithOperatorsWork,
// CustomFiltersMixedWithUsualWork1 and 2,
// CustomFiltersOnDifferentSourcesCanShareName, CustomSortsWork,
// CustomGenericSortsWork. Without such methods a name like theirs is
// unknown, and MethodNotFoundExceptionWork below covers that.

type comment struct {
	ID          int
	DateCreated time.Time
	Text        *string
	Author      *string
}

type post struct {
	ID                                int
	Title                             *string
	LikeCount, CommentCount           int64
	CategoryID                        *int64
	IsDraft                           bool
	DateCreated                       time.Time
	ThisHasNoAttributeButIsAccessible *string
	OnlySortableViaFluentApi          int64
	TopComment, FeaturedComment       *comment
}

func str(s string) *string { return &s }
func num(n int64) *int64   { return &n }

// postSchema is Post's [Sieve] attributes and the fluent mapping, one field
// per name Sieve registers (the mapper adds one entry per fluent call).
var postSchema = NewSchema(
	Field{Name: "Title", Kind: String, Sortable: true},
	Field{Name: "LikeCount", Kind: Int, Sortable: true},
	Field{Name: "CommentCount", Kind: Int, Sortable: true},
	Field{Name: "CategoryId", Kind: Int, Nullable: true, Sortable: true},
	Field{Name: "IsDraft", Kind: Bool, Sortable: true},
	Field{Name: "DateCreated", Kind: Time, Sortable: true},
	Field{Name: "shortname", Kind: String, Sortable: true},
	Field{Name: "TopComment.Text", Kind: String},
	Field{Name: "TopComment.Id", Kind: Int, Sortable: true, SortOnly: true},
	Field{Name: "OnlySortableViaFluentApi", Kind: Int, Sortable: true, SortOnly: true},
	Field{Name: "topc", Kind: String},
	Field{Name: "FeaturedComment.Text", Kind: String},
	Field{Name: "featc", Kind: String},
	Field{Name: "CreateDate", Kind: Time, Sortable: true, SortOnly: true},
)

func commentText(c *comment) Val {
	if c == nil {
		return Unreachable
	}
	return TextVal(c.Text)
}

var postProps = Props[post]{
	"Title":                    func(p *post) Val { return TextVal(p.Title) },
	"LikeCount":                func(p *post) Val { return IntVal(p.LikeCount) },
	"CommentCount":             func(p *post) Val { return IntVal(p.CommentCount) },
	"CategoryId":               func(p *post) Val { return nullableInt(p.CategoryID) },
	"IsDraft":                  func(p *post) Val { return BoolVal(p.IsDraft) },
	"DateCreated":              func(p *post) Val { return TimeVal(p.DateCreated) },
	"shortname":                func(p *post) Val { return TextVal(p.ThisHasNoAttributeButIsAccessible) },
	"TopComment.Text":          func(p *post) Val { return commentText(p.TopComment) },
	"TopComment.Id":            func(p *post) Val { return commentID(p.TopComment) },
	"OnlySortableViaFluentApi": func(p *post) Val { return IntVal(p.OnlySortableViaFluentApi) },
	"topc":                     func(p *post) Val { return commentText(p.TopComment) },
	"FeaturedComment.Text":     func(p *post) Val { return commentText(p.FeaturedComment) },
	"featc":                    func(p *post) Val { return commentText(p.FeaturedComment) },
	"CreateDate":               func(p *post) Val { return TimeVal(p.DateCreated) },
}

func nullableInt(n *int64) Val {
	if n == nil {
		return NullVal
	}
	return IntVal(*n)
}

func commentID(c *comment) Val {
	if c == nil {
		return Unreachable
	}
	return IntVal(int64(c.ID))
}

var commentSchema = NewSchema(
	Field{Name: "Text", Kind: String},
	Field{Name: "Author", Kind: String},
	Field{Name: "DateCreated", Kind: Time, Sortable: true},
)

var commentProps = Props[comment]{
	"Text":        func(c *comment) Val { return TextVal(c.Text) },
	"Author":      func(c *comment) Val { return TextVal(c.Author) },
	"DateCreated": func(c *comment) Val { return TimeVal(c.DateCreated) },
}

var (
	postProcessor = NewProcessor(postSchema, postProps, Options{})
	// General's _nullableProcessor: IgnoreNullsOnNotEqual = false.
	nullablePostProcessor = NewProcessor(postSchema, postProps, Options{KeepNullsOnNotEqual: true})
	commentProcessor      = NewProcessor(commentSchema, commentProps, Options{})
)

var now = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// generalPosts is General's _posts. DateCreated defaults to UtcNow when
// each is made, so later posts are newer.
func generalPosts() []*post {
	return []*post{
		{ID: 0, Title: str("A"), LikeCount: 100, IsDraft: true, CategoryID: nil, TopComment: &comment{ID: 0, Text: str("A1")}, FeaturedComment: &comment{ID: 4, Text: str("A2")}, DateCreated: now},
		{ID: 1, Title: str("B"), LikeCount: 50, IsDraft: false, CategoryID: num(1), TopComment: &comment{ID: 3, Text: str("B1")}, FeaturedComment: &comment{ID: 5, Text: str("B2")}, DateCreated: now.Add(time.Millisecond)},
		{ID: 2, Title: str("C"), LikeCount: 0, CategoryID: num(1), TopComment: &comment{ID: 2, Text: str("C1")}, FeaturedComment: &comment{ID: 6, Text: str("C2")}, DateCreated: now.Add(2 * time.Millisecond)},
		{ID: 3, Title: str("D"), LikeCount: 3, IsDraft: true, CategoryID: num(2), TopComment: &comment{ID: 1, Text: str("D1")}, FeaturedComment: &comment{ID: 7, Text: str("D2")}, DateCreated: now.Add(3 * time.Millisecond)},
		{ID: 4, Title: str("Yen"), LikeCount: 5, IsDraft: true, CategoryID: num(5), TopComment: &comment{ID: 4, Text: str("Yen3")}, FeaturedComment: &comment{ID: 8, Text: str("Yen4")}, DateCreated: now.Add(4 * time.Millisecond)},
	}
}

// generalComments is General's _comments.
func generalComments() []*comment {
	return []*comment{
		{ID: 0, DateCreated: now.AddDate(0, 0, -20), Text: str("This is an old comment.")},
		{ID: 1, DateCreated: now.AddDate(0, 0, -1), Text: str("This is a fairly new comment.")},
		{ID: 2, DateCreated: now, Text: str("This is a brand new comment. (Text in braces, comma separated)")},
	}
}

// nullComments is StringFilterNullTests' _comments.
func nullComments() []*comment {
	return []*comment{
		{ID: 0, DateCreated: now, Text: str("This text contains null somewhere in the middle of a string"), Author: str("Dog")},
		{ID: 1, DateCreated: now, Text: str("null is here twice in the text ending by null"), Author: str("Cat")},
		{ID: 2, DateCreated: now, Text: str("Regular comment without n*ll"), Author: str("Mouse")},
		{ID: 100, DateCreated: now, Text: nil, Author: str("null")},
	}
}

func postIDs(t *testing.T, p *Processor[post], m Model, posts []*post) []int {
	t.Helper()
	res := p.Apply(m, posts)
	require.NoError(t, res.Err, "ThrowExceptions=true: %+v", m)
	ids := []int{}
	for _, r := range res.Rows {
		ids = append(ids, r.ID)
	}
	return ids
}

func commentIDs(t *testing.T, m Model, comments []*comment) []int {
	t.Helper()
	res := commentProcessor.Apply(m, comments)
	require.NoError(t, res.Err, "ThrowExceptions=true: %+v", m)
	ids := []int{}
	for _, r := range res.Rows {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestGeneralPosts(t *testing.T) {
	tests := []struct {
		from  string // the C# test
		model Model
		want  []int
	}{
		{"ContainsCanBeCaseInsensitive", Model{Filters: "Title@=*a"}, []int{0}},
		{"NotEqualsCanBeCaseInsensitive", Model{Filters: "Title!=*a"}, []int{1, 2, 3, 4}},
		{"EndsWithWorks", Model{Filters: "Title_-=n"}, []int{4}},
		{"EndsWithCanBeCaseInsensitive", Model{Filters: "Title_-=*N"}, []int{4}},
		{"ContainsIsCaseSensitive", Model{Filters: "Title@=a"}, []int{}},
		{"NotContainsWorks", Model{Filters: "Title!@=D"}, []int{0, 1, 2, 4}},
		{"CanFilterBools", Model{Filters: "IsDraft==false"}, []int{1, 2}},
		{"CanSortBools", Model{Sorts: "-IsDraft"}, []int{0, 3, 4, 1, 2}},
		{"CanFilterNullableInts", Model{Filters: "CategoryId==1"}, []int{1, 2}},
		{"CanFilterNullableIntsWithNotEqual", Model{Filters: "CategoryId!=1"}, []int{3, 4}},
		{"EqualsDoesntFailWithNonStringTypes", Model{Filters: "LikeCount==50"}, []int{1}},
		{"OrNameFilteringWorks", Model{Filters: "(Title|LikeCount)==3"}, []int{3}},
		{"CombinedAndOrFilterIndependentOfOrder", Model{Filters: "CategoryId==1,(CategoryId|LikeCount)==50"}, []int{1}},
		{"CombinedAndOrFilterIndependentOfOrder", Model{Filters: "(CategoryId|LikeCount)==50,CategoryId==1"}, []int{1}},
		{"CombinedAndOrWithSpaceFilteringWorks", Model{Filters: "Title==D, (Title|LikeCount)==3"}, []int{3}},
		{"OrValueFilteringWorks", Model{Filters: "Title==C|D"}, []int{2, 3}},
		{"NestedFilteringWorks", Model{Filters: "TopComment.Text!@=A"}, []int{1, 2, 3, 4}},
		{"NestedSortingWorks", Model{Sorts: "TopComment.Id"}, []int{0, 3, 2, 1, 4}},
		{"NestedFilteringWithIdenticTypesWorks", Model{Filters: "(topc|featc)@=*2"}, []int{0, 1, 2, 3}},
		{"NestedFilteringWithIdenticTypesWorks", Model{Filters: "(topc|featc)@=*B"}, []int{1}},
		{"BaseDefinedPropertyMappingSortingWorks_WithCustomName", Model{Sorts: "-CreateDate"}, []int{4, 3, 2, 1, 0}},
		{"CanFilterWithEscape", Model{Filters: "CategoryId==1,(CategoryId|LikeCount)==50"}, []int{1}},
		{"CanFilterWithEscape", Model{Filters: "(CategoryId|LikeCount)==50,CategoryId==1"}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.from+"/"+tt.model.Filters+tt.model.Sorts, func(t *testing.T) {
			assert.Equal(t, tt.want, postIDs(t, postProcessor, tt.model, generalPosts()))
		})
	}

	t.Run("CanFilterNullableIntsWithNotEqual/_nullableProcessor", func(t *testing.T) {
		assert.Equal(t, []int{0, 3, 4}, postIDs(t, nullablePostProcessor, Model{Filters: "CategoryId!=1"}, generalPosts()))
	})
	t.Run("CanFilterNullableInts/_nullableProcessor", func(t *testing.T) {
		assert.Equal(t, []int{1, 2}, postIDs(t, nullablePostProcessor, Model{Filters: "CategoryId==1"}, generalPosts()))
	})
}

func TestGeneralExceptions(t *testing.T) {
	for _, tt := range []struct{ from, filters string }{
		{"MethodNotFoundExceptionWork", "does not exist"},
		{"IncompatibleMethodExceptionsWork", "TestComment"}, // without custom methods, an unknown name
	} {
		t.Run(tt.from, func(t *testing.T) {
			res := postProcessor.Apply(Model{Filters: tt.filters}, generalPosts())
			var ex *Exception
			require.ErrorAs(t, res.Err, &ex)
			assert.Equal(t, tt.filters+" not found.", ex.Message)
		})
	}
}

func TestGeneralNulls(t *testing.T) {
	t.Run("FilteringNullsWorks", func(t *testing.T) {
		posts := []*post{{ID: 1, Title: nil, LikeCount: 0, IsDraft: false}}
		assert.Equal(t, []int{}, postIDs(t, postProcessor, Model{Filters: "FeaturedComment.Text!@=Some value"}, posts))
	})
	t.Run("SortingNullsWorks", func(t *testing.T) {
		posts := []*post{
			{ID: 1, TopComment: &comment{ID: 1}},
			{ID: 2},
		}
		assert.Equal(t, []int{2, 1}, postIDs(t, postProcessor, Model{Sorts: "TopComment.Id"}, posts))
	})
	t.Run("FilteringOnNullWorks", func(t *testing.T) {
		posts := []*post{
			{ID: 1},
			{ID: 2, FeaturedComment: &comment{ID: 1, Text: nil}},
		}
		assert.Equal(t, []int{2}, postIDs(t, postProcessor, Model{Filters: "FeaturedComment.Text==null"}, posts))
	})
}

func TestGeneralComments(t *testing.T) {
	tests := []struct {
		from    string
		filters string
		rows    func() []*comment
		want    []int
	}{
		{"CanFilterWithEscapedComma", `Text@=*\,`, generalComments, []int{2}},
		{"CanFilterWithEscapedComma", `Text@=*\, `, generalComments, []int{2}},
		{"CanFilterWithEscapedComma", `Text@=*braces\,`, generalComments, []int{2}},
		{"CanFilterWithEscapedComma", `Text@=*braces\, comma`, generalComments, []int{2}},
		{"OrValueFilteringWorks2", "Text@=(|)", generalComments, []int{2}},
		{"CanFilter_WithEscapeCharacter", `Text==Here is\, another comment`, func() []*comment {
			return []*comment{
				{ID: 0, Text: str("Here is, a comment")},
				{ID: 1, Text: str("Here is, another comment")},
			}
		}, []int{1}},
		{"OrEscapedPipeValueFilteringWorks", `Text==Here is \| a comment|Here is \| another comment|Here is \\\| another comment(1)`, func() []*comment {
			return []*comment{
				{ID: 0, Text: str("Here is | a comment")},
				{ID: 1, Text: str("Here is | another comment")},
				{ID: 2, Text: str(`Here is \| another comment(1)`)},
			}
		}, []int{0, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.from+"/"+tt.filters, func(t *testing.T) {
			assert.Equal(t, tt.want, commentIDs(t, Model{Filters: tt.filters}, tt.rows()))
		})
	}
}

func TestGeneralEscapes(t *testing.T) {
	t.Run("CanFilterWithEscapedBackSlash", func(t *testing.T) {
		posts := []*post{{ID: 1, Title: str(`E\`), LikeCount: 4, IsDraft: true, CategoryID: num(1)}}
		assert.Equal(t, []int{1}, postIDs(t, postProcessor, Model{Filters: `Title@=\\`}, posts))
	})
	title := `Operators: == != > < >= <= @= _= _-= !@= !_= !_-= @=* _=* ==* !=* !@=* !_=* !_-=* `
	for _, filter := range []string{
		`Title@=\== `, `Title@=\!= `, `Title@=\> `, `Title@=\< `, `Title@=\<= `, `Title@=\>= `,
		`Title@=\@= `, `Title@=\_= `, `Title@=\_-= `, `Title@=!\@= `, `Title@=!\_= `, `Title@=!\_-= `,
		`Title@=\@=* `, `Title@=\_=* `, `Title@=\_-=* `, `Title@=\==* `, `Title@=\!=* `, `Title@=!\@=* `,
	} {
		t.Run("CanFilterWithEscapedOperators/"+filter, func(t *testing.T) {
			posts := []*post{{ID: 1, Title: str(title), LikeCount: 1, IsDraft: true, CategoryID: num(1)}}
			assert.Equal(t, []int{1}, postIDs(t, postProcessor, Model{Filters: filter}, posts))
		})
	}
}

func TestStringFilterNullTests(t *testing.T) {
	tests := []struct {
		from    string
		filters []string
		want    []int
	}{
		{"Filter_Equals_Null", []string{"Text==null", "Text==*null"}, []int{100}},
		{"Filter_NotEquals_Null", []string{"Text!=null", "Text!=*null"}, []int{0, 1, 2}},
		{"Filter_Contains_NullString", []string{"Text@=null", "Text@=*null", "Text@=*NULL", "Text@=*NulL", "Text@=*null|text"}, []int{0, 1}},
		{"MultiFilter_Contains_NullString", []string{"Text|Author==null"}, []int{100}},
		{"MultiFilter_Contains_NullString", []string{"Text|Author@=null", "Text|Author@=*null"}, []int{0, 1, 100}},
		{"MultiFilter_Contains_NullString", []string{"Text|Author_=null", "Text|Author_=*null"}, []int{1, 100}},
		{"SingleFilter_Equals_NullStringEscaped", []string{`Author==\null`, `Author==*\null`, `Author==*\NuLl`}, []int{100}},
		{"SingleFilter_Equals_NullStringEscaped", []string{`Author!=*\null`, `Author!=*\NulL`, `Author!=\null`}, []int{0, 1, 2}},
		{"Filter_StartsWith_NullString", []string{"Text_=null", "Text_=*null", "Text_=*NULL", "Text_=*NulL", "Text_=*null|text"}, []int{1}},
		{"Filter_EndsWith_NullString", []string{"Text_-=null", "Text_-=*null", "Text_-=*NULL", "Text_-=*NulL", "Text_-=*null|text"}, []int{1}},
		{"Filter_DoesNotContain_NullString", []string{"Text!@=null", "Text!@=*null", "Text!@=*NULL", "Text!@=*NulL", "Text!@=*null|text"}, []int{2}},
		{"Filter_DoesNotStartsWith_NullString", []string{"Text!_=null", "Text!_=*null", "Text!_=*NULL", "Text!_=*NulL"}, []int{0, 2}},
		{"Filter_DoesNotEndsWith_NullString", []string{"Text!_-=null", "Text!_-=*null", "Text!_-=*NULL", "Text!_-=*NulL"}, []int{0, 2}},
	}
	for _, tt := range tests {
		for _, f := range tt.filters {
			t.Run(tt.from+"/"+f, func(t *testing.T) {
				assert.Equal(t, tt.want, commentIDs(t, Model{Filters: f}, nullComments()))
			})
		}
	}
}
