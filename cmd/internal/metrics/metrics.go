// Package metrics serves skimmer-mcp's OpenTelemetry metrics in the
// Prometheus text format, on a listener of its own.
//
// Names follow the OpenTelemetry semantic conventions where they exist:
// mcp.server.operation.duration for the requests a host makes (tool calls,
// resource reads, prompts, completions: MCP), and
// http.client.request.duration for the requests to Skimmer (HTTP); the
// rest are under skimmer_mcp. Attributes are drawn from fixed sets (the
// declared tools, resource templates and prompts, tools.Outcomes,
// operations, status codes): never an API key, a customer, a URI, an
// argument or a result.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/tools"
)

// Metrics is the process's meter provider and its Prometheus registry.
type Metrics struct {
	provider *sdkmetric.MeterProvider
	registry *prometheus.Registry
	meter    metric.Meter
}

// New sets up the provider. The registry holds only what this process
// measures (and the Go runtime's and process's collectors).
func New(version string) (*Metrics, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "skimmer-mcp"), attribute.String("service.version", version))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res))
	return &Metrics{provider: mp, registry: reg, meter: mp.Meter("github.com/skimmer-mcp/skimmer-mcp")}, nil
}

// Meter is where the other packages' instruments go.
func (m *Metrics) Meter() metric.Meter { return m.meter }

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorLog: nil})
}

// Serve listens on addr and serves /metrics until the returned stop is
// called. Metrics hold no secrets, but the listener has no authentication:
// keep it where only the scraper reaches it.
func (m *Metrics) Serve(addr string, log *slog.Logger) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("--metrics-addr %q: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	url := "http://" + ln.Addr().String() + "/metrics"
	log.Info("metrics listener", "url", url)
	return url, func() {
		_ = srv.Close()
		_ = m.provider.Shutdown(context.Background())
	}, nil
}

// Durations of an MCP operation, in seconds: the buckets the MCP semantic
// conventions give for mcp.server.operation.duration.
var mcpBuckets = []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}

// Durations of an HTTP request: the HTTP conventions' buckets.
var httpBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// Observer is the tools.Observer that records each call's metrics.
type Observer struct {
	transport string
	methods   map[skimmer.Operation]string
	duration  metric.Float64Histogram
	calls     metric.Int64Counter
	inFlight  metric.Int64UpDownCounter
	upstream  metric.Float64Histogram
	retries   metric.Int64Counter
	holds     metric.Int64Counter
	held      metric.Float64Histogram
}

// Tools returns the observer for a server on the given transport: "pipe"
// for stdio, "tcp" for HTTP (network.transport's values).
func (m *Metrics) Tools(transport string) (*Observer, error) {
	o := &Observer{transport: transport, methods: map[skimmer.Operation]string{}}
	for _, r := range skimmer.Routes() {
		o.methods[r.Op] = r.Method
	}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	var err error
	o.duration, err = m.meter.Float64Histogram("mcp.server.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("MCP request duration as observed on the server, from the request to its result: tools/call, resources/read, prompts/get and completion/complete."),
		metric.WithExplicitBucketBoundaries(mcpBuckets...))
	add(err)
	o.calls, err = m.meter.Int64Counter("skimmer_mcp.tool.calls",
		metric.WithDescription("Tool calls by tool and outcome: "+strings.Join(tools.Outcomes(), ", ")+"."))
	add(err)
	o.inFlight, err = m.meter.Int64UpDownCounter("skimmer_mcp.tool.calls.in_flight", metric.WithDescription("Tool calls running now."))
	add(err)
	o.upstream, err = m.meter.Float64Histogram("http.client.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Requests to Skimmer, one per attempt, by operation and status, whatever asked for them: a tool call, a resource read or a completion."),
		metric.WithExplicitBucketBoundaries(httpBuckets...))
	add(err)
	o.retries, err = m.meter.Int64Counter("skimmer_mcp.upstream.retries", metric.WithDescription("Read attempts after the first, by operation."))
	add(err)
	o.holds, err = m.meter.Int64Counter("skimmer_mcp.rate_limit.holds", metric.WithDescription("Requests held for the key's rate-limit budget, by operation."))
	add(err)
	o.held, err = m.meter.Float64Histogram("skimmer_mcp.rate_limit.hold.duration", metric.WithUnit("s"),
		metric.WithDescription("How long a request was held for the key's rate-limit budget."),
		metric.WithExplicitBucketBoundaries(0.1, 0.5, 1, 2, 5, 10, 20, 30, 60))
	add(err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return o, nil
}

var _ tools.Observer = (*Observer)(nil)

// CallStarted counts a tool call in flight.
func (o *Observer) CallStarted(ctx context.Context, c tools.Call) {
	if c.Kind == tools.KindTool {
		o.inFlight.Add(ctx, 1, metric.WithAttributes(attribute.String("gen_ai.tool.name", c.Name)))
	}
}

// target names what a request was for, by the MCP conventions' attribute
// for it: gen_ai.tool.name or gen_ai.prompt.name. A resource template has
// none (mcp.resource.uri would hold customers' ids and names), so it is
// named by its template's name.
func target(c tools.Call) attribute.KeyValue {
	kind := c.Kind
	if kind == tools.KindCompletion {
		kind = c.Of
	}
	switch kind {
	case tools.KindPrompt:
		return attribute.String("gen_ai.prompt.name", c.Name)
	case tools.KindResource:
		return attribute.String("skimmer_mcp.resource.template", c.Name)
	}
	return attribute.String("gen_ai.tool.name", c.Name)
}

// CallEnded records the request, its upstream attempts and its holds.
func (o *Observer) CallEnded(ctx context.Context, c tools.CallRecord) {
	attrs := []attribute.KeyValue{
		attribute.String("mcp.method.name", c.Kind.Method()),
		target(c.Call),
		attribute.String("network.transport", o.transport),
	}
	if c.Kind == tools.KindTool {
		o.inFlight.Add(ctx, -1, metric.WithAttributes(attribute.String("gen_ai.tool.name", c.Name)))
		attrs = append(attrs, attribute.String("gen_ai.operation.name", "execute_tool"))
		o.calls.Add(ctx, 1, metric.WithAttributes(attribute.String("gen_ai.tool.name", c.Name), attribute.String("outcome", c.Outcome.String())))
	}
	if c.Outcome.Failed() {
		attrs = append(attrs, attribute.String("error.type", c.Outcome.String()))
	}
	o.duration.Record(ctx, c.Duration.Seconds(), metric.WithAttributes(attrs...))
	for _, x := range c.Upstream {
		op := attribute.String("skimmer.operation", string(x.Op))
		a := []attribute.KeyValue{op, attribute.String("http.request.method", o.methods[x.Op])}
		switch {
		case x.Status == 0:
			a = append(a, attribute.String("error.type", "no_answer"))
		case x.Status >= 400:
			a = append(a, attribute.Int("http.response.status_code", x.Status), attribute.String("error.type", strconv.Itoa(x.Status)))
		default:
			a = append(a, attribute.Int("http.response.status_code", x.Status))
		}
		o.upstream.Record(ctx, x.Duration.Seconds(), metric.WithAttributes(a...))
		if x.Attempt > 1 {
			o.retries.Add(ctx, 1, metric.WithAttributes(op))
		}
	}
	for _, h := range c.Holds {
		op := metric.WithAttributes(attribute.String("skimmer.operation", string(h.Op)))
		o.holds.Add(ctx, 1, op)
		o.held.Record(ctx, h.Duration.Seconds(), op)
	}
}
