package tools

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

// TestUpstreamFaults walks every fault Skimmer can have: for a read and for
// a write, what the model reads, how many attempts reached Skimmer, the
// waits in between, and that the next call is served normally. Reads are
// retried on 429, 502, 503, 504 and broken connections, at most five
// attempts, honouring Retry-After; writes are sent once, whatever happens.
func TestUpstreamFaults(t *testing.T) {
	htmlPage := "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
	fieldErrors := `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,"errors":{"Title":["Titles may not mention chlorine prices."]}}`
	const retryAfter = 2 * time.Second
	rows := []struct {
		name  string
		fault sandbox.Fault

		readAttempts int
		readWaits    []time.Duration // nil: backoff, checked for count only
		readText     string

		writeText string
		applied   bool // whether the write really took effect upstream
	}{
		{name: "500", fault: sandbox.Fault{Status: 500},
			readAttempts: 1, readText: "Skimmer is failing (HTTP 500). Try again in a minute.",
			writeText: "Skimmer failed with HTTP 500; the change was most likely not made. Check with a read before trying again."},
		{name: "502", fault: sandbox.Fault{Status: 502, Apply: true},
			readAttempts: 5, readText: "Skimmer is failing (HTTP 502) after 5 tries. Try again in a minute.",
			writeText: "sent to Skimmer but no answer came back, so it may or may not have been applied. Check with a read", applied: true},
		{name: "503 with Retry-After", fault: sandbox.Fault{Status: 503, RetryAfter: 2},
			readAttempts: 5, readWaits: []time.Duration{retryAfter, retryAfter, retryAfter, retryAfter}, readText: "Skimmer is failing (HTTP 503) after 5 tries.",
			writeText: "Skimmer failed with HTTP 503; the change was most likely not made."},
		{name: "504", fault: sandbox.Fault{Status: 504, Apply: true},
			readAttempts: 5, readText: "Skimmer is failing (HTTP 504) after 5 tries.",
			writeText: "may or may not have been applied", applied: true},
		{name: "429 with Retry-After", fault: sandbox.Fault{Status: 429, RetryAfter: 2},
			readAttempts: 5, readWaits: []time.Duration{retryAfter, retryAfter, retryAfter, retryAfter}, readText: "Skimmer's rate limit for this API key is used up. Wait 2s, then call again.",
			writeText: "Skimmer's rate limit for this API key is used up; nothing was changed. Wait 2s, then call again."},
		{name: "slow past the timeout", fault: sandbox.Fault{Latency: 500 * time.Millisecond},
			readAttempts: 5, readText: "Skimmer did not answer after 5 tries. Try again in a minute.",
			writeText: "may or may not have been applied"},
		{name: "reset mid-body", fault: sandbox.Fault{ResetMidBody: true},
			readAttempts: 5, readText: "Skimmer's answer could not be read after 5 tries. Try again in a minute.",
			writeText: "Skimmer accepted the change (HTTP 201) but its answer could not be read. Check the result with a read before doing anything else; do not repeat the change.", applied: true},
		{name: "malformed JSON", fault: sandbox.Fault{Malformed: true, Apply: true},
			readAttempts: 1, readText: "Skimmer's answer could not be read. Try again in a minute.",
			writeText: "Skimmer accepted the change (HTTP 200) but its answer could not be read.", applied: true},
		{name: "HTML error page", fault: sandbox.Fault{Status: 502, Body: htmlPage},
			readAttempts: 5, readText: "Skimmer is failing (HTTP 502) after 5 tries.",
			writeText: "may or may not have been applied"},
		{name: "401", fault: sandbox.Fault{Status: 401},
			readAttempts: 1, readText: "Skimmer refused the API key (401): it is wrong or was revoked. Tell the user to check SKIMMER_API_KEY",
			writeText: "Skimmer refused the API key (401):"},
		{name: "403", fault: sandbox.Fault{Status: 403},
			readAttempts: 1, readText: "Skimmer does not allow this API key to do this (403). The account owner can issue a key with access.",
			writeText: "Skimmer does not allow this API key to do this (403); nothing was changed."},
		{name: "404", fault: sandbox.Fault{Status: 404},
			readAttempts: 1, readText: "Skimmer has no customer with that id, or it is deleted.",
			writeText: "Skimmer has no customer with that id, or it is deleted."},
		{name: "400 with field errors", fault: sandbox.Fault{Status: 400, Body: fieldErrors, ContentType: "application/problem+json"},
			readAttempts: 1, readText: "Skimmer rejected the request; nothing was changed. Title: Titles may not mention chlorine prices. Fix that and call again.",
			writeText: "Skimmer rejected the request; nothing was changed. Title: Titles may not mention chlorine prices."},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			h := newHarness(t, func(s *setup) { s.timeout = 200 * time.Millisecond })
			c := h.customer(func(*skimmer.Customer) bool { return true })
			before, err := h.sk.ListActivityLogs(t.Context(), c.ID)
			require.NoError(t, err)

			// A read, against a fault that does not go away.
			h.waits()
			h.sb.ResetRequests()
			read := row.fault
			read.Ops = []skimmer.Operation{skimmer.OpGetCustomer}
			h.sb.Inject(read)
			text, isErr := h.call("get_customer", map[string]any{"id": c.ID})
			assert.True(t, isErr, text)
			assert.Contains(t, text, row.readText)
			assert.Equal(t, row.readAttempts, h.sb.Count(skimmer.OpGetCustomer), "attempts at Skimmer")
			waits := h.waits()
			assert.Len(t, waits, row.readAttempts-1)
			if row.readWaits != nil {
				assert.Equal(t, row.readWaits, waits, "Retry-After is honoured")
			}
			h.sb.ClearFaults()
			_, isErr = h.call("get_customer", map[string]any{"id": c.ID})
			assert.False(t, isErr, "the next read is served")

			// A confirmed write.
			h.sb.ResetRequests()
			write := row.fault
			write.Ops = []skimmer.Operation{skimmer.OpCreateActivityLog}
			h.sb.Inject(write)
			text, isErr = h.call("create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "Fault row " + strings.ReplaceAll(row.name, "-", " "), "confirm": true})
			assert.True(t, isErr, text)
			assert.Contains(t, text, row.writeText)
			assert.Equal(t, 1, h.sb.Count(skimmer.OpCreateActivityLog), "a write is sent exactly once")
			assert.Empty(t, h.waits(), "and never retried")
			h.sb.ClearFaults()
			after, err := h.sk.ListActivityLogs(t.Context(), c.ID)
			require.NoError(t, err)
			if row.applied {
				assert.Len(t, after, len(before)+1, "the write took effect upstream; the model was told to check")
			} else {
				assert.Len(t, after, len(before), "nothing was written")
			}
			text, isErr = h.call("create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "After the fault", "confirm": true})
			assert.False(t, isErr, "the next write is served: %s", text)
		})
	}
}

// TestTransientFaultsAreInvisible: a read that fails once and then works
// reaches the model as a normal answer.
func TestTransientFaultsAreInvisible(t *testing.T) {
	for _, f := range []sandbox.Fault{{Status: 502}, {Status: 503, RetryAfter: 1}, {Status: 504}, {Status: 429, RetryAfter: 1}, {ResetMidBody: true}} {
		h := newHarness(t)
		c := h.customer(func(*skimmer.Customer) bool { return true })
		f.Ops, f.Times = []skimmer.Operation{skimmer.OpGetCustomer}, 1
		h.sb.Inject(f)
		text, isErr := h.call("get_customer", map[string]any{"id": c.ID})
		assert.False(t, isErr, text)
		assert.Contains(t, text, c.ID)
		assert.Equal(t, 2, h.sb.Count(skimmer.OpGetCustomer))
	}
}

// TestConnectionRefused takes Skimmer off the network and brings it back on
// the same address.
func TestConnectionRefused(t *testing.T) {
	h := newHarness(t)
	c := h.customer(func(*skimmer.Customer) bool { return true })
	addr := h.http.Listener.Addr().String()
	h.http.Close()

	h.waits()
	text, isErr := h.call("get_customer", map[string]any{"id": c.ID})
	assert.True(t, isErr)
	assert.Equal(t, "Could not reach Skimmer, so nothing was sent. Try again shortly; if it keeps failing, check the internet connection, and SKIMMER_BASE_URL if it is set.", text)
	assert.Len(t, h.waits(), 4, "a read tries five times")
	text, isErr = h.call("create_customer_activity", map[string]any{"customerId": c.ID, "type": "Call", "title": "Refused", "confirm": true})
	assert.True(t, isErr)
	assert.Contains(t, text, "nothing was sent", "refused before sending: safe to say so")
	assert.Empty(t, h.waits(), "a confirmed create sends its write alone, and a write is never retried")

	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	srv := &http.Server{Handler: h.sb}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	_, isErr = h.call("get_customer", map[string]any{"id": c.ID})
	assert.False(t, isErr, "served again once Skimmer is back")
}
