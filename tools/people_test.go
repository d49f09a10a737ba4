package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// What the person in the loop uses directly: resources they attach,
// prompts they start, and the suggestions as they type.

func (h *harness) read(uri string) (string, error) {
	h.t.Helper()
	res, err := h.client.ReadResource(context.Background(), mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: uri}})
	if err != nil {
		return "", err
	}
	require.Len(h.t, res.Contents, 1)
	tc, ok := res.Contents[0].(mcp.TextResourceContents)
	require.True(h.t, ok)
	assert.Equal(h.t, uri, tc.URI)
	assert.Equal(h.t, "text/plain", tc.MIMEType)
	return tc.Text, nil
}

func (h *harness) complete(ref any, arg, value string) []string {
	h.t.Helper()
	var req mcp.CompleteRequest
	req.Params.Ref = ref
	req.Params.Argument.Name, req.Params.Argument.Value = arg, value
	res, err := h.client.Complete(context.Background(), req)
	require.NoError(h.t, err)
	return res.Completion.Values
}

func cardURI(v string) string { return "skimmer://customers/" + url.PathEscape(v) }

// TestTemplatesDoNotOverlap: a URI one template makes is read by that
// template alone. mcp-go tries templates in no fixed order, so two that
// match one URI would answer it by chance.
func TestTemplatesDoNotOverlap(t *testing.T) {
	var all []Resource
	for _, a := range areas() {
		all = append(all, a.Resources...)
	}
	for _, r := range all {
		uri := templateVar.ReplaceAllString(r.URITemplate.Raw(), url.PathEscape("Ann O'Brien / Pools (Austin TX)"))
		for _, other := range all {
			assert.Equal(t, r.Name == other.Name, other.URITemplate.Regexp().MatchString(uri), "%s, expanded as %s, against %s", r.URITemplate.Raw(), uri, other.URITemplate.Raw())
		}
	}
}

var templateVar = regexp.MustCompile(`\{\+?\w+\}`)

func TestResourceTemplates(t *testing.T) {
	h := newHarness(t)
	res, err := h.client.ListResourceTemplates(context.Background(), mcp.ListResourceTemplatesRequest{})
	require.NoError(t, err)
	got := map[string]mcp.ResourceTemplate{}
	for _, rt := range res.ResourceTemplates {
		got[rt.URITemplate.Raw()] = rt
		assert.NotEmpty(t, rt.Title)
		assert.NotEmpty(t, rt.Description)
		assert.Equal(t, "text/plain", rt.MIMEType)
		require.Len(t, rt.Icons, 1)
	}
	assert.Contains(t, got, "skimmer://customers/{+customer}")
	assert.Contains(t, got, "skimmer://activity/{+customer}")

	c := h.customer(func(c *skimmer.Customer) bool {
		return c.PrimaryEmail != nil && c.LastName != nil && c.CompanyName == nil && !c.IsInactive
	})
	tool, _ := h.call("get_customer", map[string]any{"id": c.ID})
	card, err := h.read(cardURI(c.ID))
	require.NoError(t, err)
	assert.Equal(t, tool, card, "the card is get_customer's text")

	// Picked from the suggestions: the label the completion gave.
	labels := h.complete(mcp.ResourceReference{Type: "ref/resource", URI: "skimmer://customers/{+customer}"}, "customer", *c.LastName)
	label := customerLabels([]skimmer.Customer{*c})[0]
	require.Contains(t, labels, label)
	card, err = h.read(cardURI(label))
	require.NoError(t, err)
	assert.Equal(t, tool, card)

	logText, err := h.read("skimmer://activity/" + url.PathEscape(label))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(logText, fmt.Sprintf("Activity of %s, id %s.\n", displayName(c), c.ID)), logText)
	list, _ := h.call("list_customer_activities", map[string]any{"customerId": c.ID})
	assert.Contains(t, logText, list, "then list_customer_activities' first page")
}

func TestResourceNamesAPerson(t *testing.T) {
	h := newHarness(t)
	all, err := h.sk.AllCustomers(context.Background(), false)
	require.NoError(t, err)
	byLast := map[string][]skimmer.Customer{}
	for _, c := range all {
		if c.LastName != nil && c.CompanyName == nil {
			byLast[*c.LastName] = append(byLast[*c.LastName], c)
		}
	}
	var shared string
	for last, cs := range byLast {
		if len(cs) > 1 && (shared == "" || last < shared) {
			shared = last
		}
	}
	require.NotEmpty(t, shared, "the seed has a last name several customers share")

	text, err := h.read(cardURI(shared))
	require.NoError(t, err, "several matches are a choice, not an error")
	assert.Regexp(t, `^\d+ customers match "`+shared+`"; name one by its id \(skimmer://customers/[0-9a-f]{32} is the first\)\.`, text)
	for _, c := range byLast[shared] {
		assert.Contains(t, text, c.ID)
	}

	// What a person can act on is the resource's text, as a tool's
	// isError is: an error answer (-32603) is what a bug gets.
	text, err = h.read(cardURI("Zzyzx Quux"))
	require.NoError(t, err)
	assert.Equal(t, `No customer matches "Zzyzx Quux". Type part of a name and pick one of the suggestions, or give an id from search_customers.`, text)

	text, err = h.read(cardURI(strings.Repeat("f", 32)))
	require.NoError(t, err)
	assert.Equal(t, customerNotFound, text)
	assert.Contains(t, h.logs.String(), `msg="resource read" resource=customer outcome=not_found`)

	// Two customers who share a name and a city are told apart by their
	// ids, in the suggestion and in what it reads.
	twin := byLast[shared][0]
	for range 2 {
		_, err := h.sk.CreateCustomer(context.Background(), skimmer.CreateCustomerRequest{CustomerFields: skimmer.CustomerFields{
			FirstName: ptrTo("Twin"), LastName: ptrTo("Quokka"), BillingCity: twin.BillingCity, BillingState: twin.BillingState}, ServiceLocations: []skimmer.ServiceLocation{}})
		require.NoError(t, err)
	}
	labels := h.complete(mcp.ResourceReference{Type: "ref/resource", URI: "skimmer://customers/{+customer}"}, "customer", "quokka")
	require.Len(t, labels, 2)
	assert.NotEqual(t, labels[0], labels[1])
	for _, l := range labels {
		assert.Regexp(t, `^Twin Quokka \(.+ [A-Z]{2}, [0-9a-f]{6}\)$`, l)
		text, err := h.read(cardURI(l))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(text, "Twin Quokka | "+l[len(l)-7:len(l)-1]), "the one picked: %s", text)
	}
}

func TestCompletions(t *testing.T) {
	h := newHarness(t)
	c := h.customer(func(c *skimmer.Customer) bool { return c.CompanyName == nil && c.BillingCity != nil && !c.IsInactive })
	card := mcp.ResourceReference{Type: "ref/resource", URI: "skimmer://customers/{+customer}"}
	assert.Empty(t, h.complete(card, "customer", "s"), "one letter is too little to look up")
	got := h.complete(card, "customer", strings.ToLower((*c.FirstName)[:3])+" "+strings.ToLower(*c.LastName))
	assert.Contains(t, got, fmt.Sprintf("%s %s (%s %s)", *c.FirstName, *c.LastName, *c.BillingCity, *c.BillingState))
	assert.LessOrEqual(t, len(h.complete(card, "customer", "an")), maxCompletions)

	logContact := mcp.PromptReference{Type: "ref/prompt", Name: "log_contact"}
	assert.Equal(t, []string{"Call"}, h.complete(logContact, "type", "ca"))
	assert.Equal(t, []string{"Call", "Text", "Email", "Other"}, h.complete(logContact, "type", ""))
	assert.Contains(t, h.complete(logContact, "customer", *c.LastName), customerLabels([]skimmer.Customer{*c})[0])
	assert.Empty(t, h.complete(logContact, "what", "anything"), "free text has no suggestions")

	place := h.complete(mcp.PromptReference{Type: "ref/prompt", Name: "win_back"}, "area", (*c.BillingCity)[:3])
	assert.Contains(t, place, *c.BillingCity+" "+*c.BillingState)
	assert.Contains(t, h.complete(mcp.PromptReference{Type: "ref/prompt", Name: "win_back"}, "area", "t"), "TX")

	assert.Empty(t, h.complete(mcp.PromptReference{Type: "ref/prompt", Name: "no_such_prompt"}, "x", "abc"), "an unknown prompt has nothing to suggest")

	// A lookup that fails suggests nothing rather than failing the typing.
	h.http.Close()
	assert.Empty(t, h.complete(card, "customer", "smith"))
}

func TestPrompts(t *testing.T) {
	h := newHarness(t)
	res, err := h.client.ListPrompts(context.Background(), mcp.ListPromptsRequest{})
	require.NoError(t, err)
	byName := map[string]mcp.Prompt{}
	for _, p := range res.Prompts {
		byName[p.Name] = p
		assert.NotEmpty(t, p.Title)
		assert.NotEmpty(t, p.Description)
		require.Len(t, p.Icons, 1)
		for _, a := range p.Arguments {
			assert.NotEmpty(t, a.Description, "%s.%s", p.Name, a.Name)
		}
	}
	require.Len(t, byName, 4)

	get := func(name string, args map[string]string) string {
		t.Helper()
		r, err := h.client.GetPrompt(context.Background(), mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: name, Arguments: args}})
		require.NoError(t, err)
		require.Len(t, r.Messages, 1)
		assert.Equal(t, mcp.RoleUser, r.Messages[0].Role)
		return r.Messages[0].Content.(mcp.TextContent).Text
	}
	text := get("log_contact", map[string]string{"customer": "Emily Smith (Austin TX)", "what": "Asked about a heater quote", "type": "text", "by": "Dana"})
	for _, want := range []string{`Log a text with the customer "Emily Smith (Austin TX)" in Skimmer: Asked about a heater quote`,
		`search_customers (text: "Emily Smith")`, "type Text;", `authorName "Dana"`, "create_customer_activity without confirm", "confirm only after I approve"} {
		assert.Contains(t, text, want)
	}
	id := strings.Repeat("a", 32)
	text = get("customer_brief", map[string]string{"customer": id})
	assert.Contains(t, text, "No search needed: their id is "+id+".")
	assert.Contains(t, text, "change nothing")

	text = get("win_back", map[string]string{"area": "Austin TX", "offer": "a free first visit"})
	assert.Contains(t, text, `search_customers with filters [{"field":"IsInactive","op":"==","value":"true"},{"field":"BillingCity","op":"==*","value":"Austin"},{"field":"BillingState","op":"==","value":"TX"}]`)
	assert.Contains(t, text, "offering a free first visit")
	assert.Contains(t, get("win_back", map[string]string{"area": "fl"}), `{"field":"BillingState","op":"==","value":"FL"}`)
	assert.Contains(t, get("find_duplicates", nil), "Change nothing.")

	// Started without what it needs (hosts ask for required arguments,
	// but not every client does), a workflow asks the person for it in the
	// conversation, rather than failing.
	text = get("log_contact", map[string]string{"customer": " "})
	assert.True(t, strings.HasPrefix(text, "Log a call with a customer in Skimmer. Ask me what happened, in a sentence or two.\n1. Ask me which customer I mean (a name or an id), then find them with search_customers."), text)
	text = get("customer_brief", nil)
	assert.True(t, strings.HasPrefix(text, "Give me a one-page brief on a customer.\n1. Ask me which customer I mean (a name or an id), then find them with search_customers. If several match,"), text)
	text = get("win_back", nil)
	assert.True(t, strings.HasPrefix(text, "Help me win back inactive customers in a city or state: ask me which first.\n1. Find them: search_customers with filters [{\"field\":\"IsInactive\",\"op\":\"==\",\"value\":\"true\"}] and, for the place I name, "), text)
	text = get("log_contact", map[string]string{"customer": id, "what": "Dropped off a test kit", "type": "Fax"})
	assert.Contains(t, text, `type: Skimmer has Call, Text, Email and Other, not "Fax": ask me which;`)
	assert.Zero(t, len(h.sb.Requests()), "prompts ask Skimmer nothing")
}

// TestFailuresAreNotInternalErrors: JSON-RPC's internal error (-32603) is
// what a bug gets. A resource a person picked that cannot be read says why
// in its text; a prompt started without its arguments still starts.
func TestFailuresAreNotInternalErrors(t *testing.T) {
	h := newHarness(t)
	for _, msg := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"skimmer://customers/` + strings.Repeat("f", 32) + `"}}`,
		`{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"skimmer://customers/Zzyzx%20Quux"}}`,
		`{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"skimmer://activity/` + strings.Repeat("f", 32) + `"}}`,
		`{"jsonrpc":"2.0","id":4,"method":"prompts/get","params":{"name":"customer_brief"}}`,
		`{"jsonrpc":"2.0","id":5,"method":"prompts/get","params":{"name":"log_contact","arguments":{"customer":"Smith"}}}`,
	} {
		raw, err := json.Marshal(h.server.MCP().HandleMessage(context.Background(), json.RawMessage(msg)))
		require.NoError(t, err)
		assert.NotContains(t, string(raw), `"error"`, "%s\n→ %s", msg, raw)
		assert.Contains(t, string(raw), `"result"`, msg)
	}
}
