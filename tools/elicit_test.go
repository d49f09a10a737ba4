package tools

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// person answers elicitations the way a test tells it to, and remembers
// what it was asked.
type person struct {
	mu      sync.Mutex
	answers []mcp.ElicitationResponse // one per question; the last repeats
	before  func(n int)               // runs before answering question n
	asked   []mcp.ElicitationParams
}

func (p *person) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	p.mu.Lock()
	n := len(p.asked)
	p.asked = append(p.asked, req.Params)
	before := p.before
	answer := p.answers[min(n, len(p.answers)-1)]
	p.mu.Unlock()
	if before != nil {
		before(n)
	}
	return &mcp.ElicitationResult{ElicitationResponse: answer}, nil
}

func (p *person) questions() []mcp.ElicitationParams {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]mcp.ElicitationParams(nil), p.asked...)
}

func accept(content map[string]any) mcp.ElicitationResponse {
	return mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept, Content: content}
}

var (
	approve = accept(map[string]any{"approve": true})
	decline = mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}
	cancel  = mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionCancel}
)

// eras are the two ways a server asks a person: the 2026-07-28 protocol's
// multi round-trip input requests, and the older server-to-client
// elicitation/create.
var eras = []string{mcp.LATEST_PROTOCOL_VERSION, mcp.ProtocolVersion20250618}

func elicitingHarness(t *testing.T, protocol string, p *person, opts ...func(*setup)) *harness {
	return newHarness(t, append([]func(*setup){func(s *setup) {
		s.cfg.Confirm = ConfirmElicit
		s.cfg.ServerRequests = true
		s.protocol = protocol
		s.elicit = p
	}}, opts...)...)
}

func TestElicitationAnswers(t *testing.T) {
	for _, protocol := range eras {
		for _, tt := range []struct {
			name   string
			answer mcp.ElicitationResponse
			writes int
			want   string
		}{
			{"accept", approve, 1, `Logged Call "Asked about the heater"`},
			{"decline", decline, 0, "The user declined; nothing was changed."},
			{"cancel", cancel, 0, "The user declined; nothing was changed."},
			{"accept unticked", accept(map[string]any{"approve": false}), 0, "The user did not approve; nothing was changed."},
			{"accept as shown", accept(nil), 1, `Logged Call "Asked about the heater"`},
		} {
			t.Run(protocol+"/"+tt.name, func(t *testing.T) {
				p := &person{answers: []mcp.ElicitationResponse{tt.answer}}
				h := elicitingHarness(t, protocol, p)
				c := h.customer(func(*skimmer.Customer) bool { return true })
				// The model's confirm flag alone is not enough: the person is asked.
				text, isErr := h.call("create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "Asked about the heater", "confirm": true})
				require.False(t, isErr, text)
				assert.Contains(t, text, tt.want)
				assert.Equal(t, tt.writes, h.writes(), "written exactly %d time(s)", tt.writes)
				qs := p.questions()
				require.Len(t, qs, 1)
				assert.Contains(t, qs[0].Message, "Would log on "+displayName(c), "the person sees the same preview the flag mode shows")
				assert.NotContains(t, qs[0].Message, "confirm: true", "and no instructions meant for the model")
				schema := qs[0].RequestedSchema.(map[string]any)
				box := schema["properties"].(map[string]any)["approve"].(map[string]any)
				assert.Equal(t, true, box["default"], "the box starts ticked: Accept applies")
				assert.NotContains(t, schema, "required", "nothing to fill in before Accept")
			})
		}
	}
}

func TestElicitationForRemovalsNeedsTyping(t *testing.T) {
	for _, protocol := range eras {
		t.Run(protocol, func(t *testing.T) {
			p := &person{answers: []mcp.ElicitationResponse{accept(map[string]any{"typed": "yes"})}}
			h := elicitingHarness(t, protocol, p)
			c := h.customer(func(c *skimmer.Customer) bool { return !c.IsInactive })
			text, _ := h.call("deactivate_customers", map[string]any{"ids": []any{c.ID}})
			assert.Contains(t, text, `The user typed "yes", not `)
			assert.Zero(t, h.writes())
			q := p.questions()[0]
			typed := q.RequestedSchema.(map[string]any)["properties"].(map[string]any)["typed"].(map[string]any)
			assert.Equal(t, "Type the customer's name to deactivate them: "+displayName(c), typed["title"])

			p.answers = []mcp.ElicitationResponse{accept(map[string]any{"typed": " " + strings.ToUpper(displayName(c)) + " "})}
			text, _ = h.call("deactivate_customers", map[string]any{"ids": []any{c.ID}})
			assert.Contains(t, text, "Deactivated 1 customer")
			assert.Equal(t, 1, h.writes())
		})
	}
}

func TestElicitationFallsBackToTheFlag(t *testing.T) {
	// A client without the capability: the confirm flag decides.
	h := newHarness(t, func(s *setup) { s.cfg.Confirm = ConfirmElicit; s.cfg.ServerRequests = true })
	c := h.customer(func(*skimmer.Customer) bool { return true })
	text, _ := h.call("create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "Fallback"})
	assert.True(t, strings.HasPrefix(text, "PREVIEW"), text)
	text, _ = h.call("create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "Fallback", "confirm": true})
	assert.Contains(t, text, "Logged")
	assert.Equal(t, 1, h.writes())

	// An older client on a transport that cannot carry requests to it.
	p := &person{answers: []mcp.ElicitationResponse{approve}}
	h = elicitingHarness(t, mcp.ProtocolVersion20250618, p, func(s *setup) { s.cfg.ServerRequests = false })
	text, _ = h.call("create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "Fallback"})
	assert.True(t, strings.HasPrefix(text, "PREVIEW"), text)
	assert.Empty(t, p.questions())
}

func TestConfirmPolicies(t *testing.T) {
	p := &person{answers: []mcp.ElicitationResponse{approve}}
	h := elicitingHarness(t, mcp.LATEST_PROTOCOL_VERSION, p, func(s *setup) { s.cfg.Confirm = ConfirmFlag })
	c := h.customer(func(*skimmer.Customer) bool { return true })
	text, _ := h.call("create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "Flag policy"})
	assert.True(t, strings.HasPrefix(text, "PREVIEW"), "flag: the client could elicit, but is not asked")
	assert.Empty(t, p.questions())

	h = elicitingHarness(t, mcp.LATEST_PROTOCOL_VERSION, p, func(s *setup) { s.cfg.Confirm = ConfirmNone })
	text, _ = h.call("create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "No policy"})
	assert.Contains(t, text, "Logged", "none: applied at once")
	assert.Empty(t, p.questions())
	assert.Equal(t, 1, h.writes())

	for in, want := range map[string]ConfirmPolicy{"": ConfirmElicit, "FLAG": ConfirmFlag, " none ": ConfirmNone} {
		got, err := ParseConfirmPolicy(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := ParseConfirmPolicy("sometimes")
	assert.ErrorContains(t, err, "use elicit, flag or none")
}

// TestWhatWritesSayFitsThePolicy: the instructions, the confirm argument
// and the prompts tell the model how writes go under this server's policy,
// and nothing that is false under it: no preview, and no confirm argument,
// where writes apply at once; no dialog where nobody is asked.
func TestWhatWritesSayFitsThePolicy(t *testing.T) {
	writeSchemas := func(h *harness) map[string]string {
		res, err := h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
		require.NoError(t, err)
		out := map[string]string{}
		for _, tl := range res.Tools {
			if !*tl.Annotations.ReadOnlyHint {
				raw, err := json.Marshal(tl)
				require.NoError(t, err)
				out[tl.Name] = string(raw)
			}
		}
		require.NotEmpty(t, out)
		return out
	}
	prompt := func(h *harness) string {
		r, err := h.client.GetPrompt(context.Background(), mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: "log_contact",
			Arguments: map[string]string{"customer": strings.Repeat("a", 32), "what": "Checked the heater"}}})
		require.NoError(t, err)
		return r.Messages[0].Content.(mcp.TextContent).Text
	}
	for _, tt := range []struct {
		policy        ConfirmPolicy
		says, notSays []string
		confirmArg    bool
		step          string
	}{
		{ConfirmElicit, []string{"Writes change nothing at first", "confirm: true", "Some clients ask the user"}, nil, true,
			"3. Call create_customer_activity without confirm, show me the preview, and confirm only after I approve it."},
		{ConfirmFlag, []string{"Writes change nothing at first", "confirm: true"}, []string{"Some clients ask the user"}, true,
			"3. Call create_customer_activity without confirm, show me the preview, and confirm only after I approve it."},
		{ConfirmNone, []string{"Writes apply at once, with no preview and no confirmation"}, []string{"change nothing at first", "answer with a preview", "confirm: true"}, false,
			"3. Show me the entry, and call create_customer_activity only after I approve it: this server changes Skimmer at once, with no preview."},
	} {
		h := newHarness(t, func(s *setup) { s.cfg.Confirm = tt.policy })
		for _, w := range tt.says {
			assert.Contains(t, h.server.instructions(), w, tt.policy)
		}
		for _, w := range tt.notSays {
			assert.NotContains(t, h.server.instructions(), w, tt.policy)
		}
		for name, schema := range writeSchemas(h) {
			assert.Equal(t, tt.confirmArg, strings.Contains(schema, `"confirm":{`), "%s: %s", tt.policy, name)
		}
		assert.Contains(t, prompt(h), tt.step, tt.policy)
		if tt.policy == ConfirmNone {
			for name := range h.server.prompts {
				r, err := h.client.GetPrompt(context.Background(), mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: name,
					Arguments: map[string]string{"customer": strings.Repeat("a", 32), "what": "Checked the heater", "area": "TX", "among": "Baker"}}})
				require.NoError(t, err)
				text := r.Messages[0].Content.(mcp.TextContent).Text
				for _, never := range []string{"without confirm", "the preview", "its preview"} {
					assert.NotContains(t, text, never, "%s under none", name)
				}
			}
		}
	}
	// The snapshots in schemas/ are the default policy's, confirm and all.
	h := newHarness(t, func(s *setup) { s.cfg.Confirm = ConfirmNone })
	text, isErr := h.call("create_customer_activity", map[string]any{"customerId": h.customer(func(*skimmer.Customer) bool { return true }).ID,
		"type": "Call", "title": "Sent anyway", "confirm": true})
	assert.False(t, isErr, "a confirm sent anyway is not an error: %s", text)
	assert.Contains(t, text, "Logged")
}

// TestElicitationReasksWhenTheRecordChanged: the person approved one
// change; if the record moved while they decided, they are asked about
// what would now happen, never handed a write they did not see.
func TestElicitationReasksWhenTheRecordChanged(t *testing.T) {
	for _, protocol := range eras {
		t.Run(protocol, func(t *testing.T) {
			p := &person{answers: []mcp.ElicitationResponse{approve}}
			h := elicitingHarness(t, protocol, p)
			c := h.customer(func(c *skimmer.Customer) bool { return c.BillingCity != nil })
			p.before = func(n int) {
				if n == 0 { // someone else edits the customer meanwhile
					req := c.UpdateRequest()
					req.BillingCity = ptrTo("Galveston")
					_, err := h.sk.UpdateCustomer(context.Background(), req)
					require.NoError(t, err)
				}
			}
			text, _ := h.call("update_customer", map[string]any{"id": c.ID, "billingCity": "Houston"})
			qs := p.questions()
			require.Len(t, qs, 2, "asked again")
			assert.Contains(t, qs[0].Message, `billingCity: "`+*c.BillingCity+`" → "Houston"`)
			assert.Contains(t, qs[1].Message, "The record changed since you were asked.")
			assert.Contains(t, qs[1].Message, `billingCity: "Galveston" → "Houston"`)
			assert.Contains(t, text, `Updated customer`)
			assert.Equal(t, 2, h.writes(), "the other edit, and this one, once")
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestReplayedConfirmationCreatesOnce: two replicas share the confirmation
// key, as the README advises. A client that sends the same approved answer
// twice, landing once on each, must not create the record twice: each
// replica remembers only the confirmations it spent itself, so a create
// looks upstream for the record before making it.
func TestReplayedConfirmationCreatesOnce(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.Confirm = ConfirmElicit; s.cfg.ConfirmKey = []byte("shared-by-replicas") })
	other, err := New(Config{Client: h.server.cfg.Client, Confirm: ConfirmElicit, ConfirmKey: []byte("shared-by-replicas"), Now: h.server.cfg.Now})
	require.NoError(t, err)
	c := h.customer(func(*skimmer.Customer) bool { return true })
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"elicitation":{}}}`
	for _, tt := range []struct {
		tool, args string
		op         skimmer.Operation
		replayed   string
	}{
		{"create_customer", `{"firstName":"Replay","lastName":"Okafor","primaryEmail":"replay@example.com"}`, skimmer.OpCreateCustomer, "Already created: customer Replay Okafor, id "},
		{"create_customer_activity", `{"customerId":"` + c.ID + `","type":"Call","title":"Asked once"}`, skimmer.OpCreateActivityLog, `Already logged: Call "Asked once" on `},
	} {
		t.Run(tt.tool, func(t *testing.T) {
			first := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{` + meta + `,"name":"` + tt.tool + `","arguments":` + tt.args + `}}`
			raw, _ := json.Marshal(h.server.MCP().HandleMessage(context.Background(), json.RawMessage(first)))
			var asked struct {
				Result struct {
					RequestState string `json:"requestState"`
				} `json:"result"`
			}
			require.NoError(t, json.Unmarshal(raw, &asked))
			require.NotEmpty(t, asked.Result.RequestState, "the person is asked: %s", raw)
			state, _ := json.Marshal(asked.Result.RequestState)
			answer := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{` + meta + `,"name":"` + tt.tool + `","arguments":` + tt.args +
				`,"inputResponses":{"confirm":{"action":"accept","content":{"approve":true}}},"requestState":` + string(state) + `}}`
			texts := []string{}
			for _, srv := range []*Server{h.server, h.server, other} {
				raw, _ := json.Marshal(srv.MCP().HandleMessage(context.Background(), json.RawMessage(answer)))
				var res struct {
					Result struct{ Content []struct{ Text string } } `json:"result"`
				}
				require.NoError(t, json.Unmarshal(raw, &res))
				texts = append(texts, res.Result.Content[0].Text)
			}
			assert.NotContains(t, texts[0], "Already")
			assert.Contains(t, texts[1], "already answered", "the same replica remembers")
			assert.Contains(t, texts[2], tt.replayed, "the other replica finds the record upstream")
			assert.Equal(t, 1, h.sb.Count(tt.op), "created once")
		})
	}
}

// TestDeclineWinsOverAChangedRecord: a person who declines is not asked
// again, even if the record changed while they decided.
func TestDeclineWinsOverAChangedRecord(t *testing.T) {
	p := &person{answers: []mcp.ElicitationResponse{decline}}
	h := elicitingHarness(t, mcp.LATEST_PROTOCOL_VERSION, p)
	c := h.customer(func(c *skimmer.Customer) bool { return c.BillingCity != nil })
	p.before = func(int) {
		req := c.UpdateRequest()
		req.Notes = ptrTo("edited meanwhile")
		_, err := h.sk.UpdateCustomer(context.Background(), req)
		require.NoError(t, err)
	}
	text, _ := h.call("update_customer", map[string]any{"id": c.ID, "billingCity": "Houston"})
	assert.Contains(t, text, "The user declined; nothing was changed.")
	assert.Len(t, p.questions(), 1, "asked once")
	assert.Equal(t, 1, h.writes(), "only the other edit")
}
