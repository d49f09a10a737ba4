package main

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Report is everything a run found. It is printed for people, or as JSON
// (--json) for CI; Pass is false, and Problems say why, when the run had
// errors, leaked goroutines, or the server did not stop cleanly.
type Report struct {
	Target   Target        `json:"target"`
	Machine  Machine       `json:"machine"`
	Settings Settings      `json:"settings"`
	Warmup   *PhaseReport  `json:"warmup,omitempty"`
	Run      PhaseReport   `json:"run"`
	Server   *ServerReport `json:"server,omitempty"` // needs --debug-url, or --spawn
	Problems []string      `json:"problems"`
	Notes    []string      `json:"notes,omitempty"` // caveats about the figures, not failures
	Pass     bool          `json:"pass"`
}

type Target struct {
	URL        string   `json:"url"`
	DebugURL   string   `json:"debug_url,omitempty"`
	Binary     string   `json:"binary,omitempty"` // when spawned
	Version    string   `json:"version,omitempty"`
	ServerArgs []string `json:"server_args,omitempty"`
}

type Machine struct {
	CPUs int    `json:"cpus"`
	OS   string `json:"os"`
	Arch string `json:"arch"`
	Go   string `json:"go"`
}

type Settings struct {
	Clients     int           `json:"clients"`
	Duration    time.Duration `json:"duration_ns"`
	Warmup      time.Duration `json:"warmup_ns"`
	Think       time.Duration `json:"think_ns"`
	CallTimeout time.Duration `json:"call_timeout_ns"`
	Seed        int64         `json:"seed"`
	LeakMargin  int           `json:"leak_margin"`
}

// PhaseReport is one phase's calls: how many, how fast, how they failed.
type PhaseReport struct {
	Clients      int            `json:"clients"`
	Connected    int            `json:"connected"`
	Elapsed      time.Duration  `json:"elapsed_ns"`
	Calls        int            `json:"calls"`
	Errors       int            `json:"errors"`
	CallsPerSec  float64        `json:"calls_per_sec"`
	Connect      Latency        `json:"connect"`
	Latency      Latency        `json:"latency"` // successful calls
	Ops          []OpReport     `json:"ops"`
	ErrorsByKind map[string]int `json:"errors_by_kind"`
	FirstErrors  []CallError    `json:"first_errors"`
	CPU          *CPU           `json:"cpu,omitempty"` // the measured run only
}

// OpReport is one op's calls; its latency is over the successful ones.
type OpReport struct {
	Op      string  `json:"op"`
	Calls   int     `json:"calls"`
	Errors  int     `json:"errors"`
	Latency Latency `json:"latency"`
}

// ServerReport is the server's own account of its health, from
// /debug/vars: idle, before the run, during it, and after.
type ServerReport struct {
	Idle      *Vars         `json:"idle,omitempty"` // right after a spawned server started
	Before    Vars          `json:"before"`         // after warm-up, its clients gone
	During    During        `json:"during"`
	After     Vars          `json:"after"` // the run's clients gone, settled
	SettledIn time.Duration `json:"settled_in_ns"`
	// GoroutineDelta is After minus Before; over LeakMargin is a leak.
	GoroutineDelta int  `json:"goroutine_delta"`
	Leak           bool `json:"leak"`
	// RSSThirds is the largest RSS sampled in each third of the run.
	// Plateau: the last third is within 5% (or 4 MiB) of the middle one.
	RSSThirds []int64 `json:"rss_thirds,omitempty"`
	Plateau   *bool   `json:"plateau,omitempty"` // unknown for runs under 6 samples
	Exit      string  `json:"exit,omitempty"`    // a spawned server's exit on SIGTERM
	// LogLines are the spawned server's warnings and errors, the first
	// few; an error fails the run, a warning is for a person to read.
	LogLines    []string `json:"log_lines,omitempty"`
	LogWarnings int      `json:"log_warnings"`
	LogErrors   int      `json:"log_errors"`
	Samples     []Vars   `json:"samples"`
}

type During struct {
	Samples       int    `json:"samples"`
	ReadErrors    int    `json:"read_errors"`
	MinRSS        int64  `json:"min_rss_bytes"`
	MaxRSS        int64  `json:"max_rss_bytes"`
	PeakRSS       int64  `json:"peak_rss_bytes"` // VmHWM at the end: catches peaks between samples
	MaxGoroutines int    `json:"max_goroutines"`
	MaxHeapInuse  uint64 `json:"max_heap_inuse_bytes"`
	GCs           uint32 `json:"gcs"` // garbage collections between the first sample and the last
}

// CPU is cores used on average during the run (CPU seconds per second).
// Other is the rest of the machine: other processes, and kernel work no
// process is charged for, such as much of the loopback network's.
type CPU struct {
	Load    float64 `json:"load"`    // this process
	Server  float64 `json:"server"`  // a spawned server; 0 otherwise
	Machine float64 `json:"machine"` // every core's busy time; 0 where unknown
	Other   float64 `json:"other"`
}

func newPhaseReport(r *phaseResult) PhaseReport {
	pr := PhaseReport{
		Clients:      r.clients,
		Connected:    r.connected,
		Elapsed:      r.elapsed,
		Calls:        r.calls,
		Errors:       r.errorCount(),
		Connect:      summarise(r.connect),
		ErrorsByKind: map[string]int{},
		FirstErrors:  r.first,
	}
	if r.elapsed > 0 {
		pr.CallsPerSec = float64(r.calls) / r.elapsed.Seconds()
	}
	var all []time.Duration
	// Every op of the mix has a row, called or not, so a missing one shows.
	ops := mixLabels()
	for _, op := range r.ops() {
		if !slices.Contains(ops, op) {
			ops = append(ops, op)
		}
	}
	for _, op := range ops {
		ds := r.lat[op]
		all = append(all, ds...)
		row := OpReport{Op: op, Latency: summarise(ds)}
		for kind, n := range r.errs[op] {
			row.Errors += n
			pr.ErrorsByKind[kind] += n
		}
		row.Calls = len(ds) + row.Errors
		pr.Ops = append(pr.Ops, row)
	}
	pr.Latency = summarise(all)
	return pr
}

// during summarises the samples of the run.
func during(samples []Vars, readErrors int) During {
	d := During{Samples: len(samples), ReadErrors: readErrors}
	for i, s := range samples {
		if i == 0 || s.RSS < d.MinRSS {
			d.MinRSS = s.RSS
		}
		d.MaxRSS = max(d.MaxRSS, s.RSS)
		d.PeakRSS = max(d.PeakRSS, s.PeakRSS)
		d.MaxGoroutines = max(d.MaxGoroutines, s.Goroutines)
		d.MaxHeapInuse = max(d.MaxHeapInuse, s.HeapInuse)
	}
	if len(samples) > 1 {
		d.GCs = samples[len(samples)-1].NumGC - samples[0].NumGC
	}
	return d
}

// plateau splits the samples into thirds and compares the largest RSS of
// the last with the middle one's. The first third is left out: it is where
// a server grows into its load, which is fine; still growing at the end is
// not.
func plateau(samples []Vars) ([]int64, *bool) {
	if len(samples) < 6 {
		return nil, nil
	}
	thirds := make([]int64, 3)
	for i, s := range samples {
		t := i * 3 / len(samples)
		thirds[t] = max(thirds[t], s.RSS)
	}
	slack := max(thirds[1]/20, 4<<20)
	flat := thirds[2] <= thirds[1]+slack
	return thirds, &flat
}

// judge lists what makes the run a failure.
func (r *Report) judge() {
	r.Problems = nil
	if r.Run.Calls == 0 {
		r.Problems = append(r.Problems, "no calls were made")
	}
	if r.Warmup != nil && r.Warmup.Errors > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d of %d warm-up calls failed", r.Warmup.Errors, r.Warmup.Calls))
	}
	if r.Run.Errors > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d of %d calls failed (%s)", r.Run.Errors, r.Run.Calls, kinds(r.Run.ErrorsByKind)))
	}
	if s := r.Server; s != nil {
		if s.Leak {
			r.Problems = append(r.Problems, fmt.Sprintf("goroutine leak: %d before the run, %d after it settled for %s (+%d, margin %d)",
				s.Before.Goroutines, s.After.Goroutines, s.SettledIn.Round(time.Millisecond), s.GoroutineDelta, r.Settings.LeakMargin))
		}
		if s.Exit != "" && s.Exit != exitClean {
			r.Problems = append(r.Problems, "the server did not stop cleanly on SIGTERM: "+s.Exit)
		}
		if s.LogErrors > 0 {
			r.Problems = append(r.Problems, fmt.Sprintf("the server logged %d errors", s.LogErrors))
		}
	}
	r.Pass = len(r.Problems) == 0

	r.Notes = nil
	if r.Server != nil && r.Warmup == nil {
		r.Notes = append(r.Notes, "no warm-up: the before figures are of a server that has not yet pooled its connections to Skimmer, so after > before is expected, and the leak check was not made")
	}
	if c := r.Run.CPU; c != nil && c.Other > busyElsewhere {
		r.Notes = append(r.Notes, fmt.Sprintf("the machine was busy with other work: %.2f cores went to neither the clients nor the server, so the figures understate what it can do", c.Other))
	}
}

// busyElsewhere is how many cores other work may take before the figures
// get a warning: loopback networking alone, charged to no process, takes
// some.
const busyElsewhere = 0.25

const exitClean = "clean"

func kinds(m map[string]int) string {
	out := ""
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if out != "" {
			out += ", "
		}
		out += fmt.Sprintf("%d %s", m[k], k)
	}
	return out
}
