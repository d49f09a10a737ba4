package tools

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// TestTagParity holds each write tool's arguments and the API model they
// become together, field by field: a tag renamed on one side (mobileLabel2
// in customerFields, say) would show in the preview and be dropped from the
// request, with every other test green. Every write tool's arguments must
// be a declared mirror.
func TestTagParity(t *testing.T) {
	for _, a := range areas() {
		for _, tl := range a.Tools {
			if tl.Write && !slices.ContainsFunc(a.Mirrors, func(m Mirror) bool { return reflect.TypeOf(m.Args) == tl.argsOf }) {
				t.Errorf("%s: its arguments (%s) are not among the %s area's Mirrors", tl.Name, tl.argsOf, a.Name)
			}
		}
		for _, m := range a.Mirrors {
			for _, problem := range mirrorProblems(m, a.Mirrors) {
				t.Errorf("%s area, %T → %T: %s", a.Name, m.Args, m.Model, problem)
			}
		}
	}
}

// TestTagParityCatchesARename runs the check above on create_customer's
// arguments with one tag renamed, as the review that found the hole did.
func TestTagParityCatchesARename(t *testing.T) {
	var fields []reflect.StructField
	for name, typ := range jsonFields(reflect.TypeFor[createCustomerArgs]()) {
		if name == "mobileLabel2" {
			name = "mobileLabel2x"
		}
		fields = append(fields, reflect.StructField{Name: fmt.Sprintf("F%d", len(fields)), Type: typ, Tag: reflect.StructTag(`json:"` + name + `"`)})
	}
	m := customers.Mirrors[0]
	m.Args = reflect.New(reflect.StructOf(fields)).Elem().Interface()
	assert.Equal(t, []string{
		`argument "mobileLabel2x" has no field of that name in the model`,
		`the model's field "mobileLabel2" has no argument of that name`,
	}, mirrorProblems(m, customers.Mirrors))
}

// mirrorProblems lists where a mirror's two sides disagree.
func mirrorProblems(m Mirror, all []Mirror) []string {
	args := jsonFields(reflect.TypeOf(m.Args))
	model := map[string]reflect.Type{}
	if m.Model != nil {
		model = jsonFields(reflect.TypeOf(m.Model))
	}
	var out []string
	for name, at := range args {
		if name == "confirm" || m.ArgsOnly[name] != "" {
			continue
		}
		mt, ok := model[name]
		if !ok {
			out = append(out, fmt.Sprintf("argument %q has no field of that name in the model", name))
			continue
		}
		if !compatible(at, mt, all) {
			out = append(out, fmt.Sprintf("argument %q is %s, the model's field %s", name, at, mt))
		}
	}
	for name := range model {
		if _, ok := args[name]; !ok && m.ModelOnly[name] == "" {
			out = append(out, fmt.Sprintf("the model's field %q has no argument of that name", name))
		}
	}
	for name := range m.ArgsOnly {
		if _, ok := args[name]; !ok {
			out = append(out, fmt.Sprintf("ArgsOnly names %q, which is not an argument", name))
		}
	}
	for name := range m.ModelOnly {
		if _, ok := model[name]; !ok {
			out = append(out, fmt.Sprintf("ModelOnly names %q, which is not a field of the model", name))
		}
	}
	slices.Sort(out)
	return out
}

// jsonFields maps a struct's JSON names to their types, embedded structs
// flattened as encoding/json flattens them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// compatible: the same kind of value once pointers and Patch are looked
// through; lists of lists alike; structs only as a declared mirror.
func compatible(a, b reflect.Type, mirrors []Mirror) bool {
	a, b = bare(a), bare(b)
	switch {
	case a.Kind() == reflect.Slice && b.Kind() == reflect.Slice:
		return compatible(a.Elem(), b.Elem(), mirrors)
	case a.Kind() == reflect.Struct && b.Kind() == reflect.Struct:
		return slices.ContainsFunc(mirrors, func(m Mirror) bool { return reflect.TypeOf(m.Args) == a && reflect.TypeOf(m.Model) == b })
	}
	return a.Kind() == b.Kind() && a.Kind() != reflect.Struct
}

func bare(t reflect.Type) reflect.Type {
	for {
		switch {
		case t.Kind() == reflect.Pointer:
			t = t.Elem()
		case t.Kind() == reflect.Struct && strings.HasPrefix(t.Name(), "Patch["):
			f, _ := t.FieldByName("Value")
			t = f.Type
		default:
			return t
		}
	}
}

// TestCarryRefusesWhatTheModelLacks: the runtime guard behind the test
// above. A field the model has no name for is an error, never dropped.
func TestCarryRefusesWhatTheModelLacks(t *testing.T) {
	var into skimmer.CustomerFields
	err := carry(struct {
		MobileLabel2x string `json:"mobileLabel2x"`
	}{"Wife"}, &into)
	assert.ErrorContains(t, err, `unknown field "mobileLabel2x"`)
	label := "Wife"
	assert.NoError(t, carry(customerFields[*string]{MobileLabel2: &label}, &into))
	assert.Equal(t, "Wife", *into.MobileLabel2)
}
