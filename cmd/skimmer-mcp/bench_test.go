package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

// BenchmarkOverhead times a tool call over streamable HTTP and a direct
// HTTP call of the Skimmer endpoint it wraps, interleaved in one run, both
// against the same in-process sandbox, and reports their medians, p99s and
// the ratio of the medians. The tool call makes two HTTP round trips (client
// to server, server to Skimmer) where the direct call makes one, and renders
// text where the direct call hands over raw JSON.
//
//	go test ./cmd/skimmer-mcp -run '^$' -bench Overhead -benchtime 3000x
func BenchmarkOverhead(b *testing.B) {
	sb, err := sandbox.New(sandbox.Options{Seed: 1, Customers: 250, RateLimit: -1})
	if err != nil {
		b.Fatal(err)
	}
	api := httptest.NewServer(sb)
	defer api.Close()
	sk, err := skimmer.New(skimmer.Options{BaseURL: api.URL, APIKey: "bench-key-0001"})
	if err != nil {
		b.Fatal(err)
	}
	c, err := parseConfig([]string{"--transport", "http", "--addr", "127.0.0.1:0", "--confirm", "flag"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	h, err := newHosted(c, &upstream{client: sk, key: "bench-key-0001", stop: func() {}}, slog.New(slog.DiscardHandler), "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer h.close()
	srv := httptest.NewServer(h.handler)
	defer srv.Close()
	tr, err := transport.NewStreamableHTTP(srv.URL+"/mcp", transport.WithHTTPHeaders(map[string]string{"skimmer-api-key": "bench-key-0001"}))
	if err != nil {
		b.Fatal(err)
	}
	mc := client.NewClient(tr)
	ctx := context.Background()
	if err := mc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer mc.Close()
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "bench", Version: "1"}
	if _, err := mc.Initialize(ctx, init); err != nil {
		b.Fatal(err)
	}
	all, err := sk.AllCustomers(ctx, false)
	if err != nil {
		b.Fatal(err)
	}
	id := all[0].ID
	direct := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	get := func(path string) {
		req, _ := http.NewRequest("GET", api.URL+path, nil)
		req.Header.Set("skimmer-api-key", "bench-key-0001")
		resp, err := direct.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	tool := func(name string, args map[string]any) {
		var req mcp.CallToolRequest
		req.Params.Name, req.Params.Arguments = name, args
		res, err := mc.CallTool(ctx, req)
		if err != nil || res.IsError {
			b.Fatalf("%s: %v %v", name, err, res)
		}
	}
	search := url.Values{"filters": {"(FirstName|LastName|CompanyName|PrimaryEmail|SecondaryEmail|Email3|Email4|MobilePhone|MobilePhone2|HomePhone|WorkPhone)@=*smith,Deleted==false"}, "page": {"1"}, "pageSize": {"25"}}
	cases := []struct {
		name   string
		direct func()
		tool   func()
	}{
		{"get_customer", func() { get("/Customers/" + id + "?includeDeleted=false") }, func() { tool("get_customer", map[string]any{"id": id}) }},
		{"search_customers", func() { get("/Customers/Search?" + search.Encode()) }, func() { tool("search_customers", map[string]any{"text": "smith"}) }},
	}
	for _, latency := range []time.Duration{0, 20 * time.Millisecond} {
		sb.ClearFaults()
		suffix := ""
		if latency > 0 {
			// A fast API over a network: what the fixed cost compares to in use.
			sb.Inject(sandbox.Fault{Latency: latency})
			suffix = "/upstream=" + latency.String()
		}
		for _, cs := range cases {
			benchPair(b, cs.name+suffix, cs.direct, cs.tool)
		}
	}
}

// benchPair times direct and tool calls, interleaved, and reports both and
// the ratio of their medians.
func benchPair(b *testing.B, name string, directCall, toolCall func()) {
	b.Run(name, func(b *testing.B) {
		directCall() // warm both paths' connections
		toolCall()
		var d, t []time.Duration
		for b.Loop() {
			start := time.Now()
			directCall()
			mid := time.Now()
			toolCall()
			d, t = append(d, mid.Sub(start)), append(t, time.Since(mid))
		}
		report(b, "direct", d)
		report(b, "tool", t)
		b.ReportMetric(float64(percentile(t, 50))/float64(percentile(d, 50)), "x-median-ratio")
	})
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func report(b *testing.B, name string, ds []time.Duration) {
	b.ReportMetric(float64(percentile(ds, 50).Microseconds()), name+"-p50-µs")
	b.ReportMetric(float64(percentile(ds, 99).Microseconds()), name+"-p99-µs")
}

// BenchmarkIdleRSS starts the binary as released (built as
// deploy/goreleaser.yaml builds it: CGO_ENABLED=0, -trimpath, -ldflags
// "-s -w") and reads its resident memory once it is serving and idle: on a
// real Skimmer (here a sandbox in the test process, so the binary holds no
// account data), and with --sandbox, which holds the 250-customer demo
// account itself. It reports the binary's size too.
//
//	go test ./cmd/skimmer-mcp -run '^$' -bench IdleRSS -benchtime 1x -count 3
func BenchmarkIdleRSS(b *testing.B) {
	bin, err := releaseBinary()
	if err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Options{Seed: 1, Customers: 250})
	if err != nil {
		b.Fatal(err)
	}
	api := httptest.NewServer(sb)
	defer api.Close()
	for _, mode := range []struct {
		name string
		env  []string
		args []string
	}{
		{"upstream", []string{"SKIMMER_BASE_URL=" + api.URL}, nil},
		{"sandbox", nil, []string{"--sandbox"}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			var rss float64
			for b.Loop() {
				rss = idleRSS(b, bin, mode.env, mode.args)
			}
			b.ReportMetric(rss/(1<<20), "idle-RSS-MiB")
			b.ReportMetric(float64(fi.Size())/1e6, "binary-MB")
		})
	}
}

// releaseBinary builds skimmer-mcp as a release does, once, beside the
// tests' own build.
var releaseBinary = sync.OnceValues(func() (string, error) {
	path := filepath.Join(filepath.Dir(binary), "skimmer-mcp-release")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", path, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the release binary: %v\n%s", err, out)
	}
	return path, nil
})

func idleRSS(b *testing.B, bin string, env, args []string) float64 {
	p := startBinary(b, bin, env, append(args, "--transport", "http", "--addr", "127.0.0.1:0", "--debug-addr", "127.0.0.1:0", "--log-format", "json")...)
	defer func() { _ = p.cmd.Process.Kill() }()
	select {
	case <-p.url:
	case <-time.After(20 * time.Second):
		b.Fatalf("did not start: %s", p.stderr.String())
	}
	time.Sleep(time.Second) // idle
	var debugURL string
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		var rec struct{ Msg, URL string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "debug listener" {
			debugURL = rec.URL
		}
	}
	resp, err := http.Get(debugURL)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var vars struct {
		Memory struct {
			RSS int64 `json:"rss_bytes"`
		} `json:"memory"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&vars); err != nil {
		b.Fatal(err)
	}
	return float64(vars.Memory.RSS)
}

// BenchmarkTokenOverhead times the same tool call made with an OAuth
// access token and with the key in a header, interleaved in one run, on
// one server with --oauth against an in-process sandbox: the token's cost
// is verifying it (opening it, checking the revocations) on every request.
//
//	go test ./cmd/skimmer-mcp -run '^$' -bench TokenOverhead -benchtime 3000x
func BenchmarkTokenOverhead(b *testing.B) {
	sb, err := sandbox.New(sandbox.Options{Seed: 1, Customers: 250, RateLimit: -1})
	if err != nil {
		b.Fatal(err)
	}
	api := httptest.NewServer(sb)
	defer api.Close()
	sk, err := skimmer.New(skimmer.Options{BaseURL: api.URL, APIKey: "bench-key-0001"})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	c, err := parseConfig([]string{"--transport", "http", "--addr", "127.0.0.1:0", "--confirm", "flag"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	c.oauth, c.oauthKey, c.oauthAccessTTL = true, oauthKey, time.Hour
	h, err := newHosted(c, &upstream{client: sk, stop: func() {}}, slog.New(slog.DiscardHandler), srv.Listener.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer h.close()
	srv.Config.Handler = h.handler
	srv.Start()
	defer srv.Close()
	tokens, _ := signIn(b, srv.URL, "bench-key-0001", "write")
	connect := func(headers map[string]string) *client.Client {
		tr, err := transport.NewStreamableHTTP(srv.URL+"/mcp", transport.WithHTTPHeaders(headers))
		if err != nil {
			b.Fatal(err)
		}
		mc := client.NewClient(tr)
		if err := mc.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		var init mcp.InitializeRequest
		init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
		init.Params.ClientInfo = mcp.Implementation{Name: "bench", Version: "1"}
		if _, err := mc.Initialize(context.Background(), init); err != nil {
			b.Fatal(err)
		}
		return mc
	}
	header := connect(map[string]string{"skimmer-api-key": "bench-key-0001"})
	defer header.Close()
	token := connect(map[string]string{"Authorization": "Bearer " + tokens["access_token"].(string)})
	defer token.Close()
	all, err := sk.AllCustomers(context.Background(), false)
	if err != nil {
		b.Fatal(err)
	}
	call := func(mc *client.Client) func() {
		return func() {
			var req mcp.CallToolRequest
			req.Params.Name, req.Params.Arguments = "get_customer", map[string]any{"id": all[0].ID}
			res, err := mc.CallTool(context.Background(), req)
			if err != nil || res.IsError {
				b.Fatalf("get_customer: %v %v", err, res)
			}
		}
	}
	b.Run("get_customer", func(b *testing.B) {
		withHeader, withToken := call(header), call(token)
		withHeader()
		withToken()
		var hs, ts []time.Duration
		for i := 0; b.Loop(); i++ {
			first, second := withHeader, withToken // alternate which goes first
			if i%2 == 1 {
				first, second = withToken, withHeader
			}
			t0 := time.Now()
			first()
			t1 := time.Now()
			second()
			d1, d2 := t1.Sub(t0), time.Since(t1)
			if i%2 == 1 {
				d1, d2 = d2, d1
			}
			hs, ts = append(hs, d1), append(ts, d2)
		}
		report(b, "header", hs)
		report(b, "token", ts)
		b.ReportMetric(float64(percentile(ts, 50))/float64(percentile(hs, 50)), "x-median-ratio")
	})
}
