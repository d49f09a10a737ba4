//go:build replicas

// The replicas proof of what keeps writes exact across replicas (issue
// 15): record locks and spent confirmations on the shared store. Run by
// .ci/replicas/run with TestReplicas:
//
//	go test -tags replicas ./cmd/skimmer-mcp -run TestReplicasWrites -v
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/redistest"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

// router sends a client's requests to the replica the test names, counts
// its tool calls, and keeps the last answer to an input request, so that a
// test can replay it elsewhere.
type router struct {
	mu       sync.Mutex
	to       string // host:port of the replica requests go to
	answerTo string // where answers to input requests go; to when empty
	calls    *atomic.Int64
	answer   []byte      // the last tools/call carrying a requestState
	answerHd http.Header // its headers
}

func hostOf(rep *replica) string {
	return strings.TrimSuffix(strings.TrimPrefix(rep.url, "http://"), "/mcp")
}

// use sends the calls to ask, and the answers to their input requests to
// answer.
func (r *router) use(ask, answer *replica) {
	r.mu.Lock()
	r.to, r.answerTo = hostOf(ask), hostOf(answer)
	r.mu.Unlock()
}

func (r *router) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	to, answerTo := r.to, r.answerTo
	r.mu.Unlock()
	if req.Method == http.MethodPost && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte(`"tools/call"`)) {
			r.calls.Add(1)
			if bytes.Contains(body, []byte(`"requestState"`)) {
				r.mu.Lock()
				r.answer, r.answerHd = body, req.Header.Clone()
				r.mu.Unlock()
				to = answerTo
			}
		}
	}
	if to != "" {
		req = req.Clone(req.Context())
		req.URL.Host, req.Host = to, to
	}
	return http.DefaultTransport.RoundTrip(req)
}

// replay sends the last answer again, as it was, to rep, and returns the
// tool's text and whether it is an error.
func (r *router) replay(t *testing.T, rep *replica) (string, bool) {
	t.Helper()
	r.mu.Lock()
	body, hd := r.answer, r.answerHd.Clone()
	r.mu.Unlock()
	require.NotEmpty(t, body, "an answer was sent")
	req, err := http.NewRequest(http.MethodPost, rep.url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = hd
	r.calls.Add(1)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if i := bytes.Index(raw, []byte("data: ")); i >= 0 { // an SSE answer
		raw = raw[i+len("data: "):]
		if j := bytes.IndexByte(raw, '\n'); j >= 0 {
			raw = raw[:j]
		}
	}
	var msg struct {
		Result struct {
			Content []struct{ Text string } `json:"content"`
			IsError bool                    `json:"isError"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal(raw, &msg), "%s", raw)
	require.NotEmpty(t, msg.Result.Content, "%s", raw)
	return msg.Result.Content[0].Text, msg.Result.IsError
}

// accepter approves every confirmation it is asked for.
type accepter struct{ asked atomic.Int64 }

func (a *accepter) Elicit(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	a.asked.Add(1)
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"approve": true}}}, nil
}

// routedClient is an MCP client on the 2026-07-28 protocol, whose requests
// the router sends; with an elicitation handler, it confirms writes by
// multi round-trip input requests.
func routedClient(t *testing.T, r *router, key string, elicit client.ElicitationHandler) *client.Client {
	t.Helper()
	tr, err := transport.NewStreamableHTTP("http://replica/mcp", transport.WithHTTPHeaders(map[string]string{"skimmer-api-key": key}),
		transport.WithHTTPBasicClient(&http.Client{Transport: r}))
	require.NoError(t, err)
	var opts []client.ClientOption
	if elicit != nil {
		opts = append(opts, client.WithElicitationHandler(elicit))
	}
	c := client.NewClient(tr, opts...)
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	require.NoError(t, c.Start(ctx))
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "replicas-proof", Version: "1"}
	_, err = c.Initialize(ctx, init)
	require.NoError(t, err)
	return c
}

// customerFields is a customer as Skimmer stores it, field by field.
func customerFields(t *testing.T, up *recordingUpstream, id string) map[string]json.RawMessage {
	t.Helper()
	sk, err := skimmer.New(skimmer.Options{BaseURL: up.url, APIKey: "inspect-key"})
	require.NoError(t, err)
	c, err := sk.GetCustomer(context.Background(), id, false)
	require.NoError(t, err)
	raw, err := json.Marshal(c)
	require.NoError(t, err)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func (u *recordingUpstream) writes(key string) int {
	n := 0
	for _, a := range u.arrivals(key) {
		if a.method != http.MethodGet {
			n++
		}
	}
	return n
}

// concurrentUpdates sends ten update_customer calls at once, each setting
// a different field of one customer, spread over the replicas, and returns
// the fields whose value did not survive.
func concurrentUpdates(t *testing.T, up *recordingUpstream, rs []*replica, key, id string) []string {
	t.Helper()
	fields := []string{"billingAddress", "billingCity", "billingZip", "homePhone", "workPhone", "notes", "customerCode", "secondaryEmail", "email3", "email4"}
	clients := make([]*client.Client, len(rs))
	for i, r := range rs {
		clients[i] = mcpClient(t, r.url, key)
	}
	var wg sync.WaitGroup
	for i, f := range fields {
		wg.Add(1)
		go func() {
			defer wg.Done()
			text, isErr, err := tool(context.Background(), clients[i%len(rs)], "update_customer", map[string]any{"id": id, f: "set-" + f + "@example.com", "confirm": true})
			assert.NoError(t, err)
			assert.False(t, isErr, "%s: %s", f, text)
		}()
	}
	wg.Wait()
	after := customerFields(t, up, id)
	var lost []string
	for _, f := range fields {
		if string(after[f]) != `"set-`+f+`@example.com"` {
			lost = append(lost, f)
		}
	}
	return lost
}

func TestReplicasWrites(t *testing.T) {
	up := newRecordingUpstream(t)
	redis := redistest.Start(t)
	rs := startReplicas(t, 3, up.url, redis.URL())
	setup, err := skimmer.New(skimmer.Options{BaseURL: up.url, APIKey: "setup-key"})
	require.NoError(t, err)
	customers, err := setup.AllCustomers(context.Background(), false)
	require.NoError(t, err)
	ids := make([]string, 0, 10)
	for _, c := range customers[:10] {
		ids = append(ids, c.ID)
	}
	var made sync.Map // outcome → *atomic.Int64, to hold the metrics to
	add := func(outcome string, n int) {
		v, _ := made.LoadOrStore(outcome, &atomic.Int64{})
		v.(*atomic.Int64).Add(int64(n))
	}
	var calls atomic.Int64

	t.Run("ten concurrent updates of one customer across the replicas all survive; without the store some are lost", func(t *testing.T) {
		// A Skimmer that takes 40 ms to answer widens the window between an
		// update's re-read and its PUT, as a real network does.
		up.sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpGetCustomer, skimmer.OpUpdateCustomer}, Latency: 40 * time.Millisecond})
		defer up.sb.ClearFaults()
		baseline := startReplicas(t, 3, up.url, "")
		lost := concurrentUpdates(t, up, baseline, "baseline-key", ids[1])
		assert.NotEmpty(t, lost, "without the store, replicas overwrite each other's fields")
		t.Logf("without --store: %d of 10 updates lost (%v)", len(lost), lost)
		for _, b := range baseline {
			b.p.stop(t)
		}
		before := customerFields(t, up, ids[2])
		lost = concurrentUpdates(t, up, rs, "updates-phase-key", ids[2])
		assert.Empty(t, lost, "with the store, every update survives")
		assert.Equal(t, 10, up.writes("updates-phase-key"), "one PUT each")
		after := customerFields(t, up, ids[2])
		for k, v := range before {
			if !strings.Contains(k, "Address") && !strings.Contains(k, "City") && !strings.Contains(k, "Zip") && !strings.Contains(k, "Phone") && !strings.Contains(k, "notes") && !strings.Contains(k, "Code") && !strings.Contains(k, "mail") && k != "updatedAt" {
				assert.JSONEq(t, string(v), string(after[k]), "%s untouched", k)
			}
		}
		t.Logf("with --store: 0 of 10 lost, %d PUTs", up.writes("updates-phase-key"))
		add("applied", 10)
	})

	t.Run("a confirmation spent on one replica is refused on the other two", func(t *testing.T) {
		const key = "confirm-phase-key"
		r := &router{calls: &calls}
		r.use(rs[0], rs[0])
		c := routedClient(t, r, key, &accepter{})
		text, isErr, err := tool(context.Background(), c, "create_customer_activity", map[string]any{"customerId": ids[3], "type": "Other", "title": "Confirmed once"})
		require.NoError(t, err)
		require.False(t, isErr, text)
		require.Contains(t, text, "Logged")
		for _, other := range rs[1:] {
			text, isErr = r.replay(t, other)
			assert.True(t, isErr, text)
			assert.Contains(t, text, "already answered", "replayed on another replica")
		}
		assert.Equal(t, 1, up.writes(key), "written once")
		add("asked", 1)
		add("applied", 1)
		add("refused", 2)
	})

	t.Run("two separately confirmed identical notes are both logged, on one replica and across replicas", func(t *testing.T) {
		const key = "notes-phase-key"
		r := &router{calls: &calls}
		r.use(rs[0], rs[0])
		a := &accepter{}
		c := routedClient(t, r, key, a)
		args := map[string]any{"customerId": ids[4], "type": "Other", "title": "Gate code changed"}
		for _, via := range [][2]int{{0, 0}, {0, 0}, {0, 1}, {1, 2}} { // twice on one replica; then asked on one, answered on another
			r.use(rs[via[0]], rs[via[1]])
			text, isErr, err := tool(context.Background(), c, "create_customer_activity", args)
			require.NoError(t, err)
			require.False(t, isErr, text)
			assert.Contains(t, text, "Logged")
		}
		assert.Equal(t, int64(4), a.asked.Load(), "asked four times")
		assert.Equal(t, 4, up.writes(key), "four separate approvals, four entries")
		add("asked", 4)
		add("applied", 4)
	})

	t.Run("Redis killed: writes refuse clearly, nothing is written twice or wiped; Redis back: writes resume with no restart", func(t *testing.T) {
		r := &router{calls: &calls}
		r.use(rs[0], rs[1]) // asked before the outage on one replica, answered during it on another
		pending := routedClient(t, r, "outage-writer-key", &accepter{})
		writer := mcpClient(t, rs[2].url, "outage-writer-key")
		before := customerFields(t, up, ids[5])
		redis.Stop()
		const storeDown = "Nothing was changed: this server could not reach its shared database, which it needs to make a change safely."
		for i := range 3 {
			text, isErr, err := tool(context.Background(), writer, "update_customer", map[string]any{"id": ids[5], "notes": "during the outage", "confirm": true})
			require.NoError(t, err)
			assert.True(t, isErr, "try %d: %s", i, text)
			assert.Contains(t, text, storeDown)
			add("store_unreachable", 1)
		}
		text, isErr, err := tool(context.Background(), pending, "create_customer_activity", map[string]any{"customerId": ids[5], "type": "Other", "title": "Approved during the outage"})
		require.NoError(t, err)
		assert.True(t, isErr, text)
		assert.Contains(t, text, storeDown, "a confirmation whose use cannot be recorded does not apply")
		add("asked", 1)
		add("store_unreachable", 1)
		assert.Zero(t, up.writes("outage-writer-key"), "nothing was written during the outage")
		redis.Restart()
		require.Eventually(t, func() bool {
			for _, r := range rs {
				if metricSum(t, r, "skimmer_mcp_store_up") != 1 {
					return false
				}
			}
			return true
		}, 10*time.Second, 100*time.Millisecond, "every replica finds the store again")
		text, isErr, err = tool(context.Background(), writer, "update_customer", map[string]any{"id": ids[5], "notes": "after the outage", "confirm": true})
		require.NoError(t, err)
		require.False(t, isErr, "writes resume with no restart: %s", text)
		add("applied", 1)
		after := customerFields(t, up, ids[5])
		assert.Equal(t, 1, up.writes("outage-writer-key"), "the one write, once")
		for k, v := range before {
			if k != "notes" && k != "updatedAt" {
				assert.JSONEq(t, string(v), string(after[k]), "%s was not wiped", k)
			}
		}
		assert.JSONEq(t, `"after the outage"`, string(after["notes"]))
	})

	t.Run("metrics: the outcomes counted match the calls made", func(t *testing.T) {
		want := map[string]float64{}
		made.Range(func(k, v any) bool { want[k.(string)] = float64(v.(*atomic.Int64).Load()); return true })
		assert.Equal(t, want, toolCalls(t, rs))
	})
}
