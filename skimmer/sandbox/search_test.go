package sandbox

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
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
		{"FirstName!@=*nn|ob", []string{"Carla", "Dan"}}, // negated: contains neither
		{"(FirstName|LastName)@=*jones", []string{"Carla"}},
		{"(LastName|CompanyName)@=*smith", []string{"Ann", "bob", "Carla"}},
		{"BillingState==TX|AZ", []string{"Ann", "bob", "Carla"}},
		{"BillingState==TX,BillingCity==Houston", []string{"Ann"}},
		{`CompanyName==Smith\, Jones\|Partners\==Co`, []string{"Carla"}},
		{"CompanyName_=*null", []string{"Dan"}}, // null is text for operators other than == and !=
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
		{"FirstName>C", []string{"bob", "Carla", "Dan"}}, // ordinal: lower case sorts after upper
	}
	for _, tt := range tests {
		t.Run(tt.filters, func(t *testing.T) {
			p, code := search(t, s, url.Values{"filters": {tt.filters}, "pageSize": {"50"}})
			require.Equal(t, 200, code)
			assert.Equal(t, tt.want, namesOf(p))
			assert.Equal(t, len(tt.want), p.TotalCount)
		})
	}
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
		{"LastName,-LastName", []string{"Dan", "Jones", "SMITH", "Smith"}}, // first mention wins
		{"lastname", []string{"Dan", "Jones", "SMITH", "Smith"}},
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
}

func deref(s *string, alt string) string {
	if s == nil {
		return alt
	}
	return *s
}

func TestSieveRejects(t *testing.T) {
	s := searchFixture(t, Options{})
	tests := []struct {
		params url.Values
		title  string
	}{
		{url.Values{"filters": {"Shoe==x"}}, "Unknown filter property"},
		{url.Values{"filters": {"Notes@=pool"}}, "Unknown filter property"}, // a real field, but not searchable
		{url.Values{"sorts": {"PrimaryEmail"}}, "Unknown sort property"},
		{url.Values{"filters": {"IsInactive@=tr"}}, "One or more validation errors occurred."},
		{url.Values{"filters": {"IsInactive>false"}}, "One or more validation errors occurred."},
		{url.Values{"filters": {"IsInactive==maybe"}}, "One or more validation errors occurred."},
		{url.Values{"filters": {"CreatedAt>yesterday"}}, "One or more validation errors occurred."},
		{url.Values{"filters": {"FirstName"}}, "One or more validation errors occurred."},
		{url.Values{"page": {"0"}}, "One or more validation errors occurred."},
		{url.Values{"pageSize": {"x"}}, "One or more validation errors occurred."},
	}
	for _, tt := range tests {
		t.Run(tt.params.Encode(), func(t *testing.T) {
			w := call(t, s, "GET", "/Customers/Search?"+tt.params.Encode(), "k", nil)
			assert.Equal(t, 400, w.Code)
			assert.Equal(t, tt.title, decode[problemBody](t, w).Title)
		})
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
	path := "/Customers/" + sys.CustomerID + "/ActivityLogs/" + sys.ID
	w := call(t, s, "PUT", path, "k", skimmer.ActivityLogRequest{Type: "Call", Title: "Rewrite history"})
	assert.Equal(t, 400, w.Code)
	assert.Contains(t, decode[problemBody](t, w).Detail, "cannot be updated")
	w = call(t, s, "DELETE", path, "k", nil)
	assert.Equal(t, 400, w.Code)
	assert.Equal(t, 200, call(t, s, "GET", path, "k", nil).Code, "still there")
}

func TestHugePageIsEmptyNotAPanic(t *testing.T) {
	s := searchFixture(t, Options{})
	p, code := search(t, s, url.Values{"page": {"400000000000000000"}, "pageSize": {"25"}})
	require.Equal(t, 200, code)
	assert.Empty(t, p.Items)
	assert.Equal(t, 4, p.TotalCount)
}
