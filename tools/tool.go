// Package tools is skimmer-mcp's product: one MCP tool per Skimmer API
// operation, each an argument struct (whose JSON Schema is generated), a
// handler and a renderer of compact text, declared together in the file of
// its API area. Writes preview first and apply only when confirmed.
//
// The package builds an mcp-go server; it knows nothing of transports.
package tools

// Each tool's input schema is snapshotted in ../schemas, so that review
// sees every change to what models are told.
//go:generate go test -run ^TestSchemaFiles$ -update .

import (
	"context"
	"crypto/sha256"
	"encoding/json"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// Tool is one MCP tool: the declaration clients list, and what a call runs.
type Tool struct {
	mcp.Tool
	// Write is true for a tool that changes Skimmer; read-only mode drops it.
	Write bool
	kind  string
	args  *argSchema
	run   func(ctx context.Context, c *call) (string, error)
}

// Kind says what a tool does to Skimmer, in the words the README's tool
// table and `skimmer-mcp tools` use: "read", "write" (adds a record),
// "write, overwrites" (changes values in place) or "write, destructive"
// (deactivates or deletes).
func (t Tool) Kind() string { return t.kind }

// call is one invocation of a tool.
type call struct {
	req     mcp.CallToolRequest
	raw     []byte
	client  *skimmer.Client
	server  *Server
	outcome string // for the log line: "ok" unless a step says otherwise
	result  *mcp.CallToolResult
}

// hints are a tool's behaviour annotations. Every tool states all four:
// a silent default makes clients ask for approval on harmless reads.
type hints struct {
	readOnly, destructive, idempotent bool
}

// declare builds a tool's declaration from its argument struct.
func declare[A any](name, title, description string, h hints) Tool {
	args := reflectArgs[A]()
	def := mcp.NewToolWithRawSchema(name, description, args.raw)
	def.Title = title
	// Skimmer is one company's account, a closed world: openWorldHint is
	// false on every tool.
	openWorld := false
	def.Annotations = mcp.ToolAnnotation{
		ReadOnlyHint:    &h.readOnly,
		DestructiveHint: &h.destructive,
		IdempotentHint:  &h.idempotent,
		OpenWorldHint:   &openWorld,
	}
	return Tool{Tool: def, args: args}
}

// read declares a tool that only reads: decode, run, return its text.
func read[A any](name, title, description string, run func(ctx context.Context, c *skimmer.Client, a A) (string, error)) Tool {
	t := declare[A](name, title, description, hints{readOnly: true, idempotent: true})
	t.kind = "read"
	args := t.args
	t.run = func(ctx context.Context, c *call) (string, error) {
		var a A
		if _, err := args.decode(c.raw, &a); err != nil {
			return "", err
		}
		return run(ctx, c.client, a)
	}
	return t
}

// effect is what a write does to what is there.
type effect int

const (
	adds       effect = iota // creates; nothing existing changes
	overwrites               // replaces field values
	removes                  // deactivates or deletes
)

func (e effect) kind() string {
	switch e {
	case overwrites:
		return "write, overwrites"
	case removes:
		return "write, destructive"
	}
	return "write"
}

// confirmer is implemented by every write's arguments, through the
// embedded confirmation.
type confirmer interface{ confirmed() bool }

// confirmation is the confirm argument every write tool takes.
type confirmation struct {
	Confirm bool `json:"confirm,omitempty" jsonschema_description:"Omit for a preview; true applies it once the user approved."`
}

func (c confirmation) confirmed() bool { return c.Confirm }

// write declares a tool that changes Skimmer. plan works out what the call
// would do, reading but never writing; the server decides, by its confirm
// policy, whether to show the plan or carry it out.
func write[A confirmer](name, title, description string, e effect, plan func(ctx context.Context, c *skimmer.Client, a A) (*Plan, error)) Tool {
	t := declare[A](name, title, description, hints{destructive: e != adds, idempotent: e != adds})
	t.Write = true
	t.kind = e.kind()
	args := t.args
	t.run = func(ctx context.Context, c *call) (string, error) {
		var a A
		clean, err := args.decode(c.raw, &a)
		if err != nil {
			return "", err
		}
		p, err := plan(ctx, c.client, a)
		if err != nil {
			return "", err
		}
		delete(clean, "confirm")
		digest, _ := json.Marshal(clean) // map keys marshal sorted: a stable digest
		sum := sha256.Sum256(digest)     // the sealed state names the tool itself
		return c.server.confirm(ctx, c, name, sum[:], a.confirmed(), p)
	}
	return t
}
