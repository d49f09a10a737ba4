package main

import (
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

func TestResolveVersion(t *testing.T) {
	info := func(v string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Main: debug.Module{Version: v}}, true }
	}
	for _, tt := range []struct{ stamped, module, want string }{
		{skimmer.Unstamped, "v1.2.3", "1.2.3"},
		{skimmer.Unstamped, "v0.0.0-20261202055000-a4b8593c0ffe", "0.0.0-20261202055000-a4b8593c0ffe"},
		{skimmer.Unstamped, "(devel)", skimmer.Unstamped},
		{skimmer.Unstamped, "", skimmer.Unstamped},
		{"2.0.0", "v1.2.3", "2.0.0"}, // the release stamp wins
	} {
		old := skimmer.Version
		skimmer.Version = tt.stamped
		resolveVersion(info(tt.module))
		got := skimmer.Version
		skimmer.Version = old
		assert.Equal(t, tt.want, got, "%+v", tt)
	}
}

// TestVersionIsStamped: a binary built as the release configuration builds
// it says the stamped version.
func TestVersionIsStamped(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "skimmer-mcp")
	build := exec.Command("go", "build", "-ldflags", "-X github.com/skimmer-mcp/skimmer-mcp/skimmer.Version=9.8.7-test", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	out, err = exec.Command(bin, "--version").Output()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(out), "skimmer-mcp 9.8.7-test (go"), "%q", out)
}
