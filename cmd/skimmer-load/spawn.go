package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serverPackage is what --spawn builds when given no --server binary.
const serverPackage = "github.com/skimmer-mcp/skimmer-mcp/cmd/skimmer-mcp"

// buildServer builds skimmer-mcp into a temporary directory; the returned
// function removes it.
func buildServer(ctx context.Context, stderr io.Writer) (string, func(), error) {
	dir, err := os.MkdirTemp("", "skimmer-load")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "skimmer-mcp")
	fmt.Fprintf(stderr, "skimmer-load: building %s\n", serverPackage)
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, serverPackage).CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building skimmer-mcp (run from the repository, or give a binary with --server): %w\n%s", err, out)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// serverVersion is what bin --version says, for the report; "" if nothing.
func serverVersion(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// process is a skimmer-mcp this command started.
type process struct {
	cmd      *exec.Cmd
	args     []string
	url      string
	debugURL string
	log      *serverLog
	done     chan struct{} // closed when the process has exited
	waitErr  error
}

// startServer runs bin on the embedded sandbox with the sandbox's rate
// limit off (a load run measures the server, not 429s), serving streamable
// HTTP and /debug/vars on loopback ports.
//
// At the warn log level the server does not log its URLs, and at info it
// logs a line per call, which would cost the server a share of the CPU it
// is being measured on. So the ports are chosen here: free ones, bound and
// released just before the start. Another process could take one in that
// moment; the server then fails to listen, and the start is retried.
func startServer(ctx context.Context, bin, logLevel, store string) (*process, error) {
	var last error
	for range 3 {
		s, err := tryStart(ctx, bin, logLevel, store)
		if err == nil {
			return s, nil
		}
		last = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, last
}

func tryStart(ctx context.Context, bin, logLevel, store string) (*process, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	addr, debugAddr := "127.0.0.1:"+ports[0], "127.0.0.1:"+ports[1]
	args := []string{"--sandbox", "--sandbox-rate-limit", "0", "--transport", "http",
		"--addr", addr, "--debug-addr", debugAddr, "--log-format", "json", "--log-level", logLevel}
	if store != "" {
		args = append(args, "--store", store)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = serverEnv(os.Environ())
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	s := &process{cmd: cmd, args: args, url: "http://" + addr + "/mcp", debugURL: "http://" + debugAddr + "/debug/vars",
		log: &serverLog{}, done: make(chan struct{})}
	go func() {
		s.log.read(pipe)
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx, "http://"+addr+"/healthz", 30*time.Second); err != nil {
		s.kill()
		return nil, err
	}
	return s, nil
}

// serverEnv is this process's environment without SKIMMER_ settings: the
// spawned server runs on its flags alone, so a stray SKIMMER_CONFIRM=none
// in a shell cannot change what is measured.
func serverEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "SKIMMER_") {
			out = append(out, kv)
		}
	}
	return out
}

// freePorts finds n distinct free loopback ports.
func freePorts(n int) ([]string, error) {
	var ports []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer ln.Close() // held until all are found, so they differ
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		ports = append(ports, port)
	}
	return ports, nil
}

// waitReady polls health until the server answers, it exits, or limit.
func (s *process) waitReady(ctx context.Context, health string, limit time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	defer hc.CloseIdleConnections()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if resp, err := hc.Get(health); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("skimmer-mcp exited at start (%v):\n%s", s.waitErr, s.log.tail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("skimmer-mcp did not answer %s within %s:\n%s", health, limit, s.log.tail())
}

// stop sends SIGTERM and waits for the exit, which should be clean: the
// server drains calls in flight (none, by now) and returns 0.
func (s *process) stop(limit time.Duration) string {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Sprintf("could not signal it: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(limit):
		s.kill()
		return fmt.Sprintf("still running %s after SIGTERM; killed", limit)
	}
	if s.waitErr != nil {
		return fmt.Sprintf("%v; last lines:\n%s", s.waitErr, s.log.tail())
	}
	return exitClean
}

func (s *process) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// serverLog keeps what a person needs from the server's stderr: the last
// lines, for a failed start, and its warnings and errors.
type serverLog struct {
	mu       sync.Mutex
	last     []string
	problems []string
	warnings int
	errors   int
}

const keepLines = 10

func (l *serverLog) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l.add(sc.Text())
	}
}

func (l *serverLog) add(line string) {
	var rec struct{ Level string }
	_ = json.Unmarshal([]byte(line), &rec)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = append(l.last, line)
	if len(l.last) > keepLines {
		l.last = l.last[1:]
	}
	switch rec.Level {
	case "WARN":
		l.warnings++
	case "ERROR":
		l.errors++
	default:
		return
	}
	if len(l.problems) < keepLines {
		l.problems = append(l.problems, line)
	}
}

func (l *serverLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.last, "\n")
}

// counts returns the warnings and errors so far, and the first lines.
func (l *serverLog) counts() (warnings, errs int, lines []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.warnings, l.errors, append([]string(nil), l.problems...)
}

var errNoServer = errors.New("give --url (and --debug-url) for a running server, or --spawn to start one")
