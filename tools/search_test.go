package tools

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sieve"
)

// TestSearchRefusesWhatSieveThrowsOn: ordering text, and null where a field
// is never null, make Sieve throw, and by default answer with every
// customer. The tool refuses them before any request, naming the rule and
// the fix.
func TestSearchRefusesWhatSieveThrowsOn(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct {
		name   string
		filter map[string]any
		want   string
	}{
		{"text ordered", map[string]any{"field": "LastName", "op": ">", "value": "M"},
			"Invalid search: LastName is text and cannot be compared with > (only CreatedAt and UpdatedAt can); use _= for starts with. Nothing was sent."},
		{"text ordered, any of them", map[string]any{"field": "BillingZip", "op": "<=", "value": "78000"}, "BillingZip is text and cannot be compared with <="},
		{"null on true/false", map[string]any{"field": "IsInactive", "op": "==", "value": nil}, "Invalid search: IsInactive is never null; compare it with true or false. Nothing was sent."},
		{"null on a date", map[string]any{"field": "CreatedAt", "op": "!=", "value": "null"}, "Invalid search: CreatedAt is never null; compare it with a date. Nothing was sent."},
		{"null with contains", map[string]any{"field": "LastName", "op": "@=", "value": nil}, "null goes only with == or != (is, or is not, empty), not with @="},
		{"case-blind on a date", map[string]any{"field": "UpdatedAt", "op": "==*", "value": "2024-05-01"}, "operator ==* only works on text fields, and UpdatedAt is a date-time"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h.sb.ResetRequests()
			text, isErr := h.call("search_customers", map[string]any{"filters": []any{tt.filter}})
			assert.True(t, isErr)
			assert.Contains(t, text, tt.want)
			assert.Empty(t, h.sb.Requests(), "refused before any request")
		})
	}
}

// TestNoSearchTheToolSendsIsIgnored sweeps what search_customers can be
// asked, every field with every operator and a spread of values, against
// the sandbox in Sieve's silent mode: each search is either refused before
// it is sent, or applied by Sieve. None comes back unfiltered.
func TestNoSearchTheToolSendsIsIgnored(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.sandbox.Customers, s.sandbox.RateLimit = 40, -1 })
	values := []any{nil, "null", "NULL", "Smith", "Smith (Jr)", `a,b|c\d`, "x==y!@=z", "*star", "2024-05-01", "2024-05-01T14:00:00Z", "true", "False", "", " padded"}
	sent, refused := 0, 0
	try := func(args map[string]any) {
		h.sb.ResetRequests()
		text, isErr := h.call("search_customers", args)
		reqs := h.sb.Requests()
		if len(reqs) == 0 {
			require.True(t, isErr, "%v: no request and no refusal: %s", args, text)
			require.True(t, strings.HasPrefix(text, "Invalid search: ") || strings.HasPrefix(text, "Invalid arguments: "), text)
			refused++
			return
		}
		sent++
		for _, r := range reqs {
			require.Empty(t, r.SieveError, "%v was sent as %s, on which Sieve fails", args, r.Query)
		}
		assert.NotContains(t, text, "did not apply this search", "%v", args)
	}
	for _, field := range skimmer.CustomerSearch.Filterable() {
		for _, op := range sieve.Ops() {
			for _, v := range values {
				try(map[string]any{"filters": []any{map[string]any{"field": field, "op": string(op), "value": v}}, "pageSize": 5})
			}
		}
	}
	for _, text := range []string{"smith", "O'Brien & Sons", `a,b|c\d==e`, "(512) 555-0176", "null", "日本"} {
		try(map[string]any{"text": text})
	}
	for _, so := range skimmer.CustomerSearch.Sortable() {
		try(map[string]any{"sorts": []any{so, "-" + so}})
		try(map[string]any{"sorts": []any{"-" + so}})
	}
	t.Logf("%d searches sent, %d refused before sending", sent, refused)
	assert.Greater(t, sent, 1000)
	assert.Greater(t, refused, 500)
}

// TestIgnoredSearchIsNotShownAsMatches: when Skimmer's Sieve does fail (here
// the sandbox does not know two of the documented fields) and answers with
// every customer, the model is told, and shown no rows.
func TestIgnoredSearchIsNotShownAsMatches(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.sandbox.Customers = 30
		s.sandbox.Unsearchable = []string{"Email4", "CompanyName"}
	})
	for _, args := range []map[string]any{
		{"filters": []any{map[string]any{"field": "Email4", "op": "==", "value": "pat@example.com"}}},
		{"filters": []any{map[string]any{"field": "CompanyName", "op": "@=*", "value": "pools"}}, "pageSize": 100},
		{"text": "smith", "pageSize": 100}, // the free text searches CompanyName and Email4 too
		{"text": "smith"},
	} {
		h.sb.ResetRequests()
		text, isErr := h.call("search_customers", args)
		assert.True(t, isErr, "%v: %s", args, text)
		assert.True(t, strings.HasPrefix(text, "Skimmer did not apply this search, so no customers are listed: "), text)
		assert.Contains(t, text, ". Try the words and filters one at a time to find the one it does not take.")
		for _, c := range h.sb.Requests() {
			assert.NotEmpty(t, c.SieveError, "the sandbox did ignore it")
		}
		all, err := h.sk.AllCustomers(t.Context(), true)
		require.NoError(t, err)
		for _, c := range all {
			assert.NotContains(t, text, displayName(&c), "no customer is listed")
		}
	}
	text, isErr := h.call("search_customers", map[string]any{"filters": []any{map[string]any{"field": "IsInactive", "op": "==", "value": "false"}}})
	assert.False(t, isErr, "the searchable fields still search: %s", text)
}

// TestDeactivatePreviewReadsOneSearch: the preview reads its customers with
// one search, Id==a|b|..., and asks for each one the search did not return
// on its own.
func TestDeactivatePreviewReadsOneSearch(t *testing.T) {
	h := newHarness(t)
	all, err := h.sk.AllCustomers(t.Context(), true)
	require.NoError(t, err)
	var active, inactive, deleted []skimmer.Customer
	for _, c := range all {
		switch {
		case c.Deleted:
			deleted = append(deleted, c)
		case c.IsInactive:
			inactive = append(inactive, c)
		default:
			active = append(active, c)
		}
	}
	require.NotEmpty(t, inactive)
	require.NotEmpty(t, deleted)
	require.GreaterOrEqual(t, len(active), 50)

	ids := func(cs ...skimmer.Customer) []any {
		out := []any{}
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	ops := func() []skimmer.Operation {
		var out []skimmer.Operation
		for _, r := range h.sb.Requests() {
			out = append(out, r.Op)
		}
		return out
	}

	h.sb.ResetRequests()
	text, isErr := h.call("deactivate_customers", map[string]any{"ids": ids(active[0], inactive[0], active[1])})
	require.False(t, isErr, text)
	assert.Equal(t, []skimmer.Operation{skimmer.OpSearchCustomers}, ops(), "one request")
	assert.Contains(t, text, "Would deactivate 3 customers:\n- "+active[0].ID+" | "+displayName(&active[0]))
	assert.Contains(t, text, inactive[0].ID+" | "+displayName(&inactive[0]))
	assert.Contains(t, text, "(already inactive)")
	assert.Less(t, strings.Index(text, active[0].ID), strings.Index(text, inactive[0].ID), "in the order given")
	assert.Less(t, strings.Index(text, inactive[0].ID), strings.Index(text, active[1].ID))

	h.sb.ResetRequests()
	text, isErr = h.call("deactivate_customers", map[string]any{"ids": ids(active[:50]...)})
	require.False(t, isErr, text)
	assert.Equal(t, []skimmer.Operation{skimmer.OpSearchCustomers}, ops(), "a full page of ids, one request")
	assert.Contains(t, text, "Would deactivate 50 customers:")

	// What the search does not return is asked for alone: a deleted
	// customer, and an id nobody has.
	for _, missing := range []string{deleted[0].ID, strings.Repeat("f", 32)} {
		h.sb.ResetRequests()
		text, isErr = h.call("deactivate_customers", map[string]any{"ids": []any{active[2].ID, missing}})
		assert.True(t, isErr)
		assert.Equal(t, fmt.Sprintf("No customer has the id %s (or it is deleted); nothing was changed. Check the ids with search_customers.", missing), text)
		assert.Equal(t, []skimmer.Operation{skimmer.OpSearchCustomers, skimmer.OpGetCustomer}, ops())
	}

	// Confirmed: the preview's search, then the write.
	h.sb.ResetRequests()
	text, isErr = h.call("deactivate_customers", map[string]any{"ids": ids(active[3], active[4]), "confirm": true})
	require.False(t, isErr, text)
	assert.Contains(t, text, "Deactivated 2 customers:")
	assert.Equal(t, []skimmer.Operation{skimmer.OpSearchCustomers, skimmer.OpDeactivateCustomers}, ops())
}

// TestDeactivatePreviewFallsBackWhenTheSearchCannotServe: a Skimmer whose
// search does not know Id (or ignores the query) costs a GET per id, not
// a wrong preview.
func TestDeactivatePreviewFallsBackWhenTheSearchCannotServe(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.sandbox.Unsearchable = []string{"Id"} })
	a := h.customer(func(c *skimmer.Customer) bool { return !c.IsInactive })
	b := h.customer(func(c *skimmer.Customer) bool { return c.ID != a.ID && !c.IsInactive })
	h.sb.ResetRequests()
	text, isErr := h.call("deactivate_customers", map[string]any{"ids": []any{a.ID, b.ID}})
	require.False(t, isErr, text)
	assert.Contains(t, text, "Would deactivate 2 customers:\n- "+a.ID+" | "+displayName(a))
	assert.Equal(t, 1, h.sb.Count(skimmer.OpSearchCustomers))
	assert.Equal(t, 2, h.sb.Count(skimmer.OpGetCustomer))
}

// TestActivityToolsUseThePortalRoutes: every activity tool reaches Skimmer
// under /CustomerActivityLogs/, the developer portal's root.
func TestActivityToolsUseThePortalRoutes(t *testing.T) {
	h := newHarness(t)
	c := h.customer(func(*skimmer.Customer) bool { return true })
	text, isErr := h.call("create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "Asked about a heater", "confirm": true})
	require.False(t, isErr, text)
	logs, err := h.sk.ListActivityLogs(t.Context(), c.ID)
	require.NoError(t, err)
	var entry string
	for _, l := range logs {
		if l.Title == "Asked about a heater" {
			entry = l.ID
		}
	}
	require.NotEmpty(t, entry)
	h.sb.ResetRequests()
	for _, call := range []struct {
		tool string
		args map[string]any
	}{
		{"list_customer_activities", map[string]any{"customerId": c.ID}},
		{"get_customer_activity", map[string]any{"customerId": c.ID, "id": entry}},
		{"update_customer_activity", map[string]any{"customerId": c.ID, "id": entry, "title": "Quoted a heater", "confirm": true}},
		{"delete_customer_activity", map[string]any{"customerId": c.ID, "id": entry, "confirm": true}},
		{"create_customer_activity", map[string]any{"customerId": c.ID, "type": "Text", "title": "Sent the quote", "confirm": true}},
	} {
		text, isErr := h.call(call.tool, call.args)
		require.False(t, isErr, "%s: %s", call.tool, text)
	}
	seen := map[skimmer.Operation]bool{}
	for _, r := range h.sb.Requests() {
		switch r.Op {
		case skimmer.OpListActivityLogs, skimmer.OpGetActivityLog, skimmer.OpCreateActivityLog, skimmer.OpUpdateActivityLog, skimmer.OpDeleteActivityLog:
			seen[r.Op] = true
			assert.True(t, strings.HasPrefix(r.Path, "/CustomerActivityLogs/"+c.ID), "%s %s", r.Method, r.Path)
		}
	}
	assert.Len(t, seen, 5, "every activity operation was called")
}
