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
var routes = []Route{
	{OpListCustomers, "GET", "/Customers", "confirmed by real integration code; bare JSON array"},
	{OpSearchCustomers, "GET", "/Customers/Search", "documented example"},
	{OpGetCustomer, "GET", "/Customers/{id}", "confirmed"},
	{OpCreateCustomer, "POST", "/Customers", "inferred; 201 with the customer"},
	{OpUpdateCustomer, "PUT", "/Customers", "confirmed; full replacement, id in the body"},
	{OpDeactivateCustomers, "POST", "/Customers/Deactivate", "inferred; 204"},
	{OpListActivityLogs, "GET", "/Customers/{customerId}/ActivityLogs", "guess"},
	{OpCreateActivityLog, "POST", "/Customers/{customerId}/ActivityLogs", "guess; 201"},
	{OpGetActivityLog, "GET", "/Customers/{customerId}/ActivityLogs/{id}", "guess"},
	{OpUpdateActivityLog, "PUT", "/Customers/{customerId}/ActivityLogs/{id}", "guess"},
	{OpDeleteActivityLog, "DELETE", "/Customers/{customerId}/ActivityLogs/{id}", "guess; 204"},
}

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
