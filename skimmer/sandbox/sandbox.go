// Package sandbox emulates the Skimmer public API: the same routes, status
// codes and JSON as the real service, over an account of seeded, realistic
// pool-service customers. It is an http.Handler, so it runs in-process
// (tests, demos) or standalone (cmd/skimmer-sandbox), with no key and no
// network.
//
// Beyond the API it offers what tests need: an injectable clock and id
// source, a record of every request (with the key it carried), fault
// injection per route, and optional persistence to a JSON file.
package sandbox

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sieve"
)

// Options configure a sandbox. The zero value serves 250 seeded customers
// to any non-empty key at 500 requests a minute.
type Options struct {
	Customers int   // seeded customers; 250 when 0, none when negative
	Seed      int64 // same seed, same account

	// Keys, when set, are the only keys accepted; otherwise any non-empty
	// key is. ReadOnlyKeys may read and get 403 on writes.
	Keys         []string
	ReadOnlyKeys []string

	RateLimit int // requests per minute per key; 500 when 0, off when negative

	// Envelope is the search answer's shape: "items" (default), "data",
	// "results", or "bare" for a plain array.
	Envelope    string
	MaxPageSize int // Sieve's cap; 100 when 0
	// SieveErrors is how a search Sieve cannot apply is answered:
	// SieveSilent (default, Sieve's own default) or SieveThrow.
	SieveErrors string
	// Unsearchable names search fields the sandbox's Sieve does not know, as
	// if Skimmer's searchable fields were fewer than documented: a filter on
	// one fails, and in silent mode returns every customer. For rehearsing
	// an ignored search.
	Unsearchable []string

	// Clock stamps what happens while the sandbox runs (records created
	// or changed, the rate limit's windows); time.Now when nil.
	Clock func() time.Time
	// AsOf is the seeded account's present: its history runs up to it.
	// SeedDate when zero, so a seed gives the same account, dates and all,
	// in every process, whenever it starts.
	AsOf time.Time
	// NewID makes the ids of records created while the sandbox runs.
	// RandomIDs when nil: two sandboxes never give one id to two different
	// records. Tests inject SeededIDs, or their own, to repeat a run.
	NewID func() string

	DataFile string // keeps state in this JSON file across restarts
	Logger   *slog.Logger
}

// Server is the emulated API.
type Server struct {
	opts    Options
	mux     *http.ServeMux
	ops     map[string]skimmer.Operation // mux pattern → operation, to record a request before it is served
	store   *store
	sieve   *sieve.Processor[skimmer.Customer]
	limiter *limiter
	faults  *faults
	log     *slog.Logger

	recMu    sync.Mutex
	requests []*Request
}

// Request is one request the sandbox received, as tests inspect them. It
// is recorded on arrival, so a request still being answered counts.
type Request struct {
	Op     skimmer.Operation // "" for a path no route matched
	Method string
	Path   string
	Query  string
	Key    string // the skimmer-api-key it carried; the sandbox is a test double, it never logs this
	Status int    // 0 until answered
	// SieveError is what Sieve threw on a search: in silent mode the answer
	// was 200 with the customers unfiltered (or unsorted), which a client
	// must notice.
	SieveError string
}

// AsGiven turns a command-line count, where 0 means none (no customers,
// no rate limit), into the Options field, where 0 means the default.
func AsGiven(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// SeedDate is where a seeded account's history ends unless Options.AsOf
// says otherwise: a fixed date, so that the account a seed makes does not
// move with the time a process starts. (A record made while the sandbox
// runs is stamped by the clock, as Skimmer would stamp it.)
var SeedDate = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// SeededIDs returns an id source that gives the same ids, in the same
// order, for the same seed: for tests and transcripts that must repeat.
func SeededIDs(seed int64) func() string {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed1d5))
	var mu sync.Mutex
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return hexID(rng)
	}
}

// RandomIDs makes an id from 128 random bits, in Skimmer's 32-hex form.
// Seeded records keep their seeded ids; records created at run time get
// these, so sandboxes running side by side (two demos on one machine, a
// restart from a data file) never hand one id to two different records.
func RandomIDs() string {
	var b [16]byte
	_, _ = crand.Read(b[:]) // never fails, as of Go 1.24
	return hex.EncodeToString(b[:])
}

// maxRecorded bounds the request record, so a long load run stays small.
const maxRecorded = 10000

// New builds a sandbox: from DataFile when it exists, else seeded.
func New(opts Options) (*Server, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Customers == 0 {
		opts.Customers = 250
	}
	opts.MaxPageSize = cmp.Or(opts.MaxPageSize, 100)
	opts.Envelope = cmp.Or(opts.Envelope, "items")
	switch opts.Envelope {
	case "items", "data", "results", "bare":
	default:
		return nil, fmt.Errorf("sandbox: envelope %q: use items, data, results or bare", opts.Envelope)
	}
	opts.SieveErrors = cmp.Or(opts.SieveErrors, SieveSilent)
	if opts.SieveErrors != SieveSilent && opts.SieveErrors != SieveThrow {
		return nil, fmt.Errorf("sandbox: sieve errors %q: use %s or %s", opts.SieveErrors, SieveSilent, SieveThrow)
	}
	sv, err := newSieve(opts)
	if err != nil {
		return nil, err
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = 500
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AsOf.IsZero() {
		opts.AsOf = SeedDate
	}
	if opts.NewID == nil {
		opts.NewID = RandomIDs
	}
	st, err := openStore(opts)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:    opts,
		store:   st,
		sieve:   sv,
		limiter: newLimiter(opts.RateLimit, opts.Clock),
		faults:  newFaults(uint64(opts.Seed)),
		log:     opts.Logger,
	}
	s.mux, s.ops = s.routes()
	return s, nil
}

// handlers maps each operation to its emulation. A test checks that every
// route in the client's table has one.
func (s *Server) handlers() map[skimmer.Operation]http.HandlerFunc {
	return map[skimmer.Operation]http.HandlerFunc{
		skimmer.OpListCustomers:       s.listCustomers,
		skimmer.OpSearchCustomers:     s.searchCustomers,
		skimmer.OpGetCustomer:         s.getCustomer,
		skimmer.OpCreateCustomer:      s.createCustomer,
		skimmer.OpUpdateCustomer:      s.updateCustomer,
		skimmer.OpDeactivateCustomers: s.deactivateCustomers,
		skimmer.OpListActivityLogs:    s.listActivityLogs,
		skimmer.OpGetActivityLog:      s.getActivityLog,
		skimmer.OpCreateActivityLog:   s.createActivityLog,
		skimmer.OpUpdateActivityLog:   s.updateActivityLog,
		skimmer.OpDeleteActivityLog:   s.deleteActivityLog,
	}
}

// routes registers the client's route table, lower-cased: ASP.NET matches
// routes without regard to case, and ServeHTTP lower-cases the path.
func (s *Server) routes() (*http.ServeMux, map[string]skimmer.Operation) {
	mux := http.NewServeMux()
	ops := map[string]skimmer.Operation{}
	handlers := s.handlers()
	for _, r := range skimmer.Routes() {
		h, ok := handlers[r.Op]
		if !ok {
			panic("sandbox: no handler for " + r.Op)
		}
		op, pattern := r.Op, r.Method+" "+lowerLiterals(r.Path)
		ops[pattern] = op
		mux.HandleFunc(pattern, func(w http.ResponseWriter, req *http.Request) {
			s.serveOp(op, h, w, req)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "Not Found", fmt.Sprintf("No route for %s %s.", r.Method, r.URL.Path), nil)
	})
	return mux, ops
}

// lowerLiterals lower-cases a route pattern's literal segments and keeps
// its {wildcard} names as they are.
func lowerLiterals(path string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if !strings.HasPrefix(seg, "{") {
			segs[i] = strings.ToLower(seg)
		}
	}
	return strings.Join(segs, "/")
}

// ServeHTTP answers one request. It is recorded on arrival, with the
// operation the mux will pick, so a test can see a request still in flight.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.ToLower(r.URL.Path)
	r2.URL.RawPath = ""
	_, pattern := s.mux.Handler(r2)
	entry := s.record(Request{Op: s.ops[pattern], Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Key: r.Header.Get("skimmer-api-key")})
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.recMu.Lock()
		entry.Status = rec.status
		s.recMu.Unlock()
	}()
	s.mux.ServeHTTP(rec, r2.WithContext(context.WithValue(r2.Context(), entryKey{}, entry)))
}

// entryKey carries a request's record to its handler.
type entryKey struct{}

// noteSieveError records on r's entry what Sieve threw.
func (s *Server) noteSieveError(r *http.Request, err error) {
	entry, ok := r.Context().Value(entryKey{}).(*Request)
	if !ok {
		return
	}
	s.recMu.Lock()
	entry.SieveError = err.Error()
	s.recMu.Unlock()
	s.log.Debug("sieve failed on a search", "error", err, "mode", s.opts.SieveErrors)
}

// serveOp runs the checks every route shares, then the operation.
func (s *Server) serveOp(op skimmer.Operation, h http.HandlerFunc, w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("skimmer-api-key")
	if !s.keyValid(key) {
		problem(w, http.StatusUnauthorized, "Unauthorized", "A valid skimmer-api-key header is required.", nil)
		return
	}
	if rl, ok := s.limiter.take(key); ok {
		rl.write(w.Header())
	} else {
		rl.write(w.Header())
		w.Header().Set("Retry-After", fmt.Sprint(rl.reset))
		problem(w, http.StatusTooManyRequests, "Too Many Requests", fmt.Sprintf("Rate limit of %d requests per minute exceeded.", rl.limit), nil)
		return
	}
	if r.Method != http.MethodGet && slices.Contains(s.opts.ReadOnlyKeys, key) {
		problem(w, http.StatusForbidden, "Forbidden", "This API key may not make changes.", nil)
		return
	}
	if f := s.faults.pick(op); f != nil {
		if handled := f.apply(w, r, h); handled {
			return
		}
	}
	h(w, r)
}

func (s *Server) keyValid(key string) bool {
	if key == "" {
		return false
	}
	if len(s.opts.Keys) == 0 {
		return true
	}
	return slices.Contains(s.opts.Keys, key) || slices.Contains(s.opts.ReadOnlyKeys, key)
}

func (s *Server) record(r Request) *Request {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	if len(s.requests) >= maxRecorded {
		s.requests = append(s.requests[:0], s.requests[len(s.requests)-maxRecorded/2:]...)
	}
	s.requests = append(s.requests, &r)
	return &r
}

// Requests returns the requests received so far (the most recent 10,000
// at most), oldest first.
func (s *Server) Requests() []Request {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = *r
	}
	return out
}

// Count returns how many recorded requests were for op.
func (s *Server) Count(op skimmer.Operation) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Op == op {
			n++
		}
	}
	return n
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.recMu.Lock()
	s.requests = nil
	s.recMu.Unlock()
}

// recorder notes the status of an answer.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// problem writes an RFC 7807 body, the way ASP.NET does.
func problem(w http.ResponseWriter, status int, title, detail string, fields map[string][]string) {
	body := map[string]any{
		"type":   "https://tools.ietf.org/html/rfc9110#section-15",
		"title":  title,
		"status": status,
	}
	if detail != "" {
		body["detail"] = detail
	}
	if len(fields) > 0 {
		body["errors"] = fields
	}
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// validationProblem is ASP.NET's 400 for a body that failed its rules.
func validationProblem(w http.ResponseWriter, fields map[string][]string) {
	problem(w, http.StatusBadRequest, "One or more validation errors occurred.", "", fields)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
