package sandbox

import (
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"
)

// limiter is Skimmer's rate limit: a fixed one-minute window per key,
// opened by the key's first request.
type limiter struct {
	perMinute int // <0: off
	clock     func() time.Time
	mu        sync.Mutex
	windows   map[string]*rateWindow
}

type rateWindow struct {
	start time.Time
	used  int
}

// rateState is what the RateLimit-* headers report.
type rateState struct {
	limit, remaining, reset int // reset: whole seconds until the window ends
	on                      bool
}

func newLimiter(perMinute int, clock func() time.Time) *limiter {
	return &limiter{perMinute: perMinute, clock: clock, windows: map[string]*rateWindow{}}
}

// take spends one request of key's window, and reports whether there was
// one to spend.
func (l *limiter) take(key string) (rateState, bool) {
	if l.perMinute < 0 {
		return rateState{}, true
	}
	now := l.clock()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= time.Minute {
		w = &rateWindow{start: now}
		l.windows[key] = w
	}
	reset := int(math.Ceil(w.start.Add(time.Minute).Sub(now).Seconds()))
	st := rateState{on: true, limit: l.perMinute, reset: max(reset, 1)}
	if w.used >= l.perMinute {
		return st, false
	}
	w.used++
	st.remaining = l.perMinute - w.used
	return st, true
}

func (st rateState) write(h http.Header) {
	if !st.on {
		return
	}
	h.Set("RateLimit-Limit", fmt.Sprint(st.limit))
	h.Set("RateLimit-Remaining", fmt.Sprint(st.remaining))
	h.Set("RateLimit-Reset", fmt.Sprint(st.reset))
}
