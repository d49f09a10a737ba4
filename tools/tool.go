// Package tools is skimmer-mcp's product: Skimmer's API as MCP tools,
// resources and prompts, grouped by API area (area.go). A tool is an
// argument struct (whose JSON Schema is generated), a handler and a
// renderer of compact text, declared together in the file of its area.
// Writes preview first and apply only when confirmed.
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
	"reflect"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// Tool is one MCP tool: the declaration clients list, and what a call runs.
type Tool struct {
	mcp.Tool
	// Write is true for a tool that changes Skimmer; read-only mode drops it.
	Write  bool
	effect effect
	area   *Area // set when the area is registered
	args   *argSchema
	argsOf reflect.Type // the argument struct
	run    func(ctx context.Context, c *call) (reply, error)
}

// Kind says what a tool does to Skimmer, in the words the README's tool
// table and `skimmer-mcp tools` use: "read", "write" (adds a record),
// "write, overwrites" (changes values in place) or "write, destructive"
// (deactivates or deletes).
func (t Tool) Kind() string {
	if !t.Write {
		return "read"
	}
	return t.effect.kind()
}

// call is one invocation of a tool: what it was asked, and for whom.
type call struct {
	req    mcp.CallToolRequest
	raw    []byte
	client *skimmer.Client
	server *Server
}

// reply is what a call answers: its text, or the input request that asks
// the person, and what happened. What cannot be done is an error
// (refuse), not a reply: the model must not take it for the write having
// happened.
type reply struct {
	outcome Outcome
	text    string
	input   *mcp.CallToolResult // set for asked
	// joined: a double submit, which joined an identical call in flight
	// and got its answer instead of acting again.
	joined bool
}

// logged is the reply's outcome as the log line names it.
func (r reply) logged() Outcome {
	if r.joined {
		return coalesced
	}
	return r.outcome
}

// result is the reply as MCP sends it.
func (r reply) result() *mcp.CallToolResult {
	if r.input != nil {
		return r.input
	}
	return mcp.NewToolResultText(r.text)
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
	return Tool{Tool: def, args: args, argsOf: reflect.TypeFor[A]()}
}

// read declares a tool that only reads: decode, run, return its text.
func read[A any](name, title, description string, run func(ctx context.Context, c *skimmer.Client, a A) (string, error)) Tool {
	t := declare[A](name, title, description, hints{readOnly: true, idempotent: true})
	args := t.args
	t.run = func(ctx context.Context, c *call) (reply, error) {
		var a A
		if _, err := args.decode(c.raw, &a); err != nil {
			return reply{}, err
		}
		text, err := run(ctx, c.client, a)
		return reply{outcome: answered, text: text}, err
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
	Confirm bool `json:"confirm,omitempty" jsonschema_description:"Omit to preview; true applies it once the user approved."`
}

func (c confirmation) confirmed() bool { return c.Confirm }

// write declares a tool that changes Skimmer. plan works out what the call
// would do, reading but never writing; the server decides, by its confirm
// policy, whether to show the plan or carry it out (confirm.go).
func write[A confirmer](name, title, description string, e effect, plan func(ctx context.Context, w *writeCall, a A) (*Plan, error)) Tool {
	t := declare[A](name, title, description, hints{destructive: e != adds, idempotent: e != adds})
	t.Write, t.effect = true, e
	args := t.args
	t.run = func(ctx context.Context, c *call) (reply, error) {
		var a A
		clean, err := args.decode(c.raw, &a)
		if err != nil {
			return reply{}, err
		}
		delete(clean, "confirm")
		canonical, _ := json.Marshal(clean) // map keys marshal sorted: the same arguments give the same bytes
		digest := sha256.Sum256(canonical)
		return c.server.write(ctx, c, pending{
			tool:      name,
			effect:    e,
			digest:    digest[:],
			confirmed: a.confirmed(),
			plan: func(ctx context.Context, applying bool) (*Plan, error) {
				return plan(ctx, &writeCall{client: c.client, applying: applying, store: c.server.cfg.Store}, a)
			},
		})
	}
	return t
}
