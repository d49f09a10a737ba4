// Package skimmer is a client for Skimmer's public API: the customers of a
// pool-service company and each customer's activity log.
//
// One Client serves many callers. Reads are retried on rate limiting,
// gateway errors and broken connections; writes are sent exactly once, and
// a write whose answer was lost is reported as ErrOutcomeUnknown rather than
// repeated.
package skimmer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Version goes into the User-Agent. Release builds set it with
// -ldflags "-X github.com/skimmer-mcp/skimmer-mcp/skimmer.Version=1.2.3";
// Unstamped is what a build that nobody stamped says.
var Version = Unstamped

// Unstamped is Version's value in a build without -ldflags.
const Unstamped = "dev"

// maxBody bounds a buffered answer. The one unbounded answer, the customer
// list, is streamed instead.
const maxBody = 32 << 20

// Options configure a Client. The zero value of every field is a sensible
// default.
type Options struct {
	BaseURL    string        // DefaultBaseURL when empty
	APIKey     string        // sent as skimmer-api-key
	HTTPClient *http.Client  // a client of its own when nil
	Timeout    time.Duration // per attempt, body included; 30s when 0
	Retry      RetryPolicy
	Logger     *slog.Logger // discards when nil
	// Budget paces each key's requests to its rate-limit window: this
	// process's own when nil. Replicas share one to share the window.
	Budget Budget
}

// RetryPolicy bounds the retries of reads. Writes are never retried.
type RetryPolicy struct {
	MaxAttempts   int           // attempts for a read, first included; 5 when 0
	BaseDelay     time.Duration // first backoff; 1s when 0 (Skimmer's advice)
	MaxDelay      time.Duration // backoff cap; 16s when 0
	MaxRetryAfter time.Duration // longest Retry-After waited out; 20s when 0. Longer ones fail at once, saying how long to wait.
	// Sleep waits; tests replace it to see the waits without taking them.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 16 * time.Second
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 20 * time.Second
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	return p
}

// backoff is exponential with jitter in the upper half of each step.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := p.BaseDelay << min(attempt-1, 20)
	if d > p.MaxDelay || d <= 0 {
		d = p.MaxDelay
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Client calls the Skimmer API. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	key       APIKey
	hc        *http.Client
	timeout   time.Duration
	retry     RetryPolicy
	log       *slog.Logger
	userAgent string
	budget    Budget  // shared by the copies WithAPIKey makes
	keyHash   KeyHash // the key's name, made once with the key
	// scrubber removes the key from what Skimmer says. It is built the
	// first time a failure needs one, once per key (WithAPIKey gives a copy
	// its own): most clients never fail.
	scrubber func() *scrubber
}

// New returns a client. It fails on a base URL that is not an absolute
// http(s) URL without credentials or query.
func New(opts Options) (*Client, error) {
	raw := opts.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("skimmer: base URL %q must be an absolute http(s) URL with no credentials, query or fragment", raw)
	}
	hc := opts.HTTPClient
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// One upstream host serves every caller of a hosted server; the
		// default of 2 idle connections per host would churn sockets.
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 128
		hc = &http.Client{Transport: t}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	budget := opts.Budget
	if budget == nil {
		budget = NewMemoryBudget(nil)
	}
	return &Client{
		base:      base,
		key:       APIKey(opts.APIKey),
		hc:        hc,
		timeout:   timeout,
		retry:     opts.Retry.withDefaults(),
		log:       logger,
		userAgent: "skimmer-mcp/" + Version,
		budget:    budget,
		keyHash:   HashKey(opts.APIKey),
		scrubber:  lazyScrubber(APIKey(opts.APIKey)),
	}, nil
}

// WithAPIKey returns a client that calls with key and shares everything
// else, connections included. A hosted server makes one per caller.
func (c *Client) WithAPIKey(key string) *Client {
	cp := *c
	cp.key, cp.keyHash, cp.scrubber = APIKey(key), HashKey(key), lazyScrubber(APIKey(key))
	return &cp
}

// lazyScrubber builds key's scrubber when it is first asked for.
func lazyScrubber(key APIKey) func() *scrubber {
	return sync.OnceValue(func() *scrubber { return newScrubber(key) })
}

// BaseURL is where the client sends requests.
func (c *Client) BaseURL() string { return c.base.String() }

// KeyHash names the key this client calls with, for binding state to a
// caller and scoping it (a confirmation, a double-submit guard, a rate
// budget) without holding the key. See KeyHash.
func (c *Client) KeyHash() KeyHash { return c.keyHash }

// request is one API call.
type request struct {
	op     Operation
	params []string   // path parameters, in route order
	query  url.Values // nil for none
	body   any        // JSON-encoded when non-nil
	out    any        // decoded from a buffered 2xx body when non-nil
	// stream reads a 2xx body as it arrives, instead of out; reset runs
	// before every attempt.
	stream func(io.Reader) error
	reset  func()
	// require lists the keys a buffered 2xx object must have: the fields
	// the API always sends for the record (ErrIncomplete otherwise).
	require []string
}

// fetch sends r and decodes the answer into a new T.
func fetch[T any](ctx context.Context, c *Client, r request) (*T, error) {
	var out T
	r.out = &out
	if err := c.do(ctx, r); err != nil {
		return nil, err
	}
	return &out, nil
}

// do sends r, retrying reads as the policy allows.
func (c *Client) do(ctx context.Context, r request) error {
	route := routeOf(r.op)
	path, err := route.expand(r.params...)
	if err != nil {
		return err
	}
	// The base has no query or fragment (New checks), and path is escaped
	// already: joining strings keeps "%2F" in an id from becoming "%252F".
	target := c.base.String() + path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var body []byte
	if r.body != nil {
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("skimmer %s: encoding the request: %w", r.op, err)
		}
	}
	read := route.Method == http.MethodGet
	attempts := 1
	if read {
		attempts = c.retry.MaxAttempts
	}
	for attempt := 1; ; attempt++ {
		if err := c.hold(ctx, r.op, route.Method); err != nil {
			return err
		}
		wait, err := c.once(ctx, route, target, body, r, attempt)
		if err == nil {
			return nil
		}
		if wait < 0 || attempt >= attempts || ctx.Err() != nil {
			return c.scrub(err)
		}
		if wait == 0 {
			wait = c.retry.backoff(attempt)
		}
		if c.log.Enabled(ctx, slog.LevelDebug) { // scrubbing costs: only for a line that is written
			c.log.DebugContext(ctx, "retrying skimmer request", "op", r.op, "attempt", attempt, "wait", wait, "reason", c.scrub(err).Error())
		}
		if err := c.retry.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// once makes one attempt. It returns the error and how to retry: -1 never,
// 0 after backoff, >0 after exactly that long (Retry-After).
func (c *Client) once(ctx context.Context, route Route, target string, body []byte, r request, attempt int) (time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, route.Method, target, rd)
	if err != nil {
		return -1, fmt.Errorf("skimmer %s: %w", r.op, err)
	}
	req.Header.Set("skimmer-api-key", string(c.key))
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		traceFrom(ctx).add(Exchange{Op: r.op, Attempt: attempt, Duration: time.Since(start), Err: "no answer"})
		terr := &TransportError{Op: r.op, Method: route.Method, Sent: !neverSent(err), Attempts: attempt, Err: err}
		if route.Method != http.MethodGet {
			return -1, terr
		}
		return 0, terr
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
		resp.Body.Close()
	}()
	rl := parseRateLimit(resp.Header, time.Now())
	c.budget.Observe(ctx, c.keyHash, rl)
	traceFrom(ctx).add(Exchange{Op: r.op, Attempt: attempt, Status: resp.StatusCode, Duration: time.Since(start)})

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return c.readSuccess(route, resp, r, attempt, rl)
	}

	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	apiErr := &APIError{Op: r.op, Method: route.Method, Status: resp.StatusCode, RateLimit: rl, Attempts: attempt}
	apiErr.describeBody(resp.Header.Get("Content-Type"), raw, c.scrubber())
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		apiErr.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if apiErr.RetryAfter == 0 && resp.StatusCode == http.StatusTooManyRequests {
			apiErr.RetryAfter = rl.Reset
		}
	}
	if route.Method != http.MethodGet {
		if resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusGatewayTimeout {
			// A gateway gave up waiting; Skimmer may still have applied it.
			apiErr.err = ErrOutcomeUnknown
		}
		return -1, apiErr
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if apiErr.RetryAfter > c.retry.MaxRetryAfter {
			return -1, apiErr // too long to hold a caller; say how long instead
		}
		return apiErr.RetryAfter, apiErr
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return 0, apiErr
	}
	return -1, apiErr
}

// readSuccess decodes a 2xx body. A body cut off mid-way is retried for a
// read; for a write it means the change went through and its answer was lost.
func (c *Client) readSuccess(route Route, resp *http.Response, r request, attempt int, rl RateLimit) (time.Duration, error) {
	if r.out == nil && r.stream == nil {
		return 0, nil
	}
	var err error
	if r.stream != nil {
		if r.reset != nil {
			r.reset()
		}
		err = r.stream(resp.Body)
	} else {
		var raw []byte
		raw, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		switch {
		case err != nil:
		case len(raw) > maxBody:
			err = fmt.Errorf("answer larger than %d MB", maxBody>>20)
		case len(bytes.TrimSpace(raw)) == 0:
			err = io.ErrUnexpectedEOF
		default:
			if missing := missingKeys(raw, r.require); len(missing) > 0 {
				return -1, &APIError{Op: r.op, Method: route.Method, Status: resp.StatusCode, RateLimit: rl, Attempts: attempt,
					Detail: "the record lacked " + strings.Join(missing, ", "), Missing: missing, err: ErrIncomplete}
			}
			err = json.Unmarshal(raw, r.out)
		}
	}
	if err == nil {
		return 0, nil
	}
	apiErr := &APIError{Op: r.op, Method: route.Method, Status: resp.StatusCode, RateLimit: rl, Attempts: attempt, Detail: "the answer could not be read: " + err.Error(), err: ErrBadResponse}
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	cutOff := !errors.As(err, &syntax) && !errors.As(err, &typeErr) && !errors.Is(err, ErrBadResponse)
	if route.Method == http.MethodGet && cutOff {
		return 0, apiErr
	}
	return -1, apiErr
}

// missingKeys lists the keys of want that the JSON object raw lacks. An
// answer that is not an object is left to the decoder to report.
func missingKeys(raw []byte, want []string) []string {
	if len(want) == 0 {
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	var missing []string
	for _, k := range want {
		if _, ok := obj[k]; !ok {
			missing = append(missing, k)
		}
	}
	return missing
}

// jsonNames lists the JSON names of a struct's fields, embedded structs
// flattened as encoding/json flattens them.
func jsonNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case f.Anonymous && name == "":
			out = append(out, jsonNames(f.Type)...)
		case f.IsExported():
			out = append(out, name)
		}
	}
	return out
}

// neverSent reports whether err happened before the request left: no
// connection was ever made, so the server cannot have acted on it.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// scrub removes the key from an error's text, in case a library message
// ever held it; describeBody cleans what the server sent.
func (c *Client) scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := c.scrubber().clean(msg)
	if clean == msg {
		return err
	}
	return &scrubbed{err: err, msg: clean}
}

type scrubbed struct {
	err error
	msg string
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// RateLimit is what the RateLimit-* headers of one answer said.
type RateLimit struct {
	Known     bool
	Limit     int
	Remaining int
	Reset     time.Duration // until the window resets
	At        time.Time     // when the answer came
}

func parseRateLimit(h http.Header, now time.Time) RateLimit {
	limit, err1 := strconv.Atoi(h.Get("RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("RateLimit-Remaining"))
	reset, err3 := strconv.Atoi(h.Get("RateLimit-Reset"))
	if err1 != nil || err2 != nil || err3 != nil {
		return RateLimit{}
	}
	return RateLimit{Known: true, Limit: limit, Remaining: remaining, Reset: time.Duration(reset) * time.Second, At: now}
}

// parseRetryAfter reads seconds or an HTTP date; 0 when absent or past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(secs)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now).Round(time.Second), 0)
	}
	return 0
}

// hold waits until the key's budget lets a request go, or fails at once,
// saying how long, when that is longer than the policy lets a caller wait.
func (c *Client) hold(ctx context.Context, op Operation, method string) error {
	var held time.Duration
	for {
		wait, err := c.budget.Reserve(ctx, c.keyHash)
		if err != nil {
			return err
		}
		if wait <= 0 {
			traceFrom(ctx).hold(op, held)
			return nil
		}
		if held+wait > c.retry.MaxRetryAfter {
			return &APIError{Op: op, Method: method, Status: http.StatusTooManyRequests, Title: "rate limit used up; not sent", RetryAfter: wait.Round(time.Second)}
		}
		if err := c.retry.Sleep(ctx, wait); err != nil {
			return err
		}
		held += wait
	}
}

// Exchange is one HTTP attempt, for the per-call log line.
type Exchange struct {
	Op       Operation
	Attempt  int
	Status   int    // 0 when no answer came
	Err      string // set when no answer came
	Duration time.Duration
}

// Hold is a wait for the key's rate-limit budget before a request.
type Hold struct {
	Op       Operation
	Duration time.Duration
}

// Trace collects the exchanges made on behalf of one caller's context.
type Trace struct {
	mu        sync.Mutex
	exchanges []Exchange
	holds     []Hold
}

type traceKey struct{}

// WithTrace returns a context whose API calls are recorded in t.
func WithTrace(ctx context.Context, t *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

func traceFrom(ctx context.Context) *Trace {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	return t
}

func (t *Trace) add(e Exchange) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.exchanges = append(t.exchanges, e)
	t.mu.Unlock()
}

func (t *Trace) hold(op Operation, d time.Duration) {
	if t == nil || d <= 0 {
		return
	}
	t.mu.Lock()
	t.holds = append(t.holds, Hold{Op: op, Duration: d})
	t.mu.Unlock()
}

// Holds returns the waits for the rate-limit budget recorded so far.
func (t *Trace) Holds() []Hold {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Hold(nil), t.holds...)
}

// Exchanges returns what was recorded so far.
func (t *Trace) Exchanges() []Exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Exchange(nil), t.exchanges...)
}
