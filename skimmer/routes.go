package skimmer

import (
	"fmt"
	"net/url"
	"strings"
)

// DefaultBaseURL is Skimmer's public API. It has no version prefix.
const DefaultBaseURL = "https://publicapi.getskimmer.com"

// Operation names one documented API operation.
type Operation string

// The eleven operations of the public API this project covers.
const (
	OpListCustomers       Operation = "ListCustomers"
	OpSearchCustomers     Operation = "SearchCustomers"
	OpGetCustomer         Operation = "GetCustomer"
	OpCreateCustomer      Operation = "CreateCustomer"
	OpUpdateCustomer      Operation = "UpdateCustomer"
	OpDeactivateCustomers Operation = "DeactivateCustomers"
	OpListActivityLogs    Operation = "ListActivityLogs"
	OpGetActivityLog      Operation = "GetActivityLog"
	OpCreateActivityLog   Operation = "CreateActivityLog"
	OpUpdateActivityLog   Operation = "UpdateActivityLog"
	OpDeleteActivityLog   Operation = "DeleteActivityLog"
)

// Route is where an operation lives. Path holds {name} placeholders.
type Route struct {
	Op     Operation
	Method string
	Path   string
	// Known says how sure we are of the route: several are inferred from
	// the docs' wording, not seen working. A correction is a one-line change
	// here, and the sandbox follows it.
	Known string
}

// routes is the one table of methods and paths. The server matches routes
// without regard to case; this is the casing the docs use.
//
// Sources, best first: real integration code; the operation docs this
// project implements (the "seed docs"); the public mirror of Skimmer's
// developer portal, github.com/api-evangelist/skimmer-pool
// (openapi/skimmer-pool-customers-api-openapi.yml and
// collections/skimmer-pool-customers-api.postman_collection.json), which
// says its path names and methods are taken from devportal.getskimmer.com
// while its bodies are modeled.
//
// The portal also lists three customer operations the seed docs do not
// document: GET /Customers/search (the same route: ASP.NET matches it
// without regard to case), DELETE /Customers/{id} and POST
// /Customers/Activate. They are known, not offered: no tool writes a body
// nobody has documented.
var routes = []Route{
	{OpListCustomers, "GET", "/Customers", "confirmed by real integration code; bare JSON array"},
	{OpSearchCustomers, "GET", "/Customers/Search", "documented example; the portal lists it too. Its query is Sieve's: see the notes below"},
	{OpGetCustomer, "GET", "/Customers/{id}", "confirmed"},
	{OpCreateCustomer, "POST", "/Customers", "inferred; 201 with the customer"},
	{OpUpdateCustomer, "PUT", "/Customers", "confirmed; full replacement, id in the body"},
	{OpDeactivateCustomers, "POST", "/Customers/Deactivate", "inferred; 204. The portal lists POST /Customers/Deactivate"},
	// The activity logs have a root of their own on the portal,
	// /CustomerActivityLogs (GET, POST, PUT), not under /Customers/{id}.
	// The path parameters are the seed docs': customerId for list and
	// create, customerId and id for get, update and delete; their order in
	// the path is inferred. The portal shows no DELETE and no id in the
	// PUT's path: those two follow the seed docs.
	{OpListActivityLogs, "GET", "/CustomerActivityLogs/{customerId}", "root from the developer portal; {customerId} from the seed docs"},
	{OpCreateActivityLog, "POST", "/CustomerActivityLogs/{customerId}", "root from the developer portal; {customerId} from the seed docs; 201"},
	{OpGetActivityLog, "GET", "/CustomerActivityLogs/{customerId}/{id}", "root from the developer portal; parameters from the seed docs, their order inferred"},
	{OpUpdateActivityLog, "PUT", "/CustomerActivityLogs/{customerId}/{id}", "root from the developer portal (PUT); parameters from the seed docs, their order inferred"},
	{OpDeleteActivityLog, "DELETE", "/CustomerActivityLogs/{customerId}/{id}", "root from the developer portal, which shows no DELETE; parameters from the seed docs; 204"},
}

// Search: what was verified against Sieve's source, and how sure we are of
// the rest. The search is the .NET Sieve library
// (github.com/Biarity/Sieve), read at commit b73f748, Sieve 2.5.5: the
// first release with the _-= (ends with) operator, which Skimmer's docs
// and portal list, so Skimmer runs it or a later one.
//
// Verified against the source, and implemented once in skimmer/sieve:
//   - SieveModel.cs: the comma split (EscapedCommaPattern; whitespace after
//     a comma dropped, blank terms skipped, "\," unescaped for the whole
//     term first) and the handling of a term starting with "(": cut at its
//     last ")", every parenthesis before it deleted, and a throw when
//     nothing follows it. The builder writes A|B==x, never (A|B)==x.
//     GetSortsParsed: sort names are not trimmed; a repeat, in the same
//     case, is dropped.
//   - FilterTerm.cs: the operator regex and its order of alternatives; the
//     first unescaped operator wins and text after a second is dropped;
//     names and values split on unescaped pipes; "\"+operator and then
//     UnEscape ("\|", then "\\") unescape values; values are trimmed as a
//     whole, not one by one.
//   - SortTerm.cs: "-Name" is descending.
//   - SieveProcessor.cs: every (name, value) pair of a term is ORed, a
//     negated operator negating each pair first, so x!@=a|b is "lacks a or
//     lacks b": the builder writes one term per value for !=, !@=, !_=,
//     !_-=. "null" is the keyword for == and != on text and for every
//     operator on other types; "\null" is the text. A null property never
//     matches a value, negated or not (IgnoreNullsOnNotEqual defaults to
//     true). It throws on an unknown name, on > < >= <= for text and
//     true/false, on null for a type that cannot be null, on * and the text
//     operators for anything but text, and on a value its type cannot
//     convert; with ThrowExceptions=false (the default) Apply then returns
//     the rows as they were before the failing step, with 200. Paging skips
//     (page-1)*pageSize in 32-bit arithmetic, then caps the take.
//   - The tests General.cs and StringFilterNullTests.cs, ported to
//     skimmer/sieve/port_test.go, pass against the processor the sandbox
//     serves with; dotnet_test.go runs Sieve's regular expressions
//     verbatim (with regexp2, a port of .NET's engine) against the parser.
//
// Not known, and assumed: that Skimmer keeps Sieve's default options
// (silent failures, names in any case) and configures no custom filter
// methods; the .NET types of the searchable properties (CustomerSearch:
// text nullable, true/false and dates not; Id a string, not a Guid);
// Skimmer's default and maximum page size; the answer's envelope; how its
// database collates text (the client's check of answers is built not to
// care).

// Routes returns a copy of the route table.
func Routes() []Route { return append([]Route(nil), routes...) }

func routeOf(op Operation) Route {
	for _, r := range routes {
		if r.Op == op {
			return r
		}
	}
	panic("skimmer: no route for operation " + string(op))
}

// expand fills the route's placeholders, in order, with escaped params.
func (r Route) expand(params ...string) (string, error) {
	path := r.Path
	for _, p := range params {
		open := strings.IndexByte(path, '{')
		end := strings.IndexByte(path, '}')
		if open < 0 || end < open {
			return "", fmt.Errorf("skimmer: %s takes %d path parameters", r.Op, strings.Count(r.Path, "{"))
		}
		if p == "" {
			return "", fmt.Errorf("skimmer: %s: %s is empty", r.Op, path[open+1:end])
		}
		path = path[:open] + url.PathEscape(p) + path[end+1:]
	}
	if strings.Contains(path, "{") {
		return "", fmt.Errorf("skimmer: %s takes %d path parameters", r.Op, strings.Count(r.Path, "{"))
	}
	return path, nil
}
