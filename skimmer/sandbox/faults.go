package sandbox

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// Fault is a misbehaviour to inject, for the tests of what a client does
// when Skimmer has a bad minute.
type Fault struct {
	Ops []skimmer.Operation // the routes it hits; every route when empty

	Latency time.Duration // added before answering (on its own, or before the rest)

	Status      int    // answer with this status instead of the operation's
	RetryAfter  int    // seconds, sent as Retry-After with Status
	Body        string // body for Status; a ProblemDetails when empty
	ContentType string // for Body; text/html when Body starts with "<"

	Malformed    bool // answer 200 with a body that is not JSON
	ResetMidBody bool // send half of the real answer, then drop the connection

	// Apply lets the request take effect first: the fault then replaces the
	// answer. This is the write whose outcome the client cannot know.
	Apply bool

	Rate  float64 // share of matching requests hit, decided by the seeded RNG; 1 when 0
	Times int     // hits before the fault retires; unlimited when 0
}

type faults struct {
	mu    sync.Mutex
	rng   *rand.Rand
	rules []*faultRule
}

type faultRule struct {
	Fault
	hits int
}

func newFaults(seed uint64) *faults {
	return &faults{rng: rand.New(rand.NewPCG(seed, 0xfa017))}
}

// Inject adds a fault. Faults are tried in the order added; the first one
// that matches a request hits it.
func (s *Server) Inject(f Fault) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules = append(s.faults.rules, &faultRule{Fault: f})
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules = nil
}

func (f *faults) pick(op skimmer.Operation) *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if len(r.Ops) > 0 && !slices.Contains(r.Ops, op) {
			continue
		}
		if r.Times > 0 && r.hits >= r.Times {
			continue
		}
		if r.Rate > 0 && r.Rate < 1 && f.rng.Float64() >= r.Rate {
			continue
		}
		r.hits++
		fault := r.Fault
		return &fault
	}
	return nil
}

// apply acts out the fault, and reports whether it answered the request.
func (f *Fault) apply(w http.ResponseWriter, r *http.Request, h http.HandlerFunc) bool {
	if f.Latency > 0 {
		// Read the body first: net/http notices a client hanging up only
		// once the body is consumed, and the wait should end when it does.
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
		r.Body = io.NopCloser(bytes.NewReader(body))
		t := time.NewTimer(f.Latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return true // the client gave up; nobody reads the answer
		case <-t.C:
		}
	}
	switch {
	case f.ResetMidBody:
		// Run the operation for real, then send half of its answer.
		rec := httptest.NewRecorder()
		h(rec, r)
		body := rec.Body.Bytes()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body[:len(body)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler) // net/http drops the connection quietly
	case f.Status == 0 && !f.Malformed:
		return false // latency only
	}
	if f.Apply {
		h(httptest.NewRecorder(), r)
	}
	if f.Malformed {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"items": [{"id": "0f1e", "firstName": Jane}]`))
		return true
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	if f.Body == "" {
		problem(w, f.Status, http.StatusText(f.Status), fmt.Sprintf("Injected fault: %d.", f.Status), nil)
		return true
	}
	ct := f.ContentType
	if ct == "" {
		ct = "text/plain; charset=utf-8"
		if bytes.HasPrefix(bytes.TrimSpace([]byte(f.Body)), []byte("<")) {
			ct = "text/html; charset=utf-8"
		}
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(f.Body))
	return true
}
