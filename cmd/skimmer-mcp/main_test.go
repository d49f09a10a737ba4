package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
	"github.com/skimmer-mcp/skimmer-mcp/tools"
)

// binary is skimmer-mcp, built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "skimmer-mcp-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "skimmer-mcp")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building skimmer-mcp: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// lastNames returns n different last names from the sandbox at base, in
// lower case, for searches that match something.
func lastNames(t *testing.T, base string, n int) []string {
	t.Helper()
	c, err := skimmer.New(skimmer.Options{BaseURL: base, APIKey: "lookup"})
	require.NoError(t, err)
	all, err := c.AllCustomers(context.Background(), false)
	require.NoError(t, err)
	var out []string
	for _, cust := range all {
		name := strings.ToLower(*cust.LastName)
		if !slices.Contains(out, name) && !strings.ContainsAny(name, "' ") {
			out = append(out, name)
		}
		if len(out) == n {
			break
		}
	}
	return out
}

// upstreamSandbox is a sandbox in the test process, so tests can read which
// key each upstream request carried.
func upstreamSandbox(t *testing.T) (*sandbox.Server, string) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Seed: 1, Customers: 120})
	require.NoError(t, err)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return sb, srv.URL
}

// proc is a running skimmer-mcp.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *syncBuffer
	url    chan string
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	return startBinary(t, binary, env, args...)
}

// startBinary is start with another build of the command.
func startBinary(t testing.TB, path string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	p := &proc{cmd: cmd, stderr: &syncBuffer{}, url: make(chan string, 1), done: make(chan error, 1)}
	var err error
	p.stdin, err = cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	p.stdout = bufio.NewReader(out)
	errPipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			line := sc.Text()
			p.stderr.Write([]byte(line + "\n"))
			var rec struct{ Msg, URL string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving MCP" {
				p.url <- rec.URL
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	return p
}

func (p *proc) waitURL(t *testing.T) string {
	t.Helper()
	select {
	case u := <-p.url:
		return u
	case err := <-p.done:
		t.Fatalf("skimmer-mcp exited: %v\n%s", err, p.stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("skimmer-mcp did not start:\n%s", p.stderr.String())
	}
	return ""
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		require.NoError(t, err, "a clean exit on SIGTERM\n%s", p.stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("skimmer-mcp did not stop")
	}
}

func initialize(t *testing.T, c *client.Client) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, c.Start(ctx))
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "cmd-test", Version: "1"}
	res, err := c.Initialize(ctx, init)
	require.NoError(t, err)
	assert.Equal(t, "skimmer-mcp", res.ServerInfo.Name)
	assert.Contains(t, res.Instructions, "search_customers")
}

func callText(t *testing.T, c *client.Client, name string, args map[string]any) (string, bool) {
	t.Helper()
	var req mcp.CallToolRequest
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(context.Background(), req)
	require.NoError(t, err)
	return res.Content[0].(mcp.TextContent).Text, res.IsError
}

func TestStdio(t *testing.T) {
	p := start(t, nil, "--sandbox", "--log-format", "json")
	send := func(msg string) {
		_, err := io.WriteString(p.stdin, msg+"\n")
		require.NoError(t, err)
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"search_customers","arguments":{"text":"smith"}}}`)
	send(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_customer","arguments":{"id":"nope"}}}`)
	results := map[float64]json.RawMessage{}
	for len(results) < 4 {
		line, err := p.stdout.ReadString('\n')
		require.NoError(t, err, "stderr:\n%s", p.stderr.String())
		var msg struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      float64         `json:"id"`
			Result  json.RawMessage `json:"result"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &msg), "stdout holds nothing but JSON-RPC: %q", line)
		require.Equal(t, "2.0", msg.JSONRPC)
		results[msg.ID] = msg.Result
	}
	var list mcp.ListToolsResult
	require.NoError(t, json.Unmarshal(results[2], &list))
	assert.Len(t, list.Tools, len(tools.Catalogue()))
	assert.Regexp(t, `\d+ customers? match`, string(results[3]))
	assert.Contains(t, string(results[4]), `"isError":true`)

	require.NoError(t, p.stdin.Close())
	select {
	case err := <-p.done:
		require.NoError(t, err, "stdin closed: a clean exit")
	case <-time.After(10 * time.Second):
		t.Fatal("did not exit on end of input")
	}
	rest, _ := io.ReadAll(p.stdout)
	assert.Empty(t, strings.TrimSpace(string(rest)), "nothing but replies on stdout")
	lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
	assert.Equal(t, "skimmer-mcp: SANDBOX MODE: demo data from an emulated Skimmer account, not a real one.", lines[0], "the first stderr line")
	assert.Contains(t, p.stderr.String(), `"msg":"tool call"`)
}

func TestStdioWithALibraryClient(t *testing.T) {
	sb, base := upstreamSandbox(t)
	c, err := client.NewStdioMCPClient(binary, []string{"SKIMMER_API_KEY=stdio-key-91f2", "SKIMMER_BASE_URL=" + base, "PATH=" + os.Getenv("PATH")})
	require.NoError(t, err)
	defer c.Close()
	initialize(t, c)
	res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	assert.Len(t, res.Tools, len(tools.Catalogue()))
	text, isErr := callText(t, c, "list_customers", map[string]any{"limit": 3})
	assert.False(t, isErr)
	assert.Contains(t, text, "Customers 1-3 of")
	for _, r := range sb.Requests() {
		assert.Equal(t, "stdio-key-91f2", r.Key)
	}
}

func TestNoKeyNoStart(t *testing.T) {
	p := start(t, nil)
	select {
	case err := <-p.done:
		assert.Error(t, err)
		assert.Contains(t, p.stderr.String(), "SKIMMER_API_KEY is not set")
		assert.Contains(t, p.stderr.String(), "--sandbox")
	case <-time.After(10 * time.Second):
		t.Fatal("should refuse to start")
	}
}

func httpClient(t *testing.T, url string, headers map[string]string) *client.Client {
	t.Helper()
	c, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(headers))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	initialize(t, c)
	return c
}

func sseClient(t *testing.T, url string, headers map[string]string) *client.Client {
	t.Helper()
	c, err := client.NewSSEMCPClient(url, transport.WithHeaders(headers))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	initialize(t, c)
	return c
}

func TestHostedTransports(t *testing.T) {
	for _, tt := range []struct {
		transport string
		connect   func(*testing.T, string, map[string]string) *client.Client
		extra     []string
	}{
		{"http", httpClient, nil},
		{"http", httpClient, []string{"--stateful"}},
		{"sse", sseClient, nil},
	} {
		t.Run(tt.transport+strings.Join(tt.extra, ""), func(t *testing.T) {
			sb, base := upstreamSandbox(t)
			p := start(t, []string{"SKIMMER_BASE_URL=" + base}, append([]string{"--transport", tt.transport, "--addr", "127.0.0.1:0", "--log-format", "json"}, tt.extra...)...)
			url := p.waitURL(t)
			c := tt.connect(t, url, map[string]string{"skimmer-api-key": "tenant-key-7a1c"})
			res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
			require.NoError(t, err)
			assert.Len(t, res.Tools, len(tools.Catalogue()))
			text, isErr := callText(t, c, "search_customers", map[string]any{"text": "smith"})
			require.False(t, isErr, text)
			assert.Regexp(t, `^\d+ customers? match`, text)
			text, _ = callText(t, c, "update_customer", map[string]any{"id": strings.Repeat("a", 32), "notes": "x"})
			assert.NotEmpty(t, text)
			for _, r := range sb.Requests() {
				assert.Equal(t, "tenant-key-7a1c", r.Key, "the caller's key, and only it, goes upstream")
			}

			health, err := http.Get(strings.TrimSuffix(strings.TrimSuffix(url, "/mcp"), "/sse") + "/healthz")
			require.NoError(t, err)
			assert.Equal(t, 200, health.StatusCode)
			health.Body.Close()
			p.stop(t)
		})
	}
}

// TestKeyIsolation runs two tenants at once: each upstream request carries
// the key of the tenant whose call made it, and nobody sees the other's data.
func TestKeyIsolation(t *testing.T) {
	sb, base := upstreamSandbox(t)
	p := start(t, []string{"SKIMMER_BASE_URL=" + base}, "--transport", "http", "--addr", "127.0.0.1:0", "--log-format", "json")
	url := p.waitURL(t)
	words := lastNames(t, base, 2)
	tenants := map[string]string{"key-alpha-1111": words[0], "key-bravo-2222": words[1]}
	var wg sync.WaitGroup
	for key, word := range tenants {
		c := httpClient(t, url, map[string]string{"skimmer-api-key": key})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				var req mcp.CallToolRequest
				req.Params.Name = "search_customers"
				req.Params.Arguments = map[string]any{"text": word}
				res, err := c.CallTool(context.Background(), req)
				if assert.NoError(t, err) {
					assert.Contains(t, strings.ToLower(res.Content[0].(mcp.TextContent).Text), word)
				}
			}
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for _, r := range sb.Requests() {
		for key, word := range tenants {
			if strings.Contains(r.Query, word) {
				assert.Equal(t, key, r.Key, "a %q search went upstream with another tenant's key", word)
				seen[key]++
			}
		}
	}
	assert.Equal(t, map[string]int{"key-alpha-1111": 20, "key-bravo-2222": 20}, seen)
}

// initializeMsg opens an MCP session.
const initializeMsg = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`

// postMCP sends one JSON-RPC message the way a streamable HTTP client does,
// with headers added ("Host" sets the request's host), and returns the
// answer with its body closed: the tests here look at status and headers.
func postMCP(t *testing.T, url, body string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

func TestAuthTokenAndServerKey(t *testing.T) {
	sb, base := upstreamSandbox(t)
	p := start(t, []string{"SKIMMER_BASE_URL=" + base, "SKIMMER_API_KEY=server-wide-key-5d3e", "SKIMMER_AUTH_TOKEN=team-token-c0ffee-0123456789abcdef"},
		"--transport", "http", "--addr", "127.0.0.1:0", "--log-format", "json")
	url := p.waitURL(t)
	post := func(headers map[string]string) int { return postMCP(t, url, initializeMsg, headers).StatusCode }
	assert.Equal(t, 401, post(nil), "no token")
	assert.Equal(t, 401, post(map[string]string{"Authorization": "Bearer wrong"}), "wrong token")
	assert.Equal(t, 401, post(map[string]string{"skimmer-api-key": "my-own-key"}), "an own key does not replace the token")
	assert.Equal(t, 200, post(map[string]string{"Authorization": "Bearer team-token-c0ffee-0123456789abcdef"}))

	c := httpClient(t, url, map[string]string{"Authorization": "Bearer team-token-c0ffee-0123456789abcdef"})
	callText(t, c, "list_customers", map[string]any{"limit": 1})
	own := httpClient(t, url, map[string]string{"Authorization": "Bearer team-token-c0ffee-0123456789abcdef", "skimmer-api-key": "caller-own-key"})
	callText(t, own, "list_customers", map[string]any{"limit": 1})
	keys := map[string]bool{}
	for _, r := range sb.Requests() {
		keys[r.Key] = true
	}
	assert.Equal(t, map[string]bool{"server-wide-key-5d3e": true, "caller-own-key": true}, keys)
	logs := p.stderr.String()
	for _, secret := range []string{"server-wide-key-5d3e", "team-token-c0ffee-0123456789abcdef", "caller-own-key"} {
		assert.NotContains(t, logs, secret)
	}
}

func TestServerKeyIsNotServedOnAnOpenAddressWithoutAToken(t *testing.T) {
	_, base := upstreamSandbox(t)
	p := start(t, []string{"SKIMMER_BASE_URL=" + base, "SKIMMER_API_KEY=server-wide-key-5d3e"}, "--transport", "http", "--addr", "0.0.0.0:0")
	select {
	case err := <-p.done:
		assert.Error(t, err)
		assert.Contains(t, p.stderr.String(), "refusing to serve SKIMMER_API_KEY")
		assert.NotContains(t, p.stderr.String(), "server-wide-key-5d3e")
	case <-time.After(10 * time.Second):
		t.Fatal("should refuse to start")
	}
}

func TestBrowserProtections(t *testing.T) {
	_, base := upstreamSandbox(t)
	p := start(t, []string{"SKIMMER_BASE_URL=" + base}, "--transport", "http", "--addr", "127.0.0.1:0", "--log-format", "json",
		"--allowed-origins", "https://agents.example.com", "--max-body", "4096")
	url := p.waitURL(t)
	post := func(body string, headers map[string]string) int {
		h := map[string]string{"skimmer-api-key": "k-1234567890ab"}
		maps.Copy(h, headers)
		return postMCP(t, url, body, h).StatusCode
	}
	ping := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	assert.Equal(t, 403, post(ping, map[string]string{"Origin": "https://evil.example"}), "a foreign origin")
	assert.Equal(t, 403, post(ping, map[string]string{"Host": "evil.example"}), "DNS rebinding: a foreign Host on loopback")
	assert.Equal(t, 200, post(ping, map[string]string{"Origin": "https://agents.example.com"}), "an allowed origin")
	assert.Equal(t, 200, post(ping, map[string]string{"Origin": "http://localhost:6274"}), "a localhost origin")
	assert.Equal(t, 413, post(`{"x":"`+strings.Repeat("a", 5000)+`"}`, nil), "the body limit")
	assert.Equal(t, 200, post(ping, nil), "still serving")
	assert.Equal(t, 200, post(ping, map[string]string{"skimmer-base-url": "http://attacker.example", "X-Skimmer-Base-URL": "http://attacker.example"}), "no header moves the upstream")
}

func TestStatefulSessionsBelongToTheirKey(t *testing.T) {
	_, base := upstreamSandbox(t)
	p := start(t, []string{"SKIMMER_BASE_URL=" + base}, "--transport", "http", "--stateful", "--addr", "127.0.0.1:0", "--log-format", "json")
	url := p.waitURL(t)
	sid := postMCP(t, url, initializeMsg, map[string]string{"skimmer-api-key": "owner-key-0001"}).Header.Get("Mcp-Session-Id")
	require.NotEmpty(t, sid)

	use := func(key string) int {
		return postMCP(t, url, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`, map[string]string{"Mcp-Session-Id": sid, "skimmer-api-key": key}).StatusCode
	}
	assert.Equal(t, 403, use("intruder-key-0002"), "another key cannot use the session")
	assert.Equal(t, 200, use("owner-key-0001"))

	// An initialize that carries a stale or made-up session id still opens a
	// new session, and that one is bound too.
	sid = postMCP(t, url, initializeMsg, map[string]string{"skimmer-api-key": "owner-key-0001", "Mcp-Session-Id": "stale-old-id"}).Header.Get("Mcp-Session-Id")
	require.NotEmpty(t, sid)
	require.NotEqual(t, "stale-old-id", sid)
	assert.Equal(t, 403, use("intruder-key-0002"), "the new session is bound to its opener's key")
	assert.Equal(t, 200, use("owner-key-0001"))
}

// TestGracefulShutdown: a call in flight when SIGTERM arrives finishes, and
// its answer reaches the client, over both hosted transports. (SSE answers
// 202 before the tool runs, so the server must track the call itself.)
func TestGracefulShutdown(t *testing.T) {
	for _, tr := range []struct {
		name    string
		connect func(*testing.T, string, map[string]string) *client.Client
	}{{"http", httpClient}, {"sse", sseClient}} {
		t.Run(tr.name, func(t *testing.T) {
			sb, base := upstreamSandbox(t)
			p := start(t, []string{"SKIMMER_BASE_URL=" + base}, "--transport", tr.name, "--addr", "127.0.0.1:0", "--log-format", "json")
			url := p.waitURL(t)
			c := tr.connect(t, url, map[string]string{"skimmer-api-key": "k-1234567890ab"})
			id := firstCustomerID(t, base)
			sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpCreateActivityLog}, Latency: 1500 * time.Millisecond})
			got := make(chan string, 1)
			go func() {
				text, _ := callText(t, c, "create_customer_activity", map[string]any{"customerId": id, "type": "Call", "title": "In flight", "confirm": true})
				got <- text
			}()
			// SIGTERM once the write has reached Skimmer and is waiting there.
			require.Eventually(t, func() bool { return sb.Count(skimmer.OpCreateActivityLog) == 1 }, 10*time.Second, 10*time.Millisecond)
			p.stop(t)
			select {
			case text := <-got:
				assert.Contains(t, text, `Logged Call "In flight"`, "the call in flight finished and its answer arrived")
			case <-time.After(5 * time.Second):
				t.Fatal("the call in flight was lost")
			}
			assert.Contains(t, p.stderr.String(), `"tool":"create_customer_activity","outcome":"applied"`)
		})
	}
}

// TestBrowserClients: an allowed origin gets CORS answers, preflight
// included, which the browser needs to send the key header at all.
func TestBrowserClients(t *testing.T) {
	_, base := upstreamSandbox(t)
	p := start(t, []string{"SKIMMER_BASE_URL=" + base}, "--transport", "http", "--addr", "127.0.0.1:0", "--log-format", "json", "--allowed-origins", "https://app.example.com")
	url := p.waitURL(t)
	pre, _ := http.NewRequest("OPTIONS", url, nil)
	pre.Header.Set("Origin", "https://app.example.com")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "content-type, skimmer-api-key, mcp-session-id")
	resp, err := http.DefaultClient.Do(pre)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode, "the preflight needs no credentials")
	assert.NotEmpty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "skimmer-api-key")

	resp = postMCP(t, url, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, map[string]string{"Origin": "https://app.example.com", "skimmer-api-key": "k-1234567890ab"})
	assert.Equal(t, 200, resp.StatusCode)
	assert.NotEmpty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Expose-Headers"), "Mcp-Session-Id")

	// A refusal to an allowed origin is readable too: a browser client
	// needs the 401's challenge to find its way to a key.
	resp = postMCP(t, url, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, map[string]string{"Origin": "https://app.example.com"})
	assert.Equal(t, 401, resp.StatusCode)
	assert.Equal(t, "https://app.example.com", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate")

	// What no browser sent gets no CORS answer, as the README says.
	resp = postMCP(t, url, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, map[string]string{"skimmer-api-key": "k-1234567890ab"})
	assert.Equal(t, 200, resp.StatusCode)
	for k := range resp.Header {
		assert.NotContains(t, strings.ToLower(k), "access-control-", "a request without an Origin")
	}

	pre.Header.Set("Origin", "https://evil.example")
	resp, err = http.DefaultClient.Do(pre)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "other origins are refused, preflight or not")
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
}

// TestAddressInABrowser: a person who opens the server's address, or its
// endpoint, in a browser is told in words what it is and what to give an
// AI app; MCP clients' own GETs are answered as before.
func TestAddressInABrowser(t *testing.T) {
	_, base := upstreamSandbox(t)
	for _, tt := range []struct {
		args   []string
		env    []string
		status int // of a browser's GET on the endpoint
		says   []string
	}{
		{[]string{"--transport", "http"}, nil, http.StatusMethodNotAllowed,
			[]string{"with your Skimmer API key in the skimmer-api-key header."}},
		{[]string{"--transport", "http", "--oauth", "--stateful"}, []string{"SKIMMER_AUTH_TOKEN=" + strings.Repeat("t", 32)}, http.StatusNotAcceptable,
			[]string{"Claude or ChatGPT: as a custom connector", "and the team token you were given as Authorization: Bearer TOKEN"}},
		{[]string{"--transport", "sse"}, nil, http.StatusNotAcceptable, nil},
	} {
		p := start(t, append([]string{"SKIMMER_BASE_URL=" + base}, tt.env...), append(tt.args, "--addr", "127.0.0.1:0", "--log-format", "json")...)
		endpoint := p.waitURL(t)
		root := endpoint[:strings.LastIndex(endpoint, "/")]
		for _, u := range []string{root + "/", endpoint} {
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := http.StatusOK
			if u == endpoint {
				want = tt.status
			}
			assert.Equal(t, want, resp.StatusCode, "%v %s", tt.args, u)
			assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
			assert.Contains(t, string(body), "This is skimmer-mcp, an MCP server for a Skimmer account; it has no web pages to use.\nAdd "+endpoint+" to your AI app:")
			for _, s := range tt.says {
				assert.Contains(t, string(body), s, "%v", tt.args)
			}
		}
		// An MCP client's GET, asking for an event stream, is not a visit.
		req, _ := http.NewRequest("GET", endpoint, nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Contains(t, []int{http.StatusUnauthorized, http.StatusBadRequest}, resp.StatusCode, "%v: the gate's answer, as before", tt.args)
		p.stop(t)
	}
}

// TestNoSignInSaysSo: without --oauth, the paths where an OAuth client
// looks for a sign-in answer 404 with a sentence saying where the key
// goes (Claude Code prints it), rather than "404 page not found".
func TestNoSignInSaysSo(t *testing.T) {
	_, base := upstreamSandbox(t)
	p := start(t, []string{"SKIMMER_BASE_URL=" + base}, "--transport", "http", "--addr", "127.0.0.1:0", "--log-format", "json")
	root := strings.TrimSuffix(p.waitURL(t), "/mcp")
	for _, tt := range []struct{ method, path string }{
		{"POST", "/register"},
		{"GET", "/.well-known/oauth-protected-resource/mcp"},
		{"GET", "/.well-known/oauth-protected-resource"},
		{"GET", "/.well-known/oauth-authorization-server"},
		{"GET", "/.well-known/openid-configuration"},
		{"GET", "/authorize"},
		{"POST", "/token"},
	} {
		req, _ := http.NewRequest(tt.method, root+tt.path, strings.NewReader(`{"redirect_uris":["http://127.0.0.1:1/cb"]}`))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var out map[string]string
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out), tt.path)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, tt.path)
		assert.Equal(t, "this server has no sign-in; send your Skimmer API key in the skimmer-api-key header", out["error_description"], tt.path)
	}
	p.stop(t)
}

// TestToolsNameDescribesIt: `skimmer-mcp tools NAME` prints the tool's
// description and each argument, from the schema it is served with, in
// words; a name that is no tool's gets a "did you mean".
func TestToolsNameDescribesIt(t *testing.T) {
	for _, tl := range tools.Catalogue() {
		out := runTools(t, tl.Name)
		assert.True(t, strings.HasPrefix(out, tl.Name+" ("+tl.Kind()+"): "+tl.Title+"\n"+tl.Description+"\n"), out)
		var schema struct {
			Properties map[string]json.RawMessage
		}
		require.NoError(t, json.Unmarshal(tl.RawInputSchema, &schema))
		for name := range schema.Properties {
			assert.Regexp(t, `(?m)^  `+name+` {2,}\S`, out, "%s lists %s", tl.Name, name)
		}
	}
	out := runTools(t, "search_customers")
	for _, line := range []string{
		"  text      text of at most 100 characters. Words in names, emails or phones, any case.",
		"  filters   list of at most 20 objects (below). All must hold;",
		"    field   required, one of Id, FirstName,",
		"    value   required, text or null.",
		"  pageSize  whole number from 1 to 100, default 25. Customers per page.",
		"  detail    true or false.",
	} {
		assert.Contains(t, out, line)
	}
	assert.NotContains(t, out, "Not offered")
	out = runTools(t, "--read-only", "update_customer")
	assert.Contains(t, out, "Not offered under these settings (--read-only or --tools).")

	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"tools", "serch_customers"}, stdio{strings.NewReader(""), &stdout, &stderr}, env(nil))
	assert.Equal(t, 2, code)
	assert.Equal(t, "skimmer-mcp: no tool \"serch_customers\"; did you mean search_customers? (skimmer-mcp tools lists them)\n", stderr.String())
}

func TestCallCommand(t *testing.T) {
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(binary, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return out.String(), errb.String(), code
	}
	out, errOut, code := run("--sandbox", "call", "search_customers", `{"text":"smith"}`)
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "customers match")
	assert.Contains(t, errOut, "SANDBOX MODE")
	assert.NotContains(t, errOut, "tool call", "call mode keeps quiet unless asked")

	out, _, code = run("--sandbox", "call", "get_customer", `{"id":"nope"}`)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "is not a Skimmer id")

	_, errOut, code = run("--sandbox", "call", "search_customers", `{text:smith}`)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "must be one JSON object")

	_, errOut, code = run("--sandbox", "call", "drain_pool")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `skimmer-mcp: no tool "drain_pool" (skimmer-mcp tools lists them)`)

	_, errOut, code = run("--sandbox", "call", "search_customer", "{}")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `skimmer-mcp: no tool "search_customer"; did you mean search_customers? (skimmer-mcp tools lists them)`)
	assert.NotContains(t, errOut, "invalid params")

	// A tool the flags leave out is still a tool: the server says why.
	out, _, code = run("--sandbox", "--read-only", "call", "create_customer", `{"firstName":"A"}`)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "read-only")

	out, _, code = run("tools", "--read-only")
	assert.Equal(t, 0, code)
	reads := 0
	for _, tl := range tools.Catalogue() {
		if !tl.Write {
			reads++
		}
	}
	assert.Equal(t, reads, strings.Count(strings.TrimSpace(out), "\n")+1)
	assert.NotContains(t, out, "write")

	out, _, code = run("--version")
	assert.Equal(t, 0, code)
	assert.Regexp(t, `^skimmer-mcp \S+ \(go1\.\d+`, out)

	_, errOut, code = run("--help")
	assert.Equal(t, 0, code)
	for _, flagName := range []string{"transport", "addr", "stateful", "sandbox", "read-only", "tools", "confirm", "base-url", "auth-token", "allowed-origins", "log-format", "log-level", "max-body", "timeout", "shutdown-timeout", "debug-addr", "sandbox-seed", "sandbox-customers", "sandbox-data", "sandbox-rate-limit",
		"body-timeout", "max-sessions", "max-sessions-per-key", "max-streams", "max-streams-per-key", "session-idle"} {
		assert.Contains(t, errOut, "--"+flagName+" (env "+envName(flagName)+", default ")
	}
	assert.Contains(t, errOut, "--version (no env twin, default ")
	assert.Contains(t, errOut, "--json (no env twin, default ")
	assert.Contains(t, errOut, "SKIMMER_API_KEY")
}

// approver accepts every write it is asked about, and counts the questions.
type approver struct {
	mu    sync.Mutex
	asked []string
}

func (a *approver) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	a.mu.Lock()
	a.asked = append(a.asked, req.Params.Message)
	a.mu.Unlock()
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{
		Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"approve": true},
	}}, nil
}

func (a *approver) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.asked)
}

// TestElicitationOverTransports: which transports ask the person, and which
// fall back to the confirm flag, as the README says.
func TestElicitationOverTransports(t *testing.T) {
	legacy, modern := mcp.ProtocolVersion20250618, mcp.LATEST_PROTOCOL_VERSION
	tests := []struct {
		name     string
		args     []string // empty: stdio
		protocol string
		elicits  bool
	}{
		{"stdio, 2026-07-28", nil, modern, true},
		{"stdio, 2025-06-18", nil, legacy, true},
		{"http stateless, 2026-07-28", []string{"--transport", "http"}, modern, true},
		{"http stateless, 2025-06-18", []string{"--transport", "http"}, legacy, false},
		{"http stateful, 2025-06-18", []string{"--transport", "http", "--stateful"}, legacy, true},
		{"sse, 2025-06-18", []string{"--transport", "sse"}, legacy, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, base := upstreamSandbox(t)
			env := []string{"SKIMMER_BASE_URL=" + base, "SKIMMER_API_KEY=elicit-key-44", "PATH=" + os.Getenv("PATH")}
			var tr transport.Interface
			if tt.args == nil {
				tr = transport.NewStdio(binary, env)
			} else {
				p := start(t, env, append(tt.args, "--addr", "127.0.0.1:0", "--log-format", "json")...)
				url := p.waitURL(t)
				headers := map[string]string{"skimmer-api-key": "elicit-key-44"}
				if tt.args[1] == "sse" {
					sse, err := transport.NewSSE(url, transport.WithHeaders(headers))
					require.NoError(t, err)
					tr = sse
				} else {
					h, err := transport.NewStreamableHTTP(url, transport.WithHTTPHeaders(headers))
					require.NoError(t, err)
					tr = h
				}
			}
			a := &approver{}
			c := client.NewClient(tr, client.WithElicitationHandler(a), client.WithProtocolVersion(tt.protocol))
			t.Cleanup(func() { c.Close() })
			ctx := context.Background()
			require.NoError(t, c.Start(ctx))
			var init mcp.InitializeRequest
			init.Params.ProtocolVersion = tt.protocol
			init.Params.ClientInfo = mcp.Implementation{Name: "elicit-test", Version: "1"}
			_, err := c.Initialize(ctx, init)
			require.NoError(t, err)

			id := firstCustomerID(t, base)
			text, isErr := callText(t, c, "create_customer_activity", map[string]any{"customerId": id, "type": "Call", "title": "Asked in person"})
			require.False(t, isErr, text)
			writes := 0
			for _, r := range sb.Requests() {
				if r.Method == "POST" {
					writes++
				}
			}
			if tt.elicits {
				assert.Equal(t, 1, a.count(), "the person was asked")
				assert.Contains(t, text, `Logged Call "Asked in person"`)
				assert.Equal(t, 1, writes, "written once, after the person approved")
			} else {
				assert.Zero(t, a.count())
				assert.True(t, strings.HasPrefix(text, "PREVIEW: nothing has been changed."), text)
				assert.Zero(t, writes)
			}
		})
	}
}

// firstCustomerID returns the id of a customer in the sandbox at base.
func firstCustomerID(t *testing.T, base string) string {
	t.Helper()
	c, err := skimmer.New(skimmer.Options{BaseURL: base, APIKey: "lookup"})
	require.NoError(t, err)
	all, err := c.AllCustomers(context.Background(), false)
	require.NoError(t, err)
	return all[0].ID
}

// rpc is a raw stdio session with the binary, for tests that need to see
// every byte it writes.
type rpc struct {
	t  *testing.T
	p  *proc
	id int
}

func (r *rpc) send(method string, params any) map[string]any {
	r.t.Helper()
	r.id++
	msg, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": r.id, "method": method, "params": params})
	require.NoError(r.t, err)
	_, err = r.p.stdin.Write(append(msg, '\n'))
	require.NoError(r.t, err)
	line, err := r.p.stdout.ReadString('\n')
	require.NoError(r.t, err, "stderr:\n%s", r.p.stderr.String())
	var resp map[string]any
	require.NoError(r.t, json.Unmarshal([]byte(line), &resp))
	return resp
}

func (r *rpc) tool(name string, args any) (string, bool) {
	r.t.Helper()
	resp := r.send("tools/call", map[string]any{"name": name, "arguments": args})
	result, ok := resp["result"].(map[string]any)
	require.True(r.t, ok, "a result: %v", resp)
	text := result["content"].([]any)[0].(map[string]any)["text"].(string)
	isErr, _ := result["isError"].(bool)
	return text, isErr
}

func stdioSession(t *testing.T, env []string, args ...string) *rpc {
	p := start(t, env, args...)
	r := &rpc{t: t, p: p}
	r.send("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "raw", "version": "1"}})
	return r
}

// TestOversizedArgumentsOverStdio: a 10 MB string and a 100,000-element
// array are refused at once, and the server keeps serving.
func TestOversizedArgumentsOverStdio(t *testing.T) {
	r := stdioSession(t, nil, "--sandbox")
	start := time.Now()
	text, isErr := r.tool("search_customers", map[string]any{"text": strings.Repeat("a", 10<<20)})
	assert.True(t, isErr)
	assert.Contains(t, text, "the arguments are 10.0 MB; the most a call may send is 64 KB")
	ids := make([]string, 100000)
	for i := range ids {
		ids[i] = strings.Repeat("a", 32)
	}
	text, isErr = r.tool("deactivate_customers", map[string]any{"ids": ids})
	assert.True(t, isErr)
	assert.Contains(t, text, "the most a call may send is 64 KB")
	text, isErr = r.tool("deactivate_customers", map[string]any{"ids": ids[:1000]})
	assert.True(t, isErr)
	assert.Contains(t, text, "ids has 1000 items; at most 50 are allowed")
	t.Logf("three oversized calls refused in %s", time.Since(start).Round(time.Millisecond))
	text, isErr = r.tool("search_customers", map[string]any{"text": "smith"})
	assert.False(t, isErr, text)
}

// TestSecretsNeverLeave runs a whole session with a recognisable key, real
// customer emails and upstream faults that echo the key, raw and in every
// encoding a server could use (URL-encoded for a query and for a path,
// JSON-escaped as Go and as .NET write it, HTML-escaped, base64 in both
// alphabets, padded, unpadded and inside a longer encoding), then scans
// every byte the server wrote (stdout: every result; stderr: every log
// line, at debug level) for the key in any of those forms, and the logs for
// the customers' emails. A key too short to scrub safely never gets that
// far: it is refused where it comes in.
func TestSecretsNeverLeave(t *testing.T) {
	t.Run("a whole session", secretsInASession)
	t.Run("short keys are refused at the door", shortKeysAreRefused)
}

// echoKey is a key with the characters that each encoding changes.
const echoKey = `sk_live/RECOG+NISABLE=9f8e&7d6c"5b4a<`

func secretsInASession(t *testing.T) {
	key := echoKey
	sb, base := upstreamSandbox(t)
	c, err := skimmer.New(skimmer.Options{BaseURL: base, APIKey: "lookup"})
	require.NoError(t, err)
	all, err := c.AllCustomers(context.Background(), false)
	require.NoError(t, err)
	var emails []string
	for _, cust := range all {
		if cust.PrimaryEmail != nil {
			emails = append(emails, *cust.PrimaryEmail)
		}
	}
	goJSON, _ := json.Marshal(key)
	netJSON := strings.NewReplacer("+", `\u002B`, "&", `\u0026`, `"`, `\u0022`, "<", `\u003C`).Replace(key)
	b64 := base64.StdEncoding.EncodeToString
	b64url := base64.RawURLEncoding.EncodeToString
	sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpGetCustomer}, Status: 500, Body: "upstream proxy error for key=" + key, Times: 1})
	sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpCreateActivityLog}, Status: 400, ContentType: "application/json", Times: 1,
		Body: `{"title":"One or more validation errors occurred.","errors":{"Title":["GET /keys/` + url.PathEscape(key) + `/usage failed"],"Type":["see https://publicapi.getskimmer.com/?apikey=` + url.QueryEscape(key) + `"]}}`})
	sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpSearchCustomers}, Status: 400, ContentType: "application/json", Times: 1,
		Body: `{"title":"Bad key ` + strings.Trim(string(goJSON), `"`) + `","errors":{"skimmer-api-key":["` + netJSON + ` is not valid"]}}`})
	// Read faults that are retried: each retry writes a debug line with the reason.
	sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpGetActivityLog}, Status: 503, Times: 1, Body: "GET /keys/" + url.PathEscape(key) + "/usage?apikey=" + url.QueryEscape(key) + " failed"})
	sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpListCustomers}, Status: 503, Times: 1, Body: "<html><title>" + html.EscapeString(key) + "</title></html>"})
	sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpListCustomers}, Status: 503, Times: 1, Body: "token " + b64([]byte(key)) + " refused"})
	sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpListCustomers}, Status: 503, Times: 1, ContentType: "application/json", Body: `{"message":"key ` + netJSON + ` unknown"}`})
	sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpListActivityLogs}, Status: 503, Times: 1, Body: "Authorization: Basic " + b64([]byte("user:"+key))})
	sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpListActivityLogs}, Status: 503, Times: 1, Body: "jwt " + b64url([]byte(`{"k":"`+key+`"}`)) + " expired"})

	var stdout strings.Builder
	r := stdioSession(t, []string{"SKIMMER_API_KEY=" + key, "SKIMMER_BASE_URL=" + base}, "--log-level", "debug", "--log-format", "json")
	calls := []struct {
		tool string
		args map[string]any
	}{
		{"get_customer", map[string]any{"id": all[0].ID}},
		{"get_customer", map[string]any{"id": all[0].ID}},
		{"get_customer_activity", map[string]any{"customerId": all[2].ID, "id": strings.Repeat("a", 32)}},
		{"search_customers", map[string]any{"text": emails[0]}},
		{"search_customers", map[string]any{"text": emails[1]}},
		{"list_customers", map[string]any{"detail": true}},
		{"list_customer_activities", map[string]any{"customerId": all[2].ID}},
		{"update_customer", map[string]any{"id": all[1].ID, "primaryEmail": "new.owner@example.com", "confirm": true}},
		{"create_customer", map[string]any{"firstName": "Secret", "primaryEmail": "secret.person@example.com", "confirm": true}},
		{"create_customer_activity", map[string]any{"customerId": all[2].ID, "type": "Email", "title": "Sent the invoice", "description": "to " + emails[2], "confirm": true}},
		{"create_customer_activity", map[string]any{"customerId": all[2].ID, "type": "Email", "title": "Sent the invoice", "description": "to " + emails[2], "confirm": true}},
		{"get_customer", map[string]any{"id": "not-an-id"}},
	}
	for _, call := range calls {
		text, _ := r.tool(call.tool, call.args)
		stdout.WriteString(text + "\n")
	}
	require.NoError(t, r.p.stdin.Close())
	<-r.p.done
	logs := r.p.stderr.String()
	assert.Contains(t, logs, `"msg":"tool call"`)
	assert.Contains(t, logs, "retrying skimmer request", "debug lines were written, and scanned")
	// The echoes went through, cleaned: three into results (the .NET-escaped
	// field message, the path- and query-escaped ones), six into retry
	// lines (URL-encoded, HTML, .NET-escaped JSON, three base64).
	assert.GreaterOrEqual(t, strings.Count(stdout.String(), "[redacted]"), 3, stdout.String())
	assert.GreaterOrEqual(t, strings.Count(logs, "[redacted]"), 6, logs)
	assert.Empty(t, leaks(stdout.String(), key), "no tool result holds the key")
	assert.Empty(t, leaks(logs, key), "no log line holds the key")
	for _, e := range append(emails, "new.owner@example.com", "secret.person@example.com") {
		assert.NotContains(t, logs, e, "no log line holds a customer's email")
	}
	for _, req := range sb.Requests() {
		if req.Key != "lookup" {
			assert.Equal(t, key, req.Key, "the key did reach Skimmer, and only there")
		}
	}
}

// leaks finds key in text however it is encoded: it decodes every escape
// the text could hold (percent, JSON, HTML), in any nesting up to three
// deep (a JSON log line holding a JSON-escaped body), and every run that
// could be base64, and looks for the key, or for all of it but its first
// and last characters, which base64 may blend with its neighbours.
func leaks(text, key string) []string {
	inner := key[1 : len(key)-1]
	percent := regexp.MustCompile(`%[0-9a-fA-F]{2}`)
	jsonEsc := regexp.MustCompile(`\\u[0-9a-fA-F]{4}|\\["\\/]`)
	decoders := []struct {
		name string
		f    func(string) string
	}{
		{"percent", func(s string) string {
			return percent.ReplaceAllStringFunc(s, func(m string) string { b, _ := hex.DecodeString(m[1:]); return string(b) })
		}},
		{"JSON", func(s string) string {
			return jsonEsc.ReplaceAllStringFunc(s, func(m string) string {
				if len(m) == 2 {
					return m[1:]
				}
				b, _ := hex.DecodeString(m[4:])
				return string(b)
			})
		}},
		{"HTML", html.UnescapeString},
	}
	found := map[string]bool{}
	look := func(how, s string) {
		if strings.Contains(s, inner) {
			found[how] = true
		}
		for _, run := range regexp.MustCompile(`[A-Za-z0-9+/_-]{16,}`).FindAllString(s, -1) {
			for skip := range 4 {
				for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
					r := run[skip:]
					if b, err := enc.DecodeString(r[:len(r)/4*4]); err == nil && strings.Contains(string(b), inner) {
						found[how+", base64"] = true
					}
				}
			}
		}
	}
	texts := map[string]string{"as written": text}
	for range 3 {
		next := map[string]string{}
		for how, t := range texts {
			look(how, t)
			for _, d := range decoders {
				if u := d.f(t); u != t {
					next[how+", "+d.name+"-decoded"] = u
				}
			}
		}
		texts = next
	}
	for how, t := range texts {
		look(how, t)
	}
	return slices.Sorted(maps.Keys(found))
}

// shortKeysAreRefused: a key under 12 characters could not be scrubbed
// without garbling text, so it is refused with a sentence that says so:
// SKIMMER_API_KEY at start, a hosted caller's key at the gate (streamable
// HTTP and SSE) and at the connector's sign-in page. It never reaches
// Skimmer, and the refusal never repeats it.
func shortKeysAreRefused(t *testing.T) {
	sb, base := upstreamSandbox(t)
	p := start(t, []string{"SKIMMER_API_KEY=k3y-short", "SKIMMER_BASE_URL=" + base})
	select {
	case err := <-p.done:
		assert.Error(t, err)
		assert.Contains(t, p.stderr.String(), "SKIMMER_API_KEY: the key is 9 characters long; Skimmer keys are longer: paste the whole key")
		assert.NotContains(t, p.stderr.String(), "k3y-short")
	case <-time.After(10 * time.Second):
		t.Fatal("started with a key too short to scrub")
	}
	for _, tr := range []string{"http", "sse"} {
		g := newGated(t, "--transport", tr)
		for _, h := range []map[string]string{{"skimmer-api-key": "k3y-short"}, {"Authorization": "Bearer k3y-short"}} {
			method, body := "POST", initializeMsg
			if tr == "sse" {
				method, body = "GET", ""
			}
			status, answer := send(t, method, g.url, body, h)
			assert.Equal(t, http.StatusUnauthorized, status, "%s %v", tr, h)
			assert.Contains(t, answer, "the Skimmer API key you sent is 9 characters long; Skimmer keys are longer: paste the whole key")
			assert.NotContains(t, answer, "k3y-short")
		}
		assert.Empty(t, g.sb.Requests())
	}
	// The connector's sign-in page asks for the whole key again.
	g := newGated(t, "--transport", "http", "--oauth")
	page, _, _ := submitSignIn(t, strings.TrimSuffix(g.url, "/mcp"), "k3y-short", "read")
	form, _ := io.ReadAll(page.Body)
	page.Body.Close()
	assert.Equal(t, http.StatusOK, page.StatusCode, "the page again, not a redirect with a code")
	assert.Contains(t, string(form), "That is 9 characters long; Skimmer keys are longer: paste the whole key.")
	assert.NotContains(t, string(form), "k3y-short")
	assert.Empty(t, g.sb.Requests(), "the key was not sent to Skimmer")
	assert.Empty(t, sb.Requests())
}

// TestDebugListener: pprof and expvar on loopback only, with the figures
// the load generator reads.
func TestDebugListener(t *testing.T) {
	p := start(t, nil, "--sandbox", "--transport", "http", "--addr", "127.0.0.1:0", "--debug-addr", "127.0.0.1:0", "--log-format", "json")
	p.waitURL(t)
	var debugURL string
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		var rec struct{ Msg, URL string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "debug listener" {
			debugURL = rec.URL
		}
	}
	require.NotEmpty(t, debugURL)
	resp, err := http.Get(debugURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	var vars struct {
		Goroutines int `json:"goroutines"`
		Memory     struct {
			RSS     int64 `json:"rss_bytes"`
			PeakRSS int64 `json:"peak_rss_bytes"`
		} `json:"memory"`
		Memstats struct{ HeapAlloc uint64 }
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&vars))
	assert.Positive(t, vars.Goroutines)
	assert.Positive(t, vars.Memory.RSS)
	assert.GreaterOrEqual(t, vars.Memory.PeakRSS, vars.Memory.RSS, "both from one read")
	assert.Positive(t, vars.Memstats.HeapAlloc)

	bad := start(t, []string{"SKIMMER_API_KEY=debug-test-key-01"}, "--debug-addr", "0.0.0.0:6060")
	select {
	case err := <-bad.done:
		assert.Error(t, err)
		assert.Contains(t, bad.stderr.String(), "must be on loopback")
	case <-time.After(10 * time.Second):
		t.Fatal("should refuse")
	}
}
