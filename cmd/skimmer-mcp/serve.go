package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/logging"
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
	client *skimmer.Client // carries the server-wide key, if any
	key    string          // that key: the operator's, or the sandbox's
	stop   func()
}

func startUpstream(c *config, log *slog.Logger) (*upstream, error) {
	base, key := c.baseURL, c.apiKey
	stop := func() {}
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
		base, stop = "http://"+ln.Addr().String(), func() { _ = srv.Close() }
		if key == "" {
			key = sandboxKey
		}
	}
	client, err := skimmer.New(skimmer.Options{BaseURL: base, APIKey: key, Timeout: c.timeout, Logger: log})
	if err != nil {
		stop()
		return nil, err
	}
	return &upstream{client: client, key: key, stop: stop}, nil
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
	return tools.New(tools.Config{
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
		return err
	}
	logPolicy(c, log)
	std := server.NewStdioServer(srv.MCP())
	std.SetErrorLogger(slog.NewLogLogger(log.Handler(), slog.LevelError))
	log.Info("serving MCP on stdio", "tools", len(srv.Tools()))
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
	tools         *tools.Server
	stateful      bool
}

// corsHeaders are what a browser client may send: MCP's own headers and
// the caller's Skimmer key. Which origins may send them is the gate's
// decision, made before the transport sees the request.
var cors = []server.CORSOption{
	server.WithCORSAllowedOrigins("*"),
	server.WithCORSAllowedHeaders("Content-Type", "Accept", "Authorization", "skimmer-api-key", "x-api-key", "Mcp-Session-Id",
		"Mcp-Protocol-Version", "Mcp-Method", "Mcp-Name", "Last-Event-ID"),
}

// newHosted builds the hosted endpoint for a server listening on listen.
func newHosted(c *config, up *upstream, log *slog.Logger, listen string) (*hosted, error) {
	if up.key != "" && c.authToken == "" && !loopback(c.addr) && !c.sandbox {
		return nil, fmt.Errorf("refusing to serve SKIMMER_API_KEY to anyone who can reach %s: set SKIMMER_AUTH_TOKEN (--auth-token) so only holders of the token can use it, or unset SKIMMER_API_KEY so every caller sends its own key", c.addr)
	}
	// The server's key serves callers who bring none: past the check above
	// that is on loopback, behind a token, or the sandbox's demo key.
	g := newGate(c, up.key)
	h := &hosted{endpoint: "/mcp", stateful: c.transport == "http" && c.stateful}
	mux := http.NewServeMux()
	if c.oauth {
		as, err := newOAuth(c, up, log, listen)
		if err != nil {
			return nil, err
		}
		as.Routes(mux)
		g.oauth = as
	}
	srv, err := newTools(c, up, log, true, h.stateful)
	if err != nil {
		return nil, err
	}
	h.tools = srv

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok", "version": skimmer.Version, "transport": c.transport})
	})
	switch c.transport {
	case "http":
		opts := []server.StreamableHTTPOption{server.WithStreamableHTTPLogger(log), server.WithStreamableHTTPCORS(cors...)}
		if h.stateful {
			opts = append(opts, server.WithStateful(true), server.WithSessionIdleTTL(sessionIdle))
		} else {
			opts = append(opts, server.WithStateLess(true))
		}
		sh := server.NewStreamableHTTPServer(srv.MCP(), opts...)
		mux.Handle("/mcp", g.wrap(sh))
		h.closeSessions = sh.CloseSessions
	case "sse":
		sh := server.NewSSEServer(srv.MCP(), server.WithSessionIDGenerator(g.newSSESessionID), server.WithKeepAlive(true), server.WithSSECORS(cors...))
		mux.Handle("/sse", g.wrap(sh.SSEHandler()))
		mux.Handle("/message", g.wrap(sh.MessageHandler()))
		h.closeSessions = func(context.Context) { sh.CloseSessions() }
		h.endpoint = "/sse"
	}
	h.handler = logging.Requests(log, slog.LevelDebug, mux)
	return h, nil
}

// serveHTTP runs the hosted transports until ctx ends, then drains.
func serveHTTP(ctx context.Context, c *config, up *upstream, log *slog.Logger) error {
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	h, err := newHosted(c, up, log, ln.Addr().String())
	if err != nil {
		ln.Close()
		return err
	}
	logPolicy(c, log)
	hs := &http.Server{Handler: h.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	url := "http://" + ln.Addr().String() + h.endpoint
	log.Info("serving MCP", "transport", c.transport, "url", url, "stateful", h.stateful, "auth_token", c.authToken != "", "oauth", c.oauth, "tools", len(h.tools.Tools()))
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
