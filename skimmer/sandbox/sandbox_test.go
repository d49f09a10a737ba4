package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var epoch = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func newTest(t *testing.T, opts Options) (*Server, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: epoch}
	opts.Clock = clock.Now
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	if opts.Customers == 0 {
		opts.Customers = 60
	}
	s, err := New(opts)
	require.NoError(t, err)
	return s, clock
}

// call sends one request straight to the handler.
func call(t *testing.T, s http.Handler, method, target, key string, body any) *httptest.ResponseRecorder {
	t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, target, rd)
	if key != "" {
		req.Header.Set("skimmer-api-key", key)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), w.Body.String())
	return v
}

type problemBody struct {
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail"`
	Errors map[string][]string `json:"errors"`
}

func TestEveryRouteHasAHandler(t *testing.T) {
	s, _ := newTest(t, Options{})
	handlers := s.handlers()
	for _, r := range skimmer.Routes() {
		assert.Contains(t, handlers, r.Op)
	}
	assert.Len(t, handlers, len(skimmer.Routes()))
}

func TestRoutesMatchWithoutRegardToCase(t *testing.T) {
	s, _ := newTest(t, Options{})
	id := s.store.customers()[0].ID
	for _, path := range []string{"/Customers/" + id, "/customers/" + id, "/CUSTOMERS/" + strings.ToUpper(id)} {
		w := call(t, s, "GET", path+"?includeDeleted=true", "k", nil)
		assert.Equal(t, http.StatusOK, w.Code, path)
	}
	w := call(t, s, "GET", "/customeractivitylogs/"+id, "k", nil)
	assert.Equal(t, http.StatusOK, w.Code)
	w = call(t, s, "GET", "/Nope", "k", nil)
	assert.Equal(t, http.StatusNotFound, w.Code)
}

func TestRequestsRecordTheOperationTheMuxPicks(t *testing.T) {
	s, _ := newTest(t, Options{})
	id := s.store.customers()[0].ID
	for _, tt := range []struct {
		method, path string
		want         skimmer.Operation
	}{
		{"GET", "/Customers/Search", skimmer.OpSearchCustomers},
		{"GET", "/customers/SEARCH", skimmer.OpSearchCustomers},
		{"GET", "/Customers/" + id, skimmer.OpGetCustomer},
		{"POST", "/Customers/Deactivate", skimmer.OpDeactivateCustomers},
		{"POST", "/Customers", skimmer.OpCreateCustomer},
		{"GET", "/CUSTOMERACTIVITYLOGS/" + id, skimmer.OpListActivityLogs},
		{"DELETE", "/CustomerActivityLogs/" + id + "/x", skimmer.OpDeleteActivityLog},
		{"GET", "/Nope", ""},
		{"PATCH", "/Customers", ""},
	} {
		s.ResetRequests()
		call(t, s, tt.method, tt.path, "k", nil)
		got := s.Requests()
		require.Len(t, got, 1, tt.path)
		assert.Equal(t, tt.want, got[0].Op, "%s %s", tt.method, tt.path)
		assert.Equal(t, tt.path, got[0].Path, "the path is recorded as sent")
	}
}

func TestAsGiven(t *testing.T) {
	for n, want := range map[int]int{0: -1, -3: -1, 1: 1, 250: 250} {
		assert.Equal(t, want, AsGiven(n), "AsGiven(%d)", n)
	}
	s, _ := newTest(t, Options{Customers: AsGiven(0)})
	assert.Empty(t, s.store.customers(), "0 from a command line is an empty account")
}

func TestAuth(t *testing.T) {
	s, _ := newTest(t, Options{Keys: []string{"good"}, ReadOnlyKeys: []string{"reader"}})
	w := call(t, s, "GET", "/Customers", "", nil)
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "Unauthorized", decode[problemBody](t, w).Title)
	assert.Equal(t, http.StatusUnauthorized, call(t, s, "GET", "/Customers", "bad", nil).Code)
	assert.Equal(t, http.StatusOK, call(t, s, "GET", "/Customers", "good", nil).Code)
	assert.Equal(t, http.StatusOK, call(t, s, "GET", "/Customers", "reader", nil).Code)
	w = call(t, s, "POST", "/Customers/Deactivate", "reader", skimmer.DeactivateCustomersRequest{IDs: []string{s.store.customers()[0].ID}})
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Empty(t, s.Deactivations(), "a forbidden write changes nothing")

	open, _ := newTest(t, Options{})
	assert.Equal(t, http.StatusOK, call(t, open, "GET", "/Customers", "anything", nil).Code, "any non-empty key by default")

	keys := []string{}
	for _, r := range s.Requests() {
		keys = append(keys, r.Key)
	}
	assert.Equal(t, []string{"", "bad", "good", "reader", "reader"}, keys, "the record keeps the key each request carried")
}

func TestRateLimit(t *testing.T) {
	s, clock := newTest(t, Options{RateLimit: 3})
	for i := range 3 {
		w := call(t, s, "GET", "/Customers", "k", nil)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "3", w.Header().Get("RateLimit-Limit"))
		assert.Equal(t, []string{"2", "1", "0"}[i], w.Header().Get("RateLimit-Remaining"))
		assert.Equal(t, "60", w.Header().Get("RateLimit-Reset"))
	}
	clock.Advance(45 * time.Second)
	w := call(t, s, "GET", "/Customers", "k", nil)
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "15", w.Header().Get("Retry-After"))
	assert.Equal(t, "0", w.Header().Get("RateLimit-Remaining"))
	assert.Equal(t, http.StatusOK, call(t, s, "GET", "/Customers", "other-key", nil).Code, "limits are per key")

	clock.Advance(15 * time.Second)
	w = call(t, s, "GET", "/Customers", "k", nil)
	assert.Equal(t, http.StatusOK, w.Code, "a new window opens")
	assert.Equal(t, "2", w.Header().Get("RateLimit-Remaining"))

	off, _ := newTest(t, Options{RateLimit: -1})
	for range 10 {
		w := call(t, off, "GET", "/Customers", "k", nil)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Empty(t, w.Header().Get("RateLimit-Limit"))
	}
}

func TestFaults(t *testing.T) {
	s, _ := newTest(t, Options{})
	id := s.store.customers()[0].ID

	s.Inject(Fault{Ops: []skimmer.Operation{skimmer.OpGetCustomer}, Status: 503, RetryAfter: 2, Times: 2})
	for range 2 {
		w := call(t, s, "GET", "/Customers/"+id, "k", nil)
		assert.Equal(t, 503, w.Code)
		assert.Equal(t, "2", w.Header().Get("Retry-After"))
	}
	assert.Equal(t, 200, call(t, s, "GET", "/Customers/"+id, "k", nil).Code, "the fault retires after Times hits")
	assert.Equal(t, 200, call(t, s, "GET", "/Customers", "k", nil).Code, "other routes are untouched")

	s.Inject(Fault{Status: 502, Body: "<html><title>Bad Gateway</title></html>", Times: 1})
	w := call(t, s, "GET", "/Customers", "k", nil)
	assert.Equal(t, 502, w.Code)
	assert.Contains(t, w.Header().Get("Content-Type"), "text/html")

	s.Inject(Fault{Malformed: true, Times: 1})
	w = call(t, s, "GET", "/Customers", "k", nil)
	assert.Equal(t, 200, w.Code)
	assert.False(t, json.Valid(w.Body.Bytes()))

	// Apply: the write happens, the answer is lost.
	s.Inject(Fault{Ops: []skimmer.Operation{skimmer.OpCreateActivityLog}, Status: 504, Apply: true, Times: 1})
	before := len(s.store.st.ActivityLogs[id])
	w = call(t, s, "POST", "/CustomerActivityLogs/"+id, "k", skimmer.ActivityLogRequest{Type: "Call", Title: "Applied anyway"})
	assert.Equal(t, 504, w.Code)
	assert.Len(t, s.store.st.ActivityLogs[id], before+1)
	s.ClearFaults()

	// A share of requests, decided by the seeded RNG: the same every run.
	hits := func() []int {
		s, _ := newTest(t, Options{Seed: 3})
		s.Inject(Fault{Status: 500, Rate: 0.3})
		var codes []int
		for range 40 {
			codes = append(codes, call(t, s, "GET", "/Customers", "k", nil).Code)
		}
		return codes
	}
	first := hits()
	assert.Equal(t, first, hits())
	n500 := 0
	for _, c := range first {
		if c == 500 {
			n500++
		}
	}
	assert.InDelta(t, 12, n500, 8, "about 30%% of 40")
}

func TestFaultResetMidBody(t *testing.T) {
	s, _ := newTest(t, Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	s.Inject(Fault{ResetMidBody: true, Times: 1})
	req, _ := http.NewRequest("GET", srv.URL+"/Customers", nil)
	req.Header.Set("skimmer-api-key", "k")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Error(t, err, "the body breaks off")
	resp2, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	require.NoError(t, err)
	assert.True(t, json.Valid(body), "the sandbox keeps serving")
}

func TestSeedIsDeterministic(t *testing.T) {
	a, _ := json.Marshal(generate(42, 100, epoch))
	b, _ := json.Marshal(generate(42, 100, epoch))
	c, _ := json.Marshal(generate(43, 100, epoch))
	assert.Equal(t, a, b, "same seed, same bytes")
	assert.NotEqual(t, a, c)
}

func TestSeedIsRealistic(t *testing.T) {
	st := generate(1, 1000, epoch)
	require.Len(t, st.Customers, 1000)
	var leads, inactive, deleted, companies, dogs, gates, withLogs, system int
	types := map[string]bool{}
	tags := map[string]bool{}
	ids := map[string]bool{}
	for _, c := range st.Customers {
		assert.Len(t, c.ID, 32)
		assert.False(t, ids[c.ID], "ids are unique")
		ids[c.ID] = true
		assert.NotNil(t, c.BillingCity)
		assert.Len(t, *c.BillingState, 2)
		assert.True(t, c.CreatedAt.Before(epoch) && !c.UpdatedAt.Before(c.CreatedAt.Time))
		assert.NotEmpty(t, c.ServiceLocations)
		for _, l := range c.ServiceLocations {
			assert.Equal(t, c.ID, l.CustomerID)
			if l.DogsName != nil {
				dogs++
			}
			if l.GateCode != nil {
				gates++
			}
		}
		for _, tg := range c.Tags {
			tags[tg.Name] = true
		}
		if c.PrimaryEmail != nil {
			assert.Regexp(t, `@example\.(com|net|org)$`, *c.PrimaryEmail)
		}
		assert.Regexp(t, `^\(\d{3}\) 555-01\d\d$`, *c.MobilePhone)
		leads += b2i(c.IsLead)
		inactive += b2i(c.IsInactive && !c.Deleted)
		deleted += b2i(c.Deleted)
		companies += b2i(c.CompanyName != nil)
		logs := st.ActivityLogs[c.ID]
		withLogs += b2i(len(logs) > 0)
		for _, l := range logs {
			types[l.Type] = true
			system += b2i(l.IsSystemGenerated)
			if !l.IsSystemGenerated {
				assert.Regexp(t, skimmer.ActivityTitlePattern, l.Title)
			}
		}
	}
	for name, n := range map[string]int{"leads": leads, "inactive": inactive, "deleted": deleted, "companies": companies, "dogs": dogs, "gate codes": gates, "system entries": system} {
		assert.Greater(t, n, 10, name)
	}
	assert.Greater(t, withLogs, 700)
	for _, want := range []string{"Call", "Text", "Email", "Other", "Invoice", "Payment"} {
		assert.True(t, types[want], want)
	}
	for _, want := range []string{"Weekly", "Commercial", "Residential"} {
		assert.True(t, tags[want], want)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestInjectedIDsAndClock(t *testing.T) {
	n := 0
	s, clock := newTest(t, Options{Customers: -1, NewID: func() string { n++; return strings.Repeat("0", 31) + string(rune('0'+n)) }})
	assert.Empty(t, s.store.customers())
	clock.Advance(time.Hour)
	w := call(t, s, "POST", "/Customers", "k", map[string]any{"firstName": "Ann", "serviceLocations": []any{map[string]any{"address": "1 Main St"}}, "tags": []any{map[string]any{"name": "Pool Party"}, map[string]any{"name": "vip"}}})
	require.Equal(t, 201, w.Code, w.Body.String())
	c := decode[skimmer.Customer](t, w)
	assert.Equal(t, "00000000000000000000000000000001", c.ID)
	assert.Equal(t, epoch.Add(time.Hour), c.CreatedAt.Time)
	assert.Equal(t, "00000000000000000000000000000002", c.Tags[0].ID, "a new tag name gets a new id")
	assert.Equal(t, "VIP", c.Tags[1].Name, "a known tag name, in any case, is the account's tag")
	assert.Equal(t, "00000000000000000000000000000003", c.ServiceLocations[0].ID)
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "state.json")
	s, _ := newTest(t, Options{DataFile: file, Customers: 20})
	id := s.store.customers()[0].ID
	w := call(t, s, "POST", "/CustomerActivityLogs/"+id, "k", skimmer.ActivityLogRequest{Type: "Note", Title: "x"})
	require.Equal(t, 400, w.Code, "a refused change is not saved")
	w = call(t, s, "POST", "/CustomerActivityLogs/"+id, "k", skimmer.ActivityLogRequest{Type: "Call", Title: "Survives a restart"})
	require.Equal(t, 201, w.Code)
	created := decode[skimmer.ActivityLog](t, w)

	again, _ := newTest(t, Options{DataFile: file, Customers: 20, Seed: 999})
	w = call(t, again, "GET", "/CustomerActivityLogs/"+id+"/"+created.ID, "k", nil)
	require.Equal(t, 200, w.Code, "the restarted sandbox reads the file, not a new seed")
	assert.Equal(t, "Survives a restart", decode[skimmer.ActivityLog](t, w).Title)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temp files are left behind")

	// A save that fails undoes the change: memory and file agree.
	require.NoError(t, os.RemoveAll(dir))
	before := len(again.store.st.ActivityLogs[id])
	w = call(t, again, "POST", "/CustomerActivityLogs/"+id, "k", skimmer.ActivityLogRequest{Type: "Call", Title: "Cannot be saved"})
	assert.Equal(t, 500, w.Code)
	assert.Contains(t, decode[problemBody](t, w).Detail, "nothing was changed")
	assert.Len(t, again.store.st.ActivityLogs[id], before)

	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{not json"), 0o600))
	_, err = New(Options{DataFile: bad})
	assert.ErrorContains(t, err, "move it away")
}

func TestBadInputKeepsServing(t *testing.T) {
	s, _ := newTest(t, Options{})
	id := s.store.customers()[0].ID
	logsBefore := slices.Clone(s.store.st.ActivityLogs[id])
	tests := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"malformed json", "POST", "/CustomerActivityLogs/" + id, `{"type": "Call", "title": }`, 400, "$"},
		{"wrong type", "POST", "/CustomerActivityLogs/" + id, `{"type": 5, "title": "x"}`, 400, "$"},
		{"oversize title", "POST", "/CustomerActivityLogs/" + id, skimmer.ActivityLogRequest{Type: "Call", Title: strings.Repeat("a", 61)}, 400, "Title"},
		{"title characters", "POST", "/CustomerActivityLogs/" + id, skimmer.ActivityLogRequest{Type: "Call", Title: "Paid $50!"}, 400, "Title"},
		{"empty title", "POST", "/CustomerActivityLogs/" + id, skimmer.ActivityLogRequest{Type: "Call", Title: "  "}, 400, "Title"},
		{"long description", "POST", "/CustomerActivityLogs/" + id, skimmer.ActivityLogRequest{Type: "Call", Title: "x", Description: ptr(strings.Repeat("d", 301))}, 400, "Description"},
		{"bad type", "POST", "/CustomerActivityLogs/" + id, skimmer.ActivityLogRequest{Type: "Fax", Title: "x"}, 400, "Type"},
		{"nameless customer", "POST", "/Customers", map[string]any{"notes": "who?"}, 400, "FirstName"},
		{"bad email", "POST", "/Customers", map[string]any{"firstName": "A", "primaryEmail": "not-an-email"}, 400, "PrimaryEmail"},
		{"bad rate type", "POST", "/Customers", map[string]any{"firstName": "A", "serviceLocations": []any{map[string]any{"rateType": "Hourly"}}}, 400, "ServiceLocations[0].RateType"},
		{"unknown tag id", "POST", "/Customers", map[string]any{"firstName": "A", "tags": []any{map[string]any{"id": "ffff"}}}, 400, "Tags[0].Id"},
		{"update without id", "PUT", "/Customers", map[string]any{"firstName": "A"}, 400, "Id"},
		{"deactivate nothing", "POST", "/Customers/Deactivate", map[string]any{"ids": []string{}}, 400, "Ids"},
		{"negative page", "GET", "/Customers/Search?page=-1&pageSize=5", nil, 400, "page"},
		{"zero page size", "GET", "/Customers/Search?page=1&pageSize=0", nil, 400, "pageSize"},
		{"bad includeDeleted", "GET", "/Customers?includeDeleted=maybe", nil, 400, "includeDeleted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call(t, s, tt.method, tt.path, "k", tt.body)
			assert.Equal(t, tt.status, w.Code, w.Body.String())
			assert.Contains(t, w.Header().Get("Content-Type"), "application/problem+json")
			assert.Contains(t, decode[problemBody](t, w).Errors, tt.field)
		})
	}
	w := call(t, s, "POST", "/CustomerActivityLogs/"+id, "k", `{"title":"`+strings.Repeat("x", maxRequestBody)+`"}`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)

	assert.Equal(t, logsBefore, s.store.st.ActivityLogs[id], "nothing was written")
	assert.Equal(t, 60, len(s.store.customers()), "no customer was created")
	assert.Equal(t, 200, call(t, s, "GET", "/Customers/"+id, "k", nil).Code, "the sandbox keeps serving")
}

func TestCustomerJSONUsesTheDocumentedNames(t *testing.T) {
	s, _ := newTest(t, Options{})
	id := s.store.customers()[0].ID
	w := call(t, s, "GET", "/Customers/"+id, "k", nil)
	var got map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	// The response fields of "Retrieves one customer by ID", in the docs' words.
	documented := strings.Fields(`id billingAddress billingCity billingState billingZip serviceLocations accountCredit
		isInactive deleted createdAt updatedAt tags isLead leadSourceName firstName lastName companyName mobilePhone
		mobileLabel1 mobilePhone2 mobileLabel2 homePhone workPhone primaryEmail secondaryEmail email3 email4 notes
		customerCode displayAsCompany primaryEmailIsBilling secondaryEmailIsBilling email3IsBilling email4IsBilling
		mobilePhoneSendServiceTexts leadSourceId`)
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sort.Strings(documented)
	assert.Equal(t, documented, keys)

	w = call(t, s, "GET", "/Customers", "k", nil)
	var list []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &list))
	assert.NotContains(t, list[0], "serviceLocations", "lists leave service locations out")

	w = call(t, s, "GET", "/CustomerActivityLogs/"+id, "k", nil)
	var logs []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &logs))
	if len(logs) > 0 {
		keys = keys[:0]
		for k := range logs[0] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		docLog := strings.Fields(`customerId type title id description isSystemGenerated relatedEntityId relatedEntityType
			relatedEntityDisplay secondaryRelatedEntityId secondaryRelatedEntityType secondaryRelatedEntityDisplay
			createdByName createdAt updatedByName updatedAt`)
		sort.Strings(docLog)
		assert.Equal(t, docLog, keys)
	}
}

// TestRestartDoesNotReuseIDs: a sandbox restarted from its data file starts
// its seeded id source over; the ids it hands out must still be new.
func TestRestartDoesNotReuseIDs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	var ids []string
	for run := range 3 {
		s, _ := newTest(t, Options{DataFile: file, Customers: 5})
		id := s.store.customers()[0].ID
		w := call(t, s, "POST", "/CustomerActivityLogs/"+id, "k", skimmer.ActivityLogRequest{Type: "Call", Title: fmt.Sprintf("Run %d", run)})
		require.Equal(t, 201, w.Code)
		ids = append(ids, decode[skimmer.ActivityLog](t, w).ID)
		w = call(t, s, "POST", "/Customers", "k", map[string]any{"firstName": fmt.Sprintf("Run%d", run), "serviceLocations": []any{map[string]any{"address": "1 Main St"}}, "tags": []any{map[string]any{"name": fmt.Sprintf("Tag %d", run)}}})
		require.Equal(t, 201, w.Code)
		c := decode[skimmer.Customer](t, w)
		ids = append(ids, c.ID, c.ServiceLocations[0].ID, c.Tags[0].ID)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		assert.False(t, seen[id], "id %s handed out twice", id)
		seen[id] = true
	}
}

// TestSeedIsTheSameWheneverItStarts: the seeded account, dates included,
// does not move with the time a process starts, so what one run shows
// (an id, "created 2025-12-09") is what the next run shows.
func TestSeedIsTheSameWheneverItStarts(t *testing.T) {
	accountAt := func(now time.Time) []byte {
		s, err := New(Options{Seed: 5, Customers: 40, Clock: func() time.Time { return now }})
		require.NoError(t, err)
		w := call(t, s, "GET", "/Customers", "k", nil)
		require.Equal(t, 200, w.Code)
		return w.Body.Bytes()
	}
	first := accountAt(time.Now())
	assert.Equal(t, first, accountAt(time.Now().Add(3*time.Hour+17*time.Second)))
	assert.Equal(t, first, accountAt(time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)))
	assert.Contains(t, string(first), `"createdAt"`)

	moved, err := New(Options{Seed: 5, Customers: 40, AsOf: SeedDate.AddDate(1, 0, 0)})
	require.NoError(t, err)
	assert.NotEqual(t, first, call(t, moved, "GET", "/Customers", "k", nil).Body.Bytes(), "AsOf moves it on purpose")
}

// TestCreatedIDsAreNotShared: two sandboxes of one seed share the seeded
// account (the same records, so the same ids) but never give one id to two
// different created records; tests that must repeat inject SeededIDs.
func TestCreatedIDsAreNotShared(t *testing.T) {
	create := func(s *Server) (seededID, createdID string) {
		seededID = s.store.customers()[0].ID
		w := call(t, s, "POST", "/CustomerActivityLogs/"+seededID, "k", skimmer.ActivityLogRequest{Type: "Call", Title: "Demo call"})
		require.Equal(t, 201, w.Code, w.Body.String())
		return seededID, decode[skimmer.ActivityLog](t, w).ID
	}
	a, _ := newTest(t, Options{Seed: 1})
	b, _ := newTest(t, Options{Seed: 1})
	seededA, createdA := create(a)
	seededB, createdB := create(b)
	assert.Equal(t, seededA, seededB, "one seed, one account")
	assert.NotEqual(t, createdA, createdB, "two demos, two different records, two ids")
	assert.Regexp(t, "^[0-9a-f]{32}$", createdA)

	c, _ := newTest(t, Options{Seed: 1, NewID: SeededIDs(1)})
	d, _ := newTest(t, Options{Seed: 1, NewID: SeededIDs(1)})
	_, createdC := create(c)
	_, createdD := create(d)
	assert.Equal(t, createdC, createdD, "an injected seeded source repeats")
}

// TestStreetNamesDoNotRepeatTheirKind: no "Coral Way Way".
func TestStreetNamesDoNotRepeatTheirKind(t *testing.T) {
	kinds := map[string]bool{"Street": true, "Avenue": true, "Drive": true, "Boulevard": true, "Lane": true,
		"Court": true, "Road": true, "Circle": true, "Place": true}
	for _, k := range streetKinds {
		kinds[k] = true
	}
	for _, street := range streets {
		words := strings.Fields(street)
		assert.False(t, kinds[words[len(words)-1]], "%q already ends in a street kind", street)
	}
	st := generate(1, 500, epoch)
	for _, c := range st.Customers {
		for _, addr := range append([]*string{c.BillingAddress}, func() (a []*string) {
			for _, l := range c.ServiceLocations {
				a = append(a, l.Address)
			}
			return a
		}()...) {
			if addr == nil {
				continue
			}
			words := strings.Fields(*addr)
			for i := 1; i < len(words); i++ {
				assert.NotEqual(t, words[i-1], words[i], "%q", *addr)
			}
		}
	}
}
