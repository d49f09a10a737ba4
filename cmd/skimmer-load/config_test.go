package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want func(*testing.T, *config)
		err  string
	}{
		{"the documented run", []string{"--spawn", "--clients", "200", "--duration", "60s"}, func(t *testing.T, c *config) {
			assert.True(t, c.spawn)
			assert.Equal(t, 200, c.clients)
			assert.Equal(t, time.Minute, c.duration)
			assert.Equal(t, 5*time.Second, c.warmup)
			assert.Equal(t, "warn", c.serverLogLevel)
		}, ""},
		{"a spawned server on a shared store", []string{"--spawn", "--server-store", "redis://127.0.0.1:6379"}, func(t *testing.T, c *config) {
			assert.Equal(t, "redis://127.0.0.1:6379", c.serverStore)
		}, ""},
		{"a binary implies --spawn", []string{"--server", "/tmp/skimmer-mcp"}, func(t *testing.T, c *config) {
			assert.True(t, c.spawn)
			assert.Equal(t, "/tmp/skimmer-mcp", c.serverBin)
		}, ""},
		{"a running server", []string{"--url", "http://127.0.0.1:8080/mcp", "--debug-url", "http://127.0.0.1:6060/debug/vars", "--json"}, func(t *testing.T, c *config) {
			assert.False(t, c.spawn)
			assert.True(t, c.json)
		}, ""},
		{"no server", nil, nil, "give --url"},
		{"both", []string{"--spawn", "--url", "http://x/mcp"}, nil, "leave out --url"},
		{"a binary as an argument", []string{"--spawn", "/tmp/skimmer-mcp"}, nil, "goes in --server"},
		{"no clients", []string{"--spawn", "--clients", "0"}, nil, "--clients 0"},
		{"no time", []string{"--spawn", "--duration", "0s"}, nil, "--duration"},
		{"a negative margin", []string{"--spawn", "--leak-margin", "-1"}, nil, "cannot be negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, io.Discard)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			tt.want(t, c)
		})
	}
}

func TestRunExitCodes(t *testing.T) {
	var out, errb strings.Builder
	assert.Equal(t, 0, run(t.Context(), []string{"--help"}, &out, &errb))
	for _, name := range []string{"spawn", "server", "url", "debug-url", "clients", "duration", "warmup", "seed", "think", "json", "json-file", "leak-margin"} {
		assert.Contains(t, errb.String(), "-"+name)
	}
	errb.Reset()
	assert.Equal(t, 2, run(t.Context(), nil, &out, &errb))
	assert.Contains(t, errb.String(), "give --url")
	assert.Empty(t, out.String())
}

func TestServerLog(t *testing.T) {
	l := &serverLog{}
	l.read(strings.NewReader(strings.Join([]string{
		"skimmer-mcp: SANDBOX MODE: demo data from an emulated Skimmer account, not a real one.",
		`{"time":"t","level":"INFO","msg":"tool call"}`,
		`{"time":"t","level":"WARN","msg":"slow upstream"}`,
		`{"time":"t","level":"ERROR","msg":"tool panicked"}`,
		"not json at all",
	}, "\n")))
	warnings, errs, lines := l.counts()
	assert.Equal(t, 1, warnings)
	assert.Equal(t, 1, errs)
	assert.Equal(t, []string{`{"time":"t","level":"WARN","msg":"slow upstream"}`, `{"time":"t","level":"ERROR","msg":"tool panicked"}`}, lines)
	assert.True(t, strings.HasSuffix(l.tail(), "not json at all"))
	assert.True(t, strings.HasPrefix(l.tail(), "skimmer-mcp: SANDBOX MODE"))

	for range 2 * keepLines {
		l.add("noise")
	}
	assert.Equal(t, strings.TrimSuffix(strings.Repeat("noise\n", keepLines), "\n"), l.tail(), "only the last lines are kept")
}

func TestServerEnvDropsSkimmerSettings(t *testing.T) {
	got := serverEnv([]string{"PATH=/bin", "SKIMMER_CONFIRM=none", "HOME=/root", "SKIMMER_API_KEY=k"})
	assert.Equal(t, []string{"PATH=/bin", "HOME=/root"}, got)
}
