package tools

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

var update = flag.Bool("update", false, "rewrite schemas/ and the golden transcripts from what the server says now")

var epoch = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// setup is what a test may change before the harness starts.
type setup struct {
	cfg     Config
	sandbox sandbox.Options
	elicit  client.ElicitationHandler
	key     string
	// protocol the client asks for; the latest this mcp-go speaks when "".
	protocol string
	timeout  time.Duration // per Skimmer request; 2s when 0
	// upstream wraps the sandbox, to hold or watch requests on their way.
	upstream func(http.Handler) http.Handler
}

// harness is one server on a sandbox, and an MCP client talking to it.
type harness struct {
	t      testing.TB
	sb     *sandbox.Server
	http   *httptest.Server
	sk     *skimmer.Client
	server *Server
	client *client.Client
	logs   *lockedBuffer

	waitMu sync.Mutex
	waited []time.Duration // the client's retry waits, recorded instead of taken
}

func newHarness(t testing.TB, opts ...func(*setup)) *harness {
	t.Helper()
	st := &setup{key: "test-key-2f9c41d7", cfg: Config{Confirm: ConfirmFlag}}
	// Seeded ids for created records too, so transcripts repeat.
	st.sandbox = sandbox.Options{Seed: 1, Customers: 120, Clock: func() time.Time { return epoch }, NewID: sandbox.SeededIDs(1)}
	for _, o := range opts {
		o(st)
	}
	sb, err := sandbox.New(st.sandbox)
	require.NoError(t, err)
	var handler http.Handler = sb
	if st.upstream != nil {
		handler = st.upstream(sb)
	}
	h := &harness{t: t, sb: sb, http: httptest.NewServer(handler), logs: &lockedBuffer{}}
	t.Cleanup(h.http.Close)
	if st.timeout == 0 {
		st.timeout = 2 * time.Second
	}
	h.sk, err = skimmer.New(skimmer.Options{
		BaseURL: h.http.URL, APIKey: st.key, Timeout: st.timeout,
		Retry: skimmer.RetryPolicy{Sleep: func(_ context.Context, d time.Duration) error {
			h.waitMu.Lock()
			h.waited = append(h.waited, d)
			h.waitMu.Unlock()
			return nil
		}},
	})
	require.NoError(t, err)
	if st.cfg.Client == nil {
		st.cfg.Client = func(context.Context) (*skimmer.Client, error) { return h.sk, nil }
	}
	st.cfg.Logger = slog.New(slog.NewTextHandler(h.logs, nil))
	st.cfg.Now = func() time.Time { return epoch }
	h.server, err = New(st.cfg)
	require.NoError(t, err)

	var copts []client.ClientOption
	if st.elicit != nil {
		copts = append(copts, client.WithElicitationHandler(st.elicit))
	}
	h.client, err = client.NewInProcessClientWithOptions(h.server.MCP(), copts...)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, h.client.Start(ctx))
	t.Cleanup(func() { h.client.Close() })
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = st.protocol
	if init.Params.ProtocolVersion == "" {
		init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	}
	init.Params.ClientInfo = mcp.Implementation{Name: "tools-test", Version: "1"}
	_, err = h.client.Initialize(ctx, init)
	require.NoError(t, err)
	h.sb.ResetRequests()
	return h
}

// call runs a tool and returns its text and whether it is an error result.
// A JSON-RPC error fails the test: those are for bugs.
func (h *harness) call(name string, args map[string]any) (string, bool) {
	h.t.Helper()
	res, err := h.callRaw(name, args)
	require.NoError(h.t, err, "%s must answer with a result, not a protocol error", name)
	return resultText(h.t, res), res.IsError
}

func (h *harness) callRaw(name string, args map[string]any) (*mcp.CallToolResult, error) {
	var req mcp.CallToolRequest
	req.Params.Name = name
	req.Params.Arguments = args
	return h.client.CallTool(context.Background(), req)
}

func resultText(t testing.TB, res *mcp.CallToolResult) string {
	t.Helper()
	require.Len(t, res.Content, 1)
	tc, ok := res.Content[0].(mcp.TextContent)
	require.True(t, ok, "text content")
	return tc.Text
}

// waits returns, and forgets, the retry waits recorded so far.
func (h *harness) waits() []time.Duration {
	h.waitMu.Lock()
	defer h.waitMu.Unlock()
	w := h.waited
	h.waited = nil
	return w
}

// writes counts the requests that could have changed something.
func (h *harness) writes() int {
	n := 0
	for _, r := range h.sb.Requests() {
		if r.Method != "GET" {
			n++
		}
	}
	return n
}

// customer finds a seeded customer that satisfies ok.
func (h *harness) customer(ok func(*skimmer.Customer) bool) *skimmer.Customer {
	h.t.Helper()
	all, err := h.sk.AllCustomers(context.Background(), false)
	require.NoError(h.t, err)
	for i := range all {
		if ok(&all[i]) {
			c, err := h.sk.GetCustomer(context.Background(), all[i].ID, false)
			require.NoError(h.t, err)
			h.sb.ResetRequests()
			return c
		}
	}
	h.t.Fatal("no seeded customer fits")
	return nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
