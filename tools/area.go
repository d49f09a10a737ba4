package tools

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// Area is one part of Skimmer's API as this server offers it (customers,
// activity logs), declared whole in its own file and registered from that
// file's init. Generic code reads everything about an area from here, so
// adding the next one (service locations, work orders) is one file in
// tools/ and touches nothing generic.
type Area struct {
	Name string
	// Instructions is the area's line of the server instructions: what a
	// model cannot learn from the tools' own descriptions.
	Instructions string
	Tools        []Tool
	Resources    []Resource // resource templates a person attaches
	Prompts      []Prompt   // workflows a person starts
	// IDs are the kinds of id the area's records have, each with where a
	// model finds one: the hint for a malformed id.
	IDs []IDKind
	// NotFound says what a 404 means, per operation, in the area's words.
	// An operation no area words falls back to a plain sentence.
	NotFound map[skimmer.Operation]string
	// Mirrors are the argument structs carried into API models by JSON
	// name; a test holds each pair together, so that a renamed tag cannot
	// drop a field silently.
	Mirrors []Mirror
	// Icon is shown beside the area's tools, resources and prompts.
	Icon Icon
	// ContextBudget is the most tokens the area's tool declarations may
	// add to tools/list (o200k, icons excluded): every conversation pays it.
	ContextBudget int
}

// IDKind is one kind of Skimmer id, a GUID as 32 lower-case hex
// characters. Name is what argument schemas mark (idArgs); Hint says where
// a model finds one.
type IDKind struct {
	Name string
	Hint string
}

// Mirror pairs a write tool's argument struct (or a part of one) with the
// API model it becomes, field by field under the same JSON names. ArgsOnly
// names argument fields the model has no field for, ModelOnly model fields
// no argument sets, each with why. Model is nil for a write with no body.
// The confirm argument every write takes is the server's own.
type Mirror struct {
	Args, Model any
	ArgsOnly    map[string]string
	ModelOnly   map[string]string
}

// carry moves values from an argument struct into its mirror model (or
// the other way) by JSON name. A name the target lacks is an error, never
// dropped: a renamed tag must not lose a field silently.
func carry(from, to any) error {
	raw, err := json.Marshal(from)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(to)
}

var registry struct {
	sync.RWMutex
	areas []*Area
}

// register adds an area: called from the init of the area's file.
func register(a *Area) {
	registry.Lock()
	defer registry.Unlock()
	var icons []Icon
	if a.Icon.Src != "" {
		icons = []Icon{a.Icon}
	}
	for i := range a.Tools {
		a.Tools[i].area = a
		a.Tools[i].Icons = icons
	}
	for i := range a.Resources {
		a.Resources[i].Icons = icons
	}
	for i := range a.Prompts {
		a.Prompts[i].Icons = icons
	}
	registry.areas = append(registry.areas, a)
}

// unregister removes an area again; tests that register one use it.
func unregister(a *Area) {
	registry.Lock()
	defer registry.Unlock()
	registry.areas = slices.DeleteFunc(registry.areas, func(x *Area) bool { return x == a })
}

// areas returns the registered areas, in registration order.
func areas() []*Area {
	registry.RLock()
	defer registry.RUnlock()
	return slices.Clone(registry.areas)
}

// Catalogue returns every tool of every area, by name.
func Catalogue() []Tool {
	var out []Tool
	for _, a := range areas() {
		out = append(out, a.Tools...)
	}
	slices.SortFunc(out, func(a, b Tool) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Declared returns the tool of that name, from whichever area declares it,
// whether or not a server's settings offer it.
func Declared(name string) (Tool, bool) {
	for _, a := range areas() {
		if i := slices.IndexFunc(a.Tools, func(t Tool) bool { return t.Name == name }); i >= 0 {
			return a.Tools[i], true
		}
	}
	return Tool{}, false
}

// idHint says where ids of a kind come from.
func idHint(kind string) string {
	for _, a := range areas() {
		for _, k := range a.IDs {
			if k.Name == kind {
				return k.Hint
			}
		}
	}
	return ""
}

// notFoundText is what a 404 from op means: in the words of the area
// whose tool called, else of any area that words op.
func notFoundText(op skimmer.Operation, from *Area) string {
	if from != nil {
		if s, ok := from.NotFound[op]; ok {
			return s
		}
	}
	for _, a := range areas() {
		if s, ok := a.NotFound[op]; ok {
			return s
		}
	}
	return "Skimmer has no record with that id, or it is deleted. Nothing was changed."
}
