package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSharedSecretsFollowOneRule: the confirm key is held to the OAuth
// key's rule. Set, it is long enough; a hosted server with --store on an
// open address does not start without it (its replicas could not confirm
// each other's writes), and says how to make one; on loopback it warns.
// The test setting that lets metadata documents come from loopback is
// refused anywhere else, and said aloud where it is on.
func TestSharedSecretsFollowOneRule(t *testing.T) {
	goodKey := strings.Repeat("c", 32)
	tests := []struct {
		args []string
		env  map[string]string
		want string // "" when it starts
	}{
		{nil, map[string]string{"SKIMMER_CONFIRM_KEY": "short"}, "SKIMMER_CONFIRM_KEY is 5 characters long; use at least 32 random characters, made with `openssl rand -hex 32`"},
		{[]string{"--transport", "http", "--oauth"}, map[string]string{"SKIMMER_OAUTH_KEY": "too-short"},
			"SKIMMER_OAUTH_KEY is 9 characters long; use at least 32 random characters, made with `openssl rand -hex 32`"},
		{[]string{"--transport", "http", "--oauth"}, map[string]string{"SKIMMER_OAUTH_KEY": goodKey, "SKIMMER_OAUTH_KEY_PREVIOUS": "old"},
			"SKIMMER_OAUTH_KEY_PREVIOUS is 3 characters long; use at least 32 random characters, made with `openssl rand -hex 32`"},
		// The auth token: the README's old placeholder and short ones are
		// refused, named as they were given; an unused one is not judged.
		{[]string{"--transport", "http"}, map[string]string{"SKIMMER_AUTH_TOKEN": "replace-with-a-long-random-string"},
			"SKIMMER_AUTH_TOKEN is the README's example, not a token: make one with `openssl rand -hex 32`, and give it to the people who use this server"},
		{[]string{"--transport", "sse", "--auth-token", "abc"}, nil,
			"--auth-token is 3 characters long; use at least 32 random characters, made with `openssl rand -hex 32`: a short one can be guessed"},
		{[]string{"--transport", "http"}, map[string]string{"SKIMMER_AUTH_TOKEN": strings.Repeat("t", 31)},
			"SKIMMER_AUTH_TOKEN is 31 characters long; use at least 32 random characters, made with `openssl rand -hex 32`: a short one can be guessed"},
		{[]string{"--transport", "http"}, map[string]string{"SKIMMER_AUTH_TOKEN": strings.Repeat("t", 32)}, ""},
		{nil, map[string]string{"SKIMMER_AUTH_TOKEN": "abc"}, ""}, // stdio has no use for it
		{[]string{"--transport", "http", "--addr", "0.0.0.0:8080", "--store", "redis://localhost:6379"}, nil,
			"--store on 0.0.0.0:8080 needs SKIMMER_CONFIRM_KEY, the same on every replica: it seals confirmations, and one sealed by one replica is refused by another under a different key; make one with `openssl rand -hex 32`"},
		{[]string{"--transport", "sse", "--addr", "10.0.0.5:8080", "--store", "redis://localhost:6379"}, nil,
			"--store on 10.0.0.5:8080 needs SKIMMER_CONFIRM_KEY, the same on every replica: it seals confirmations, and one sealed by one replica is refused by another under a different key; make one with `openssl rand -hex 32`"},
		{[]string{"--transport", "http", "--addr", "0.0.0.0:8080", "--store", "redis://localhost:6379"}, map[string]string{"SKIMMER_CONFIRM_KEY": goodKey}, ""},
		{[]string{"--transport", "http", "--addr", "127.0.0.1:8080", "--store", "redis://localhost:6379"}, nil, ""},
		{[]string{"--store", "redis://localhost:6379"}, nil, ""}, // stdio: one process, its own confirmations
		{[]string{"--transport", "http", "--addr", "0.0.0.0:8080", "--store", "memory"}, nil, ""},
		{[]string{"--transport", "http", "--oauth", "--addr", "0.0.0.0:8080", "--public-url", "https://mcp.example.com"},
			map[string]string{"SKIMMER_OAUTH_KEY": strings.Repeat("k", 44), "SKIMMER_OAUTH_TEST_LOOPBACK_METADATA": "1"},
			"SKIMMER_OAUTH_TEST_LOOPBACK_METADATA=1 lets sign-in fetch client metadata documents from this machine's own addresses, for tests; it is refused on 0.0.0.0:8080: unset it, or listen on loopback"},
		{[]string{"--transport", "http", "--oauth"}, map[string]string{"SKIMMER_OAUTH_TEST_LOOPBACK_METADATA": "1"}, ""},
	}
	for _, tt := range tests {
		_, err := parseConfig(tt.args, env(tt.env), io.Discard)
		if tt.want == "" {
			assert.NoError(t, err, "%v %v", tt.args, tt.env)
		} else {
			assert.EqualError(t, err, tt.want, "%v %v", tt.args, tt.env)
		}
	}

	logs := &strings.Builder{}
	c, err := parseConfig([]string{"--sandbox", "--transport", "http", "--oauth", "--addr", "127.0.0.1:0"}, env(map[string]string{"SKIMMER_OAUTH_TEST_LOOPBACK_METADATA": "1"}), io.Discard)
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(logs, nil))
	up, err := startUpstream(t.Context(), c, log)
	require.NoError(t, err)
	defer up.stop()
	_, err = newOAuth(c, up, log, "127.0.0.1:8080")
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "SKIMMER_OAUTH_TEST_LOOPBACK_METADATA=1: client metadata documents may be fetched from this machine's own addresses; for tests only")
}
