package tools

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

// recorder is an Observer that keeps what it heard.
type recorder struct {
	mu      sync.Mutex
	started []string
	ended   []CallRecord
}

func (r *recorder) CallStarted(_ context.Context, tool string) {
	r.mu.Lock()
	r.started = append(r.started, tool)
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

	assert.Equal(t, []string{"get_customer", "get_customer", "update_customer", "list_customer_activities", "get_customer"}, rec.started)
	require.Len(t, rec.ended, 5)
	type seen struct {
		tool, outcome string
		failed        bool
		statuses      []int
	}
	var got []seen
	for _, e := range rec.ended {
		s := seen{tool: e.Tool, outcome: e.Outcome, failed: e.Failed}
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
