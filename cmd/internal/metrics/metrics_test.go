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

	o.CallStarted(ctx, "get_customer")
	o.CallStarted(ctx, "get_customer")
	o.CallEnded(ctx, tools.CallRecord{Tool: "get_customer", Outcome: "ok", Duration: 3 * time.Millisecond,
		Upstream: []skimmer.Exchange{{Op: skimmer.OpGetCustomer, Attempt: 1, Status: 503}, {Op: skimmer.OpGetCustomer, Attempt: 2, Status: 200}},
		Holds:    []skimmer.Hold{{Op: skimmer.OpGetCustomer, Duration: 2 * time.Second}}})
	o.CallStarted(ctx, "update_customer")
	o.CallEnded(ctx, tools.CallRecord{Tool: "update_customer", Outcome: "rate_limited", Failed: true, Duration: time.Millisecond,
		Upstream: []skimmer.Exchange{{Op: skimmer.OpUpdateCustomer, Attempt: 1}}})

	fams := scrape(t, url)
	assert.Equal(t, 1.0, value(fams, "skimmer_mcp_tool_calls_total", map[string]string{"gen_ai_tool_name": "get_customer", "outcome": "ok"}))
	assert.Equal(t, 1.0, value(fams, "skimmer_mcp_tool_calls_total", map[string]string{"gen_ai_tool_name": "update_customer", "outcome": "rate_limited"}))
	assert.Equal(t, 1.0, value(fams, "skimmer_mcp_tool_calls_in_flight", map[string]string{"gen_ai_tool_name": "get_customer"}), "one still running")
	assert.Equal(t, 2.0, value(fams, "mcp_server_operation_duration_seconds", map[string]string{"mcp_method_name": "tools/call", "network_transport": "tcp"}))
	assert.Equal(t, 1.0, value(fams, "mcp_server_operation_duration_seconds", map[string]string{"error_type": "rate_limited"}))
	assert.Equal(t, 1.0, value(fams, "http_client_request_duration_seconds", map[string]string{"skimmer_operation": string(skimmer.OpGetCustomer), "http_response_status_code": "503"}))
	assert.Equal(t, 1.0, value(fams, "http_client_request_duration_seconds", map[string]string{"http_request_method": "PUT", "error_type": "no_answer"}))
	assert.Equal(t, 1.0, value(fams, "skimmer_mcp_upstream_retries_total", nil))
	assert.Equal(t, 1.0, value(fams, "skimmer_mcp_rate_limit_holds_total", nil))
	assert.Equal(t, 1.0, value(fams, "skimmer_mcp_rate_limit_hold_duration_seconds", nil))
	assert.NotNil(t, fams["go_goroutines"])
}
