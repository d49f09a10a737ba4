package skimmer

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinels for the cases callers branch on. Match them with errors.Is.
var (
	ErrNotFound     = errors.New("not found")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	ErrRateLimited  = errors.New("rate limited")
	ErrValidation   = errors.New("validation failed")
	// ErrUnavailable: Skimmer did not answer usefully (5xx, network) even
	// after the retries a read gets.
	ErrUnavailable = errors.New("skimmer unavailable")
	// ErrOutcomeUnknown: a write was sent and no complete answer came back.
	// It may or may not have been applied; it is never retried on its own.
	ErrOutcomeUnknown = errors.New("outcome unknown")
	// ErrBadResponse: the answer could not be read as the API's JSON.
	ErrBadResponse = errors.New("unreadable response")
	// ErrIncomplete: a record came back without fields the API always
	// sends (APIError.Missing). An update built from it would send those
	// fields empty, wiping them, so the record is not returned at all.
	ErrIncomplete = errors.New("incomplete record")
)

// APIError is an answer from Skimmer other than success, or a success
// whose body could not be read.
type APIError struct {
	Op     Operation
	Method string
	Status int
	// From a ProblemDetails body, when there was one.
	Title   string
	Detail  string
	Fields  map[string][]string // per-field validation messages
	TraceID string
	// Body is the start of a body that was not ProblemDetails (an HTML page,
	// plain text), for diagnosis; "" when empty.
	Body       string
	RetryAfter time.Duration // from Retry-After on 429 and 503, else 0
	RateLimit  RateLimit
	Attempts   int
	// Missing names the fields an ErrIncomplete record lacked.
	Missing []string

	err error // sentinel override; see Is
}

// Error is one line: operation, status and what the server said.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "skimmer %s: %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Title != "" && !strings.EqualFold(e.Title, http.StatusText(e.Status)) {
		b.WriteString(": " + e.Title)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if len(e.Fields) > 0 {
		b.WriteString(": " + e.FieldSummary())
	}
	if e.Body != "" && e.Title == "" && e.Detail == "" {
		b.WriteString(": " + e.Body)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.err != nil {
		b.WriteString(": " + e.err.Error())
	}
	return b.String()
}

// FieldSummary renders the validation messages as "Field: msg; Field: msg",
// fields in name order.
func (e *APIError) FieldSummary() string {
	names := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, n+": "+strings.Join(e.Fields[n], " "))
	}
	return strings.Join(parts, "; ")
}

// Is maps the status to the sentinels.
func (e *APIError) Is(target error) bool {
	if e.err != nil && target == e.err {
		return true
	}
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrValidation:
		return e.Status == http.StatusBadRequest || e.Status == http.StatusUnprocessableEntity
	case ErrUnavailable:
		return e.Status >= 500 && e.err == nil
	}
	return false
}

// TransportError is a request that got no HTTP answer: refused, reset,
// timed out.
type TransportError struct {
	Op       Operation
	Method   string
	Sent     bool // false when the connection was never made, so nothing reached Skimmer
	Attempts int
	Err      error
}

func (e *TransportError) Error() string {
	what := "could not reach Skimmer"
	if e.Sent {
		what = "no answer from Skimmer"
	}
	return fmt.Sprintf("skimmer %s: %s after %d attempt(s): %v", e.Op, what, e.Attempts, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Is: a write that was sent and got no answer has an unknown outcome;
// anything else is plain unavailability.
func (e *TransportError) Is(target error) bool {
	switch target {
	case ErrOutcomeUnknown:
		return e.Sent && e.Method != http.MethodGet
	case ErrUnavailable:
		return true
	}
	return false
}

// problemDetails is RFC 7807, as ASP.NET writes it.
type problemDetails struct {
	Title   string          `json:"title"`
	Detail  string          `json:"detail"`
	TraceID string          `json:"traceId"`
	Errors  json.RawMessage `json:"errors"`
}

var htmlTitle = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// describeBody fills e from an error body of any shape: ProblemDetails,
// HTML, text or nothing. Everything it keeps is cleaned of the caller's key
// (sc) as soon as it is decoded and before it is cut short, so no layer
// above ever holds the key, whole or in part: callers read these fields
// directly, and an error page or a validation message may echo the key in
// any encoding.
func (e *APIError) describeBody(contentType string, body []byte, sc *scrubber) {
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		return
	}
	if strings.HasPrefix(trimmed, "{") {
		var pd problemDetails
		if json.Unmarshal(body, &pd) == nil && (pd.Title != "" || pd.Detail != "" || len(pd.Errors) > 0) {
			e.Title, e.Detail, e.TraceID = sc.clean(pd.Title), sc.clean(pd.Detail), sc.clean(pd.TraceID)
			if fields := decodeFieldErrors(pd.Errors); len(fields) > 0 {
				e.Fields = make(map[string][]string, len(fields))
				for name, msgs := range fields {
					out := make([]string, len(msgs))
					for i, m := range msgs {
						out[i] = sc.clean(m)
					}
					e.Fields[sc.clean(name)] = out
				}
			}
			return
		}
	}
	if strings.Contains(contentType, "html") || strings.HasPrefix(strings.ToLower(trimmed), "<!doctype") || strings.HasPrefix(strings.ToLower(trimmed), "<html") {
		title := ""
		if m := htmlTitle.FindStringSubmatch(trimmed); m != nil {
			title = strings.TrimSpace(sc.clean(html.UnescapeString(m[1])))
		}
		e.Body = "an HTML page"
		if title != "" {
			e.Body += " titled " + truncate(title, 80)
		}
		return
	}
	e.Body = truncate(sc.clean(strings.Join(strings.Fields(trimmed), " ")), 200)
}

// decodeFieldErrors reads ASP.NET's {"Field":["msg"]}, tolerating a single
// string per field and ignoring other shapes.
func decodeFieldErrors(raw json.RawMessage) map[string][]string {
	if len(raw) == 0 {
		return nil
	}
	var many map[string][]string
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	var one map[string]string
	if json.Unmarshal(raw, &one) == nil {
		out := make(map[string][]string, len(one))
		for k, v := range one {
			out[k] = []string{v}
		}
		return out
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
