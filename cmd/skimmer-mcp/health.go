package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthTimeout bounds one health check: a container runtime runs it every
// few seconds and counts a hang as a failure anyway.
const healthTimeout = 5 * time.Second

// healthcheck asks the server that the same flags and environment describe
// for GET /healthz, from inside its own container: a minimal image has no
// curl. 0 when it answers "ok", 1 otherwise, saying why on stderr.
func healthcheck(ctx context.Context, c *config, io stdio) int {
	if c.transport == "stdio" {
		// A stdio server has no endpoint; it is alive while its process is.
		fmt.Fprintln(io.out, "skimmer-mcp: nothing to check: the transport is stdio")
		return 0
	}
	url, err := healthURL(c.addr)
	if err != nil {
		fmt.Fprintln(io.err, "skimmer-mcp: healthcheck:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	status, err := getHealth(ctx, url)
	if err != nil {
		fmt.Fprintf(io.err, "skimmer-mcp: healthcheck %s: %v\n", url, err)
		return 1
	}
	fmt.Fprintf(io.out, "skimmer-mcp: %s: %s\n", url, status)
	return 0
}

// healthURL is where a server listening on addr answers on this machine:
// an unspecified host (0.0.0.0, ::, none) is reached on loopback.
func healthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return "", fmt.Errorf("--addr %q names no fixed port to check", addr)
	}
	switch ip := net.ParseIP(host); {
	case host == "":
		host = "127.0.0.1"
	case ip != nil && ip.IsUnspecified() && ip.To4() != nil:
		host = "127.0.0.1"
	case ip != nil && ip.IsUnspecified():
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}

func getHealth(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct{ Status, Version string }
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.Status != "ok" {
		return "", fmt.Errorf("unexpected answer %.200q", raw)
	}
	return body.Status + " (version " + body.Version + ")", nil
}
