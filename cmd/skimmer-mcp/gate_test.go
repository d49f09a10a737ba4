package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

// The gate's tests drive real HTTP against the handler the command serves
// (newHosted's, behind an httptest server), with mcp-go's real transports
// behind it and a sandbox in the test process as Skimmer, so they can see
// which key every upstream request carried.

// gated is a hosted handler served in the test process.
type gated struct {
	url string // the endpoint: …/mcp or …/sse
	sb  *sandbox.Server
	h   *hosted
}

// gateServer serves the hosted handler built from args (the command's own
// flags) and returns the endpoint's URL (…/mcp or …/sse).
func gateServer(t testing.TB, args ...string) (string, *sandbox.Server) {
	g := newGated(t, args...)
	return g.url, g.sb
}

func newGated(t testing.TB, args ...string) *gated {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Seed: 1, Customers: 60, RateLimit: -1})
	require.NoError(t, err)
	api := httptest.NewServer(sb)
	t.Cleanup(api.Close)
	c, err := parseConfig(append([]string{"--addr", "127.0.0.1:0"}, args...), env(map[string]string{"SKIMMER_BASE_URL": api.URL}), io.Discard)
	require.NoError(t, err)
	log := slog.New(slog.DiscardHandler)
	up, err := startUpstream(context.Background(), c, log)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(nil)
	h, err := newHosted(c, up, log, srv.Listener.Addr().String())
	require.NoError(t, err)
	srv.Config.Handler = h.handler
	srv.Start()
	t.Cleanup(func() {
		h.closeSessions(context.Background())
		srv.Close()
		h.close()
	})
	return &gated{url: srv.URL + h.endpoint, sb: sb, h: h}
}

// held is what the gate counts as open, once it has settled: a stream is
// given back when its handler returns, just after the client sees it end.
func (g *gated) held(t testing.TB, want tally) {
	t.Helper()
	got := g.h.gate.sessions.held()
	for deadline := time.Now().Add(5 * time.Second); got != want && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		got = g.h.gate.sessions.held()
	}
	assert.Equal(t, want, got, "sessions and streams the gate holds")
}

// keysSeen counts the upstream requests each key made.
func keysSeen(sb *sandbox.Server) map[string]int {
	seen := map[string]int{}
	for _, r := range sb.Requests() {
		seen[r.Key]++
	}
	return seen
}

// send makes one request with headers ("Host" sets the request's host) and
// returns its status and body.
func send(t testing.TB, method, url, body string, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
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
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// rawSSE is a raw SSE connection: the events it receives, in order.
type rawSSE struct {
	resp     *http.Response
	endpoint string // the message URL the server announced
	events   chan string
}

// openSSE opens a stream at url with key and waits for its endpoint event.
func openSSE(t testing.TB, url, key string) *rawSSE {
	t.Helper()
	s, status := tryOpenSSE(t, url, key)
	require.Equal(t, http.StatusOK, status)
	return s
}

// tryOpenSSE opens a stream, or returns the status that refused it.
func tryOpenSSE(t testing.TB, url, key string) (*rawSSE, int) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("skimmer-api-key", key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, resp.StatusCode
	}
	s := &rawSSE{resp: resp, events: make(chan string, 64)}
	t.Cleanup(func() { resp.Body.Close() })
	rd := bufio.NewReader(resp.Body)
	go func() {
		defer close(s.events)
		var event, data string
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			switch {
			case strings.HasPrefix(line, "event:"):
				event = strings.TrimSpace(line[6:])
			case strings.HasPrefix(line, "data:"):
				data = strings.TrimSpace(line[5:])
			case line == "" && data != "":
				if event == "endpoint" {
					s.events <- "endpoint " + data
				} else {
					s.events <- data
				}
				event, data = "", ""
			}
		}
	}()
	select {
	case e := <-s.events:
		require.True(t, strings.HasPrefix(e, "endpoint "), e)
		s.endpoint = strings.TrimSuffix(url, "/sse") + strings.TrimPrefix(e, "endpoint ")
	case <-time.After(10 * time.Second):
		t.Fatal("no endpoint event")
	}
	return s, http.StatusOK
}

// sessionID is the id in the stream's message URL.
func (s *rawSSE) sessionID() string {
	_, id, _ := strings.Cut(s.endpoint, "sessionId=")
	return id
}

// until reads events until one holds want, and returns the ones before it.
func (s *rawSSE) until(t testing.TB, want string) []string {
	t.Helper()
	var before []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-s.events:
			require.True(t, ok, "the stream ended")
			if strings.Contains(e, want) {
				return before
			}
			before = append(before, e)
		case <-timeout:
			t.Fatalf("no event with %s; got %v", want, before)
		}
	}
}

const toolsListMsg = `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`

// TestSSEMessagesGoOnlyToTheirOwnersStream (issue 11, item 1): the message
// endpoint routes by its sessionId query parameter, so the gate checks that
// one, whatever Mcp-Session-Id header a request adds. A call posted with
// another tenant's sessionId is refused, never run with the poster's key and
// answered on the owner's stream.
func TestSSEMessagesGoOnlyToTheirOwnersStream(t *testing.T) {
	url, sb := gateServer(t, "--transport", "sse")
	owner := openSSE(t, url, "owner-key-aaaa1111")
	intruder := openSSE(t, url, "intruder-key-bbbb2222")
	status, _ := send(t, "POST", owner.endpoint, initializeMsg, map[string]string{"skimmer-api-key": "owner-key-aaaa1111"})
	require.Equal(t, http.StatusAccepted, status)
	owner.until(t, `"id":1`)

	call := `{"jsonrpc":"2.0","id":777,"method":"tools/call","params":{"name":"list_customers","arguments":{"limit":1}}}`
	for name, extra := range map[string]string{
		"no header":                 "",
		"a made-up header":          "anything",
		"the intruder's own header": intruder.sessionID(),
		"the owner's id as header":  owner.sessionID(),
	} {
		h := map[string]string{"skimmer-api-key": "intruder-key-bbbb2222"}
		if extra != "" {
			h["Mcp-Session-Id"] = extra
		}
		status, body := send(t, "POST", owner.endpoint, call, h)
		assert.Equal(t, http.StatusForbidden, status, "%s: %s", name, body)
	}
	// The owner's next answer comes after anything the intruder's calls
	// could have queued on its stream.
	status, _ = send(t, "POST", owner.endpoint, `{"jsonrpc":"2.0","id":99,"method":"ping"}`, map[string]string{"skimmer-api-key": "owner-key-aaaa1111"})
	require.Equal(t, http.StatusAccepted, status)
	for _, e := range owner.until(t, `"id":99`) {
		assert.NotContains(t, e, `"id":777`, "the intruder's call was answered on the owner's stream")
	}
	assert.Zero(t, keysSeen(sb)["intruder-key-bbbb2222"], "the intruder's calls never ran")

	// The intruder's own stream still works, with its own key.
	status, _ = send(t, "POST", intruder.endpoint, call, map[string]string{"skimmer-api-key": "intruder-key-bbbb2222", "Mcp-Session-Id": owner.sessionID()})
	require.Equal(t, http.StatusAccepted, status)
	intruder.until(t, `"id":777`)
	assert.Equal(t, 1, keysSeen(sb)["intruder-key-bbbb2222"])
}

// TestRefusedDeleteKeepsTheSessionBound (issue 11, item 2): a DELETE the
// transport refuses ends nothing, so the session stays bound to its key;
// one the transport carries out ends the session for everybody.
func TestRefusedDeleteKeepsTheSessionBound(t *testing.T) {
	url, _ := gateServer(t, "--transport", "http", "--stateful")
	sid := initializedSession(t, url, "owner-key-aaaa1111")
	use := func(key string) int {
		status, _ := send(t, "POST", url, toolsListMsg, map[string]string{"Mcp-Session-Id": sid, "skimmer-api-key": key})
		return status
	}
	for _, refused := range []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"a 2026-07-28 protocol header", map[string]string{"Mcp-Protocol-Version": "2026-07-28"}, http.StatusMethodNotAllowed},
		{"an unknown protocol version", map[string]string{"Mcp-Protocol-Version": "1999-01-01"}, http.StatusBadRequest},
		{"a foreign Host", map[string]string{"Host": "evil.example"}, http.StatusForbidden},
	} {
		h := map[string]string{"Mcp-Session-Id": sid, "skimmer-api-key": "owner-key-aaaa1111"}
		for k, v := range refused.headers {
			h[k] = v
		}
		status, body := send(t, "DELETE", url, "", h)
		require.Equal(t, refused.status, status, "%s: %s", refused.name, body)
		assert.Equal(t, http.StatusForbidden, use("intruder-key-bbbb2222"), "after a DELETE with %s, the session is still the owner's", refused.name)
		assert.Equal(t, http.StatusOK, use("owner-key-aaaa1111"), refused.name)
	}
	status, _ := send(t, "DELETE", url, "", map[string]string{"Mcp-Session-Id": sid, "skimmer-api-key": "intruder-key-bbbb2222"})
	assert.Equal(t, http.StatusForbidden, status, "another key cannot end it")
	status, _ = send(t, "DELETE", url, "", map[string]string{"Mcp-Session-Id": sid, "skimmer-api-key": "owner-key-aaaa1111"})
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, http.StatusNotFound, use("owner-key-aaaa1111"), "ended")
	assert.Equal(t, http.StatusNotFound, use("intruder-key-bbbb2222"), "ended for everybody: nobody takes it over")
}

// initializedSession opens a stateful session for key and returns its id.
func initializedSession(t testing.TB, url, key string) string {
	t.Helper()
	resp := postMCP(t.(*testing.T), url, initializeMsg, map[string]string{"skimmer-api-key": key})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sid := resp.Header.Get("Mcp-Session-Id")
	require.NotEmpty(t, sid)
	return sid
}

// openListener opens a GET stream on a stateful session, or returns the
// status that refused it.
func openListener(t testing.TB, url, sid, key string) (*http.Response, int) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("skimmer-api-key", key)
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, http.StatusOK
}

// ends reports whether the server closes a stream within a few seconds.
func ends(body io.Reader) bool {
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, body)
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

// TestListenersNeedTheirOwnSession: mcp-go opens a GET listener for any
// session id it is given, without checking it. The gate lets a GET through
// only on a live session of the caller's own, counts it as a stream, and
// closes it when the session ends.
func TestListenersNeedTheirOwnSession(t *testing.T) {
	g := newGated(t, "--transport", "http", "--stateful", "--max-streams-per-key", "2")
	sid := initializedSession(t, g.url, "owner-key-aaaa1111")
	_, status := openListener(t, g.url, "", "owner-key-aaaa1111")
	assert.Equal(t, http.StatusBadRequest, status, "no session named")
	_, status = openListener(t, g.url, "made-up-session-id", "owner-key-aaaa1111")
	assert.Equal(t, http.StatusNotFound, status, "a session that does not exist")
	_, status = openListener(t, g.url, sid, "intruder-key-bbbb2222")
	assert.Equal(t, http.StatusForbidden, status, "another key's session")

	first, status := openListener(t, g.url, sid, "owner-key-aaaa1111")
	require.Equal(t, http.StatusOK, status)
	second, status := openListener(t, g.url, sid, "owner-key-aaaa1111")
	require.Equal(t, http.StatusOK, status)
	g.held(t, tally{sessions: 1, streams: 2})
	req, _ := http.NewRequest("GET", g.url, nil)
	req.Header.Set("skimmer-api-key", "owner-key-aaaa1111")
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "past the key's streams")
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))

	status, _ = send(t, "DELETE", g.url, "", map[string]string{"Mcp-Session-Id": sid, "skimmer-api-key": "owner-key-aaaa1111"})
	require.Equal(t, http.StatusOK, status)
	assert.True(t, ends(first.Body), "ending the session closes its streams")
	assert.True(t, ends(second.Body))
	g.held(t, tally{})
}

// TestStatelessKeepsNoSessions: the stateless transport has no sessions, so
// a session id must not steer a request anywhere (mcp-go would still look
// one up by it), and there is no stream to open or session to end: mcp-go
// would share one listener among every caller who opened one.
func TestStatelessKeepsNoSessions(t *testing.T) {
	g := newGated(t, "--transport", "http")
	hc := &http.Client{Timeout: 5 * time.Second} // a stream would never end
	for _, method := range []string{"GET", "DELETE"} {
		req, _ := http.NewRequest(method, g.url, nil)
		req.Header.Set("skimmer-api-key", "owner-key-aaaa1111")
		resp, err := hc.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, method)
		assert.Equal(t, "POST", resp.Header.Get("Allow"))
		assert.Contains(t, string(body), "stateless", method)
	}
	for _, sid := range []string{"", "made-up", "mcp-session-0b0e6e36-3c5f-4f55-9d0a-5c1c2a8a0c11"} {
		status, body := send(t, "POST", g.url, toolsListMsg, map[string]string{"skimmer-api-key": "owner-key-aaaa1111", "Mcp-Session-Id": sid})
		assert.Equal(t, http.StatusOK, status, "session id %q is ignored: %s", sid, body)
	}
	g.held(t, tally{})
}

// testClock is a time a test moves on by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// clock puts the gate's sessions on a clock the test moves, and returns
// it; expire does what the sweeper does when it next wakes.
func (g *gated) clock() *testClock {
	c := &testClock{t: time.Now()}
	s := g.h.gate.sessions
	s.mu.Lock()
	s.now = c.now
	s.mu.Unlock()
	return c
}

func (g *gated) expire() { g.h.gate.sessions.expire() }

// TestIdleSessionsEnd: a session unused for --session-idle ends: its id is
// 404 from then on, an SSE stream is closed, and its place is free again.
// The gate's clock is moved by hand, so no step has to fit in a window.
func TestIdleSessionsEnd(t *testing.T) {
	t.Run("stateful", func(t *testing.T) {
		g := newGated(t, "--transport", "http", "--stateful", "--max-sessions", "1")
		clock := g.clock()
		sid := initializedSession(t, g.url, "owner-key-aaaa1111")
		status, _ := send(t, "POST", g.url, toolsListMsg, map[string]string{"Mcp-Session-Id": sid, "skimmer-api-key": "owner-key-aaaa1111"})
		require.Equal(t, http.StatusOK, status)
		listener, status := openListener(t, g.url, sid, "owner-key-aaaa1111")
		require.Equal(t, http.StatusOK, status)
		status, _ = send(t, "POST", g.url, initializeMsg, map[string]string{"skimmer-api-key": "second-key-cccc3333"})
		assert.Equal(t, http.StatusServiceUnavailable, status, "the one place is taken")

		clock.add(defaultCaps.idle - time.Second)
		g.expire()
		status, _ = send(t, "POST", g.url, toolsListMsg, map[string]string{"Mcp-Session-Id": sid, "skimmer-api-key": "owner-key-aaaa1111"})
		require.Equal(t, http.StatusOK, status, "used within --session-idle: still there")

		clock.add(defaultCaps.idle + time.Second)
		g.expire()
		assert.True(t, ends(listener.Body), "the idle session's stream is closed")
		status, _ = send(t, "POST", g.url, toolsListMsg, map[string]string{"Mcp-Session-Id": sid, "skimmer-api-key": "owner-key-aaaa1111"})
		assert.Equal(t, http.StatusNotFound, status, "expired")
		initializedSession(t, g.url, "second-key-cccc3333") // the place is free
	})
	t.Run("sse", func(t *testing.T) {
		g := newGated(t, "--transport", "sse")
		clock := g.clock()
		s := openSSE(t, g.url, "owner-key-aaaa1111")
		g.held(t, tally{sessions: 1, streams: 1})
		status, _ := send(t, "POST", s.endpoint, toolsListMsg, map[string]string{"skimmer-api-key": "owner-key-aaaa1111"})
		require.Equal(t, http.StatusAccepted, status)
		clock.add(defaultCaps.idle + time.Second)
		g.expire()
		assert.True(t, ends(s.resp.Body), "the server closes an idle stream")
		status, _ = send(t, "POST", s.endpoint, toolsListMsg, map[string]string{"skimmer-api-key": "owner-key-aaaa1111"})
		assert.Equal(t, http.StatusNotFound, status)
		g.held(t, tally{})
	})
}

// TestEmptySessionsEndWithinAMinute: sessions opened and left at the
// handshake (what a flood with made-up keys leaves) end after a minute, and
// their places are free again; a session that got past it (tools/list)
// keeps --session-idle.
func TestEmptySessionsEndWithinAMinute(t *testing.T) {
	t.Run("stateful", func(t *testing.T) {
		g := newGated(t, "--transport", "http", "--stateful", "--max-sessions", "3")
		clock := g.clock()
		used := initializedSession(t, g.url, "real-caller-key-0001")
		status, _ := send(t, "POST", g.url, toolsListMsg, map[string]string{"Mcp-Session-Id": used, "skimmer-api-key": "real-caller-key-0001"})
		require.Equal(t, http.StatusOK, status)
		var empty []string
		for i := range 2 {
			key := fmt.Sprintf("made-up-key-%06d", i)
			sid := initializedSession(t, g.url, key)
			for _, msg := range []string{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, `{"jsonrpc":"2.0","id":7,"method":"ping"}`} {
				status, _ := send(t, "POST", g.url, msg, map[string]string{"Mcp-Session-Id": sid, "skimmer-api-key": key})
				require.Less(t, status, 300, msg)
			}
			empty = append(empty, sid)
		}
		status, _ = send(t, "POST", g.url, initializeMsg, map[string]string{"skimmer-api-key": "latecomer-key-0001"})
		assert.Equal(t, http.StatusServiceUnavailable, status, "the places are taken")

		clock.add(defaultCaps.freshIdle + time.Second)
		g.expire()
		g.held(t, tally{sessions: 1})
		for i, sid := range empty {
			status, body := send(t, "POST", g.url, toolsListMsg, map[string]string{"Mcp-Session-Id": sid, "skimmer-api-key": fmt.Sprintf("made-up-key-%06d", i)})
			assert.Equal(t, http.StatusNotFound, status, "an empty session ends after a minute")
			assert.Contains(t, body, "expired after 30m0s without use (1m0s if nothing but initialize was sent on it)")
		}
		status, _ = send(t, "POST", g.url, toolsListMsg, map[string]string{"Mcp-Session-Id": used, "skimmer-api-key": "real-caller-key-0001"})
		assert.Equal(t, http.StatusOK, status, "a session in use stays")
		initializedSession(t, g.url, "latecomer-key-0001") // a place is free
	})
	t.Run("sse", func(t *testing.T) {
		g := newGated(t, "--transport", "sse")
		clock := g.clock()
		empty := openSSE(t, g.url, "made-up-key-000001")
		used := openSSE(t, g.url, "real-caller-key-0001")
		status, _ := send(t, "POST", used.endpoint, toolsListMsg, map[string]string{"skimmer-api-key": "real-caller-key-0001"})
		require.Equal(t, http.StatusAccepted, status)
		clock.add(defaultCaps.freshIdle + time.Second)
		g.expire()
		assert.True(t, ends(empty.resp.Body), "the empty session's stream is closed")
		g.held(t, tally{sessions: 1, streams: 1})
		status, _ = send(t, "POST", used.endpoint, toolsListMsg, map[string]string{"skimmer-api-key": "real-caller-key-0001"})
		assert.Equal(t, http.StatusAccepted, status, "a session in use stays")
	})
}

func TestPastHandshake(t *testing.T) {
	for body, want := range map[string]bool{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`:                                        false,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`:                                            false,
		`{"jsonrpc":"2.0","id":2,"method":"ping"}`:                                                          false,
		`[{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`: false,
		`{}`:         false,
		`not json`:   false,
		`{"id":1}`:   false,
		toolsListMsg: true,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"x"}}`:                                    true,
		`[{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":4,"method":"tools/list"}]`: true,
		`{"jsonrpc":"2.0","id":5,"result":{"action":"accept"}}`:                                                   true,
	} {
		assert.Equal(t, want, pastHandshake([]byte(body)), body)
	}
}

// TestSlowBodiesAreCut (issue 11, item 4): a client that trickles a body
// is answered once --body-timeout has passed (408 from the MCP endpoint; a
// 4xx in OAuth's own terms from its endpoints) and its connection is
// closed, while everybody else is served.
func TestSlowBodiesAreCut(t *testing.T) {
	for _, tt := range []struct {
		name   string
		args   []string
		paths  []string // on the server; "" is SSE's message endpoint
		answer string   // how the server answers a slow body
	}{
		{"http", []string{"--transport", "http"}, []string{"/mcp"}, "HTTP/1.1 408"},
		{"sse", []string{"--transport", "sse"}, []string{""}, "HTTP/1.1 408"},
		{"oauth", []string{"--transport", "http", "--oauth"}, []string{"/token", "/register", "/revoke"}, "HTTP/1.1 4"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newGated(t, append(tt.args, "--body-timeout", "1s")...)
			origin := strings.TrimSuffix(strings.TrimSuffix(g.url, "/mcp"), "/sse")
			target := g.url
			if tt.name == "sse" {
				target = openSSE(t, g.url, "owner-key-aaaa1111").endpoint
			}
			const slow = 20
			results := make(chan string, slow)
			for i := range slow {
				path := tt.paths[i%len(tt.paths)]
				if path == "" {
					path = strings.TrimPrefix(target, origin)
				}
				go func() { results <- trickle(strings.TrimPrefix(origin, "http://"), path, tt.answer) }()
			}
			// Served meanwhile.
			status, _ := send(t, "POST", target, `{"jsonrpc":"2.0","id":5,"method":"ping"}`, map[string]string{"skimmer-api-key": "owner-key-aaaa1111"})
			assert.Contains(t, []int{200, 202}, status)
			for range slow {
				assert.Equal(t, "answered, then closed", <-results)
			}
		})
	}
}

// trickle sends a request whose body comes a byte at a time, never whole,
// and says whether the server gave the answer it should and closed the
// connection.
func trickle(host, path, want string) string {
	conn, err := net.Dial("tcp", host)
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	body := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nskimmer-api-key: owner-key-aaaa1111\r\nContent-Length: %d\r\n\r\n", path, host, len(body))
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; i < len(body)-1; i++ { // never the last byte
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	answer, err := io.ReadAll(conn)
	switch {
	case errors.Is(err, syscall.ECONNRESET): // closed while the client was still writing: closed all the same
	case err != nil:
		return fmt.Sprintf("still open after 15s (%v), answered %q", err, answer)
	}
	if !strings.HasPrefix(string(answer), want) {
		return fmt.Sprintf("answered %q", answer)
	}
	return "answered, then closed"
}

// TestGateUnderConcurrentUse runs every way of opening, using and ending
// sessions and streams at once, from several keys, for the race detector;
// when all is done the gate holds nothing.
func TestGateUnderConcurrentUse(t *testing.T) {
	http1 := newGated(t, "--transport", "http", "--stateful", "--max-sessions", "30", "--max-sessions-per-key", "10", "--max-streams-per-key", "3")
	sse := newGated(t, "--transport", "sse", "--max-streams", "12", "--max-streams-per-key", "4")
	var wg sync.WaitGroup
	for w := range 6 {
		key := fmt.Sprintf("concurrent-key-%04d", w%3)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 10 {
				resp := postMCP(t, http1.url, initializeMsg, map[string]string{"skimmer-api-key": key})
				sid := resp.Header.Get("Mcp-Session-Id")
				if resp.StatusCode != http.StatusOK {
					continue
				}
				var listeners []*http.Response
				for range 2 {
					if l, status := openListener(t, http1.url, sid, key); status == http.StatusOK {
						listeners = append(listeners, l)
					}
				}
				send(t, "POST", http1.url, toolsListMsg, map[string]string{"Mcp-Session-Id": sid, "skimmer-api-key": key})
				if len(listeners) > 0 {
					listeners[0].Body.Close()
				}
				send(t, "DELETE", http1.url, "", map[string]string{"Mcp-Session-Id": sid, "skimmer-api-key": key})
			}
		}()
		go func() {
			defer wg.Done()
			for range 10 {
				s, status := tryOpenSSE(t, sse.url, key)
				if status != http.StatusOK {
					continue
				}
				send(t, "POST", s.endpoint, `{"jsonrpc":"2.0","id":3,"method":"ping"}`, map[string]string{"skimmer-api-key": key})
				s.resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	http1.held(t, tally{})
	sse.held(t, tally{})
}
