package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

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
	// Store holds record locks and spent confirmations. A new MemoryStore
	// (this process only) when nil; replicas share one to stay exact.
	Store Store

	Logger  *slog.Logger
	Version string
	Now     func() time.Time
	// Observer, when set, hears of every request as it starts and ends:
	// the facts of its log line, for metrics.
	Observer Observer
}

// Server is the MCP server with the tools the config allows.
type Server struct {
	cfg    Config
	log    *slog.Logger
	seal   *sealer
	mcp    *server.MCPServer
	tools  []Tool
	hidden []Tool  // declared, not offered by the config: registered so that a call is told why
	areas  []*Area // those with at least one tool offered
	// prompts and resources offered, by name and by URI template
	prompts   map[string]Prompt
	resources map[string]Resource
	flights   flights
	inflight  sync.WaitGroup
	// replayGuard: a confirmation this process spent could be replayed to
	// another that does not know it was (a confirm key shared by replicas,
	// with no shared store), so a create first looks in Skimmer for the
	// record it would make.
	replayGuard bool
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
	for _, name := range cfg.Tools {
		if _, ok := Declared(name); !ok {
			hint := ""
			if near := ClosestTool(name); near != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", near)
			}
			return nil, fmt.Errorf("unknown tool %q in the allow-list%s; the tools are %s", name, hint, names(Catalogue()))
		}
	}
	s := &Server{cfg: cfg, log: cfg.Logger, seal: newSealer(cfg.ConfirmKey, cfg.Now), replayGuard: len(cfg.ConfirmKey) > 0 && cfg.Store == nil}
	if cfg.Store == nil {
		s.cfg.Store = NewMemoryStore()
	}
	s.prompts, s.resources = map[string]Prompt{}, map[string]Resource{}
	offers := func(name string) bool {
		return slices.ContainsFunc(s.tools, func(t Tool) bool { return t.Name == name })
	}
	for _, a := range areas() {
		for _, t := range a.Tools {
			if t.Write && cfg.Confirm == ConfirmNone {
				// Writes apply at once: an argument that says "omit to
				// preview" would be false, so it is not offered (a confirm
				// sent anyway is accepted, and changes nothing).
				t.RawInputSchema = t.args.bare
			}
			if !s.allows(t) {
				s.hidden = append(s.hidden, t)
				continue
			}
			s.tools = append(s.tools, t)
			if !slices.Contains(s.areas, a) {
				s.areas = append(s.areas, a)
			}
		}
	}
	for _, a := range areas() {
		for _, r := range a.Resources {
			if offers(r.Same) {
				s.resources[r.URITemplate.Raw()] = r
			}
		}
		for _, p := range a.Prompts {
			if !slices.ContainsFunc(p.Uses, func(name string) bool { return !offers(name) }) {
				s.prompts[p.Name] = p
			}
		}
	}
	slices.SortFunc(s.tools, func(a, b Tool) int { return strings.Compare(a.Name, b.Name) })
	// The tools a config or a caller does not offer are left out of the
	// list by a hook on the answer, not by a tool filter: a filter would
	// also answer a call with "tool not found", where the caller should be
	// told why nothing was changed.
	hooks := &server.Hooks{}
	hooks.AddAfterListTools(func(ctx context.Context, _ any, _ *mcp.ListToolsRequest, res *mcp.ListToolsResult) {
		res.Tools = slices.DeleteFunc(res.Tools, func(t mcp.Tool) bool { return !s.offered(ctx, t.Name) })
	})
	opts := []server.ServerOption{
		server.WithToolCapabilities(false),
		server.WithInstructions(s.instructions()),
		server.WithTitle("Skimmer"),
		server.WithDescription("A pool-service company's Skimmer account: customers and their activity logs."),
		server.WithWebsiteURL(WebsiteURL),
		server.WithIcons(serverIcon),
		server.WithHooks(hooks),
	}
	if len(s.resources) > 0 {
		opts = append(opts, server.WithResourceCapabilities(false, false))
	}
	if len(s.prompts) > 0 {
		// A prompt a caller is not offered (one that writes, for a caller
		// who may only read) is not there for them: left out of the list,
		// and a get of it is invalid params, as for a prompt that does not
		// exist.
		opts = append(opts, server.WithPromptCapabilities(false), server.WithPromptFilter(func(ctx context.Context, ps []mcp.Prompt) []mcp.Prompt {
			return slices.DeleteFunc(ps, func(p mcp.Prompt) bool { return !s.promptOffered(ctx, s.prompts[p.Name]) })
		}))
	}
	if len(s.resources)+len(s.prompts) > 0 {
		opts = append(opts, server.WithCompletions(),
			server.WithPromptCompletionProvider(completions{s}), server.WithResourceCompletionProvider(completions{s}))
	}
	if cfg.Confirm == ConfirmElicit {
		opts = append(opts, server.WithElicitation())
	}
	s.mcp = server.NewMCPServer("skimmer-mcp", cfg.Version, opts...)
	for _, t := range s.tools {
		s.mcp.AddTool(t.Tool, s.handler(t))
	}
	for _, t := range s.hidden {
		s.mcp.AddTool(t.Tool, s.handler(t))
	}
	for _, a := range areas() {
		for _, r := range a.Resources {
			if _, ok := s.resources[r.URITemplate.Raw()]; ok {
				s.mcp.AddResourceTemplate(r.ResourceTemplate, s.readResource(r, a))
			}
		}
	}
	for _, p := range s.prompts {
		s.mcp.AddPrompt(p.Prompt, s.getPrompt(p))
	}
	return s, nil
}

// WebsiteURL is where people read about skimmer-mcp.
const WebsiteURL = "https://github.com/skimmer-mcp/skimmer-mcp"

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

// KeySource is how a caller's Skimmer key reached the server: what a
// person must check when Skimmer refuses it. The transport that took the
// key marks it (WithKeySource); tools knows nothing of how.
type KeySource uint8

// Where a key comes from.
const (
	// KeyFromServer: the server's own key, SKIMMER_API_KEY; a call whose
	// context is not marked is taken to use it.
	KeyFromServer KeySource = iota
	// KeyFromHeader: the caller's app sends it with each request.
	KeyFromHeader
	// KeyFromSignIn: the person pasted it into the connector's sign-in
	// page, and it travels inside their grant.
	KeyFromSignIn
)

type keySourceKey struct{}

// WithKeySource marks ctx with where the caller's key came from.
func WithKeySource(ctx context.Context, src KeySource) context.Context {
	return context.WithValue(ctx, keySourceKey{}, src)
}

func keySource(ctx context.Context) KeySource {
	src, _ := ctx.Value(keySourceKey{}).(KeySource)
	return src
}

// offered reports whether this call's caller may use a tool: the config
// offers it and, for a write, the caller is not read-only.
func (s *Server) offered(ctx context.Context, name string) bool {
	i := slices.IndexFunc(s.tools, func(t Tool) bool { return t.Name == name })
	return i >= 0 && !(s.tools[i].Write && readOnlyCaller(ctx))
}

// promptOffered: every tool a prompt steers through is offered.
func (s *Server) promptOffered(ctx context.Context, p Prompt) bool {
	return !slices.ContainsFunc(p.Uses, func(name string) bool { return !s.offered(ctx, name) })
}

// refusal is why a tool cannot be used on this call, or "": the server is
// read-only, the allow-list leaves it out, or the caller may only read.
func (s *Server) refusal(ctx context.Context, t Tool) string {
	switch {
	case s.cfg.ReadOnly && t.Write:
		return "Nothing was changed: this server only reads from Skimmer (it runs with --read-only), so " + t.Name + " is not available."
	case !s.allows(t):
		return fmt.Sprintf("%s is not among the tools this server offers (--tools): %s.", t.Name, names(s.tools))
	case t.Write && readOnlyCaller(ctx):
		return "Nothing was changed: this connection may only read from Skimmer, so " + t.Name + " is not available. To make changes, the user can remove this connector, add it again and choose read and change."
	}
	return ""
}

// allows reports whether the config offers a tool.
func (s *Server) allows(t Tool) bool {
	return !(s.cfg.ReadOnly && t.Write) && (len(s.cfg.Tools) == 0 || slices.Contains(s.cfg.Tools, t.Name))
}

// instructions tell a model, once per session, how the tools fit
// together: a line from each area offered, and how writes work when there
// are any.
func (s *Server) instructions() string {
	lines := []string{"Skimmer holds a pool-service company's records."}
	for _, a := range s.areas {
		if a.Instructions != "" {
			lines = append(lines, "- "+a.Instructions)
		}
	}
	if slices.ContainsFunc(s.tools, func(t Tool) bool { return t.Write }) {
		switch s.cfg.Confirm {
		case ConfirmNone:
			lines = append(lines, "- Writes apply at once, with no preview and no confirmation: make a change only when the user has asked for exactly that change.")
		case ConfirmFlag:
			lines = append(lines, "- Writes change nothing at first: they answer with a preview. Show it to the user, and apply it only after they approve, by calling again with the same arguments and confirm: true.")
		default:
			lines = append(lines, "- Writes change nothing at first: they answer with a preview. Show it to the user, and apply it only after they approve, by calling again with the same arguments and confirm: true. Some clients ask the user directly instead.")
		}
	}
	return strings.Join(lines, "\n")
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

// ClosestTool is the declared tool whose name name is most likely a typo
// of, or "" when none is near enough: for "did you mean" in a command
// line, where mcp-go's own answer is only "tool not found".
func ClosestTool(name string) string {
	known := map[string]bool{}
	for _, t := range Catalogue() {
		known[t.Name] = true
	}
	if near := closest(name, known); near != name {
		return near
	}
	return ""
}

func names(ts []Tool) string {
	n := make([]string, len(ts))
	for i, t := range ts {
		n[i] = t.Name
	}
	return strings.Join(n, ", ")
}

// handler runs one tool call: the caller's client, the tool, and what goes
// back (serve). Failures a model can act on come back as isError results;
// so does a panic, since a model must know that nothing more is known about
// whether the tool acted. An error nobody explains is a bug, and goes back
// as a JSON-RPC error.
func (s *Server) handler(t Tool) server.ToolHandlerFunc {
	answer := respond[*mcp.CallToolResult]{
		failed: func(text string) (*mcp.CallToolResult, error) { return mcp.NewToolResultError(text), nil },
		broken: func(err error) (*mcp.CallToolResult, error) {
			if errors.Is(err, errInternal) {
				return mcp.NewToolResultError(fmt.Sprintf("%s failed with an internal error, and nothing more is known about whether it acted. The server logged it; check with a read before trying again.", t.Name)), nil
			}
			return nil, err
		},
	}
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return serve(s, ctx, Call{Kind: KindTool, Name: t.Name}, t.area, t.Write, answer, func(ctx context.Context) (*mcp.CallToolResult, Outcome, error) {
			if why := s.refusal(ctx, t); why != "" {
				return nil, 0, &failure{failNotOffered, why}
			}
			client, err := s.client(ctx)
			if err != nil {
				return nil, 0, err
			}
			r, err := t.run(ctx, &call{req: req, raw: rawArguments(req), client: client, server: s})
			if err != nil {
				return nil, 0, err
			}
			return r.result(), r.logged(), nil
		})
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
