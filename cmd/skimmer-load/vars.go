package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Vars is what the server's /debug/vars says about its own health.
type Vars struct {
	At         time.Time `json:"at"`
	Goroutines int       `json:"goroutines"`
	RSS        int64     `json:"rss_bytes"`
	PeakRSS    int64     `json:"peak_rss_bytes"` // VmHWM: the process's peak so far
	HeapInuse  uint64    `json:"heap_inuse_bytes"`
	NumGC      uint32    `json:"num_gc"`
}

// varsClient reads /debug/vars. It has a connection of its own, so the
// load's connections never delay a sample.
type varsClient struct {
	url string
	hc  *http.Client
}

func newVarsClient(url string) *varsClient {
	return &varsClient{url: url, hc: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}}
}

func (v *varsClient) read(ctx context.Context) (Vars, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.url, nil)
	if err != nil {
		return Vars{}, err
	}
	resp, err := v.hc.Do(req)
	if err != nil {
		return Vars{}, fmt.Errorf("reading %s: %w", v.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Vars{}, fmt.Errorf("reading %s: status %s", v.url, resp.Status)
	}
	var raw struct {
		Goroutines int `json:"goroutines"`
		Memory     struct {
			RSS     int64 `json:"rss_bytes"`
			PeakRSS int64 `json:"peak_rss_bytes"`
		} `json:"memory"`
		Memstats struct {
			HeapInuse uint64
			NumGC     uint32
		} `json:"memstats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		return Vars{}, fmt.Errorf("reading %s: %w", v.url, err)
	}
	if raw.Goroutines == 0 {
		return Vars{}, fmt.Errorf("reading %s: no goroutines figure; is it skimmer-mcp's --debug-addr?", v.url)
	}
	return Vars{At: time.Now(), Goroutines: raw.Goroutines, RSS: raw.Memory.RSS, PeakRSS: raw.Memory.PeakRSS, HeapInuse: raw.Memstats.HeapInuse, NumGC: raw.Memstats.NumGC}, nil
}

func (v *varsClient) close() { v.hc.CloseIdleConnections() }

// monitor samples the server every interval until stopped.
type monitor struct {
	mu      sync.Mutex
	samples []Vars
	errs    int
	stop    chan struct{}
	done    chan struct{}
}

func startMonitor(ctx context.Context, v *varsClient, every time.Duration) *monitor {
	m := &monitor{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			s, err := v.read(ctx)
			m.mu.Lock()
			if err != nil {
				m.errs++ // a server too busy to answer is itself a finding
			} else {
				m.samples = append(m.samples, s)
			}
			m.mu.Unlock()
		}
	}()
	return m
}

// finish stops sampling and returns the samples and how many reads failed.
func (m *monitor) finish() ([]Vars, int) {
	close(m.stop)
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.samples, m.errs
}

// settle reads the server every 250ms until done says it has settled, or
// until limit, and returns the last reading and the time it took. Servers
// need a moment after clients hang up: connections close, handlers return.
func settle(ctx context.Context, v *varsClient, limit time.Duration, done func(prev *Vars, cur Vars) bool) (Vars, time.Duration, error) {
	start := time.Now()
	var prev *Vars
	for {
		cur, err := v.read(ctx)
		if err != nil {
			return Vars{}, time.Since(start), err
		}
		if done(prev, cur) || time.Since(start) >= limit {
			return cur, time.Since(start), nil
		}
		prev = &cur
		select {
		case <-ctx.Done():
			return cur, time.Since(start), ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// steady: the goroutine count held still over one interval.
func steady(prev *Vars, cur Vars) bool { return prev != nil && prev.Goroutines == cur.Goroutines }

// atMost: the goroutine count is down to n.
func atMost(n int) func(*Vars, Vars) bool {
	return func(_ *Vars, cur Vars) bool { return cur.Goroutines <= n }
}
