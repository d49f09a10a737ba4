package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTheLinkerDropsUnusedMethods: nothing in the binary executes a
// text/template or html/template. A template looks methods up by name
// at run time, and a binary that can do that keeps every exported method
// of every type that may sit in an interface (go-redis's hundreds of
// commands, protobuf's, the OpenTelemetry SDK's): when the sign-in page
// was an html/template, that was 10 MB of a 27 MB binary and 3 MB of idle
// RSS. Any other reflect.Value.MethodByName with a name not known at
// compile time does the same; `go build -ldflags=-dumpdep ./cmd/skimmer-mcp
// 2>&1 | grep ReflectMethod` names the culprit.
func TestTheLinkerDropsUnusedMethods(t *testing.T) {
	out, err := exec.Command("go", "tool", "nm", binary).Output()
	require.NoError(t, err)
	for _, line := range strings.Split(string(out), "\n") {
		require.False(t, strings.HasSuffix(line, " text/template.(*state).evalField"),
			"the binary executes a template: render with strings and html.EscapeString instead (see cmd/internal/oauth/page.go)")
	}
}
