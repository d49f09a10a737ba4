package skimmer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sieve"
)

// Time is an API timestamp. ASP.NET writes ISO-8601 with or without a zone
// and with any number of fractional digits; encoding/json's time.Time reads
// only RFC 3339, and one such value would fail a whole customer list. A
// zero Time is null on the wire.
type Time struct{ time.Time }

// MarshalJSON writes UTC RFC 3339, or null for the zero time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

// UnmarshalJSON reads any ISO-8601 date-time, or null.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*t = Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if s == "" {
		*t = Time{}
		return nil
	}
	v, err := sieve.ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}
