package main

import (
	"bufio"
	"expvar"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/loopback"
)

// The debug listener serves pprof and expvar (/debug/vars: memstats,
// goroutines, memory.rss_bytes, memory.peak_rss_bytes) for profiling and for the load
// generator's before/after figures. It listens on loopback only: a goroutine
// dump is not for the open network.
func serveDebug(addr string, log *slog.Logger) (func(), error) {
	if !loopback.Addr(addr) {
		return nil, fmt.Errorf("--debug-addr %q: the debug listener serves profiles and must be on loopback, e.g. 127.0.0.1:6060", addr)
	}
	publishRuntime()
	mux := http.NewServeMux()
	mux.Handle("/debug/vars", expvar.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("debug listener", "url", "http://"+ln.Addr().String()+"/debug/vars")
	return func() { _ = srv.Close() }, nil
}

// publishRuntime adds what expvar lacks. serveDebug runs once a process.
func publishRuntime() {
	expvar.Publish("goroutines", expvar.Func(func() any { return runtime.NumGoroutine() }))
	expvar.Publish("memory", expvar.Func(func() any { return memory() }))
}

// rss is one read of the process's resident memory: both figures come from
// it, so the peak is never below the current value. Zero where there is
// no /proc.
type rss struct {
	RSS  int64 `json:"rss_bytes"`      // VmRSS
	Peak int64 `json:"peak_rss_bytes"` // VmHWM
}

func memory() rss {
	var m rss
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		switch {
		case err != nil:
		case name == "VmRSS":
			m.RSS = kb << 10
		case name == "VmHWM":
			m.Peak = kb << 10
		}
	}
	return m
}
