package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/redistest"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

// BenchmarkConfirmedWriteStore times confirmed writes on a hosted server
// keeping its state in this process, and on one keeping it in Redis
// (--store), interleaved in one run against one in-process sandbox with the
// rate limit announced (so the budget does its full work), and reports
// both medians and what the store adds at the median:
//
//   - update: update_customer with confirm: true (the budget for its three
//     requests, and the record's lock);
//
//   - elicited: create_customer_activity approved through elicitation, on
//     the 2026-07-28 protocol (two calls, the ask and the answer; the budget
//     for its two requests, and the spent confirmation).
//
//     go test ./cmd/skimmer-mcp -run '^$' -bench ConfirmedWriteStore -benchtime 2000x
func BenchmarkConfirmedWriteStore(b *testing.B) {
	redis := redistest.Start(b)
	sb, err := sandbox.New(sandbox.Options{Seed: 1, Customers: 50, RateLimit: 1_000_000})
	if err != nil {
		b.Fatal(err)
	}
	api := httptest.NewServer(sb)
	defer api.Close()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	serve := func(store string, elicit client.ElicitationHandler) *client.Client {
		c := &config{transport: "http", addr: "127.0.0.1:0", confirm: "elicit", maxBody: 1 << 20, baseURL: api.URL, store: store, timeout: 10 * time.Second, set: map[string]bool{}}
		if err := c.check(); err != nil {
			b.Fatal(err)
		}
		up, err := startUpstream(ctx, c, log)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(up.stop)
		h, err := newHosted(c, up, log, "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(h.handler)
		b.Cleanup(srv.Close)
		tr, err := transport.NewStreamableHTTP(srv.URL+"/mcp", transport.WithHTTPHeaders(map[string]string{"skimmer-api-key": "bench-key-0123456789"}))
		if err != nil {
			b.Fatal(err)
		}
		var opts []client.ClientOption
		if elicit != nil {
			opts = append(opts, client.WithElicitationHandler(elicit))
		}
		mc := client.NewClient(tr, opts...)
		if err := mc.Start(ctx); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { mc.Close() })
		var init mcp.InitializeRequest
		init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
		init.Params.ClientInfo = mcp.Implementation{Name: "bench", Version: "1"}
		if _, err := mc.Initialize(ctx, init); err != nil {
			b.Fatal(err)
		}
		return mc
	}
	sk, err := skimmer.New(skimmer.Options{BaseURL: api.URL, APIKey: "setup-key"})
	if err != nil {
		b.Fatal(err)
	}
	all, err := sk.AllCustomers(ctx, false)
	if err != nil {
		b.Fatal(err)
	}
	id := all[0].ID
	n := 0
	timed := func(c *client.Client, name, want string, args map[string]any) time.Duration {
		var req mcp.CallToolRequest
		req.Params.Name = name
		req.Params.Arguments = args
		start := time.Now()
		res, err := c.CallTool(ctx, req)
		d := time.Since(start)
		if err != nil || res.IsError || !strings.HasPrefix(res.Content[0].(mcp.TextContent).Text, want) {
			b.Fatalf("%s: %v %v", name, err, res)
		}
		return d
	}
	pair := func(b *testing.B, memory, shared *client.Client, call func(c *client.Client) time.Duration) {
		for range 50 { // warm both: connections, scripts loaded
			call(memory)
			call(shared)
		}
		var m, s []time.Duration
		b.ResetTimer()
		for range b.N {
			m = append(m, call(memory))
			s = append(s, call(shared))
		}
		b.StopTimer()
		slices.Sort(m)
		slices.Sort(s)
		report(b, "memory", m)
		report(b, "store", s)
		b.ReportMetric(float64((percentile(s, 50) - percentile(m, 50)).Microseconds()), "added-p50-µs")
	}
	b.Run("update", func(b *testing.B) {
		pair(b, serve("", nil), serve(redis.URL(), nil), func(c *client.Client) time.Duration {
			n++
			return timed(c, "update_customer", "Updated", map[string]any{"id": id, "notes": fmt.Sprintf("benchmark %d", n), "confirm": true})
		})
	})
	b.Run("elicited", func(b *testing.B) {
		yes := approveAll{}
		pair(b, serve("", yes), serve(redis.URL(), yes), func(c *client.Client) time.Duration {
			return timed(c, "create_customer_activity", "Logged", map[string]any{"customerId": id, "type": "Other", "title": "Benchmark note"})
		})
	})
}

// approveAll accepts every confirmation it is asked for.
type approveAll struct{}

func (approveAll) Elicit(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"approve": true}}}, nil
}
