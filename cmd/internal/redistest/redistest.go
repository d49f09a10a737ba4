// Package redistest runs a real redis-server for tests, on a free loopback
// port, with nothing saved to disk. Tests that use it need redis-server on
// the PATH (.ci/run installs Debian's).
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is one redis-server process, which a test may stop and start
// again on the same port to play an outage.
type Server struct {
	t    testing.TB
	Port int
	dir  string
	mu   sync.Mutex
	proc *process
}

// process is one run of redis-server; exited is closed when it has ended.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs redis-server and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed: apt-get install redis-server (.ci/run does it)")
	}
	s := &Server{t: t, dir: t.TempDir()}
	var err error
	for range 5 {
		if s.Port, err = freePort(); err == nil {
			if err = s.start(); err == nil {
				break
			}
		}
	}
	if err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d", s.Port) }

// Addr is host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// start runs redis-server on s.Port and returns once it answers, and is
// the process this call started: another process may hold the port.
func (s *Server) start() error {
	cmd := exec.Command("redis-server", "--port", fmt.Sprint(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--daemonize", "no", "--loglevel", "warning")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	var linesMu sync.Mutex
	var lines []string
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			linesMu.Lock()
			lines = append(lines, sc.Text())
			linesMu.Unlock()
		}
	}()
	go func() {
		<-read // Wait closes the pipe: read it to its end first
		_ = cmd.Wait()
		close(p.exited)
	}()
	said := func() string {
		linesMu.Lock()
		defer linesMu.Unlock()
		return strings.Join(lines, "; ")
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("redis-server on %s exited: %s", s.Addr(), said())
		default:
		}
		if err := answers(s.Addr(), cmd.Process.Pid); err == nil {
			s.mu.Lock()
			s.proc = p
			s.mu.Unlock()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-p.exited
	return fmt.Errorf("redis-server did not answer on %s: %s", s.Addr(), said())
}

var processID = regexp.MustCompile(`(?m)^process_id:(\d+)\r?$`)

// answers checks that the Redis at addr answers PING and is process pid,
// not another one that held the port first.
func answers(addr string, pid int) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DisableIdentity: true, DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 500 * time.Millisecond, ContextTimeoutEnabled: true})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return err
	}
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return err
	}
	m := processID.FindStringSubmatch(info)
	if m == nil || m[1] != strconv.Itoa(pid) {
		return errors.New("another redis-server answers on " + addr)
	}
	return nil
}

// Stop kills the server (an outage: nothing is saved). Stopping a stopped
// server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart() {
	s.t.Helper()
	var err error
	for range 20 { // the port may linger for a moment
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("restarting redis-server: %v", err)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
