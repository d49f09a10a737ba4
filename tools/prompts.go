package tools

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// Prompt is a workflow an area offers a person: a command in the host's
// menu (a slash command in Claude Code, an entry in Claude Desktop's "+"
// menu) with typed arguments, whose message steers the model through the
// tools, confirmations intact. It makes no request of its own.
type Prompt struct {
	mcp.Prompt
	// Uses are the tools it steers through: it is offered only where they
	// all are.
	Uses []string
	text func(args map[string]string) string
	// complete suggests values for its arguments, by name.
	complete map[string]completer
}

// promptArg is one argument of a prompt.
type promptArg struct {
	name, title, description string
	required                 bool
	complete                 completer
}

// prompt declares a prompt.
func prompt(name, title, description string, uses []string, args []promptArg, text func(args map[string]string) string) Prompt {
	p := Prompt{Prompt: mcp.Prompt{Name: name, Title: title, Description: description}, Uses: uses, text: text, complete: map[string]completer{}}
	for _, a := range args {
		p.Arguments = append(p.Arguments, mcp.PromptArgument{Name: a.name, Title: a.title, Description: a.description, Required: a.required})
		if a.complete != nil {
			p.complete[a.name] = a.complete
		}
	}
	return p
}

// getPrompt serves one prompt: its arguments checked, its message, and a
// log line.
func (s *Server) getPrompt(p Prompt) server.PromptHandlerFunc {
	return func(ctx context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		start := time.Now()
		args := map[string]string{}
		var missing []string
		for _, a := range p.Arguments {
			v := strings.TrimSpace(req.Params.Arguments[a.Name])
			if v == "" && a.Required {
				missing = append(missing, fmt.Sprintf("%s (%s)", a.Name, strings.ToLower(a.Description[:1])+strings.TrimSuffix(a.Description[1:], ".")))
			}
			args[a.Name] = v
		}
		outcome := "ok"
		defer func() { s.logCall(ctx, "prompt get", "prompt", p.Name, outcome, time.Since(start), &skimmer.Trace{}) }()
		if !s.promptOffered(ctx, p) {
			outcome = "not_offered"
			return nil, fmt.Errorf("%s changes Skimmer, but this connection may only read", p.Name)
		}
		if len(missing) > 0 {
			outcome = "invalid_arguments"
			return nil, fmt.Errorf("%s needs %s", p.Name, strings.Join(missing, " and "))
		}
		return mcp.NewGetPromptResult(p.Description, []mcp.PromptMessage{
			mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(p.text(args))),
		}), nil
	}
}

// completions answers completion/complete for the prompts and resource
// templates the server offers.
type completions struct{ s *Server }

// maxCompletions is how many values one answer suggests: a menu a person
// reads at a glance.
const maxCompletions = 10

func (c completions) CompletePromptArgument(ctx context.Context, name string, arg mcp.CompleteArgument, cc mcp.CompleteContext) (*mcp.Completion, error) {
	p, ok := c.s.prompts[name]
	if !ok {
		return &mcp.Completion{}, nil
	}
	return c.s.complete(ctx, "prompt", name, p.complete[arg.Name], arg.Value, cc.Arguments), nil
}

func (c completions) CompleteResourceArgument(ctx context.Context, uri string, arg mcp.CompleteArgument, cc mcp.CompleteContext) (*mcp.Completion, error) {
	r, ok := c.s.resources[uri]
	if !ok {
		return &mcp.Completion{}, nil
	}
	return c.s.complete(ctx, "resource", r.Name, r.complete[arg.Name], arg.Value, cc.Arguments), nil
}

// complete runs a completer. Suggestions are a convenience: an argument
// without one, or a lookup that fails, suggests nothing rather than
// failing the person's typing; the failure is logged.
func (s *Server) complete(ctx context.Context, key, name string, fn completer, typed string, chosen map[string]string) *mcp.Completion {
	if fn == nil {
		return &mcp.Completion{}
	}
	trace := &skimmer.Trace{}
	ctx = skimmer.WithTrace(ctx, trace)
	start := time.Now()
	outcome := "ok"
	defer func() {
		if p := recover(); p != nil {
			outcome = "panic"
		}
		s.logCall(ctx, "completion", key, name, outcome, time.Since(start), trace)
	}()
	client, err := s.cfg.Client(ctx)
	if err != nil {
		outcome = "no_client"
		return &mcp.Completion{}
	}
	values, err := fn(ctx, client, strings.TrimSpace(typed), chosen)
	if err != nil {
		outcome = "failed"
		if f := explain(err, nil); f != nil {
			outcome = f.class
		}
		return &mcp.Completion{}
	}
	out := &mcp.Completion{Values: values, Total: len(values)}
	if len(values) > maxCompletions {
		out.Values, out.HasMore = values[:maxCompletions], true
	}
	return out
}

// oneOf completes from a fixed list: the values that start with what was
// typed, any case.
func oneOf(values ...string) completer {
	return func(_ context.Context, _ *skimmer.Client, typed string, _ map[string]string) ([]string, error) {
		var out []string
		for _, v := range values {
			if strings.HasPrefix(strings.ToLower(v), strings.ToLower(typed)) {
				out = append(out, v)
			}
		}
		return out, nil
	}
}
