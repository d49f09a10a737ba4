package metrics_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/metrics"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/tools"
)

// scrape fetches url and parses it as Prometheus text.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err, "Prometheus text:\n%s", body)
	return fams
}

// value sums a family's samples whose labels include all of want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	total := 0.0
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		}
	}
	return total
}

func TestToolMetricsScrapeAsPrometheusText(t *testing.T) {
	m, err := metrics.New("test")
	require.NoError(t, err)
	url, stop, err := m.Serve("127.0.0.1:0", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer stop()
	o, err := m.Tools("tcp")
	require.NoError(t, err)
	ctx := context.Background()

	outcome := func(name string) tools.Outcome {
		o, ok := tools.ParseOutcome(name)
		require.True(t, ok, name)
		return o
	}
	tool := func(name string) tools.Call { return tools.Call{Kind: tools.KindTool, Name: name} }
	o.CallStarted(ctx, tool("get_customer"))
	o.CallStarted(ctx, tool("get_customer"))
	o.CallEnded(ctx, tools.CallRecord{Call: tool("get_customer"), Outcome: outcome("ok"), Duration: 3 * time.Millisecond,
		Upstream: []skimmer.Exchange{{Op: skimmer.OpGetCustomer, Attempt: 1, Status: 503}, {Op: skimmer.OpGetCustomer, Attempt: 2, Status: 200}},
		Holds:    []skimmer.Hold{{Op: skimmer.OpGetCustomer, Duration: 2 * time.Second}}})
	o.CallStarted(ctx, tool("update_customer"))
	o.CallEnded(ctx, tools.CallRecord{Call: tool("update_customer"), Outcome: outcome("rate_limited"), Duration: time.Millisecond,
		Upstream: []skimmer.Exchange{{Op: skimmer.OpUpdateCustomer, Attempt: 1}}})
	// A resource read and a completion reach Skimmer too.
	card := tools.Call{Kind: tools.KindResource, Name: "customer"}
	o.CallStarted(ctx, card)
	o.CallEnded(ctx, tools.CallRecord{Call: card, Outcome: outcome("not_found"), Duration: time.Millisecond,
		Upstream: []skimmer.Exchange{{Op: skimmer.OpGetCustomer, Attempt: 1, Status: 404}}})
	typing := tools.Call{Kind: tools.KindCompletion, Name: "log_contact", Of: tools.KindPrompt}
	o.CallStarted(ctx, typing)
	o.CallEnded(ctx, tools.CallRecord{Call: typing, Outcome: outcome("ok"), Duration: time.Millisecond,
		Upstream: []skimmer.Exchange{{Op: skimmer.OpSearchCustomers, Attempt: 1, Status: 200}}})

	fams := scrape(t, url)
	assert.Equal(t, 1.0, value(fams, "skimmer_mcp_tool_calls_total", map[string]string{"gen_ai_tool_name": "get_customer", "outcome": "ok"}))
	assert.Equal(t, 1.0, value(fams, "skimmer_mcp_tool_calls_total", map[string]string{"gen_ai_tool_name": "update_customer", "outcome": "rate_limited"}))
	assert.Equal(t, 1.0, value(fams, "skimmer_mcp_tool_calls_in_flight", map[string]string{"gen_ai_tool_name": "get_customer"}), "one still running")
	assert.Equal(t, 2.0, value(fams, "mcp_server_operation_duration_seconds", map[string]string{"mcp_method_name": "tools/call", "network_transport": "tcp"}))
	assert.Equal(t, 1.0, value(fams, "mcp_server_operation_duration_seconds", map[string]string{"mcp_method_name": "resources/read", "skimmer_mcp_resource_template": "customer", "error_type": "not_found"}))
	assert.Equal(t, 1.0, value(fams, "mcp_server_operation_duration_seconds", map[string]string{"mcp_method_name": "completion/complete", "gen_ai_prompt_name": "log_contact"}))
	assert.Equal(t, 2.0, value(fams, "skimmer_mcp_tool_calls_total", nil), "tool calls only")
	for _, o := range tools.Outcomes() {
		assert.Contains(t, fams["skimmer_mcp_tool_calls_total"].GetHelp(), " "+o, "the help names every outcome")
	}
	assert.Equal(t, 1.0, value(fams, "http_client_request_duration_seconds", map[string]string{"skimmer_operation": string(skimmer.OpSearchCustomers)}), "a completion's search")
	assert.Equal(t, 1.0, value(fams, "http_client_request_duration_seconds", map[string]string{"skimmer_operation": string(skimmer.OpGetCustomer), "http_response_status_code": "404"}), "a resource's read")
	assert.Equal(t, 1.0, value(fams, "mcp_server_operation_duration_seconds", map[string]string{"error_type": "rate_limited"}))
	assert.Equal(t, 1.0, value(fams, "http_client_request_duration_seconds", map[string]string{"skimmer_operation": string(skimmer.OpGetCustomer), "http_response_status_code": "503"}))
	assert.Equal(t, 1.0, value(fams, "http_client_request_duration_seconds", map[string]string{"http_request_method": "PUT", "error_type": "no_answer"}))
	assert.Equal(t, 1.0, value(fams, "skimmer_mcp_upstream_retries_total", nil))
	assert.Equal(t, 1.0, value(fams, "skimmer_mcp_rate_limit_holds_total", nil))
	assert.Equal(t, 1.0, value(fams, "skimmer_mcp_rate_limit_hold_duration_seconds", nil))
	assert.NotNil(t, fams["go_goroutines"])
}
