package skimmer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sieve"
)

const testKey = "sk_test_7f3a9c2e51d04b88"

// waits records the client's sleeps instead of taking them.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return nil
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

type env struct {
	sb     *sandbox.Server
	srv    *httptest.Server
	client *skimmer.Client
	waits  *waits
	logs   *bytes.Buffer
}

func newEnv(t *testing.T, opts sandbox.Options) *env {
	return newEnvTimeout(t, opts, time.Second)
}

func newEnvTimeout(t *testing.T, opts sandbox.Options, timeout time.Duration) *env {
	t.Helper()
	if opts.Seed == 0 {
		opts.Seed = 11
	}
	if opts.Customers == 0 {
		opts.Customers = 80
	}
	if opts.Clock == nil {
		opts.Clock = func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) }
	}
	sb, err := sandbox.New(opts)
	require.NoError(t, err)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	e := &env{sb: sb, srv: srv, waits: &waits{}, logs: &bytes.Buffer{}}
	e.client, err = skimmer.New(skimmer.Options{
		BaseURL: srv.URL,
		APIKey:  testKey,
		Timeout: timeout,
		Retry:   skimmer.RetryPolicy{Sleep: e.waits.sleep},
		Logger:  slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	return e
}

func (e *env) firstCustomer(t *testing.T) skimmer.Customer {
	all, err := e.client.AllCustomers(context.Background(), false)
	require.NoError(t, err)
	require.NotEmpty(t, all)
	return all[0]
}

func TestEveryMethodAgainstTheSandbox(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	ctx := context.Background()

	active, err := e.client.AllCustomers(ctx, false)
	require.NoError(t, err)
	all, err := e.client.AllCustomers(ctx, true)
	require.NoError(t, err)
	assert.Len(t, all, 80)
	assert.Less(t, len(active), len(all))
	assert.Nil(t, all[0].ServiceLocations, "lists carry no service locations")

	created, err := e.client.CreateCustomer(ctx, skimmer.CreateCustomerRequest{
		CustomerFields: skimmer.CustomerFields{
			FirstName:   ptr("Wanda"),
			LastName:    ptr("Okafor"),
			CompanyName: ptr("Smith, Jones|Partners==Co"),
			Notes:       ptr(""),
			Tags:        []skimmer.Tag{{Name: "Weekly"}, {Name: "Koi Pond"}},
		},
		ServiceLocations: []skimmer.ServiceLocation{{Address: ptr("9 Lagoon Way"), City: ptr("Tampa"), State: ptr("FL"), GateCode: ptr("1234#"), RateType: ptr("PerStopPlusChemicals")}},
	})
	require.NoError(t, err)
	assert.Len(t, created.ID, 32)
	require.Len(t, created.ServiceLocations, 1)
	assert.Equal(t, created.ID, created.ServiceLocations[0].CustomerID)
	assert.Equal(t, []string{"Weekly", "Koi Pond"}, tagNames(created.Tags))
	assert.NotEmpty(t, created.Tags[0].ID)

	// The builder's escaping, read back by the sandbox's Sieve parser.
	res, err := e.client.SearchCustomers(ctx, sieve.Query{
		Filters: []sieve.Filter{{Names: []string{"companyname"}, Op: sieve.Equals, Values: []sieve.Value{sieve.Text("Smith, Jones|Partners==Co")}}},
		Page:    1, PageSize: 10,
	})
	require.NoError(t, err)
	require.Len(t, res.Items, 1)
	assert.Equal(t, created.ID, res.Items[0].ID)
	assert.Equal(t, 1, res.Total)

	got, err := e.client.GetCustomer(ctx, created.ID, false)
	require.NoError(t, err)
	assert.Equal(t, created.ServiceLocations, got.ServiceLocations)

	// An update built from the record changes nothing; null and "" survive.
	req := got.UpdateRequest()
	updated, err := e.client.UpdateCustomer(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, got.CustomerFields, updated.CustomerFields)
	assert.NotNil(t, updated.Notes)
	assert.Equal(t, "", *updated.Notes, `"" stays ""`)
	assert.Nil(t, updated.HomePhone, "null stays null")

	req.HomePhone = ptr("(813) 555-0142")
	updated, err = e.client.UpdateCustomer(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, "(813) 555-0142", *updated.HomePhone)
	assert.Equal(t, got.CompanyName, updated.CompanyName)

	entry, err := e.client.CreateActivityLog(ctx, created.ID, skimmer.ActivityLogRequest{Type: "Call", Title: "Asked about koi-safe chlorine", AuthorName: ptr("Tom Becker")})
	require.NoError(t, err)
	assert.Equal(t, "Tom Becker", *entry.CreatedByName)
	fetched, err := e.client.GetActivityLog(ctx, created.ID, entry.ID)
	require.NoError(t, err)
	assert.Equal(t, entry, fetched)
	changed, err := e.client.UpdateActivityLog(ctx, created.ID, entry.ID, skimmer.ActivityLogRequest{Type: "Text", Title: "Texted about koi-safe chlorine"})
	require.NoError(t, err)
	assert.Equal(t, "Text", changed.Type)
	assert.Equal(t, skimmer.ActivityDefaultAuthor, *changed.UpdatedByName)
	logs, err := e.client.ListActivityLogs(ctx, created.ID)
	require.NoError(t, err)
	assert.Len(t, logs, 1)
	require.NoError(t, e.client.DeleteActivityLog(ctx, created.ID, entry.ID))
	_, err = e.client.GetActivityLog(ctx, created.ID, entry.ID)
	assert.ErrorIs(t, err, skimmer.ErrNotFound)

	require.NoError(t, e.client.DeactivateCustomers(ctx, skimmer.DeactivateCustomersRequest{IDs: []string{created.ID}, DeleteRouteAssignments: true}))
	got, err = e.client.GetCustomer(ctx, created.ID, false)
	require.NoError(t, err)
	assert.True(t, got.IsInactive)
	assert.True(t, e.sb.Deactivations()[0].Request.DeleteRouteAssignments)

	activity := map[skimmer.Operation]bool{}
	for _, r := range e.sb.Requests() {
		assert.Equal(t, testKey, r.Key, "every request carries the key")
		switch r.Op {
		case skimmer.OpListActivityLogs, skimmer.OpCreateActivityLog, skimmer.OpGetActivityLog, skimmer.OpUpdateActivityLog, skimmer.OpDeleteActivityLog:
			activity[r.Op] = true
			assert.True(t, strings.HasPrefix(r.Path, "/CustomerActivityLogs/"+created.ID), "%s went to %s: the developer portal's root", r.Op, r.Path)
		}
	}
	assert.Len(t, activity, 5, "all five activity-log operations were called")
}

func tagNames(tags []skimmer.Tag) []string {
	var out []string
	for _, t := range tags {
		out = append(out, t.Name)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func TestReadsAreRetried(t *testing.T) {
	tests := []struct {
		name      string
		fault     sandbox.Fault
		wantWaits []time.Duration // exact; nil means "backoff, checked for range"
		backoffs  int
	}{
		{"429 with Retry-After", sandbox.Fault{Status: 429, RetryAfter: 2, Times: 1}, []time.Duration{2 * time.Second}, 0},
		{"503 with Retry-After", sandbox.Fault{Status: 503, RetryAfter: 3, Times: 2}, []time.Duration{3 * time.Second, 3 * time.Second}, 0},
		{"502", sandbox.Fault{Status: 502, Times: 1}, nil, 1},
		{"504", sandbox.Fault{Status: 504, Times: 2}, nil, 2},
		{"body cut off", sandbox.Fault{ResetMidBody: true, Times: 1}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			id := e.firstCustomer(t).ID
			e.sb.ResetRequests()
			tt.fault.Ops = []skimmer.Operation{skimmer.OpGetCustomer}
			e.sb.Inject(tt.fault)
			c, err := e.client.GetCustomer(context.Background(), id, false)
			require.NoError(t, err)
			assert.Equal(t, id, c.ID)
			waits := e.waits.all()
			if tt.wantWaits != nil {
				assert.Equal(t, tt.wantWaits, waits, "Retry-After is honoured exactly")
			} else {
				require.Len(t, waits, tt.backoffs)
				for i, w := range waits {
					base := time.Second << i
					assert.GreaterOrEqual(t, w, base/2)
					assert.LessOrEqual(t, w, base)
				}
			}
			assert.Equal(t, len(waits)+1, e.sb.Count(skimmer.OpGetCustomer))
		})
	}
}

func TestReadRetriesAreBounded(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	id := e.firstCustomer(t).ID
	e.sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpGetCustomer}, Status: 503})
	_, err := e.client.GetCustomer(context.Background(), id, false)
	assert.ErrorIs(t, err, skimmer.ErrUnavailable)
	assert.Equal(t, 5, e.sb.Count(skimmer.OpGetCustomer))
	assert.Len(t, e.waits.all(), 4)
	var apiErr *skimmer.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 5, apiErr.Attempts)

	// A wait longer than a caller should be held fails at once, saying how long.
	e.sb.ClearFaults()
	e.sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpGetCustomer}, Status: 429, RetryAfter: 45})
	before := e.sb.Count(skimmer.OpGetCustomer)
	_, err = e.client.GetCustomer(context.Background(), id, false)
	require.ErrorIs(t, err, skimmer.ErrRateLimited)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 45*time.Second, apiErr.RetryAfter)
	assert.Equal(t, before+1, e.sb.Count(skimmer.OpGetCustomer))
	assert.Contains(t, err.Error(), "retry after 45s")
}

func TestWritesAreNeverRetried(t *testing.T) {
	type write struct {
		op  skimmer.Operation
		run func(ctx context.Context, c *skimmer.Client, cust skimmer.Customer, entry string) error
	}
	writes := []write{
		{skimmer.OpCreateCustomer, func(ctx context.Context, c *skimmer.Client, _ skimmer.Customer, _ string) error {
			_, err := c.CreateCustomer(ctx, skimmer.CreateCustomerRequest{CustomerFields: skimmer.CustomerFields{FirstName: ptr("Once")}})
			return err
		}},
		{skimmer.OpUpdateCustomer, func(ctx context.Context, c *skimmer.Client, cust skimmer.Customer, _ string) error {
			_, err := c.UpdateCustomer(ctx, cust.UpdateRequest())
			return err
		}},
		{skimmer.OpDeactivateCustomers, func(ctx context.Context, c *skimmer.Client, cust skimmer.Customer, _ string) error {
			return c.DeactivateCustomers(ctx, skimmer.DeactivateCustomersRequest{IDs: []string{cust.ID}})
		}},
		{skimmer.OpCreateActivityLog, func(ctx context.Context, c *skimmer.Client, cust skimmer.Customer, _ string) error {
			_, err := c.CreateActivityLog(ctx, cust.ID, skimmer.ActivityLogRequest{Type: "Call", Title: "Once"})
			return err
		}},
		{skimmer.OpUpdateActivityLog, func(ctx context.Context, c *skimmer.Client, cust skimmer.Customer, entry string) error {
			_, err := c.UpdateActivityLog(ctx, cust.ID, entry, skimmer.ActivityLogRequest{Type: "Call", Title: "Twice"})
			return err
		}},
		{skimmer.OpDeleteActivityLog, func(ctx context.Context, c *skimmer.Client, cust skimmer.Customer, entry string) error {
			return c.DeleteActivityLog(ctx, cust.ID, entry)
		}},
	}
	faults := []struct {
		name    string
		fault   sandbox.Fault
		outcome error // the sentinel the error must match
	}{
		{"429", sandbox.Fault{Status: 429, RetryAfter: 1}, skimmer.ErrRateLimited},
		{"500", sandbox.Fault{Status: 500}, skimmer.ErrUnavailable},
		{"502 after applying", sandbox.Fault{Status: 502, Apply: true}, skimmer.ErrOutcomeUnknown},
		{"503", sandbox.Fault{Status: 503, RetryAfter: 1}, skimmer.ErrUnavailable},
		{"504 after applying", sandbox.Fault{Status: 504, Apply: true}, skimmer.ErrOutcomeUnknown},
		{"slow past the timeout", sandbox.Fault{Latency: time.Second}, skimmer.ErrOutcomeUnknown},
	}
	for _, w := range writes {
		for _, f := range faults {
			t.Run(string(w.op)+"/"+f.name, func(t *testing.T) {
				timeout := time.Second
				if f.fault.Latency > 0 {
					timeout = 200 * time.Millisecond
				}
				e := newEnvTimeout(t, sandbox.Options{}, timeout)
				cust := e.firstCustomer(t)
				entry, err := e.client.CreateActivityLog(context.Background(), cust.ID, skimmer.ActivityLogRequest{Type: "Other", Title: "Target"})
				require.NoError(t, err)
				f.fault.Ops = []skimmer.Operation{w.op}
				e.sb.Inject(f.fault)
				before := e.sb.Count(w.op)
				err = w.run(context.Background(), e.client, cust, entry.ID)
				require.ErrorIs(t, err, f.outcome)
				assert.Equal(t, before+1, e.sb.Count(w.op), "sent exactly once")
				assert.Empty(t, e.waits.all())
			})
		}
	}
}

func TestBrokenAnswers(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cust := e.firstCustomer(t)
	ctx := context.Background()

	// A write whose 201 arrived but whose body broke off went through.
	e.sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpCreateActivityLog}, ResetMidBody: true, Times: 1})
	before, err := e.client.ListActivityLogs(ctx, cust.ID)
	require.NoError(t, err)
	_, err = e.client.CreateActivityLog(ctx, cust.ID, skimmer.ActivityLogRequest{Type: "Call", Title: "Half an answer"})
	require.ErrorIs(t, err, skimmer.ErrBadResponse)
	var apiErr *skimmer.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 201, apiErr.Status, "the status says it was applied")
	after, err := e.client.ListActivityLogs(ctx, cust.ID)
	require.NoError(t, err)
	assert.Len(t, after, len(before)+1)
	assert.Equal(t, 1, e.sb.Count(skimmer.OpCreateActivityLog))

	// Malformed JSON on a read is reported, not retried: it would come back the same.
	e.sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpListActivityLogs}, Malformed: true, Times: 1})
	n := e.sb.Count(skimmer.OpListActivityLogs)
	_, err = e.client.ListActivityLogs(ctx, cust.ID)
	require.ErrorIs(t, err, skimmer.ErrBadResponse)
	assert.Equal(t, n+1, e.sb.Count(skimmer.OpListActivityLogs))

	// The streamed list starts over after a broken read, without duplicates.
	e.sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpListCustomers}, ResetMidBody: true, Times: 1})
	var sink countingSink
	require.NoError(t, e.client.ListCustomers(ctx, true, &sink))
	assert.Equal(t, 80, sink.n)
	assert.Equal(t, 2, sink.resets)
}

type countingSink struct{ n, resets int }

func (s *countingSink) Reset()                      { s.n = 0; s.resets++ }
func (s *countingSink) Add(*skimmer.Customer) error { s.n++; return nil }

func TestUnreachable(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cust := e.firstCustomer(t)
	e.srv.Close() // connection refused from here on
	ctx := context.Background()

	_, err := e.client.GetCustomer(ctx, cust.ID, false)
	var terr *skimmer.TransportError
	require.ErrorAs(t, err, &terr)
	assert.False(t, terr.Sent)
	assert.Equal(t, 5, terr.Attempts, "reads are retried")
	assert.ErrorIs(t, err, skimmer.ErrUnavailable)

	_, err = e.client.CreateActivityLog(ctx, cust.ID, skimmer.ActivityLogRequest{Type: "Call", Title: "x"})
	require.ErrorAs(t, err, &terr)
	assert.Equal(t, 1, terr.Attempts)
	assert.False(t, errors.Is(err, skimmer.ErrOutcomeUnknown), "refused: nothing reached Skimmer")
	assert.Contains(t, err.Error(), "could not reach Skimmer")
}

func TestRateLimitHeadersHoldTheNextCall(t *testing.T) {
	e := newEnv(t, sandbox.Options{RateLimit: 2})
	ctx := context.Background()
	_, err := e.client.AllCustomers(ctx, false)
	require.NoError(t, err)
	_, err = e.client.AllCustomers(ctx, false)
	require.NoError(t, err, "this answer says the window is used up")
	_, err = e.client.AllCustomers(ctx, false)
	require.ErrorIs(t, err, skimmer.ErrRateLimited)
	assert.Equal(t, 2, e.sb.Count(skimmer.OpListCustomers), "the third call was not sent")
	assert.Contains(t, err.Error(), "not sent")

	other := e.client.WithAPIKey("another-company-key")
	_, err = other.AllCustomers(ctx, false)
	assert.NoError(t, err, "a used-up window holds only its own key")
}

func TestErrorDecoding(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		sentinel    error
		wantText    string
		check       func(t *testing.T, e *skimmer.APIError)
	}{
		{"validation problem", 400, "application/problem+json",
			`{"type":"x","title":"One or more validation errors occurred.","status":400,"errors":{"Title":["Too long."],"Type":["Bad."]},"traceId":"00-abc"}`,
			skimmer.ErrValidation, "400 Bad Request: One or more validation errors occurred.: Title: Too long.; Type: Bad.",
			func(t *testing.T, e *skimmer.APIError) {
				assert.Equal(t, map[string][]string{"Title": {"Too long."}, "Type": {"Bad."}}, e.Fields)
				assert.Equal(t, "00-abc", e.TraceID)
			}},
		{"single-string field errors", 422, "application/json", `{"title":"Invalid","errors":{"Email":"Bad email."}}`,
			skimmer.ErrValidation, "Email: Bad email.", nil},
		{"not found problem", 404, "application/problem+json", `{"title":"Not Found","status":404,"detail":"Customer x was not found."}`,
			skimmer.ErrNotFound, "404 Not Found: Customer x was not found.", nil},
		{"html page", 502, "text/html", "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
			skimmer.ErrUnavailable, "an HTML page titled 502 Bad Gateway", nil},
		{"html without a content type", 500, "", "<html><body>oops</body></html>",
			skimmer.ErrUnavailable, "500 Internal Server Error: an HTML page", nil},
		{"plain text", 403, "text/plain", "Forbidden:\n key lacks   scope", skimmer.ErrForbidden, "403 Forbidden: Forbidden: key lacks scope", nil},
		{"empty 401", 401, "", "", skimmer.ErrUnauthorized, "skimmer GetCustomer: 401 Unauthorized", nil},
		{"json that is not a problem", 400, "application/json", `["nope"]`, skimmer.ErrValidation, `400 Bad Request: ["nope"]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			c, err := skimmer.New(skimmer.Options{BaseURL: srv.URL, APIKey: testKey, Retry: skimmer.RetryPolicy{MaxAttempts: 1}})
			require.NoError(t, err)
			_, err = c.GetCustomer(context.Background(), "abc", false)
			require.ErrorIs(t, err, tt.sentinel)
			assert.Contains(t, err.Error(), tt.wantText)
			var apiErr *skimmer.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.Status)
			if tt.check != nil {
				tt.check(t, apiErr)
			}
		})
	}
}

func TestTheKeyNeverAppearsInErrorsOrLogs(t *testing.T) {
	e := newEnv(t, sandbox.Options{Keys: []string{"some-other-key"}})
	ctx := context.Background()
	var errs []error
	_, err := e.client.AllCustomers(ctx, false) // 401
	errs = append(errs, err)

	e = newEnv(t, sandbox.Options{})
	cust := e.firstCustomer(t)
	// An upstream page that echoes the key back.
	e.sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpGetCustomer}, Status: 500, Body: "proxy error for key=" + testKey, Times: 1})
	e.sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpGetCustomer}, Status: 400, Body: `{"title":"Bad key ` + testKey + `","errors":{"Key":["` + testKey + `"]}}`, ContentType: "application/json", Times: 1})
	for range 2 {
		_, err = e.client.GetCustomer(ctx, cust.ID, false)
		errs = append(errs, err)
	}
	_, err = e.client.GetCustomer(ctx, "ffffffffffffffffffffffffffffffff", false)
	errs = append(errs, err)
	_, err = e.client.CreateActivityLog(ctx, cust.ID, skimmer.ActivityLogRequest{Type: "Call", Title: "!!"})
	errs = append(errs, err)
	e.sb.Inject(sandbox.Fault{Status: 503, RetryAfter: 1, Times: 1})
	_, err = e.client.GetCustomer(ctx, cust.ID, false) // retried: a debug log line
	require.NoError(t, err)
	e.srv.Close()
	_, err = e.client.GetCustomer(ctx, cust.ID, false)
	errs = append(errs, err)

	for _, err := range errs {
		require.Error(t, err)
		assert.NotContains(t, err.Error(), testKey)
		assert.NotContains(t, fmt.Sprintf("%+v %#v", err, err), testKey)
		// Callers read the typed error's fields directly: they must be clean too.
		var apiErr *skimmer.APIError
		if errors.As(err, &apiErr) {
			assert.NotContains(t, fmt.Sprintf("%+v", *apiErr), testKey)
			assert.NotContains(t, apiErr.FieldSummary(), testKey)
		}
	}
	assert.Contains(t, e.logs.String(), "retrying")
	assert.NotContains(t, e.logs.String(), testKey)
}

// TestErrorsHoldNoPartOfTheKey: the client keeps the start of an error
// body (200 characters of text, 80 of an HTML title). A key echoed across
// that cut must not survive as its first characters: the key is removed
// before the text is cut.
func TestErrorsHoldNoPartOfTheKey(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cust := e.firstCustomer(t)
	ctx := context.Background()
	for _, f := range []sandbox.Fault{
		{Status: 500, Body: strings.Repeat("x", 190) + " " + testKey},
		{Status: 500, ContentType: "text/html", Body: "<html><title>" + strings.Repeat("y", 75) + testKey + "</title></html>"},
	} {
		f.Ops, f.Times = []skimmer.Operation{skimmer.OpGetCustomer}, 1
		e.sb.Inject(f)
		_, err := e.client.GetCustomer(ctx, cust.ID, false)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), testKey[:9], "the start of the key, cut off with the text")
		assert.Contains(t, err.Error(), "[red", "what is kept in its place")
	}
}

func TestAPIKeyPrintsRedacted(t *testing.T) {
	k := skimmer.APIKey(testKey)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%s %v %+v %#v %q", k, k, k, k, k)} {
		assert.NotContains(t, s, testKey)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "key", k)
	assert.NotContains(t, buf.String(), testKey)
	raw, err := json.Marshal(map[string]any{"k": k})
	require.NoError(t, err)
	assert.NotContains(t, string(raw), testKey)
}

func TestNullAndEmptySurviveARoundTrip(t *testing.T) {
	in := `{"id":"e265c9dee47c47c6a73f689b0df467ca","firstName":"Ann","lastName":null,"notes":"","homePhone":null,
		"tags":[{"id":"t1","name":"Weekly"}],"displayAsCompany":true,"createdAt":"2024-03-05T14:22:11.1234567","updatedAt":null}`
	var c skimmer.Customer
	require.NoError(t, json.Unmarshal([]byte(in), &c))
	out, err := json.Marshal(c.UpdateRequest())
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(out, &m))
	assert.Equal(t, "", m["notes"])
	assert.Contains(t, m, "lastName")
	assert.Nil(t, m["lastName"])
	assert.Equal(t, "Ann", m["firstName"])
	assert.Equal(t, true, m["displayAsCompany"])
	assert.Equal(t, []any{map[string]any{"id": "t1", "name": "Weekly"}}, m["tags"])
	assert.NotContains(t, m, "createdAt", "read-only fields are not sent")
	assert.Equal(t, time.Date(2024, 3, 5, 14, 22, 11, 123456700, time.UTC), c.CreatedAt.Time, "a zoneless ASP.NET timestamp reads as UTC")
	assert.True(t, c.UpdatedAt.IsZero())
}

func TestTimeFormats(t *testing.T) {
	for _, in := range []string{`"2024-03-05T14:22:11Z"`, `"2024-03-05T14:22:11.5+02:00"`, `"2024-03-05T14:22:11"`, `"2024-03-05"`, `null`, `""`} {
		var tm skimmer.Time
		assert.NoError(t, json.Unmarshal([]byte(in), &tm), in)
	}
	var tm skimmer.Time
	assert.Error(t, json.Unmarshal([]byte(`"last tuesday"`), &tm))
	b, _ := json.Marshal(skimmer.Time{})
	assert.Equal(t, "null", string(b))
}

func TestSearchEnvelopes(t *testing.T) {
	for _, env := range []string{"items", "data", "results", "bare"} {
		e := newEnv(t, sandbox.Options{Envelope: env})
		res, err := e.client.SearchCustomers(context.Background(), sieve.Query{Page: 2, PageSize: 7})
		require.NoError(t, err, env)
		assert.Len(t, res.Items, 7)
		assert.Equal(t, 2, res.Page)
		assert.Equal(t, 7, res.PageSize)
		if env == "bare" {
			assert.Equal(t, -1, res.Total, "unknown without an envelope")
		} else {
			assert.Equal(t, 80, res.Total)
		}
	}
}

// TestUnknownSearchShape: an answer in none of the known shapes is an
// unreadable response, reported like any other and not asked for again.
func TestUnknownSearchShape(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"rows":[],"count":0}`)
	}))
	defer srv.Close()
	c, err := skimmer.New(skimmer.Options{BaseURL: srv.URL, APIKey: testKey})
	require.NoError(t, err)
	_, err = c.SearchCustomers(context.Background(), sieve.Query{Page: 1, PageSize: 5})
	require.ErrorIs(t, err, skimmer.ErrBadResponse)
	assert.Contains(t, err.Error(), "no items, data or results array")
	var apiErr *skimmer.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, skimmer.OpSearchCustomers, apiErr.Op)
	assert.Equal(t, 200, apiErr.Status)
	assert.Equal(t, 1, apiErr.Attempts)
	assert.Equal(t, int32(1), calls.Load(), "a shape it cannot read is not retried")
}

func TestInvalidQueriesAreNeverSent(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	for _, q := range []sieve.Query{
		{Filters: []sieve.Filter{{Names: []string{"Notes"}, Op: sieve.Contains, Values: []sieve.Value{sieve.Text("x")}}}, Page: 1, PageSize: 5},
		{Filters: []sieve.Filter{{Names: []string{"LastName"}, Op: "~=", Values: []sieve.Value{sieve.Text("x")}}}, Page: 1, PageSize: 5},
		{Page: -1, PageSize: 5},
	} {
		_, err := e.client.SearchCustomers(context.Background(), q)
		assert.ErrorIs(t, err, sieve.ErrInvalid)
	}
	assert.Zero(t, e.sb.Count(skimmer.OpSearchCustomers))
}

func TestNewValidatesTheBaseURL(t *testing.T) {
	for _, bad := range []string{"publicapi.getskimmer.com", "ftp://x", "https://user:pw@x", "https://x/?key=1", "::"} {
		_, err := skimmer.New(skimmer.Options{BaseURL: bad})
		assert.ErrorContains(t, err, "must be an absolute http(s) URL", bad)
	}
	c, err := skimmer.New(skimmer.Options{})
	require.NoError(t, err)
	assert.Equal(t, skimmer.DefaultBaseURL, c.BaseURL())
	c, err = skimmer.New(skimmer.Options{BaseURL: "http://localhost:9/prefix/"})
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:9/prefix", c.BaseURL())
}

func TestUserAgentAndHeaders(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		assert.Equal(t, "/base/Customers/abc%2Fdef", r.URL.RawPath, "ids are escaped into the path")
		body, _ := json.Marshal(skimmer.Customer{ID: "x"}) // every field, as Skimmer sends them
		w.Write(body)
	}))
	defer srv.Close()
	c, err := skimmer.New(skimmer.Options{BaseURL: srv.URL + "/base", APIKey: testKey})
	require.NoError(t, err)
	_, err = c.GetCustomer(context.Background(), "abc/def", false)
	require.NoError(t, err)
	assert.Equal(t, testKey, got.Get("skimmer-api-key"))
	assert.True(t, strings.HasPrefix(got.Get("User-Agent"), "skimmer-mcp/"))
	assert.Equal(t, "application/json", got.Get("Accept"))
}

func TestTraceRecordsEachAttempt(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	id := e.firstCustomer(t).ID
	e.sb.Inject(sandbox.Fault{Status: 503, Times: 2})
	var tr skimmer.Trace
	_, err := e.client.GetCustomer(skimmer.WithTrace(context.Background(), &tr), id, false)
	require.NoError(t, err)
	var statuses []int
	for _, x := range tr.Exchanges() {
		statuses = append(statuses, x.Status)
		assert.Equal(t, skimmer.OpGetCustomer, x.Op)
	}
	assert.Equal(t, []int{503, 503, 200}, statuses)
}

// TestIgnoredSearchIsNoticed: when Skimmer's Sieve cannot apply a query it
// answers 200 with every customer (its default). The client tells that
// from a filtered page, by the page size or by a row the filters exclude.
func TestIgnoredSearchIsNoticed(t *testing.T) {
	e := newEnv(t, sandbox.Options{Unsearchable: []string{"Email4"}})
	email4 := func(pageSize int) sieve.Query {
		return sieve.Query{Filters: []sieve.Filter{{Names: []string{"Email4"}, Op: sieve.Equals, Values: []sieve.Value{sieve.Text("x@example.com")}}}, Page: 1, PageSize: pageSize}
	}
	_, err := e.client.SearchCustomers(context.Background(), email4(10))
	require.ErrorIs(t, err, skimmer.ErrSearchIgnored)
	assert.Contains(t, err.Error(), "it returned 80 customers for a page of 10")

	_, err = e.client.SearchCustomers(context.Background(), email4(100))
	require.ErrorIs(t, err, skimmer.ErrSearchIgnored)
	assert.Contains(t, err.Error(), "does not meet Email4==x@example.com")

	first := e.firstCustomer(t)
	res, err := e.client.SearchCustomers(context.Background(), sieve.Query{
		Filters: []sieve.Filter{{Names: []string{"Id"}, Op: sieve.EqualsIgnoreCase, Values: []sieve.Value{sieve.Text(strings.ToUpper(first.ID))}}}, Page: 1, PageSize: 100})
	require.NoError(t, err, "a search Sieve applies passes")
	require.Len(t, res.Items, 1)
	assert.Equal(t, first.ID, res.Items[0].ID)
}

// TestSearchCheckToleratesTheDatabase: rows a database's collation or time
// zone matched, and fields an answer leaves out, do not trip the check.
func TestSearchCheckToleratesTheDatabase(t *testing.T) {
	answer := `{"items":[
		{"id":"a","lastName":"SMITH  ","firstName":"José","createdAt":"2024-05-01T20:00:00","deleted":false},
		{"id":"b","lastName":"smith","firstName":"Jose","createdAt":"2024-05-02T03:00:00Z"},
		{"id":"c","lastName":"Smith","firstName":"JOSE","createdAt":"2024-05-02T00:00:00Z","deleted":false}
	],"totalCount":3}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, answer)
	}))
	defer srv.Close()
	c, err := skimmer.New(skimmer.Options{BaseURL: srv.URL, APIKey: testKey})
	require.NoError(t, err)
	res, err := c.SearchCustomers(context.Background(), sieve.Query{Filters: []sieve.Filter{
		{Names: []string{"LastName"}, Op: sieve.Equals, Values: []sieve.Value{sieve.Text("Smith")}},
		{Names: []string{"FirstName"}, Op: sieve.StartsWith, Values: []sieve.Value{sieve.Text("Jos")}},
		{Names: []string{"CreatedAt"}, Op: sieve.GreaterOrEqual, Values: []sieve.Value{sieve.Text("2024-05-02")}},
		{Names: []string{"Deleted"}, Op: sieve.Equals, Values: []sieve.Value{sieve.Text("false")}},
		{Names: []string{"Email4"}, Op: sieve.Equals, Values: []sieve.Value{sieve.Text("j@example.com")}}, // in no row's JSON
	}, Page: 1, PageSize: 3})
	require.NoError(t, err)
	assert.Len(t, res.Items, 3)

	answer = `{"items":[{"id":"d","lastName":"Jones","createdAt":"2024-05-02T00:00:00Z"}],"totalCount":1}`
	_, err = c.SearchCustomers(context.Background(), sieve.Query{Filters: []sieve.Filter{
		{Names: []string{"LastName"}, Op: sieve.Equals, Values: []sieve.Value{sieve.Text("Smith")}},
	}, Page: 1, PageSize: 3})
	assert.ErrorIs(t, err, skimmer.ErrSearchIgnored, "Jones is certainly not Smith")
}

// TestKeyHash: a key has one name, the same in every client and process,
// in the budget and wherever state is bound to a caller; it is made once
// per client, differs per key, is not the key's plain SHA-256 (which other
// systems may keep too), and never holds the key.
func TestKeyHash(t *testing.T) {
	const key = "sk-live-0123456789abcdef"
	var heard []skimmer.KeyHash
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"items":[],"totalCount":0}`))
	}))
	defer srv.Close()
	a, err := skimmer.New(skimmer.Options{APIKey: key, BaseURL: srv.URL, Budget: budgetFunc(func(k skimmer.KeyHash) { heard = append(heard, k) })})
	require.NoError(t, err)
	b := a.WithAPIKey("sk-live-fedcba9876543210")
	again, err := skimmer.New(skimmer.Options{APIKey: key, BaseURL: "http://127.0.0.1:1"})
	require.NoError(t, err)

	assert.Equal(t, skimmer.HashKey(key), a.KeyHash())
	assert.Equal(t, a.KeyHash(), again.KeyHash(), "the same key gives the same name in every client and process")
	assert.Equal(t, skimmer.HashKey("sk-live-fedcba9876543210"), b.KeyHash(), "a copy with another key has that key's name")
	assert.NotEqual(t, a.KeyHash(), b.KeyHash())
	assert.NotEqual(t, skimmer.KeyHash(sha256.Sum256([]byte(key))), a.KeyHash(), "domain-separated")
	assert.Regexp(t, `^[0-9a-f]{64}$`, a.KeyHash().String())
	assert.NotContains(t, a.KeyHash().String(), "0123456789abcdef")

	_, err = a.SearchCustomers(context.Background(), sieve.Query{Page: 1, PageSize: 1})
	require.NoError(t, err)
	require.NotEmpty(t, heard)
	for _, k := range heard {
		assert.Equal(t, a.KeyHash(), k, "the budget knows the key by the same name")
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = a.KeyHash() }), "made once, not per use")
}

// budgetFunc is a Budget that never holds, and tells which key it heard.
type budgetFunc func(skimmer.KeyHash)

func (f budgetFunc) Reserve(_ context.Context, k skimmer.KeyHash) (time.Duration, error) {
	f(k)
	return 0, nil
}

func (f budgetFunc) Observe(_ context.Context, k skimmer.KeyHash, _ skimmer.RateLimit) { f(k) }

// TestIncompleteRecord: a record without the fields Skimmer always sends
// is refused, not decoded into a record with those fields empty, which an
// update would send back and so wipe.
func TestIncompleteRecord(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	ctx := context.Background()
	all, err := e.client.AllCustomers(ctx, false)
	require.NoError(t, err)
	id := all[0].ID
	e.sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpGetCustomer}, Status: 200, Times: 1, ContentType: "application/json",
		Body: `{"id":"` + id + `","firstName":"Ann","lastName":"Lee","billingAddress":null}`})
	_, err = e.client.GetCustomer(ctx, id, false)
	require.ErrorIs(t, err, skimmer.ErrIncomplete)
	var apiErr *skimmer.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 1, e.sb.Count(skimmer.OpGetCustomer), "not retried")
	assert.Contains(t, apiErr.Missing, "billingCity")
	assert.NotContains(t, apiErr.Missing, "billingAddress", "null is a value Skimmer sent")
	assert.NotContains(t, apiErr.Missing, "serviceLocations", "only the fields an update sends back are required")
	_, err = e.client.GetCustomer(ctx, id, false)
	assert.NoError(t, err, "a whole record is read as before")
}
