package tools

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type sampleArgs struct {
	ID     string        `json:"id" jsonschema:"required" jsonschema_description:"Customer id."`
	Limit  int           `json:"limit,omitempty" jsonschema:"minimum=1,maximum=50,default=10" jsonschema_description:"How many."`
	Ratio  float64       `json:"ratio,omitempty" jsonschema_description:"A number."`
	On     bool          `json:"on,omitempty" jsonschema_description:"A switch."`
	Kind   string        `json:"kind,omitempty" jsonschema:"enum=Call,enum=Text" jsonschema_description:"A kind."`
	Zip    *string       `json:"zip,omitempty" jsonschema:"maxLength=10" jsonschema_description:"A zip."`
	Tags   []string      `json:"tags,omitempty" jsonschema:"maxItems=3" jsonschema_description:"Tags."`
	Note   Patch[string] `json:"note,omitzero" jsonschema_description:"A note; null clears it."`
	Nested []struct {
		Name string `json:"name" jsonschema:"required" jsonschema_description:"A name."`
	} `json:"nested,omitempty" jsonschema:"maxItems=2" jsonschema_description:"Things."`
}

const sampleID = "e265c9dee47c47c6a73f689b0df467ca"

var sample = func() *argSchema {
	s := reflectArgs[sampleArgs]()
	p, _ := s.root.Properties.Get("id")
	s.ids[p] = "customer"
	return s
}()

func TestDecodeCoercesWhatModelsSend(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, a sampleArgs)
	}{
		{"defaults", `{"id":"` + sampleID + `"}`, func(t *testing.T, a sampleArgs) { assert.Equal(t, 10, a.Limit) }},
		{"number as text", `{"id":"` + sampleID + `","limit":"42","ratio":" 2.5"}`, func(t *testing.T, a sampleArgs) {
			assert.Equal(t, 42, a.Limit)
			assert.Equal(t, 2.5, a.Ratio)
		}},
		{"whole float", `{"id":"` + sampleID + `","limit":7.0}`, func(t *testing.T, a sampleArgs) { assert.Equal(t, 7, a.Limit) }},
		{"leading zeros", `{"id":"` + sampleID + `","limit":"007","ratio":"000"}`, func(t *testing.T, a sampleArgs) { assert.Equal(t, 7, a.Limit) }},
		{"bool as text", `{"id":"` + sampleID + `","on":"TRUE"}`, func(t *testing.T, a sampleArgs) { assert.True(t, a.On) }},
		{"single value for a list", `{"id":"` + sampleID + `","tags":"Weekly"}`, func(t *testing.T, a sampleArgs) { assert.Equal(t, []string{"Weekly"}, a.Tags) }},
		{"list as a JSON string", `{"id":"` + sampleID + `","tags":"[\"a\",\"b\"]"}`, func(t *testing.T, a sampleArgs) { assert.Equal(t, []string{"a", "b"}, a.Tags) }},
		{"zip as a number", `{"id":"` + sampleID + `","zip":78701}`, func(t *testing.T, a sampleArgs) { assert.Equal(t, "78701", *a.Zip) }},
		{"enum in any case", `{"id":"` + sampleID + `","kind":"call"}`, func(t *testing.T, a sampleArgs) { assert.Equal(t, "Call", a.Kind) }},
		{"null for not given", `{"id":"` + sampleID + `","limit":null,"zip":null}`, func(t *testing.T, a sampleArgs) {
			assert.Equal(t, 10, a.Limit)
			assert.Nil(t, a.Zip)
		}},
		{"patch absent", `{"id":"` + sampleID + `"}`, func(t *testing.T, a sampleArgs) { assert.False(t, a.Note.Set) }},
		{"patch null", `{"id":"` + sampleID + `","note":null}`, func(t *testing.T, a sampleArgs) { assert.True(t, a.Note.Set && a.Note.Null) }},
		{"patch value", `{"id":"` + sampleID + `","note":""}`, func(t *testing.T, a sampleArgs) {
			assert.True(t, a.Note.Set)
			assert.False(t, a.Note.Null)
		}},
		{"nested object as a JSON string", `{"id":"` + sampleID + `","nested":"{\"name\":\"x\"}"}`, func(t *testing.T, a sampleArgs) { assert.Equal(t, "x", a.Nested[0].Name) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a sampleArgs
			_, err := sample.decode([]byte(tt.in), &a)
			require.NoError(t, err)
			tt.check(t, a)
		})
	}
}

func TestDecodeRefusesWithTheFix(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`{"id":"` + sampleID + `","limt":5}`, `limt is not an argument of this tool (did you mean "limit"?); it takes id, kind, limit, nested, note, on, ratio, tags, zip`},
		{`{"id":"` + sampleID + `","LIMIT":5}`, `LIMIT is not an argument of this tool (did you mean "limit"?)`},
		{`{"id":"` + sampleID + `","shoe":5}`, `shoe is not an argument of this tool; it takes`},
		{`{}`, "id is required (Customer id)"},
		{`{"id":"x1"}`, `id "x1" is not a Skimmer id`},
		{`{"id":"` + sampleID + `","limit":0}`, "limit must be at least 1, not 0"},
		{`{"id":"` + sampleID + `","limit":2.5}`, "limit must be a whole number, not 2.5"},
		{`{"id":"` + sampleID + `","limit":true}`, "limit must be a number, not true"},
		{`{"id":"` + sampleID + `","ratio":"NaN"}`, `ratio must be a number, not the text "NaN"`},
		{`{"id":"` + sampleID + `","on":"yes"}`, `on must be true or false, not the text "yes"`},
		{`{"id":"` + sampleID + `","kind":"Fax"}`, `kind must be one of Call, Text, not "Fax"`},
		{`{"id":"` + sampleID + `","zip":"12345678901"}`, "zip is 11 characters; the limit is 10"},
		{`{"id":"` + sampleID + `","tags":["a","b","c","d"]}`, "tags has 4 items; at most 3 are allowed"},
		{`{"id":"` + sampleID + `","nested":[{"nme":"x"}]}`, `nested[0].nme is not an argument of this tool (did you mean "name"?)`},
		{`{"id":"` + sampleID + `","nested":[{}]}`, "nested[0].name is required"},
		{`{"id":"` + sampleID + `","zip":{"a":1}}`, "zip must be text, not an object"},
		{`[1,2]`, "arguments must be an object, not a list"},
		{`{"id":`, "the arguments are not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var a sampleArgs
			_, err := sample.decode([]byte(tt.in), &a)
			var ae *argError
			require.ErrorAs(t, err, &ae)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "Invalid arguments: "))
		})
	}
}

func TestDecodeRefusesHugeArgumentsQuickly(t *testing.T) {
	huge := `{"id":"` + strings.Repeat("a", 10<<20) + `"}`
	var a sampleArgs
	_, err := sample.decode([]byte(huge), &a)
	assert.ErrorContains(t, err, "the arguments are 10.0 MB; the most a call may send is 64 KB")

	many := make([]string, 100000)
	for i := range many {
		many[i] = "x"
	}
	raw, _ := json.Marshal(map[string]any{"id": sampleID, "tags": many})
	_, err = sample.decode(raw, &a)
	assert.ErrorContains(t, err, "the most a call may send is 64 KB")

	raw, _ = json.Marshal(map[string]any{"id": sampleID, "tags": many[:2000]})
	_, err = sample.decode(raw, &a)
	assert.ErrorContains(t, err, "tags has 2000 items; at most 3 are allowed")
}

func TestDecodeListsAFewProblemsAtMost(t *testing.T) {
	var a sampleArgs
	_, err := sample.decode([]byte(`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7}`), &a)
	var ae *argError
	require.ErrorAs(t, err, &ae)
	assert.Len(t, ae.problems, maxProblems)
}

// FuzzDecode throws anything at every tool's decoder: it must answer with
// decoded arguments or an argError, never panic, and what it accepts must
// satisfy the schema it published.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `null`, `[]`, `{"id":"` + sampleID + `"}`, `{"limit":"9","tags":"x"}`, `{"filters":[{"field":"LastName","op":"==","value":null}]}`,
		`{"serviceLocations":[{"rate":"12.5"}],"confirm":"true"}`, `{"ids":"` + sampleID + `"}`, `{"text":"smith","page":1e2}`, `"x"`, `{"note":null}`} {
		f.Add(s)
	}
	tools := Catalogue()
	f.Fuzz(func(t *testing.T, raw string) {
		for _, tl := range append(tools, Tool{args: sample}) {
			var m map[string]any
			clean, err := tl.args.decode([]byte(raw), &m)
			if err != nil {
				var ae *argError
				if !errors.As(err, &ae) {
					t.Fatalf("%s: %q gave a %T, not an argError: %v", tl.Name, raw, err, err)
				}
				continue
			}
			for k := range clean {
				if _, ok := tl.args.root.Properties.Get(k); !ok {
					t.Fatalf("%s: accepted unknown argument %q from %q", tl.Name, k, raw)
				}
			}
		}
	})
}
