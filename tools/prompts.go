package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
	// text is the message, from the arguments given ("" for one left
	// out: a required one left out is asked for) and the server's confirm
	// policy, which says how a write the workflow makes is approved.
	text func(args map[string]string, confirm ConfirmPolicy) string
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
func prompt(name, title, description string, uses []string, args []promptArg, text func(args map[string]string, confirm ConfirmPolicy) string) Prompt {
	p := Prompt{Prompt: mcp.Prompt{Name: name, Title: title, Description: description}, Uses: uses, text: text, complete: map[string]completer{}}
	for _, a := range args {
		p.Arguments = append(p.Arguments, mcp.PromptArgument{Name: a.name, Title: a.title, Description: a.description, Required: a.required})
		if a.complete != nil {
			p.complete[a.name] = a.complete
		}
	}
	return p
}

// getPrompt serves one prompt, through serve: its message, from the
// arguments given. A required argument left out (hosts ask for them, but
// not every client does) is asked for in the conversation: each prompt's
// text says so, rather than the prompt failing.
func (s *Server) getPrompt(p Prompt) server.PromptHandlerFunc {
	answer := respond[*mcp.GetPromptResult]{
		failed: func(text string) (*mcp.GetPromptResult, error) { return nil, errors.New(text) },
		broken: func(err error) (*mcp.GetPromptResult, error) {
			if errors.Is(err, errInternal) {
				return nil, fmt.Errorf("%s failed with an internal error; the server logged it", p.Name)
			}
			return nil, err
		},
	}
	return func(ctx context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		return serve(s, ctx, Call{Kind: KindPrompt, Name: p.Name}, nil, false, answer, func(ctx context.Context) (*mcp.GetPromptResult, Outcome, error) {
			args := map[string]string{}
			for _, a := range p.Arguments {
				args[a.Name] = strings.TrimSpace(req.Params.Arguments[a.Name])
			}
			return mcp.NewGetPromptResult(p.Description, []mcp.PromptMessage{
				mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(p.text(args, s.cfg.Confirm))),
			}), answered, nil
		})
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
	return c.s.complete(ctx, KindPrompt, name, p.complete[arg.Name], arg.Value, cc.Arguments), nil
}

func (c completions) CompleteResourceArgument(ctx context.Context, uri string, arg mcp.CompleteArgument, cc mcp.CompleteContext) (*mcp.Completion, error) {
	r, ok := c.s.resources[uri]
	if !ok {
		return &mcp.Completion{}, nil
	}
	return c.s.complete(ctx, KindResource, r.Name, r.complete[arg.Name], arg.Value, cc.Arguments), nil
}

// complete runs a completer, through serve. Suggestions are a
// convenience: an argument without one, or a lookup that fails, suggests
// nothing rather than failing the person's typing; the failure is logged
// (a bug or a panic at error level, with what went wrong).
func (s *Server) complete(ctx context.Context, of Kind, name string, fn completer, typed string, chosen map[string]string) *mcp.Completion {
	if fn == nil {
		return &mcp.Completion{}
	}
	nothing := func(string) (*mcp.Completion, error) { return &mcp.Completion{}, nil }
	answer := respond[*mcp.Completion]{failed: nothing, broken: func(error) (*mcp.Completion, error) { return nothing("") }}
	out, _ := serve(s, ctx, Call{Kind: KindCompletion, Name: name, Of: of}, nil, false, answer, func(ctx context.Context) (*mcp.Completion, Outcome, error) {
		client, err := s.client(ctx)
		if err != nil {
			return nil, 0, err
		}
		values, err := fn(ctx, client, strings.TrimSpace(typed), chosen)
		if err != nil {
			return nil, 0, err
		}
		out := &mcp.Completion{Values: values, Total: len(values)}
		if len(values) > maxCompletions {
			out.Values, out.HasMore = values[:maxCompletions], true
		}
		return out, answered, nil
	})
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
