//go:build replicas

// The replicas proof (issue 15): three skimmer-mcp processes of the built
// binary, one Redis (redis-server), HAProxy round-robin in front, one
// sandbox upstream. Run by .ci/replicas/run, which installs redis-server
// and haproxy:
//
//	go test -tags replicas ./cmd/skimmer-mcp -run TestReplicas -v
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/redistest"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

// rateLimit is the sandbox's per-key limit a minute in this proof: small,
// so that a load above it fits in a modest run; the budget learns it from
// the RateLimit-Limit header as it would Skimmer's 500.
const rateLimit = 100

// arrival is one request the upstream received.
type arrival struct {
	at     time.Time
	key    string
	method string
	op     string
	status int
}

// upstream is the sandbox, with every request's arrival recorded.
type recordingUpstream struct {
	sb  *sandbox.Server
	url string
	mu  sync.Mutex
	log []arrival
}

func newRecordingUpstream(t *testing.T) *recordingUpstream {
	sb, err := sandbox.New(sandbox.Options{Seed: 1, Customers: 60, RateLimit: rateLimit})
	require.NoError(t, err)
	u := &recordingUpstream{sb: sb}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		sw := &statusRecorder{ResponseWriter: w, status: 200}
		sb.ServeHTTP(sw, r)
		u.mu.Lock()
		u.log = append(u.log, arrival{at: at, key: r.Header.Get("skimmer-api-key"), method: r.Method, op: r.URL.Path, status: sw.status})
		u.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	u.url = srv.URL
	return u
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

func (u *recordingUpstream) arrivals(key string) []arrival {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []arrival
	for _, a := range u.log {
		if a.key == key {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b arrival) int { return a.at.Compare(b.at) }) // logged as answered, sorted as arrived
	return out
}

// replica is one skimmer-mcp process.
type replica struct {
	p       *proc
	url     string // its /mcp
	metrics string // its /metrics
}

func startReplicas(t *testing.T, n int, upstream, store string) []*replica {
	t.Helper()
	var rs []*replica
	for range n {
		env := []string{"SKIMMER_BASE_URL=" + upstream, "SKIMMER_CONFIRM_KEY=one-key-for-every-replica-of-this-proof"}
		if store != "" {
			env = append(env, "SKIMMER_STORE="+store)
		}
		p := start(t, env, "--transport", "http", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--log-format", "json")
		rs = append(rs, &replica{p: p})
	}
	for _, r := range rs {
		r.url = r.p.waitURL(t)
		r.metrics = logURL(t, r.p, "metrics listener")
	}
	return rs
}

// startHAProxy balances round-robin over the replicas, request by request.
func startHAProxy(t *testing.T, rs []*replica) string {
	t.Helper()
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Fatal("haproxy is not installed: apt-get install haproxy (.ci/replicas/run does it)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	var servers strings.Builder
	for i, r := range rs {
		host := strings.TrimSuffix(strings.TrimPrefix(r.url, "http://"), "/mcp")
		fmt.Fprintf(&servers, "  server r%d %s\n", i+1, host)
	}
	cfg := fmt.Sprintf(`global
  maxconn 2000
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
frontend mcp
  bind %s
  default_backend replicas
backend replicas
  balance roundrobin
%s`, addr, servers.String())
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	cmd := exec.Command("haproxy", "-f", path, "-db")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 50*time.Millisecond, "haproxy listening: %s", &out)
	return "http://" + addr + "/mcp"
}

// mcpClient is an initialized streamable-HTTP client carrying key.
func mcpClient(t *testing.T, url, key string) *client.Client {
	t.Helper()
	return httpClient(t, url, map[string]string{"skimmer-api-key": key})
}

func tool(ctx context.Context, c *client.Client, name string, args map[string]any) (string, bool, error) {
	var req mcp.CallToolRequest
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return "", false, err
	}
	return res.Content[0].(mcp.TextContent).Text, res.IsError, nil
}

// toolCalls sums skimmer_mcp_tool_calls_total over the replicas, by outcome.
func toolCalls(t *testing.T, rs []*replica) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, r := range rs {
		f := scrapeMetrics(t, r.metrics)["skimmer_mcp_tool_calls_total"]
		for _, m := range f.GetMetric() {
			for _, l := range m.Label {
				if l.GetName() == "outcome" {
					out[l.GetValue()] += m.Counter.GetValue()
				}
			}
		}
	}
	return out
}

func metricSum(t *testing.T, r *replica, name string) float64 {
	t.Helper()
	return sum(scrapeMetrics(t, r.metrics)[name], "", "")
}

const waitSentence = "rate limit for this API key is used up. Wait"

func TestReplicas(t *testing.T) {
	up := newRecordingUpstream(t)
	redis := redistest.Start(t)
	rs := startReplicas(t, 3, up.url, redis.URL())
	lb := startHAProxy(t, rs)
	setup, err := skimmer.New(skimmer.Options{BaseURL: up.url, APIKey: "setup-key"})
	require.NoError(t, err)
	customers, err := setup.AllCustomers(context.Background(), false) // a few ids for the reads
	require.NoError(t, err)
	ids := make([]string, 0, 10)
	for _, c := range customers[:10] {
		ids = append(ids, c.ID)
	}

	// What the driver made, to hold the metrics to.
	var made sync.Map // outcome → *atomic.Int64
	count := func(outcome string) {
		v, _ := made.LoadOrStore(outcome, &atomic.Int64{})
		v.(*atomic.Int64).Add(1)
	}

	t.Run("the replicas together stay inside one key's rate limit", func(t *testing.T) {
		const key, clients, runFor = "rate-phase-key", 12, 65 * time.Second
		var ok, waited, failed atomic.Int64
		var failures sync.Map
		deadline := time.Now().Add(runFor)
		var wg sync.WaitGroup
		for i := range clients {
			c := mcpClient(t, lb, key)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; time.Now().Before(deadline); n++ {
					text, isErr, err := tool(context.Background(), c, "get_customer", map[string]any{"id": ids[(i+n)%len(ids)]})
					switch {
					case err == nil && !isErr:
						ok.Add(1)
						count("ok")
					case err == nil && strings.Contains(text, waitSentence):
						waited.Add(1)
						count("rate_limited")
						time.Sleep(time.Second) // an agent told to wait, waits; then tries again
					default:
						failed.Add(1)
						failures.Store(fmt.Sprint(err, text), true)
					}
				}
			}()
		}
		wg.Wait()
		failures.Range(func(k, _ any) bool {
			t.Errorf("a caller got neither an answer nor the wait sentence: %v", k)
			return true
		})
		assert.Zero(t, failed.Load())
		got := up.arrivals(key)
		var tooMany int
		for _, a := range got {
			if a.status == http.StatusTooManyRequests {
				tooMany++
			}
		}
		assert.Zero(t, tooMany, "no request of the key met a 429")
		// The sandbox's window is a fixed minute, opened by the key's first
		// request after the last one closed: count as it does.
		most, inWindow := 0, 0
		var opened time.Time
		for _, a := range got {
			if opened.IsZero() || a.at.Sub(opened) >= time.Minute {
				opened, inWindow = a.at, 0
			}
			inWindow++
			most = max(most, inWindow)
		}
		assert.LessOrEqual(t, most, rateLimit)
		// And, stricter, any 60 s at all (for the log; arrival times carry
		// the scheduling delay between a request's place in the budget and
		// its arrival).
		sliding := 0
		for i := range got {
			j := i
			for j < len(got) && got[j].at.Sub(got[i].at) < time.Minute {
				j++
			}
			sliding = max(sliding, j-i)
		}
		offered := ok.Load() + waited.Load()
		perMinute := float64(offered) / runFor.Minutes()
		assert.Greater(t, perMinute, float64(rateLimit), "the load was above the limit")
		assert.Greater(t, waited.Load(), int64(0), "some callers were told to wait")
		holds := 0.0
		for _, r := range rs {
			holds += metricSum(t, r, "skimmer_mcp_rate_limit_holds_total")
		}
		assert.Greater(t, holds, 0.0, "some callers were held until the window reset")
		t.Logf("rate: %d calls offered in %s (%.0f a minute) by %d clients through HAProxy; %d answered, %d told to wait; upstream saw %d requests, at most %d in one of its windows and %d in any 60 s (limit %d), %d 429s; %0.f holds",
			offered, runFor, perMinute, clients, ok.Load(), waited.Load(), len(got), most, sliding, rateLimit, tooMany, holds)
		for i, r := range rs {
			assert.Greater(t, metricSum(t, r, "skimmer_mcp_tool_calls_total"), 0.0, "replica %d served calls", i+1)
		}
	})

	t.Run("Redis killed mid-load: reads keep answering; Redis back: the store recovers without a restart", func(t *testing.T) {
		const key = "outage-phase-key"
		c := mcpClient(t, lb, key)
		var readFailures atomic.Int64
		var reads atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
				text, isErr, err := tool(context.Background(), c, "get_customer", map[string]any{"id": ids[n%len(ids)]})
				reads.Add(1)
				if err != nil || isErr {
					readFailures.Add(1)
					t.Errorf("a read failed during the outage: %v %s", err, text)
				} else {
					count("ok")
				}
			}
		}()
		time.Sleep(time.Second)
		redis.Stop()
		time.Sleep(3 * time.Second)
		for i, r := range rs {
			assert.Equal(t, 0.0, metricSum(t, r, "skimmer_mcp_store_up"), "replica %d knows the store is down", i+1)
		}
		redis.Restart()
		require.Eventually(t, func() bool {
			for _, r := range rs {
				if metricSum(t, r, "skimmer_mcp_store_up") != 1 {
					return false
				}
			}
			return true
		}, 10*time.Second, 100*time.Millisecond, "every replica finds the store again")
		time.Sleep(time.Second)
		close(stop)
		wg.Wait()
		assert.Zero(t, readFailures.Load())
		for i, r := range rs {
			logs := r.p.stderr.String()
			assert.Equal(t, 1, strings.Count(logs, "shared store unreachable"), "replica %d logged the outage once", i+1)
			assert.Contains(t, logs, "shared store answering again", "replica %d", i+1)
			assert.Greater(t, metricSum(t, r, "skimmer_mcp_store_fallbacks_total"), 0.0, "replica %d counted its reads on local state", i+1)
		}
		t.Logf("outage: %d reads during ~5 s with Redis down and back, %d failed", reads.Load(), readFailures.Load())
	})

	t.Run("metrics: scraped as Prometheus text, the counters match the calls made", func(t *testing.T) {
		got := toolCalls(t, rs)
		want := map[string]float64{}
		made.Range(func(k, v any) bool { want[k.(string)] = float64(v.(*atomic.Int64).Load()); return true })
		assert.Equal(t, want, got)
		t.Logf("metrics: tool calls by outcome across the replicas %v", got)
	})
}
