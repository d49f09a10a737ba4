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

// customers is Skimmer's customers: six operations, the customer card and
// its completion, and the office's everyday customer workflows.
var customers = &Area{
	Name:         "customers",
	Instructions: "Start with search_customers: its ids feed every other tool.",
	Tools:        []Tool{listCustomers(), searchCustomers(), getCustomer(), createCustomer(), updateCustomer(), deactivateCustomers()},
	Resources:    []Resource{customerCard()},
	Prompts:      []Prompt{customerBrief(), winBack(), findDuplicates()},
	IDs:          []IDKind{{Name: "customer", Hint: "customer ids come from search_customers"}},
	NotFound: map[skimmer.Operation]string{
		skimmer.OpGetCustomer:    customerNotFound,
		skimmer.OpUpdateCustomer: customerNotFound,
	},
	Mirrors: []Mirror{
		{Args: createCustomerArgs{}, Model: skimmer.CreateCustomerRequest{},
			ArgsOnly: map[string]string{"tags": "tag names, each sent as a tag"}, ModelOnly: unexposedCustomerFields},
		{Args: updateCustomerArgs{}, Model: skimmer.UpdateCustomerRequest{},
			ArgsOnly: map[string]string{"addTags": "edits the tags by name", "removeTags": "edits the tags by name"}, ModelOnly: unexposedCustomerFields},
		{Args: locationInput{}, Model: skimmer.ServiceLocation{}, ModelOnly: map[string]string{
			"id": "Skimmer assigns it", "customerId": "the customer being created", "deleted": "a new location is not deleted",
			"latitude": "Skimmer places an address itself", "longitude": "Skimmer places an address itself",
		}},
		{Args: deactivateCustomersArgs{}, Model: skimmer.DeactivateCustomersRequest{}},
	},
	Icon:          customerIcon,
	ContextBudget: 2100,
}

func init() { register(customers) }

const customerNotFound = "Skimmer has no customer with that id, or it is deleted. Find ids with search_customers; get_customer takes includeDeleted: true."

// unexposedCustomerFields are the writable customer fields no argument
// sets as they are, and why.
var unexposedCustomerFields = map[string]string{
	"tags":         "set by name, through tags, addTags and removeTags",
	"leadSourceId": "no tool lists lead sources, so a model could never know a valid one; an update keeps it as it is",
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
	counts := fmt.Sprintf("%d active, %d inactive, %s", s.active, s.inactive, plural(s.leads, "lead", "leads"))
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
	words := searchWords(a.Text)
	shown := out.rows(len(res.Items), func(i int) string { return customerLine(&res.Items[i], a.Detail, words...) })
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
// Of several emails and phones the line shows one each: the one holding
// most of the words searched for, if any, so that a phone search shows the
// phone that matched. detail gives the full name and every phone and email
// in their place, and adds the rest of what a list knows.
func customerLine(c *skimmer.Customer, detail bool, searched ...string) string {
	var name string
	var contact []string
	if detail {
		name = displayName(c)
		contact = []string{parts(", ", val(c.MobilePhone), val(c.MobilePhone2), val(c.HomePhone), val(c.WorkPhone),
			val(c.PrimaryEmail), val(c.SecondaryEmail), val(c.Email3), val(c.Email4))}
	} else {
		name = shortName(c)
		contact = []string{matching(searched, c.PrimaryEmail, c.SecondaryEmail, c.Email3, c.Email4),
			compactPhone(matching(searched, c.MobilePhone, c.HomePhone, c.WorkPhone, c.MobilePhone2))}
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

// matching is the first set value holding the most of words (any case).
func matching(words []string, values ...*string) string {
	if len(words) == 0 {
		return firstOf(values...)
	}
	best, most := "", -1
	for _, v := range values {
		s := val(v)
		if s == "" {
			continue
		}
		lower, n := strings.ToLower(s), 0
		for _, w := range words {
			if strings.Contains(lower, strings.ToLower(w)) {
				n++
			}
		}
		if n > most {
			best, most = s, n
		}
	}
	return best
}

// compactPhone writes a US phone as Skimmer's app stores it, (512)
// 555-0176, as 512-555-0176 in a list line: the same number in a token
// less, on a page where every token counts. The record itself
// (get_customer, detail) shows it as stored.
func compactPhone(s string) string {
	if len(s) != 14 || s[0] != '(' || s[4] != ')' || s[5] != ' ' || s[9] != '-' || !digits(s[1:4]) || !digits(s[6:9]) || !digits(s[10:]) {
		return s
	}
	return s[1:4] + "-" + s[6:9] + "-" + s[10:]
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
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

func (getCustomerArgs) JSONSchemaExtend(s *jsonschema.Schema) { idArgs(s, "customer", "id") }

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

// ---- the writable fields, shared by create_customer and update_customer

// customerFields are a customer's writable fields as tool arguments. T is
// *string for a create and Patch[string] for an update, so each field and
// its description is written once; a name that says it all is left
// undescribed ("(plain)"), since every conversation pays for the words. The JSON names are Skimmer's, which lets
// a JSON round trip carry arguments into skimmer.CustomerFields.
//
// leadSourceId is left out: no tool lists lead sources, so a model could
// never know a valid one. An update keeps it as it is, like every field it
// is not given.
type customerFields[T any] struct {
	FirstName                   T     `json:"firstName,omitzero" jsonschema_description:"(plain)"`
	LastName                    T     `json:"lastName,omitzero" jsonschema_description:"(plain)"`
	CompanyName                 T     `json:"companyName,omitzero" jsonschema_description:"(plain)"`
	DisplayAsCompany            *bool `json:"displayAsCompany,omitempty" jsonschema_description:"Show the company name first."`
	BillingAddress              T     `json:"billingAddress,omitzero" jsonschema_description:"(plain)"`
	BillingCity                 T     `json:"billingCity,omitzero" jsonschema_description:"(plain)"`
	BillingState                T     `json:"billingState,omitzero" jsonschema_description:"Billing state code, e.g. TX."`
	BillingZip                  T     `json:"billingZip,omitzero" jsonschema_description:"(plain)"`
	MobilePhone                 T     `json:"mobilePhone,omitzero" jsonschema_description:"(plain)"`
	MobileLabel1                T     `json:"mobileLabel1,omitzero" jsonschema_description:"Label of mobilePhone, e.g. Wife."`
	MobilePhoneSendServiceTexts *bool `json:"mobilePhoneSendServiceTexts,omitempty" jsonschema_description:"Text service updates to mobilePhone."`
	MobilePhone2                T     `json:"mobilePhone2,omitzero" jsonschema_description:"(plain)"`
	MobileLabel2                T     `json:"mobileLabel2,omitzero" jsonschema_description:"(plain)"`
	HomePhone                   T     `json:"homePhone,omitzero" jsonschema_description:"(plain)"`
	WorkPhone                   T     `json:"workPhone,omitzero" jsonschema_description:"(plain)"`
	PrimaryEmail                T     `json:"primaryEmail,omitzero" jsonschema_description:"(plain)"`
	PrimaryEmailIsBilling       *bool `json:"primaryEmailIsBilling,omitempty" jsonschema_description:"Send invoices to primaryEmail."`
	SecondaryEmail              T     `json:"secondaryEmail,omitzero" jsonschema_description:"(plain)"`
	SecondaryEmailIsBilling     *bool `json:"secondaryEmailIsBilling,omitempty" jsonschema_description:"Send invoices to secondaryEmail."`
	Email3                      T     `json:"email3,omitzero" jsonschema_description:"(plain)"`
	Email3IsBilling             *bool `json:"email3IsBilling,omitempty" jsonschema_description:"Send invoices to email3."`
	Email4                      T     `json:"email4,omitzero" jsonschema_description:"(plain)"`
	Email4IsBilling             *bool `json:"email4IsBilling,omitempty" jsonschema_description:"Send invoices to email4."`
	Notes                       T     `json:"notes,omitzero" jsonschema_description:"(plain)"`
	CustomerCode                T     `json:"customerCode,omitzero" jsonschema_description:"(plain)"`
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
	Address       *string  `json:"address,omitempty" jsonschema_description:"(plain)"`
	City          *string  `json:"city,omitempty" jsonschema_description:"(plain)"`
	State         *string  `json:"state,omitempty" jsonschema_description:"State code."`
	Zip           *string  `json:"zip,omitempty" jsonschema_description:"(plain)"`
	Rate          *float64 `json:"rate,omitempty" jsonschema_description:"Price, per rateType."`
	RateType      *string  `json:"rateType,omitempty" jsonschema_description:"How rate is charged."`
	LaborCost     *float64 `json:"laborCost,omitempty" jsonschema_description:"Technician pay, per laborCostType."`
	LaborCostType *string  `json:"laborCostType,omitempty" jsonschema_description:"How laborCost is paid."`
	MinutesAtStop *int     `json:"minutesAtStop,omitempty" jsonschema:"minimum=0" jsonschema_description:"Minutes a visit takes."`
	GateCode      *string  `json:"gateCode,omitempty" jsonschema_description:"(plain)"`
	DogsName      *string  `json:"dogsName,omitempty" jsonschema_description:"(plain)"`
	Notes         *string  `json:"notes,omitempty" jsonschema_description:"Notes for the technician."`
	LocationCode  *string  `json:"locationCode,omitempty" jsonschema_description:"(plain)"`
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
		adds, func(ctx context.Context, w *writeCall, a createCustomerArgs) (*Plan, error) {
			var req skimmer.CreateCustomerRequest
			if err := carry(a.customerFields, &req.CustomerFields); err != nil {
				return nil, err
			}
			if err := carry(a.ServiceLocations, &req.ServiceLocations); err != nil {
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
					created, err := w.client.CreateCustomer(ctx, req)
					if err != nil {
						return "", err
					}
					return fmt.Sprintf("Created customer %s, id %s, with %s.", displayName(created), created.ID,
						plural(len(created.ServiceLocations), "service location", "service locations")), nil
				},
				Done: func(ctx context.Context, since time.Time) (string, error) {
					found, err := findCreated(ctx, w.client, req.CustomerFields, since)
					if found == nil || err != nil {
						return "", err
					}
					return fmt.Sprintf("Already created: customer %s, id %s, by an earlier use of this same confirmation; not created again.", displayName(found), found.ID), nil
				},
			}, nil
		})
}

// findCreated looks for a customer created since the given time with
// exactly these names and email. It asks Skimmer only for what was created
// since then, newest first, and compares in Go: a name Sieve cannot express
// (a leading space, say) is still compared.
func findCreated(ctx context.Context, c *skimmer.Client, f skimmer.CustomerFields, since time.Time) (*skimmer.Customer, error) {
	res, err := c.SearchCustomers(ctx, sieve.Query{Page: 1, PageSize: 100,
		Filters: []sieve.Filter{{Names: []string{"CreatedAt"}, Op: sieve.GreaterOrEqual, Values: []sieve.Value{sieve.Text(since.UTC().Format(time.RFC3339))}}},
		Sorts:   []sieve.Sort{sieve.ParseSort("-CreatedAt")},
	})
	if err != nil {
		return nil, err
	}
	same := func(a, b *string) bool { return val(a) == val(b) }
	for i := range res.Items {
		x := &res.Items[i]
		if same(x.FirstName, f.FirstName) && same(x.LastName, f.LastName) && same(x.CompanyName, f.CompanyName) && same(x.PrimaryEmail, f.PrimaryEmail) {
			return x, nil
		}
	}
	return nil, nil
}

// ---- update_customer

type updateCustomerArgs struct {
	ID string `json:"id" jsonschema:"required" jsonschema_description:"Customer id."`
	customerFields[Patch[string]]
	AddTags    []string `json:"addTags,omitempty" jsonschema:"maxItems=20" jsonschema_description:"Tag names to add."`
	RemoveTags []string `json:"removeTags,omitempty" jsonschema:"maxItems=20" jsonschema_description:"Tag names to remove."`
	confirmation
}

func (updateCustomerArgs) JSONSchemaExtend(s *jsonschema.Schema) { idArgs(s, "customer", "id") }

func updateCustomer() Tool {
	return write("update_customer", "Update customer",
		"Change the fields you pass and nothing else; null clears a field.",
		overwrites, func(ctx context.Context, w *writeCall, a updateCustomerArgs) (*Plan, error) {
			return planUpdate(ctx, w, recordUpdate[*skimmer.Customer]{
				kind: "customer", id: a.ID,
				read: func(ctx context.Context) (*skimmer.Customer, error) { return w.client.GetCustomer(ctx, a.ID, false) },
				merge: func(cur *skimmer.Customer) ([]string, func(context.Context) (string, error), error) {
					req, changes, err := patchCustomer(cur, a)
					return changes, func(ctx context.Context) (string, error) {
						got, err := w.client.UpdateCustomer(ctx, req)
						if err != nil {
							return "", err
						}
						if drift := fieldDrift(req.CustomerFields, got.CustomerFields); drift != "" {
							return "\nWarning: Skimmer stored different values than sent for " + drift + "; check with get_customer.", nil
						}
						return "", nil
					}, err
				},
				what: func(cur *skimmer.Customer) string { return fmt.Sprintf("customer %s, id %s", displayName(cur), cur.ID) },
				note: "Every other field stays as it is.",
			})
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
	if err := carry(f, &cur); err != nil {
		return nil, err
	}
	if err := carry(patch, &set); err != nil {
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
	// Decoded into a fresh value, not over f: f's pointers are shared
	// with the record it was copied from, and decoding over them would
	// write the new values into that record too, so that the preview
	// named the customer by the name they are about to get.
	var merged skimmer.CustomerFields
	if err := carry(cur, &merged); err != nil {
		return nil, err
	}
	*f = merged
	return changes, nil
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

// fieldDrift names the fields Skimmer stored differently from what was
// sent, tags compared by name.
func fieldDrift(sent, got skimmer.CustomerFields) string {
	sentTags, gotTags := tagList(sent.Tags), tagList(got.Tags)
	sent.Tags, got.Tags = nil, nil
	var a, b map[string]any
	if carry(sent, &a) != nil || carry(got, &b) != nil {
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
	DeleteRouteAssignments    bool     `json:"deleteRouteAssignments,omitempty" jsonschema_description:"(plain)"`
	DeleteWorkOrders          bool     `json:"deleteWorkOrders,omitempty" jsonschema_description:"(plain)"`
	DeleteWorkOrderReminders  bool     `json:"deleteWorkOrderReminders,omitempty" jsonschema_description:"(plain)"`
	DeleteTags                bool     `json:"deleteTags,omitempty" jsonschema_description:"(plain)"`
	DeleteRepeatingWorkOrders bool     `json:"deleteRepeatingWorkOrders,omitempty" jsonschema_description:"(plain)"`
	confirmation
}

func (deactivateCustomersArgs) JSONSchemaExtend(s *jsonschema.Schema) { idArgs(s, "customer", "ids") }

func deactivateCustomers() Tool {
	return write("deactivate_customers", "Deactivate customers",
		"Mark customers inactive (they stay on record); delete flags also remove what hangs off them.",
		removes, func(ctx context.Context, w *writeCall, a deactivateCustomersArgs) (*Plan, error) {
			found, err := customersByID(ctx, w.client, a.IDs)
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
					cust, err = w.client.GetCustomer(ctx, id, false)
					if errors.Is(err, skimmer.ErrNotFound) {
						return nil, refuse(failNotFound, "No customer has the id %s (or it is deleted); nothing was changed. Check the ids with search_customers.", id)
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
					if err := w.client.DeactivateCustomers(ctx, req); err != nil {
						return "", err
					}
					return fmt.Sprintf("Deactivated %s:\n%s\n%s", plural(len(ids), "customer", "customers"), strings.Join(lines, "\n"), cascades), nil
				},
			}, nil
		})
}

// ---- the customer card, and how a person names a customer

// customerCard is get_customer's text, as a resource a person attaches.
func customerCard() Resource {
	return template("skimmer://customers/{+customer}", "customer", "Customer card",
		"A customer in full: contact, billing, tags, service locations with gate codes and dogs. Type part of a name to pick one.",
		"get_customer",
		func(ctx context.Context, c *skimmer.Client, vars map[string]string) (string, error) {
			cust, choices, err := whichCustomer(ctx, c, vars["customer"])
			if cust == nil || err != nil {
				return choices, err
			}
			var out answer
			customerDetail(&out, cust, false)
			return out.String(), nil
		},
		map[string]completer{"customer": completeCustomer})
}

// completeCustomer suggests customers whose names, emails or phones hold
// what a person typed, each as a label they recognise:
// "Emily Smith (Austin TX)".
func completeCustomer(ctx context.Context, c *skimmer.Client, typed string, _ map[string]string) ([]string, error) {
	if len([]rune(typed)) < 2 {
		return nil, nil
	}
	res, err := searchByName(ctx, c, typed, 25)
	if err != nil {
		return nil, err
	}
	return customerLabels(res.Items), nil
}

// customerLabels names each customer as a person picks one from a list:
// the name, then where they are; customers who share both get the start
// of their id as well.
func customerLabels(cs []skimmer.Customer) []string {
	base := make([]string, len(cs))
	seen := map[string]int{}
	for i := range cs {
		base[i] = shortName(&cs[i])
		if place := parts(" ", val(cs[i].BillingCity), val(cs[i].BillingState)); place != "" {
			base[i] += " (" + place + ")"
		}
		seen[strings.ToLower(base[i])]++
	}
	out := make([]string, len(cs))
	for i, b := range base {
		out[i] = b
		if seen[strings.ToLower(b)] > 1 {
			if strings.HasSuffix(b, ")") {
				out[i] = strings.TrimSuffix(b, ")") + ", " + cs[i].ID[:6] + ")"
			} else {
				out[i] = b + " (" + cs[i].ID[:6] + ")"
			}
		}
	}
	return out
}

// labelName is the name part of a label: what a search looks for.
func labelName(label string) string {
	if i := strings.LastIndex(label, " ("); i > 0 && strings.HasSuffix(label, ")") {
		return label[:i]
	}
	return label
}

// searchByName finds customers, not deleted, whose names, emails or phones
// hold every word of text.
func searchByName(ctx context.Context, c *skimmer.Client, text string, size int) (*skimmer.SearchResult, error) {
	q := sieve.Query{Page: 1, PageSize: size, Sorts: []sieve.Sort{sieve.ParseSort("LastName"), sieve.ParseSort("FirstName")},
		Filters: []sieve.Filter{{Names: []string{"Deleted"}, Op: sieve.Equals, Values: []sieve.Value{sieve.Text("false")}}}}
	for _, word := range searchWords(text) {
		q.Filters = append(q.Filters, sieve.Filter{Names: textFields, Op: sieve.ContainsIgnoreCase, Values: []sieve.Value{sieve.Text(word)}})
	}
	return c.SearchCustomers(ctx, q)
}

// whichCustomer resolves what a person picked or typed for a customer: an
// id, a label from completeCustomer, or part of a name. One match is read
// in full. Several are listed, each with its id, for the person to choose;
// none is an error that says what to do instead.
func whichCustomer(ctx context.Context, c *skimmer.Client, value string) (*skimmer.Customer, string, error) {
	value = strings.TrimSpace(value)
	if idFormat.MatchString(value) {
		cust, err := c.GetCustomer(ctx, value, false)
		return cust, "", err
	}
	if len(searchWords(labelName(value))) == 0 {
		return nil, "", refuse(failInvalidArguments, "Name a customer: type part of a name and pick one of the suggestions, or give an id from search_customers.")
	}
	res, err := searchByName(ctx, c, labelName(value), 50)
	if err != nil {
		return nil, "", err
	}
	var picked []int
	for i, l := range customerLabels(res.Items) {
		if strings.EqualFold(l, value) {
			picked = append(picked, i)
		}
	}
	if len(picked) == 0 && len(res.Items) == 1 {
		picked = []int{0}
	}
	switch {
	case len(picked) == 1:
		cust, err := c.GetCustomer(ctx, res.Items[picked[0]].ID, false)
		return cust, "", err
	case len(res.Items) == 0:
		return nil, "", refuse(failNotFound, "No customer matches %q. Type part of a name and pick one of the suggestions, or give an id from search_customers.", short(value))
	}
	var out answer
	shown := out.rows(len(res.Items), func(i int) string { return customerLine(&res.Items[i], false) })
	out.head = fmt.Sprintf("%s %q; name one by its id (skimmer://customers/%s is the first).", plural(max(res.Total, len(res.Items)), "customer matches", "customers match"), value, res.Items[0].ID)
	if shown < res.Total {
		return nil, out.String(fmt.Sprintf("Only the first %d are shown: type more of the name.", shown)), nil
	}
	return nil, out.String(), nil
}

// who names a customer in a prompt's message, and says how to find them:
// by asking the person first when they named none.
func who(value string) (name, find string) {
	const pick = "If several match, show me the candidates and ask which one; do not guess."
	if value == "" {
		return "a customer", "Ask me which customer I mean (a name or an id), then find them with search_customers. " + pick
	}
	if idFormat.MatchString(value) {
		return "the customer with id " + value, "No search needed: their id is " + value + "."
	}
	return fmt.Sprintf("the customer %q", value), fmt.Sprintf("Find them with search_customers (text: %q). ", labelName(value)) + pick
}

// ---- the office's customer workflows

func customerBrief() Prompt {
	return prompt("customer_brief", "Customer brief",
		"A one-page brief on a customer: contact, locations, recent activity, anything open.",
		[]string{"search_customers", "get_customer", "list_customer_activities"},
		[]promptArg{{name: "customer", title: "Customer", description: "Name or id; type part of a name.", required: true, complete: completeCustomer}},
		func(args map[string]string, confirm ConfirmPolicy) string {
			name, find := who(args["customer"])
			return "Give me a one-page brief on " + name + ".\n" +
				"1. " + find + "\n" +
				"2. Read get_customer, and list_customer_activities with limit 10 for what happened lately.\n" +
				"3. Write the brief: who they are and how to reach them; each service location with its gate code, dog and rate; tags and notes; the last few contacts as a short dated list; anything open (a promise made, a question not answered).\n" +
				"Keep it to one page, and change nothing."
		})
}

func winBack() Prompt {
	return prompt("win_back", "Win back inactive customers",
		"Find inactive customers in a city or state, draft a message to each, and log the ones you send.",
		[]string{"search_customers", "list_customer_activities", "create_customer_activity"},
		[]promptArg{
			{name: "area", title: "City or state", description: "A city (Austin TX) or a state code (TX).", required: true, complete: completePlace},
			{name: "offer", title: "Offer", description: "What to offer them, if anything."},
		},
		func(args map[string]string, confirm ConfirmPolicy) string {
			offer := ""
			if args["offer"] != "" {
				offer = ", offering " + args["offer"]
			}
			approve := "show me the preview, and confirm only after I approve it"
			if confirm == ConfirmNone {
				approve = "show me the entry first, and log it only after I approve it, since this server changes Skimmer at once"
			}
			where, filters := "in "+args["area"]+".", placeFilters(args["area"])
			if args["area"] == "" {
				where = "in a city or state: ask me which first."
				filters += ` and, for the place I name, {"field":"BillingState","op":"==","value":"<state code>"}, with {"field":"BillingCity","op":"==*","value":"<city>"} for a city,`
			}
			return "Help me win back inactive customers " + where + "\n" +
				"1. Find them: search_customers with filters " + filters + " and sorts [\"-UpdatedAt\"]. If there is more than one page, tell me how many and work through the first.\n" +
				"2. For each, read list_customer_activities with limit 5: when we last spoke, and why they may have left.\n" +
				"3. Draft a short, friendly message for each (two or three sentences" + offer + "), personal to what their log shows. Skimmer cannot send messages: show me the drafts, and I will send them.\n" +
				"4. For each one I say I sent, log it with create_customer_activity (type Email or Text, title \"Win-back offer\"): " + approve + "."
		})
}

func findDuplicates() Prompt {
	return prompt("find_duplicates", "Find duplicate customers",
		"Find customers likely entered twice, with the evidence; changes nothing.",
		[]string{"search_customers", "get_customer"},
		[]promptArg{{name: "among", title: "Where to look", description: "A last name, company, email domain or phone; empty for the whole account.", complete: completeCustomer}},
		func(args map[string]string, confirm ConfirmPolicy) string {
			retire := "and show me its preview first"
			if confirm == ConfirmNone {
				retire = "only after I approve the ids, since this server changes Skimmer at once"
			}
			look := "1. Page through search_customers with detail: true and pageSize 100, sorts LastName, FirstName."
			if among := args["among"]; among != "" {
				look = fmt.Sprintf("1. Search with search_customers (text: %q, detail: true, pageSize 100), and again with its parts if that finds few.", labelName(among))
			}
			return "Find customers in Skimmer that are likely the same person or company entered twice.\n" + look + "\n" +
				"2. Compare names (nicknames, typos, a company under a person's name), emails, phones and addresses; the same phone or email on two records is strong evidence.\n" +
				"3. List each likely pair or group: ids and names, the evidence, and which record looks current (get_customer shows when each was updated).\n" +
				"Change nothing. If I decide to retire a duplicate, use deactivate_customers " + retire + "."
		})
}

// usStates are the state codes a place can name.
var usStates = strings.Fields("AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY")

// completePlace suggests the cities the account's customers are billed
// in ("Austin TX"), and state codes, that start with what was typed.
func completePlace(ctx context.Context, c *skimmer.Client, typed string, _ map[string]string) ([]string, error) {
	if typed == "" {
		return nil, nil
	}
	res, err := c.SearchCustomers(ctx, sieve.Query{Page: 1, PageSize: 100, Sorts: []sieve.Sort{sieve.ParseSort("BillingCity")},
		Filters: []sieve.Filter{
			{Names: []string{"BillingCity"}, Op: sieve.StartsWithIgnoreCase, Values: []sieve.Value{sieve.Text(typed)}},
			{Names: []string{"Deleted"}, Op: sieve.Equals, Values: []sieve.Value{sieve.Text("false")}},
		}})
	if err != nil {
		return nil, err
	}
	var out []string
	for i := range res.Items {
		if place := parts(" ", val(res.Items[i].BillingCity), val(res.Items[i].BillingState)); !slices.Contains(out, place) {
			out = append(out, place)
		}
	}
	for _, st := range usStates {
		if strings.HasPrefix(st, strings.ToUpper(typed)) {
			out = append(out, st)
		}
	}
	return out, nil
}

// placeFilters turns a place ("TX", "Austin TX", "Austin") into the
// search_customers filters that find the inactive customers there; no
// place, to the filter for inactive customers alone.
func placeFilters(place string) string {
	filters := []map[string]string{{"field": "IsInactive", "op": "==", "value": "true"}}
	f := strings.Fields(place)
	switch n := len(f); {
	case n == 0:
	case n == 1 && slices.Contains(usStates, strings.ToUpper(f[0])):
		filters = append(filters, map[string]string{"field": "BillingState", "op": "==", "value": strings.ToUpper(f[0])})
	case n > 1 && slices.Contains(usStates, strings.ToUpper(f[n-1])):
		filters = append(filters, map[string]string{"field": "BillingCity", "op": "==*", "value": strings.Join(f[:n-1], " ")},
			map[string]string{"field": "BillingState", "op": "==", "value": strings.ToUpper(f[n-1])})
	default:
		filters = append(filters, map[string]string{"field": "BillingCity", "op": "==*", "value": place})
	}
	raw, _ := json.Marshal(filters)
	return string(raw)
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
