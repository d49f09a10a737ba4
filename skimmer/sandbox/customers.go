package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// maxRequestBody is what the sandbox reads of a request body.
const maxRequestBody = 1 << 20

// httpError is a refusal with its status; the handlers return it from
// inside a change so the change is abandoned whole.
type httpError struct {
	status        int
	title, detail string
	fields        map[string][]string
}

func (e *httpError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.title, e.detail) }

func notFound(what, id string) *httpError {
	return &httpError{status: http.StatusNotFound, title: "Not Found", detail: fmt.Sprintf("%s %s was not found.", what, id)}
}

func invalid(fields map[string][]string) *httpError {
	return &httpError{status: http.StatusBadRequest, title: "One or more validation errors occurred.", fields: fields}
}

// fail writes err: an httpError as itself, anything else (a failed save)
// as a 500 that says nothing was changed.
func fail(w http.ResponseWriter, err error) {
	var he *httpError
	if errors.As(err, &he) {
		problem(w, he.status, he.title, he.detail, he.fields)
		return
	}
	problem(w, http.StatusInternalServerError, "Internal Server Error", "The change was not saved; nothing was changed. "+err.Error(), nil)
}

// decodeBody reads a JSON body the way ASP.NET's model binding answers
// bad ones: 400 with the problem under "$".
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			problem(w, http.StatusRequestEntityTooLarge, "Payload Too Large", fmt.Sprintf("Request bodies are limited to %d bytes.", maxRequestBody), nil)
			return false
		}
		validationProblem(w, map[string][]string{"$": {"The JSON value could not be read: " + err.Error()}})
		return false
	}
	return true
}

// boolParam reads an optional boolean query parameter, any case.
func boolParam(w http.ResponseWriter, r *http.Request, name string) (bool, bool) {
	v := queryParam(r, name)
	if v == "" {
		return false, true
	}
	b, err := strconv.ParseBool(strings.ToLower(v))
	if err != nil {
		validationProblem(w, map[string][]string{name: {fmt.Sprintf("The value '%s' is not valid.", v)}})
		return false, false
	}
	return b, true
}

// queryParam finds a query parameter by name in any case, as ASP.NET's
// model binding does.
func queryParam(r *http.Request, name string) string {
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// listView is a customer as lists show it: without service locations.
func listView(c *skimmer.Customer) skimmer.Customer {
	v := *c
	v.ServiceLocations = nil
	return v
}

// detailView is a customer as a single answer shows it: with its service
// locations, as [] when it has none.
func detailView(c *skimmer.Customer) skimmer.Customer {
	v := *c
	if v.ServiceLocations == nil {
		v.ServiceLocations = []skimmer.ServiceLocation{}
	}
	return v
}

func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request) {
	includeDeleted, ok := boolParam(w, r, "includeDeleted")
	if !ok {
		return
	}
	all := s.store.customers()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	// Streamed element by element: a 50,000-customer account is one answer.
	buf := []byte{'['}
	first := true
	for _, c := range all {
		if c.Deleted && !includeDeleted {
			continue
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		b, _ := json.Marshal(listView(c))
		buf = append(buf, b...)
		if len(buf) > 32<<10 {
			if _, err := w.Write(buf); err != nil {
				return
			}
			buf = buf[:0]
		}
	}
	buf = append(buf, ']', '\n')
	_, _ = w.Write(buf)
}

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) {
	includeDeleted, ok := boolParam(w, r, "includeDeleted")
	if !ok {
		return
	}
	id := r.PathValue("id")
	c := s.store.customer(id)
	if c == nil || (c.Deleted && !includeDeleted) {
		fail(w, notFound("Customer", id))
		return
	}
	writeJSON(w, http.StatusOK, detailView(c))
}

func (s *Server) createCustomer(w http.ResponseWriter, r *http.Request) {
	var req skimmer.CreateCustomerRequest
	if !decodeBody(w, r, &req) {
		return
	}
	fields := checkCustomer(&req.CustomerFields)
	for i, loc := range req.ServiceLocations {
		for k, v := range checkLocation(loc) {
			fields[fmt.Sprintf("ServiceLocations[%d].%s", i, k)] = v
		}
	}
	if len(fields) > 0 {
		fail(w, invalid(fields))
		return
	}
	var created *skimmer.Customer
	err := s.store.change(func(st *state) (func(), error) {
		now := skimmer.Time{Time: s.store.clock().UTC()}
		c := &skimmer.Customer{ID: s.store.newID(), CustomerFields: req.CustomerFields, CreatedAt: now, UpdatedAt: now}
		tags, undoTags, err := s.store.resolveTags(st, req.Tags)
		if err != nil {
			return nil, err
		}
		c.Tags = tags
		c.ServiceLocations = make([]skimmer.ServiceLocation, len(req.ServiceLocations))
		for i, loc := range req.ServiceLocations {
			loc.ID, loc.CustomerID, loc.Deleted = s.store.newID(), c.ID, false
			c.ServiceLocations[i] = loc
		}
		st.Customers = append(st.Customers, c)
		s.store.byID[c.ID] = len(st.Customers) - 1
		created = c
		return func() {
			undoTags()
			st.Customers = st.Customers[:len(st.Customers)-1]
			delete(s.store.byID, c.ID)
		}, nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Location", "/Customers/"+created.ID)
	writeJSON(w, http.StatusCreated, detailView(created))
}

func (s *Server) updateCustomer(w http.ResponseWriter, r *http.Request) {
	var req skimmer.UpdateCustomerRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.ID) == "" {
		fail(w, invalid(map[string][]string{"Id": {"The Id field is required."}}))
		return
	}
	if fields := checkCustomer(&req.CustomerFields); len(fields) > 0 {
		fail(w, invalid(fields))
		return
	}
	var updated *skimmer.Customer
	err := s.store.change(func(st *state) (func(), error) {
		old := s.store.customerLocked(req.ID)
		if old == nil || old.Deleted {
			return nil, notFound("Customer", req.ID)
		}
		c := *old
		// A full replacement, as Skimmer does it: whatever the body leaves
		// out is gone.
		c.CustomerFields = req.CustomerFields
		tags, undoTags, err := s.store.resolveTags(st, req.Tags)
		if err != nil {
			return nil, err
		}
		c.Tags = tags
		c.UpdatedAt = skimmer.Time{Time: s.store.clock().UTC()}
		updated = &c
		undo := s.store.replace(st, &c)
		return func() { undo(); undoTags() }, nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, detailView(updated))
}

func (s *Server) deactivateCustomers(w http.ResponseWriter, r *http.Request) {
	var req skimmer.DeactivateCustomersRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if len(req.IDs) == 0 {
		fail(w, invalid(map[string][]string{"Ids": {"At least one customer id is required."}}))
		return
	}
	err := s.store.change(func(st *state) (func(), error) {
		var missing []string
		for _, id := range req.IDs {
			if c := s.store.customerLocked(id); c == nil || c.Deleted {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return nil, notFound("Customer", strings.Join(missing, ", "))
		}
		now := skimmer.Time{Time: s.store.clock().UTC()}
		var undos []func()
		for _, id := range req.IDs {
			c := *s.store.customerLocked(id)
			c.IsInactive = true
			if req.DeleteTags {
				c.Tags = []skimmer.Tag{}
			}
			c.UpdatedAt = now
			undos = append(undos, s.store.replace(st, &c))
		}
		st.Deactivations = append(st.Deactivations, Deactivation{At: now.Time, Request: req})
		return func() {
			for _, u := range slices.Backward(undos) {
				u()
			}
			st.Deactivations = st.Deactivations[:len(st.Deactivations)-1]
		}, nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Deactivations returns the deactivate calls made so far, cascade flags
// included.
func (s *Server) Deactivations() []Deactivation {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	return append([]Deactivation(nil), s.store.st.Deactivations...)
}

// checkCustomer applies the rules the sandbox holds a customer to: a name
// of some kind, well-formed emails, sane tags.
func checkCustomer(f *skimmer.CustomerFields) map[string][]string {
	fields := map[string][]string{}
	if blank(f.FirstName) && blank(f.LastName) && blank(f.CompanyName) {
		fields["FirstName"] = []string{"A customer needs a first name, a last name or a company name."}
	}
	for name, v := range map[string]*string{"PrimaryEmail": f.PrimaryEmail, "SecondaryEmail": f.SecondaryEmail, "Email3": f.Email3, "Email4": f.Email4} {
		if blank(v) {
			continue
		}
		if a, err := mail.ParseAddress(*v); err != nil || a.Address != strings.TrimSpace(*v) {
			fields[name] = []string{fmt.Sprintf("'%s' is not a valid email address.", *v)}
		}
	}
	for i, t := range f.Tags {
		if t.ID == "" && strings.TrimSpace(t.Name) == "" {
			fields[fmt.Sprintf("Tags[%d]", i)] = []string{"A tag needs a name or an id."}
		}
	}
	return fields
}

func checkLocation(l skimmer.ServiceLocation) map[string][]string {
	fields := map[string][]string{}
	if l.RateType != nil && !slices.Contains(skimmer.RateTypes, *l.RateType) {
		fields["RateType"] = []string{fmt.Sprintf("'%s' is not one of %s.", *l.RateType, strings.Join(skimmer.RateTypes, ", "))}
	}
	if l.LaborCostType != nil && !slices.Contains(skimmer.LaborCostTypes, *l.LaborCostType) {
		fields["LaborCostType"] = []string{fmt.Sprintf("'%s' is not one of %s.", *l.LaborCostType, strings.Join(skimmer.LaborCostTypes, ", "))}
	}
	if l.MinutesAtStop != nil && *l.MinutesAtStop < 0 {
		fields["MinutesAtStop"] = []string{"Minutes at stop cannot be negative."}
	}
	return fields
}

func blank(s *string) bool { return s == nil || strings.TrimSpace(*s) == "" }
