package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sieve"
)

var idAtStart = regexp.MustCompile(`^[0-9a-f]{32} \| `)

func TestSearchCustomers(t *testing.T) {
	h := newHarness(t)
	text, isErr := h.call("search_customers", map[string]any{"text": "smith"})
	require.False(t, isErr, text)
	lines := strings.Split(text, "\n")
	want, err := h.sk.SearchCustomers(context.Background(), sieve.Query{Page: 1, PageSize: 100, Filters: []sieve.Filter{
		{Names: textFields, Op: sieve.ContainsIgnoreCase, Values: []sieve.Value{sieve.Text("smith")}},
		{Names: []string{"Deleted"}, Op: sieve.Equals, Values: []sieve.Value{sieve.Text("false")}},
	}})
	require.NoError(t, err)
	require.NotZero(t, want.Total)
	assert.Equal(t, fmt.Sprintf("%s; page 1 of 1.", plural(want.Total, "customer matches", "customers match")), lines[0])
	rows := lines[1:]
	require.Len(t, rows, want.Total)
	for i, row := range rows {
		assert.Regexp(t, idAtStart, row)
		assert.True(t, strings.HasPrefix(row, want.Items[i].ID), "the full id leads each line")
		assert.Contains(t, strings.ToLower(row), "smith")
	}

	// Several words must each match; filters and sorts go through.
	text, isErr = h.call("search_customers", map[string]any{
		"filters": []any{map[string]any{"field": "BillingState", "op": "==", "value": "TX"}},
		"sorts":   []any{"-CreatedAt"}, "pageSize": 5, "page": "2",
	})
	require.False(t, isErr, text)
	assert.Regexp(t, `^\d+ customers match; page 2 of \d+\.`, text)
	assert.Equal(t, 5, strings.Count(text, " TX |"))
	assert.Contains(t, text, "Next: page=3")
	last := h.sb.Requests()[len(h.sb.Requests())-1]
	assert.Contains(t, last.Query, "sorts=-CreatedAt")
	assert.Contains(t, last.Query, "filters=BillingState%3D%3DTX%2CDeleted%3D%3Dfalse")

	text, _ = h.call("search_customers", map[string]any{"text": "zzzzqqq"})
	assert.Contains(t, text, "No customers match.")
	text, _ = h.call("search_customers", map[string]any{"text": "smith", "page": 40})
	assert.Regexp(t, `^Page 40 is past the end: \d+ customers make 1 page\.$`, text)

	text, _ = h.call("search_customers", map[string]any{"text": "smith", "detail": true})
	assert.Contains(t, text, "created 20")
	assert.Contains(t, text, "code C-")
}

func TestListCustomers(t *testing.T) {
	h := newHarness(t)
	all, err := h.sk.AllCustomers(context.Background(), true)
	require.NoError(t, err)
	var active, inactive, leads, deleted int
	for _, c := range all {
		switch {
		case c.Deleted:
			deleted++
		case c.IsInactive:
			inactive++
		default:
			active++
		}
		if c.IsLead && !c.Deleted {
			leads++
		}
	}
	text, isErr := h.call("list_customers", map[string]any{})
	require.False(t, isErr)
	lines := strings.Split(text, "\n")
	assert.Equal(t, fmt.Sprintf("Customers 1-25 of %d (%d active, %d inactive, %d leads; deleted hidden).", active+inactive, active, inactive, leads), lines[0])
	assert.Len(t, lines, 1+25+1)
	assert.Equal(t, "Next: offset=25. To find someone, search_customers is faster.", lines[len(lines)-1])

	text, _ = h.call("list_customers", map[string]any{"limit": 2, "offset": active + inactive - 1})
	assert.Contains(t, text, "End of list.")
	assert.Equal(t, 1, len(idAtStartLines(text)))

	text, _ = h.call("list_customers", map[string]any{"offset": 5000})
	assert.Contains(t, text, fmt.Sprintf("No customers at offset 5000: there are %d", active+inactive))

	text, _ = h.call("list_customers", map[string]any{"includeDeleted": true, "limit": 200})
	assert.Contains(t, text, fmt.Sprintf("%d deleted)", deleted))
	assert.Len(t, idAtStartLines(text), len(all))
	assert.Contains(t, text, " (deleted) |")
}

func idAtStartLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if idAtStart.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}

func TestGetCustomerShowsEveryField(t *testing.T) {
	h := newHarness(t)
	c := h.customer(func(c *skimmer.Customer) bool {
		return c.CompanyName != nil && c.Notes != nil && c.SecondaryEmail != nil
	})
	text, isErr := h.call("get_customer", map[string]any{"id": c.ID})
	require.False(t, isErr, text)
	for _, v := range []*string{c.FirstName, c.LastName, c.CompanyName, c.MobilePhone, c.MobilePhone2, c.HomePhone, c.WorkPhone,
		c.PrimaryEmail, c.SecondaryEmail, c.Email3, c.Email4, c.BillingAddress, c.BillingCity, c.BillingState, c.BillingZip,
		c.Notes, c.CustomerCode, c.LeadSourceName} {
		if v != nil {
			assert.Contains(t, text, *v)
		}
	}
	for _, tag := range c.Tags {
		assert.Contains(t, text, tag.Name)
	}
	for _, l := range c.ServiceLocations {
		for _, v := range []*string{l.Address, l.GateCode, l.DogsName, l.Notes, l.LocationCode, l.RateType} {
			if v != nil {
				assert.Contains(t, text, *v)
			}
		}
	}
	assert.Contains(t, text, c.ID)
	assert.Contains(t, text, fmt.Sprintf("Service locations (%d):", len(c.ServiceLocations)))
	assert.NotContains(t, text, "null")

	deleted := h.customer(func(*skimmer.Customer) bool { return true })
	_ = deleted
	all, _ := h.sk.AllCustomers(context.Background(), true)
	i := slices.IndexFunc(all, func(c skimmer.Customer) bool { return c.Deleted })
	require.GreaterOrEqual(t, i, 0)
	_, isErr = h.call("get_customer", map[string]any{"id": all[i].ID})
	assert.True(t, isErr)
	text, isErr = h.call("get_customer", map[string]any{"id": all[i].ID, "includeDeleted": true})
	assert.False(t, isErr)
	assert.Contains(t, text, "| deleted")
}

func TestActivityReads(t *testing.T) {
	h := newHarness(t)
	var cust *skimmer.Customer
	var logs []skimmer.ActivityLog
	all, _ := h.sk.AllCustomers(context.Background(), false)
	for _, c := range all {
		l, err := h.sk.ListActivityLogs(context.Background(), c.ID)
		require.NoError(t, err)
		if len(l) >= 6 && slices.ContainsFunc(l, func(x skimmer.ActivityLog) bool { return x.IsSystemGenerated }) &&
			slices.ContainsFunc(l, func(x skimmer.ActivityLog) bool { return !x.IsSystemGenerated }) {
			cust, logs = &c, l
			break
		}
	}
	require.NotNil(t, cust)
	text, isErr := h.call("list_customer_activities", map[string]any{"customerId": cust.ID})
	require.False(t, isErr, text)
	rows := idAtStartLines(text)
	require.Len(t, rows, len(logs))
	var when []string
	for _, r := range rows {
		when = append(when, strings.Split(r, " | ")[1])
	}
	assert.True(t, slices.IsSortedFunc(when, func(a, b string) int { return strings.Compare(b, a) }), "newest first: %v", when)
	assert.Contains(t, text, "| system; ")

	text, _ = h.call("list_customer_activities", map[string]any{"customerId": cust.ID, "type": "system"})
	for _, r := range idAtStartLines(text) {
		assert.Contains(t, r, "| system")
	}
	text, _ = h.call("list_customer_activities", map[string]any{"customerId": cust.ID, "limit": 2})
	assert.Len(t, idAtStartLines(text), 2)
	assert.Contains(t, text, "Next: offset=2.")

	text, isErr = h.call("get_customer_activity", map[string]any{"customerId": cust.ID, "id": logs[0].ID})
	require.False(t, isErr, text)
	assert.Contains(t, text, logs[0].Title)
	assert.Contains(t, text, cust.ID)
}

func TestPreviewsSendNothing(t *testing.T) {
	h := newHarness(t)
	c := h.customer(func(c *skimmer.Customer) bool { return !c.IsInactive && len(c.Tags) > 0 })
	entry, err := h.sk.CreateActivityLog(context.Background(), c.ID, skimmer.ActivityLogRequest{Type: "Call", Title: "Preview target"})
	require.NoError(t, err)
	h.sb.ResetRequests()
	calls := []struct {
		tool string
		args map[string]any
		want []string
	}{
		{"create_customer", map[string]any{"firstName": "Wanda", "lastName": "Okafor", "primaryEmail": "wanda@example.com", "tags": []any{"Weekly"},
			"serviceLocations": []any{map[string]any{"address": "9 Lagoon Way", "city": "Tampa", "state": "FL", "gateCode": "1234#", "dogsName": "Rex"}}},
			[]string{"Would create this customer:", "Wanda Okafor", "wanda@example.com", "Tags: Weekly", "9 Lagoon Way, Tampa, FL", "gate 1234#; dog Rex"}},
		{"update_customer", map[string]any{"id": c.ID, "billingCity": "Houston", "removeTags": c.Tags[0].Name},
			[]string{"Would update customer " + displayName(c), fmt.Sprintf("billingCity: %q → \"Houston\"", *c.BillingCity), "tags: -" + c.Tags[0].Name, "Every other field stays as it is."}},
		{"deactivate_customers", map[string]any{"ids": []any{c.ID}, "deleteWorkOrders": true},
			[]string{"Would deactivate 1 customer:", c.ID, displayName(c), "Deletes: work orders. Keeps: route assignments"}},
		{"create_customer_activity", map[string]any{"customerId": c.ID, "type": "Email", "title": "Sent a quote"},
			[]string{"Would log on " + displayName(c), `Email "Sent a quote"`, `Email "Sent a quote", no author given (Skimmer will show "System")`}},
		{"update_customer_activity", map[string]any{"customerId": c.ID, "id": entry.ID, "title": "Called back"},
			[]string{`title: "Preview target" → "Called back"`}},
		{"delete_customer_activity", map[string]any{"customerId": c.ID, "id": entry.ID},
			[]string{"Would delete this entry for good:", "Preview target"}},
	}
	for _, tt := range calls {
		t.Run(tt.tool, func(t *testing.T) {
			text, isErr := h.call(tt.tool, tt.args)
			require.False(t, isErr, text)
			assert.True(t, strings.HasPrefix(text, "PREVIEW: nothing has been changed.\n"), text)
			assert.True(t, strings.HasSuffix(text, "call "+tt.tool+" again with the same arguments and confirm: true."), text)
			for _, w := range tt.want {
				assert.Contains(t, text, w)
			}
		})
	}
	assert.Zero(t, h.writes(), "no preview sent a write")
	assert.NotEmpty(t, h.sb.Requests(), "previews read the current state")
}

func TestConfirmedWrites(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	c := h.customer(func(c *skimmer.Customer) bool { return !c.IsInactive && len(c.Tags) > 0 })

	text, isErr := h.call("create_customer", map[string]any{"firstName": "Wanda", "lastName": "Okafor", "tags": []any{"Weekly", "Koi Pond"},
		"serviceLocations": []any{map[string]any{"address": "9 Lagoon Way", "rate": "45.5", "rateType": "PerStopPlusChemicals", "minutesAtStop": 30}}, "confirm": true})
	require.False(t, isErr, text)
	id := regexp.MustCompile(`id ([0-9a-f]{32})`).FindStringSubmatch(text)
	require.NotNil(t, id, text)
	created, err := h.sk.GetCustomer(ctx, id[1], false)
	require.NoError(t, err)
	assert.Equal(t, "Okafor", *created.LastName)
	assert.Equal(t, []string{"Weekly", "Koi Pond"}, []string{created.Tags[0].Name, created.Tags[1].Name})
	assert.Equal(t, 45.5, *created.ServiceLocations[0].Rate)
	assert.Equal(t, 30, *created.ServiceLocations[0].MinutesAtStop)

	text, isErr = h.call("create_customer_activity", map[string]any{"customerId": c.ID, "type": "text", "title": "Gate code updated", "description": "New code 4471#", "authorName": "Dana", "confirm": true})
	require.False(t, isErr, text)
	entryID := regexp.MustCompile(`entry id ([0-9a-f]{32})`).FindStringSubmatch(text)[1]
	entry, err := h.sk.GetActivityLog(ctx, c.ID, entryID)
	require.NoError(t, err)
	assert.Equal(t, "Text", entry.Type)
	assert.Equal(t, "Dana", *entry.CreatedByName)

	text, isErr = h.call("update_customer_activity", map[string]any{"customerId": c.ID, "id": entryID, "description": nil, "confirm": true})
	require.False(t, isErr, text)
	entry, _ = h.sk.GetActivityLog(ctx, c.ID, entryID)
	assert.Nil(t, entry.Description, "null cleared it")
	assert.Equal(t, "Gate code updated", entry.Title, "the title was kept")
	assert.Equal(t, "Text", entry.Type, "the type was kept")

	text, isErr = h.call("delete_customer_activity", map[string]any{"customerId": c.ID, "id": entryID, "confirm": true})
	require.False(t, isErr, text)
	_, err = h.sk.GetActivityLog(ctx, c.ID, entryID)
	assert.ErrorIs(t, err, skimmer.ErrNotFound)

	text, isErr = h.call("deactivate_customers", map[string]any{"ids": c.ID, "deleteTags": true, "confirm": true})
	require.False(t, isErr, text)
	assert.Contains(t, text, "Deactivated 1 customer:")
	after, _ := h.sk.GetCustomer(ctx, c.ID, false)
	assert.True(t, after.IsInactive)
	assert.Empty(t, after.Tags)
	assert.True(t, h.sb.Deactivations()[0].Request.DeleteTags)
	assert.False(t, h.sb.Deactivations()[0].Request.DeleteWorkOrders)
}

// TestUpdateMergeKeepsEveryOtherField is the guard against Skimmer's full
// replacement: a field the caller did not name must come back byte for
// byte.
func TestUpdateMergeKeepsEveryOtherField(t *testing.T) {
	h := newHarness(t)
	c := h.customer(func(c *skimmer.Customer) bool {
		return c.CompanyName != nil && c.SecondaryEmail != nil && c.Notes != nil && c.MobilePhone2 != nil && len(c.Tags) > 1
	})
	before := rawCustomer(t, h, c.ID)

	text, isErr := h.call("update_customer", map[string]any{"id": c.ID, "billingZip": "78701", "email3": nil, "homePhone": "", "addTags": []any{"VIP"}, "confirm": true})
	require.False(t, isErr, text)
	after := rawCustomer(t, h, c.ID)

	changed := map[string]bool{"billingZip": true, "email3": true, "homePhone": true, "tags": true, "updatedAt": true}
	for k, v := range before {
		if !changed[k] {
			assert.JSONEq(t, string(v), string(after[k]), "%s must not change", k)
		}
	}
	assert.JSONEq(t, `"78701"`, string(after["billingZip"]))
	assert.JSONEq(t, `null`, string(after["email3"]))
	assert.JSONEq(t, `""`, string(after["homePhone"]), `"" is a value, not null`)
	var tagsBefore, tagsAfter []skimmer.Tag
	require.NoError(t, json.Unmarshal(before["tags"], &tagsBefore))
	require.NoError(t, json.Unmarshal(after["tags"], &tagsAfter))
	assert.Equal(t, tagsBefore, tagsAfter[:len(tagsBefore)], "existing tags keep their ids and order")
	assert.Equal(t, "VIP", tagsAfter[len(tagsAfter)-1].Name)

	// The same values again: nothing to send.
	h.sb.ResetRequests()
	text, isErr = h.call("update_customer", map[string]any{"id": c.ID, "billingZip": "78701", "confirm": true})
	require.False(t, isErr)
	assert.Contains(t, text, "Nothing to change")
	assert.Zero(t, h.writes())
}

func rawCustomer(t testing.TB, h *harness, id string) map[string]json.RawMessage {
	t.Helper()
	c, err := h.sk.GetCustomer(context.Background(), id, false)
	require.NoError(t, err)
	raw, err := json.Marshal(c)
	require.NoError(t, err)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func TestErrorsReachTheModel(t *testing.T) {
	h := newHarness(t)
	c := h.customer(func(c *skimmer.Customer) bool { return true })
	var system *skimmer.ActivityLog
	all, _ := h.sk.AllCustomers(context.Background(), false)
	for _, cust := range all {
		logs, _ := h.sk.ListActivityLogs(context.Background(), cust.ID)
		if i := slices.IndexFunc(logs, func(l skimmer.ActivityLog) bool { return l.IsSystemGenerated }); i >= 0 {
			system = &logs[i]
			break
		}
	}
	require.NotNil(t, system)
	tests := []struct {
		name   string
		tool   string
		args   map[string]any
		fault  *sandbox.Fault
		want   string
		writes int
	}{
		{"unknown argument", "get_customer", map[string]any{"id": c.ID, "includeDeletd": true}, nil, `includeDeletd is not an argument of this tool (did you mean "includeDeleted"?)`, 0},
		{"wrong type", "list_customers", map[string]any{"limit": "lots"}, nil, `limit must be a number, not the text "lots"`, 0},
		{"missing required", "get_customer_activity", map[string]any{"customerId": c.ID}, nil, "id is required (Entry id)", 0},
		{"out of range", "list_customers", map[string]any{"limit": 201}, nil, "limit must be at most 200, not 201", 0},
		{"bad id", "get_customer", map[string]any{"id": "C-10023"}, nil, `id "C-10023" is not a Skimmer id (32 lower-case hex characters)`, 0},
		{"title too long", "create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": strings.Repeat("x", 61)}, nil, "title is 61 characters; the limit is 60", 0},
		{"title characters", "create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "Paid $50!"}, nil, "only letters, digits, dashes and spaces", 0},
		{"title of spaces", "create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "    "}, nil, `title "    " is not allowed: Skimmer allows only letters, digits, dashes and spaces in a title, and not spaces alone`, 0},
		{"new title of spaces", "update_customer_activity", map[string]any{"customerId": c.ID, "id": strings.Repeat("e", 32), "title": "  ", "confirm": true}, nil, `title "  " is not allowed`, 0},
		{"author name too long", "create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "x", "authorName": strings.Repeat("a", 10000)}, nil, "authorName is 10000 characters; the limit is 100", 0},
		{"editor id too long", "update_customer_activity", map[string]any{"customerId": c.ID, "id": strings.Repeat("e", 32), "title": "x", "authorId": strings.Repeat("a", 101)}, nil, "authorId is 101 characters; the limit is 100", 0},
		{"description too long", "create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "x", "description": strings.Repeat("d", 301)}, nil, "description is 301 characters; the limit is 300", 0},
		{"bad type", "create_customer_activity", map[string]any{"customerId": c.ID, "type": "Fax", "title": "x"}, nil, `type must be one of Call, Text, Email, Other, not "Fax"`, 0},
		{"bad filter", "search_customers", map[string]any{"filters": []any{map[string]any{"field": "Notes", "op": "==", "value": "x"}}}, nil, `filters[0].field must be one of Id, FirstName`, 0},
		{"filter field in part", "search_customers", map[string]any{"filters": []any{map[string]any{"field": "City", "op": "==", "value": "Austin"}}}, nil, `not "City" (did you mean BillingCity?)`, 0},
		{"filter field in several", "search_customers", map[string]any{"filters": []any{map[string]any{"field": "phone", "op": "==", "value": "x"}}}, nil, `not "phone" (did you mean one of MobilePhone, MobilePhone2, HomePhone, WorkPhone?)`, 0},
		{"filter field misspelt", "search_customers", map[string]any{"filters": []any{map[string]any{"field": "LastNme", "op": "==", "value": "x"}}}, nil, `not "LastNme" (did you mean LastName?)`, 0},
		{"bad sort", "search_customers", map[string]any{"sorts": []any{"Notes"}}, nil, `Invalid search: cannot sort by "Notes"`, 0},
		{"bad filter value", "search_customers", map[string]any{"filters": []any{map[string]any{"field": "IsInactive", "op": "==", "value": "maybe"}}}, nil, `Invalid search: IsInactive: takes true or false, not "maybe"`, 0},
		{"not found", "get_customer", map[string]any{"id": strings.Repeat("f", 32)}, nil, "Skimmer has no customer with that id, or it is deleted.", 0},
		{"entry not found", "get_customer_activity", map[string]any{"customerId": c.ID, "id": strings.Repeat("e", 32)}, nil, "Skimmer has no such activity entry for this customer.", 0},
		{"rejected by Skimmer", "create_customer", map[string]any{"notes": "no name", "confirm": true}, nil, "Skimmer rejected the request; nothing was changed. FirstName: A customer needs a first name", 1},
		{"system entry", "delete_customer_activity", map[string]any{"customerId": system.CustomerID, "id": system.ID}, nil, "was written by Skimmer itself", 0},
		{"rate limited", "get_customer", map[string]any{"id": c.ID}, &sandbox.Fault{Status: 429, RetryAfter: 42}, "rate limit for this API key is used up. Wait 42s, then call again.", 0},
		{"unauthorized", "get_customer", map[string]any{"id": c.ID}, &sandbox.Fault{Status: 401}, "Tell the user to check SKIMMER_API_KEY", 0},
		{"forbidden", "create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "x", "confirm": true}, &sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpCreateActivityLog}, Status: 403}, "does not allow this API key to do this (403)", 1},
		{"outcome unknown", "create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "x", "confirm": true}, &sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpCreateActivityLog}, Status: 504, Apply: true}, "may or may not have been applied", 1},
		{"upstream down", "list_customers", map[string]any{}, &sandbox.Fault{Status: 503}, "Skimmer is failing (HTTP 503) after 5 tries", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.sb.ClearFaults()
			if tt.fault != nil {
				h.sb.Inject(*tt.fault)
			}
			h.sb.ResetRequests()
			text, isErr := h.call(tt.tool, tt.args)
			assert.True(t, isErr, text)
			assert.Contains(t, text, tt.want)
			assert.Equal(t, tt.writes, h.writes())
			assert.NotContains(t, text, "test-key-2f9c41d7")
		})
	}
	h.sb.ClearFaults()
	_, isErr := h.call("get_customer", map[string]any{"id": c.ID})
	assert.False(t, isErr, "the server keeps serving")
}

func TestUnreachableSkimmer(t *testing.T) {
	h := newHarness(t)
	c := h.customer(func(*skimmer.Customer) bool { return true })
	h.http.Close()
	text, isErr := h.call("get_customer", map[string]any{"id": c.ID})
	assert.True(t, isErr)
	assert.Contains(t, text, "Could not reach Skimmer, so nothing was sent.")
}

func TestPanicIsRecovered(t *testing.T) {
	panicked := false
	var h *harness
	h = newHarness(t, func(s *setup) {
		s.cfg.Client = func(context.Context) (*skimmer.Client, error) {
			if !panicked {
				panicked = true
				panic("boom")
			}
			return h.sk, nil
		}
	})
	text, isErr := h.call("list_customers", map[string]any{})
	assert.True(t, isErr)
	assert.Contains(t, text, "list_customers failed with an internal error")
	assert.Contains(t, h.logs.String(), `msg="tool call panicked" tool=list_customers panic=boom stack=`)
	_, isErr = h.call("list_customers", map[string]any{})
	assert.False(t, isErr, "the next call is served")
}

func TestReadOnlyAndAllowList(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.ReadOnly = true })
	res, err := h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	var names, reads []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
		assert.True(t, *tl.Annotations.ReadOnlyHint, tl.Name)
	}
	for _, tl := range Catalogue() {
		if !tl.Write {
			reads = append(reads, tl.Name)
		}
	}
	assert.Equal(t, reads, names)
	// A hidden write tool is refused with the reason, not as unknown.
	text, isErr := h.call("update_customer", map[string]any{"id": strings.Repeat("a", 32), "notes": "x", "confirm": true})
	assert.True(t, isErr, "a write tool cannot be called in read-only mode")
	assert.Equal(t, "Nothing was changed: this server only reads from Skimmer (it runs with --read-only), so update_customer is not available.", text)
	assert.Zero(t, h.writes())
	prompts, err := h.client.ListPrompts(context.Background(), mcp.ListPromptsRequest{})
	require.NoError(t, err)
	for _, p := range prompts.Prompts {
		assert.NotContains(t, []string{"log_contact", "win_back"}, p.Name, "a prompt that writes is not offered read-only")
	}
	assert.NotEmpty(t, prompts.Prompts, "the reading ones are")

	h = newHarness(t, func(s *setup) { s.cfg.Tools = []string{"search_customers", "get_customer"} })
	res, err = h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	assert.Len(t, res.Tools, 2)
	text, isErr = h.call("list_customers", nil)
	assert.True(t, isErr)
	assert.Equal(t, "list_customers is not among the tools this server offers (--tools): get_customer, search_customers.", text)
	templates, err := h.client.ListResourceTemplates(context.Background(), mcp.ListResourceTemplatesRequest{})
	require.NoError(t, err)
	require.Len(t, templates.ResourceTemplates, 1, "the card, whose tool is offered; not the activity log, whose tool is not")
	assert.Equal(t, "skimmer://customers/{+customer}", templates.ResourceTemplates[0].URITemplate.Raw())

	_, err = New(Config{Client: func(context.Context) (*skimmer.Client, error) { return nil, nil }, Tools: []string{"serch_customers"}})
	assert.ErrorContains(t, err, `unknown tool "serch_customers"`)
}

func TestUnknownToolIsAProtocolError(t *testing.T) {
	h := newHarness(t)
	_, err := h.callRaw("drain_pool", map[string]any{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "drain_pool")
}

func TestOneLogLinePerCallWithoutSecrets(t *testing.T) {
	h := newHarness(t)
	c := h.customer(func(c *skimmer.Customer) bool { return c.PrimaryEmail != nil })
	h.sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpGetCustomer}, Status: 503, Times: 1})
	h.call("get_customer", map[string]any{"id": c.ID})
	h.call("search_customers", map[string]any{"text": *c.PrimaryEmail})
	h.call("update_customer", map[string]any{"id": c.ID, "primaryEmail": "new.address@example.com"})
	logs := h.logs.String()
	assert.Equal(t, 3, strings.Count(logs, "msg=\"tool call\""), logs)
	assert.Contains(t, logs, "tool=get_customer outcome=ok")
	assert.Contains(t, logs, "upstream=503,200")
	assert.Contains(t, logs, "tool=update_customer outcome=preview")
	for _, secret := range []string{"test-key-2f9c41d7", *c.PrimaryEmail, "new.address@example.com"} {
		assert.NotContains(t, logs, secret)
	}
}

func TestOutputIsBounded(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.sandbox.Customers = 2000 })
	text, isErr := h.call("list_customers", map[string]any{"limit": 200, "detail": true})
	require.False(t, isErr)
	assert.LessOrEqual(t, len(text), maxChars+200)
	shown := len(idAtStartLines(text))
	assert.Less(t, shown, 200, "detail lines are long; the cap stops the list early")
	assert.Contains(t, text, "line(s) cut to keep this answer short")
	assert.Contains(t, text, fmt.Sprintf("Next: offset=%d.", shown), "the next page starts right after the last line shown")
	assert.True(t, strings.HasPrefix(text, fmt.Sprintf("Customers 1-%d of ", shown)), "the header counts the lines shown: %.80s", text)
	assert.Contains(t, text, fmt.Sprintf("[%d more line(s) cut", 200-shown), "the note counts every line left out")
}

func TestSealedConfirmationState(t *testing.T) {
	now := epoch
	s := newSealer([]byte("k"), func() time.Time { return now })
	state, err := s.seal(sealedState{Tool: "update_customer", Args: []byte("args"), Caller: "alice", Preview: []byte("preview")})
	require.NoError(t, err)
	st, err := s.open(state, "update_customer", []byte("args"), "alice")
	require.NoError(t, err)
	assert.Equal(t, []byte("preview"), st.Preview)

	_, err = s.open(state, "delete_customer_activity", []byte("args"), "alice")
	assert.ErrorContains(t, err, "different call")
	_, err = s.open(state, "update_customer", []byte("other args"), "alice")
	assert.ErrorContains(t, err, "different call")
	_, err = s.open(state, "update_customer", []byte("args"), "bob")
	assert.ErrorContains(t, err, "given to a different API key")
	_, err = newSealer([]byte("other key"), time.Now).open(state, "update_customer", []byte("args"), "alice")
	assert.ErrorContains(t, err, "not issued by this server")
	_, err = s.open(state[:len(state)-3]+"AAA", "update_customer", []byte("args"), "alice")
	assert.Error(t, err)
	_, err = s.open("garbage", "update_customer", []byte("args"), "alice")
	assert.ErrorContains(t, err, "malformed")

	now = now.Add(11 * time.Minute)
	_, err = s.open(state, "update_customer", []byte("args"), "alice")
	assert.ErrorContains(t, err, "expired")
}

func TestExplainLeavesBugsAlone(t *testing.T) {
	assert.Nil(t, explain(context.Background(), errors.New("a nil map somewhere"), nil, false))
	assert.NotNil(t, explain(context.Background(), context.Canceled, nil, false))
}

// TestUnauthorizedSaysWhereTheKeyCameFrom: a key Skimmer refuses is fixed
// where it came from: the server's setting, the caller's client, or the
// connector's sign-in, which a person redoes by adding it again.
func TestUnauthorizedSaysWhereTheKeyCameFrom(t *testing.T) {
	h := newHarness(t)
	c := h.customer(func(*skimmer.Customer) bool { return true })
	for _, tt := range []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"the server's key", context.Background(), "Skimmer refused the API key (401): it is wrong or was revoked. Tell the user to check SKIMMER_API_KEY in this server's settings."},
		{"a header", WithKeySource(context.Background(), KeyFromHeader), "Skimmer refused the API key (401): it is wrong or was revoked. Tell the user to check the key their app sends to this server (in its skimmer-api-key, x-api-key or Authorization header)."},
		{"a sign-in", WithKeySource(context.Background(), KeyFromSignIn), "Skimmer refused the API key (401): it was revoked or replaced since the user signed in. Tell the user to sign in again: remove this connector and add it again, with their current Skimmer API key."},
	} {
		h.sb.Inject(sandbox.Fault{Status: 401, Times: 1})
		raw, err := json.Marshal(h.server.MCP().HandleMessage(tt.ctx, json.RawMessage(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_customer","arguments":{"id":"`+c.ID+`"}}}`)))
		require.NoError(t, err)
		var resp struct{ Result mcp.CallToolResult }
		require.NoError(t, json.Unmarshal(raw, &resp))
		assert.True(t, resp.Result.IsError, tt.name)
		require.Len(t, resp.Result.Content, 1)
		assert.Equal(t, tt.want, resp.Result.Content[0].(mcp.TextContent).Text, tt.name)
	}
}

// TestCancelledAfterSendingIsUnknown: a write that left for Skimmer and was
// then cancelled may have been applied; saying it was cancelled "before
// Skimmer answered" would invite a second one.
func TestCancelledAfterSendingIsUnknown(t *testing.T) {
	sent := &skimmer.TransportError{Op: skimmer.OpCreateCustomer, Method: "POST", Sent: true, Attempts: 1, Err: &url.Error{Op: "Post", URL: "http://skimmer", Err: context.Canceled}}
	require.ErrorIs(t, sent, context.Canceled)
	assert.Equal(t, "outcome_unknown", explain(context.Background(), sent, nil, false).class.String())
	notSent := &skimmer.TransportError{Op: skimmer.OpCreateCustomer, Method: "POST", Sent: false, Attempts: 1, Err: context.Canceled}
	assert.Equal(t, "cancelled", explain(context.Background(), notSent, nil, false).class.String())
	read := &skimmer.TransportError{Op: skimmer.OpGetCustomer, Method: "GET", Sent: true, Attempts: 1, Err: context.Canceled}
	assert.Equal(t, "cancelled", explain(context.Background(), read, nil, false).class.String())
}

// TestConcurrentUpdatesOfOneCustomer: a burst of confirmed updates to
// different fields of one customer, all at once. Skimmer replaces the whole
// record on every update and has no ETags, so without care the last write
// would wipe the others; this server re-reads under a per-record lock, so
// every update survives. (Writers outside this process can still interleave
// between one read and its write: the README says so.)
func TestConcurrentUpdatesOfOneCustomer(t *testing.T) {
	h := newHarness(t)
	c := h.customer(func(c *skimmer.Customer) bool { return c.CompanyName != nil })
	before := rawCustomer(t, h, c.ID)
	fields := []string{"billingAddress", "billingCity", "billingZip", "homePhone", "workPhone", "notes", "customerCode", "secondaryEmail", "email3", "email4"}
	var wg sync.WaitGroup
	errs := make(chan string, len(fields))
	for _, f := range fields {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := h.callRaw("update_customer", map[string]any{"id": c.ID, f: "set-" + f + "@example.com", "confirm": true})
			if err != nil || res.IsError {
				errs <- fmt.Sprintf("%s: %v %v", f, err, res)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	after := rawCustomer(t, h, c.ID)
	for _, f := range fields {
		assert.JSONEq(t, `"set-`+f+`@example.com"`, string(after[f]), "%s survived the burst", f)
	}
	for k, v := range before {
		if !slices.Contains(fields, k) && k != "updatedAt" {
			assert.JSONEq(t, string(v), string(after[k]), "%s was not touched", k)
		}
	}
	assert.Equal(t, len(fields), h.writes(), "one PUT each")
}

func TestSearchWordsAndLenientFilters(t *testing.T) {
	assert.Equal(t, []string{"Smith", "Emily"}, searchWords("Smith, Emily"))
	assert.Equal(t, []string{"512", "555", "0176"}, searchWords("(512) 555-0176"))
	assert.Equal(t, []string{"o'brien", "ann.lee+pool@example.com"}, searchWords(" o'brien; ann.lee+pool@example.com "))

	h := newHarness(t)
	c := h.customer(func(c *skimmer.Customer) bool {
		return c.MobilePhone != nil && c.FirstName != nil && c.LastName != nil && !c.IsInactive
	})
	digits := strings.NewReplacer("(", "", ")", "", " ", "-").Replace(*c.MobilePhone) // (512) 555-0176 → 512-555-0176
	for _, text := range []string{*c.LastName + ", " + *c.FirstName, digits} {
		out, isErr := h.call("search_customers", map[string]any{"text": text})
		require.False(t, isErr, out)
		assert.Contains(t, out, c.ID, "%q finds the customer", text)
	}
	// A search by a second phone shows that phone, not the first one.
	two := h.customer(func(c *skimmer.Customer) bool {
		return c.MobilePhone != nil && c.WorkPhone != nil && *c.MobilePhone != *c.WorkPhone && !c.IsInactive
	})
	out, isErr := h.call("search_customers", map[string]any{"text": *two.WorkPhone})
	require.False(t, isErr, out)
	line := idAtStartLines(out)[slices.IndexFunc(idAtStartLines(out), func(l string) bool { return strings.HasPrefix(l, two.ID) })]
	assert.Contains(t, line, compactPhone(*two.WorkPhone), "the phone that matched")
	assert.NotContains(t, line, compactPhone(*two.MobilePhone))

	out, isErr = h.call("search_customers", map[string]any{"filters": []any{map[string]any{"field": "IsInactive", "op": "==", "value": true}}})
	assert.False(t, isErr, "a boolean value for a true/false field: %s", out)
	assert.Contains(t, out, "(inactive)")

	out, isErr = h.call("search_customers", map[string]any{"text": "smith", "page": 400000000000000000})
	assert.True(t, isErr)
	assert.Contains(t, out, "Invalid search: page must be from 1 to 2147483647")
}

func TestEarlyRateLimitOnAReadChangesNothingToSay(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.sandbox.RateLimit = 2 })
	c := h.customer(func(*skimmer.Customer) bool { return true }) // spends the window's two requests
	text, isErr := h.call("get_customer", map[string]any{"id": c.ID})
	assert.True(t, isErr)
	assert.Contains(t, text, "rate limit for this API key is used up. Wait")
	assert.NotContains(t, text, "nothing was changed", "a read changes nothing anyway")
}

func TestListCountsInWords(t *testing.T) {
	one := &listSink{limit: 25, total: 3, active: 2, inactive: 1, leads: 1, page: []skimmer.Customer{{ID: strings.Repeat("a", 32)}}}
	assert.Contains(t, renderList(one, listCustomersArgs{Limit: 25}), "(2 active, 1 inactive, 1 lead; deleted hidden)")
	one.leads = 2
	assert.Contains(t, renderList(one, listCustomersArgs{Limit: 25}), "2 leads;")
}

// TestReadOnlyCaller: one caller marked read-only sees the read tools only
// and is told why a write is refused; the same server serves others in full.
func TestReadOnlyCaller(t *testing.T) {
	h := newHarness(t)
	ro := WithReadOnlyCaller(context.Background())
	list := func(ctx context.Context) []string {
		raw, err := json.Marshal(h.server.MCP().HandleMessage(ctx, json.RawMessage(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)))
		require.NoError(t, err)
		var resp struct{ Result mcp.ListToolsResult }
		require.NoError(t, json.Unmarshal(raw, &resp))
		var names []string
		for _, tl := range resp.Result.Tools {
			names = append(names, tl.Name)
		}
		return names
	}
	var reads []string
	for _, tl := range Catalogue() {
		if !tl.Write {
			reads = append(reads, tl.Name)
		}
	}
	assert.Equal(t, reads, list(ro))
	assert.Len(t, list(context.Background()), len(Catalogue()), "another caller of the same server sees every tool")

	c := h.customer(func(*skimmer.Customer) bool { return true })
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"update_customer","arguments":{"id":"` + c.ID + `","notes":"x","confirm":true}}}`
	raw, err := json.Marshal(h.server.MCP().HandleMessage(ro, json.RawMessage(call)))
	require.NoError(t, err)
	var resp struct{ Result mcp.CallToolResult }
	require.NoError(t, json.Unmarshal(raw, &resp))
	require.True(t, resp.Result.IsError)
	assert.Equal(t, "Nothing was changed: this connection may only read from Skimmer, so update_customer is not available. To make changes, the user can remove this connector, add it again and choose read and change.", resp.Result.Content[0].(mcp.TextContent).Text)
	assert.Zero(t, h.writes(), "nothing reached Skimmer")

	raw, err = json.Marshal(h.server.MCP().HandleMessage(ro, json.RawMessage(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_customer","arguments":{"id":"`+c.ID+`"}}}`)))
	require.NoError(t, err)
	assert.NotContains(t, string(raw), `"isError":true`, "a read is served")

	// A prompt that would write is not offered to them either.
	raw, err = json.Marshal(h.server.MCP().HandleMessage(ro, json.RawMessage(`{"jsonrpc":"2.0","id":4,"method":"prompts/list"}`)))
	require.NoError(t, err)
	assert.NotContains(t, string(raw), `"log_contact"`)
	assert.Contains(t, string(raw), `"customer_brief"`)
	raw, err = json.Marshal(h.server.MCP().HandleMessage(ro, json.RawMessage(`{"jsonrpc":"2.0","id":5,"method":"prompts/get","params":{"name":"log_contact","arguments":{"customer":"x","what":"y"}}}`)))
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"code":-32602`, "a prompt this caller is not offered is not there for them: invalid params, not an internal error")
}
