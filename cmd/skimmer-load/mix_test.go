package main

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const searchAnswer = `6 customers match; page 1 of 1.
e038264b5a98bf736cee2086178e31e6 | Emily Smith | Austin TX | emily.smith92@example.org | (512) 555-0176 | Bi-Weekly, Residential
21d5f8ff8a85ca011c8f438e91ee1d69 | Keisha Smith | Las Vegas NV | (702) 555-0104 | Monthly, Residential`

func TestIDs(t *testing.T) {
	assert.Equal(t, []string{"e038264b5a98bf736cee2086178e31e6", "21d5f8ff8a85ca011c8f438e91ee1d69"}, ids(searchAnswer))
	assert.Empty(t, ids("No customers match. Try fewer or shorter words."))
	assert.Empty(t, ids("Emily Smith | e038264b5a98bf736cee2086178e31e6"), "an id elsewhere on a line is not a list entry")
}

func TestChecks(t *testing.T) {
	for _, tt := range []struct {
		name  string
		check func(string) error
		text  string
		ok    bool
	}{
		{"a search", expectMatch(searchHead), searchAnswer, true},
		{"one match", expectMatch(searchHead), "1 customer matches; page 1 of 1.", true},
		{"a search that lost its header", expectMatch(searchHead), "e038264b5a98bf736cee2086178e31e6 | Emily", false},
		{"activities", expectMatch(entriesHead), "Entries 1-4 of 4, newest first; times UTC.", true},
		{"no activities", expectMatch(entriesHead), "No entries (the log has 0 in all).", true},
		{"a preview", expectPrefix(previewHead), "PREVIEW: nothing has been changed.\nWould update customer", true},
		{"a preview that wrote", expectPrefix(previewHead), "Updated customer Emily Smith.", false},
		{"a logged call", expectMatch(entryID), `Logged Call "Load check" on Emily Smith; entry id 7beb12031a03578815a5c7a47d2cb9b8.`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check(tt.text)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, errUnexpected)
			}
		})
	}
	err := expectPrefix("X")(strings.Repeat("y", 1000))
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 300, "a long answer is clipped in the message")
}

// The mix is weighted as documented: over many picks each op's share is
// its weight, to within a point.
func TestPickFollowsTheWeights(t *testing.T) {
	s := &session{rng: rand.New(rand.NewPCG(1, 0))}
	total := 0
	for _, o := range theMix {
		total += o.weight
	}
	require.Equal(t, 100, total, "weights are percentages")
	const n = 100000
	got := map[string]int{}
	for range n {
		got[s.pick(theMix, total).name]++
	}
	for _, o := range theMix {
		assert.InDelta(t, o.weight, 100*float64(got[o.name])/n, 1, o.name)
	}
}

func TestCustomerPrefersTheLastSearch(t *testing.T) {
	s := &session{rng: rand.New(rand.NewPCG(1, 0)), pool: []string{"pool"}}
	assert.Equal(t, "pool", s.customer(), "before any search: the pool")
	s.found([]string{"a", "b"})
	s.found(nil) // a search that found no one keeps the last list
	counts := map[string]int{}
	for range 1000 {
		counts[s.customer()]++
	}
	assert.Greater(t, counts["a"]+counts["b"], 600)
	assert.Positive(t, counts["pool"], "now and then, anyone")
}

func TestRecorderKeepsTheFirstErrors(t *testing.T) {
	r := newRecorder()
	for range 20 {
		r.fail("get_customer", kindTool, errors.New("not found"))
	}
	assert.Equal(t, 20, r.errs["get_customer"][kindTool])
	assert.Len(t, r.first, firstErrors)
}
