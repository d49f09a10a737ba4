package main

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHealthURL(t *testing.T) {
	for addr, want := range map[string]string{
		"0.0.0.0:8080":   "http://127.0.0.1:8080/healthz",
		":8080":          "http://127.0.0.1:8080/healthz",
		"[::]:8080":      "http://[::1]:8080/healthz",
		"127.0.0.1:9":    "http://127.0.0.1:9/healthz",
		"localhost:8080": "http://localhost:8080/healthz",
		"10.1.2.3:8080":  "http://10.1.2.3:8080/healthz",
	} {
		got, err := healthURL(addr)
		require.NoError(t, err, addr)
		assert.Equal(t, want, got, addr)
	}
	for _, addr := range []string{"127.0.0.1:0", "8080", ""} {
		_, err := healthURL(addr)
		assert.ErrorContains(t, err, "names no fixed port", addr)
	}
}

// TestHealthcheckCommand: the container's health check, against a real
// server, a port nobody serves, and stdio.
func TestHealthcheckCommand(t *testing.T) {
	check := func(vars map[string]string, args ...string) (int, string, string) {
		var out, errOut strings.Builder
		code := run(context.Background(), append(args, "healthcheck"), stdio{strings.NewReader(""), &out, &errOut}, env(vars))
		return code, out.String(), errOut.String()
	}

	p := start(t, nil, "--sandbox", "--transport", "http", "--addr", "127.0.0.1:0", "--log-format", "json")
	u, err := url.Parse(p.waitURL(t))
	require.NoError(t, err)
	code, out, errOut := check(map[string]string{"SKIMMER_TRANSPORT": "http", "SKIMMER_ADDR": "0.0.0.0:" + u.Port()})
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "ok (version ")

	// A port nobody serves: take one, then let it go.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	free := ln.Addr().String()
	ln.Close()
	code, _, errOut = check(nil, "--transport", "http", "--addr", free)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "connection refused")

	code, out, _ = check(nil)
	assert.Equal(t, 0, code, "stdio has nothing to check")
	assert.Contains(t, out, "transport is stdio")
}
