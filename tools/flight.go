package tools

import (
	"context"
	"sync"
)

// flights coalesces identical calls in flight at once: the first runs, and
// the others wait for its answer instead of acting again. It holds only
// what is running: a call that starts after the first finished runs anew.
type flights struct {
	mu      sync.Mutex
	running map[string]*flight
	waiting int // calls waiting on another's run, across keys
}

type flight struct {
	done chan struct{}
	r    reply
	err  error
}

// errLeaderFailed is what the joiners of a call that panicked get.
var errLeaderFailed = &failure{class: "joined_failed", text: "An identical call in flight at the same time failed with an internal error, and nothing more is known about whether it acted. Check with a read before trying again."}

// do runs fn under key, or waits for the run already under way.
func (f *flights) do(ctx context.Context, key string, fn func() (reply, error)) (reply, error) {
	f.mu.Lock()
	if f.running == nil {
		f.running = map[string]*flight{}
	}
	if fl, ok := f.running[key]; ok {
		f.waiting++
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.waiting--
			f.mu.Unlock()
		}()
		select {
		case <-fl.done:
			r := fl.r
			r.joined = true
			return r, fl.err
		case <-ctx.Done():
			return reply{}, ctx.Err()
		}
	}
	fl := &flight{done: make(chan struct{}), err: errLeaderFailed} // until fn returns: a panic leaves it
	f.running[key] = fl
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.running, key)
		f.mu.Unlock()
		close(fl.done)
	}()
	fl.r, fl.err = fn()
	return fl.r, fl.err
}

// waiters is how many calls are waiting on another's run.
func (f *flights) waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiting
}
