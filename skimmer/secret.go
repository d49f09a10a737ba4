package skimmer

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
)

// APIKey is a Skimmer API key. It prints as [redacted] through every fmt
// verb and slog, so a key that slips into a log call stays secret.
type APIKey string

const redacted = "[redacted]"

func (APIKey) String() string               { return redacted }
func (APIKey) GoString() string             { return redacted }
func (APIKey) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (APIKey) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// KeyHash is an API key's one name wherever something must tell callers
// apart without holding their keys: a rate budget, in memory or in a
// shared store; a confirmation bound to the caller who was asked; a
// double-submit guard; the sessions a hosted server binds to a key. It is
// a SHA-256 digest, domain-separated so that it is not the plain digest
// another system may keep of the same key, and the same in every process.
// A Client makes it once, with its key (Client.KeyHash).
type KeyHash [32]byte

// HashKey returns the KeyHash of key.
func HashKey(key string) KeyHash { return sha256.Sum256([]byte("skimmer-mcp key id\x00" + key)) }

// String is the name in hex.
func (k KeyHash) String() string { return hex.EncodeToString(k[:]) }

// MinKeyLength is the shortest key CheckAPIKey accepts.
const MinKeyLength = 12

// CheckAPIKey is the one rule for a key the server will use: printable
// ASCII without spaces, at least MinKeyLength long. A shorter key cannot be
// told apart from ordinary text, so it could not be scrubbed from what
// Skimmer says (an error echoing it) without garbling the rest; such a key
// is refused where it comes in, rather than used and leaked. The error is a
// *KeyError, and never holds the key.
func CheckAPIKey(key string) error {
	for _, c := range key {
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return &KeyError{Problem: KeyHasSpace, Length: len(key)}
		case c < ' ' || c > '~':
			return &KeyError{Problem: KeyHasOddCharacter, Length: len(key)}
		}
	}
	if len(key) < MinKeyLength {
		return &KeyError{Problem: KeyTooShort, Length: len(key)}
	}
	return nil
}

// KeyProblem is why CheckAPIKey refused a key.
type KeyProblem uint8

const (
	KeyTooShort        KeyProblem = iota + 1 // shorter than MinKeyLength
	KeyHasSpace                              // a space, tab or line break inside it
	KeyHasOddCharacter                       // a character no key has: not printable ASCII
)

// KeyError is a key CheckAPIKey refused, and why: what was pasted is not
// the whole key, or not only the key. Every sentence it makes says what to
// do, in the person's terms, and none holds the key.
type KeyError struct {
	Problem KeyProblem
	Length  int // in bytes, as Skimmer would receive it
}

func (e *KeyError) Error() string { return e.Of("the key") }

// Of is the sentence with the key called what the reader knows it as,
// e.g. "the Skimmer API key you sent".
func (e *KeyError) Of(key string) string {
	switch e.Problem {
	case KeyTooShort:
		n := fmt.Sprintf("%d characters", e.Length)
		if e.Length == 1 {
			n = "1 character"
		}
		return key + " is " + n + " long; Skimmer keys are longer: paste the whole key"
	case KeyHasSpace:
		return key + " has a space or a line break in it; Skimmer keys have none: paste the key exactly as Skimmer gave it"
	default:
		return key + " has a character no Skimmer key has (a curly quote, an accented letter or an invisible character): paste the key exactly as Skimmer gave it"
	}
}

// Reason names the problem in a few words, for a log line.
func (e *KeyError) Reason() string {
	switch e.Problem {
	case KeyTooShort:
		return "key too short"
	case KeyHasSpace:
		return "key has a space or line break"
	default:
		return "key has a character no key has"
	}
}

// scrubber removes one key from text in every form a server could echo it
// in: as is, URL-encoded (query or path escaping, or any character
// percent-encoded), JSON-escaped (short escapes or \uXXXX in either case,
// as Go and .NET write them), HTML-escaped, and base64 (standard and URL
// alphabets, padded or not, and at any of the three alignments it can have
// inside a longer encoded text). Text that is not the key is left exactly as
// it was.
//
// It matches the key character by character, each character in any of its
// forms, rather than through a regular expression: compiling one that spells
// every form of every character cost some 250 µs and 2,000 allocations per
// key, and a hosted server makes a client, and so a scrubber, per call.
// Matches are found as the expression would find them: leftmost first, each
// character's forms tried in the order listed in form, and with
// backtracking, so that a key holding '%', '\\' or '&' still matches where
// one of its characters' forms begins like another's.
type scrubber struct {
	key []byte
	b64 []string // base64 forms, longest first
}

// newScrubber returns nil for a key CheckAPIKey refuses: scrubbing it would
// garble text, and the commands never let one in.
func newScrubber(key APIKey) *scrubber {
	if CheckAPIKey(string(key)) != nil {
		return nil
	}
	s := &scrubber{key: []byte(key)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		s.b64 = append(s.b64, enc.EncodeToString([]byte(key)), enc.WithPadding(base64.NoPadding).EncodeToString([]byte(key)))
		// Inside a longer encoding the key starts 0, 1 or 2 bytes into a
		// 3-byte group; keep the characters that only its bytes decide.
		for off := range 3 {
			full := enc.EncodeToString(append(make([]byte, off), key...))
			bits := 8 * off
			s.b64 = append(s.b64, full[(bits+5)/6:(bits+8*len(key))/6])
		}
	}
	slices.SortFunc(s.b64, func(a, b string) int { return len(b) - len(a) })
	s.b64 = slices.Compact(s.b64)
	return s
}

// clean returns text without the key. A nil scrubber changes nothing.
func (s *scrubber) clean(text string) string {
	if s == nil || text == "" {
		return text
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(text); i++ {
		if !s.mayStart(text[i]) {
			continue
		}
		if end := s.match(text, i, 0); end > i {
			if b.Len() == 0 {
				b.Grow(len(text))
			}
			b.WriteString(text[last:i])
			b.WriteString(redacted)
			last, i = end, end-1
		}
	}
	if last > 0 {
		b.WriteString(text[last:])
		text = b.String()
	}
	for _, f := range s.b64 {
		text = strings.ReplaceAll(text, f, redacted)
	}
	return text
}

// mayStart reports whether a form of the key's first character can begin
// with c: the character itself, or the start of an escape.
func (s *scrubber) mayStart(c byte) bool {
	return c == s.key[0] || c == '%' || c == '\\' || c == '&'
}

// match returns where the key, from its k-th character on, ends when it
// starts at text[i], or -1.
func (s *scrubber) match(text string, i, k int) int {
	if k == len(s.key) {
		return i
	}
	for f := range numForms {
		if n := form(f, text[i:], s.key[k]); n > 0 {
			if end := s.match(text, i+n, k+1); end >= 0 {
				return end
			}
		}
	}
	return -1
}

// The forms a character can take, in the order they are tried.
const (
	formRaw      = iota // c
	formURL             // %hh, any case
	formJSONU           // \u00hh, hh in any case
	formHTMLDec         // &#0*ddd;
	formHTMLHex         // &#x0*hh; or &#X…, hh in any case
	formJSONEsc         // \c, for ", \ and /
	formHTMLName        // &amp; &quot; &#39; or &apos; &lt; &gt;
	numForms
)

// form returns how many bytes at the start of t are c in form f, or 0.
func form(f int, t string, c byte) int {
	switch f {
	case formRaw:
		if len(t) > 0 && t[0] == c {
			return 1
		}
	case formURL:
		if len(t) >= 3 && t[0] == '%' && isHex(t[1:3], c) {
			return 3
		}
	case formJSONU:
		if len(t) >= 6 && t[0] == '\\' && t[1] == 'u' && t[2] == '0' && t[3] == '0' && isHex(t[4:6], c) {
			return 6
		}
	case formHTMLDec:
		return entity(t, "&#", decimal[c], false)
	case formHTMLHex:
		if len(t) >= 3 && t[0] == '&' && t[1] == '#' && (t[2] == 'x' || t[2] == 'X') {
			return entity(t, t[:3], hexadecimal[c], true)
		}
	case formJSONEsc:
		if (c == '"' || c == '\\' || c == '/') && len(t) >= 2 && t[0] == '\\' && t[1] == c {
			return 2
		}
	case formHTMLName:
		for _, name := range htmlNamed[c] {
			if strings.HasPrefix(t, name) {
				return len(name)
			}
		}
	}
	return 0
}

// entity returns the length of prefix, any zeros, digits and ';' at the
// start of t (digits compared in any case when fold), or 0.
func entity(t, prefix, digits string, fold bool) int {
	if !strings.HasPrefix(t, prefix) {
		return 0
	}
	i := len(prefix)
	for i < len(t) && t[i] == '0' {
		i++
	}
	if len(t) < i+len(digits)+1 || t[i+len(digits)] != ';' {
		return 0
	}
	if got := t[i : i+len(digits)]; got != digits && !(fold && strings.EqualFold(got, digits)) {
		return 0
	}
	return i + len(digits) + 1
}

// isHex reports whether h is c's two hex digits, in any case.
func isHex(h string, c byte) bool { return strings.EqualFold(h, hexadecimal[c]) }

// decimal and hexadecimal spell each byte, made once so that matching
// allocates nothing.
var decimal, hexadecimal = func() (dec, hex [256]string) {
	for c := range 256 {
		dec[c], hex[c] = strconv.Itoa(c), fmt.Sprintf("%02x", c)
	}
	return dec, hex
}()

// htmlNamed are the named HTML forms of the characters that have them.
var htmlNamed = map[byte][]string{'&': {"&amp;"}, '"': {"&quot;"}, '\'': {"&#39;", "&apos;"}, '<': {"&lt;"}, '>': {"&gt;"}}
