package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// catalogue holds every tool, added by the init of its API area's file:
// a new area is one new file.
var catalogue []Tool

func register(ts ...Tool) { catalogue = append(catalogue, ts...) }

// Catalogue returns every tool, by name.
func Catalogue() []Tool {
	out := slices.Clone(catalogue)
	slices.SortFunc(out, func(a, b Tool) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Instructions tell a model, once per session, how the tools fit together.
const Instructions = `Skimmer holds a pool-service company's customers and each customer's activity log.
- Start with search_customers: its ids feed every other tool.
- Writes change nothing at first: they answer with a preview. Show it to the user, and apply it only after they approve, by calling again with the same arguments and confirm: true. Some clients ask the user directly instead.`

// Config is what the server needs from the command that runs it.
type Config struct {
	// Client returns the Skimmer client for a call. A hosted server returns
	// one holding the caller's own key.
	Client func(ctx context.Context) (*skimmer.Client, error)

	ReadOnly bool     // leave out every write tool
	Tools    []string // when set, only these tools
	Confirm  ConfirmPolicy
	// ServerRequests: the transport carries server-to-client requests
	// (stdio, stateful HTTP; not SSE, whose sessions cannot carry
	// elicitation, nor stateless HTTP), so clients on the older protocol can
	// be asked to confirm through elicitation.
	ServerRequests bool
	// ConfirmKey signs confirmation states. Random when empty; replicas
	// behind one load balancer need the same key.
	ConfirmKey []byte

	Logger  *slog.Logger
	Version string
	Now     func() time.Time
}

// Server is the MCP server with the tools the config allows.
type Server struct {
	cfg      Config
	log      *slog.Logger
	seal     *sealer
	mcp      *server.MCPServer
	tools    []Tool
	inflight sync.WaitGroup
}

// New builds the server. It fails on an allow-list naming a tool that does
// not exist, so that a typo cannot quietly expose nothing.
func New(cfg Config) (*Server, error) {
	if cfg.Client == nil {
		return nil, errors.New("tools: Config.Client is required")
	}
	if cfg.Confirm == "" {
		cfg.Confirm = ConfirmElicit
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Version == "" {
		cfg.Version = skimmer.Version
	}
	all := Catalogue()
	for _, name := range cfg.Tools {
		if !slices.ContainsFunc(all, func(t Tool) bool { return t.Name == name }) {
			return nil, fmt.Errorf("unknown tool %q in the allow-list; the tools are %s", name, names(all))
		}
	}
	s := &Server{cfg: cfg, log: cfg.Logger, seal: newSealer(cfg.ConfirmKey, cfg.Now)}
	opts := []server.ServerOption{
		server.WithToolCapabilities(false),
		server.WithInstructions(Instructions),
		server.WithTitle("Skimmer"),
	}
	if cfg.Confirm == ConfirmElicit {
		opts = append(opts, server.WithElicitation())
	}
	// A read-only caller's list leaves out the write tools. It is a hook on
	// the answer, not a tool filter: a filter would also turn a call to a
	// write tool into "tool not found", where the caller should be told why.
	hooks := &server.Hooks{}
	hooks.AddAfterListTools(func(ctx context.Context, _ any, _ *mcp.ListToolsRequest, res *mcp.ListToolsResult) {
		if readOnlyCaller(ctx) {
			res.Tools = slices.DeleteFunc(res.Tools, func(t mcp.Tool) bool {
				return slices.ContainsFunc(s.tools, func(w Tool) bool { return w.Write && w.Name == t.Name })
			})
		}
	})
	opts = append(opts, server.WithHooks(hooks))
	s.mcp = server.NewMCPServer("skimmer-mcp", cfg.Version, opts...)
	for _, t := range all {
		if (cfg.ReadOnly && t.Write) || (len(cfg.Tools) > 0 && !slices.Contains(cfg.Tools, t.Name)) {
			continue
		}
		s.tools = append(s.tools, t)
		s.mcp.AddTool(t.Tool, s.handler(t))
	}
	return s, nil
}

type readOnlyKey struct{}

// WithReadOnlyCaller marks ctx as coming from a caller that may only read:
// its tools/list shows the read tools only, and a call to a write tool is
// refused with a sentence that says why. It is what --read-only does for a
// whole server, for one caller (a hosted caller whose grant is read only).
func WithReadOnlyCaller(ctx context.Context) context.Context {
	return context.WithValue(ctx, readOnlyKey{}, true)
}

func readOnlyCaller(ctx context.Context) bool {
	ro, _ := ctx.Value(readOnlyKey{}).(bool)
	return ro
}

// MCP is the mcp-go server, for a transport to serve.
func (s *Server) MCP() *server.MCPServer { return s.mcp }

// Drain waits for the calls in flight to finish, or for ctx to end. A
// transport that answers before the tool has run (SSE answers 202 and
// delivers the result on its stream) cannot tell a shutdown what is still
// running; this can.
func (s *Server) Drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("calls still in flight: %w", ctx.Err())
	}
}

// Tools lists the tools this server offers.
func (s *Server) Tools() []Tool { return slices.Clone(s.tools) }

func names(ts []Tool) string {
	n := make([]string, len(ts))
	for i, t := range ts {
		n[i] = t.Name
	}
	return strings.Join(n, ", ")
}

// handler runs one call: the caller's client, the tool, and what goes back.
// Failures a model can act on come back as isError results; a panic is
// recovered into one, and the server keeps serving. Exactly one log line is
// written per call, with no arguments or results in it: they hold customers'
// contact details.
func (s *Server) handler(t Tool) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
		s.inflight.Add(1)
		defer s.inflight.Done()
		start := time.Now()
		trace := &skimmer.Trace{}
		ctx = skimmer.WithTrace(ctx, trace)
		c := &call{req: req, server: s, outcome: "ok"}
		defer func() {
			if p := recover(); p != nil {
				s.log.ErrorContext(ctx, "tool panicked", "tool", t.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				c.outcome = "panic"
				res, err = mcp.NewToolResultError(fmt.Sprintf("%s failed with an internal error, and nothing more is known about whether it acted. The server logged it; check with a read before trying again.", t.Name)), nil
			}
			s.logCall(ctx, t.Name, c.outcome, time.Since(start), trace)
		}()

		if t.Write && readOnlyCaller(ctx) {
			c.outcome = "read_only"
			return mcp.NewToolResultError(t.Name + " changes Skimmer, but this connection may only read, so nothing was changed. If the user wants the change made, they can reconnect with access to read and change."), nil
		}
		client, cerr := s.cfg.Client(ctx)
		if cerr != nil {
			c.outcome = "no_client"
			return mcp.NewToolResultError(sentence(cerr.Error())), nil
		}
		c.client = client
		c.raw = rawArguments(req)
		text, rerr := t.run(ctx, c)
		if rerr != nil {
			f := explain(rerr)
			if f == nil {
				c.outcome = "bug"
				return nil, fmt.Errorf("%s: %w", t.Name, rerr)
			}
			c.outcome = f.class
			return mcp.NewToolResultError(f.text), nil
		}
		if c.result != nil {
			return c.result, nil
		}
		return mcp.NewToolResultText(text), nil
	}
}

// rawArguments returns the call's arguments as sent: the wire bytes when
// there are any, which keep large integers exact.
func rawArguments(req mcp.CallToolRequest) []byte {
	if len(req.Params.RawArguments) > 0 {
		return req.Params.RawArguments
	}
	if req.Params.Arguments == nil {
		return nil
	}
	raw, err := json.Marshal(req.Params.Arguments)
	if err != nil {
		return []byte("!") // reported as invalid JSON by the decoder
	}
	return raw
}

func (s *Server) logCall(ctx context.Context, tool, outcome string, d time.Duration, trace *skimmer.Trace) {
	var upstream []string
	for _, x := range trace.Exchanges() {
		if x.Status == 0 {
			upstream = append(upstream, "none")
		} else {
			upstream = append(upstream, strconv.Itoa(x.Status))
		}
	}
	level := slog.LevelInfo
	if outcome == "bug" || outcome == "panic" {
		level = slog.LevelError
	}
	s.log.Log(ctx, level, "tool call", "tool", tool, "outcome", outcome, "duration", d.Round(time.Microsecond), "upstream", strings.Join(upstream, ","))
}
