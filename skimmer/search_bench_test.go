package skimmer

import (
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkSearchAnswer is what reading a 25-customer search page costs the
// client: decoding it as before the check (plain), decoding it with the
// record of which fields each row carried (carried), and checking it
// against the filters sent (check).
//
//	go test ./skimmer -run '^$' -bench SearchAnswer -benchmem
func BenchmarkSearchAnswer(b *testing.B) {
	var items []map[string]any
	for i := range 25 {
		items = append(items, map[string]any{
			"id": fmt.Sprintf("%032x", i), "firstName": "Emily", "lastName": fmt.Sprintf("Smith%d", i), "companyName": nil,
			"billingAddress": "12 Palm Way", "billingCity": "Austin", "billingState": "TX", "billingZip": "78701",
			"mobilePhone": "(512) 555-0176", "mobileLabel1": nil, "mobilePhone2": nil, "mobileLabel2": nil, "homePhone": nil, "workPhone": nil,
			"primaryEmail": "emily.smith@example.org", "secondaryEmail": nil, "email3": nil, "email4": nil, "notes": "Gate sticks",
			"customerCode": "C-1", "displayAsCompany": false, "primaryEmailIsBilling": true, "secondaryEmailIsBilling": false,
			"email3IsBilling": false, "email4IsBilling": false, "mobilePhoneSendServiceTexts": true, "leadSourceId": nil,
			"tags": []any{map[string]any{"id": "t1", "name": "Weekly"}}, "accountCredit": 0, "isInactive": false, "deleted": false,
			"createdAt": "2024-03-05T14:22:11Z", "updatedAt": "2024-06-01T09:00:00Z", "isLead": false, "leadSourceName": nil,
		})
	}
	body, err := json.Marshal(map[string]any{"items": items, "page": 1, "pageSize": 25, "totalCount": 25})
	if err != nil {
		b.Fatal(err)
	}
	filters := "FirstName|LastName|CompanyName|PrimaryEmail|SecondaryEmail|Email3|Email4|MobilePhone|MobilePhone2|HomePhone|WorkPhone@=*smith,Deleted==false"

	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var res plainResult
			if err := json.Unmarshal(body, &res); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("carried", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var res SearchResult
			if err := json.Unmarshal(body, &res); err != nil {
				b.Fatal(err)
			}
		}
	})
	var res SearchResult
	if err := json.Unmarshal(body, &res); err != nil {
		b.Fatal(err)
	}
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := res.check(filters, 25); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// plainResult decodes a search answer as SearchResult did before it
// recorded which fields each row carried.
type plainResult struct{ Items []Customer }

func (res *plainResult) UnmarshalJSON(raw []byte) error {
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
	res.Items = env.Items
	return nil
}
