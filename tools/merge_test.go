package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

// TestUpdateRefusesAPartialRecord: Skimmer's update replaces the whole
// record, so a merge built from a re-read that came back without some
// fields would send them empty and wipe them. It must refuse, say so as an
// upstream fault, and send nothing.
func TestUpdateRefusesAPartialRecord(t *testing.T) {
	h := newHarness(t)
	c := h.customer(func(c *skimmer.Customer) bool {
		return c.BillingAddress != nil && c.PrimaryEmail != nil && c.Notes != nil && c.MobilePhone != nil
	})
	entry, err := h.sk.CreateActivityLog(context.Background(), c.ID, skimmer.ActivityLogRequest{Type: "Call", Title: "Partial target", Description: ptrTo("kept")})
	require.NoError(t, err)
	before := rawCustomer(t, h, c.ID)

	for _, tt := range []struct {
		name, tool, body string
		op               skimmer.Operation
		args             map[string]any
		lacked           string
	}{
		{"customer with three fields", "update_customer", fmt.Sprintf(`{"id":%q,"firstName":"Ann","lastName":"Lee"}`, c.ID), skimmer.OpGetCustomer,
			map[string]any{"id": c.ID, "billingCity": "Austin", "confirm": true}, "billingAddress, billingCity, billingState and 22 more"},
		{"customer as {}", "update_customer", `{}`, skimmer.OpGetCustomer,
			map[string]any{"id": c.ID, "billingCity": "Austin", "confirm": true}, "id, billingAddress, billingCity and 25 more"},
		{"entry without its description", "update_customer_activity", fmt.Sprintf(`{"id":%q,"customerId":%q,"type":"Call","title":"Partial target","isSystemGenerated":false}`, entry.ID, c.ID), skimmer.OpGetActivityLog,
			map[string]any{"customerId": c.ID, "id": entry.ID, "title": "Renamed", "confirm": true}, "description"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h.sb.ClearFaults()
			h.sb.ResetRequests()
			// The preview reads the whole record; the re-read right before
			// the write comes back partial.
			preview := with(tt.args, "confirm", false)
			text, isErr := h.call(tt.tool, preview)
			require.False(t, isErr, text)
			h.sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{tt.op}, Status: 200, Body: tt.body, ContentType: "application/json"})
			text, isErr = h.call(tt.tool, tt.args)
			assert.True(t, isErr, text)
			assert.Equal(t, "Skimmer sent the record without fields it always sends ("+tt.lacked+"), so it was not used. Nothing was changed: an update built from it would have wiped those fields. Try again in a minute; if it keeps happening, Skimmer is failing.", text)
			assert.Zero(t, h.writes(), "nothing was sent")
		})
	}
	h.sb.ClearFaults()
	assert.Equal(t, before, rawCustomer(t, h, c.ID), "the customer is as it was")
	got, err := h.sk.GetActivityLog(context.Background(), c.ID, entry.ID)
	require.NoError(t, err)
	assert.Equal(t, "kept", *got.Description)

	// A read of a partial record says so too, rather than showing a
	// customer with no address as if they had none.
	h.sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpGetCustomer}, Status: 200, Body: `{"id":"` + c.ID + `"}`, ContentType: "application/json"})
	text, isErr := h.call("get_customer", map[string]any{"id": c.ID})
	assert.True(t, isErr)
	assert.True(t, strings.HasPrefix(text, "Skimmer sent the record without fields it always sends"), text)
	assert.NotContains(t, text, "Nothing was changed", "a read changes nothing anyway")
}

// TestUpdateNamesTheRecordAsItIs: a preview, a dialog and the answer name
// the customer as the record stands before the change, not by the name the
// update gives them, and the record read is left as it was.
func TestUpdateNamesTheRecordAsItIs(t *testing.T) {
	h := newHarness(t)
	c := h.customer(func(c *skimmer.Customer) bool { return c.FirstName != nil && c.CompanyName == nil })
	was := *c.FirstName + " " + *c.LastName
	text, isErr := h.call("update_customer", map[string]any{"id": c.ID, "firstName": "Renamed"})
	require.False(t, isErr, text)
	assert.Contains(t, text, "Would update customer "+was+", id "+c.ID+":\n  firstName: \""+*c.FirstName+"\" → \"Renamed\"")
	text, isErr = h.call("update_customer", map[string]any{"id": c.ID, "firstName": "Renamed", "confirm": true})
	require.False(t, isErr, text)
	assert.Contains(t, text, "Updated customer "+was+", id "+c.ID+":")

	cur := &skimmer.Customer{CustomerFields: skimmer.CustomerFields{FirstName: ptrTo("Emily"), LastName: ptrTo("Smith")}}
	req := cur.UpdateRequest()
	var patch customerFields[Patch[string]]
	require.NoError(t, json.Unmarshal([]byte(`{"firstName":"Emilia"}`), &patch))
	_, err := mergeFields(&req.CustomerFields, patch)
	require.NoError(t, err)
	assert.Equal(t, "Emilia", *req.FirstName)
	assert.Equal(t, "Emily", *cur.FirstName, "the record read is not changed by the merge")
}

// TestUpstreamRequestsPerWrite counts what a preview and its confirmed
// call cost at Skimmer, each request a share of the key's 500 a minute: a
// create at most 2, an update at most 3, a deactivation of 39 customers 3,
// whether the model confirms (flag) or the person does (elicitation). An update's write is built from a read
// made right before it, under the record's lock.
func TestUpstreamRequestsPerWrite(t *testing.T) {
	type step struct{ method, op string }
	for _, mode := range []string{"flag", "elicit"} {
		h := newHarness(t, func(s *setup) {
			if mode == "elicit" {
				s.cfg.Confirm = ConfirmElicit
			}
		})
		c := h.customer(func(c *skimmer.Customer) bool { return c.Notes != nil })
		entry, err := h.sk.CreateActivityLog(context.Background(), c.ID, skimmer.ActivityLogRequest{Type: "Call", Title: "Counted"})
		require.NoError(t, err)
		all, err := h.sk.AllCustomers(context.Background(), false)
		require.NoError(t, err)
		var others []string
		for _, o := range all[:40] {
			if o.ID != c.ID {
				others = append(others, o.ID)
			}
		}
		for _, tt := range []struct {
			tool, args string
			most       int
			want       []skimmer.Operation
		}{
			{"create_customer", `{"firstName":"Count","lastName":"Me"}`, 2, []skimmer.Operation{skimmer.OpCreateCustomer}},
			{"create_customer_activity", `{"customerId":"` + c.ID + `","type":"Call","title":"Counted call"}`, 2,
				[]skimmer.Operation{skimmer.OpGetCustomer, skimmer.OpCreateActivityLog}},
			{"update_customer", `{"id":"` + c.ID + `","notes":"Counted note"}`, 3,
				[]skimmer.Operation{skimmer.OpGetCustomer, skimmer.OpGetCustomer, skimmer.OpUpdateCustomer}},
			{"update_customer_activity", `{"customerId":"` + c.ID + `","id":"` + entry.ID + `","title":"Counted again"}`, 3,
				[]skimmer.Operation{skimmer.OpGetActivityLog, skimmer.OpGetActivityLog, skimmer.OpUpdateActivityLog}},
			// The preview reads its customers with one search, however many
			// (up to a page), not one read each.
			{"deactivate_customers", `{"ids":["` + strings.Join(others, `","`) + `"]}`, 3,
				[]skimmer.Operation{skimmer.OpSearchCustomers, skimmer.OpSearchCustomers, skimmer.OpDeactivateCustomers}},
		} {
			t.Run(mode+"/"+tt.tool, func(t *testing.T) {
				h.sb.ResetRequests()
				var text string
				if mode == "flag" {
					var args map[string]any
					require.NoError(t, json.Unmarshal([]byte(tt.args), &args))
					preview, _ := h.call(tt.tool, args)
					require.True(t, strings.HasPrefix(preview, "PREVIEW"), preview)
					text, _ = h.call(tt.tool, with(args, "confirm", true))
				} else {
					state := question(t, h.server, tt.tool, tt.args)
					answer := accepted
					if tt.tool == "deactivate_customers" { // a removal needs the count typed
						answer = fmt.Sprintf(`{"action":"accept","content":{"typed":"%d"}}`, len(others))
					}
					text, _ = answerWith(t, h.server, tt.tool, tt.args, state, answer)
				}
				require.NotContains(t, text, "PREVIEW")
				var ops []skimmer.Operation
				for _, r := range h.sb.Requests() {
					ops = append(ops, r.Op)
				}
				assert.Equal(t, tt.want, ops, "%s: %s", tt.tool, text)
				assert.LessOrEqual(t, len(ops), tt.most)
			})
		}
	}
}

// TestUnnamedAuthorIsNotSkimmer: an entry a person logs without naming an
// author is stored by Skimmer as by "System", like Skimmer's own entries.
// The preview, the listing and the entry say no author was given; only
// Skimmer's own entries are by System.
func TestUnnamedAuthorIsNotSkimmer(t *testing.T) {
	h := newHarness(t)
	c := h.customer(func(*skimmer.Customer) bool { return true })
	args := map[string]any{"customerId": c.ID, "type": "Call", "title": "Left a voicemail"}
	text, isErr := h.call("create_customer_activity", args)
	require.False(t, isErr, text)
	assert.Contains(t, text, `Call "Left a voicemail", no author given (Skimmer will show "System")`)
	text, isErr = h.call("create_customer_activity", with(args, "confirm", true))
	require.False(t, isErr, text)
	id := text[strings.LastIndex(text, " ")+1 : len(text)-1]

	text, isErr = h.call("list_customer_activities", map[string]any{"customerId": c.ID})
	require.False(t, isErr, text)
	assert.Contains(t, text, id+" | ")
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, id):
			assert.Contains(t, line, "| Call | Left a voicemail | no author given", line)
		case strings.HasSuffix(line, "| System") || strings.Contains(line, "| System |"):
			assert.Contains(t, line, "| system", "only Skimmer's own entries are by System: %s", line)
		}
	}
	text, isErr = h.call("get_customer_activity", map[string]any{"customerId": c.ID, "id": id})
	require.False(t, isErr, text)
	assert.Contains(t, text, `logged by a person`)
	assert.Contains(t, text, `UTC, no author given (Skimmer shows "System"); updated `)
	assert.NotContains(t, text, "by System")

	text, isErr = h.call("update_customer_activity", map[string]any{"customerId": c.ID, "id": id, "title": "Left two voicemails", "authorName": "Dana Whitfield"})
	require.False(t, isErr, text)
	assert.Contains(t, text, "Edited by Dana Whitfield.")
}
