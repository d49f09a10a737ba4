package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sieve"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFlagsBeatEnvironment(t *testing.T) {
	c, err := parseConfig([]string{"--transport", "sse", "--read-only"}, env(map[string]string{
		"SKIMMER_TRANSPORT": "http", "SKIMMER_ADDR": "127.0.0.1:9999", "SKIMMER_TIMEOUT": "5s",
		"SKIMMER_API_KEY": " key-with-spaces ", "SKIMMER_BASE_URL": "http://localhost:1",
	}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "sse", c.transport, "a flag wins over its twin")
	assert.Equal(t, "127.0.0.1:9999", c.addr, "the twin fills an unset flag")
	assert.Equal(t, 5*time.Second, c.timeout)
	assert.True(t, c.readOnly)
	assert.Equal(t, "key-with-spaces", c.apiKey)
	assert.Equal(t, "http://localhost:1", c.baseURL)
}

func TestConfigCommandsAndTheirFlags(t *testing.T) {
	c, err := parseConfig([]string{"--sandbox", "call", "--read-only", "get_customer", `{"id":"x"}`}, env(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "call", c.command)
	assert.True(t, c.sandbox)
	assert.True(t, c.readOnly, "flags after the command count too")
	assert.Equal(t, []string{"get_customer", `{"id":"x"}`}, c.args)
}

func TestConfigRefusals(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--transport", "grpc"}, nil, "use stdio, sse or http"},
		{[]string{"--confirm", "maybe"}, nil, "use elicit, flag or none"},
		{[]string{"frobnicate"}, nil, `unknown command "frobnicate"`},
		{nil, map[string]string{"SKIMMER_TIMEOUT": "soon"}, `SKIMMER_TIMEOUT="soon"`},
		{nil, map[string]string{"SKIMMER_READ_ONLY": "perhaps"}, "SKIMMER_READ_ONLY"},
		{[]string{"--addr", "8080"}, nil, "use host:port"},
		{[]string{"--max-body", "10"}, nil, "at least 1024 bytes"},
	}
	for _, tt := range tests {
		_, err := parseConfig(tt.args, env(tt.env), io.Discard)
		assert.ErrorContains(t, err, tt.want)
	}
}

// TestNoConfirmationIsLoud: the warning follows the parsed policy, so no
// spelling of none turns confirmation off quietly.
func TestNoConfirmationIsLoud(t *testing.T) {
	for _, tt := range []struct {
		args []string
		warn bool
	}{
		{[]string{"--confirm", "none"}, true},
		{[]string{"--confirm", "NONE"}, true},
		{[]string{"--confirm", " None "}, true},
		{[]string{"--confirm", "flag"}, false},
		{[]string{"--confirm", "none", "--read-only"}, false},
	} {
		c, err := parseConfig(tt.args, env(nil), io.Discard)
		require.NoError(t, err)
		var logs strings.Builder
		logPolicy(c, slog.New(slog.NewTextHandler(&logs, nil)))
		assert.Equal(t, tt.warn, strings.Contains(logs.String(), "no preview and no confirmation"), "%v", tt.args)
	}
}

// TestSandboxFlagsMeanWhatTheySay: --sandbox-customers 0 is an empty
// account, not the sandbox's default of 250.
func TestSandboxFlagsMeanWhatTheySay(t *testing.T) {
	for _, tt := range []struct {
		customers string
		want      int
	}{{"0", 0}, {"7", 7}} {
		c, err := parseConfig([]string{"--sandbox", "--sandbox-customers", tt.customers}, env(nil), io.Discard)
		require.NoError(t, err)
		up, err := startUpstream(c, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		res, err := up.client.SearchCustomers(context.Background(), sieve.Query{Page: 1, PageSize: 1})
		up.stop()
		require.NoError(t, err)
		assert.Equal(t, tt.want, res.Total, "--sandbox-customers %s", tt.customers)
	}
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		name      string
		token     string
		serverKey string
		headers   map[string]string
		want      string
	}{
		{"own key header", "", "", map[string]string{"skimmer-api-key": "own"}, "own"},
		{"own key as bearer", "", "", map[string]string{"Authorization": "Bearer own"}, "own"},
		{"nothing", "", "", nil, ""},
		{"server key on loopback", "", "srv", nil, "srv"},
		{"own key beats server key", "", "srv", map[string]string{"skimmer-api-key": "own"}, "own"},
		{"token, server key", "tok", "srv", map[string]string{"Authorization": "Bearer tok"}, "srv"},
		{"token, own key", "tok", "srv", map[string]string{"Authorization": "bearer tok", "skimmer-api-key": "own"}, "own"},
		{"token missing", "tok", "srv", map[string]string{"skimmer-api-key": "own"}, ""},
		{"token wrong", "tok", "srv", map[string]string{"Authorization": "Bearer tik"}, ""},
		{"token, no key anywhere", "tok", "", map[string]string{"Authorization": "Bearer tok"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGate(&config{authToken: tt.token, maxBody: 1 << 20}, tt.serverKey)
			r := httptest.NewRequest("POST", "/mcp", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			got, why := g.credentials(r)
			assert.Equal(t, tt.want, got)
			if got == "" {
				assert.NotEmpty(t, why)
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "localhost:1": true, "[::1]:9": true, "0.0.0.0:8080": false, ":8080": false, "10.0.0.5:80": false} {
		assert.Equal(t, want, loopback(addr), addr)
	}
}

// TestREADMEDocumentsEveryFlag keeps the README's table honest.
func TestREADMEDocumentsEveryFlag(t *testing.T) {
	var usage strings.Builder
	_, err := parseConfig([]string{"--help"}, env(nil), &usage)
	require.ErrorIs(t, err, flag.ErrHelp)
	names := regexp.MustCompile(`--([a-z-]+) \(env `).FindAllStringSubmatch(usage.String(), -1)
	require.Greater(t, len(names), 15)
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, n := range names {
		assert.Contains(t, string(readme), "`--"+n[1]+"`", "the README's configuration table lists --%s", n[1])
	}
	for _, v := range []string{"SKIMMER_API_KEY", "SKIMMER_CONFIRM_KEY", "SKIMMER_BASE_URL", "SKIMMER_AUTH_TOKEN"} {
		assert.Contains(t, string(readme), v)
	}
}

// TestOneShotFlagsHaveNoTwin: --version and --json ask for something once;
// a variable that happens to be called SKIMMER_VERSION (a deploy tool's)
// must not turn a server into a command that prints its version and exits.
func TestOneShotFlagsHaveNoTwin(t *testing.T) {
	c, err := parseConfig(nil, env(map[string]string{"SKIMMER_VERSION": "1", "SKIMMER_JSON": "true", "SKIMMER_READ_ONLY": "1"}), io.Discard)
	require.NoError(t, err)
	assert.False(t, c.version)
	assert.False(t, c.json)
	assert.True(t, c.readOnly, "the other twins still apply")

	var out, errOut strings.Builder
	code := run(context.Background(), []string{"tools"}, stdio{strings.NewReader(""), &out, &errOut},
		env(map[string]string{"SKIMMER_VERSION": "1", "SKIMMER_JSON": "1"}))
	assert.Equal(t, 0, code, errOut.String())
	assert.Contains(t, out.String(), "search_customers")
	assert.NotContains(t, out.String(), "skimmer-mcp "+skimmer.Version)
	assert.False(t, strings.HasPrefix(out.String(), "["), "plain text, not JSON")
}

// TestBadFlagIsSaidOnce: the error once, with where to look, and not the
// whole usage; --help prints the usage once.
func TestBadFlagIsSaidOnce(t *testing.T) {
	for _, args := range [][]string{{"--bogus"}, {"tools", "--bogus"}, {"--sandbox-seed", "many"}} {
		var out, errOut strings.Builder
		code := run(context.Background(), args, stdio{strings.NewReader(""), &out, &errOut}, env(nil))
		assert.Equal(t, 2, code, "%v", args)
		msg := errOut.String()
		assert.Equal(t, 1, strings.Count(msg, "\n"), "one line: %q", msg)
		assert.Contains(t, msg, "skimmer-mcp --help lists them all")
		assert.NotContains(t, msg, "Usage:")
		assert.Empty(t, out.String())
	}
	var out, errOut strings.Builder
	code := run(context.Background(), []string{"--help"}, stdio{strings.NewReader(""), &out, &errOut}, env(nil))
	assert.Equal(t, 0, code)
	assert.Equal(t, 1, strings.Count(errOut.String(), "Usage:"))
	assert.Equal(t, 1, strings.Count(errOut.String(), "--transport ("))
}
