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
	"sync"
	"time"
)

// The debug listener serves pprof and expvar (/debug/vars: memstats,
// goroutines, rss_bytes, peak_rss_bytes) for profiling and for the load
// generator's before/after figures. It listens on loopback only: a goroutine
// dump is not for the open network.
func serveDebug(addr string, log *slog.Logger) (func(), error) {
	if !loopback(addr) {
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

var published bool

func publishRuntime() {
	if published {
		return
	}
	published = true
	expvar.Publish("goroutines", expvar.Func(func() any { return runtime.NumGoroutine() }))
	expvar.Publish("rss_bytes", expvar.Func(func() any { return memory().rss }))
	expvar.Publish("peak_rss_bytes", expvar.Func(func() any { return memory().peak }))
}

// rssSnapshot is one read of the process's resident memory.
type rssSnapshot struct {
	rss, peak int64 // VmRSS and VmHWM, in bytes
	at        time.Time
}

var (
	memMu   sync.Mutex
	memLast rssSnapshot
)

// memory reads /proc/self/status, reusing a read less than 10ms old, so
// that the two figures of one /debug/vars answer come from the same read,
// where the peak is never below the current value. Zero where there is no
// /proc.
func memory() rssSnapshot {
	memMu.Lock()
	defer memMu.Unlock()
	if time.Since(memLast.at) < 10*time.Millisecond {
		return memLast
	}
	memLast = rssSnapshot{at: time.Now()}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return memLast
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
			memLast.rss = kb << 10
		case name == "VmHWM":
			memLast.peak = kb << 10
		}
	}
	return memLast
}
