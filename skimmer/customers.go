package skimmer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strconv"
)

// CustomerFields are the fields a caller writes: the body of a create and,
// with the id, of an update. Customer embeds them, so an update built from a
// fetched customer carries every one of them and cannot wipe a field by
// forgetting it. Text is *string throughout: null and "" are different
// values to Skimmer, and a round trip keeps them apart.
type CustomerFields struct {
	BillingAddress              *string `json:"billingAddress"`
	BillingCity                 *string `json:"billingCity"`
	BillingState                *string `json:"billingState"`
	BillingZip                  *string `json:"billingZip"`
	Tags                        []Tag   `json:"tags"`
	FirstName                   *string `json:"firstName"`
	LastName                    *string `json:"lastName"`
	CompanyName                 *string `json:"companyName"`
	MobilePhone                 *string `json:"mobilePhone"`
	MobileLabel1                *string `json:"mobileLabel1"`
	MobilePhone2                *string `json:"mobilePhone2"`
	MobileLabel2                *string `json:"mobileLabel2"`
	HomePhone                   *string `json:"homePhone"`
	WorkPhone                   *string `json:"workPhone"`
	PrimaryEmail                *string `json:"primaryEmail"`
	SecondaryEmail              *string `json:"secondaryEmail"`
	Email3                      *string `json:"email3"`
	Email4                      *string `json:"email4"`
	Notes                       *string `json:"notes"`
	CustomerCode                *string `json:"customerCode"`
	DisplayAsCompany            bool    `json:"displayAsCompany"`
	PrimaryEmailIsBilling       bool    `json:"primaryEmailIsBilling"`
	SecondaryEmailIsBilling     bool    `json:"secondaryEmailIsBilling"`
	Email3IsBilling             bool    `json:"email3IsBilling"`
	Email4IsBilling             bool    `json:"email4IsBilling"`
	MobilePhoneSendServiceTexts bool    `json:"mobilePhoneSendServiceTexts"`
	LeadSourceID                *string `json:"leadSourceId"`
}

// Customer is a customer as Skimmer returns it. ServiceLocations is only
// present on a single customer (get, create); lists leave it out.
type Customer struct {
	ID string `json:"id"`
	CustomerFields
	ServiceLocations []ServiceLocation `json:"serviceLocations,omitzero"`
	AccountCredit    float64           `json:"accountCredit"`
	IsInactive       bool              `json:"isInactive"`
	Deleted          bool              `json:"deleted"`
	CreatedAt        Time              `json:"createdAt"`
	UpdatedAt        Time              `json:"updatedAt"`
	IsLead           bool              `json:"isLead"`
	LeadSourceName   *string           `json:"leadSourceName"`
}

// Tag labels customers ("Weekly", "Commercial"). Writes may carry the name
// alone; Skimmer assigns the id.
type Tag struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

// ServiceLocation is a place where the pool is serviced.
type ServiceLocation struct {
	ID            string   `json:"id,omitempty"`
	CustomerID    string   `json:"customerId,omitempty"`
	Address       *string  `json:"address"`
	City          *string  `json:"city"`
	State         *string  `json:"state"`
	Zip           *string  `json:"zip"`
	Rate          *float64 `json:"rate"`
	RateType      *string  `json:"rateType"`
	LaborCost     *float64 `json:"laborCost"`
	LaborCostType *string  `json:"laborCostType"`
	Latitude      *float64 `json:"latitude"`
	Longitude     *float64 `json:"longitude"`
	GateCode      *string  `json:"gateCode"`
	DogsName      *string  `json:"dogsName"`
	Notes         *string  `json:"notes"`
	LocationCode  *string  `json:"locationCode"`
	MinutesAtStop *int     `json:"minutesAtStop"`
	Deleted       bool     `json:"deleted"`
}

// RateTypes are the documented values of ServiceLocation.RateType.
var RateTypes = []string{"None", "PerStopIncludingChemicals", "PerStopPlusChemicals", "FlatMonthlyRateIncludingChemicals", "FlatMonthlyRatePlusChemicals"}

// LaborCostTypes are the documented values of ServiceLocation.LaborCostType.
var LaborCostTypes = []string{"None", "PerStop", "PerMonth"}

// CreateCustomerRequest is the body of a create.
type CreateCustomerRequest struct {
	CustomerFields
	ServiceLocations []ServiceLocation `json:"serviceLocations"`
}

// UpdateCustomerRequest is the body of an update. Skimmer replaces the
// whole customer with it: a field left null is wiped. Build it from the
// current record (Customer.UpdateRequest) and change only what must change.
type UpdateCustomerRequest struct {
	ID string `json:"id"`
	CustomerFields
}

// UpdateRequest returns an update that would leave c exactly as it is.
func (c *Customer) UpdateRequest() UpdateCustomerRequest {
	fields := c.CustomerFields
	fields.Tags = append([]Tag(nil), c.Tags...)
	return UpdateCustomerRequest{ID: c.ID, CustomerFields: fields}
}

// DeactivateCustomersRequest deactivates customers and, per flag, deletes
// what hangs off them.
type DeactivateCustomersRequest struct {
	IDs                       []string `json:"ids"`
	DeleteRouteAssignments    bool     `json:"deleteRouteAssignments"`
	DeleteWorkOrders          bool     `json:"deleteWorkOrders"`
	DeleteWorkOrderReminders  bool     `json:"deleteWorkOrderReminders"`
	DeleteTags                bool     `json:"deleteTags"`
	DeleteRepeatingWorkOrders bool     `json:"deleteRepeatingWorkOrders"`
}

// CustomerSink consumes the customer list as it streams in, so that a large
// account never sits in memory whole. Reset is called before every attempt:
// a read retried after a broken connection starts from a clean slate.
type CustomerSink interface {
	Reset()
	// Add receives each customer in order. c is reused after Add returns:
	// copy what you keep.
	Add(c *Customer) error
}

// ListCustomers streams every customer into sink. The API has no paging
// here: it returns the whole account as one array.
func (c *Client) ListCustomers(ctx context.Context, includeDeleted bool, sink CustomerSink) error {
	q := url.Values{"includeDeleted": {strconv.FormatBool(includeDeleted)}}
	return c.do(ctx, request{op: OpListCustomers, query: q, reset: sink.Reset, stream: func(r io.Reader) error {
		return decodeArray(r, sink.Add)
	}})
}

// AllCustomers returns the whole list. Prefer ListCustomers on big accounts.
func (c *Client) AllCustomers(ctx context.Context, includeDeleted bool) ([]Customer, error) {
	var s sliceSink
	err := c.ListCustomers(ctx, includeDeleted, &s)
	return s, err
}

type sliceSink []Customer

func (s *sliceSink) Reset()                { *s = (*s)[:0] }
func (s *sliceSink) Add(c *Customer) error { *s = append(*s, *c); return nil }

// decodeArray reads a JSON array one element at a time into one reused
// value, zeroed between elements so no field leaks from one to the next.
func decodeArray(r io.Reader, add func(*Customer) error) error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%w: expected a JSON array of customers", ErrBadResponse)
	}
	var cust Customer
	for dec.More() {
		cust = Customer{}
		if err := dec.Decode(&cust); err != nil {
			return err
		}
		if err := add(&cust); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return err
}

// GetCustomer fetches one customer with its service locations. A deleted
// customer is not found unless includeDeleted. An answer without every
// writable field (customerFieldNames) is ErrIncomplete: an update is built
// from this record, and would wipe what it lacks.
func (c *Client) GetCustomer(ctx context.Context, id string, includeDeleted bool) (*Customer, error) {
	q := url.Values{"includeDeleted": {strconv.FormatBool(includeDeleted)}}
	return fetch[Customer](ctx, c, request{op: OpGetCustomer, params: []string{id}, query: q, require: customerFieldNames})
}

// customerFieldNames are the fields Skimmer always sends for a customer
// and an update sends back: the id and every writable field.
var customerFieldNames = jsonNames(reflect.TypeFor[UpdateCustomerRequest]())

// CreateCustomer creates a customer and returns it as stored.
func (c *Client) CreateCustomer(ctx context.Context, req CreateCustomerRequest) (*Customer, error) {
	return fetch[Customer](ctx, c, request{op: OpCreateCustomer, body: req})
}

// UpdateCustomer replaces a customer's fields with req's, all of them.
func (c *Client) UpdateCustomer(ctx context.Context, req UpdateCustomerRequest) (*Customer, error) {
	return fetch[Customer](ctx, c, request{op: OpUpdateCustomer, body: req})
}

// DeactivateCustomers marks customers inactive and runs the chosen cascades.
func (c *Client) DeactivateCustomers(ctx context.Context, req DeactivateCustomersRequest) error {
	return c.do(ctx, request{op: OpDeactivateCustomers, body: req})
}
