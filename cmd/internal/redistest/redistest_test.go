package redistest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStartIsItsOwnServer: a port another process holds is not taken for
// the server's own, whether that process answers like Redis or not.
func TestStartIsItsOwnServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	s := &Server{t: t, dir: t.TempDir(), Port: ln.Addr().(*net.TCPAddr).Port}
	assert.Error(t, s.start(), "a listener that is not this redis-server")
	s.Stop()

	other := Start(t)
	s = &Server{t: t, dir: t.TempDir(), Port: other.Port}
	assert.Error(t, s.start(), "another redis-server on the port")
	s.Stop()
	require.NoError(t, redis.NewClient(&redis.Options{Addr: other.Addr()}).Ping(context.Background()).Err(), "the other one is untouched")
}

// TestProxyStalls: while stalled nothing is answered; what a client sent
// and gave up on runs once the proxy resumes.
func TestProxyStalls(t *testing.T) {
	s := Start(t)
	p := s.Proxy(t)
	opts, err := redis.ParseURL(p.URL())
	require.NoError(t, err)
	opts.MaxRetries, opts.ContextTimeoutEnabled = -1, true
	c := redis.NewClient(opts)
	defer c.Close()
	direct := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer direct.Close()
	ctx := context.Background()
	require.NoError(t, c.Set(ctx, "k", "before", 0).Err())

	p.Stall()
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	err = c.Set(short, "k", "sent while stalled", 0).Err()
	cancel()
	require.Error(t, err, "no answer while stalled")
	got, err := direct.Get(ctx, "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "before", got, "nothing reached Redis")

	p.Resume()
	assert.Eventually(t, func() bool { return direct.Get(ctx, "k").Val() == "sent while stalled" }, 5*time.Second, 10*time.Millisecond,
		"what was sent runs once the stall ends, though its client gave up")
	require.NoError(t, c.Ping(ctx).Err(), "and the proxy answers again")
}
