package sandbox

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sieve"
)

// defaultPageSize applies when a search sends none. Skimmer's default is
// not documented; the client always sends one.
const defaultPageSize = 10

// Sieve's two ways of failing, the sandbox's Options.SieveErrors.
const (
	// SieveSilent is Sieve's default (ThrowExceptions=false), and what
	// Skimmer most likely runs: a query Sieve cannot apply answers 200 with
	// the rows as they were before the failing step, for a failed filter
	// every customer, unsorted and unpaged.
	SieveSilent = "silent"
	// SieveThrow answers such a query with a 400 naming Sieve's exception.
	SieveThrow = "throw"
)

// newSieve is the processor the sandbox searches with: skimmer/sieve's, the
// one the client checks answers with, over the customer properties, less
// any the options hide.
func newSieve(opts Options) (*sieve.Processor[skimmer.Customer], error) {
	schema, props := skimmer.CustomerSearch, skimmer.CustomerProps
	if len(opts.Unsearchable) > 0 {
		var fields []sieve.Field
		props = sieve.Props[skimmer.Customer]{}
		for _, f := range skimmer.CustomerSearch.Fields() {
			if slices.ContainsFunc(opts.Unsearchable, func(n string) bool { return strings.EqualFold(n, f.Name) }) {
				continue
			}
			fields = append(fields, f)
			props[f.Name] = skimmer.CustomerProps[f.Name]
		}
		for _, n := range opts.Unsearchable {
			if _, ok := skimmer.CustomerSearch.Lookup(n); !ok {
				return nil, fmt.Errorf("sandbox: unsearchable %q is not a search field", n)
			}
		}
		schema = sieve.NewSchema(fields...)
	}
	return sieve.NewProcessor(schema, props, sieve.Options{DefaultPageSize: defaultPageSize, MaxPageSize: opts.MaxPageSize}), nil
}

func (s *Server) searchCustomers(w http.ResponseWriter, r *http.Request) {
	page, ok := intParam(w, r, "page")
	if !ok {
		return
	}
	pageSize, ok := intParam(w, r, "pageSize")
	if !ok {
		return
	}
	m := sieve.Model{Filters: queryParam(r, "filters"), Sorts: queryParam(r, "sorts"), Page: page, PageSize: pageSize}
	res := s.sieve.Apply(m, s.store.customers())
	if res.Err != nil {
		s.noteSieveError(r, res.Err)
		if s.opts.SieveErrors == SieveThrow {
			var ex *sieve.Exception
			detail := res.Err.Error()
			if errors.As(res.Err, &ex) {
				detail = ex.Message
			}
			problem(w, http.StatusBadRequest, "Invalid search query", detail, nil)
			return
		}
	}
	items := make([]skimmer.Customer, 0, len(res.Rows))
	for _, c := range res.Rows {
		items = append(items, listView(c))
	}
	if s.opts.Envelope == "bare" {
		writeJSON(w, http.StatusOK, items)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{s.opts.Envelope: items, "page": cmp.Or(page, 1),
		"pageSize": min(cmp.Or(pageSize, defaultPageSize), s.opts.MaxPageSize), "totalCount": res.Total})
}

// intParam reads an optional int query parameter as ASP.NET binds a
// SieveModel's int? Page and PageSize with [Range(1, int.MaxValue)]: a
// value that is not a 32-bit integer, or below 1, is a 400. 0 is absent.
func intParam(w http.ResponseWriter, r *http.Request, name string) (int, bool) {
	v := queryParam(r, name)
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		validationProblem(w, map[string][]string{name: {fmt.Sprintf("The value '%s' is not valid.", v)}})
		return 0, false
	}
	if n < 1 {
		validationProblem(w, map[string][]string{name: {fmt.Sprintf("The field %s must be between 1 and %d.", name, math.MaxInt32)}})
		return 0, false
	}
	return int(n), true
}
