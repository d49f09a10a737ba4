package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// op is one kind of step a client takes. Its name labels its calls in the
// report: the tool, and after a colon the variant where one tool is called
// in two ways (a preview and a confirmed write are different work).
type op struct {
	name   string
	weight int
	run    func(s *session)
	then   string // the label of a follow-up call the step makes, if any
}

// theMix is what an agent working a pool company's customers does, by
// weight out of 100: it mostly finds people and reads them, sometimes
// reads their history, sometimes prepares a change it shows the user, and
// now and then logs an activity. Each confirmed write is deleted again at
// once, so the account is the same size after any number of runs.
var theMix = []op{
	{"search_customers:text", 30, searchByName, ""},
	{"search_customers:filters", 10, searchByState, ""},
	{"get_customer", 25, getCustomer, ""},
	{"list_customer_activities", 12, listActivities, ""},
	{"list_customers", 5, listCustomers, ""},
	{"update_customer:preview", 7, previewUpdate, ""},
	{"create_customer_activity:preview", 7, previewActivity, ""},
	{"create_customer_activity:confirm", 4, logAndDeleteActivity, "delete_customer_activity:confirm"},
}

// mixLabels are every label a run of theMix reports, in report order.
func mixLabels() []string {
	var out []string
	for _, o := range theMix {
		out = append(out, o.name)
		if o.then != "" {
			out = append(out, o.then)
		}
	}
	return out
}

// Seeded names and states: each matches customers in the default sandbox,
// so no search is expected to come back empty.
var (
	lastNames = []string{"smith", "garcia", "johnson", "lee", "nguyen", "patel"}
	states    = []string{"TX", "AZ", "FL", "CA", "NV"}
)

var (
	idLine      = regexp.MustCompile(`(?m)^([0-9a-f]{32}) \| `)
	searchHead  = regexp.MustCompile(`^\d+ customers? match`)
	entryID     = regexp.MustCompile(`entry id ([0-9a-f]{32})\.`)
	entriesHead = regexp.MustCompile(`^(Entries \d+-\d+ of \d+|No entries)`)
)

const previewHead = "PREVIEW: nothing has been changed."

// errUnexpected marks an answer that was not an error but not the answer
// either: a preview that wrote, a search that lost its header.
var errUnexpected = errors.New("unexpected answer")

func expectPrefix(prefix string) func(string) error {
	return func(text string) error {
		if !strings.HasPrefix(text, prefix) {
			return fmt.Errorf("%w: want it to begin %q, got %q", errUnexpected, prefix, clip(text))
		}
		return nil
	}
}

func expectMatch(re *regexp.Regexp) func(string) error {
	return func(text string) error {
		if !re.MatchString(text) {
			return fmt.Errorf("%w: want %s, got %q", errUnexpected, re, clip(text))
		}
		return nil
	}
}

// ids returns the customer ids an answer lists, one per line.
func ids(text string) []string {
	var out []string
	for _, m := range idLine.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// searchByName searches as a person would: by a last name. The customers
// it finds are the ones this client reads next.
func searchByName(s *session) {
	name := lastNames[s.rng.IntN(len(lastNames))]
	text, ok := s.call("search_customers:text", "search_customers", map[string]any{"text": name}, expectMatch(searchHead))
	if ok {
		s.found(ids(text))
	}
}

func searchByState(s *session) {
	args := map[string]any{
		"filters":  []map[string]any{{"field": "BillingState", "op": "==", "value": states[s.rng.IntN(len(states))]}},
		"sorts":    []string{"-CreatedAt"},
		"pageSize": 10,
	}
	text, ok := s.call("search_customers:filters", "search_customers", args, expectMatch(searchHead))
	if ok {
		s.found(ids(text))
	}
}

func getCustomer(s *session) {
	id := s.customer()
	s.call("get_customer", "get_customer", map[string]any{"id": id}, func(text string) error {
		if !strings.Contains(text, id) {
			return fmt.Errorf("%w: customer %s is not in %q", errUnexpected, id, clip(text))
		}
		return nil
	})
}

func listActivities(s *session) {
	s.call("list_customer_activities", "list_customer_activities", map[string]any{"customerId": s.customer()}, expectMatch(entriesHead))
}

func listCustomers(s *session) {
	s.call("list_customers", "list_customers", map[string]any{"limit": 25}, expectPrefix("Customers 1-25 of "))
}

func previewUpdate(s *session) {
	s.call("update_customer:preview", "update_customer", map[string]any{"id": s.customer(), "notes": "load test"}, expectPrefix(previewHead))
}

func previewActivity(s *session) {
	args := map[string]any{"customerId": s.customer(), "type": "Call", "title": "Load check"}
	s.call("create_customer_activity:preview", "create_customer_activity", args, expectPrefix(previewHead))
}

// logAndDeleteActivity logs a call, then deletes the entry it made.
func logAndDeleteActivity(s *session) {
	customer := s.customer()
	args := map[string]any{"customerId": customer, "type": "Call", "title": "Load check", "confirm": true}
	text, ok := s.call("create_customer_activity:confirm", "create_customer_activity", args, expectMatch(entryID))
	if !ok {
		return
	}
	entry := entryID.FindStringSubmatch(text)[1]
	s.call("delete_customer_activity:confirm", "delete_customer_activity",
		map[string]any{"customerId": customer, "id": entry, "confirm": true}, expectPrefix("Deleted entry "+entry))
}

// clip shortens an answer for an error message.
func clip(s string) string {
	const n = 160
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
