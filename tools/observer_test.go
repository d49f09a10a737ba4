package tools

import (
	"context"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

// recorder is an Observer that keeps what it heard.
type recorder struct {
	mu      sync.Mutex
	started []Call
	ended   []CallRecord
}

func (r *recorder) CallStarted(_ context.Context, c Call) {
	r.mu.Lock()
	r.started = append(r.started, c)
	r.mu.Unlock()
}

func (r *recorder) CallEnded(_ context.Context, c CallRecord) {
	r.mu.Lock()
	r.ended = append(r.ended, c)
	r.mu.Unlock()
}

func TestObserverHearsEveryCall(t *testing.T) {
	rec := &recorder{}
	h := newHarness(t, func(s *setup) { s.cfg.Observer = rec })
	c := h.customer(func(*skimmer.Customer) bool { return true })
	h.sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpListActivityLogs}, Status: 503, Times: 1})

	_, isErr := h.call("get_customer", map[string]any{"id": c.ID})
	require.False(t, isErr)
	_, isErr = h.call("get_customer", map[string]any{"id": "ffffffffffffffffffffffffffffffff"})
	require.True(t, isErr)
	_, isErr = h.call("update_customer", map[string]any{"id": c.ID, "notes": "observed"})
	require.False(t, isErr)
	_, isErr = h.call("list_customer_activities", map[string]any{"customerId": c.ID})
	require.False(t, isErr)
	_, isErr = h.call("get_customer", map[string]any{"nope": 1})
	require.True(t, isErr)

	tool := func(name string) Call { return Call{Kind: KindTool, Name: name} }
	assert.Equal(t, []Call{tool("get_customer"), tool("get_customer"), tool("update_customer"), tool("list_customer_activities"), tool("get_customer")}, rec.started)
	require.Len(t, rec.ended, 5)
	type seen struct {
		tool, outcome string
		failed        bool
		statuses      []int
	}
	var got []seen
	for _, e := range rec.ended {
		s := seen{tool: e.Name, outcome: e.Outcome.String(), failed: e.Outcome.Failed()}
		for _, x := range e.Upstream {
			s.statuses = append(s.statuses, x.Status)
		}
		assert.Greater(t, e.Duration.Nanoseconds(), int64(0))
		got = append(got, s)
	}
	assert.Equal(t, []seen{
		{"get_customer", "ok", false, []int{200}},
		{"get_customer", "not_found", true, []int{404}},
		{"update_customer", "preview", false, []int{200}},
		{"list_customer_activities", "ok", false, []int{503, 200}},
		{"get_customer", "invalid_arguments", true, nil},
	}, got)
	assert.Equal(t, 2, rec.ended[3].Upstream[1].Attempt, "the retry is the second attempt")
}

// TestObserverHearsEveryKindOfRequest: resource reads, prompts and
// completions (one a keystroke) reach Skimmer as tool calls do, and are
// observed as they are, each named by what was declared.
func TestObserverHearsEveryKindOfRequest(t *testing.T) {
	rec := &recorder{}
	h := newHarness(t, func(s *setup) { s.cfg.Observer = rec })
	c := h.customer(func(c *skimmer.Customer) bool { return c.LastName != nil })

	_, err := h.read(cardURI(c.ID))
	require.NoError(t, err)
	h.complete(mcp.ResourceReference{Type: "ref/resource", URI: "skimmer://customers/{+customer}"}, "customer", *c.LastName)
	h.complete(mcp.PromptReference{Type: "ref/prompt", Name: "log_contact"}, "type", "ca")
	_, err = h.client.GetPrompt(context.Background(), mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: "customer_brief", Arguments: map[string]string{"customer": c.ID}}})
	require.NoError(t, err)

	want := []Call{
		{Kind: KindResource, Name: "customer"},
		{Kind: KindCompletion, Name: "customer", Of: KindResource},
		{Kind: KindCompletion, Name: "log_contact", Of: KindPrompt},
		{Kind: KindPrompt, Name: "customer_brief"},
	}
	assert.Equal(t, want, rec.started)
	require.Len(t, rec.ended, len(want))
	for i, e := range rec.ended {
		assert.Equal(t, want[i], e.Call)
		assert.Equal(t, "ok", e.Outcome.String(), "%+v", e.Call)
	}
	assert.Equal(t, []int{200}, statuses(rec.ended[0].Upstream), "the card's read")
	assert.Equal(t, []int{200}, statuses(rec.ended[1].Upstream), "the completion's search")
	assert.Empty(t, rec.ended[2].Upstream, "a fixed list asks Skimmer nothing")
	assert.Empty(t, rec.ended[3].Upstream, "a prompt asks Skimmer nothing")
}

func statuses(xs []skimmer.Exchange) []int {
	var out []int
	for _, x := range xs {
		out = append(out, x.Status)
	}
	return out
}

// TestCompletionPanicIsLogged: a completer that panics suggests nothing,
// and the log keeps what a developer needs: the panic and its stack.
func TestCompletionPanicIsLogged(t *testing.T) {
	rec := &recorder{}
	h := newHarness(t, func(s *setup) { s.cfg.Observer = rec })
	boom := func(context.Context, *skimmer.Client, string, map[string]string) ([]string, error) {
		panic("completer exploded")
	}
	got := h.server.complete(context.Background(), KindPrompt, "log_contact", boom, "x", nil)
	assert.Empty(t, got.Values)
	logs := h.logs.String()
	assert.Contains(t, logs, "completer exploded")
	assert.Contains(t, logs, "observer_test.go", "the stack")
	assert.Contains(t, logs, `msg=completion prompt=log_contact outcome=panic`)
	require.Len(t, rec.ended, 1)
	assert.Equal(t, "panic", rec.ended[0].Outcome.String())
	assert.True(t, rec.ended[0].Outcome.Failed())
}

// TestOutcomesAreOneList: every outcome a log line or a metric can carry
// has its name, once, and the list says which are failures.
func TestOutcomesAreOneList(t *testing.T) {
	names := Outcomes()
	require.Len(t, names, int(numOutcomes))
	seen := map[string]bool{}
	for i, n := range names {
		assert.Regexp(t, `^[a-z_]+$`, n, "outcome %d has a name", i)
		assert.False(t, seen[n], "%s is named twice", n)
		seen[n] = true
	}
	for _, n := range []string{"ok", "preview", "asked", "declined", "applied", "already_applied", "unchanged", "coalesced", "refused", "not_found", "bug", "panic"} {
		assert.True(t, seen[n], n)
	}
	assert.False(t, applied.Failed())
	assert.False(t, coalesced.Failed())
	assert.True(t, failRefused.Failed())
	assert.True(t, failNotFound.Failed())
}
