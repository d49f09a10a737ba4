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

// readResource serves one template: the caller's client and the read,
// through serve, as a tool call is. A failure a person can act on (no such
// customer, Skimmer busy) is the resource's text, the sentence a tool would
// give, as a tool's is an isError result: a JSON-RPC error is for bugs.
func (s *Server) readResource(r Resource, a *Area) server.ResourceTemplateHandlerFunc {
	broken := func(err error) ([]mcp.ResourceContents, error) {
		if errors.Is(err, errInternal) {
			return nil, fmt.Errorf("reading %s failed with an internal error; the server logged it", r.Name)
		}
		return nil, err
	}
	return func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
		text := func(text string) ([]mcp.ResourceContents, error) {
			return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "text/plain", Text: text}}, nil
		}
		answer := respond[[]mcp.ResourceContents]{failed: text, broken: broken}
		return serve(s, ctx, Call{Kind: KindResource, Name: r.Name}, a, false, answer, func(ctx context.Context) ([]mcp.ResourceContents, Outcome, error) {
			client, err := s.client(ctx)
			if err != nil {
				return nil, 0, err
			}
			vars := map[string]string{}
			for k, v := range req.Params.Arguments {
				switch x := v.(type) {
				case string:
					vars[k] = x
				case []string:
					vars[k] = strings.Join(x, ",")
				}
			}
			read, err := r.read(ctx, client, vars)
			if err != nil {
				return nil, 0, err
			}
			contents, _ := text(read)
			return contents, answered, nil
		})
	}
}
