package skimmer

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A key with every character that some encoding changes.
const oddKey = `sk_live/Ab+9=&"q<x>'~\z`

// dotnetJSON escapes the way System.Text.Json's default encoder does:
// HTML-sensitive characters and '+' as upper-case \uXXXX.
func dotnetJSON(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '<', '>', '&', '\'', '"', '+', '`':
			b.WriteString(`\u00` + strings.ToUpper(hexByte(byte(c))))
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func hexByte(c byte) string {
	return string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])
}

// echoes are the forms in which a server could repeat key.
func echoes(key string) map[string]string {
	goJSON, _ := json.Marshal(key)
	var everyByte strings.Builder
	for _, c := range []byte(key) {
		everyByte.WriteString("%" + strings.ToUpper(hexByte(c)))
	}
	forms := map[string]string{
		"raw":                   key,
		"query escaped":         url.QueryEscape(key),
		"path escaped":          url.PathEscape(key),
		"every byte escaped":    everyByte.String(),
		"lower-case escapes":    regexp.MustCompile(`%[0-9A-F]{2}`).ReplaceAllStringFunc(url.QueryEscape(key), strings.ToLower),
		"Go JSON":               strings.Trim(string(goJSON), `"`),
		".NET JSON":             dotnetJSON(key),
		"JSON with \\/":         strings.ReplaceAll(strings.Trim(string(goJSON), `"`), "/", `\/`),
		"HTML":                  html.EscapeString(key),
		"base64":                base64.StdEncoding.EncodeToString([]byte(key)),
		"base64, no padding":    base64.RawStdEncoding.EncodeToString([]byte(key)),
		"base64url":             base64.URLEncoding.EncodeToString([]byte(key)),
		"base64url, no padding": base64.RawURLEncoding.EncodeToString([]byte(key)),
	}
	// Inside a longer encoded text, at each of the three alignments.
	for _, prefix := range []string{"u:", "us:", "use:"} {
		forms["base64 of "+prefix+"key:x"] = base64.StdEncoding.EncodeToString([]byte(prefix + key + ":x"))
		forms["base64url of "+prefix+"key"] = base64.RawURLEncoding.EncodeToString([]byte(prefix + key))
	}
	return forms
}

func TestScrubberRemovesEveryEcho(t *testing.T) {
	for _, key := range []string{oddKey, "sk_live_RECOGNISABLE_9f8e7d6c5b4a", "abcdefghijkl"} {
		sc := newScrubber(APIKey(key))
		require.NotNil(t, sc, key)
		for name, form := range echoes(key) {
			text := "before " + form + " after"
			got := sc.clean(text)
			assert.NotContains(t, got, form, "%s: %s", key, name)
			assert.True(t, strings.HasPrefix(got, "before ") && strings.HasSuffix(got, " after"), "%s: %s: the text around it stays: %q", key, name, got)
			assert.Contains(t, got, redacted, "%s: %s", key, name)
			if !strings.HasPrefix(name, "base64") {
				assert.Equal(t, "before "+redacted+" after", got, "%s: %s", key, name)
			}
		}
	}
}

// TestScrubberLeavesOtherTextAlone: near misses of the key, and the usual
// contents of error messages, come out exactly as they went in.
func TestScrubberLeavesOtherTextAlone(t *testing.T) {
	sc := newScrubber(oddKey)
	near := []string{
		oddKey[:len(oddKey)-1],                  // all but its last character
		oddKey[1:],                              // all but its first
		strings.Replace(oddKey, "A", "a", 1),    // another case
		strings.Replace(oddKey, "9", "8", 1),    // one character changed
		url.QueryEscape(oddKey[:len(oddKey)-2]), // a prefix, escaped
		base64.StdEncoding.EncodeToString([]byte(oddKey[:len(oddKey)-3])),
		`{"title":"One or more validation errors occurred.","errors":{"FirstName":["The FirstName field is required."]}}`,
		"https://publicapi.getskimmer.com/Customers/Search?filters=LastName%40%3D%2Asmith&page=1 \\u002B &amp; &#43;",
		"e038264b5a98bf736cee2086178e31e6 | Emily Smith | Austin TX | emily.smith92@example.org",
		"c2tfbGl2ZS9BYis5PSYicTx4PidAXHo= and [redacted]",
	}
	for _, text := range near {
		assert.Equal(t, text, sc.clean(text))
	}
	assert.Equal(t, "x", (*scrubber)(nil).clean("x"), "no scrubber, no change")
}

func TestCheckAPIKey(t *testing.T) {
	for _, tt := range []struct {
		key  string
		want string
	}{
		{"sk_live_0123456789", ""},
		{oddKey, ""},
		{"abcdefghijkl", ""},
		{"abcdefghijk", "the key is 11 characters long; keys shorter than 12 are refused"},
		{"k-1234", "the key is 6 characters long"},
		{"has a space in it", "not printable ASCII"},
		{"line\nbreak-0123456", "not printable ASCII"},
		{"non-ascii-ключ-0123", "not printable ASCII"},
	} {
		err := CheckAPIKey(tt.key)
		if tt.want == "" {
			assert.NoError(t, err, tt.key)
			continue
		}
		require.Error(t, err, tt.key)
		assert.Contains(t, err.Error(), tt.want)
		assert.NotContains(t, err.Error(), tt.key, "the error never holds the key")
		assert.Nil(t, newScrubber(APIKey(tt.key)), "no scrubber for a refused key")
	}
}
