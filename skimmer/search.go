package skimmer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sieve"
)

// CustomerSearch is what the search endpoint filters and sorts on, with
// each property's .NET type as far as the docs show it: text (nullable),
// true/false and dates (never null: every customer has them).
var CustomerSearch = sieve.NewSchema(
	sieve.Field{Name: "Id", Kind: sieve.String, Sortable: true},
	sieve.Field{Name: "FirstName", Kind: sieve.String, Sortable: true},
	sieve.Field{Name: "LastName", Kind: sieve.String, Sortable: true},
	sieve.Field{Name: "CompanyName", Kind: sieve.String, Sortable: true},
	sieve.Field{Name: "BillingCity", Kind: sieve.String, Sortable: true},
	sieve.Field{Name: "BillingState", Kind: sieve.String, Sortable: true},
	sieve.Field{Name: "BillingZip", Kind: sieve.String, Sortable: true},
	sieve.Field{Name: "CreatedAt", Kind: sieve.Time, Sortable: true},
	sieve.Field{Name: "UpdatedAt", Kind: sieve.Time, Sortable: true},
	sieve.Field{Name: "MobilePhone", Kind: sieve.String},
	sieve.Field{Name: "MobilePhone2", Kind: sieve.String},
	sieve.Field{Name: "HomePhone", Kind: sieve.String},
	sieve.Field{Name: "WorkPhone", Kind: sieve.String},
	sieve.Field{Name: "PrimaryEmail", Kind: sieve.String},
	sieve.Field{Name: "SecondaryEmail", Kind: sieve.String},
	sieve.Field{Name: "Email3", Kind: sieve.String},
	sieve.Field{Name: "Email4", Kind: sieve.String},
	sieve.Field{Name: "Deleted", Kind: sieve.Bool},
	sieve.Field{Name: "IsInactive", Kind: sieve.Bool},
)

// CustomerProps reads the properties CustomerSearch names. The sandbox
// searches with them, and the client checks Skimmer's answers with them:
// one reading of a customer for both.
var CustomerProps = sieve.Props[Customer]{
	"Id":             func(c *Customer) sieve.Val { return sieve.TextVal(&c.ID) },
	"FirstName":      func(c *Customer) sieve.Val { return sieve.TextVal(c.FirstName) },
	"LastName":       func(c *Customer) sieve.Val { return sieve.TextVal(c.LastName) },
	"CompanyName":    func(c *Customer) sieve.Val { return sieve.TextVal(c.CompanyName) },
	"BillingCity":    func(c *Customer) sieve.Val { return sieve.TextVal(c.BillingCity) },
	"BillingState":   func(c *Customer) sieve.Val { return sieve.TextVal(c.BillingState) },
	"BillingZip":     func(c *Customer) sieve.Val { return sieve.TextVal(c.BillingZip) },
	"CreatedAt":      func(c *Customer) sieve.Val { return sieve.TimeVal(c.CreatedAt.Time) },
	"UpdatedAt":      func(c *Customer) sieve.Val { return sieve.TimeVal(c.UpdatedAt.Time) },
	"MobilePhone":    func(c *Customer) sieve.Val { return sieve.TextVal(c.MobilePhone) },
	"MobilePhone2":   func(c *Customer) sieve.Val { return sieve.TextVal(c.MobilePhone2) },
	"HomePhone":      func(c *Customer) sieve.Val { return sieve.TextVal(c.HomePhone) },
	"WorkPhone":      func(c *Customer) sieve.Val { return sieve.TextVal(c.WorkPhone) },
	"PrimaryEmail":   func(c *Customer) sieve.Val { return sieve.TextVal(c.PrimaryEmail) },
	"SecondaryEmail": func(c *Customer) sieve.Val { return sieve.TextVal(c.SecondaryEmail) },
	"Email3":         func(c *Customer) sieve.Val { return sieve.TextVal(c.Email3) },
	"Email4":         func(c *Customer) sieve.Val { return sieve.TextVal(c.Email4) },
	"Deleted":        func(c *Customer) sieve.Val { return sieve.BoolVal(c.Deleted) },
	"IsInactive":     func(c *Customer) sieve.Val { return sieve.BoolVal(c.IsInactive) },
}

// ErrSearchIgnored: Skimmer answered a search with customers its filters
// exclude, or with more than a page. Sieve, its search library, answers
// that way by default when it cannot apply a query: with every row,
// unfiltered, unsorted and unpaged, and 200. The rows are not matches.
var ErrSearchIgnored = errors.New("skimmer ignored the search")

// SearchResult is one page of a search. Total is -1 when the server did not
// say (a bare array).
type SearchResult struct {
	Items    []Customer
	Total    int
	Page     int
	PageSize int
	// carried has a bit per CustomerSearch field, for each item, set when
	// the item's JSON had the field: a field missing from Skimmer's answer
	// is not a null one.
	carried []uint64
}

// SearchCustomers runs one search. The query is checked against
// CustomerSearch before anything is sent, and the answer against the query
// (see ErrSearchIgnored).
func (c *Client) SearchCustomers(ctx context.Context, q sieve.Query) (*SearchResult, error) {
	values, err := q.Values(CustomerSearch)
	if err != nil {
		return nil, err
	}
	res, err := fetch[SearchResult](ctx, c, request{op: OpSearchCustomers, query: values})
	if err != nil {
		return nil, err
	}
	if err := res.check(values.Get("filters"), q.PageSize); err != nil {
		return nil, err
	}
	if res.Page == 0 {
		res.Page = q.Page
	}
	if res.PageSize == 0 {
		res.PageSize = q.PageSize
	}
	return res, nil
}

// answerRow is a customer as one search answer carried it.
type answerRow struct {
	c       *Customer
	carried uint64
}

// answers is Sieve over answer rows: a field the row did not carry is
// Unknown, which a Tolerant check cannot hold against it.
var answers = func() *sieve.Processor[answerRow] {
	props := sieve.Props[answerRow]{}
	for i, f := range CustomerSearch.Fields() {
		get, bit, date := CustomerProps[f.Name], uint64(1)<<i, f.Kind == sieve.Time
		props[f.Name] = func(r *answerRow) sieve.Val {
			if r.carried&bit == 0 {
				return sieve.Unknown
			}
			v := get(r.c)
			if date && v.IsZero() { // null or empty on the wire, though the field never is
				return sieve.Unknown
			}
			return v
		}
	}
	return sieve.NewProcessor(CustomerSearch, props, sieve.Options{})
}()

// check tells a searched answer from an ignored one: more rows than the
// page asked for, or a row the filters sent certainly exclude. "Certainly"
// is Sieve's Tolerant collation: any case, trailing spaces, characters
// beyond plain ASCII and dates within a day all pass, so no database
// collation or time zone can trip it. An ignored query returns the whole
// account, in which nearly every row fails some filter.
func (res *SearchResult) check(filters string, pageSize int) error {
	if len(res.Items) > pageSize {
		return fmt.Errorf("%w: it returned %d customers for a page of %d", ErrSearchIgnored, len(res.Items), pageSize)
	}
	if filters == "" {
		return nil
	}
	pred, err := answers.Compile(filters, sieve.Tolerant)
	if err != nil {
		return fmt.Errorf("%w: the filters fail in Sieve: %w", ErrSearchIgnored, err)
	}
	for i := range res.Items {
		if t := pred.Violated(&answerRow{c: &res.Items[i], carried: res.carried[i]}); t >= 0 {
			return fmt.Errorf("%w: customer %s does not meet %s", ErrSearchIgnored, res.Items[i].ID, brief(pred.Term(t)))
		}
	}
	return nil
}

// brief writes a term for a message: a long list of names shortened.
func brief(t sieve.Term) string {
	if len(t.Names) > 3 {
		t.Names = append(t.Names[:2:2], "…")
	}
	return t.String()
}

// UnmarshalJSON accepts a bare array or an envelope under any of the names
// ASP.NET services commonly use: the shape is not documented. An answer in
// none of them is ErrBadResponse, which the client does not retry.
func (res *SearchResult) UnmarshalJSON(raw []byte) error {
	*res = SearchResult{Total: -1}
	if len(raw) > 0 && raw[0] == '[' {
		if err := json.Unmarshal(raw, &res.Items); err != nil {
			return err
		}
		res.carried, _ = carried(raw, 0, len(res.Items))
		return nil
	}
	var env struct {
		Items      []Customer `json:"items"`
		Data       []Customer `json:"data"`
		Results    []Customer `json:"results"`
		TotalCount *int       `json:"totalCount"`
		Total      *int       `json:"total"`
		Page       int        `json:"page"`
		PageSize   int        `json:"pageSize"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return err
	}
	var name string
	switch {
	case env.Items != nil:
		res.Items, name = env.Items, "items"
	case env.Data != nil:
		res.Items, name = env.Data, "data"
	case env.Results != nil:
		res.Items, name = env.Results, "results"
	default:
		return fmt.Errorf("%w: a search answer with no items, data or results array", ErrBadResponse)
	}
	switch {
	case env.TotalCount != nil:
		res.Total = *env.TotalCount
	case env.Total != nil:
		res.Total = *env.Total
	}
	res.Page, res.PageSize = env.Page, env.PageSize
	object(raw, 0, func(key []byte, start int) int {
		if !bytes.EqualFold(key, []byte(name)) { // encoding/json matches names in any case
			return -1
		}
		var end int
		res.carried, end = carried(raw, start, len(res.Items))
		return end
	})
	if res.carried == nil {
		res.carried = make([]uint64, len(res.Items))
	}
	return nil
}

// carried reads, for each of the n objects of the array at raw[i], which
// CustomerSearch fields its JSON has, and returns the index past the
// array. A key written with escapes is not recognised: its field counts as
// not carried, which only makes the check more lenient.
func carried(raw []byte, i, n int) ([]uint64, int) {
	out := make([]uint64, n)
	k := 0
	end := array(raw, i, func(start int) int {
		row := k
		k++
		if raw[start] != '{' {
			return -1
		}
		return object(raw, start, func(key []byte, _ int) int {
			if row < n {
				out[row] |= keyBit(key)
			}
			return -1
		})
	})
	return out, end
}

// searchKeyBits maps a CustomerSearch field's JSON key, lower-cased, to its
// bit. encoding/json matches keys without regard to case; so does this.
var searchKeyBits = func() map[string]uint64 {
	m := map[string]uint64{}
	for i, f := range CustomerSearch.Fields() {
		m[strings.ToLower(f.Name)] = 1 << i
	}
	return m
}()

// keyBit is searchKeyBits[lower-cased key], or 0, without allocating.
func keyBit(key []byte) uint64 {
	var buf [32]byte
	if len(key) > len(buf) {
		return 0
	}
	for i, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return searchKeyBits[string(buf[:len(key)])]
}

// The scanners below walk JSON that encoding/json has already found valid,
// so they only find boundaries: one pass, nothing copied.

// object walks the object at raw[i], calling fn with each member's raw
// key and where its value starts; fn returns where the value ends, or -1
// to have it skipped. It returns the index past the object.
func object(raw []byte, i int, fn func(key []byte, start int) int) int {
	i = skipSpace(raw, i)
	if i >= len(raw) || raw[i] != '{' {
		return skipValue(raw, i)
	}
	for i++; ; {
		i = skipSpace(raw, i)
		switch {
		case i >= len(raw):
			return i
		case raw[i] == '}':
			return i + 1
		case raw[i] == ',':
			i++
			continue
		}
		end := skipString(raw, i)
		key := raw[i+1 : end-1]
		start := skipSpace(raw, skipSpace(raw, end)+1) // past the colon
		if i = fn(key, start); i < 0 {
			i = skipValue(raw, start)
		}
	}
}

// array walks the array at raw[i], calling fn with where each element
// starts; fn returns where it ends, or -1 to have it skipped. It returns
// the index past the array.
func array(raw []byte, i int, fn func(start int) int) int {
	i = skipSpace(raw, i)
	if i >= len(raw) || raw[i] != '[' {
		return skipValue(raw, i)
	}
	for i++; ; {
		i = skipSpace(raw, i)
		switch {
		case i >= len(raw):
			return i
		case raw[i] == ']':
			return i + 1
		case raw[i] == ',':
			i++
			continue
		}
		start := i
		if i = fn(start); i < 0 {
			i = skipValue(raw, start)
		}
	}
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at raw[i]:
// the next quote not escaped by an odd run of backslashes.
func skipString(raw []byte, i int) int {
	for i++; ; i++ {
		j := bytes.IndexByte(raw[i:], '"')
		if j < 0 {
			return len(raw)
		}
		i += j
		n := 0
		for raw[i-1-n] == '\\' { // the opening quote stops it
			n++
		}
		if n%2 == 0 {
			return i + 1
		}
	}
}

// skipValue returns the index just past the value starting at raw[i].
func skipValue(raw []byte, i int) int {
	switch {
	case i >= len(raw):
		return i
	case raw[i] == '"':
		return skipString(raw, i)
	case raw[i] == '{' || raw[i] == '[':
		depth := 0
		for i < len(raw) {
			switch raw[i] {
			case '"':
				i = skipString(raw, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(raw) && raw[i] != ',' && raw[i] != '}' && raw[i] != ']' && raw[i] != ' ' && raw[i] != '\t' && raw[i] != '\n' && raw[i] != '\r' {
		i++
	}
	return i
}
