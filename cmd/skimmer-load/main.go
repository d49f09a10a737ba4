// Command skimmer-load puts a hosted skimmer-mcp under the load of many
// agents at once and reports how it held up: calls per second, errors,
// latency overall and per tool, and the server's own goroutines and memory
// before, during and after.
//
// The whole measurement is one command, run from the repository:
//
//	go run ./cmd/skimmer-load --spawn --clients 200 --duration 60s
//
// --spawn builds skimmer-mcp and runs it on its embedded sandbox, the
// sandbox's rate limit off, serving streamable HTTP and /debug/vars on
// free loopback ports; --server PATH spawns a binary already built. At the
// end the server gets SIGTERM and must exit cleanly. To load a server that
// is already running, give its endpoint and debug listener instead:
//
//	skimmer-load --url http://127.0.0.1:8080/mcp --debug-url http://127.0.0.1:6060/debug/vars
//
// Each of the --clients clients is an mcp-go streamable HTTP client of its
// own, with its own connection and its own Skimmer key (load-run-0042), as
// separate agents would be. They connect, start together and loop, with no
// pause unless --think says, through a mix of calls weighted like an agent's
// work: searches by name and by state (40%), gets (25%), activity lists
// (12%), list_customers (5%), previews of writes that change nothing (14%),
// and confirmed activity writes (4%), each deleted again at once. --seed
// makes the choices repeat. Every answer is checked: a Go error, an isError
// result, or an answer of the wrong shape (a preview that did not say
// PREVIEW) is an error.
//
// A --warmup phase with as many clients, not measured, comes first; its
// clients hang up and the server settles before the "before" figures are
// read. Besides warming the server up, it fills the server's pool of idle
// connections to Skimmer (up to 128, three goroutines each, kept for 90s
// idle), so with --warmup 0 there is no leak check. The server is sampled
// every second during the run; the report says whether its RSS levelled
// off (the largest RSS of the run's last third against its middle third).
// After the run's clients hang up, skimmer-load waits (up to --settle) for
// the server's goroutines to come back within --leak-margin of "before".
// It also reports the cores the clients, the server and everything else
// used, from /proc: on a small machine they share the CPUs, and other work
// running at the same time lowers the figures.
//
// The report goes to stdout, for people, or as JSON with --json. The exit
// status is 0 when every call succeeded, no goroutine leaked, the server
// logged no error and (when spawned) stopped cleanly; 1 when not; 2 when
// the run could not be made.
//
// Flags:
//
//	--spawn               build skimmer-mcp and run it for the test
//	--server PATH         spawn this skimmer-mcp binary instead of building one
//	--server-log-level L  the spawned server's --log-level (default warn; info
//	                      writes a line per call, which costs server CPU)
//	--url URL             a running server's streamable HTTP endpoint
//	--debug-url URL       its /debug/vars (skimmer-mcp --debug-addr); without
//	                      it, no server figures and no leak check
//	--clients N           concurrent MCP clients (default 200)
//	--duration D          how long the measured run lasts (default 60s)
//	--warmup D            unmeasured load before it (default 5s; 0 for none)
//	--seed N              seed of the clients' choices (default 1)
//	--think D             mean pause between a client's calls (default 0)
//	--call-timeout D      limit on each call and each connect (default 30s)
//	--settle D            longest wait for the server to settle (default 10s)
//	--leak-margin N       goroutines over "before" that still count as
//	                      settled (default 10)
//	--json                print the report as JSON
//	--json-file FILE      also write the JSON report to FILE
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type config struct {
	spawn          bool
	serverBin      string
	serverLogLevel string
	serverStore    string
	url, debugURL  string
	clients        int
	duration       time.Duration
	warmup         time.Duration
	seed           int64
	think          time.Duration
	callTimeout    time.Duration
	settle         time.Duration
	leakMargin     int
	json           bool
	jsonFile       string
}

func parseConfig(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("skimmer-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&c.spawn, "spawn", false, "build skimmer-mcp and run it for the test")
	fs.StringVar(&c.serverBin, "server", "", "spawn this skimmer-mcp binary instead of building one")
	fs.StringVar(&c.serverLogLevel, "server-log-level", "warn", "the spawned server's --log-level")
	fs.StringVar(&c.serverStore, "server-store", "", "the spawned server's --store, e.g. redis://127.0.0.1:6379; its own memory when empty")
	fs.StringVar(&c.url, "url", "", "a running server's streamable HTTP endpoint")
	fs.StringVar(&c.debugURL, "debug-url", "", "its /debug/vars; without it, no server figures and no leak check")
	fs.IntVar(&c.clients, "clients", 200, "concurrent MCP clients")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "how long the measured run lasts")
	fs.DurationVar(&c.warmup, "warmup", 5*time.Second, "unmeasured load before the run; 0 for none")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the clients' choices")
	fs.DurationVar(&c.think, "think", 0, "mean pause between a client's calls")
	fs.DurationVar(&c.callTimeout, "call-timeout", 30*time.Second, "limit on each call and each connect")
	fs.DurationVar(&c.settle, "settle", 10*time.Second, "longest wait for the server to settle after the clients hang up")
	fs.IntVar(&c.leakMargin, "leak-margin", 10, "goroutines over the before count that still count as settled")
	fs.BoolVar(&c.json, "json", false, "print the report as JSON")
	fs.StringVar(&c.jsonFile, "json-file", "", "also write the JSON report to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (a binary to spawn goes in --server)", fs.Arg(0))
	}
	if c.serverBin != "" {
		c.spawn = true
	}
	switch {
	case c.spawn && c.url != "":
		return nil, errors.New("--spawn starts its own server: leave out --url")
	case !c.spawn && c.url == "":
		return nil, errNoServer
	case c.clients < 1:
		return nil, fmt.Errorf("--clients %d: at least 1", c.clients)
	case c.duration <= 0:
		return nil, fmt.Errorf("--duration %s: give a positive duration", c.duration)
	case c.warmup < 0 || c.think < 0 || c.callTimeout <= 0 || c.settle < 0 || c.leakMargin < 0:
		return nil, errors.New("--warmup, --think, --settle and --leak-margin cannot be negative, and --call-timeout must be positive")
	}
	return c, nil
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseConfig(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(stderr, "skimmer-load:", err)
		return 2
	}
	r, err := measure(ctx, c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "skimmer-load:", err)
		return 2
	}
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		fmt.Fprintln(stderr, "skimmer-load:", err)
		return 2
	}
	raw = append(raw, '\n')
	if c.jsonFile != "" {
		if err := os.WriteFile(c.jsonFile, raw, 0o644); err != nil {
			fmt.Fprintln(stderr, "skimmer-load:", err)
			return 2
		}
	}
	if c.json {
		_, _ = stdout.Write(raw)
	} else {
		r.writeText(stdout)
	}
	if !r.Pass {
		return 1
	}
	return 0
}

// measure makes the run: server up, warm-up, before, run, after, server down.
func measure(ctx context.Context, c *config, stderr io.Writer) (*Report, error) {
	progress := func(format string, args ...any) { fmt.Fprintf(stderr, "skimmer-load: "+format+"\n", args...) }
	r := &Report{
		Target:  Target{URL: c.url, DebugURL: c.debugURL},
		Machine: Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, Go: runtime.Version()},
		Settings: Settings{Clients: c.clients, Duration: c.duration, Warmup: c.warmup, Think: c.think,
			CallTimeout: c.callTimeout, Seed: c.seed, LeakMargin: c.leakMargin},
	}

	var srv *process
	if c.spawn {
		bin := c.serverBin
		if bin == "" {
			built, cleanup, err := buildServer(ctx, stderr)
			if err != nil {
				return nil, err
			}
			defer cleanup()
			bin = built
		}
		var err error
		if srv, err = startServer(ctx, bin, c.serverLogLevel, c.serverStore); err != nil {
			return nil, err
		}
		defer func() {
			if srv != nil { // stopped early by an error
				srv.kill()
			}
		}()
		r.Target = Target{URL: srv.url, DebugURL: srv.debugURL, Binary: bin, Version: serverVersion(ctx, bin), ServerArgs: srv.args}
		progress("spawned %s: %s, %s", bin, srv.url, srv.debugURL)
	}

	var vars *varsClient
	if r.Target.DebugURL != "" {
		vars = newVarsClient(r.Target.DebugURL)
		defer vars.close()
		r.Server = &ServerReport{}
		if srv != nil {
			idle, err := vars.read(ctx)
			if err != nil {
				return nil, err
			}
			r.Server.Idle = &idle
		}
	}

	pool, err := customerPool(ctx, r.Target.URL, c.callTimeout)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.Target.URL, err)
	}
	ph := phase{url: r.Target.URL, clients: c.clients, seed: c.seed, pool: pool, timeout: c.callTimeout, think: c.think}

	if c.warmup > 0 {
		progress("warming up: %d clients for %s", c.clients, c.warmup)
		wu := ph
		wu.name, wu.duration, wu.seed = "warmup", c.warmup, c.seed+1
		pr := newPhaseReport(wu.run(ctx))
		r.Warmup = &pr
	}
	if vars != nil {
		before, _, err := settle(ctx, vars, c.settle, steady)
		if err != nil {
			return nil, err
		}
		r.Server.Before = before
	}

	progress("running: %d clients for %s", c.clients, c.duration)
	ph.name, ph.duration = "run", c.duration
	var mon *monitor
	if vars != nil {
		mon = startMonitor(ctx, vars, time.Second)
	}
	pid := 0
	if srv != nil {
		pid = srv.cmd.Process.Pid
	}
	cpu := startCPU(pid)
	res := ph.run(ctx)
	cpuUsed := cpu.read()
	r.Run = newPhaseReport(res)
	r.Run.CPU = cpuUsed
	// From here on, an interrupt still gets its report: what is left is
	// bounded by --settle and the server's stop.
	ctx = context.WithoutCancel(ctx)

	if s := r.Server; s != nil {
		samples, readErrs := mon.finish()
		s.Samples = samples
		s.During = during(samples, readErrs)
		s.RSSThirds, s.Plateau = plateau(samples)
		progress("settling")
		after, took, err := settle(ctx, vars, c.settle, atMost(s.Before.Goroutines+c.leakMargin))
		if err != nil {
			return nil, err
		}
		s.After, s.SettledIn = after, took
		s.During.PeakRSS = max(s.During.PeakRSS, after.PeakRSS)
		s.GoroutineDelta = after.Goroutines - s.Before.Goroutines
		// Without a warm-up, "before" is a server with no pooled upstream
		// connections yet, and the pool would count as a leak.
		s.Leak = r.Warmup != nil && s.GoroutineDelta > c.leakMargin
	}
	if srv != nil {
		s := r.Server
		s.Exit = srv.stop(15 * time.Second)
		s.LogWarnings, s.LogErrors, s.LogLines = srv.log.counts()
		srv = nil
	}
	r.judge()
	return r, nil
}
