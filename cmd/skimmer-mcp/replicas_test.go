package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/redistest"
)

// logURL returns the url of the first JSON log line with this message.
func logURL(t *testing.T, p *proc, msg string) string {
	t.Helper()
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		var rec struct{ Msg, URL string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == msg {
			return rec.URL
		}
	}
	t.Fatalf("no %q line in:\n%s", msg, p.stderr.String())
	return ""
}

func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err)
	return fams
}

func sum(f *dto.MetricFamily, label, value string) float64 {
	total := 0.0
	for _, m := range f.GetMetric() {
		match := label == ""
		for _, l := range m.Label {
			match = match || (l.GetName() == label && l.GetValue() == value)
		}
		if !match {
			continue
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

func TestStoreAndMetricsFlags(t *testing.T) {
	redis := redistest.Start(t)
	p := start(t, []string{"SKIMMER_STORE=" + redis.URL(), "SKIMMER_CONFIRM_KEY=shared-by-the-replicas-0123456789"},
		"--sandbox", "--transport", "http", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--log-format", "json")
	url := p.waitURL(t)
	metricsURL := logURL(t, p, "metrics listener")
	assert.Contains(t, p.stderr.String(), `"store":"`+redis.URL()+`"`)

	c := httpClient(t, url, map[string]string{"skimmer-api-key": "tenant-key-one"})
	_, isErr := callText(t, c, "search_customers", map[string]any{"text": "smith"})
	require.False(t, isErr)
	_, isErr = callText(t, c, "get_customer", map[string]any{"id": "ffffffffffffffffffffffffffffffff"})
	require.True(t, isErr)

	fams := scrapeMetrics(t, metricsURL)
	require.Contains(t, fams, "skimmer_mcp_tool_calls_total")
	assert.Equal(t, 1.0, sum(fams["skimmer_mcp_tool_calls_total"], "outcome", "ok"))
	assert.Equal(t, 1.0, sum(fams["skimmer_mcp_tool_calls_total"], "outcome", "not_found"))
	assert.Equal(t, 2.0, sum(fams["mcp_server_operation_duration_seconds"], "network_transport", "tcp"))
	assert.Equal(t, 2.0, sum(fams["http_client_request_duration_seconds"], "", ""))
	assert.Equal(t, 1.0, sum(fams["skimmer_mcp_store_up"], "", ""))
	assert.GreaterOrEqual(t, sum(fams["skimmer_mcp_store_operation_duration_seconds"], "operation", "reserve"), 2.0, "each upstream request reserved its place")
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.Label {
				assert.NotContains(t, l.GetValue(), "tenant-key-one", "%s", name)
			}
		}
	}
	p.stop(t)
}

func TestStoreMustAnswerAtStart(t *testing.T) {
	for _, tt := range []struct{ store, want string }{
		{"redis://:pa55word@127.0.0.1:1", "SKIMMER_STORE: Redis at redis://127.0.0.1:1 does not answer"},
		{"memcached://127.0.0.1:11211", `SKIMMER_STORE: scheme "memcached": use redis:// or rediss://`},
	} {
		p := start(t, []string{"SKIMMER_STORE=" + tt.store}, "--sandbox", "--transport", "http", "--addr", "127.0.0.1:0")
		select {
		case err := <-p.done:
			assert.Error(t, err)
			assert.Contains(t, p.stderr.String(), tt.want)
			assert.NotContains(t, p.stderr.String(), "pa55word")
		case <-time.After(20 * time.Second):
			t.Fatal("should refuse to start")
		}
	}
}

// TestOAuthAcrossReplicas: two replicas of a connector on one store. A
// refresh token spent on one is refused on the other, and that reuse
// revokes the grant on both.
func TestOAuthAcrossReplicas(t *testing.T) {
	redis := redistest.Start(t)
	_, upstream := upstreamSandbox(t)
	env := []string{"SKIMMER_BASE_URL=" + upstream, "SKIMMER_OAUTH_KEY=" + oauthKey, "SKIMMER_STORE=" + redis.URL()}
	a := start(t, env, "--transport", "http", "--oauth", "--addr", "127.0.0.1:0", "--log-format", "json")
	endpointA := a.waitURL(t)
	baseA := strings.TrimSuffix(endpointA, "/mcp")
	// Both replicas are one server to a client: the same public URL.
	b := start(t, env, "--transport", "http", "--oauth", "--addr", "127.0.0.1:0", "--public-url", baseA, "--log-format", "json")
	endpointB := b.waitURL(t)
	baseB := strings.TrimSuffix(endpointB, "/mcp")

	tok, _ := signIn(t, baseA, "sk_live_replicated_key_12345678", "write")
	refresh := func(base, token string) (int, map[string]any) {
		r, err := http.PostForm(base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}, "client_id": {tok["client_id"].(string)}})
		require.NoError(t, err)
		defer r.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&out))
		return r.StatusCode, out
	}
	status, fresh := refresh(baseB, tok["refresh_token"].(string))
	require.Equal(t, http.StatusOK, status, "a grant made on one replica refreshes on another: %v", fresh)
	c := httpClient(t, endpointB, map[string]string{"Authorization": "Bearer " + fresh["access_token"].(string)})
	_, isErr := callText(t, c, "search_customers", map[string]any{"text": "smith"})
	require.False(t, isErr)

	status, _ = refresh(baseA, tok["refresh_token"].(string))
	assert.Equal(t, http.StatusBadRequest, status, "spent on the other replica")
	resp := postMCP(t, endpointB, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, map[string]string{"Authorization": "Bearer " + fresh["access_token"].(string)})
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the reuse revoked the grant on every replica")
	a.stop(t)
	b.stop(t)
}
