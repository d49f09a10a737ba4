package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"text/tabwriter"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/tools"
)

// callTool runs one tool once, through the same MCP server the transports
// serve, and prints its text: 0 on success, 1 when the tool answered with
// an error, 2 when the call could not be made.
func callTool(ctx context.Context, c *config, up *upstream, log *slog.Logger, io stdio) int {
	if len(c.args) < 1 || len(c.args) > 2 {
		fmt.Fprintln(io.err, `skimmer-mcp: usage: skimmer-mcp [flags] call TOOL '{"arg":"value"}'`)
		return 2
	}
	name, raw := c.args[0], "{}"
	if len(c.args) == 2 {
		raw = c.args[1]
	}
	if _, ok := tools.Declared(name); !ok {
		fmt.Fprintf(io.err, "skimmer-mcp: %s (skimmer-mcp tools lists them)\n", noTool(name))
		return 2
	}
	var args map[string]any
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	if err := dec.Decode(&args); err != nil {
		fmt.Fprintf(io.err, "skimmer-mcp: the arguments must be one JSON object, e.g. '{\"text\":\"smith\"}': %v\n", err)
		return 2
	}
	srv, err := newTools(c, up, log, false, false)
	if err != nil {
		fmt.Fprintln(io.err, "skimmer-mcp:", err)
		return 2
	}
	cl, err := client.NewInProcessClient(srv.MCP())
	if err == nil {
		err = cl.Start(ctx)
	}
	if err == nil {
		var init mcp.InitializeRequest
		init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
		init.Params.ClientInfo = mcp.Implementation{Name: "skimmer-mcp call", Version: skimmer.Version}
		_, err = cl.Initialize(ctx, init)
	}
	if err != nil {
		fmt.Fprintln(io.err, "skimmer-mcp:", err)
		return 2
	}
	defer cl.Close()
	var req mcp.CallToolRequest
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := cl.CallTool(ctx, req)
	if err != nil {
		fmt.Fprintln(io.err, "skimmer-mcp:", err)
		return 2
	}
	for _, content := range res.Content {
		if t, ok := content.(mcp.TextContent); ok {
			fmt.Fprintln(io.out, t.Text)
		}
	}
	if res.IsError {
		return 1
	}
	return 0
}

// noTool says a name is no tool's, and which it most likely meant.
func noTool(name string) string {
	if near := tools.ClosestTool(name); near != "" {
		return fmt.Sprintf("no tool %q; did you mean %s?", name, near)
	}
	return fmt.Sprintf("no tool %q", name)
}

// listTools prints the catalogue the flags allow: one line a tool, with
// the kinds the README's table uses; or, with --json, one array that
// scripts read (the bundle's manifest is built from it). Given tool
// names, it describes each of them instead.
func listTools(c *config, io stdio) int {
	srv, err := newTools(c, &upstream{client: nil}, nil, false, false)
	if err != nil {
		fmt.Fprintln(io.err, "skimmer-mcp:", err)
		return 2
	}
	if len(c.args) > 0 && !c.json {
		return describeTools(srv, c.args, io)
	}
	if c.json {
		type entry struct {
			Name        string `json:"name"`
			Title       string `json:"title"`
			Kind        string `json:"kind"`
			Description string `json:"description"`
		}
		list := []entry{}
		for _, t := range srv.Tools() {
			list = append(list, entry{t.Name, t.Title, t.Kind(), t.Description})
		}
		enc := json.NewEncoder(io.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(list); err != nil {
			fmt.Fprintln(io.err, "skimmer-mcp:", err)
			return 1
		}
		return 0
	}
	w := tabwriter.NewWriter(io.out, 0, 0, 2, ' ', 0)
	for _, t := range srv.Tools() {
		fmt.Fprintf(w, "%s\t%s\t%s\n", t.Name, t.Kind(), t.Title)
	}
	w.Flush()
	return 0
}

// describeTools prints each named tool: as served under the flags, or as
// declared, with a note, when the flags leave it out.
func describeTools(srv *tools.Server, names []string, io stdio) int {
	code := 0
	for i, name := range names {
		t, ok := tools.Declared(name)
		if !ok {
			fmt.Fprintf(io.err, "skimmer-mcp: %s (skimmer-mcp tools lists them)\n", noTool(name))
			code = 2
			continue
		}
		// As served, where the settings offer it: its schema is the one
		// the server publishes under them.
		served := srv.Tools()
		j := slices.IndexFunc(served, func(o tools.Tool) bool { return o.Name == name })
		offered := j >= 0
		if offered {
			t = served[j]
		}
		if i > 0 {
			fmt.Fprintln(io.out)
		}
		if err := describeTool(io.out, t, offered); err != nil {
			fmt.Fprintln(io.err, "skimmer-mcp:", err)
			code = 1
		}
	}
	return code
}
