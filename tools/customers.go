package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/invopop/jsonschema"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sieve"
)

// The customer tools: Skimmer's six customer operations.
func init() {
	register(listCustomers(), searchCustomers(), getCustomer(), createCustomer(), updateCustomer(), deactivateCustomers())
}

// textFields are what search_customers' free text is matched against.
var textFields = []string{"FirstName", "LastName", "CompanyName", "PrimaryEmail", "SecondaryEmail", "Email3", "Email4", "MobilePhone", "MobilePhone2", "HomePhone", "WorkPhone"}

// ---- list_customers

type listCustomersArgs struct {
	Limit          int  `json:"limit,omitempty" jsonschema:"minimum=1,maximum=200,default=25" jsonschema_description:"Customers per answer."`
	Offset         int  `json:"offset,omitempty" jsonschema:"minimum=0" jsonschema_description:"Customers to skip."`
	IncludeDeleted bool `json:"includeDeleted,omitempty" jsonschema_description:"Also list soft-deleted customers."`
	Detail         bool `json:"detail,omitempty" jsonschema_description:"More columns: address, all phones and emails, notes, code, dates."`
}

func listCustomers() Tool {
	return read("list_customers", "List customers",
		"Page through all customers, with counts by status. search_customers finds someone faster.",
		func(ctx context.Context, c *skimmer.Client, a listCustomersArgs) (string, error) {
			sink := &listSink{offset: a.Offset, limit: a.Limit}
			if err := c.ListCustomers(ctx, a.IncludeDeleted, sink); err != nil {
				return "", err
			}
			return renderList(sink, a), nil
		})
}

// listSink counts the whole list and keeps only the requested window, so
// memory stays flat however large the account is.
type listSink struct {
	offset, limit                           int
	total, active, inactive, leads, deleted int
	page                                    []skimmer.Customer
}

func (s *listSink) Reset() { *s = listSink{offset: s.offset, limit: s.limit} }

func (s *listSink) Add(c *skimmer.Customer) error {
	if s.total >= s.offset && len(s.page) < s.limit {
		s.page = append(s.page, *c)
	}
	s.total++
	switch {
	case c.Deleted:
		s.deleted++
	case c.IsInactive:
		s.inactive++
	default:
		s.active++
	}
	if c.IsLead {
		s.leads++
	}
	return nil
}

func renderList(s *listSink, a listCustomersArgs) string {
	var out answer
	counts := fmt.Sprintf("%d active, %d inactive, %d leads", s.active, s.inactive, s.leads)
	if a.IncludeDeleted {
		counts += fmt.Sprintf(", %d deleted", s.deleted)
	} else {
		counts += "; deleted hidden"
	}
	if len(s.page) == 0 {
		return fmt.Sprintf("No customers at offset %d: there are %d (%s).", a.Offset, s.total, counts)
	}
	shown := out.rows(len(s.page), func(i int) string { return customerLine(&s.page[i], a.Detail) })
	out.head = fmt.Sprintf("Customers %d-%d of %d (%s).", a.Offset+1, a.Offset+shown, s.total, counts)
	next := "End of list."
	if a.Offset+shown < s.total {
		next = fmt.Sprintf("Next: offset=%d. To find someone, search_customers is faster.", a.Offset+shown)
	}
	return out.String(next)
}

// ---- search_customers

type searchCustomersArgs struct {
	Text     string      `json:"text,omitempty" jsonschema:"maxLength=100" jsonschema_description:"Words in names, emails or phones, any case."`
	Filters  []filterArg `json:"filters,omitempty" jsonschema:"maxItems=20" jsonschema_description:"All must hold; deleted customers hidden unless filtered on."`
	Sorts    []string    `json:"sorts,omitempty" jsonschema:"maxItems=5" jsonschema_description:"Sort keys; -CreatedAt is newest first."`
	Page     int         `json:"page,omitempty" jsonschema:"minimum=1,default=1" jsonschema_description:"Page number, from 1."`
	PageSize int         `json:"pageSize,omitempty" jsonschema:"minimum=1,maximum=100,default=25" jsonschema_description:"Customers per page."`
	Detail   bool        `json:"detail,omitempty" jsonschema_description:"More columns: address, all phones and emails, notes, code, dates."`
}

type filterArg struct {
	Field string  `json:"field" jsonschema:"required" jsonschema_description:"Field."`
	Op    string  `json:"op" jsonschema:"required" jsonschema_description:"Text only: @= contains, _= starts with, _-= ends with, ! negates, * ignores case. Ordering: dates only."`
	Value *string `json:"value" jsonschema:"required" jsonschema_extras:"x-nullable=true" jsonschema_description:"null: unset text; dates as 2024-05-01."`
}

// JSONSchemaExtend takes the field and operator lists from the client, the
// one place that knows what Skimmer's search accepts.
func (filterArg) JSONSchemaExtend(s *jsonschema.Schema) {
	field, _ := s.Properties.Get("field")
	for _, f := range skimmer.CustomerSearch.Filterable() {
		field.Enum = append(field.Enum, f)
	}
	op, _ := s.Properties.Get("op")
	for _, o := range sieve.Ops() {
		op.Enum = append(op.Enum, string(o))
	}
}

// JSONSchemaExtend names the sortable fields, from the client's schema.
func (searchCustomersArgs) JSONSchemaExtend(s *jsonschema.Schema) {
	sorts, _ := s.Properties.Get("sorts")
	sorts.Description += " Sortable: " + strings.Join(skimmer.CustomerSearch.Sortable(), ", ") + "."
}

func searchCustomers() Tool {
	return read("search_customers", "Search customers",
		"Find customers by text and/or field filters, sorted and paged. Start here: other tools take its ids.",
		func(ctx context.Context, c *skimmer.Client, a searchCustomersArgs) (string, error) {
			q := sieve.Query{Page: a.Page, PageSize: a.PageSize}
			for _, word := range searchWords(a.Text) {
				q.Filters = append(q.Filters, sieve.Filter{Names: textFields, Op: sieve.ContainsIgnoreCase, Values: []sieve.Value{sieve.Text(word)}})
			}
			deletedNamed := false
			for _, f := range a.Filters {
				v := sieve.Null
				if f.Value != nil && !strings.EqualFold(strings.TrimSpace(*f.Value), "null") {
					v = sieve.Text(strings.TrimSpace(*f.Value))
				}
				deletedNamed = deletedNamed || strings.EqualFold(f.Field, "Deleted")
				q.Filters = append(q.Filters, sieve.Filter{Names: []string{f.Field}, Op: sieve.Op(f.Op), Values: []sieve.Value{v}})
			}
			if !deletedNamed {
				q.Filters = append(q.Filters, sieve.Filter{Names: []string{"Deleted"}, Op: sieve.Equals, Values: []sieve.Value{sieve.Text("false")}})
			}
			for _, s := range a.Sorts {
				q.Sorts = append(q.Sorts, sieve.ParseSort(s))
			}
			res, err := c.SearchCustomers(ctx, q)
			if err != nil {
				return "", err
			}
			return renderSearch(res, a), nil
		})
}

// searchWords splits free text into the words each of which must match.
// Punctuation that separates words splits too, so "Smith, Emily" finds Emily
// Smith and "512-555-0176" finds a phone stored as "(512) 555-0176"; the
// characters of an email address (. @ _ +) do not.
func searchWords(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;()/-\"", r)
	})
}

func renderSearch(res *skimmer.SearchResult, a searchCustomersArgs) string {
	pages := 0
	if res.Total >= 0 && res.PageSize > 0 {
		pages = (res.Total + res.PageSize - 1) / res.PageSize
	}
	switch {
	case len(res.Items) == 0 && res.Total > 0:
		return fmt.Sprintf("Page %d is past the end: %d customers make %s.", res.Page, res.Total, plural(pages, "page", "pages"))
	case len(res.Items) == 0:
		return "No customers match. Try fewer or shorter words, or other filters; deleted customers are hidden unless you filter on Deleted."
	}
	var out answer
	if res.Total >= 0 {
		out.addf("%s; page %d of %d.", plural(res.Total, "customer matches", "customers match"), res.Page, pages)
	} else {
		out.addf("Page %d: %d customers (Skimmer did not say how many match).", res.Page, len(res.Items))
	}
	shown := out.rows(len(res.Items), func(i int) string { return customerLine(&res.Items[i], a.Detail) })
	var next string
	switch {
	case shown < len(res.Items):
		next = "For the rest of this page, ask for a smaller pageSize."
	case res.Total < 0 && len(res.Items) == res.PageSize, res.Page < pages:
		next = fmt.Sprintf("Next: page=%d.", res.Page+1)
	}
	return out.String(next)
}

// customerLine is a customer in one line: what a person scanning a list
// looks at, each column recognisable without a legend (id, name with its
// status, city and state, email, phone, tags). Empty columns are left out.
// detail gives the full name and every phone and email in their place,
// and adds the rest of what a list knows.
func customerLine(c *skimmer.Customer, detail bool) string {
	name := shortName(c)
	contact := []string{firstOf(c.PrimaryEmail, c.SecondaryEmail, c.Email3, c.Email4),
		firstOf(c.MobilePhone, c.HomePhone, c.WorkPhone, c.MobilePhone2)}
	if detail {
		name = displayName(c)
		contact = []string{parts(", ", val(c.MobilePhone), val(c.MobilePhone2), val(c.HomePhone), val(c.WorkPhone),
			val(c.PrimaryEmail), val(c.SecondaryEmail), val(c.Email3), val(c.Email4))}
	}
	ps := []string{c.ID, parts(" ", name, wrap(status(c))), parts(" ", val(c.BillingCity), val(c.BillingState))}
	ps = append(ps, contact...)
	ps = append(ps, tagList(c.Tags))
	if detail {
		ps = append(ps,
			parts(" ", val(c.BillingAddress), val(c.BillingZip)),
			prefixed("notes: ", clip(val(c.Notes), 120)),
			prefixed("code ", val(c.CustomerCode)),
			prefixed("source ", val(c.LeadSourceName)),
			"created "+day(c.CreatedAt.Time)+", updated "+day(c.UpdatedAt.Time))
		if c.AccountCredit != 0 {
			ps = append(ps, "credit "+money(c.AccountCredit))
		}
	}
	return parts(" | ", ps...)
}

// shortName is the one name a list shows: the company for a customer
// shown as one, else the person.
func shortName(c *skimmer.Customer) string {
	person := parts(" ", val(c.FirstName), val(c.LastName))
	if company := val(c.CompanyName); company != "" && (c.DisplayAsCompany || person == "") {
		return company
	}
	if person == "" {
		return "(no name)"
	}
	return person
}

// displayName leads with the company when the customer is shown as one.
func displayName(c *skimmer.Customer) string {
	person := parts(" ", val(c.FirstName), val(c.LastName))
	company := val(c.CompanyName)
	switch {
	case company != "" && person != "" && c.DisplayAsCompany:
		return company + " (" + person + ")"
	case company != "" && person != "":
		return person + " (" + company + ")"
	case company != "":
		return company
	case person != "":
		return person
	}
	return "(no name)"
}

func status(c *skimmer.Customer) string {
	var s []string
	if c.Deleted {
		s = append(s, "deleted")
	} else if c.IsInactive {
		s = append(s, "inactive")
	}
	if c.IsLead {
		s = append(s, "lead")
	}
	return strings.Join(s, " ")
}

func firstOf(ss ...*string) string {
	for _, s := range ss {
		if v := val(s); v != "" {
			return v
		}
	}
	return ""
}

func tagList(tags []skimmer.Tag) string {
	if len(tags) == 0 {
		return ""
	}
	names := make([]string, len(tags))
	for i, t := range tags {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

// ---- get_customer

type getCustomerArgs struct {
	ID             string `json:"id" jsonschema:"required" jsonschema_description:"Customer id."`
	IncludeDeleted bool   `json:"includeDeleted,omitempty" jsonschema_description:"Find soft-deleted customers too."`
}

func (getCustomerArgs) JSONSchemaExtend(s *jsonschema.Schema) { idArgs(s, "id") }

// idArgs marks properties as Skimmer ids, which the decoder checks.
func idArgs(s *jsonschema.Schema, names ...string) {
	for _, n := range names {
		p, _ := s.Properties.Get(n)
		if p.Type == "array" {
			p = p.Items
		}
		if p.Extras == nil {
			p.Extras = map[string]any{}
		}
		p.Extras[idMark] = true
	}
}

func getCustomer() Tool {
	return read("get_customer", "Get customer",
		"One customer in full, with service locations (gate codes, dogs, rates).",
		func(ctx context.Context, c *skimmer.Client, a getCustomerArgs) (string, error) {
			cust, err := c.GetCustomer(ctx, a.ID, a.IncludeDeleted)
			if err != nil {
				return "", err
			}
			var out answer
			customerDetail(&out, cust, false)
			return out.String(), nil
		})
}

// customerDetail writes every non-empty field a person would look at,
// grouped and labelled. A draft (a create's preview) has no id, status or
// dates yet.
func customerDetail(out *answer, c *skimmer.Customer, draft bool) {
	if draft {
		out.add(displayName(c))
	} else {
		out.add(parts(" | ", displayName(c), c.ID, status(c)))
	}
	if src := val(c.LeadSourceName); src != "" {
		out.add("Lead source: " + src)
	}
	var phones []string
	for _, p := range []struct {
		label string
		num   *string
		note  string
	}{
		{"mobile", c.MobilePhone, val(c.MobileLabel1)}, {"mobile 2", c.MobilePhone2, val(c.MobileLabel2)},
		{"home", c.HomePhone, ""}, {"work", c.WorkPhone, ""},
	} {
		if n := val(p.num); n != "" {
			note := p.note
			if strings.EqualFold(note, "mobile") || strings.EqualFold(note, "cell") {
				note = "" // says nothing the label does not
			}
			if p.label == "mobile" && c.MobilePhoneSendServiceTexts {
				note = parts(", ", note, "service texts on")
			}
			phones = append(phones, parts(" ", p.label, n, wrap(note)))
		}
	}
	if len(phones) > 0 {
		out.add("Phones: " + strings.Join(phones, "; "))
	}
	var emails []string
	for _, e := range []struct {
		addr    *string
		billing bool
	}{{c.PrimaryEmail, c.PrimaryEmailIsBilling}, {c.SecondaryEmail, c.SecondaryEmailIsBilling}, {c.Email3, c.Email3IsBilling}, {c.Email4, c.Email4IsBilling}} {
		if a := val(e.addr); a != "" {
			if e.billing {
				a += " (billing)"
			}
			emails = append(emails, a)
		}
	}
	if len(emails) > 0 {
		out.add("Emails: " + strings.Join(emails, "; "))
	}
	if addr := parts(", ", val(c.BillingAddress), val(c.BillingCity), parts(" ", val(c.BillingState), val(c.BillingZip))); addr != "" {
		out.add("Billing address: " + addr)
	}
	if t := tagList(c.Tags); t != "" {
		out.add("Tags: " + t)
	}
	var account []string
	if code := val(c.CustomerCode); code != "" {
		account = append(account, "code "+code)
	}
	if c.AccountCredit != 0 {
		account = append(account, "credit "+money(c.AccountCredit))
	}
	if c.DisplayAsCompany {
		account = append(account, "shown as company")
	}
	if len(account) > 0 {
		out.add("Account: " + strings.Join(account, "; "))
	}
	if n := val(c.Notes); n != "" {
		out.add("Notes: " + n)
	}
	if !draft {
		out.add(parts("; ", "Created "+day(c.CreatedAt.Time), "updated "+day(c.UpdatedAt.Time)))
	}
	if len(c.ServiceLocations) == 0 {
		if !draft {
			out.add("Service locations: none")
		}
		return
	}
	out.addf("Service locations (%d):", len(c.ServiceLocations))
	for i, l := range c.ServiceLocations {
		out.addf("%d. %s", i+1, parts(", ", val(l.Address), val(l.City), parts(" ", val(l.State), val(l.Zip))))
		var terms []string
		if l.Rate != nil {
			terms = append(terms, parts(" ", "rate "+money(*l.Rate), val(l.RateType)))
		}
		if l.LaborCost != nil {
			terms = append(terms, parts(" ", "labor "+money(*l.LaborCost), val(l.LaborCostType)))
		}
		if l.MinutesAtStop != nil {
			terms = append(terms, fmt.Sprintf("%d min a stop", *l.MinutesAtStop))
		}
		if len(terms) > 0 {
			out.add("   " + strings.Join(terms, "; "))
		}
		if access := parts("; ", prefixed("gate ", val(l.GateCode)), prefixed("dog ", val(l.DogsName)), prefixed("code ", val(l.LocationCode))); access != "" {
			out.add("   " + access)
		}
		if n := val(l.Notes); n != "" {
			out.add("   Notes: " + n)
		}
	}
}

func wrap(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// ---- the writable fields, shared by create_customer and update_customer

// customerFields are a customer's writable fields as tool arguments. T is
// *string for a create and Patch[string] for an update, so each field and
// its description is written once. The JSON names are Skimmer's, which lets
// a JSON round trip carry arguments into skimmer.CustomerFields.
//
// leadSourceId is left out: no tool lists lead sources, so a model could
// never know a valid one. An update keeps it as it is, like every field it
// is not given.
type customerFields[T any] struct {
	FirstName                   T     `json:"firstName,omitzero" jsonschema_description:"First name."`
	LastName                    T     `json:"lastName,omitzero" jsonschema_description:"Last name."`
	CompanyName                 T     `json:"companyName,omitzero" jsonschema_description:"Company name."`
	DisplayAsCompany            *bool `json:"displayAsCompany,omitempty" jsonschema_description:"Show the company name first."`
	BillingAddress              T     `json:"billingAddress,omitzero" jsonschema_description:"Billing street address."`
	BillingCity                 T     `json:"billingCity,omitzero" jsonschema_description:"Billing city."`
	BillingState                T     `json:"billingState,omitzero" jsonschema_description:"Billing state code, e.g. TX."`
	BillingZip                  T     `json:"billingZip,omitzero" jsonschema_description:"Billing zip code."`
	MobilePhone                 T     `json:"mobilePhone,omitzero" jsonschema_description:"Mobile phone."`
	MobileLabel1                T     `json:"mobileLabel1,omitzero" jsonschema_description:"Label of mobilePhone, e.g. Wife."`
	MobilePhoneSendServiceTexts *bool `json:"mobilePhoneSendServiceTexts,omitempty" jsonschema_description:"Text service updates to mobilePhone."`
	MobilePhone2                T     `json:"mobilePhone2,omitzero" jsonschema_description:"Second mobile phone."`
	MobileLabel2                T     `json:"mobileLabel2,omitzero" jsonschema_description:"Label of mobilePhone2."`
	HomePhone                   T     `json:"homePhone,omitzero" jsonschema_description:"Home phone."`
	WorkPhone                   T     `json:"workPhone,omitzero" jsonschema_description:"Work phone."`
	PrimaryEmail                T     `json:"primaryEmail,omitzero" jsonschema_description:"Main email."`
	PrimaryEmailIsBilling       *bool `json:"primaryEmailIsBilling,omitempty" jsonschema_description:"Send invoices to primaryEmail."`
	SecondaryEmail              T     `json:"secondaryEmail,omitzero" jsonschema_description:"Second email."`
	SecondaryEmailIsBilling     *bool `json:"secondaryEmailIsBilling,omitempty" jsonschema_description:"Send invoices to secondaryEmail."`
	Email3                      T     `json:"email3,omitzero" jsonschema_description:"Third email."`
	Email3IsBilling             *bool `json:"email3IsBilling,omitempty" jsonschema_description:"Send invoices to email3."`
	Email4                      T     `json:"email4,omitzero" jsonschema_description:"Fourth email."`
	Email4IsBilling             *bool `json:"email4IsBilling,omitempty" jsonschema_description:"Send invoices to email4."`
	Notes                       T     `json:"notes,omitzero" jsonschema_description:"Notes about the customer."`
	CustomerCode                T     `json:"customerCode,omitzero" jsonschema_description:"Customer code."`
}

// ---- create_customer

type createCustomerArgs struct {
	customerFields[*string]
	Tags             []string        `json:"tags,omitempty" jsonschema:"maxItems=20" jsonschema_description:"Tag names, e.g. Weekly."`
	ServiceLocations []locationInput `json:"serviceLocations,omitempty" jsonschema:"maxItems=20" jsonschema_description:"Where the pools are."`
	confirmation
}

// locationInput is a new service location. Coordinates are left out:
// nobody types them, and Skimmer places an address itself.
type locationInput struct {
	Address       *string  `json:"address,omitempty" jsonschema_description:"Street address."`
	City          *string  `json:"city,omitempty" jsonschema_description:"City."`
	State         *string  `json:"state,omitempty" jsonschema_description:"State code."`
	Zip           *string  `json:"zip,omitempty" jsonschema_description:"Zip code."`
	Rate          *float64 `json:"rate,omitempty" jsonschema_description:"Price, per rateType."`
	RateType      *string  `json:"rateType,omitempty" jsonschema_description:"How rate is charged."`
	LaborCost     *float64 `json:"laborCost,omitempty" jsonschema_description:"Technician pay, per laborCostType."`
	LaborCostType *string  `json:"laborCostType,omitempty" jsonschema_description:"How laborCost is paid."`
	MinutesAtStop *int     `json:"minutesAtStop,omitempty" jsonschema:"minimum=0" jsonschema_description:"Minutes a visit takes."`
	GateCode      *string  `json:"gateCode,omitempty" jsonschema_description:"Gate code."`
	DogsName      *string  `json:"dogsName,omitempty" jsonschema_description:"Dog's name."`
	Notes         *string  `json:"notes,omitempty" jsonschema_description:"Notes for the technician."`
	LocationCode  *string  `json:"locationCode,omitempty" jsonschema_description:"Location code."`
}

// JSONSchemaExtend takes the rate enums from the client's model.
func (locationInput) JSONSchemaExtend(s *jsonschema.Schema) {
	for name, values := range map[string][]string{"rateType": skimmer.RateTypes, "laborCostType": skimmer.LaborCostTypes} {
		p, _ := s.Properties.Get(name)
		for _, v := range values {
			p.Enum = append(p.Enum, v)
		}
	}
}

func createCustomer() Tool {
	return write("create_customer", "Create customer",
		"Create a customer, with service locations and tags if given.",
		adds, func(ctx context.Context, c *skimmer.Client, a createCustomerArgs) (*Plan, error) {
			var req skimmer.CreateCustomerRequest
			if err := convert(a.customerFields, &req.CustomerFields); err != nil {
				return nil, err
			}
			if err := convert(a.ServiceLocations, &req.ServiceLocations); err != nil {
				return nil, err
			}
			if req.ServiceLocations == nil {
				req.ServiceLocations = []skimmer.ServiceLocation{}
			}
			for _, name := range a.Tags {
				req.Tags = append(req.Tags, skimmer.Tag{Name: strings.TrimSpace(name)})
			}
			draft := &skimmer.Customer{CustomerFields: req.CustomerFields, ServiceLocations: req.ServiceLocations}
			var preview answer
			preview.add("Would create this customer:")
			customerDetail(&preview, draft, true)
			return &Plan{
				Preview: preview.String(),
				Apply: func(ctx context.Context) (string, error) {
					created, err := c.CreateCustomer(ctx, req)
					if err != nil {
						return "", err
					}
					return fmt.Sprintf("Created customer %s, id %s, with %s.", displayName(created), created.ID,
						plural(len(created.ServiceLocations), "service location", "service locations")), nil
				},
				Done: func(ctx context.Context, since time.Time) (string, error) {
					found, err := findCreated(ctx, c, req.CustomerFields, since)
					if found == nil || err != nil {
						return "", err
					}
					return fmt.Sprintf("Already created: customer %s, id %s, by an earlier use of this same confirmation; not created again.", displayName(found), found.ID), nil
				},
			}, nil
		})
}

// findCreated looks for a customer with exactly these names and email,
// created since the given time. Text Sieve cannot express (leading spaces)
// is not looked for: the check is skipped rather than wrong.
func findCreated(ctx context.Context, c *skimmer.Client, f skimmer.CustomerFields, since time.Time) (*skimmer.Customer, error) {
	q := sieve.Query{Page: 1, PageSize: 1, Filters: []sieve.Filter{
		{Names: []string{"CreatedAt"}, Op: sieve.GreaterOrEqual, Values: []sieve.Value{sieve.Text(since.UTC().Format(time.RFC3339))}},
	}}
	for _, field := range []struct {
		name  string
		value *string
	}{{"FirstName", f.FirstName}, {"LastName", f.LastName}, {"CompanyName", f.CompanyName}, {"PrimaryEmail", f.PrimaryEmail}} {
		v := sieve.Null
		if field.value != nil {
			v = sieve.Text(*field.value)
		}
		q.Filters = append(q.Filters, sieve.Filter{Names: []string{field.name}, Op: sieve.Equals, Values: []sieve.Value{v}})
	}
	res, err := c.SearchCustomers(ctx, q)
	switch {
	case errors.Is(err, sieve.ErrInvalid):
		return nil, nil
	case err != nil:
		return nil, err
	case len(res.Items) == 0:
		return nil, nil
	}
	return &res.Items[0], nil
}

// convert moves values between types that share JSON names.
func convert(from, to any) error {
	raw, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, to)
}

// ---- update_customer

type updateCustomerArgs struct {
	ID string `json:"id" jsonschema:"required" jsonschema_description:"Customer id."`
	customerFields[Patch[string]]
	AddTags    []string `json:"addTags,omitempty" jsonschema:"maxItems=20" jsonschema_description:"Tag names to add."`
	RemoveTags []string `json:"removeTags,omitempty" jsonschema:"maxItems=20" jsonschema_description:"Tag names to remove."`
	confirmation
}

func (updateCustomerArgs) JSONSchemaExtend(s *jsonschema.Schema) { idArgs(s, "id") }

func updateCustomer() Tool {
	return write("update_customer", "Update customer",
		"Change the fields you pass and nothing else; null clears a field.",
		overwrites, func(ctx context.Context, c *skimmer.Client, a updateCustomerArgs) (*Plan, error) {
			cur, err := c.GetCustomer(ctx, a.ID, false)
			if err != nil {
				return nil, err
			}
			_, changes, err := patchCustomer(cur, a)
			if err != nil {
				return nil, err
			}
			who := fmt.Sprintf("customer %s, id %s", displayName(cur), cur.ID)
			if len(changes) == 0 {
				return &Plan{Unchanged: fmt.Sprintf("Nothing to change: %s already has these values.", who)}, nil
			}
			return &Plan{
				Preview: "Would update " + who + ":\n" + strings.Join(changes, "\n") + "\nEvery other field stays as it is.",
				Apply: func(ctx context.Context) (string, error) {
					// Skimmer replaces the whole customer and has no ETags. Read
					// it again right before the PUT, under a lock that queues
					// this server's other writes to the customer: fields this
					// call does not name keep their latest values, and only a
					// writer outside this process can slip in between.
					defer recordLocks.lock(cur.ID)()
					fresh, err := c.GetCustomer(ctx, cur.ID, false)
					if err != nil {
						return "", err
					}
					req, changes, err := patchCustomer(fresh, a)
					if err != nil {
						return "", err
					}
					if len(changes) == 0 {
						return fmt.Sprintf("Nothing to change: %s already has these values.", who), nil
					}
					got, err := c.UpdateCustomer(ctx, req)
					if err != nil {
						return "", err
					}
					report := fmt.Sprintf("Updated %s:\n%s", who, strings.Join(changes, "\n"))
					if drift := fieldDrift(req.CustomerFields, got.CustomerFields); drift != "" {
						report += "\nWarning: Skimmer stored different values than sent for " + drift + "; check with get_customer."
					}
					return report, nil
				},
			}, nil
		})
}

// patchCustomer applies the arguments to a customer: the update to send,
// and the changes it makes, one "  field: old → new" line each.
func patchCustomer(cur *skimmer.Customer, a updateCustomerArgs) (skimmer.UpdateCustomerRequest, []string, error) {
	req := cur.UpdateRequest()
	changes, err := mergeFields(&req.CustomerFields, a.customerFields)
	if err != nil {
		return req, nil, err
	}
	if tagChange := editTags(&req.CustomerFields, a.AddTags, a.RemoveTags); tagChange != "" {
		changes = append(changes, "  tags: "+tagChange)
	}
	return req, changes, nil
}

// mergeFields applies the given patches to f as a JSON merge patch, and
// describes each change as "  field: old → new".
func mergeFields(f *skimmer.CustomerFields, patch customerFields[Patch[string]]) ([]string, error) {
	var cur, set map[string]any
	if err := convert(f, &cur); err != nil {
		return nil, err
	}
	if err := convert(patch, &set); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var changes []string
	for _, k := range keys {
		if fmt.Sprint(cur[k]) == fmt.Sprint(set[k]) && (cur[k] == nil) == (set[k] == nil) {
			continue
		}
		changes = append(changes, changeLine(k, cur[k], set[k]))
		cur[k] = set[k]
	}
	return changes, convert(cur, f)
}

// editTags adds and removes tags by name, any case. Removing a tag the
// customer does not have changes nothing, so that the same call twice is
// harmless, as the tool's idempotent hint promises.
func editTags(f *skimmer.CustomerFields, add, remove []string) string {
	var out []string
	for _, name := range remove {
		i := slices.IndexFunc(f.Tags, func(t skimmer.Tag) bool { return strings.EqualFold(t.Name, strings.TrimSpace(name)) })
		if i < 0 {
			continue
		}
		out = append(out, "-"+f.Tags[i].Name)
		f.Tags = slices.Delete(f.Tags, i, i+1)
	}
	for _, name := range add {
		name = strings.TrimSpace(name)
		if name == "" || slices.ContainsFunc(f.Tags, func(t skimmer.Tag) bool { return strings.EqualFold(t.Name, name) }) {
			continue
		}
		out = append(out, "+"+name)
		f.Tags = append(f.Tags, skimmer.Tag{Name: name})
	}
	return strings.Join(out, " ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// fieldDrift names the fields Skimmer stored differently from what was
// sent, tags compared by name.
func fieldDrift(sent, got skimmer.CustomerFields) string {
	sentTags, gotTags := tagList(sent.Tags), tagList(got.Tags)
	sent.Tags, got.Tags = nil, nil
	var a, b map[string]any
	if convert(sent, &a) != nil || convert(got, &b) != nil {
		return ""
	}
	var drift []string
	for k, v := range a {
		if fmt.Sprint(v) != fmt.Sprint(b[k]) {
			drift = append(drift, k)
		}
	}
	if sentTags != gotTags {
		drift = append(drift, "tags")
	}
	slices.Sort(drift)
	return strings.Join(drift, ", ")
}

// ---- deactivate_customers

type deactivateCustomersArgs struct {
	IDs                       []string `json:"ids" jsonschema:"required,minItems=1,maxItems=50" jsonschema_description:"Customer ids."`
	DeleteRouteAssignments    bool     `json:"deleteRouteAssignments,omitempty" jsonschema_description:"Delete their route assignments."`
	DeleteWorkOrders          bool     `json:"deleteWorkOrders,omitempty" jsonschema_description:"Delete their work orders."`
	DeleteWorkOrderReminders  bool     `json:"deleteWorkOrderReminders,omitempty" jsonschema_description:"Delete their work order reminders."`
	DeleteTags                bool     `json:"deleteTags,omitempty" jsonschema_description:"Remove their tags."`
	DeleteRepeatingWorkOrders bool     `json:"deleteRepeatingWorkOrders,omitempty" jsonschema_description:"Delete their repeating work orders."`
	confirmation
}

func (deactivateCustomersArgs) JSONSchemaExtend(s *jsonschema.Schema) { idArgs(s, "ids") }

func deactivateCustomers() Tool {
	return write("deactivate_customers", "Deactivate customers",
		"Mark customers inactive (they stay on record); delete flags also remove what hangs off them.",
		removes, func(ctx context.Context, c *skimmer.Client, a deactivateCustomersArgs) (*Plan, error) {
			found, err := customersByID(ctx, c, a.IDs)
			if err != nil {
				return nil, err
			}
			var ids, names, lines []string
			for _, id := range a.IDs {
				if slices.Contains(ids, id) {
					continue
				}
				cust := found[id]
				if cust == nil { // not in the search's answer: ask for it alone
					cust, err = c.GetCustomer(ctx, id, false)
					if errors.Is(err, skimmer.ErrNotFound) {
						return nil, refuse("not_found", "No customer has the id %s (or it is deleted); nothing was changed. Check the ids with search_customers.", id)
					}
					if err != nil {
						return nil, err
					}
				}
				line := "- " + parts(" | ", cust.ID, displayName(cust), parts(" ", val(cust.BillingCity), val(cust.BillingState)))
				if cust.IsInactive {
					line += " (already inactive)"
				}
				ids, names, lines = append(ids, id), append(names, displayName(cust)), append(lines, line)
			}
			var run, keep []string
			for _, cascade := range []struct {
				on   bool
				what string
			}{{a.DeleteRouteAssignments, "route assignments"}, {a.DeleteWorkOrders, "work orders"}, {a.DeleteWorkOrderReminders, "work order reminders"},
				{a.DeleteTags, "tags"}, {a.DeleteRepeatingWorkOrders, "repeating work orders"}} {
				if cascade.on {
					run = append(run, cascade.what)
				} else {
					keep = append(keep, cascade.what)
				}
			}
			cascades := "Deletes: " + orNone(strings.Join(run, ", ")) + ". Keeps: " + orNone(strings.Join(keep, ", ")) + "."
			check := &Check{Prompt: fmt.Sprintf("Type %d to deactivate %s", len(ids), plural(len(ids), "customer", "customers")), Answer: fmt.Sprint(len(ids))}
			if len(ids) == 1 {
				check = &Check{Prompt: "Type the customer's name to deactivate them: " + names[0], Answer: names[0]}
			}
			req := skimmer.DeactivateCustomersRequest{IDs: ids, DeleteRouteAssignments: a.DeleteRouteAssignments, DeleteWorkOrders: a.DeleteWorkOrders,
				DeleteWorkOrderReminders: a.DeleteWorkOrderReminders, DeleteTags: a.DeleteTags, DeleteRepeatingWorkOrders: a.DeleteRepeatingWorkOrders}
			return &Plan{
				Preview: fmt.Sprintf("Would deactivate %s:\n%s\n%s", plural(len(ids), "customer", "customers"), strings.Join(lines, "\n"), cascades),
				Check:   check,
				Apply: func(ctx context.Context) (string, error) {
					if err := c.DeactivateCustomers(ctx, req); err != nil {
						return "", err
					}
					return fmt.Sprintf("Deactivated %s:\n%s\n%s", plural(len(ids), "customer", "customers"), strings.Join(lines, "\n"), cascades), nil
				},
			}, nil
		})
}

// customersByID reads the customers with these ids, not deleted, in one
// search (Id==a|b|...), up to a page of them. What the search does not
// return is left for the caller to ask for one by one; a search Skimmer
// refuses or ignores leaves all of them.
func customersByID(ctx context.Context, c *skimmer.Client, ids []string) (map[string]*skimmer.Customer, error) {
	values := make([]sieve.Value, len(ids))
	for i, id := range ids {
		values[i] = sieve.Text(id)
	}
	res, err := c.SearchCustomers(ctx, sieve.Query{Page: 1, PageSize: len(ids), Filters: []sieve.Filter{
		{Names: []string{"Id"}, Op: sieve.Equals, Values: values},
		{Names: []string{"Deleted"}, Op: sieve.Equals, Values: []sieve.Value{sieve.Text("false")}},
	}})
	switch {
	case errors.Is(err, sieve.ErrInvalid), errors.Is(err, skimmer.ErrSearchIgnored), errors.Is(err, skimmer.ErrValidation):
		return nil, nil
	case err != nil:
		return nil, err
	}
	found := make(map[string]*skimmer.Customer, len(res.Items))
	for i := range res.Items {
		found[strings.ToLower(res.Items[i].ID)] = &res.Items[i]
	}
	return found, nil
}
