package sandbox

import (
	"net/http/httptest"
	"net/url"
	"testing"
)

// BenchmarkSearch10k searches a 10,000-customer account through the
// handler, as the sandbox answers a client: parse, filter, sort, page,
// encode.
//
//	go test ./skimmer/sandbox -run '^$' -bench Search10k -benchmem
func BenchmarkSearch10k(b *testing.B) {
	s, err := New(Options{Customers: 10000, Seed: 1, RateLimit: -1})
	if err != nil {
		b.Fatal(err)
	}
	queries := map[string]url.Values{
		"no filter":           {"page": {"1"}, "pageSize": {"25"}},
		"name contains":       {"filters": {"(FirstName|LastName|CompanyName)@=*smith"}, "pageSize": {"25"}},
		"state and city":      {"filters": {"BillingState==TX,BillingCity==Houston"}, "sorts": {"LastName"}, "pageSize": {"25"}},
		"date range, 2 sorts": {"filters": {"CreatedAt>=2024-01-01,IsInactive==false"}, "sorts": {"-CreatedAt,LastName"}, "page": {"40"}, "pageSize": {"25"}},
		"email suffix":        {"filters": {"(PrimaryEmail|SecondaryEmail)_-=*example.net"}, "pageSize": {"100"}},
	}
	for name, q := range queries {
		target := "/Customers/Search?" + q.Encode()
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", target, nil)
				req.Header.Set("skimmer-api-key", "bench")
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%d %s", w.Code, w.Body.String())
				}
			}
		})
	}
}
