package tools

// Outcome is what one request came to: a tool call, a resource read, a
// prompt, a completion. It is the outcome of the request's log line and
// the label metrics count it by (CallRecord), so every value it can take
// is declared here, once: a label can never hold anything else, and the
// list a reader is given (Outcomes) cannot drift from what is counted.
type Outcome uint8

// What a request answered.
const (
	answered       Outcome = iota // a read answered
	previewed                     // a write showed what it would do
	asked                         // a write put its preview to the person
	declined                      // the person said no (or typed the wrong answer)
	applied                       // a write was sent and Skimmer took it
	alreadyApplied                // a replayed create found its record already made
	unchanged                     // a write had nothing to change; nothing was sent
	coalesced                     // a double submit, answered by the identical call it joined

	// Failures a person or a model can act on: the answer is an error
	// result with one sentence that names the problem and the fix. The
	// names are the classes explain gives.
	failInvalidArguments
	failInvalidSearch
	failSearchIgnored
	failNotOffered // the tool or prompt is not offered to this caller
	failNoClient   // the request carried no usable Skimmer key
	failRefused    // a confirmation that could not be used
	failBusy       // another change to the record held its lock
	failSystemEntry
	failStoreUnreachable
	failJoinedFailed // the identical call it joined failed with an internal error
	failCancelled
	failOutcomeUnknown
	failUnreachable
	failUnavailable
	failTimeout
	failIncompleteRecord
	failAnswerUnreadable
	failRateLimited
	failUnauthorized
	failForbidden
	failNotFound
	failRejected
	failUpstreamError

	// The server's own failures: logged with what went wrong, at error
	// level.
	failBug   // an error nobody explains: a JSON-RPC internal error
	failPanic // recovered; the server keeps serving

	numOutcomes
)

var outcomeNames = [...]string{
	answered: "ok", previewed: "preview", asked: "asked", declined: "declined", applied: "applied",
	alreadyApplied: "already_applied", unchanged: "unchanged", coalesced: "coalesced",

	failInvalidArguments: "invalid_arguments", failInvalidSearch: "invalid_search", failSearchIgnored: "search_ignored",
	failNotOffered: "not_offered", failNoClient: "no_client", failRefused: "refused", failBusy: "busy",
	failSystemEntry: "system_entry", failStoreUnreachable: "store_unreachable", failJoinedFailed: "joined_failed",
	failCancelled: "cancelled", failOutcomeUnknown: "outcome_unknown", failUnreachable: "unreachable",
	failUnavailable: "unavailable", failTimeout: "timeout", failIncompleteRecord: "incomplete_record",
	failAnswerUnreadable: "answer_unreadable", failRateLimited: "rate_limited", failUnauthorized: "unauthorized",
	failForbidden: "forbidden", failNotFound: "not_found", failRejected: "rejected", failUpstreamError: "upstream_error",

	failBug: "bug", failPanic: "panic",
}

// String is the outcome's name in log lines and metrics.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) && outcomeNames[o] != "" {
		return outcomeNames[o]
	}
	return "bug"
}

// Failed reports whether the request's answer was an error.
func (o Outcome) Failed() bool { return o >= failInvalidArguments }

// Outcomes lists every outcome's name, in the order above: successes
// first, then failures.
func Outcomes() []string {
	out := make([]string, numOutcomes)
	for o := range numOutcomes {
		out[o] = o.String()
	}
	return out
}

// ParseOutcome is the outcome of a name Outcomes lists.
func ParseOutcome(name string) (Outcome, bool) {
	for o := range numOutcomes {
		if o.String() == name {
			return o, true
		}
	}
	return 0, false
}
