package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// schemaDir holds one generated input schema per tool. Review sees every
// change to what models are told; `go generate ./...` (or go test ./tools
// -run TestSchemaFiles -update) rewrites them.
const schemaDir = "../schemas"

// schemaSnapshots are the files schemas/ should hold: one per tool of
// every registered area, key-sorted JSON.
func schemaSnapshots(t *testing.T) map[string][]byte {
	want := map[string][]byte{}
	for _, tl := range Catalogue() {
		var v any
		require.NoError(t, json.Unmarshal(tl.args.raw, &v))
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		require.NoError(t, enc.Encode(v)) // maps marshal with sorted keys
		want[tl.Name+".json"] = buf.Bytes()
	}
	return want
}

func TestSchemaFiles(t *testing.T) {
	want := schemaSnapshots(t)
	if *update {
		require.NoError(t, os.MkdirAll(schemaDir, 0o755))
		old, _ := filepath.Glob(filepath.Join(schemaDir, "*.json"))
		for _, f := range old {
			require.NoError(t, os.Remove(f))
		}
		for name, b := range want {
			require.NoError(t, os.WriteFile(filepath.Join(schemaDir, name), b, 0o644))
		}
	}
	files, err := filepath.Glob(filepath.Join(schemaDir, "*.json"))
	require.NoError(t, err)
	for _, f := range files {
		if _, ok := want[filepath.Base(f)]; !ok {
			t.Errorf("%s belongs to no tool; remove it or run go generate ./...", f)
		}
	}
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join(schemaDir, name))
		if errors.Is(err, os.ErrNotExist) {
			t.Errorf("schemas/%s is missing; run go generate ./...", name)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, string(b), string(got), "schemas/%s is stale; run go generate ./... and review the change", name)
	}
	assert.Len(t, files, len(want), "one file per tool")
}

func TestEveryToolIsDeclaredFully(t *testing.T) {
	tools := Catalogue()
	require.NotEmpty(t, tools)
	for _, tl := range tools {
		t.Run(tl.Name, func(t *testing.T) { checkDeclared(t, tl) })
	}
}

// checkDeclared holds one tool's declaration to the rules: titled and
// described, all four hints explicit and true to what it does, declared
// by an area, and a schema whose every keyword the decoder enforces.
func checkDeclared(t *testing.T, tl Tool) {
	assert.NotEmpty(t, tl.Title)
	assert.NotEmpty(t, tl.Description)
	a := tl.Annotations
	require.NotNil(t, a.ReadOnlyHint, "readOnlyHint is explicit")
	require.NotNil(t, a.DestructiveHint, "destructiveHint is explicit")
	require.NotNil(t, a.IdempotentHint, "idempotentHint is explicit")
	require.NotNil(t, a.OpenWorldHint, "openWorldHint is explicit")
	assert.Equal(t, !tl.Write, *a.ReadOnlyHint)
	if *a.ReadOnlyHint {
		assert.False(t, *a.DestructiveHint)
		assert.True(t, *a.IdempotentHint)
	} else {
		assert.Equal(t, tl.effect != adds, *a.DestructiveHint, "a write is destructive unless it only adds")
		assert.Equal(t, tl.effect != adds, *a.IdempotentHint, "repeating an update or a removal changes nothing more; repeating a create makes another")
	}
	require.NotNil(t, tl.area, "declared by an area")
	assert.Equal(t, tl.Write, tl.args.root.Properties.Len() > 0 && hasProp(tl.args.root, "confirm"), "writes, and only writes, take confirm")
	assert.Equal(t, false, tl.args.root.AdditionalProperties == nil, "additionalProperties: false")
	walkSchema(t, tl.Name, tl.args, tl.args.root)
}

func hasProp(s *jsonschema.Schema, name string) bool {
	_, ok := s.Properties.Get(name)
	return ok
}

// enforced are the schema keywords the decoder checks. A keyword outside
// this list would be a promise to clients that nothing keeps.
var enforced = []string{"Type", "Extras", "Properties", "AdditionalProperties", "Required", "Items", "Enum", "Minimum", "Maximum",
	"MaxLength", "MinLength", "Pattern", "MaxItems", "MinItems", "Description", "Default", "Version", "Definitions", "ID"}

// walkSchema checks every property below n: described (or marked plain:
// a text, number or switch whose name says it all), arrays bounded, and
// only enforced keywords used.
func walkSchema(t *testing.T, path string, s *argSchema, n *jsonschema.Schema) {
	v := reflect.ValueOf(*n)
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.IsExported() && !v.Field(i).IsZero() && !slices.Contains(enforced, f.Name) {
			t.Errorf("%s uses %s, which the decoder does not enforce", path, f.Name)
		}
	}
	for k := range n.Extras {
		if k != "type" {
			t.Errorf("%s has extra keyword %q", path, k)
		}
	}
	if slices.Contains(types(n), "array") {
		assert.NotNil(t, n.MaxItems, "%s: arrays are bounded", path)
		walkSchema(t, path+"[]", s, n.Items)
	}
	if n.Properties == nil {
		return
	}
	for p := n.Properties.Oldest(); p != nil; p = p.Next() {
		if s.plain[p.Value] {
			kind := types(p.Value)
			assert.True(t, len(p.Value.Enum) == 0 && p.Value.Pattern == "" && !slices.Contains(kind, "object") && !slices.Contains(kind, "array"),
				"%s.%s is marked plain, but it is not a plain text, number or switch: describe it", path, p.Key)
		} else {
			assert.NotEmpty(t, strings.TrimSpace(p.Value.Description), "%s.%s has a description", path, p.Key)
		}
		walkSchema(t, path+"."+p.Key, s, p.Value)
	}
}
