package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// Error kinds, as the report counts them.
const (
	kindConnect   = "connect"   // the client could not be created or initialized
	kindTransport = "transport" // CallTool returned a Go error: HTTP, JSON-RPC, timeout
	kindTool      = "tool"      // the result had isError set
	kindAnswer    = "answer"    // a result, but not the expected one
)

// CallError is one failed call, as the report shows the first few.
type CallError struct {
	Op      string        `json:"op"`
	Kind    string        `json:"kind"`
	Message string        `json:"message"`
	After   time.Duration `json:"after_ns"` // since the phase started
}

// firstErrors is how many error messages a client, and the report, keep.
const firstErrors = 5

// recorder holds one client's results. Each client has its own, so the
// hot path takes no lock; the phase merges them at the end.
type recorder struct {
	start  time.Time
	lat    map[string][]time.Duration // successful calls, by op
	errs   map[string]map[string]int  // op → kind → count
	first  []CallError
	nCalls int
}

func newRecorder() *recorder {
	return &recorder{lat: map[string][]time.Duration{}, errs: map[string]map[string]int{}}
}

func (r *recorder) fail(op, kind string, err error) {
	if r.errs[op] == nil {
		r.errs[op] = map[string]int{}
	}
	r.errs[op][kind]++
	if len(r.first) < firstErrors {
		r.first = append(r.first, CallError{Op: op, Kind: kind, Message: err.Error(), After: time.Since(r.start)})
	}
}

// session is one MCP client, as one agent would hold it: its own HTTP
// connection, its own Skimmer key, its own stream of random choices.
type session struct {
	c       *client.Client
	conns   *http.Transport
	rng     *rand.Rand
	pool    []string // every customer id; shared, read-only
	last    []string // the customers this client's last search found
	rec     *recorder
	timeout time.Duration
}

// connect opens a client and initializes it. Each client gets its own
// http.Transport: with the shared default one, 200 clients would share two
// idle connections, and most calls would pay for a new TCP connection, which
// no real fleet of agents does.
func connect(ctx context.Context, url, key string, timeout time.Duration) (*client.Client, *http.Transport, error) {
	conns := http.DefaultTransport.(*http.Transport).Clone()
	c, err := client.NewStreamableHttpClient(url,
		transport.WithHTTPBasicClient(&http.Client{Transport: conns, Timeout: timeout}),
		transport.WithHTTPHeaders(map[string]string{"skimmer-api-key": key}))
	if err != nil {
		return nil, nil, fmt.Errorf("creating the client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		return nil, nil, fmt.Errorf("starting the client: %w", err)
	}
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "skimmer-load", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		c.Close()
		conns.CloseIdleConnections()
		return nil, nil, fmt.Errorf("initializing: %w", err)
	}
	return c, conns, nil
}

// close hangs up for good: the MCP client, then the idle connection, so
// the server's goroutine for it ends now rather than at its idle timeout.
func (s *session) close() {
	s.c.Close()
	s.conns.CloseIdleConnections()
}

// call makes one tool call and records it: a Go error, an isError result,
// or an answer check refuses is an error of its kind. It returns the
// answer's text and whether the call succeeded.
//
// Calls run on a context of their own, not the run's: an interrupted run
// stops starting calls but lets those in flight finish, so ^C does not
// show up as errors.
func (s *session) call(op, tool string, args map[string]any, check func(string) error) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	var req mcp.CallToolRequest
	req.Params.Name = tool
	req.Params.Arguments = args
	start := time.Now()
	res, err := s.c.CallTool(ctx, req)
	took := time.Since(start)
	s.rec.nCalls++
	if err != nil {
		s.rec.fail(op, kindTransport, err)
		return "", false
	}
	text := resultText(res)
	if res.IsError {
		s.rec.fail(op, kindTool, errors.New(clip(text)))
		return text, false
	}
	if err := check(text); err != nil {
		s.rec.fail(op, kindAnswer, err)
		return text, false
	}
	s.rec.lat[op] = append(s.rec.lat[op], took)
	return text, true
}

func resultText(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if t, ok := c.(mcp.TextContent); ok {
			return t.Text
		}
	}
	return ""
}

// customer picks whom to act on: mostly someone the last search found, as
// an agent would, otherwise anyone.
func (s *session) customer() string {
	if len(s.last) > 0 && s.rng.IntN(4) > 0 {
		return s.last[s.rng.IntN(len(s.last))]
	}
	return s.pool[s.rng.IntN(len(s.pool))]
}

func (s *session) found(ids []string) {
	if len(ids) > 0 {
		s.last = ids
	}
}

// pick chooses the next step by weight.
func (s *session) pick(mix []op, total int) op {
	n := s.rng.IntN(total)
	for _, o := range mix {
		if n < o.weight {
			return o
		}
		n -= o.weight
	}
	return mix[len(mix)-1]
}
