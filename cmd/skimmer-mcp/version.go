package main

import (
	"runtime/debug"
	"strings"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// resolveVersion settles what --version, /healthz, the MCP server info and
// the User-Agent say. A release build is stamped by -ldflags; a binary made
// by `go install …/cmd/skimmer-mcp@v1.2.3` is not, but carries its module's
// version in its build info (a pseudo-version for a commit, "(devel)" for a
// plain build in a checkout, which says nothing and is left out).
func resolveVersion(info func() (*debug.BuildInfo, bool)) {
	if skimmer.Version != skimmer.Unstamped {
		return
	}
	if bi, ok := info(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		skimmer.Version = strings.TrimPrefix(bi.Main.Version, "v")
	}
}
