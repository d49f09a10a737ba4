package tools

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tiktoken-go/tokenizer"
)

// The context cost of the tools, measured with a real tokenizer (o200k_base,
// offline), side by side with what a model would read if it were handed
// Skimmer's raw JSON for the same records.
//
//	go test ./tools -run '^$' -bench Context -benchtime 1x

var tokens = sync.OnceValue(func() tokenizer.Codec {
	enc, err := tokenizer.Get(tokenizer.O200kBase)
	if err != nil {
		panic(err)
	}
	return enc
})

func countTokens(s string) int {
	ids, _, _ := tokens().Encode(s)
	return len(ids)
}

// contextCost is one comparison: what the tool says against the raw JSON.
type contextCost struct {
	textBytes, rawBytes, textTokens, rawTokens int
}

func (c contextCost) ratio() float64 { return float64(c.textTokens) / float64(c.rawTokens) }

func (c contextCost) report(b *testing.B) {
	b.ReportMetric(float64(c.textBytes), "text-bytes")
	b.ReportMetric(float64(c.rawBytes), "raw-bytes")
	b.ReportMetric(float64(c.textTokens), "text-tokens")
	b.ReportMetric(float64(c.rawTokens), "raw-tokens")
	b.ReportMetric(100*c.ratio(), "%-of-raw-tokens")
}

func cost(text, raw string) contextCost {
	return contextCost{len(text), len(raw), countTokens(text), countTokens(raw)}
}

// rawGet fetches a path from the sandbox the way a model handed the API
// would see it.
func (h *harness) rawGet(path string, q url.Values) string {
	h.t.Helper()
	target := h.http.URL + path
	if q != nil {
		target += "?" + q.Encode()
	}
	req, _ := http.NewRequest("GET", target, nil)
	req.Header.Set("skimmer-api-key", "measure")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	require.Equal(h.t, 200, resp.StatusCode, string(body))
	return strings.TrimSpace(string(body))
}

// searchPageCost compares a 25-customer search_customers page with the
// search endpoint's raw answer for the same page.
func searchPageCost(h *harness) contextCost {
	text, isErr := h.call("search_customers", map[string]any{"filters": []any{map[string]any{"field": "IsInactive", "op": "==", "value": "false"}}})
	require.False(h.t, isErr, text)
	raw := h.rawGet("/Customers/Search", url.Values{"filters": {"IsInactive==false,Deleted==false"}, "page": {"1"}, "pageSize": {"25"}})
	require.Equal(h.t, 25, len(idAtStartLines(text)))
	return cost(text, raw)
}

// getCustomerCost sums get_customer over the customers of that page,
// against the raw GET /Customers/{id} of each.
func getCustomerCost(h *harness) contextCost {
	text, _ := h.call("search_customers", map[string]any{"pageSize": 25})
	var total contextCost
	for _, line := range idAtStartLines(text) {
		id := line[:32]
		out, isErr := h.call("get_customer", map[string]any{"id": id})
		require.False(h.t, isErr)
		c := cost(out, h.rawGet("/Customers/"+id, nil))
		total.textBytes += c.textBytes
		total.rawBytes += c.rawBytes
		total.textTokens += c.textTokens
		total.rawTokens += c.rawTokens
	}
	return total
}

// toolsListCost is the whole tools/list answer, as the server writes it.
func toolsListCost(h *harness) (bytes, toks int) {
	resp := h.server.MCP().HandleMessage(context.Background(), json.RawMessage(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	raw, err := json.Marshal(resp)
	require.NoError(h.t, err)
	return len(raw), countTokens(string(raw))
}

func listOnBigAccount(h *harness) (string, int) {
	text, isErr := h.call("list_customers", map[string]any{})
	require.False(h.t, isErr)
	return text, countTokens(text)
}

func BenchmarkContext(b *testing.B) {
	h := newHarness(b)
	b.Run("search_page_25", func(b *testing.B) {
		var c contextCost
		for b.Loop() {
			c = searchPageCost(h)
		}
		c.report(b)
	})
	b.Run("get_customer", func(b *testing.B) {
		var c contextCost
		for b.Loop() {
			c = getCustomerCost(h)
		}
		c.report(b)
	})
	b.Run("tools_list", func(b *testing.B) {
		var n, toks int
		for b.Loop() {
			n, toks = toolsListCost(h)
		}
		b.ReportMetric(float64(n), "bytes")
		b.ReportMetric(float64(toks), "tokens")
	})
	big := newHarness(b, func(s *setup) { s.sandbox.Customers = 10000 })
	b.Run("list_customers_10k", func(b *testing.B) {
		var toks int
		for b.Loop() {
			_, toks = listOnBigAccount(big)
		}
		b.ReportMetric(float64(toks), "tokens")
	})
}

// TestContextBudgets holds the line on size. These are counts, not
// timings: the same on every machine.
func TestContextBudgets(t *testing.T) {
	h := newHarness(t)
	search := searchPageCost(h)
	// The target is 15%; each line spends ~17 of its ~50 tokens on the full
	// 32-hex id, which the model needs for the next call. This ceiling keeps
	// it from growing.
	assert.LessOrEqual(t, search.ratio(), 0.155, "a search page against the raw JSON's tokens: %+v", search)
	get := getCustomerCost(h)
	assert.LessOrEqual(t, get.ratio(), 0.40, "get_customer costs at most 40%% of the raw JSON's tokens: %+v", get)

	_, toks := toolsListCost(h)
	// The target is 3,000; see the README's Performance section for what
	// holds the rest. This ceiling stops it growing unnoticed.
	assert.LessOrEqual(t, toks, 3300, "tools/list tokens")

	big := newHarness(t, func(s *setup) { s.sandbox.Customers = 10000 })
	text, toks := listOnBigAccount(big)
	assert.LessOrEqual(t, toks, 2000, "list_customers on 10,000 customers")
	assert.Contains(t, text, "search_customers is faster", "it says how to narrow down")
}
