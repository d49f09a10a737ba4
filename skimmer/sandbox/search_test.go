package sandbox

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sieve"
)

// searchFixture is four customers made one minute apart:
//
//	Ann   Smith  Houston TX  ann@example.com
//	bob   SMITH  Phoenix AZ  (no email)          inactive
//	Carla Jones  Austin  TX  company "Smith, Jones|Partners==Co"
//	Dan   (null) (null)      company "Null Pools"
func searchFixture(t *testing.T, opts Options) *Server {
	opts.Customers = -1
	s, clock := newTest(t, opts)
	for _, c := range []map[string]any{
		{"firstName": "Ann", "lastName": "Smith", "billingCity": "Houston", "billingState": "TX", "primaryEmail": "ann@example.com"},
		{"firstName": "bob", "lastName": "SMITH", "billingCity": "Phoenix", "billingState": "AZ"},
		{"firstName": "Carla", "lastName": "Jones", "billingCity": "Austin", "billingState": "TX", "companyName": "Smith, Jones|Partners==Co"},
		{"firstName": "Dan", "companyName": "Null Pools"},
	} {
		clock.Advance(time.Minute)
		w := call(t, s, "POST", "/Customers", "k", c)
		require.Equal(t, 201, w.Code, w.Body.String())
	}
	bob := s.store.customers()[1]
	w := call(t, s, "POST", "/Customers/Deactivate", "k", skimmer.DeactivateCustomersRequest{IDs: []string{bob.ID}})
	require.Equal(t, http.StatusNoContent, w.Code)
	return s
}

type page struct {
	Items      []skimmer.Customer `json:"items"`
	Page       int                `json:"page"`
	PageSize   int                `json:"pageSize"`
	TotalCount int                `json:"totalCount"`
}

func search(t *testing.T, s *Server, params url.Values) (*page, int) {
	t.Helper()
	w := call(t, s, "GET", "/Customers/Search?"+params.Encode(), "k", nil)
	if w.Code != 200 {
		return nil, w.Code
	}
	p := decode[page](t, w)
	return &p, w.Code
}

func namesOf(p *page) []string {
	names := []string{}
	for _, c := range p.Items {
		names = append(names, *c.FirstName)
	}
	return names
}

func TestSieveSemantics(t *testing.T) {
	s := searchFixture(t, Options{})
	t0 := epoch.Format(time.RFC3339)
	tests := []struct {
		filters string
		want    []string
	}{
		{"", []string{"Ann", "bob", "Carla", "Dan"}},
		{"LastName==Smith", []string{"Ann"}},
		{"lastname==Smith", []string{"Ann"}}, // names in any case
		{"LastName==*smith", []string{"Ann", "bob"}},
		{"LastName!=Smith", []string{"bob", "Carla"}}, // Dan's null never matches, even !=
		{"LastName!=*smith", []string{"Carla"}},
		{"LastName==null", []string{"Dan"}},
		{"LastName!=null", []string{"Ann", "bob", "Carla"}},
		{"FirstName@=a", []string{"Carla", "Dan"}},
		{"FirstName@=*a", []string{"Ann", "Carla", "Dan"}},
		{"FirstName_=b", []string{"bob"}},
		{"FirstName_=*B", []string{"bob"}},
		{"FirstName_-=n", []string{"Ann", "Dan"}},
		{"FirstName_-=*N", []string{"Ann", "Dan"}},
		{"FirstName!@=*a", []string{"bob"}},
		{"FirstName!_=*a", []string{"bob", "Carla", "Dan"}},
		{"FirstName!_-=n", []string{"bob", "Carla"}},
		{"FirstName!_=Annabelle", []string{"Ann", "bob", "Carla", "Dan"}}, // too short to start with it
		{"FirstName!_-=*xCarla", []string{"Ann", "bob", "Carla", "Dan"}},  // too short to end with it
		{"FirstName_=Annabelle", []string{}},
		// Sieve ORs the pairs of a negated term: "lacks nn, or lacks ob".
		{"FirstName!@=*nn|ob", []string{"Ann", "bob", "Carla", "Dan"}},
		{"CompanyName!@=Smith|Null", []string{"Carla", "Dan"}},
		{"CompanyName!@=Smith,CompanyName!@=Null", []string{}}, // neither: one term each
		{"(FirstName|LastName)@=*jones", []string{"Carla"}},
		{"LastName|CompanyName@=*smith", []string{"Ann", "bob", "Carla"}},
		{"BillingState==TX|AZ", []string{"Ann", "bob", "Carla"}},
		{"BillingState==TX,BillingCity==Houston", []string{"Ann"}},
		{`CompanyName==Smith\, Jones\|Partners\==Co`, []string{"Carla"}},
		{"CompanyName_=*null", []string{"Dan"}}, // null is text for operators other than == and !=
		{"CompanyName_=Null", []string{"Dan"}},  // the text "Null", as written
		{"LastName_=Null", []string{}},          // not the keyword: no last name starts with "Null"
		{`CompanyName_=\null`, []string{}},      // the text "null", case-sensitive
		{`CompanyName_=*\null`, []string{"Dan"}},
		{"PrimaryEmail_-=@example.com", []string{"Ann"}},
		{"FirstName==Ann==Zed", []string{"Ann"}}, // the server drops what follows a second operator
		{"IsInactive==true", []string{"bob"}},
		{"isinactive==FALSE", []string{"Ann", "Carla", "Dan"}},
		{"Deleted==false", []string{"Ann", "bob", "Carla", "Dan"}},
		{"CreatedAt>" + epoch.Add(2*time.Minute).Format(time.RFC3339), []string{"Carla", "Dan"}},
		{"CreatedAt>=" + epoch.Add(2*time.Minute).Format(time.RFC3339), []string{"bob", "Carla", "Dan"}},
		{"CreatedAt<" + epoch.Add(2*time.Minute).Format(time.RFC3339), []string{"Ann"}},
		{"CreatedAt<=" + t0[:10], []string{}},
		// Where the sandbox used to be stricter than Sieve.
		{"BillingState==TX,", []string{"Ann", "Carla"}},                                          // an empty term is skipped
		{"FirstName,BillingState==AZ", []string{"bob"}},                                          // so is a known name with no operator
		{"FirstName|CreatedAt==" + epoch.Add(time.Minute).Format(time.RFC3339), []string{"Ann"}}, // each name reads the value as its type
	}
	for _, tt := range tests {
		t.Run(tt.filters, func(t *testing.T) {
			p, code := search(t, s, url.Values{"filters": {tt.filters}, "pageSize": {"50"}})
			require.Equal(t, 200, code)
			assert.Equal(t, tt.want, namesOf(p))
			assert.Equal(t, len(tt.want), p.TotalCount)
			assert.Empty(t, s.Requests()[len(s.Requests())-1].SieveError)
		})
	}
}

// TestParenthesesInAValue: Sieve cuts a term starting with "(" at its last
// ")" and deletes every parenthesis before it, so the builder leaves names
// unbracketed.
func TestParenthesesInAValue(t *testing.T) {
	s := searchFixture(t, Options{SieveErrors: SieveThrow})
	w := call(t, s, "POST", "/Customers", "k", map[string]any{"firstName": "Eve", "companyName": "Pool (East) Co"})
	require.Equal(t, 201, w.Code)

	p, code := search(t, s, url.Values{"filters": {"LastName|CompanyName==Pool (East) Co"}})
	require.Equal(t, 200, code)
	assert.Equal(t, []string{"Eve"}, namesOf(p))
	// Read as LastName|CompanyName==Pool East Co: no error, and no match.
	p, code = search(t, s, url.Values{"filters": {"(LastName|CompanyName)==Pool (East) Co"}})
	require.Equal(t, 200, code)
	assert.Empty(t, p.Items)
	// Nothing after the last ")": Sieve throws.
	_, code = search(t, s, url.Values{"filters": {"(LastName|CompanyName)==Smith (Jr)"}})
	assert.Equal(t, 400, code)
}

func TestSieveSortsAndPaging(t *testing.T) {
	s := searchFixture(t, Options{})
	tests := []struct {
		sorts string
		want  []string
	}{
		{"BillingState,-FirstName", []string{"Dan", "bob", "Carla", "Ann"}}, // null state first
		{"-BillingState,FirstName", []string{"Ann", "Carla", "bob", "Dan"}},
		{"-CreatedAt", []string{"Dan", "Carla", "bob", "Ann"}},
		{"LastName,-LastName", []string{"Dan", "Jones", "SMITH", "Smith"}}, // the first mention decides
		{"lastname", []string{"Dan", "Jones", "SMITH", "Smith"}},
		{"LastName, -CreatedAt", []string{"Dan", "Jones", "SMITH", "Smith"}}, // the space after a comma goes with it
	}
	for _, tt := range tests {
		t.Run(tt.sorts, func(t *testing.T) {
			p, code := search(t, s, url.Values{"sorts": {tt.sorts}, "pageSize": {"10"}})
			require.Equal(t, 200, code)
			got := []string{}
			for _, c := range p.Items {
				if tt.want[1] == "Jones" {
					got = append(got, deref(c.LastName, *c.FirstName))
				} else {
					got = append(got, *c.FirstName)
				}
			}
			assert.Equal(t, tt.want, got)
		})
	}

	p, _ := search(t, s, url.Values{"sorts": {"FirstName"}, "page": {"2"}, "pageSize": {"3"}})
	assert.Equal(t, []string{"bob"}, namesOf(p), "ordinal order: Ann Carla Dan bob")
	assert.Equal(t, 4, p.TotalCount)
	assert.Equal(t, 2, p.Page)
	assert.Equal(t, 3, p.PageSize)

	p, _ = search(t, s, url.Values{"page": {"9"}, "pageSize": {"3"}})
	assert.Empty(t, p.Items, "past the end is an empty page, not an error")
	assert.Equal(t, 4, p.TotalCount)

	p, _ = search(t, s, url.Values{})
	assert.Equal(t, defaultPageSize, p.PageSize)

	capped := searchFixture(t, Options{MaxPageSize: 2})
	p, _ = search(t, capped, url.Values{"pageSize": {"50"}})
	assert.Len(t, p.Items, 2, "page size is capped")
	assert.Equal(t, 2, p.PageSize)
	// Sieve skips (page-1)*pageSize with the size asked for, then caps the
	// take: page 2 of 3 starts at the fourth customer, not the third.
	p, _ = search(t, capped, url.Values{"sorts": {"FirstName"}, "page": {"2"}, "pageSize": {"3"}})
	assert.Equal(t, []string{"bob"}, namesOf(p))
	// Past 32 bits the skip wraps negative, and nothing is skipped.
	p, _ = search(t, s, url.Values{"page": {"100000000"}, "pageSize": {"25"}})
	assert.Len(t, p.Items, 4)
}

func deref(s *string, alt string) string {
	if s == nil {
		return alt
	}
	return *s
}

// failing are searches on which Sieve throws.
var failing = []url.Values{
	{"filters": {"Shoe==x"}},
	{"filters": {"Shoe"}},        // a bare unknown name
	{"filters": {"Notes@=pool"}}, // a real field, but not searchable
	{"filters": {"FirstName>C"}}, // text has no order
	{"filters": {"LastName<=M"}}, //
	{"filters": {"IsInactive>false"}},
	{"filters": {"IsInactive@=tr"}},
	{"filters": {"IsInactive==maybe"}},
	{"filters": {"IsInactive==null"}}, // never null
	{"filters": {"CreatedAt!=null"}},
	{"filters": {"CreatedAt==*2024-01-01"}},
	{"filters": {"CreatedAt>yesterday"}},
	{"filters": {"(FirstName|LastName)==Smith (Jr)"}},
	{"sorts": {"PrimaryEmail"}},
	{"sorts": {" -LastName"}}, // sort names are not trimmed
}

// TestSieveThrowMode: a search Sieve cannot apply is a 400 that names what
// it threw.
func TestSieveThrowMode(t *testing.T) {
	s := searchFixture(t, Options{SieveErrors: SieveThrow})
	for _, params := range failing {
		t.Run(params.Encode(), func(t *testing.T) {
			w := call(t, s, "GET", "/Customers/Search?"+params.Encode(), "k", nil)
			require.Equal(t, 400, w.Code)
			body := decode[problemBody](t, w)
			assert.Equal(t, "Invalid search query", body.Title)
			assert.NotEmpty(t, body.Detail)
			assert.Equal(t, "sieve: "+body.Detail, s.Requests()[len(s.Requests())-1].SieveError)
		})
	}
	w := call(t, s, "GET", "/Customers/Search?filters=Notes@=pool", "k", nil)
	assert.Equal(t, "Notes not found.", decode[problemBody](t, w).Detail)
}

// TestSieveSilentMode: Sieve's default. A failed filter answers 200 with
// every customer, unsorted and unpaged; a failed sort with the filtered
// customers, unsorted and unpaged. The request record says what failed.
func TestSieveSilentMode(t *testing.T) {
	s := searchFixture(t, Options{})
	assert.Equal(t, SieveSilent, s.opts.SieveErrors, "the default")
	for _, params := range failing {
		t.Run(params.Encode(), func(t *testing.T) {
			params := maps.Clone(params)
			params.Set("pageSize", "2")
			params.Set("sorts", cmp.Or(params.Get("sorts"), "-FirstName"))
			p, code := search(t, s, params)
			require.Equal(t, 200, code)
			assert.Equal(t, []string{"Ann", "bob", "Carla", "Dan"}, namesOf(p), "every customer, in stored order, unpaged")
			assert.Equal(t, 4, p.TotalCount)
			assert.NotEmpty(t, s.Requests()[len(s.Requests())-1].SieveError)
		})
	}
	p, code := search(t, s, url.Values{"filters": {"BillingState==TX"}, "sorts": {"Shoe"}, "pageSize": {"1"}})
	require.Equal(t, 200, code)
	assert.Equal(t, []string{"Ann", "Carla"}, namesOf(p), "filtered, but unsorted and unpaged")
}

func TestUnsearchableFieldsRehearseAnIgnoredSearch(t *testing.T) {
	s := searchFixture(t, Options{Unsearchable: []string{"primaryemail"}})
	p, code := search(t, s, url.Values{"filters": {"PrimaryEmail==ann@example.com"}, "pageSize": {"1"}})
	require.Equal(t, 200, code)
	assert.Len(t, p.Items, 4, "ignored")
	assert.Equal(t, "sieve: PrimaryEmail not found.", s.Requests()[len(s.Requests())-1].SieveError)
	p, _ = search(t, s, url.Values{"filters": {"LastName==Smith"}})
	assert.Equal(t, []string{"Ann"}, namesOf(p), "the other fields still search")

	_, err := New(Options{Unsearchable: []string{"Shoe"}})
	assert.ErrorContains(t, err, `unsearchable "Shoe" is not a search field`)
	_, err = New(Options{SieveErrors: "loud"})
	assert.ErrorContains(t, err, "use silent or throw")
}

func TestSearchParametersBindLikeASPNET(t *testing.T) {
	s := searchFixture(t, Options{})
	for _, params := range []url.Values{
		{"page": {"0"}},
		{"pageSize": {"x"}},
		{"page": {"400000000000000000"}}, // not an int
		{"pageSize": {"-3"}},
	} {
		w := call(t, s, "GET", "/Customers/Search?"+params.Encode(), "k", nil)
		assert.Equal(t, 400, w.Code, params.Encode())
		assert.Equal(t, "One or more validation errors occurred.", decode[problemBody](t, w).Title)
	}
}

// TestEveryFieldSearchesItsOwnProperty: each search field of the seeded
// account finds, by equality, customers whose JSON carries that value.
func TestEveryFieldSearchesItsOwnProperty(t *testing.T) {
	s, _ := newTest(t, Options{Customers: 120, SieveErrors: SieveThrow})
	w := call(t, s, "POST", "/Customers", "k", map[string]any{"firstName": "Every", "secondaryEmail": "e2@example.net", "email3": "e3@example.net", "email4": "e4@example.net", "mobilePhone2": "(512) 555-0199"})
	require.Equal(t, 201, w.Code)
	all := decode[[]map[string]any](t, call(t, s, "GET", "/Customers?includeDeleted=true", "k", nil))
	for _, f := range skimmer.CustomerSearch.Fields() {
		key := strings.ToLower(f.Name[:1]) + f.Name[1:]
		var want any
		for _, c := range all {
			if v := c[key]; v != nil && v != "" && v != false {
				want = v
				break
			}
		}
		require.NotNil(t, want, "the seed sets %s somewhere", f.Name)
		value := fmt.Sprint(want)
		if f.Kind == sieve.Time {
			value = strings.TrimSuffix(value, "Z") + "Z"
		}
		q, err := sieve.Query{Filters: []sieve.Filter{{Names: []string{f.Name}, Op: sieve.Equals, Values: []sieve.Value{sieve.Text(value)}}}, Page: 1, PageSize: 100}.Values(skimmer.CustomerSearch)
		require.NoError(t, err, f.Name)
		w := call(t, s, "GET", "/Customers/Search?"+q.Encode(), "k", nil)
		require.Equal(t, 200, w.Code, w.Body.String())
		got := decode[struct{ Items []map[string]any }](t, w).Items
		require.NotEmpty(t, got, f.Name)
		for _, c := range got {
			assert.Equal(t, want, c[key], f.Name)
		}
	}
}

func TestSearchEnvelopes(t *testing.T) {
	for _, env := range []string{"items", "data", "results"} {
		s := searchFixture(t, Options{Envelope: env})
		w := call(t, s, "GET", "/Customers/Search?pageSize=2", "k", nil)
		body := decode[map[string]any](t, w)
		assert.Len(t, body[env], 2, env)
		assert.EqualValues(t, 4, body["totalCount"])
	}
	s := searchFixture(t, Options{Envelope: "bare"})
	w := call(t, s, "GET", "/Customers/Search?pageSize=2", "k", nil)
	assert.Len(t, decode[[]skimmer.Customer](t, w), 2)

	_, err := New(Options{Envelope: "wrapped"})
	assert.ErrorContains(t, err, "use items, data, results or bare")
}

func TestSoftDelete(t *testing.T) {
	s, _ := newTest(t, Options{Customers: 200})
	var deleted *skimmer.Customer
	for _, c := range s.store.customers() {
		if c.Deleted {
			deleted = c
			break
		}
	}
	require.NotNil(t, deleted, "the seed has deleted customers")
	assert.Equal(t, 404, call(t, s, "GET", "/Customers/"+deleted.ID, "k", nil).Code)
	assert.Equal(t, 200, call(t, s, "GET", "/Customers/"+deleted.ID+"?includeDeleted=true", "k", nil).Code)

	active := decode[[]skimmer.Customer](t, call(t, s, "GET", "/Customers", "k", nil))
	all := decode[[]skimmer.Customer](t, call(t, s, "GET", "/Customers?includeDeleted=true", "k", nil))
	assert.Len(t, all, 200)
	assert.Less(t, len(active), len(all))
	for _, c := range active {
		assert.False(t, c.Deleted)
	}

	// Deactivation marks inactive and records the cascade flags.
	target := active[0]
	req := skimmer.DeactivateCustomersRequest{IDs: []string{target.ID}, DeleteTags: true, DeleteWorkOrders: true}
	assert.Equal(t, 204, call(t, s, "POST", "/Customers/Deactivate", "k", req).Code)
	got := decode[skimmer.Customer](t, call(t, s, "GET", "/Customers/"+target.ID, "k", nil))
	assert.True(t, got.IsInactive)
	assert.Empty(t, got.Tags, "deleteTags removes the customer's tags")
	require.Len(t, s.Deactivations(), 1)
	assert.Equal(t, req, s.Deactivations()[0].Request)

	w := call(t, s, "POST", "/Customers/Deactivate", "k", skimmer.DeactivateCustomersRequest{IDs: []string{active[1].ID, "ffffffffffffffffffffffffffffffff"}})
	assert.Equal(t, 404, w.Code)
	still := decode[skimmer.Customer](t, call(t, s, "GET", "/Customers/"+active[1].ID, "k", nil))
	assert.Equal(t, active[1].IsInactive, still.IsInactive, "one unknown id and nothing is deactivated")
}

func TestSystemEntriesCannotChange(t *testing.T) {
	s, _ := newTest(t, Options{Customers: 100})
	var sys *skimmer.ActivityLog
	for _, logs := range s.store.st.ActivityLogs {
		for _, l := range logs {
			if l.IsSystemGenerated {
				sys = l
			}
		}
	}
	require.NotNil(t, sys)
	path := "/CustomerActivityLogs/" + sys.CustomerID + "/" + sys.ID
	w := call(t, s, "PUT", path, "k", skimmer.ActivityLogRequest{Type: "Call", Title: "Rewrite history"})
	assert.Equal(t, 400, w.Code)
	assert.Contains(t, decode[problemBody](t, w).Detail, "cannot be updated")
	w = call(t, s, "DELETE", path, "k", nil)
	assert.Equal(t, 400, w.Code)
	assert.Equal(t, 200, call(t, s, "GET", path, "k", nil).Code, "still there")
}
