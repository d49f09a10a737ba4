package skimmer

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func bitsOf(names ...string) uint64 {
	var b uint64
	for _, n := range names {
		b |= searchKeyBits[strings.ToLower(n)]
	}
	return b
}

// TestCarriedFields: which fields each row of an answer carried, at its top
// level only, in any case, in every envelope.
func TestCarriedFields(t *testing.T) {
	rows := `[{"id":"a","lastName":null,"tags":[{"id":"t","name":"x"}],"notes":"{\"email4\": 1}"},
	          { "FIRSTNAME" : "b" , "serviceLocations":[{"city":"Austin","deleted":false}], "deleted": true },
	          {}]`
	want := []uint64{bitsOf("Id", "LastName"), bitsOf("FirstName", "Deleted"), 0}
	for _, body := range []string{rows, `{"items":` + rows + `,"totalCount":3}`, `{"totalCount":3, "Data" : ` + rows + `}`, `{"results":` + rows + `}`} {
		var res SearchResult
		require.NoError(t, json.Unmarshal([]byte(body), &res), body)
		assert.Equal(t, want, res.carried, body)
	}
}

// FuzzCarriedAgreesWithEncodingJSON: the one-pass scanner finds the same
// top-level keys as encoding/json does.
func FuzzCarriedAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{`[{"id":"a"}]`, `[{"Email4":null,"x":[{"id":1}]},{"deleted":"\"}"}]`, `[1,"x",{"isinactive":true}]`, `[{"a\"b":{"id":"}"}}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var items []json.RawMessage
		if json.Unmarshal([]byte(s), &items) != nil {
			return
		}
		want := make([]uint64, len(items))
		for i, item := range items {
			var obj map[string]json.RawMessage
			if json.Unmarshal(item, &obj) != nil {
				continue
			}
			for k := range obj {
				if !strings.ContainsAny(k, `\"`) && json.Valid([]byte(`"`+k+`"`)) {
					want[i] |= searchKeyBits[strings.ToLower(k)]
				}
			}
		}
		got, end := carried([]byte(s), 0, len(items))
		if end != len(strings.TrimRight(s, " \t\r\n")) {
			t.Fatalf("%q: the array ends at %d, not %d", s, end, len(s))
		}
		for i := range want {
			// A key written with escapes, or matched by Unicode folding (a
			// Kelvin sign for k), is not recognised by the scanner: it may
			// only carry less, never more.
			plain := !strings.Contains(s, `\`) && strings.IndexFunc(s, func(r rune) bool { return r > 0x7f }) < 0
			if got[i]&^want[i] != 0 || (plain && got[i] != want[i]) {
				t.Fatalf("%q: row %d carried %b, encoding/json finds %b", s, i, got[i], want[i])
			}
		}
	})
}
