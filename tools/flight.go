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
var errLeaderFailed = &failure{class: failJoinedFailed, text: "An identical call in flight at the same time failed with an internal error, and nothing more is known about whether it acted. Check with a read before trying again."}

// do runs fn under key, or waits for the run already under way.
//
// fn runs detached from the cancellation of the call that started it: it
// is everyone's run, and a write that has left for Skimmer is Skimmer's,
// whoever stops waiting for it. What bounds it is the client's own limits
// (a timeout per attempt, a bounded wait for a lock or the rate budget).
// The first caller still waits for it to end, so that a shutdown that
// drains the calls in flight drains it too; a joiner whose own context
// ends stops waiting.
func (f *flights) do(ctx context.Context, key string, fn func(ctx context.Context) (reply, error)) (reply, error) {
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
	fl.r, fl.err = fn(context.WithoutCancel(ctx))
	return fl.r, fl.err
}

// waiters is how many calls are waiting on another's run.
func (f *flights) waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiting
}
