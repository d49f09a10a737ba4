package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewPhaseReport(t *testing.T) {
	res := &phaseResult{
		clients: 3, connected: 2, elapsed: 2 * time.Second, calls: 10,
		connect: []time.Duration{msec(2), msec(1)},
		lat: map[string][]time.Duration{
			"get_customer":          {msec(3), msec(1), msec(2)},
			"search_customers:text": {msec(10), msec(20), msec(30), msec(40)},
		},
		errs: map[string]map[string]int{
			"get_customer": {kindTool: 1, kindAnswer: 1},
			"initialize":   {kindConnect: 1},
		},
	}
	pr := newPhaseReport(res)
	assert.Equal(t, 5.0, pr.CallsPerSec)
	assert.Equal(t, 3, pr.Errors)
	assert.Equal(t, map[string]int{kindTool: 1, kindAnswer: 1, kindConnect: 1}, pr.ErrorsByKind)
	assert.Equal(t, Latency{Count: 7, Mean: msec(106) / 7, P50: msec(10), P90: msec(40), P99: msec(40), Max: msec(40)}, pr.Latency)
	assert.Equal(t, msec(2), pr.Connect.Max)

	byOp := map[string]OpReport{}
	var order []string
	for _, o := range pr.Ops {
		byOp[o.Op] = o
		order = append(order, o.Op)
	}
	assert.Equal(t, append(mixLabels(), "initialize"), order, "every op of the mix has a row, called or not, then the others")
	assert.Equal(t, OpReport{Op: "get_customer", Calls: 5, Errors: 2, Latency: Latency{Count: 3, Mean: msec(2), P50: msec(2), P90: msec(3), P99: msec(3), Max: msec(3)}}, byOp["get_customer"])
	assert.Zero(t, byOp["list_customers"].Calls)
	assert.Equal(t, 1, byOp["initialize"].Errors)
}

func TestDuring(t *testing.T) {
	d := during([]Vars{
		{Goroutines: 500, RSS: 60 << 20, PeakRSS: 61 << 20, HeapInuse: 30 << 20, NumGC: 100},
		{Goroutines: 900, RSS: 55 << 20, PeakRSS: 70 << 20, HeapInuse: 40 << 20, NumGC: 140},
		{Goroutines: 700, RSS: 65 << 20, PeakRSS: 70 << 20, HeapInuse: 35 << 20, NumGC: 190},
	}, 1)
	assert.Equal(t, During{Samples: 3, ReadErrors: 1, MinRSS: 55 << 20, MaxRSS: 65 << 20, PeakRSS: 70 << 20, MaxGoroutines: 900, MaxHeapInuse: 40 << 20, GCs: 90}, d)
}

func rss(mibs ...int64) []Vars {
	out := make([]Vars, len(mibs))
	for i, m := range mibs {
		out[i] = Vars{RSS: m << 20}
	}
	return out
}

func TestPlateau(t *testing.T) {
	for _, tt := range []struct {
		name   string
		rss    []Vars
		thirds []int64
		flat   *bool
	}{
		{"too few samples to tell", rss(10, 20, 30, 40, 50), nil, nil},
		{"grows at first, then holds", rss(20, 50, 60, 61, 60, 62), []int64{50 << 20, 61 << 20, 62 << 20}, new(true)},
		{"wobbles within the slack", rss(60, 60, 100, 100, 104, 90), []int64{60 << 20, 100 << 20, 104 << 20}, new(true)},
		{"climbs to the end", rss(20, 40, 60, 80, 100, 120), []int64{40 << 20, 80 << 20, 120 << 20}, new(false)},
		{"drops at the end", rss(80, 80, 80, 80, 50, 50), []int64{80 << 20, 80 << 20, 50 << 20}, new(true)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			thirds, flat := plateau(tt.rss)
			assert.Equal(t, tt.thirds, thirds)
			assert.Equal(t, tt.flat, flat)
		})
	}
}

func TestJudge(t *testing.T) {
	good := func() *Report {
		return &Report{
			Settings: Settings{LeakMargin: 10},
			Run:      PhaseReport{Calls: 100},
			Warmup:   &PhaseReport{Calls: 10},
			Server:   &ServerReport{Before: Vars{Goroutines: 50}, After: Vars{Goroutines: 55}, GoroutineDelta: 5, Exit: exitClean},
		}
	}
	for _, tt := range []struct {
		name    string
		change  func(*Report)
		problem string
	}{
		{"a clean run passes", func(*Report) {}, ""},
		{"a run against a server without figures passes", func(r *Report) { r.Server = nil }, ""},
		{"warnings alone pass", func(r *Report) { r.Server.LogWarnings = 2 }, ""},
		{"no calls", func(r *Report) { r.Run.Calls = 0 }, "no calls were made"},
		{"errors in the run", func(r *Report) { r.Run.Errors, r.Run.ErrorsByKind = 3, map[string]int{kindTool: 2, kindTransport: 1} },
			"3 of 100 calls failed (2 tool, 1 transport)"},
		{"errors in the warm-up", func(r *Report) { r.Warmup.Errors = 1 }, "1 of 10 warm-up calls failed"},
		{"a leak", func(r *Report) {
			r.Server.After.Goroutines, r.Server.GoroutineDelta, r.Server.Leak, r.Server.SettledIn = 250, 200, true, 10*time.Second
		}, "goroutine leak: 50 before the run, 250 after it settled for 10s (+200, margin 10)"},
		{"an unclean exit", func(r *Report) { r.Server.Exit = "exit status 1" }, "the server did not stop cleanly on SIGTERM: exit status 1"},
		{"server errors", func(r *Report) { r.Server.LogErrors = 4 }, "the server logged 4 errors"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.change(r)
			r.judge()
			if tt.problem == "" {
				assert.True(t, r.Pass)
				assert.Empty(t, r.Problems)
				return
			}
			assert.False(t, r.Pass)
			assert.Equal(t, []string{tt.problem}, r.Problems)
		})
	}
}

func TestNotes(t *testing.T) {
	r := &Report{Run: PhaseReport{Calls: 1, CPU: &CPU{Other: 0.1}}, Warmup: &PhaseReport{}, Server: &ServerReport{}}
	r.judge()
	assert.Empty(t, r.Notes)

	r.Warmup, r.Run.CPU.Other = nil, 0.6
	r.judge()
	assert.True(t, r.Pass, "notes are not failures")
	require.Len(t, r.Notes, 2)
	assert.Contains(t, r.Notes[0], "no warm-up")
	assert.Contains(t, r.Notes[1], "0.60 cores went to neither")
}

func TestWriteText(t *testing.T) {
	r := &Report{
		Target:   Target{URL: "http://127.0.0.1:1/mcp", Binary: "/tmp/skimmer-mcp"},
		Machine:  Machine{CPUs: 2, OS: "linux", Arch: "amd64", Go: "go1.26"},
		Settings: Settings{Clients: 200, Duration: time.Minute, Seed: 1, LeakMargin: 10},
		Run: PhaseReport{
			Clients: 200, Connected: 200, Elapsed: time.Minute, Calls: 60000, CallsPerSec: 1000,
			Latency: Latency{Count: 60000, P50: msec(150), P90: msec(300), P99: msec(450), Max: 2 * time.Second},
			Ops:     []OpReport{{Op: "get_customer", Calls: 15000, Latency: Latency{Count: 15000, P50: 800 * time.Microsecond}}},
			CPU:     &CPU{Load: 0.3, Server: 1.2, Machine: 1.9, Other: 0.4},
		},
		Server: &ServerReport{
			Idle:   &Vars{Goroutines: 9, RSS: 17 << 20},
			Before: Vars{Goroutines: 392, RSS: 63 << 20}, After: Vars{Goroutines: 393, RSS: 66 << 20}, GoroutineDelta: 1,
			RSSThirds: []int64{60 << 20, 70 << 20, 70 << 20}, Plateau: new(true), Exit: exitClean,
		},
	}
	r.judge()
	var out bytes.Buffer
	r.writeText(&out)
	text := out.String()
	for _, want := range []string{
		"60000 in 60.00s = 1000.0 calls/s; 0 errors",
		"p50 150.0ms  p90 300.0ms  p99 450.0ms  max 2.00s",
		"load generator 0.30, server 1.20, everything else 0.40; machine 1.90 of 2",
		"get_customer",
		"800µs",
		"server idle:  9 goroutines, RSS 17.0 MiB",
		"60.0 MiB / 70.0 MiB / 70.0 MiB: plateaued",
		"393 goroutines (+1)",
		"no goroutine leak",
		"clean on SIGTERM",
	} {
		assert.Contains(t, text, want)
	}
	assert.Regexp(t, `\nPASS\n$`, text)

	r.Run.Errors, r.Run.ErrorsByKind = 1, map[string]int{kindTransport: 1}
	r.Run.FirstErrors = []CallError{{Op: "get_customer", Kind: kindTransport, Message: "failed to send request:\n  EOF", After: 3 * time.Second}}
	r.judge()
	out.Reset()
	r.writeText(&out)
	assert.Contains(t, out.String(), "error:        get_customer after 3.00s, transport: failed to send request: EOF")
	assert.Contains(t, out.String(), "FAIL:         1 of 60000 calls failed (1 transport)")
	assert.NotContains(t, out.String(), "PASS")
}

// The JSON report keeps every figure the text one shows.
func TestReportJSON(t *testing.T) {
	r := &Report{Run: PhaseReport{Calls: 5, Latency: Latency{P99: msec(9)}}, Server: &ServerReport{Plateau: new(false)}}
	r.judge()
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	var back map[string]any
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, true, back["pass"])
	assert.Equal(t, float64(msec(9)), back["run"].(map[string]any)["latency"].(map[string]any)["p99_ns"])
	assert.Equal(t, false, back["server"].(map[string]any)["plateau"])
}
