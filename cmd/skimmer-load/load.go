package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// phase is one bout of load: warm-up or the measured run.
type phase struct {
	name     string // in the clients' keys, so each phase's clients are new to the server
	url      string
	clients  int
	duration time.Duration
	seed     int64
	pool     []string
	timeout  time.Duration // per call, and for connecting
	think    time.Duration // mean pause between a client's steps; 0 for none
}

// phaseResult is what a phase's clients recorded, merged.
type phaseResult struct {
	clients   int
	connected int
	elapsed   time.Duration // from the start signal to the last client's last answer
	connect   []time.Duration
	lat       map[string][]time.Duration
	errs      map[string]map[string]int
	first     []CallError
	calls     int
}

// run connects every client, starts them together, lets each loop through
// the mix until the phase's time is up or ctx ends, and closes them all.
// A client that cannot connect is an error of kind connect; the others
// still run.
func (p phase) run(ctx context.Context) *phaseResult {
	type outcome struct {
		rec     *recorder
		connect time.Duration
		ok      bool
		end     time.Time
	}
	outs := make([]outcome, p.clients)
	var connected, finished sync.WaitGroup
	var start time.Time
	started := make(chan struct{}) // closed at start, once every client is connected
	total := 0
	for _, o := range theMix {
		total += o.weight
	}
	for i := range p.clients {
		connected.Add(1)
		finished.Add(1)
		go func() {
			defer finished.Done()
			out := &outs[i]
			out.rec = newRecorder()
			key := fmt.Sprintf("skimmer-load-%s-%04d", p.name, i) // 12 characters at least, as the server asks
			t0 := time.Now()
			c, conns, err := connect(ctx, p.url, key, p.timeout)
			out.connect = time.Since(t0)
			connected.Done()
			<-started
			out.rec.start = start
			if err != nil {
				out.rec.nCalls++ // initialize is a call too, one that failed
				out.rec.fail("initialize", kindConnect, err)
				return
			}
			out.ok = true
			s := &session{c: c, conns: conns, rng: rand.New(rand.NewPCG(uint64(p.seed), uint64(i))), pool: p.pool, rec: out.rec, timeout: p.timeout}
			defer s.close()
			deadline := start.Add(p.duration)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				s.pick(theMix, total).run(s)
				out.end = time.Now()
				if p.think > 0 {
					pause(ctx, time.Duration(s.rng.Int64N(int64(2*p.think))), deadline)
				}
			}
		}()
	}
	connected.Wait()
	start = time.Now()
	close(started)
	finished.Wait()

	res := &phaseResult{clients: p.clients, lat: map[string][]time.Duration{}, errs: map[string]map[string]int{}}
	for _, o := range outs {
		res.calls += o.rec.nCalls
		if o.ok {
			res.connected++
			res.connect = append(res.connect, o.connect)
		}
		if d := o.end.Sub(start); d > res.elapsed {
			res.elapsed = d
		}
		for op, ds := range o.rec.lat {
			res.lat[op] = append(res.lat[op], ds...)
		}
		for op, kinds := range o.rec.errs {
			if res.errs[op] == nil {
				res.errs[op] = map[string]int{}
			}
			for k, n := range kinds {
				res.errs[op][k] += n
			}
		}
		res.first = append(res.first, o.rec.first...)
	}
	slices.SortFunc(res.first, func(a, b CallError) int { return cmp.Compare(a.After, b.After) })
	res.first = res.first[:min(len(res.first), firstErrors)]
	return res
}

// pause sleeps for d, or less when ctx ends or the deadline comes first.
func pause(ctx context.Context, d time.Duration, deadline time.Time) {
	d = min(d, time.Until(deadline))
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// errorCount is how many calls of the phase failed.
func (r *phaseResult) errorCount() int {
	n := 0
	for _, kinds := range r.errs {
		for _, c := range kinds {
			n += c
		}
	}
	return n
}

// ops lists the ops that have samples or errors, sorted.
func (r *phaseResult) ops() []string {
	set := map[string]bool{}
	for op := range r.lat {
		set[op] = true
	}
	for op := range r.errs {
		set[op] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// customerPool lists every customer id the account has, through the MCP
// server itself, for the clients to pick from before their first search.
func customerPool(ctx context.Context, url string, timeout time.Duration) ([]string, error) {
	c, conns, err := connect(ctx, url, "skimmer-load-setup", timeout)
	if err != nil {
		return nil, err
	}
	s := &session{c: c, conns: conns, rec: newRecorder(), timeout: timeout}
	defer s.close()
	var pool []string
	const page = 200 // list_customers' largest limit
	for offset := 0; ; offset += page {
		text, ok := s.call("list_customers", "list_customers", map[string]any{"limit": page, "offset": offset}, func(string) error { return nil })
		if !ok {
			return nil, fmt.Errorf("listing customers: %s", s.rec.first[0].Message)
		}
		got := ids(text)
		pool = append(pool, got...)
		if len(got) < page {
			break
		}
	}
	if len(pool) == 0 {
		return nil, errors.New("the account has no customers to load-test with")
	}
	return pool, nil
}
