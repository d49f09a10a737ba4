package redistest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy stands between the clients of a test and its Server, and can
// stall: while stalled it passes nothing on to Redis, as a Redis busy with
// a slow command answers nobody. Connections are still accepted (the
// kernel accepts them for a stalled Redis too), and what clients send in
// the meantime reaches Redis, in order, once the proxy resumes, even from
// a client that gave up waiting and closed its connection: Redis then runs
// it, as a stalled Redis does. Unlike a timed stall (CLIENT PAUSE, DEBUG
// SLEEP), it lasts exactly until the test ends it.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	resumed chan struct{} // closed while not stalled
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
	held    int        // chunks read and not yet passed on
	passed  *sync.Cond // on mu: held went down
}

// Proxy starts a proxy to s, closed when the test ends.
func (s *Server) Proxy(t testing.TB) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &Proxy{ln: ln, target: s.Addr(), resumed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	p.passed = sync.NewCond(&p.mu)
	close(p.resumed)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// URL is the proxy's redis:// URL.
func (p *Proxy) URL() string { return "redis://" + p.ln.Addr().String() }

// Stall stops passing anything on to Redis, from now until Resume.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.resumed:
		p.resumed = make(chan struct{})
	default: // stalled already
	}
}

// Resume passes on what was held, and everything after it. It returns
// once what was held has been written to Redis, so a command the test
// sends Redis after it, once answered, was run after them (Redis answers
// after running everything that was readable); a client's second command
// on one connection, sent after the first got no answer, may still be on
// its way.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.resumed:
	default:
		close(p.resumed)
	}
	for p.held > 0 {
		p.passed.Wait()
	}
}

// pass writes b to Redis once the proxy is not stalled.
func (p *Proxy) pass(up net.Conn, b []byte) (int, error) {
	p.mu.Lock()
	p.held++
	p.mu.Unlock()
	<-p.gate()
	n, err := up.Write(b)
	p.mu.Lock()
	p.held--
	p.passed.Broadcast()
	p.mu.Unlock()
	return n, err
}

// gate returns a channel closed once the proxy is not stalled.
func (p *Proxy) gate() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.resumed
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c, up) {
			return
		}
		p.wg.Add(2)
		go func() { // client → Redis, held while stalled
			defer p.wg.Done()
			buf := make([]byte, 32<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					_, werr := p.pass(up, buf[:n])
					if werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			<-p.gate()
			_ = up.(*net.TCPConn).CloseWrite() // Redis runs what it was sent, then sees the end
		}()
		go func() { // Redis → client
			defer p.wg.Done()
			_, _ = io.Copy(c, up)
			c.Close()
			up.Close()
			p.untrack(c, up)
		}()
	}
}

func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.conns, c) // nil after close: a no-op
	}
}

func (p *Proxy) close() {
	_ = p.ln.Close()
	p.Resume()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}
