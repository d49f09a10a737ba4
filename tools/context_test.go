package tools

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

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

// listCost is the whole answer to a list method (tools/list,
// prompts/list, resources/templates/list), as the server writes it: its
// tokens counted without the icons, which are for the host's window, not
// the model's context, and the icons' bytes apart.
func listCost(h *harness, method string) (bytes, toks, iconBytes int) {
	resp := h.server.MCP().HandleMessage(context.Background(), json.RawMessage(`{"jsonrpc":"2.0","id":1,"method":"`+method+`"}`))
	raw, err := json.Marshal(resp)
	require.NoError(h.t, err)
	text := iconsJSON.ReplaceAllString(string(raw), "")
	return len(text), countTokens(text), len(raw) - len(text)
}

// iconsJSON is an "icons" member as mcp-go writes it.
var iconsJSON = regexp.MustCompile(`"icons":\[(\{"src":"[^"]*","mimeType":"[^"]*","sizes":\["[^"]*"\]\},?)*\],?`)

// areaToolsCost is what one area's tool declarations add to tools/list.
func areaToolsCost(t testing.TB, a *Area) int {
	n := 0
	for _, tl := range a.Tools {
		raw, err := json.Marshal(tl.Tool)
		require.NoError(t, err)
		n += countTokens(iconsJSON.ReplaceAllString(string(raw), ""))
	}
	return n
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
	for _, method := range []string{"tools/list", "prompts/list", "resources/templates/list"} {
		b.Run(strings.ReplaceAll(method, "/", "_"), func(b *testing.B) {
			var n, toks, icons int
			for b.Loop() {
				n, toks, icons = listCost(h, method)
			}
			b.ReportMetric(float64(n), "bytes")
			b.ReportMetric(float64(toks), "tokens")
			b.ReportMetric(float64(icons), "icon-bytes")
		})
	}
	for _, a := range areas() {
		b.Run("tools_of_"+strings.ReplaceAll(a.Name, " ", "_"), func(b *testing.B) {
			var toks int
			for b.Loop() {
				toks = areaToolsCost(b, a)
			}
			b.ReportMetric(float64(toks), "tokens")
			b.ReportMetric(float64(a.ContextBudget), "budget")
		})
	}
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
	assert.LessOrEqual(t, search.ratio(), 0.15, "a search page against the raw JSON's tokens: %+v", search)
	get := getCustomerCost(h)
	assert.LessOrEqual(t, get.ratio(), 0.40, "get_customer costs at most 40%% of the raw JSON's tokens: %+v", get)

	// Every conversation pays for tools/list: each area declares what its
	// tools may cost, and the whole list stays within their sum (3,000
	// for customers and activity logs).
	budget := 0
	for _, a := range areas() {
		budget += a.ContextBudget
		assert.LessOrEqual(t, areaToolsCost(t, a), a.ContextBudget, "the %s area's tools, in tokens", a.Name)
	}
	_, toks, icons := listCost(h, "tools/list")
	assert.LessOrEqual(t, toks, budget, "tools/list tokens, icons left out")
	assert.LessOrEqual(t, icons, 600*len(h.server.Tools()), "icons stay small")
	for _, method := range []string{"prompts/list", "resources/templates/list"} {
		_, toks, _ := listCost(h, method)
		assert.LessOrEqual(t, toks, 600, "%s tokens", method)
	}

	// 10,000 customers take a while under -race on a busy machine.
	big := newHarness(t, func(s *setup) { s.sandbox.Customers = 10000; s.timeout = 30 * time.Second })
	text, toks := listOnBigAccount(big)
	assert.LessOrEqual(t, toks, 2000, "list_customers on 10,000 customers")
	assert.Contains(t, text, "search_customers is faster", "it says how to narrow down")
}
