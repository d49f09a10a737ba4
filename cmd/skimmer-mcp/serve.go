package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"go.opentelemetry.io/otel/metric"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/logging"
	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/loopback"
	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/metrics"
	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/store"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
	"github.com/skimmer-mcp/skimmer-mcp/tools"
)

// sandboxKey is what the embedded sandbox is called with when the operator
// set no key. The sandbox accepts any key.
const sandboxKey = "sandbox-demo-key"

// upstream is the Skimmer the server talks to: the real API, or the
// embedded sandbox on a loopback port of its own.
type upstream struct {
	client  *skimmer.Client // carries the server-wide key, if any
	key     string          // that key: the operator's, or the sandbox's
	store   *store.Redis    // the shared store; nil for this process's memory
	metrics *metrics.Metrics
	stop    func()
}

// startUpstream starts what the tools stand on: metrics, the shared store,
// the sandbox if asked for, and the client.
func startUpstream(ctx context.Context, c *config, log *slog.Logger) (_ *upstream, err error) {
	up := &upstream{stop: func() {}}
	defer func() {
		if err != nil {
			up.stop()
		}
	}()
	var meter metric.Meter
	if c.metricsAddr != "" {
		if up.metrics, err = metrics.New(skimmer.Version); err != nil {
			return nil, err
		}
		_, stopMetrics, err := up.metrics.Serve(c.metricsAddr, log)
		if err != nil {
			return nil, err
		}
		up.stop = chain(stopMetrics, up.stop)
		meter = up.metrics.Meter()
	}
	var budget skimmer.Budget
	if c.store != "" {
		if up.store, err = store.Open(ctx, c.store, store.Options{Logger: log, Meter: meter, Setting: c.named("store")}); err != nil {
			return nil, err
		}
		up.stop = chain(func() { _ = up.store.Close() }, up.stop)
		budget = up.store.Budget()
		log.Info("shared store", "store", up.store.Where())
		if c.confirmKey == "" && c.transport != "stdio" { // on loopback: config checked
			log.Warn("--store is set but SKIMMER_CONFIRM_KEY is not: a confirmation sealed by one replica will not open on another; give every replica the same key")
		}
	}
	base, key := c.baseURL, c.apiKey
	if c.sandbox {
		sb, err := sandbox.New(sandbox.Options{Seed: c.sandboxSeed, Customers: sandbox.AsGiven(c.sandboxCount), DataFile: c.sandboxData,
			RateLimit: sandbox.AsGiven(c.sandboxRate), Logger: log})
		if err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("starting the sandbox: %w", err)
		}
		srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		base = "http://" + ln.Addr().String()
		up.stop = chain(func() { _ = srv.Close() }, up.stop)
		key = sandboxKey // the demo account's; SKIMMER_API_KEY is not used here

	}
	if up.client, err = skimmer.New(skimmer.Options{BaseURL: base, APIKey: key, Timeout: c.timeout, Logger: log, Budget: budget}); err != nil {
		return nil, err
	}
	up.key = key
	return up, nil
}

// chain runs first, then then.
func chain(first, then func()) func() {
	return func() {
		first()
		then()
	}
}

// newTools builds the MCP server. perCaller picks the key from the request
// (hosted); otherwise every call uses the server's own.
func newTools(c *config, up *upstream, log *slog.Logger, perCaller, serverRequests bool) (*tools.Server, error) {
	clientFor := func(context.Context) (*skimmer.Client, error) { return up.client, nil }
	if perCaller {
		clientFor = func(ctx context.Context) (*skimmer.Client, error) {
			key := keyFrom(ctx)
			if key == "" {
				return nil, errors.New("this request carried no Skimmer API key")
			}
			return up.client.WithAPIKey(key), nil
		}
	}
	var observer tools.Observer
	if up.metrics != nil {
		transport := "tcp"
		if c.transport == "stdio" || c.command == "call" {
			transport = "pipe"
		}
		o, err := up.metrics.Tools(transport)
		if err != nil {
			return nil, err
		}
		observer = o
	}
	var shared tools.Store // nil: the tools' own, in this process
	if up.store != nil {
		shared = up.store
	}
	return tools.New(tools.Config{
		Store:          shared,
		Observer:       observer,
		Client:         clientFor,
		ReadOnly:       c.readOnly,
		Tools:          c.toolNames(),
		Confirm:        c.policy,
		ServerRequests: serverRequests,
		ConfirmKey:     []byte(c.confirmKey),
		Logger:         log,
		Version:        skimmer.Version,
	})
}

// serveStdio speaks MCP on stdin/stdout until ctx ends or stdin closes.
// Nothing else may write to stdout: logs go to stderr.
func serveStdio(ctx context.Context, c *config, up *upstream, log *slog.Logger, io stdio) error {
	srv, err := newTools(c, up, log, false, true)
	if err != nil {
		return startError{err}
	}
	logPolicy(c, log)
	std := server.NewStdioServer(srv.MCP())
	std.SetErrorLogger(slog.NewLogLogger(log.Handler(), slog.LevelError))
	log.Info("serving MCP on stdio", "tools", len(srv.Tools()))
	if isTerminal(io.in) {
		// A person started it by hand, and would take the silence that
		// follows for a hang.
		fmt.Fprintf(io.err, "skimmer-mcp: waiting for an MCP client on stdin; to try a tool: skimmer-mcp --sandbox call search_customers '{\"text\":\"smith\"}'; Ctrl-C to stop\n")
	}
	err = std.Listen(ctx, io.in, io.out)
	drain, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	if derr := srv.Drain(drain); derr != nil {
		log.Warn("shutdown limit reached", "err", derr)
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// sseFlush is how long shutdown waits, after the last call returned, for
// SSE streams to write their answers.
const sseFlush = 250 * time.Millisecond

// hosted is the hosted endpoint: the MCP transport behind the gate, and
// /healthz.
type hosted struct {
	handler       http.Handler
	endpoint      string // /mcp or /sse
	closeSessions func(context.Context)
	close         func() // stops the gate's sweeper; after closeSessions
	gate          *gate
	tools         *tools.Server
	stateful      bool
}

// newHosted builds the hosted endpoint for a server listening on listen.
func newHosted(c *config, up *upstream, log *slog.Logger, listen string) (*hosted, error) {
	if up.key != "" && c.authToken == "" && !loopback.Addr(c.addr) && !c.sandbox {
		return nil, fmt.Errorf("refusing to serve SKIMMER_API_KEY to anyone who can reach %s: set SKIMMER_AUTH_TOKEN (--auth-token) so only holders of the token can use it, or unset SKIMMER_API_KEY so every caller sends its own key", c.addr)
	}
	// The server's key serves callers who bring none: past the check above
	// that is on loopback, behind a token, or the sandbox's demo key.
	g := newGate(c, up.key)
	h := &hosted{endpoint: "/mcp", stateful: c.transport == "http" && c.stateful, close: g.sessions.close, gate: g}
	mux := http.NewServeMux()
	if c.oauth {
		as, err := newOAuth(c, up, log, listen)
		if err != nil {
			g.sessions.close()
			return nil, err
		}
		as.Routes(mux)
		g.oauth = as
	}
	srv, err := newTools(c, up, log, true, h.stateful)
	if err != nil {
		g.sessions.close()
		return nil, err
	}
	h.tools = srv

	if c.transport == "sse" {
		h.endpoint = "/sse"
	}
	g.about = newAbout(c, h.endpoint)
	// The address itself, opened in a browser: what this is, and what to
	// give an AI app.
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { writeAbout(w, r, http.StatusOK, g.about) })
	if !c.oauth {
		noSignIn(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok", "version": skimmer.Version, "transport": c.transport})
	})
	switch c.transport {
	case "http":
		// CORS is the gate's (allowCORS): it alone knows which origins it let in.
		opts := []server.StreamableHTTPOption{server.WithStreamableHTTPLogger(log)}
		rt := streamableStateless
		if h.stateful {
			// The gate's session record is the transport's session id
			// manager: one truth about which sessions exist and whose.
			opts = append(opts, server.WithSessionIdManagerResolver(sessionIDs{g.sessions}), server.WithSessionIdleTTL(c.sessionIdle))
			rt = streamableStateful
		} else {
			opts = append(opts, server.WithStateLess(true))
		}
		sh := server.NewStreamableHTTPServer(srv.MCP(), opts...)
		mux.Handle("/mcp", g.wrap(rt, sh))
		h.closeSessions = sh.CloseSessions
	case "sse":
		sh := server.NewSSEServer(srv.MCP(), server.WithSessionIDGenerator(g.newSSESessionID), server.WithKeepAlive(true))
		mux.Handle("/sse", g.wrap(sseStream, sh.SSEHandler()))
		mux.Handle("/message", g.wrap(sseMessage, sh.MessageHandler()))
		h.closeSessions = func(context.Context) { sh.CloseSessions() }
	}
	h.handler = logging.Requests(log, slog.LevelDebug, bodyDeadline(g.bodyTimeout, mux))
	return h, nil
}

// startError is a reason the server could not start serving: the command
// says it as one sentence, like a setting it refuses, not as a log line.
type startError struct{ error }

func (e startError) Unwrap() error { return e.error }

// listen opens the hosted server's address, saying what to do when it
// cannot: most often, another program already has the port.
func listen(c *config) (net.Listener, error) {
	ln, err := net.Listen("tcp", c.addr)
	if err == nil {
		return ln, nil
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		host, port, _ := net.SplitHostPort(c.addr)
		next := c.addr
		if n, perr := strconv.Atoi(port); perr == nil && n > 0 && n < 65535 {
			next = net.JoinHostPort(host, strconv.Itoa(n+1))
		}
		pass := "pass --addr " + next
		if c.fromEnv["addr"] {
			pass = "set " + envName("addr") + "=" + next
		}
		return nil, startError{fmt.Errorf("something else is using %s; stop it or %s", c.addr, pass)}
	}
	return nil, startError{fmt.Errorf("cannot listen on %s (%s): %w", c.addr, c.named("addr"), err)}
}

// publicEndpoint is the URL to hand to people: under --public-url, that
// and the endpoint; otherwise the address listened on, with a wildcard
// address (0.0.0.0, [::]) shown as localhost, which at least works on this
// machine.
func publicEndpoint(c *config, listened net.Addr, endpoint string) string {
	if c.publicURL != "" {
		return c.publicURL + endpoint
	}
	host, port, _ := net.SplitHostPort(listened.String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + endpoint
}

// serveHTTP runs the hosted transports until ctx ends, then drains.
func serveHTTP(ctx context.Context, c *config, up *upstream, log *slog.Logger) error {
	ln, err := listen(c)
	if err != nil {
		return err
	}
	h, err := newHosted(c, up, log, ln.Addr().String())
	if err != nil {
		ln.Close()
		return startError{err}
	}
	logPolicy(c, log)
	if c.authToken == "" && !c.oauth && !loopback.Addr(c.addr) {
		log.Warn(fmt.Sprintf("no auth token on %s: anyone who can reach it can use this server with a Skimmer key of their own, and take its places for sessions; "+
			"set SKIMMER_AUTH_TOKEN to the output of "+makeSecret+" and give it to your team, or use --oauth", c.addr))
	}
	hs := &http.Server{Handler: h.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	url := publicEndpoint(c, ln.Addr(), h.endpoint)
	log.Info("serving MCP", "transport", c.transport, "url", url, "listen", ln.Addr().String(), "stateful", h.stateful, "auth_token", c.authToken != "", "oauth", c.oauth, "tools", len(h.tools.Tools()))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing calls in flight", "limit", c.shutdownTimeout)
	drain, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	shutdown := make(chan error, 1)
	go func() { shutdown <- hs.Shutdown(drain) }() // stops accepting at once
	// Let the tool calls in flight finish while their streams are still
	// open, so their answers reach the clients: SSE answers 202 before the
	// tool runs, and Shutdown alone would not wait for it. Then close the
	// streams (SSE, GET listeners), which never end by themselves.
	if err := h.tools.Drain(drain); err != nil {
		log.Warn("shutdown limit reached", "err", err)
	}
	if c.transport == "sse" {
		// SSE queues an answer for its stream only after the tool returns,
		// and mcp-go says nothing when the queue is written. Give the
		// answers that just finished a moment to go out.
		time.Sleep(sseFlush)
	}
	h.closeSessions(drain)
	h.close()
	if err := <-shutdown; err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// logPolicy says, loudly, when writes need no confirmation.
func logPolicy(c *config, log *slog.Logger) {
	if c.policy == tools.ConfirmNone && !c.readOnly {
		log.Warn("--confirm none: every write tool applies changes to Skimmer at once, with no preview and no confirmation")
	}
}

// isTerminal reports whether r is a terminal a person types into: a
// character device, but not the null device, which a service manager may
// give a server as its input.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}
