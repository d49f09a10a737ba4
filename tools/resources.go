package tools

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// Resource is a resource template an area offers: records a person
// attaches to a conversation by URI (Claude Desktop and Claude Code, VS
// Code and Cursor offer them beside the message box), as the same compact
// text the tools give a model, with completions that help the person pick
// one by typing part of a name.
type Resource struct {
	mcp.ResourceTemplate
	// Same is the read tool that answers with the same text: the resource
	// is offered wherever that tool is, and nowhere else.
	Same string
	read func(ctx context.Context, c *skimmer.Client, vars map[string]string) (string, error)
	// complete suggests values for the template's variables, by name.
	complete map[string]completer
}

// completer suggests values for an argument as a person types it: given
// what they typed and the arguments already chosen.
type completer func(ctx context.Context, c *skimmer.Client, typed string, chosen map[string]string) ([]string, error)

// template declares a resource template whose text is plain text.
func template(uri, name, title, description, same string, read func(ctx context.Context, c *skimmer.Client, vars map[string]string) (string, error), complete map[string]completer) Resource {
	return Resource{
		ResourceTemplate: mcp.NewResourceTemplate(uri, name,
			mcp.WithTemplateDescription(description), mcp.WithTemplateMIMEType("text/plain")),
		Same:     same,
		read:     read,
		complete: complete,
	}.titled(title)
}

func (r Resource) titled(title string) Resource {
	r.Title = title
	return r
}

// readResource serves one template: the caller's client, the read, and a
// log line, as for a tool call. Failures are JSON-RPC errors whose message
// is the same sentence a tool would give.
func (s *Server) readResource(r Resource, a *Area) server.ResourceTemplateHandlerFunc {
	return func(ctx context.Context, req mcp.ReadResourceRequest) (contents []mcp.ResourceContents, err error) {
		text, err := s.run(ctx, "resource read", "resource", r.Name, a, func(ctx context.Context, c *skimmer.Client) (string, error) {
			vars := map[string]string{}
			for k, v := range req.Params.Arguments {
				switch x := v.(type) {
				case string:
					vars[k] = x
				case []string:
					vars[k] = strings.Join(x, ",")
				}
			}
			return r.read(ctx, c, vars)
		})
		if err != nil {
			return nil, err
		}
		return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "text/plain", Text: text}}, nil
	}
}

// run carries out a read for a resource or a prompt the way handler does
// for a tool: the caller's client, panics recovered, one log line, and an
// error whose text is one sentence a person can act on.
func (s *Server) run(ctx context.Context, what, key, name string, a *Area, fn func(ctx context.Context, c *skimmer.Client) (string, error)) (text string, err error) {
	s.inflight.Add(1)
	defer s.inflight.Done()
	trace := &skimmer.Trace{}
	ctx = skimmer.WithTrace(ctx, trace)
	start := time.Now()
	logged := "panic"
	defer func() {
		if p := recover(); p != nil {
			s.log.ErrorContext(ctx, what+" panicked", key, name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("%s %s failed with an internal error; the server logged it", key, name)
		}
		s.logCall(ctx, what, key, name, logged, time.Since(start), trace)
	}()
	client, err := s.cfg.Client(ctx)
	if err != nil {
		logged = "no_client"
		return "", fmt.Errorf("%s", sentence(err.Error()))
	}
	text, err = fn(ctx, client)
	if err != nil {
		f := explain(err, &Tool{area: a})
		if f == nil {
			logged = "bug"
			return "", fmt.Errorf("%s %s: %w", key, name, err)
		}
		logged = f.class
		return "", fmt.Errorf("%s", f.text)
	}
	logged = "ok"
	return text, nil
}
