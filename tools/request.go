package tools

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// Kind is what a request asks the server for.
type Kind string

// The kinds of request the server serves, each of which may call Skimmer.
const (
	KindTool       Kind = "tool"       // tools/call
	KindResource   Kind = "resource"   // resources/read of a template
	KindPrompt     Kind = "prompt"     // prompts/get
	KindCompletion Kind = "completion" // completion/complete of a prompt's or a template's argument
)

// Method is the MCP method that makes a request of this kind.
func (k Kind) Method() string {
	switch k {
	case KindResource:
		return "resources/read"
	case KindPrompt:
		return "prompts/get"
	case KindCompletion:
		return "completion/complete"
	}
	return "tools/call"
}

// Call is one request, as its log line and an Observer name it: names come
// from the areas' declarations (a tool, a resource template, a prompt),
// never from what a caller sent, so they are a fixed set.
type Call struct {
	Kind Kind
	Name string // the tool, resource template or prompt
	// Of, for a completion, is whether Name is a prompt (KindPrompt) or a
	// resource template (KindResource).
	Of Kind
}

// CallRecord is what one request did: what its log line says.
type CallRecord struct {
	Call
	Outcome  Outcome // Outcome.Failed when the answer was an error; see Outcomes for every value
	Duration time.Duration
	Upstream []skimmer.Exchange // every attempt at Skimmer, in order
	Holds    []skimmer.Hold     // waits for the key's rate budget
}

// Observer hears of every request as it starts and ends, for metrics:
// tool calls, resource reads, prompts and completions, each of which may
// call Skimmer. It must be quick and safe for concurrent use; it sees no
// arguments and no results.
type Observer interface {
	CallStarted(ctx context.Context, c Call)
	CallEnded(ctx context.Context, c CallRecord)
}

// respond is how one kind of request answers when it cannot give what
// was asked.
type respond[R any] struct {
	// failed answers a failure a person or a model can act on, with its
	// sentence.
	failed func(text string) (R, error)
	// broken answers the server's own failure, already logged: an error
	// nobody explains (a bug), or errInternal for a recovered panic.
	broken func(err error) (R, error)
}

// errInternal stands for a recovered panic in what a request ran.
var errInternal = errors.New("internal error")

// serve runs one request of any kind: a trace of its requests to Skimmer,
// panics recovered (with their value and stack in the log), exactly one log
// line, and the Observer told. run returns the answer and its outcome, or
// an error: one explain words (in the words of area; write when a write
// failed) is answered by respond.failed, anything else by respond.broken.
// No log line holds arguments or results: they hold customers' contact
// details.
func serve[R any](s *Server, ctx context.Context, c Call, area *Area, write bool, r respond[R], run func(ctx context.Context) (R, Outcome, error)) (res R, err error) {
	s.inflight.Add(1)
	defer s.inflight.Done()
	start := time.Now()
	trace := &skimmer.Trace{}
	ctx = skimmer.WithTrace(ctx, trace)
	if s.cfg.Observer != nil {
		s.cfg.Observer.CallStarted(ctx, c)
	}
	out := failPanic // until run returns
	defer func() {
		if p := recover(); p != nil {
			s.log.ErrorContext(ctx, c.what()+" panicked", c.key(), c.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			res, err = r.broken(errInternal)
		}
		d := time.Since(start)
		s.logCall(ctx, c, out, d, trace)
		if s.cfg.Observer != nil {
			s.cfg.Observer.CallEnded(ctx, CallRecord{Call: c, Outcome: out, Duration: d, Upstream: trace.Exchanges(), Holds: trace.Holds()})
		}
	}()
	res, out, err = run(ctx)
	if err == nil {
		return res, nil
	}
	if f := explain(ctx, err, area, write); f != nil {
		out = f.class
		return r.failed(f.text)
	}
	out = failBug
	return r.broken(fmt.Errorf("%s %s: %w", c.key(), c.Name, err))
}

// client is the caller's Skimmer client, or a failure that says why there
// is none.
func (s *Server) client(ctx context.Context) (*skimmer.Client, error) {
	c, err := s.cfg.Client(ctx)
	if err != nil {
		return nil, &failure{failNoClient, sentence(err.Error())}
	}
	return c, nil
}

// what is the request as its log line's message says it.
func (c Call) what() string {
	switch c.Kind {
	case KindResource:
		return "resource read"
	case KindPrompt:
		return "prompt get"
	case KindCompletion:
		return "completion"
	}
	return "tool call"
}

// key is the log line's name for what the request is for.
func (c Call) key() string {
	if c.Kind == KindCompletion {
		return string(c.Of)
	}
	return string(c.Kind)
}

// logCall writes a request's one log line: what it was, for which tool,
// resource or prompt, what came of it, how long it took and what Skimmer
// answered each attempt.
func (s *Server) logCall(ctx context.Context, c Call, outcome Outcome, d time.Duration, trace *skimmer.Trace) {
	var upstream []string
	for _, x := range trace.Exchanges() {
		if x.Status == 0 {
			upstream = append(upstream, "none")
		} else {
			upstream = append(upstream, strconv.Itoa(x.Status))
		}
	}
	level := slog.LevelInfo
	switch {
	case outcome == failBug || outcome == failPanic:
		level = slog.LevelError
	case c.Kind == KindCompletion:
		level = slog.LevelDebug // one a keystroke
	}
	s.log.Log(ctx, level, c.what(), c.key(), c.Name, "outcome", outcome.String(), "duration", d.Round(time.Microsecond), "upstream", strings.Join(upstream, ","))
}
