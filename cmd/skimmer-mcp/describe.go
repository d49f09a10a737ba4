package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/skimmer-mcp/skimmer-mcp/tools"
)

// describeTool prints one tool for `skimmer-mcp tools NAME`: what it does,
// and its arguments as the schema the server serves says them, in words,
// one line each, in the order the tool declares them.
func describeTool(w io.Writer, t tools.Tool, offered bool) error {
	root, err := parseOrdered(t.RawInputSchema)
	if err != nil {
		return fmt.Errorf("%s: its schema: %w", t.Name, err)
	}
	fmt.Fprintf(w, "%s (%s): %s\n", t.Name, t.Kind(), t.Title)
	fmt.Fprintln(w, t.Description)
	if !offered {
		fmt.Fprintln(w, "Not offered under these settings (--read-only or --tools).")
	}
	props := root.object("properties")
	if props == nil || len(props.keys) == 0 {
		fmt.Fprintln(w, "\nNo arguments.")
		return nil
	}
	fmt.Fprintln(w, "\nArguments:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	describeProps(tw, root, "  ")
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nCall it: skimmer-mcp call %s '{\"%s\": …}' (add --sandbox to try it on the demo account)\n", t.Name, props.keys[0])
	return nil
}

func describeProps(w io.Writer, obj *ordered, indent string) {
	props := obj.object("properties")
	if props == nil {
		return
	}
	required := map[string]bool{}
	if list, ok := obj.values["required"].([]any); ok {
		for _, r := range list {
			if s, ok := r.(string); ok {
				required[s] = true
			}
		}
	}
	for _, name := range props.keys {
		p, _ := props.values[name].(*ordered)
		if p == nil {
			continue
		}
		var what []string
		if required[name] {
			what = append(what, "required")
		}
		what = append(what, kindOf(p))
		if d, ok := p.values["default"]; ok {
			what = append(what, "default "+literal(d))
		}
		line := strings.Join(what, ", ")
		if d, _ := p.values["description"].(string); d != "" {
			line += ". " + d
		}
		fmt.Fprintf(w, "%s%s\t%s\n", indent, name, line)
		if items := p.object("items"); items != nil && items.object("properties") != nil {
			describeProps(w, items, indent+"  ")
		}
	}
}

// kindOf says what a property takes: its type, and the limits and choices
// the schema sets, in words.
func kindOf(p *ordered) string {
	var types []string
	switch t := p.values["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				types = append(types, s)
			}
		}
	}
	words := map[string]string{"string": "text", "integer": "whole number", "number": "number", "boolean": "true or false", "object": "object", "null": "null"}
	var kinds []string
	for _, t := range types {
		switch {
		case t == "array":
			item := "values"
			if items := p.object("items"); items != nil {
				if items.object("properties") != nil {
					item = "objects (below)"
				} else {
					item = plural(kindOf(items))
				}
			}
			list := "list of " + item
			if n, ok := p.values["maxItems"].(json.Number); ok {
				list = "list of at most " + n.String() + " " + item
			}
			kinds = append(kinds, list)
		case words[t] != "":
			kinds = append(kinds, words[t])
		default:
			kinds = append(kinds, t)
		}
	}
	out := strings.Join(kinds, " or ")
	if enum, ok := p.values["enum"].([]any); ok {
		vals := make([]string, len(enum))
		for i, e := range enum {
			vals[i] = fmt.Sprint(e)
		}
		out = "one of " + strings.Join(vals, ", ")
	}
	lo, hasLo := p.values["minimum"].(json.Number)
	hi, hasHi := p.values["maximum"].(json.Number)
	switch {
	case hasLo && hasHi:
		out += " from " + lo.String() + " to " + hi.String()
	case hasLo:
		out += " from " + lo.String()
	case hasHi:
		out += " up to " + hi.String()
	}
	if n, ok := p.values["maxLength"].(json.Number); ok {
		out += " of at most " + n.String() + " characters"
	}
	return out
}

// plural names several of a kind: "texts", "whole numbers".
func plural(kind string) string {
	switch kind {
	case "text", "whole number", "number", "object":
		return kind + "s"
	}
	return kind
}

func literal(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}

// ordered is a JSON object that keeps its keys in the order written, as a
// schema's properties are declared.
type ordered struct {
	keys   []string
	values map[string]any // *ordered, []any, string, json.Number, bool or nil
}

func (o *ordered) object(key string) *ordered {
	v, _ := o.values[key].(*ordered)
	return v
}

func parseOrdered(raw []byte) (*ordered, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	o, ok := v.(*ordered)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	return o, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &ordered{values: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o.keys = append(o.keys, k)
				o.values[k] = v
			}
			_, err := dec.Token() // }
			return o, err
		case '[':
			var list []any
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token() // ]
			return list, err
		}
	}
	return tok, nil
}
