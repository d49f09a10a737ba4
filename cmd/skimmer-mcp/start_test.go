package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refusedAtStart runs the binary, which must stop before serving, and
// returns its exit status and what it said.
func refusedAtStart(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "it should have stopped: %v\n%s", err, out)
	return exit.ExitCode(), string(out)
}

// TestStartUpErrorsAreOneSentence: whatever keeps the server from
// starting, a setting it refuses or a port it cannot have, is said the
// same way: one line, "skimmer-mcp: …", exit status 2, naming the setting
// as it was given and what to do; no warning before it to be taken for
// its cause.
func TestStartUpErrorsAreOneSentence(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	addr := busy.Addr().(*net.TCPAddr)
	next := fmt.Sprintf("127.0.0.1:%d", addr.Port+1)
	missing := filepath.Join(t.TempDir(), "not-made-yet")

	for _, tt := range []struct {
		name string
		env  []string
		args []string
		says string
	}{
		{"a busy port", nil, []string{"--transport", "http", "--addr", busy.Addr().String()},
			"something else is using " + busy.Addr().String() + "; stop it or pass --addr " + next},
		{"a busy port, set in the environment", []string{"SKIMMER_ADDR=" + busy.Addr().String(), "SKIMMER_TRANSPORT=sse"}, nil,
			"something else is using " + busy.Addr().String() + "; stop it or set SKIMMER_ADDR=" + next},
		{"a short OAuth key on an open address", []string{"SKIMMER_OAUTH_KEY=too-short"},
			[]string{"--transport", "http", "--oauth", "--addr", "0.0.0.0:0", "--public-url", "https://mcp.example.com"},
			"SKIMMER_OAUTH_KEY is 9 characters long; use at least 32 random characters, made with `openssl rand -hex 32`"},
		{"an OAuth state folder that does not exist", nil,
			[]string{"--sandbox", "--transport", "http", "--oauth", "--addr", "127.0.0.1:0", "--oauth-state", filepath.Join(missing, "oauth-state.json")},
			"--oauth-state: the folder " + missing + " does not exist: create it and make it writable by the server's user"},
		{"the README's old placeholder token", []string{"SKIMMER_AUTH_TOKEN=replace-with-a-long-random-string"},
			[]string{"--transport", "http", "--addr", "127.0.0.1:0"},
			"SKIMMER_AUTH_TOKEN is the README's example, not a token: make one with `openssl rand -hex 32`"},
		{"a bad value in the environment", []string{"SKIMMER_READ_ONLY=yes"}, nil, `SKIMMER_READ_ONLY="yes": use true or false`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out := refusedAtStart(t, tt.env, tt.args...)
			assert.Equal(t, 2, code, out)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if strings.Contains(lines[0], "SANDBOX MODE") {
				lines = lines[1:]
			}
			assert.Equal(t, []string{"skimmer-mcp: " + tt.says}, trimTail(lines, tt.says), "one sentence and nothing else:\n%s", out)
			assert.NotContains(t, out, "ERR")
			assert.NotContains(t, out, "WARN")
		})
	}
}

// trimTail cuts each line at the end of says, where the line has it, so
// that a sentence that goes on (the uid of the server's user) compares.
func trimTail(lines []string, says string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		if j := strings.Index(l, says); j >= 0 {
			l = l[:j+len(says)]
		}
		out[i] = l
	}
	return out
}

// TestOpenAddressWithoutATokenWarns: a hosted server anyone can reach,
// with neither an auth token nor OAuth, starts, and says at once what the
// README says: set a token. With --public-url the log names the URL to
// hand to people, not the address listened on.
func TestOpenAddressWithoutATokenWarns(t *testing.T) {
	_, base := upstreamSandbox(t)
	p := start(t, []string{"SKIMMER_BASE_URL=" + base}, "--transport", "http", "--addr", "0.0.0.0:0", "--log-format", "json",
		"--public-url", "https://mcp.example.com")
	assert.Equal(t, "https://mcp.example.com/mcp", p.waitURL(t))
	assert.Contains(t, p.stderr.String(), "no auth token on 0.0.0.0:0: anyone who can reach it can use this server")
	assert.Contains(t, p.stderr.String(), "set SKIMMER_AUTH_TOKEN to the output of `openssl rand -hex 32`")
	p.stop(t)

	// Without --public-url, a wildcard address is shown as this machine's.
	q := start(t, []string{"SKIMMER_BASE_URL=" + base, "SKIMMER_AUTH_TOKEN=" + strings.Repeat("t", 32)}, "--transport", "http", "--addr", "0.0.0.0:0", "--log-format", "json")
	u := q.waitURL(t)
	assert.Regexp(t, `^http://localhost:\d+/mcp$`, u)
	assert.NotContains(t, q.stderr.String(), "no auth token", "a token is set")
	q.stop(t)
}

// TestStdioAtATerminal: started by hand at a terminal, the stdio server
// says what it is waiting for and how to try a tool, instead of a log line
// and silence; a host's pipe gets no such line.
func TestStdioAtATerminal(t *testing.T) {
	// script (util-linux) gives the command a terminal of its own.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "script", "-qec", binary+" --sandbox", os.DevNull)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TERM=dumb"}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	const line = `skimmer-mcp: waiting for an MCP client on stdin; to try a tool: skimmer-mcp --sandbox call search_customers '{"text":"smith"}'; Ctrl-C to stop`
	assert.Eventually(t, func() bool { return strings.Contains(out.String(), line) }, 15*time.Second, 50*time.Millisecond, "at a terminal:\n%s", out.String())

	p := start(t, nil, "--sandbox")
	assert.Eventually(t, func() bool { return strings.Contains(p.stderr.String(), "serving MCP on stdio") }, 15*time.Second, 20*time.Millisecond)
	assert.NotContains(t, p.stderr.String(), "waiting for an MCP client", "a host's pipe")
	assert.False(t, isTerminal(strings.NewReader("")))
	devNull, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer devNull.Close()
	assert.False(t, isTerminal(devNull), "the null device is no terminal")
}
