package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sieve"
)

// failure is an error a person or a model can act on: the text they
// read, and its class, the outcome of the request's log line.
type failure struct {
	class Outcome
	text  string
}

func (f *failure) Error() string { return f.text }

// refuse is a failure the tool itself decides on, before any request.
func refuse(class Outcome, format string, args ...any) error {
	return &failure{class: class, text: fmt.Sprintf(format, args...)}
}

// explain turns an error into one actionable sentence, in the words of
// the area whose tool, resource or prompt failed (nil when none did); write
// is whether a write failed, and ctx says where the caller's key came
// from. It returns nil for errors it does not recognise: those are bugs,
// and go back as Go errors.
func explain(ctx context.Context, err error, a *Area, write bool) *failure {
	var f *failure
	var args *argError
	var apiErr *skimmer.APIError
	var terr *skimmer.TransportError
	switch {
	case errors.As(err, &f):
		return f
	case errors.As(err, &args):
		return &failure{failInvalidArguments, args.Error()}
	case errors.Is(err, sieve.ErrInvalid):
		return &failure{failInvalidSearch, "Invalid search: " + sentence(strings.TrimPrefix(err.Error(), sieve.ErrInvalid.Error()+": ")) + " Nothing was sent."}
	case errors.Is(err, skimmer.ErrSearchIgnored):
		return &failure{failSearchIgnored, "Skimmer did not apply this search, so no customers are listed: " +
			sentence(strings.TrimPrefix(err.Error(), skimmer.ErrSearchIgnored.Error()+": ")) + " Try the words and filters one at a time to find the one it does not take."}
	case errors.Is(err, skimmer.ErrOutcomeUnknown):
		// Before cancellation: a write that left and was then cancelled
		// may have been applied all the same.
		return &failure{failOutcomeUnknown, "The change was sent to Skimmer but no answer came back, so it may or may not have been applied. Check with a read (get_customer, list_customer_activities) before trying again; do not simply repeat it."}
	case errors.Is(err, context.Canceled):
		return &failure{failCancelled, "The call was cancelled before Skimmer answered."}
	case errors.As(err, &terr):
		if !terr.Sent {
			return &failure{failUnreachable, "Could not reach Skimmer, so nothing was sent. Try again shortly; if it keeps failing, check the internet connection, and SKIMMER_BASE_URL if it is set."}
		}
		return &failure{failUnavailable, "Skimmer did not answer" + afterTries(terr.Attempts) + nothingChanged(terr.Method, write) + ". Try again in a minute."}
	case errors.As(err, &apiErr):
		return explainAPI(ctx, apiErr, a, write)
	case errors.Is(err, context.DeadlineExceeded):
		return &failure{failTimeout, "Skimmer did not answer in time. Try again shortly."}
	}
	return nil
}

func explainAPI(ctx context.Context, e *skimmer.APIError, a *Area, write bool) *failure {
	said := ""
	if e.Detail != "" {
		said = " Skimmer said: " + sentence(e.Detail)
	}
	told := strings.TrimSpace(e.Title + " " + e.Detail + e.Body) // all Skimmer said, however it said it
	switch {
	case errors.Is(e, skimmer.ErrIncomplete):
		lacked := strings.Join(e.Missing, ", ")
		if len(e.Missing) > 4 {
			lacked = fmt.Sprintf("%s and %d more", strings.Join(e.Missing[:3], ", "), len(e.Missing)-3)
		}
		text := fmt.Sprintf("Skimmer sent the record without fields it always sends (%s), so it was not used.", lacked)
		if write {
			text += " Nothing was changed: an update built from it would have wiped those fields."
		}
		return &failure{failIncompleteRecord, text + " Try again in a minute; if it keeps happening, Skimmer is failing."}
	case errors.Is(e, skimmer.ErrBadResponse):
		if e.Method != "GET" && e.Status >= 200 && e.Status < 300 {
			return &failure{failAnswerUnreadable, fmt.Sprintf("Skimmer accepted the change (HTTP %d) but its answer could not be read. Check the result with a read before doing anything else; do not repeat the change.", e.Status)}
		}
		return &failure{failAnswerUnreadable, "Skimmer's answer could not be read" + afterTries(e.Attempts) + nothingChanged(e.Method, write) + ". Try again in a minute."}
	case errors.Is(e, skimmer.ErrRateLimited):
		wait := "a minute"
		if e.RetryAfter > 0 {
			wait = e.RetryAfter.Round(time.Second).String()
		}
		return &failure{failRateLimited, fmt.Sprintf("Skimmer's rate limit for this API key is used up%s. Wait %s, then call again.", nothingChanged(e.Method, write), wait)}
	case errors.Is(e, skimmer.ErrUnauthorized):
		return &failure{failUnauthorized, refusedKey[keySource(ctx)]}
	case errors.Is(e, skimmer.ErrForbidden):
		return &failure{failForbidden, "Skimmer does not allow this API key to do this (403)" + nothingChanged(e.Method, write) + ". The account owner can issue a key with access." + said}
	case errors.Is(e, skimmer.ErrNotFound):
		return &failure{failNotFound, notFoundText(e.Op, a)}
	case errors.Is(e, skimmer.ErrValidation):
		detail := e.FieldSummary()
		if detail == "" {
			detail = told
		}
		return &failure{failRejected, fmt.Sprintf("Skimmer rejected the request; nothing was changed. %s Fix that and call again.", sentence(detail))}
	case errors.Is(e, skimmer.ErrUnavailable):
		if e.Method != "GET" {
			return &failure{failUpstreamError, fmt.Sprintf("Skimmer failed with HTTP %d; the change was most likely not made. Check with a read before trying again.", e.Status)}
		}
		return &failure{failUnavailable, fmt.Sprintf("Skimmer is failing (HTTP %d)%s%s. Try again in a minute.", e.Status, afterTries(e.Attempts), nothingChanged(e.Method, write))}
	}
	return &failure{failUpstreamError, fmt.Sprintf("Skimmer answered HTTP %d: %s", e.Status, sentence(told))}
}

// refusedKey is what a 401 asks of the user, by where the key came from.
var refusedKey = map[KeySource]string{
	KeyFromServer: "Skimmer refused the API key (401): it is wrong or was revoked. Tell the user to check SKIMMER_API_KEY in this server's settings.",
	KeyFromHeader: "Skimmer refused the API key (401): it is wrong or was revoked. Tell the user to check the key their app sends to this server (in its skimmer-api-key, x-api-key or Authorization header).",
	KeyFromSignIn: "Skimmer refused the API key (401): it was revoked or replaced since the user signed in. Tell the user to sign in again: remove this connector and add it again, with their current Skimmer API key.",
}

// afterTries says how many times a read was tried, when more than once.
func afterTries(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(" after %d tries", n)
}

// nothingChanged says, for a write, that it was not applied: a request
// that failed was the write itself, or a read the write needed first.
func nothingChanged(method string, write bool) string {
	if method != "GET" || write {
		return "; nothing was changed"
	}
	return ""
}

// sentence ends s with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}
