package skimmer

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
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
// is refused where it comes in, rather than used and leaked. The error
// never holds the key.
func CheckAPIKey(key string) error {
	for _, c := range key {
		if c <= ' ' || c > '~' {
			return fmt.Errorf("the key has a space, a line break or another character that is not printable ASCII: use the key exactly as Skimmer gave it")
		}
	}
	if len(key) < MinKeyLength {
		return fmt.Errorf("the key is %d characters long; keys shorter than %d are refused, because a key that short cannot be kept out of error messages and logs without garbling them: use the whole key Skimmer gave you", len(key), MinKeyLength)
	}
	return nil
}

// scrubber removes one key from text in every form a server could echo it
// in: as is, URL-encoded (query or path escaping, or any character
// percent-encoded), JSON-escaped (short escapes or \uXXXX in either case,
// as Go and .NET write them), HTML-escaped, and base64 (standard and URL
// alphabets, padded or not, and at any of the three alignments it can have
// inside a longer encoded text). Text that is not the key is left exactly as
// it was.
type scrubber struct {
	forms *regexp.Regexp // the key, each character in any of its escapes
	b64   []string       // base64 forms, longest first
}

// newScrubber returns nil for a key CheckAPIKey refuses: scrubbing it would
// garble text, and the commands never let one in.
func newScrubber(key APIKey) *scrubber {
	if CheckAPIKey(string(key)) != nil {
		return nil
	}
	var re strings.Builder
	for _, c := range []byte(key) {
		hex := fmt.Sprintf("%02x", c)
		alts := []string{
			regexp.QuoteMeta(string(c)),
			"%(?i:" + hex + ")",          // URL
			`\\u(?i:00` + hex + ")",      // JSON
			"&#0*" + fmt.Sprint(c) + ";", // HTML, decimal
			"&#[xX]0*(?i:" + hex + ");",  // HTML, hex
		}
		switch c {
		case '"', '\\', '/':
			alts = append(alts, regexp.QuoteMeta(`\`+string(c)))
		}
		if name, ok := htmlNamed[c]; ok {
			alts = append(alts, name)
		}
		re.WriteString("(?:" + strings.Join(alts, "|") + ")")
	}
	s := &scrubber{forms: regexp.MustCompile(re.String())}
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

var htmlNamed = map[byte]string{'&': "&amp;", '"': "&quot;", '\'': "&(?:#39|apos);", '<': "&lt;", '>': "&gt;"}

// clean returns text without the key. A nil scrubber changes nothing.
func (s *scrubber) clean(text string) string {
	if s == nil || text == "" {
		return text
	}
	text = s.forms.ReplaceAllLiteralString(text, redacted)
	for _, f := range s.b64 {
		text = strings.ReplaceAll(text, f, redacted)
	}
	return text
}
