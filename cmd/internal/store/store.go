// Package store keeps skimmer-mcp's cross-request state on Redis (or
// Valkey, which speaks the same protocol), so that every replica behind one
// endpoint shares it: record locks and spent confirmations (a tools.Store),
// each key's rate-limit budget (a skimmer.Budget) and the OAuth state (an
// oauth.Store).
//
// Every entry is named by a hash (no API key, record id or confirmation in
// clear) and expires; nothing grows without bound. When Redis is down or
// slow, reads go on with this replica's own state (logged once per outage,
// counted), writes are refused (no write without its lock and its spent
// check), and a probe brings the store back without a restart.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/skimmer-mcp/skimmer-mcp/tools"
)

// ErrStoreDown is returned, wrapped, by the operations that guard a write
// while the store cannot be reached: the write must not go ahead. (Not
// skimmer.ErrUnavailable, which is Skimmer itself failing to answer.)
var ErrStoreDown = errors.New("the shared store is unreachable")

// ErrBusy is returned, wrapped, by Lock when another holder kept the lock
// for longer than the wait allowed: the tools' own, which they put in
// words ("another change to this customer is in progress").
var ErrBusy = tools.ErrBusy

// Options configure Open. Zero values are sensible defaults.
type Options struct {
	// Timeout bounds one store operation; three in a row past it, or one
	// refused connection, and the store counts as down. 1s when 0.
	Timeout time.Duration
	// Probe is how often an unreachable store is tried again; 500ms when 0.
	Probe time.Duration
	// LockWait is how long Lock waits for a lock another holder has;
	// tools.DefaultLockWait when 0, as the tools' own store waits.
	LockWait time.Duration
	// Prefix starts every key this store writes; "skimmer-mcp" when empty.
	// Deployments sharing one Redis keep apart by it.
	Prefix string
	// Setting is the store setting as the person gave it (--store, or
	// SKIMMER_STORE), for the sentences Open says; "--store" when empty.
	Setting string
	Logger  *slog.Logger
	Meter   metric.Meter // no metrics when nil
}

// Redis is the shared store. It is safe for concurrent use.
type Redis struct {
	rdb     *redis.Client
	prefix  string
	timeout time.Duration
	probe   time.Duration
	wait    time.Duration // for a lock
	log     *slog.Logger
	where   string // scheme://host:port, for log lines: never the password
	addr    string // host:port
	m       instruments

	down      atomic.Bool
	slow      atomic.Int32 // operations timed out in a row
	mu        sync.Mutex
	downSince time.Time
	fallbacks int64 // reads served from local state in this outage
	closed    chan struct{}
	closeOnce sync.Once
	probing   sync.WaitGroup
	releasing sync.WaitGroup // entries removed in the background (undo)
}

// Open connects to the Redis the URL names (redis:// or rediss:// for
// TLS; go-redis's query options, such as ?dial_timeout=1s, apply) and
// checks that it answers. A store that is down at start is an error: an
// operator should see it at once, not at the first write.
func Open(ctx context.Context, rawURL string, opts Options) (*Redis, error) {
	if opts.Setting == "" {
		opts.Setting = "--store"
	}
	where, err := Describe(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Setting, err)
	}
	ro, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", opts.Setting, where, redactURLError(err, rawURL))
	}
	q, _ := url.Parse(rawURL)
	given := q.Query()
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.Probe <= 0 {
		opts.Probe = 500 * time.Millisecond
	}
	if opts.LockWait <= 0 {
		opts.LockWait = tools.DefaultLockWait
	}
	if opts.Prefix == "" {
		opts.Prefix = "skimmer-mcp"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Meter == nil {
		opts.Meter = noop.NewMeterProvider().Meter("")
	}
	// A failed command is not retried inside the client: a SET NX whose
	// answer was lost would, tried again, report the caller's own lock as
	// someone else's. The outage logic below decides what happens next.
	if !given.Has("max_retries") {
		ro.MaxRetries = -1
	}
	if !given.Has("dial_timeout") {
		ro.DialTimeout = opts.Timeout
	}
	if !given.Has("read_timeout") {
		ro.ReadTimeout = opts.Timeout
	}
	if !given.Has("write_timeout") {
		ro.WriteTimeout = opts.Timeout
	}
	ro.ContextTimeoutEnabled = true
	ro.DisableIdentity = true // CLIENT SETINFO is refused by older servers and some proxies
	redis.SetLogger(redisLogger{opts.Logger})
	s := &Redis{
		rdb: redis.NewClient(ro), prefix: opts.Prefix, timeout: opts.Timeout, probe: opts.Probe, wait: opts.LockWait,
		log: opts.Logger, where: where, addr: ro.Addr, closed: make(chan struct{}),
	}
	if s.m, err = newInstruments(opts.Meter, s); err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 2*opts.Timeout+time.Second)
	defer cancel()
	if err := s.rdb.Ping(pctx).Err(); err != nil {
		_ = s.rdb.Close()
		return nil, openError(opts.Setting, where, err)
	}
	return s, nil
}

// openError says why Redis did not take the store at start, and what to
// change. A password is never in it: Redis does not echo one, and the
// URL is shown as where (no credentials).
func openError(setting, where string, err error) error {
	const put = "put it in SKIMMER_STORE as redis://:PASSWORD@host:6379 (the environment, not the flag, which shows in process listings)"
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "NOAUTH"):
		return fmt.Errorf("%s: Redis at %s wants a password: %s", setting, where, put)
	case strings.HasPrefix(msg, "WRONGPASS"), strings.Contains(msg, "invalid password"):
		return fmt.Errorf("%s: Redis at %s refused the password: %s", setting, where, strings.Replace(put, "put it", "put the right one", 1))
	}
	return fmt.Errorf("%s: Redis at %s does not answer (%v): start it, or leave %s out to keep state in this process", setting, where, err, setting)
}

// Describe checks a store URL and returns it without credentials, for
// messages: scheme://host:port.
func Describe(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "", errors.New("use redis://host:6379 or rediss://host:6380 (TLS); add /N for database N and :PASSWORD@ before the host if needed")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return "", fmt.Errorf("scheme %q: use redis:// or rediss:// (TLS)", u.Scheme)
	}
	return u.Scheme + "://" + u.Host, nil
}

// redactURLError keeps a password out of a parse error.
func redactURLError(err error, rawURL string) string {
	msg := err.Error()
	if u, perr := url.Parse(rawURL); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "[redacted]")
		}
	}
	return msg
}

// Close stops the probe and the background releases, and closes the
// connections.
func (s *Redis) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	s.probing.Wait()
	s.releasing.Wait()
	return s.rdb.Close()
}

// Where is the store's scheme and address, without credentials.
func (s *Redis) Where() string { return s.where }

// Up reports whether the store is answering.
func (s *Redis) Up() bool { return !s.down.Load() }

// name is the Redis key of one entry: the prefix, the kind, and a hash of
// what it is for, in braces so a cluster keeps one entry's keys together.
func (s *Redis) name(kind, what string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + what))
	return s.prefix + ":" + kind + ":{" + hex.EncodeToString(sum[:16]) + "}"
}

// do runs one operation against Redis with the store's timeout, timing it
// and noting an outage when it fails for a reason other than the caller's.
func (s *Redis) do(ctx context.Context, op string, f func(ctx context.Context) error) error {
	octx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	start := time.Now()
	err := f(octx)
	// An empty answer (redis.Nil) is an answer; a caller that gave up is
	// not the store's failure.
	failed := err != nil && callerErr(ctx) == nil && !errors.Is(err, redis.Nil)
	s.m.observe(ctx, op, time.Since(start), failed)
	switch {
	case !failed:
		s.slow.Store(0)
	case !timedOut(err) || s.slow.Add(1) >= slowTrips || !s.listening():
		s.failed(op, err)
	}
	return err
}

// callerErr is why the caller gave up, or nil: its context ended, or its
// deadline passed. The client takes a socket deadline from the context, so
// an operation can fail with an i/o timeout a moment before the context
// itself says it is done; that is the caller's deadline, not a slow store.
func callerErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// slowTrips is how many operations in a row must time out before the
// store counts as down. A refused or broken connection counts at once; a
// lone timeout on a busy machine fails only its own operation (a read
// falls back, a write is refused), rather than every write until the
// next probe.
const slowTrips = 3

func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// listening reports whether anything accepts connections at the store's
// address: a client that cannot connect may report a refused connection
// only as its operation's timeout.
func (s *Redis) listening() bool {
	c, err := net.DialTimeout("tcp", s.addr, s.timeout/4)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// failed marks the store down and starts the probe, once per outage.
func (s *Redis) failed(op string, err error) {
	if !s.down.CompareAndSwap(false, true) {
		return
	}
	s.mu.Lock()
	s.downSince, s.fallbacks = time.Now(), 0
	s.mu.Unlock()
	s.log.Error("shared store unreachable: reads go on with this replica's own rate budget, writes are refused until it answers again",
		"store", s.where, "op", op, "err", err.Error())
	s.probing.Add(1)
	go s.probeUntilUp()
}

// probeUntilUp pings the store until it answers, then says so.
func (s *Redis) probeUntilUp() {
	defer s.probing.Done()
	t := time.NewTicker(s.probe)
	defer t.Stop()
	for {
		select {
		case <-s.closed:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		start := time.Now()
		err := s.rdb.Ping(ctx).Err()
		cancel()
		s.m.observe(context.Background(), "ping", time.Since(start), err != nil)
		if err == nil {
			s.mu.Lock()
			since, served := s.downSince, s.fallbacks
			s.mu.Unlock()
			s.slow.Store(0)
			s.down.Store(false)
			s.log.Warn("shared store answering again: writes resume", "store", s.where, "down_for", time.Since(since).Round(time.Millisecond), "reads_on_local_state", served)
			return
		}
	}
}

// fellBack counts a read served from this replica's own state.
func (s *Redis) fellBack(ctx context.Context, op string) {
	s.mu.Lock()
	s.fallbacks++
	s.mu.Unlock()
	s.m.fallback(ctx, op)
}

// unavailable is the error a guarded write gets while the store is down.
func (s *Redis) unavailable(ctx context.Context, op string, cause error) error {
	s.m.refuse(ctx, op)
	if cause == nil {
		return fmt.Errorf("%s: %w", op, ErrStoreDown)
	}
	return fmt.Errorf("%s: %w (%v)", op, ErrStoreDown, cause)
}

// redisLogger sends go-redis's own messages (reconnects, pool errors) to
// the debug log: the outage itself is logged once, above.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
