// Command skimmer-mcp serves Skimmer's customers and activity logs to AI
// agents over MCP: stdio for Claude Desktop, Claude Code and IDE agents,
// SSE and streamable HTTP for a hosted endpoint that many callers share,
// each with its own Skimmer key.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/logging"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

func main() {
	resolveVersion(debug.ReadBuildInfo)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr}, os.Getenv)
	stop()
	os.Exit(code)
}

type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, io stdio, getenv func(string) string) int {
	c, err := parseConfig(args, getenv, io.err)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(io.err, "skimmer-mcp:", err)
		return 2
	}
	if c.version {
		fmt.Fprintf(io.out, "skimmer-mcp %s (%s, %s/%s)\n", skimmer.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	}
	if c.sandbox {
		// First, before any log line: nobody should mistake this for a real account.
		fmt.Fprintln(io.err, "skimmer-mcp: SANDBOX MODE: demo data from an emulated Skimmer account, not a real one.")
		if c.apiKey != "" {
			fmt.Fprintln(io.err, "skimmer-mcp: SKIMMER_API_KEY is not used: the sandbox takes no real key.")
		}
	}
	if c.command == "call" && !c.set["log-level"] {
		c.logLevel = "warn" // the answer is the output; the call's log line is noise
	}
	log, err := logging.New(io.err, c.logFormat, c.logLevel)
	if err != nil {
		fmt.Fprintln(io.err, "skimmer-mcp:", err)
		return 2
	}
	switch c.command {
	case "tools":
		return listTools(c, io)
	case "healthcheck":
		return healthcheck(ctx, c, io)
	}
	// Before anything starts: stdio and call make every call with the
	// server's key. Hosted callers bring their own; the sandbox needs none.
	if c.apiKey == "" && !c.sandbox && (c.command == "call" || c.transport == "stdio") {
		fmt.Fprintln(io.err, "skimmer-mcp: SKIMMER_API_KEY is not set: export your Skimmer API key, or add --sandbox to try the demo data")
		return 2
	}
	if c.debugAddr != "" {
		stopDebug, err := serveDebug(c.debugAddr, log)
		if err != nil {
			fmt.Fprintln(io.err, "skimmer-mcp:", err)
			return 2
		}
		defer stopDebug()
	}
	// Before anything dials: a store may use TLS, and Skimmer does.
	if useBundledRoots(runtime.GOOS) {
		log.Debug("TLS roots: the system may have none, so the binary's own bundle is the fallback")
	}
	up, err := startUpstream(ctx, c, log)
	if err != nil {
		fmt.Fprintln(io.err, "skimmer-mcp:", err)
		return 2
	}
	defer up.stop()
	if c.command == "call" {
		return callTool(ctx, c, up, log, io)
	}
	switch c.transport {
	case "stdio":
		err = serveStdio(ctx, c, up, log, io)
	default:
		err = serveHTTP(ctx, c, up, log)
	}
	var notStarted startError
	switch {
	case errors.As(err, &notStarted):
		// Before serving, every reason to stop is one sentence, as for a
		// setting refused above: one format for everything that keeps the
		// server from starting.
		fmt.Fprintln(io.err, "skimmer-mcp:", err)
		return 2
	case err != nil:
		log.Error("stopped", "err", err)
		return 1
	}
	return 0
}
