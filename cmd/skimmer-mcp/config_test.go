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

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/oauth"
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
		{[]string{"--confirm", "maybe"}, nil, `--confirm "maybe": use elicit (ask the person in a dialog where the app can), flag (the model shows the preview and asks) or none (apply at once)`},
		{nil, map[string]string{"SKIMMER_CONFIRM": "ask"}, `SKIMMER_CONFIRM="ask": use elicit`},
		{nil, map[string]string{"SKIMMER_TRANSPORT": "https"}, `SKIMMER_TRANSPORT="https": use stdio, sse or http`},
		{nil, map[string]string{"SKIMMER_OAUTH": "true", "SKIMMER_TRANSPORT": "sse"}, "SKIMMER_OAUTH needs SKIMMER_TRANSPORT=http"},
		{nil, map[string]string{"SKIMMER_STORE": "localhost:6379"}, "SKIMMER_STORE: use redis://host:6379"},
		{[]string{"--store", "http://localhost"}, nil, `--store: scheme "http": use redis://`},
		{nil, map[string]string{"SKIMMER_PUBLIC_URL": "http://mcp.example.com"}, `SKIMMER_PUBLIC_URL="http://mcp.example.com": use https`},
		// Values a flag cannot take: what it takes, the flag as typed.
		{[]string{"--read-only=yes"}, nil, `--read-only "yes": use true or false`},
		{nil, map[string]string{"SKIMMER_READ_ONLY": "yes"}, `SKIMMER_READ_ONLY="yes": use true or false`},
		{nil, map[string]string{"SKIMMER_TIMEOUT": "30"}, `SKIMMER_TIMEOUT="30": use a duration such as 30s, 5m or 1h`},
		{[]string{"--max-body", "1MB"}, nil, `--max-body "1MB": use a whole number, such as 1048576`},
		{[]string{"--frobnicate"}, nil, "unknown flag --frobnicate (skimmer-mcp --help lists them all)"},
		{[]string{"--addr"}, nil, "--addr needs a value (skimmer-mcp --help lists them all)"},
		{[]string{"frobnicate"}, nil, `unknown command "frobnicate"`},
		{nil, map[string]string{"SKIMMER_TIMEOUT": "soon"}, `SKIMMER_TIMEOUT="soon"`},
		{nil, map[string]string{"SKIMMER_READ_ONLY": "perhaps"}, "SKIMMER_READ_ONLY"},
		{[]string{"--addr", "8080"}, nil, "use host:port"},
		{[]string{"--max-body", "10"}, nil, "at least 1024 bytes"},
		{[]string{"--max-sessions", "0"}, nil, "--max-sessions 0: allow at least 1"},
		{nil, map[string]string{"SKIMMER_MAX_STREAMS_PER_KEY": "-1"}, `SKIMMER_MAX_STREAMS_PER_KEY="-1": allow at least 1`},
		{[]string{"--session-idle", "10ms"}, nil, "--session-idle 10ms: allow at least 1s"},
		{[]string{"--body-timeout", "0s"}, nil, "--body-timeout 0s: allow at least 1s"},
		{nil, map[string]string{"SKIMMER_API_KEY": "short"}, "SKIMMER_API_KEY: the key is 5 characters long; Skimmer keys are longer: paste the whole key"},
		{[]string{"--oauth"}, nil, "--oauth needs --transport http"},
		{[]string{"--oauth", "--transport", "sse"}, nil, "--oauth needs --transport http"},
		{[]string{"--oauth", "--transport", "http", "--addr", "0.0.0.0:8080"}, map[string]string{"SKIMMER_OAUTH_KEY": strings.Repeat("k", 44)}, "needs --public-url"},
		{[]string{"--oauth", "--transport", "http", "--addr", "0.0.0.0:8080", "--public-url", "https://mcp.example.com"}, nil, "needs SKIMMER_OAUTH_KEY"},
		{[]string{"--oauth", "--transport", "http", "--public-url", "http://mcp.example.com"}, nil, "use https"},
		{[]string{"--oauth", "--transport", "http", "--public-url", "https://mcp.example.com/mcp"}, nil, "origin only"},
		{[]string{"--oauth", "--transport", "http", "--oauth-access-ttl", "0s"}, nil, "between 1s and 24h"},
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
		up, err := startUpstream(context.Background(), c, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		res, err := up.client.SearchCustomers(context.Background(), sieve.Query{Page: 1, PageSize: 1})
		up.stop()
		require.NoError(t, err)
		assert.Equal(t, tt.want, res.Total, "--sandbox-customers %s", tt.customers)
	}
}

// TestCredentials: which credential a request acts with, and the
// combinations that are refused rather than guessed at.
func TestCredentials(t *testing.T) {
	as, err := oauth.New(oauth.Config{Issuer: "https://mcp.example.com", Key: strings.Repeat("k", 32), Store: mustStore(t),
		CheckKey: func(context.Context, string) error { return nil }})
	require.NoError(t, err)
	tests := []struct {
		name      string
		token     string
		serverKey string
		oauth     bool
		headers   map[string]string
		want      string
		status    int // of the refusal, when want is ""
		says      string
		server    bool // the server-wide key, not one the caller sent
	}{
		{"own key header", "", "", false, map[string]string{"skimmer-api-key": "own"}, "own", 0, "", false},
		{"x-api-key, Claude's header name", "", "", false, map[string]string{"x-api-key": "own"}, "own", 0, "", false},
		{"both headers, one key", "", "", false, map[string]string{"skimmer-api-key": "own", "x-api-key": "own"}, "own", 0, "", false},
		{"both headers, two keys", "", "", false, map[string]string{"skimmer-api-key": "own", "x-api-key": "other"}, "", 400, "different keys", false},
		{"own key as bearer", "", "", false, map[string]string{"Authorization": "Bearer own"}, "own", 0, "", false},
		{"header and bearer agree", "", "", false, map[string]string{"Authorization": "Bearer own", "skimmer-api-key": "own"}, "own", 0, "", false},
		{"header and bearer disagree", "", "", false, map[string]string{"Authorization": "Bearer one", "x-api-key": "two"}, "", 400, "send one of them", false},
		{"nothing", "", "", false, nil, "", 401, "skimmer-api-key", false},
		{"server key on loopback", "", "srv", false, nil, "srv", 0, "", true},
		{"own key beats server key", "", "srv", false, map[string]string{"skimmer-api-key": "own"}, "own", 0, "", false},
		{"the server's key sent as one's own", "", "srv", false, map[string]string{"skimmer-api-key": "srv"}, "srv", 0, "", false},
		{"token, server key", "tok", "srv", false, map[string]string{"Authorization": "Bearer tok"}, "srv", 0, "", true},
		{"token, own key", "tok", "srv", false, map[string]string{"Authorization": "bearer tok", "skimmer-api-key": "own"}, "own", 0, "", false},
		{"token, x-api-key", "tok", "srv", false, map[string]string{"Authorization": "bearer tok", "x-api-key": "own"}, "own", 0, "", false},
		{"token missing", "tok", "srv", false, map[string]string{"skimmer-api-key": "own"}, "", 401, "this server needs its team auth token: send it as Authorization: Bearer <token> (ask whoever runs the server for it)", false},
		{"token wrong", "tok", "srv", false, map[string]string{"Authorization": "Bearer tik"}, "", 401, "that is not this server's auth token: ask whoever runs the server for the right one", false},
		{"a Skimmer key where the token goes", "tok", "", false, map[string]string{"Authorization": "Bearer sk_live_0123456789"}, "", 401, "your Skimmer key goes in the skimmer-api-key header", false},
		{"token, no key anywhere", "tok", "", false, map[string]string{"Authorization": "Bearer tok"}, "", 401, "skimmer-api-key", false},
		{"oauth: nothing sent asks to sign in", "", "srv", true, nil, "", 401, "sign in", false},
		{"oauth: a key header still works", "", "", true, map[string]string{"x-api-key": "own"}, "own", 0, "", false},
		{"oauth: a bad access token", "", "", true, map[string]string{"Authorization": "Bearer smcp_at_forged"}, "", 401, "not valid", false},
		{"oauth: an access token and a key header", "", "", true, map[string]string{"Authorization": "Bearer smcp_at_forged", "skimmer-api-key": "own"}, "", 400, "send one of them", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGate(&config{authToken: tt.token, maxBody: 1 << 20}, tt.serverKey)
			defer g.sessions.close()
			if tt.oauth {
				g.oauth = as
			}
			r := httptest.NewRequest("POST", "/mcp", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			got, no := g.credentials(r)
			assert.Equal(t, tt.want, got.key)
			assert.Equal(t, tt.server, got.server, "whether it is the server's key")
			if tt.want != "" {
				assert.Nil(t, no)
				return
			}
			require.NotNil(t, no)
			assert.Equal(t, tt.status, no.status)
			assert.Contains(t, no.why, tt.says)
			if tt.status == 401 {
				assert.NotEmpty(t, no.challenge)
			}
			if tt.oauth && tt.status == 401 {
				assert.Contains(t, no.challenge, `resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`)
			}
		})
	}
}

func mustStore(t *testing.T) *oauth.MemoryStore {
	s, err := oauth.NewMemoryStore("", nil)
	require.NoError(t, err)
	return s
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
	for _, v := range []string{"SKIMMER_API_KEY", "SKIMMER_CONFIRM_KEY", "SKIMMER_BASE_URL", "SKIMMER_AUTH_TOKEN", "SKIMMER_OAUTH_KEY", "SKIMMER_OAUTH_KEY_PREVIOUS"} {
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

// TestBadFlagIsSaidOnce: the error once, with where to look (or, for a
// value, what it takes), and not the whole usage; --help prints the usage
// once.
func TestBadFlagIsSaidOnce(t *testing.T) {
	for args, says := range map[*[]string]string{
		{"--bogus"}:                "unknown flag --bogus (skimmer-mcp --help lists them all)",
		{"tools", "--bogus"}:       "unknown flag --bogus (skimmer-mcp --help lists them all)",
		{"--sandbox-seed", "many"}: `--sandbox-seed "many": use a whole number, such as 1`,
	} {
		var out, errOut strings.Builder
		code := run(context.Background(), *args, stdio{strings.NewReader(""), &out, &errOut}, env(nil))
		assert.Equal(t, 2, code, "%v", *args)
		msg := errOut.String()
		assert.Equal(t, 1, strings.Count(msg, "\n"), "one line: %q", msg)
		assert.Equal(t, "skimmer-mcp: "+says+"\n", msg)
		assert.NotContains(t, msg, "Usage:")
		assert.Empty(t, out.String())
	}
	var out, errOut strings.Builder
	code := run(context.Background(), []string{"--help"}, stdio{strings.NewReader(""), &out, &errOut}, env(nil))
	assert.Equal(t, 0, code)
	assert.Equal(t, 1, strings.Count(errOut.String(), "Usage:"))
	assert.Equal(t, 1, strings.Count(errOut.String(), "--transport ("))
}

// TestSandboxIgnoresTheKey: the demo account takes no real key, so
// whatever SKIMMER_API_KEY holds (the bundle's Demo data setting still has
// a required key field) neither stops the server nor reaches anything.
func TestSandboxIgnoresTheKey(t *testing.T) {
	var out, errOut strings.Builder
	code := run(context.Background(), []string{"--sandbox", "call", "search_customers", `{"text":"smith"}`},
		stdio{strings.NewReader(""), &out, &errOut}, env(map[string]string{"SKIMMER_API_KEY": "any"}))
	assert.Equal(t, 0, code, errOut.String())
	assert.Contains(t, out.String(), "customers match")
	assert.Contains(t, errOut.String(), "SKIMMER_API_KEY is not used")

	_, err := parseConfig(nil, env(map[string]string{"SKIMMER_API_KEY": "any"}), io.Discard)
	assert.ErrorContains(t, err, "Skimmer keys are longer", "outside the sandbox the key is judged")
}
