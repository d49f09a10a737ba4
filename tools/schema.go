package tools

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"

	"github.com/invopop/jsonschema"
)

// reflector turns an argument struct into the input schema models see:
// inlined (no $defs or $ref, which some clients do not follow), anonymous,
// required only where a field says jsonschema:"required", and closed to
// unknown properties.
var reflector = jsonschema.Reflector{
	DoNotReference:             true,
	ExpandedStruct:             true,
	RequiredFromJSONSchemaTags: true,
	Anonymous:                  true,
}

// nullableMark is how Patch tells reflect that its property also takes
// null; reflect turns it into "type": [T, "null"] once the field's tags
// (maxLength, pattern) have been applied to T.
const nullableMark = "x-nullable"

// idMark is how idArgs tells reflect that a string is a Skimmer id, and
// of which kind. The mark is taken out of the published schema: the
// decoder checks ids, and a pattern on each of the fourteen id properties
// would cost every conversation some 170 tokens.
const idMark = "x-skimmer-id"

// idArgs marks properties (or the items of array properties) as ids of a
// kind an area declares (Area.IDs), which the decoder checks.
func idArgs(s *jsonschema.Schema, kind string, names ...string) {
	for _, n := range names {
		p, ok := s.Properties.Get(n)
		if !ok {
			panic(fmt.Sprintf("tools: idArgs: no property %q", n))
		}
		if p.Type == "array" {
			p = p.Items
		}
		if p.Extras == nil {
			p.Extras = map[string]any{}
		}
		p.Extras[idMark] = kind
	}
}

// idFormat is a Skimmer id: a GUID as 32 lower-case hex characters.
var idFormat = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ruleMark carries, beside a pattern, the rule in words: an error should
// say "letters, digits, dashes and spaces only", not a regular expression.
// Like idMark it stays out of the published schema.
const ruleMark = "x-rule"

// plainMark, as a property's description, says that its name says all
// there is to say (firstName, gateCode, deleteTags): the published schema
// leaves it undescribed, which saves every conversation a few tokens a
// property, and the schema test accepts it only on a plain text, number or
// switch.
const plainMark = "(plain)"

// argSchema is a tool's input schema, kept both as invopop's tree (which
// the decoder walks) and as the JSON handed to clients.
type argSchema struct {
	root     *jsonschema.Schema
	raw      json.RawMessage
	bare     json.RawMessage // raw without the confirm argument, for a server that applies writes at once
	patterns map[*jsonschema.Schema]*regexp.Regexp
	rules    map[*jsonschema.Schema]string
	ids      map[*jsonschema.Schema]string // id properties, by kind
	plain    map[*jsonschema.Schema]bool   // properties whose names say it all
}

func reflectArgs[A any]() *argSchema {
	root := reflector.Reflect(new(A))
	root.Version = ""
	s := &argSchema{root: root, patterns: map[*jsonschema.Schema]*regexp.Regexp{}, rules: map[*jsonschema.Schema]string{}, ids: map[*jsonschema.Schema]string{}, plain: map[*jsonschema.Schema]bool{}}
	s.prepare(root)
	raw, err := json.Marshal(root)
	if err != nil {
		panic(fmt.Sprintf("tools: schema of %T: %v", *new(A), err))
	}
	s.raw, s.bare = raw, raw
	if _, ok := root.Properties.Get("confirm"); ok {
		props := root.Properties
		root.Properties = jsonschema.NewProperties()
		for p := props.Oldest(); p != nil; p = p.Next() {
			if p.Key != "confirm" {
				root.Properties.Set(p.Key, p.Value)
			}
		}
		if s.bare, err = json.Marshal(root); err != nil {
			panic(fmt.Sprintf("tools: schema of %T: %v", *new(A), err))
		}
		root.Properties = props
	}
	return s
}

// prepare finishes the reflected tree: nullable types, compiled patterns.
func (s *argSchema) prepare(n *jsonschema.Schema) {
	if n == nil {
		return
	}
	if m := n.Extras[nullableMark]; m == true || m == "true" {
		delete(n.Extras, nullableMark)
		n.Extras["type"] = []string{n.Type, "null"}
		n.Type = ""
	}
	if n.Description == plainMark {
		n.Description = ""
		s.plain[n] = true
	}
	if kind, ok := n.Extras[idMark].(string); ok {
		delete(n.Extras, idMark)
		s.ids[n] = kind
	}
	if n.Pattern != "" {
		s.patterns[n] = regexp.MustCompile(n.Pattern)
		s.rules[n], _ = n.Extras[ruleMark].(string)
		delete(n.Extras, ruleMark)
	}
	if n.Properties != nil {
		for p := n.Properties.Oldest(); p != nil; p = p.Next() {
			s.prepare(p.Value)
		}
	}
	s.prepare(n.Items)
}

// types lists the JSON types a schema node admits.
func types(n *jsonschema.Schema) []string {
	if n.Type != "" {
		return []string{n.Type}
	}
	if t, ok := n.Extras["type"].([]string); ok {
		return t
	}
	return nil
}

// Patch is an update argument: absent leaves the field as it is, null
// clears it, a value sets it. encoding/json alone cannot tell absent from
// null.
type Patch[T any] struct {
	Set   bool // present in the arguments, as a value or as null
	Null  bool
	Value T
}

// UnmarshalJSON records that the field was given, and whether as null.
func (p *Patch[T]) UnmarshalJSON(b []byte) error {
	p.Set = true
	if string(b) == "null" {
		p.Null = true
		return nil
	}
	return json.Unmarshal(b, &p.Value)
}

// IsZero makes an absent patch disappear under omitzero.
func (p Patch[T]) IsZero() bool { return !p.Set }

// MarshalJSON writes the patch as a merge patch writes it: null or the value.
func (p Patch[T]) MarshalJSON() ([]byte, error) {
	if p.Null {
		return []byte("null"), nil
	}
	return json.Marshal(p.Value)
}

// JSONSchema is T's schema, marked nullable.
func (Patch[T]) JSONSchema() *jsonschema.Schema {
	s := reflector.ReflectFromType(reflect.TypeFor[T]())
	s.Version = ""
	if s.Extras == nil {
		s.Extras = map[string]any{}
	}
	s.Extras[nullableMark] = true
	return s
}

// apply returns the field's new value given its current one.
func (p Patch[T]) apply(current *T) *T {
	switch {
	case !p.Set:
		return current
	case p.Null:
		return nil
	}
	v := p.Value
	return &v
}
