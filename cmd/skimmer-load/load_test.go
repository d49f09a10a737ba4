package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
	"github.com/skimmer-mcp/skimmer-mcp/tools"
)

// binary is skimmer-mcp, built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "skimmer-load-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "skimmer-mcp")
	if out, err := exec.Command("go", "build", "-o", binary, serverPackage).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building skimmer-mcp: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// load runs the command and decodes its JSON report.
func load(t *testing.T, args ...string) (*Report, int, string) {
	t.Helper()
	var out, errb strings.Builder
	code := run(context.Background(), append(args, "--json"), &out, &errb)
	if code == 2 {
		t.Fatalf("the run could not be made:\n%s", errb.String())
	}
	var r Report
	require.NoError(t, json.Unmarshal([]byte(out.String()), &r), "stdout holds the JSON report:\n%s", out.String())
	return &r, code, errb.String()
}

func assertOrdered(t *testing.T, what string, l Latency) {
	t.Helper()
	assert.Positive(t, l.P50, what)
	assert.LessOrEqual(t, l.P50, l.P90, what)
	assert.LessOrEqual(t, l.P90, l.P99, what)
	assert.LessOrEqual(t, l.P99, l.Max, what)
}

// TestSpawnedRun is the documented command in small: a real skimmer-mcp,
// started, loaded, measured and stopped.
func TestSpawnedRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "report.json")
	r, code, stderr := load(t, "--server", binary, "--clients", "4", "--duration", "2s", "--warmup", "500ms", "--settle", "5s", "--json-file", file)
	assert.Equal(t, 0, code, "problems: %v\n%s", r.Problems, stderr)
	assert.True(t, r.Pass)
	assert.Zero(t, r.Run.Errors, "first errors: %v", r.Run.FirstErrors)
	assert.Zero(t, r.Warmup.Errors)
	assert.Equal(t, 4, r.Run.Connected)
	assert.Positive(t, r.Run.Calls)
	assert.Positive(t, r.Run.CallsPerSec)
	assertOrdered(t, "overall", r.Run.Latency)
	require.Len(t, r.Run.Ops, len(mixLabels()))
	for _, o := range r.Run.Ops {
		assert.Positive(t, o.Calls, "%s was called", o.Op)
		assert.Zero(t, o.Errors, o.Op)
		assertOrdered(t, o.Op, o.Latency)
	}
	assert.Equal(t, r.Run.Ops[len(r.Run.Ops)-2].Calls, r.Run.Ops[len(r.Run.Ops)-1].Calls, "every confirmed activity is deleted again")

	s := r.Server
	require.NotNil(t, s, "a spawned server has figures")
	require.NotNil(t, s.Idle)
	assert.Positive(t, s.Idle.RSS)
	assert.Positive(t, s.Before.Goroutines)
	assert.Positive(t, s.During.Samples)
	assert.GreaterOrEqual(t, s.During.PeakRSS, s.During.MaxRSS)
	assert.GreaterOrEqual(t, s.During.MaxGoroutines, s.Before.Goroutines)
	assert.False(t, s.Leak, "goroutines %d before, %d after", s.Before.Goroutines, s.After.Goroutines)
	assert.Equal(t, exitClean, s.Exit)
	assert.Zero(t, s.LogErrors, s.LogLines)
	assert.Contains(t, r.Target.ServerArgs, "--sandbox-rate-limit")
	assert.Contains(t, stderr, "running: 4 clients for 2s")

	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	var saved Report
	require.NoError(t, json.Unmarshal(raw, &saved))
	assert.Equal(t, r.Run.Calls, saved.Run.Calls, "--json-file holds the same report")
}

// TestErrorsFail runs against a server in this process whose Skimmer has
// lost every customer record: get_customer fails, and so does the run.
func TestErrorsFail(t *testing.T) {
	sb, err := sandbox.New(sandbox.Options{Seed: 1, RateLimit: -1})
	require.NoError(t, err)
	up := httptest.NewServer(sb)
	defer up.Close()
	sc, err := skimmer.New(skimmer.Options{BaseURL: up.URL, APIKey: "k"})
	require.NoError(t, err)
	srv, err := tools.New(tools.Config{Client: func(context.Context) (*skimmer.Client, error) { return sc, nil }, Confirm: tools.ConfirmFlag})
	require.NoError(t, err)
	hosted := httptest.NewServer(server.NewStreamableHTTPServer(srv.MCP(), server.WithStateLess(true)))
	defer hosted.Close()
	sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpGetCustomer}, Status: 404})

	r, code, _ := load(t, "--url", hosted.URL+"/mcp", "--clients", "2", "--duration", "1s", "--warmup", "0")
	assert.Equal(t, 1, code)
	assert.False(t, r.Pass)
	assert.Nil(t, r.Server, "no --debug-url, no server figures")
	assert.Positive(t, r.Run.ErrorsByKind[kindTool])
	for _, o := range r.Run.Ops {
		if o.Op == "get_customer" {
			assert.Equal(t, o.Calls, o.Errors, "every get failed")
		}
		if o.Op == "search_customers:text" {
			assert.Zero(t, o.Errors, "searches do not get customers")
		}
	}
	require.NotEmpty(t, r.Run.FirstErrors)
	assert.Equal(t, kindTool, r.Run.FirstErrors[0].Kind)
	assert.Contains(t, r.Problems[0], "calls failed")
}
