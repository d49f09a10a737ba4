package main

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

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The resource tests flood the real binary the way the attack did (issue
// 11, item 3): sessions and SSE streams opened from made-up keys with no
// upstream call needed, and read the server's own RSS and goroutines from
// its debug listener before and after. The caps must hold both, with the
// figures bounded by the caps, not by the flood, while a caller who was
// already connected is still served. floodAttempts is 40,000; under -race
// (where the test's own client side runs several times slower) it is
// 4,000, and the full count runs in the plain go test ./... that CI runs
// too.

// serverVars is what the binary's /debug/vars says about itself.
type serverVars struct {
	Goroutines int `json:"goroutines"`
	Memory     struct {
		RSS  int64 `json:"rss_bytes"`
		Peak int64 `json:"peak_rss_bytes"`
	} `json:"memory"`
}

func debugURL(t *testing.T, p *proc) string {
	t.Helper()
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		var rec struct{ Msg, URL string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "debug listener" {
			return rec.URL
		}
	}
	t.Fatal("no debug listener")
	return ""
}

func readVars(t *testing.T, url string) serverVars {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var v serverVars
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return v
}

// settled reads the vars once the goroutine count has stopped falling:
// streams that were just closed take a moment to unwind.
func settled(t *testing.T, url string) serverVars {
	t.Helper()
	v := readVars(t, url)
	for range 50 {
		time.Sleep(100 * time.Millisecond)
		next := readVars(t, url)
		if next.Goroutines >= v.Goroutines {
			return next
		}
		v = next
	}
	return v
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// flood sends n requests from workers goroutines over kept-alive
// connections and counts the answers by status. make returns request i.
func flood(t *testing.T, n, workers int, make func(i int) *http.Request) map[int]int {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer hc.CloseIdleConnections()
	var next atomic.Int64
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := map[int]int{}
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					break
				}
				resp, err := hc.Do(make(i))
				if err != nil {
					local[-1]++
					continue
				}
				if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
					if resp.Header.Get("Retry-After") == "" {
						local[-2]++ // a refusal without Retry-After
					}
				}
				resp.Body.Close()
				local[resp.StatusCode]++
			}
			mu.Lock()
			for k, v := range local {
				counts[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return counts
}

func initRequest(t *testing.T, url, key string) *http.Request {
	req, err := http.NewRequest("POST", url, strings.NewReader(initializeMsg))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("skimmer-api-key", key)
	return req
}

// TestSessionFloodIsCapped, with the default caps: 250 stateful sessions
// from one key, then floodAttempts from made-up keys. Sessions beyond the caps are refused with
// 503 or 429 and Retry-After, memory stays within what the admitted
// sessions cost, and the caller connected before the flood is served
// throughout.
func TestSessionFloodIsCapped(t *testing.T) {
	const maxSessions, perKey = 2000, 200 // the defaults
	p := start(t, []string{"SKIMMER_BASE_URL=" + upstreamURL(t)}, "--transport", "http", "--stateful", "--addr", "127.0.0.1:0", "--log-format", "json",
		"--debug-addr", "127.0.0.1:0")
	url := p.waitURL(t)
	vars := debugURL(t, p)
	legit := legacySession(t, url, "legit-caller-key-01")
	text, isErr := callText(t, legit, "list_customers", map[string]any{"limit": 1})
	require.False(t, isErr, text)
	before := settled(t, vars)

	oneKey := flood(t, perKey+50, 4, func(int) *http.Request { return initRequest(t, url, "one-busy-key-0001") })
	start := time.Now()
	counts := flood(t, floodAttempts, 16, func(i int) *http.Request {
		return initRequest(t, url, fmt.Sprintf("made-up-key-%06d", i))
	})
	took := time.Since(start)
	text, isErr = callText(t, legit, "list_customers", map[string]any{"limit": 1})
	assert.False(t, isErr, "the caller connected before the flood is served: %s", text)
	after := settled(t, vars)

	t.Logf("%d session attempts from one key: %v; %d from made-up keys in %s: %v", perKey+50, oneKey, floodAttempts, took.Round(time.Millisecond), counts)
	t.Logf("server RSS %s before, %s after (peak %s); goroutines %d before, %d after",
		mib(before.Memory.RSS), mib(after.Memory.RSS), mib(after.Memory.Peak), before.Goroutines, after.Goroutines)
	assert.Equal(t, map[int]int{200: perKey, 429: 50}, oneKey, "one key gets its share, then 429")
	admitted := maxSessions - perKey - 1 // less the busy key's and the legitimate caller's
	assert.Equal(t, map[int]int{200: admitted, 503: floodAttempts - admitted}, counts, "the rest get 503, each with Retry-After")
	// What a session holds is mcp-go's per-session state, about 12 KB; the
	// bound allows 40 KB each on top of where the server started.
	assert.Less(t, after.Memory.Peak-before.Memory.RSS, int64(maxSessions)*40<<10, "memory is bounded by the cap")
	assert.Less(t, after.Goroutines, before.Goroutines+20, "sessions hold no goroutines")
	p.stop(t)
}

// legacySession is a client on protocol 2025-06-18, which holds a stateful
// session (a client on 2026-07-28 needs none).
func legacySession(t *testing.T, url, key string) *client.Client {
	t.Helper()
	tr, err := transport.NewStreamableHTTP(url, transport.WithHTTPHeaders(map[string]string{"skimmer-api-key": key}))
	require.NoError(t, err)
	c := client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20250618))
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.Start(context.Background()))
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = mcp.ProtocolVersion20250618
	init.Params.ClientInfo = mcp.Implementation{Name: "legacy", Version: "1"}
	_, err = c.Initialize(context.Background(), init)
	require.NoError(t, err)
	require.NotEmpty(t, tr.GetSessionId(), "a stateful session")
	return c
}

// upstreamURL is a sandbox in the test process.
func upstreamURL(t *testing.T) string {
	_, base := upstreamSandbox(t)
	return base
}

// TestStreamFloodIsCapped, with the default caps: 2,000 SSE streams from one key, then 2,000 from
// made-up keys, held open. One key gets its share, the server its total;
// goroutines stay within what the admitted streams cost and come back
// down when they close; the caller connected before the flood is served.
func TestStreamFloodIsCapped(t *testing.T) {
	const maxStreams, perKey = 500, 50 // the defaults
	p := start(t, []string{"SKIMMER_BASE_URL=" + upstreamURL(t)}, "--transport", "sse", "--addr", "127.0.0.1:0", "--log-format", "json",
		"--debug-addr", "127.0.0.1:0")
	url := p.waitURL(t)
	vars := debugURL(t, p)
	legit := sseClient(t, url, map[string]string{"skimmer-api-key": "legit-caller-key-01"})
	text, isErr := callText(t, legit, "list_customers", map[string]any{"limit": 1})
	require.False(t, isErr, text)
	before := settled(t, vars)

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	var mu sync.Mutex
	var open []*http.Response
	openStreams := func(n int, key func(int) string) map[int]int {
		counts := map[int]int{}
		var wg sync.WaitGroup
		var next atomic.Int64
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					req, _ := http.NewRequest("GET", url, nil)
					req.Header.Set("Accept", "text/event-stream")
					req.Header.Set("skimmer-api-key", key(i))
					resp, err := hc.Do(req)
					mu.Lock()
					switch {
					case err != nil:
						counts[-1]++
					case resp.StatusCode == http.StatusOK:
						open = append(open, resp)
						counts[200]++
					default:
						if resp.Header.Get("Retry-After") == "" {
							counts[-2]++
						}
						counts[resp.StatusCode]++
						resp.Body.Close()
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return counts
	}
	oneKey := openStreams(2000, func(int) string { return "one-streaming-key-01" })
	madeUp := openStreams(2000, func(i int) string { return fmt.Sprintf("made-up-key-%06d", i) })
	during := settled(t, vars)
	text, isErr = callText(t, legit, "list_customers", map[string]any{"limit": 1})
	assert.False(t, isErr, "the caller connected before the flood is served: %s", text)
	for _, r := range open {
		r.Body.Close()
	}
	hc.CloseIdleConnections()
	after := settled(t, vars)

	t.Logf("2,000 SSE streams from one key: %v; 2,000 from made-up keys: %v", oneKey, madeUp)
	t.Logf("server goroutines %d before, %d with %d streams open, %d after they closed; RSS %s before, %s during, %s after",
		before.Goroutines, during.Goroutines, len(open), after.Goroutines, mib(before.Memory.RSS), mib(during.Memory.RSS), mib(after.Memory.RSS))
	assert.Equal(t, perKey, oneKey[200], "one key's share")
	assert.Equal(t, 2000-perKey, oneKey[http.StatusTooManyRequests])
	assert.Equal(t, maxStreams-perKey-1, madeUp[200], "the total, less the busy key's and the legitimate caller's")
	assert.Equal(t, 2000-madeUp[200], madeUp[http.StatusServiceUnavailable])
	assert.Zero(t, oneKey[-1]+oneKey[-2]+madeUp[-1]+madeUp[-2], "no failed request, no refusal without Retry-After")
	// An SSE stream costs mcp-go three goroutines (the handler, its
	// notification pump, its keep-alive) and net/http one.
	assert.LessOrEqual(t, during.Goroutines-before.Goroutines, 4*(maxStreams-1)+20, "goroutines are bounded by the cap")
	assert.Less(t, after.Goroutines, before.Goroutines+20, "and come back down when the streams close")
	p.stop(t)
}
