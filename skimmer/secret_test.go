package skimmer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

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
		{"abcdefghijk", "the key is 11 characters long; Skimmer keys are longer: paste the whole key"},
		{"k-1234", "the key is 6 characters long"},
		{"has a space in it", "has a space or a line break in it"},
		{"line\nbreak-0123456", "has a space or a line break in it"},
		{"tab\tbetween-0123456", "has a space or a line break in it"},
		{"non-ascii-ключ-0123", "a character no Skimmer key has"},
		{"“quoted-0123456789”", "a character no Skimmer key has"},
		{"nul\x00inside-0123456", "a character no Skimmer key has"},
	} {
		err := CheckAPIKey(tt.key)
		if tt.want == "" {
			assert.NoError(t, err, tt.key)
			continue
		}
		require.Error(t, err, tt.key)
		assert.Contains(t, err.Error(), tt.want)
		assert.NotContains(t, err.Error(), tt.key, "the error never holds the key")
		var ke *KeyError
		require.ErrorAs(t, err, &ke, "callers tell the problems apart by type")
		assert.NotEmpty(t, ke.Reason())
		assert.Nil(t, newScrubber(APIKey(tt.key)), "no scrubber for a refused key")
	}
}

// regexpScrubber is the scrubber as a regular expression: every form of
// every character of the key, leftmost first. It was the implementation
// until compiling it per key proved too slow for a client made per call;
// it stays here as the reference the hand-written matcher must agree with.
func regexpScrubber(key string) func(string) string {
	var re strings.Builder
	for _, c := range []byte(key) {
		hex := hexByte(c)
		alts := []string{
			regexp.QuoteMeta(string(c)),
			"%(?i:" + hex + ")",
			`\\u(?i:00` + hex + ")",
			"&#0*" + strconv.Itoa(int(c)) + ";",
			"&#[xX]0*(?i:" + hex + ");",
		}
		switch c {
		case '"', '\\', '/':
			alts = append(alts, regexp.QuoteMeta(`\`+string(c)))
		}
		if names, ok := map[byte]string{'&': "&amp;", '"': "&quot;", '\'': "&(?:#39|apos);", '<': "&lt;", '>': "&gt;"}[c]; ok {
			alts = append(alts, names)
		}
		re.WriteString("(?:" + strings.Join(alts, "|") + ")")
	}
	forms := regexp.MustCompile(re.String())
	b64 := newScrubber(APIKey(key)).b64
	return func(text string) string {
		text = forms.ReplaceAllLiteralString(text, redacted)
		for _, f := range b64 {
			text = strings.ReplaceAll(text, f, redacted)
		}
		return text
	}
}

// spelling writes one character in a form chosen by r, as a server might.
func spelling(r *rand.Rand, c byte) string {
	h := hexByte(c)
	if r.IntN(2) == 0 {
		h = strings.ToUpper(h)
	}
	zeros := strings.Repeat("0", r.IntN(3))
	switch r.IntN(9) {
	case 0:
		return "%" + h
	case 1:
		return `\u00` + h
	case 2:
		return "&#" + zeros + strconv.Itoa(int(c)) + ";"
	case 3:
		return "&#x" + zeros + h + ";"
	case 4:
		return `\` + string(c)
	case 5:
		return html.EscapeString(string(c))
	}
	return string(c)
}

// TestScrubberAgreesWithTheRegexp: on texts built to sit near the key (its
// characters in every spelling, cut short, run together, among escapes that
// lead nowhere), the matcher removes exactly what the regular expression
// would, for keys full of the characters whose forms overlap.
func TestScrubberAgreesWithTheRegexp(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := []string{oddKey, "sk_live_RECOGNISABLE_9f8e7d6c5b4a", "%%%%&&&&\\\\\\\\", "&#38;&amp;%25\\u0026", "abcdefghijkl"}
	const alphabet = "!\"#$%&'()*+,-./0123456789:;<=>?@ABCxyz[\\]^_`{|}~"
	for range 20 {
		k := make([]byte, 12+r.IntN(20))
		for i := range k {
			k[i] = alphabet[r.IntN(len(alphabet))]
		}
		keys = append(keys, string(k))
	}
	junk := []string{"%", "%2", "&#", "&#x", "&#0", "\\u00", "\\", "&amp", ";", " ", "x", "0"}
	for _, key := range keys {
		sc, want := newScrubber(APIKey(key)), regexpScrubber(key)
		for range 400 {
			var b strings.Builder
			for range 1 + r.IntN(4) {
				switch r.IntN(4) {
				case 0: // the key, or most of it, each character spelt its own way
					n := len(key)
					if r.IntN(3) == 0 {
						n = r.IntN(len(key))
					}
					for _, c := range []byte(key[:n]) {
						b.WriteString(spelling(r, c))
					}
				case 1:
					b.WriteString(junk[r.IntN(len(junk))])
				case 2:
					b.WriteByte(alphabet[r.IntN(len(alphabet))])
				case 3:
					b.WriteString(spelling(r, key[r.IntN(len(key))]))
				}
			}
			text := b.String()
			require.Equal(t, want(text), sc.clean(text), "key %q, text %q", key, text)
		}
	}
}

// FuzzScrubberAgreesWithTheRegexp: the same, for texts and keys the fuzzer
// makes.
func FuzzScrubberAgreesWithTheRegexp(f *testing.F) {
	f.Add(oddKey, "before "+url.QueryEscape(oddKey)+" after")
	f.Add("%%%%&&&&\\\\\\\\", "%25%%25&amp;&&#38;&\\\\\\u005c\\")
	f.Add("abcdefghijkl", "&#097;&#x62;%63\\u0064efghijkl")
	f.Fuzz(func(t *testing.T, key, text string) {
		if CheckAPIKey(key) != nil {
			return
		}
		if got, want := newScrubber(APIKey(key)).clean(text), regexpScrubber(key)(text); got != want {
			t.Fatalf("key %q, text %q: got %q, want %q", key, text, got, want)
		}
	})
}

// TestFailuresDoNotRebuildTheScrubber: what keeps the key out of error
// texts is made once per client key, not on every failed attempt, nor for a
// debug line nobody writes: a storm of 503s costs the requests, not a
// scrubber each. With a long key a build is costly enough to see in the
// bytes a call allocates: a failing read of five attempts, on a client that
// has failed before, allocates less over the same call with a short key
// than one build would (ten builds, before). A copy with another key
// scrubs its own key.
func TestFailuresDoNotRebuildTheScrubber(t *testing.T) {
	key := "sk_live_" + strings.Repeat("0123456789abcdefghijklmnopqrstuv", 64) // 2,056 characters
	other := strings.Replace(key, "sk_live_", "sk_live_B", 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		said := "busy"
		if strings.HasSuffix(r.URL.Path, "/echo") {
			said += " serving key " + r.Header.Get("skimmer-api-key")
		}
		_, _ = w.Write([]byte(`{"title":"Service Unavailable","detail":"` + said + `"}`))
	}))
	defer srv.Close()
	client := func(key string) *Client {
		c, err := New(Options{BaseURL: srv.URL, APIKey: key, Retry: RetryPolicy{MaxAttempts: 5, Sleep: func(context.Context, time.Duration) error { return nil }}})
		require.NoError(t, err)
		return c
	}
	fail := func(c *Client, id string) error {
		_, err := c.GetCustomer(context.Background(), id, false)
		require.ErrorIs(t, err, ErrUnavailable)
		return err
	}
	bytes := func(n int, f func()) int64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			f()
		}
		runtime.ReadMemStats(&after)
		return int64(after.TotalAlloc-before.TotalAlloc) / int64(n)
	}
	long, short := client(key), client("sk_live_0123456789")
	_, _ = fail(long, "quiet"), fail(short, "quiet")
	build := bytes(20, func() { newScrubber(APIKey(key)) })
	extra := bytes(20, func() { _ = fail(long, "quiet") }) - bytes(20, func() { _ = fail(short, "quiet") })
	t.Logf("a failing call with a long key allocates %d bytes more than with a short one; a build, %d", extra, build)
	assert.Less(t, extra, build, "a failing call with a long key (%d bytes more than with a short one) builds no scrubber (%d bytes each)", extra, build)

	err := fail(long, "echo")
	assert.NotContains(t, err.Error(), key)
	assert.Contains(t, err.Error(), "busy serving key [redacted]")
	err = fail(long.WithAPIKey(other), "echo")
	assert.NotContains(t, err.Error(), other, "a copy made after the first scrubber has its own")
	assert.Contains(t, err.Error(), "busy serving key [redacted]")
}

// BenchmarkScrubber: building a scrubber for a key of 40, and cleaning a
// ProblemDetails body with it; "regexp" is the reference implementation.
//
//	go test ./skimmer -run '^$' -bench Scrubber -benchmem
func BenchmarkScrubber(b *testing.B) {
	const key = "sk_live_0123456789abcdefghijklmnopqrstuv"
	const body = `{"title":"Service Unavailable","detail":"The service is busy; try again later.","traceId":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			newScrubber(key)
		}
	})
	b.Run("clean", func(b *testing.B) {
		sc := newScrubber(key)
		b.ReportAllocs()
		for b.Loop() {
			sc.clean(body)
		}
	})
	b.Run("regexp build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			regexpScrubber(key)
		}
	})
	b.Run("regexp clean", func(b *testing.B) {
		clean := regexpScrubber(key)
		b.ReportAllocs()
		for b.Loop() {
			clean(body)
		}
	})
}
