package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// These tests hold the confirmation contract against a client that sends
// whatever it likes: answers replayed, declined ones re-sent as accepted,
// one caller's question answered with another's key, the same approval or
// the same confirmed write sent many times at once, to one replica or two.

// modernMeta makes a request speak the 2026-07-28 protocol as a client
// that can be asked: the confirmation then travels as requestState, which
// a client can keep and send again.
const modernMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"elicitation":{}}}`

// question sends a write and returns the sealed state of the question it
// puts to the person.
func question(t *testing.T, srv *Server, tool, args string) string {
	t.Helper()
	msg := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{` + modernMeta + `,"name":"` + tool + `","arguments":` + args + `}}`
	raw, _ := json.Marshal(srv.MCP().HandleMessage(context.Background(), json.RawMessage(msg)))
	var res struct {
		Result struct {
			RequestState string `json:"requestState"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal(raw, &res))
	require.NotEmpty(t, res.Result.RequestState, "the person is asked: %s", raw)
	return res.Result.RequestState
}

// answerWith sends the person's answer (an elicitation result as JSON)
// with a state, and returns the tool's text and whether it is an error.
func answerWith(t *testing.T, srv *Server, tool, args, state, response string) (string, bool) {
	t.Helper()
	quoted, _ := json.Marshal(state)
	msg := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{` + modernMeta + `,"name":"` + tool + `","arguments":` + args +
		`,"inputResponses":{"confirm":` + response + `},"requestState":` + string(quoted) + `}}`
	raw, _ := json.Marshal(srv.MCP().HandleMessage(context.Background(), json.RawMessage(msg)))
	var res struct {
		Result struct {
			Content []struct{ Text string } `json:"content"`
			IsError bool                    `json:"isError"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal(raw, &res))
	require.Len(t, res.Result.Content, 1, "%s", raw)
	return res.Result.Content[0].Text, res.Result.IsError
}

const (
	accepted = `{"action":"accept","content":{"approve":true}}`
	refusedA = `{"action":"decline"}`
)

// gate holds one operation's requests at Skimmer's door until released,
// and counts those that arrived: it makes "at the same time" exact. It
// finds the operation by the client's route table, as the sandbox does.
type gate struct {
	routes  *http.ServeMux
	arrived atomic.Int32
	open    chan struct{}
}

func newGate(op skimmer.Operation) *gate {
	g := &gate{routes: http.NewServeMux(), open: make(chan struct{})}
	for _, r := range skimmer.Routes() {
		if r.Op == op {
			g.routes.Handle(r.Method+" "+strings.ToLower(r.Path), http.NotFoundHandler())
		}
	}
	return g
}

func (g *gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lower := r.Clone(r.Context())
		lower.URL.Path = strings.ToLower(r.URL.Path)
		if _, pattern := g.routes.Handler(lower); pattern != "" {
			g.arrived.Add(1)
			<-g.open
		}
		next.ServeHTTP(w, r)
	})
}

// TestEveryAnswerSpendsTheQuestion: a question is answered once. A decline
// (or cancel, an unticked box, a mistyped word) kept by the client and sent
// again later as an accept changes nothing.
func TestEveryAnswerSpendsTheQuestion(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.Confirm = ConfirmElicit })
	c := h.customer(func(c *skimmer.Customer) bool { return !c.IsInactive })
	entry, err := h.sk.CreateActivityLog(context.Background(), c.ID, skimmer.ActivityLogRequest{Type: "Call", Title: "Keep me"})
	require.NoError(t, err)
	h.sb.ResetRequests()
	logArgs := `{"customerId":"` + c.ID + `","type":"Call","title":"Declined once"}`
	deleteArgs := `{"customerId":"` + c.ID + `","id":"` + entry.ID + `"}`
	for _, tt := range []struct {
		name, tool, args, first, want string
	}{
		{"decline", "create_customer_activity", logArgs, refusedA, "The user declined; nothing was changed."},
		{"cancel", "create_customer_activity", logArgs, `{"action":"cancel"}`, "The user declined; nothing was changed."},
		{"unticked", "create_customer_activity", logArgs, `{"action":"accept","content":{"approve":false}}`, "The user did not approve; nothing was changed."},
		{"mistyped", "delete_customer_activity", deleteArgs, `{"action":"accept","content":{"typed":"delete it"}}`, `The user typed "delete it", not "delete"; nothing was changed.`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			state := question(t, h.server, tt.tool, tt.args)
			text, isErr := answerWith(t, h.server, tt.tool, tt.args, state, tt.first)
			assert.False(t, isErr)
			assert.Contains(t, text, tt.want)
			later := accepted
			if tt.tool == "delete_customer_activity" {
				later = `{"action":"accept","content":{"typed":"delete"}}`
			}
			text, isErr = answerWith(t, h.server, tt.tool, tt.args, state, later)
			assert.True(t, isErr, "the same question, answered again: %s", text)
			assert.Equal(t, "This confirmation was already answered, so it did nothing this time. Check with a read whether the change was made; if it was not and is still wanted, call "+tt.tool+" again for a fresh confirmation.", text)
			assert.Zero(t, h.writes())
		})
	}
}

// TestConfirmationIsBoundToTheCaller: a question sealed for one API key,
// answered with another's (on this replica or one sharing the confirm
// key), applies nothing, and stays good for the caller it was put to.
func TestConfirmationIsBoundToTheCaller(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.Confirm = ConfirmElicit; s.cfg.ConfirmKey = []byte("shared") })
	mallory := h.sk.WithAPIKey("mallory-key-0f3a9c")
	other, err := New(Config{Client: func(context.Context) (*skimmer.Client, error) { return mallory, nil }, Confirm: ConfirmElicit, ConfirmKey: []byte("shared"), Now: h.server.cfg.Now})
	require.NoError(t, err)
	c := h.customer(func(*skimmer.Customer) bool { return true })
	args := `{"customerId":"` + c.ID + `","type":"Call","title":"Bound to Alice"}`

	state := question(t, h.server, "create_customer_activity", args)
	text, isErr := answerWith(t, other, "create_customer_activity", args, state, accepted)
	assert.True(t, isErr)
	assert.Equal(t, "The confirmation could not be used (it was given to a different API key); nothing was changed. Call create_customer_activity again to get a fresh one.", text)
	assert.Zero(t, h.writes())
	for _, r := range h.sb.Requests() {
		assert.NotEqual(t, "mallory-key-0f3a9c", r.Key, "nothing reached Skimmer with the other key")
	}

	text, isErr = answerWith(t, h.server, "create_customer_activity", args, state, accepted)
	assert.False(t, isErr, text)
	assert.Contains(t, text, `Logged Call "Bound to Alice"`)
	assert.Equal(t, 1, h.writes())
}

// TestConcurrentApprovalsApplyOnce: the same approval, sent ten times at
// once to one process (a client retrying on a slow answer), is carried out
// once, and every copy gets its answer.
func TestConcurrentApprovalsApplyOnce(t *testing.T) {
	g := newGate(skimmer.OpCreateActivityLog)
	h := newHarness(t, func(s *setup) { s.cfg.Confirm = ConfirmElicit; s.upstream = g.wrap })
	c := h.customer(func(*skimmer.Customer) bool { return true })
	args := `{"customerId":"` + c.ID + `","type":"Call","title":"Approved ten times"}`
	state := question(t, h.server, "create_customer_activity", args)

	texts := make([]string, 10)
	var wg sync.WaitGroup
	for i := range texts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			texts[i], _ = answerWith(t, h.server, "create_customer_activity", args, state, accepted)
		}()
	}
	require.Eventually(t, func() bool { return g.arrived.Load() == 1 && h.server.flights.waiters() == 9 }, 10*time.Second, time.Millisecond)
	close(g.open)
	wg.Wait()
	assert.Equal(t, 1, h.sb.Count(skimmer.OpCreateActivityLog), "written once")
	for _, text := range texts {
		assert.Equal(t, texts[0], text, "every copy gets the one answer")
	}
	assert.Contains(t, texts[0], `Logged Call "Approved ten times"`)
	assert.Equal(t, 9, strings.Count(h.logs.String(), "outcome=coalesced"))

	// The answer, sent again (its first answer lost on the way): the text
	// must not read as if this call changed something, nor as if nothing
	// was ever done.
	text, isErr := answerWith(t, h.server, "create_customer_activity", args, state, accepted)
	assert.True(t, isErr, "once it is done, the approval is spent: %s", text)
	assert.Contains(t, text, "already answered, so it did nothing this time. Check with a read whether the change was made")
	assert.NotContains(t, text, "used")
	assert.Equal(t, 1, h.sb.Count(skimmer.OpCreateActivityLog))
}

// TestDoubleSubmitCoalesces: under --confirm flag, the same confirmed
// write sent ten times at once by one caller is one write, and all ten get
// its answer. A later, separate call is a new write.
func TestDoubleSubmitCoalesces(t *testing.T) {
	g := newGate(skimmer.OpCreateCustomer)
	h := newHarness(t, func(s *setup) { s.upstream = g.wrap })
	args := map[string]any{"firstName": "Ten", "lastName": "Times", "primaryEmail": "ten.times@example.com", "confirm": true}
	texts := make([]string, 10)
	var wg sync.WaitGroup
	for i := range texts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			texts[i], _ = h.call("create_customer", args)
		}()
	}
	require.Eventually(t, func() bool { return g.arrived.Load() == 1 && h.server.flights.waiters() == 9 }, 10*time.Second, time.Millisecond)
	close(g.open)
	wg.Wait()
	assert.Equal(t, 1, h.sb.Count(skimmer.OpCreateCustomer), "one customer, not ten")
	for _, text := range texts {
		assert.Equal(t, texts[0], text)
	}
	assert.Contains(t, texts[0], "Created customer Ten Times, id ")

	text, _ := h.call("create_customer", args)
	assert.Contains(t, text, "Created customer Ten Times")
	assert.NotEqual(t, texts[0], text, "a separate call later is a new write")
	assert.Equal(t, 2, h.sb.Count(skimmer.OpCreateCustomer))
}

// TestTwoReplicasShareAStore: one confirmed create, sent to two replicas
// at once. Sharing the confirm key and a Store, it is made once: the
// confirmation is spent in the shared store, whichever replica is first.
func TestTwoReplicasShareAStore(t *testing.T) {
	g := newGate(skimmer.OpCreateCustomer)
	store := NewMemoryStore() // what a shared Redis is to two processes
	h := newHarness(t, func(s *setup) {
		s.cfg.Confirm, s.cfg.ConfirmKey, s.cfg.Store = ConfirmElicit, []byte("replicas"), store
		s.upstream = g.wrap
	})
	other, err := New(Config{Client: h.server.cfg.Client, Confirm: ConfirmElicit, ConfirmKey: []byte("replicas"), Store: store, Now: h.server.cfg.Now})
	require.NoError(t, err)
	for i := range 10 {
		args := fmt.Sprintf(`{"firstName":"Replica","lastName":"Race %d","primaryEmail":"race%d@example.com"}`, i, i)
		state := question(t, h.server, "create_customer", args)
		answers := make(chan string, 2)
		for _, srv := range []*Server{h.server, other} {
			go func() {
				text, _ := answerWith(t, srv, "create_customer", args, state, accepted)
				answers <- text
			}()
		}
		// One replica spends the confirmation and reaches Skimmer, where
		// the gate holds it; the other finds it spent and answers at once.
		assert.Equal(t, "This confirmation was already answered, so it did nothing this time. Check with a read whether the change was made; if it was not and is still wanted, call create_customer again for a fresh confirmation.", <-answers, "try %d", i)
		require.Eventually(t, func() bool { return g.arrived.Load() == int32(i+1) }, 10*time.Second, time.Millisecond)
		g.open <- struct{}{}
		assert.Contains(t, <-answers, "Created customer Replica Race")
		assert.Equal(t, i+1, h.sb.Count(skimmer.OpCreateCustomer), "try %d: created once", i)
	}
}

// TestReplayAfterTheFactCreatesOnce: without a shared store, a replica
// knows only the confirmations it spent itself. A create whose approval is
// replayed later to another replica (or after a restart) looks in Skimmer
// first, and finds the record, even where Sieve cannot express its name.
func TestReplayAfterTheFactCreatesOnce(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.Confirm = ConfirmElicit; s.cfg.ConfirmKey = []byte("shared-by-replicas") })
	other, err := New(Config{Client: h.server.cfg.Client, Confirm: ConfirmElicit, ConfirmKey: []byte("shared-by-replicas"), Now: h.server.cfg.Now})
	require.NoError(t, err)
	args := `{"firstName":" Leading","lastName":"Space","primaryEmail":"leading.space@example.com"}`
	state := question(t, h.server, "create_customer", args)
	text, _ := answerWith(t, h.server, "create_customer", args, state, accepted)
	require.Contains(t, text, "Created customer")
	text, isErr := answerWith(t, other, "create_customer", args, state, accepted)
	assert.False(t, isErr, text)
	assert.Contains(t, text, "Already created: customer Leading Space, id ")
	assert.Equal(t, 1, h.sb.Count(skimmer.OpCreateCustomer))
}

// TestReplayGuardOnlyWhereNeeded: the look-up before a create costs a
// request, so it runs only where a spent confirmation could be replayed to
// a process that did not see it spent.
func TestReplayGuardOnlyWhereNeeded(t *testing.T) {
	client := func(context.Context) (*skimmer.Client, error) { return nil, nil }
	for _, tt := range []struct {
		name  string
		cfg   Config
		guard bool
	}{
		{"one process, its own key", Config{Client: client}, false},
		{"replicas sharing a key, each its own store", Config{Client: client, ConfirmKey: []byte("k")}, true},
		{"replicas sharing a key and a store", Config{Client: client, ConfirmKey: []byte("k"), Store: NewMemoryStore()}, false},
	} {
		s, err := New(tt.cfg)
		require.NoError(t, err)
		assert.Equal(t, tt.guard, s.replayGuard, tt.name)
	}
}

// failingStore is a shared store that cannot be reached.
type failingStore struct{}

func (failingStore) Lock(context.Context, string, time.Duration) (func(), error) {
	return nil, fmt.Errorf("dial tcp 10.0.0.7:6379: connection refused")
}

func (failingStore) Spend(context.Context, string, time.Duration) (bool, error) {
	return false, fmt.Errorf("dial tcp 10.0.0.7:6379: connection refused")
}

// TestStoreFailuresFailClosed: a store that cannot be reached stops the
// write, with a sentence that says nothing was changed.
func TestStoreFailuresFailClosed(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.Confirm = ConfirmElicit; s.cfg.Store = failingStore{} })
	c := h.customer(func(c *skimmer.Customer) bool { return c.Notes != nil })
	text, isErr := h.call("update_customer", map[string]any{"id": c.ID, "notes": "changed", "confirm": true})
	assert.True(t, isErr)
	assert.Equal(t, "Nothing was changed: this server could not reach its shared database, which it needs to make a change safely. Try again in a moment; if it keeps failing, tell whoever runs this server.", text)

	args := `{"customerId":"` + c.ID + `","type":"Call","title":"Store down"}`
	state := question(t, h.server, "create_customer_activity", args)
	text, isErr = answerWith(t, h.server, "create_customer_activity", args, state, accepted)
	assert.True(t, isErr)
	assert.Contains(t, text, "could not reach its shared database")
	assert.Zero(t, h.writes())
	assert.NotContains(t, h.logs.String(), "10.0.0.7", "the store's address stays out of the log line too")
}

// TestBusyRecord: a record another writer holds past the store's wait is
// refused with a sentence, not queued for ever.
func TestBusyRecord(t *testing.T) {
	store := &MemoryStore{Wait: 20 * time.Millisecond}
	h := newHarness(t, func(s *setup) { s.cfg.Store = store })
	c := h.customer(func(c *skimmer.Customer) bool { return c.Notes != nil })
	release, err := store.Lock(context.Background(), "record/customer/"+c.ID, time.Minute)
	require.NoError(t, err)
	defer release()
	text, isErr := h.call("update_customer", map[string]any{"id": c.ID, "notes": "changed", "confirm": true})
	assert.True(t, isErr)
	assert.Equal(t, "Another change to this customer is in progress; try again in a moment. Nothing was changed.", text)
	assert.Zero(t, h.writes())
}

// TestDoubleSubmitIsPerCaller: two callers sending the same write at the
// same moment are two writes, each with its own key: coalescing never
// hands one caller another's answer.
func TestDoubleSubmitIsPerCaller(t *testing.T) {
	g := newGate(skimmer.OpCreateCustomer)
	type callerKey struct{}
	var h *harness
	h = newHarness(t, func(s *setup) {
		s.upstream = g.wrap
		s.cfg.Client = func(ctx context.Context) (*skimmer.Client, error) {
			return h.sk.WithAPIKey(ctx.Value(callerKey{}).(string)), nil
		}
	})
	msg := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_customer","arguments":{"firstName":"Same","lastName":"Args","confirm":true}}}`
	answers := make(chan string, 2)
	for _, key := range []string{"tenant-a-key-0001", "tenant-b-key-0002"} {
		go func() {
			ctx := context.WithValue(context.Background(), callerKey{}, key)
			raw, _ := json.Marshal(h.server.MCP().HandleMessage(ctx, json.RawMessage(msg)))
			answers <- string(raw)
		}()
	}
	require.Eventually(t, func() bool { return g.arrived.Load() == 2 }, 10*time.Second, time.Millisecond, "both reach Skimmer")
	assert.Zero(t, h.server.flights.waiters(), "neither waits on the other")
	close(g.open)
	a, b := <-answers, <-answers
	assert.NotEqual(t, a, b, "each gets its own customer")
	keys := map[string]bool{}
	for _, r := range h.sb.Requests() {
		if r.Op == skimmer.OpCreateCustomer {
			keys[r.Key] = true
		}
	}
	assert.Equal(t, map[string]bool{"tenant-a-key-0001": true, "tenant-b-key-0002": true}, keys)
}

// TestCoalescedWriteOutlivesTheFirstCaller: the first of two identical
// confirmed writes has reached Skimmer when its caller goes away (a client
// timing out, a closed tab). The write is Skimmer's now: the second caller,
// who joined it, gets what Skimmer answered, not the first caller's
// cancellation.
func TestCoalescedWriteOutlivesTheFirstCaller(t *testing.T) {
	g := newGate(skimmer.OpCreateCustomer)
	h := newHarness(t, func(s *setup) { s.upstream = g.wrap })
	args := map[string]any{"firstName": "Gone", "lastName": "Early", "primaryEmail": "gone.early@example.com", "confirm": true}
	call := func(ctx context.Context) (string, bool, error) {
		var req mcp.CallToolRequest
		req.Params.Name, req.Params.Arguments = "create_customer", args
		res, err := h.client.CallTool(ctx, req)
		if err != nil {
			return "", false, err
		}
		return resultText(t, res), res.IsError, nil
	}
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderDone := make(chan struct{})
	go func() {
		defer close(leaderDone)
		_, _, _ = call(leaderCtx)
	}()
	require.Eventually(t, func() bool { return g.arrived.Load() == 1 }, 10*time.Second, time.Millisecond, "the first call's POST reached Skimmer")
	type answer struct {
		text  string
		isErr bool
	}
	joined := make(chan answer, 1)
	go func() {
		text, isErr, err := call(context.Background())
		assert.NoError(t, err)
		joined <- answer{text, isErr}
	}()
	require.Eventually(t, func() bool { return h.server.flights.waiters() == 1 }, 10*time.Second, time.Millisecond, "the second call joined the first")
	cancel()
	// Give a cancellation that would reach the write the time to do so.
	select {
	case <-leaderDone:
	case <-time.After(300 * time.Millisecond):
	}
	close(g.open)
	got := <-joined
	<-leaderDone
	assert.False(t, got.isErr, got.text)
	assert.Contains(t, got.text, "Created customer Gone Early, id ")
	assert.Equal(t, 1, h.sb.Count(skimmer.OpCreateCustomer))
}
