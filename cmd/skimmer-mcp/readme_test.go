package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readme returns the repository's README.md.
func readme(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	return string(raw)
}

// section returns the text of the README section under the heading
// "## title", up to the next one.
func section(t *testing.T, doc, title string) string {
	t.Helper()
	start := strings.Index(doc, "\n## "+title+"\n")
	require.GreaterOrEqual(t, start, 0, "README has no section %q", title)
	rest := doc[start+len(title)+5:]
	if end := strings.Index(rest, "\n## "); end >= 0 {
		rest = rest[:end]
	}
	return rest
}

func runTools(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut strings.Builder
	code := run(context.Background(), append([]string{"tools"}, args...), stdio{strings.NewReader(""), &out, &errOut}, env(nil))
	require.Equal(t, 0, code, errOut.String())
	return out.String()
}

// TestToolsListIsTheREADMEs: `skimmer-mcp tools` and the README's table
// name the same tools, each with the same kind.
func TestToolsListIsTheREADMEs(t *testing.T) {
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|.*\\| ([a-z, ]+) \\|$")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(section(t, readme(t), "Tools"), -1) {
		documented[m[1]] = m[2]
	}
	require.NotEmpty(t, documented, "the README's tool table")

	listed := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(runTools(t)), "\n") {
		fields := regexp.MustCompile(`\s{2,}`).Split(line, -1)
		require.Len(t, fields, 3, "name, kind, title: %q", line)
		listed[fields[0]] = fields[1]
	}
	assert.Equal(t, documented, listed)
}

// TestToolsJSON: what the bundle's manifest is built from.
func TestToolsJSON(t *testing.T) {
	var all, reads []struct{ Name, Title, Kind, Description string }
	require.NoError(t, json.Unmarshal([]byte(runTools(t, "--json")), &all))
	require.NoError(t, json.Unmarshal([]byte(runTools(t, "--json", "--read-only")), &reads))
	assert.Len(t, all, 11)
	assert.Len(t, reads, 5)
	for _, tool := range all {
		assert.NotEmpty(t, tool.Title, tool.Name)
		assert.NotEmpty(t, tool.Description, tool.Name)
		assert.Contains(t, []string{"read", "write", "write, overwrites", "write, destructive"}, tool.Kind, tool.Name)
	}
	for _, tool := range reads {
		assert.Equal(t, "read", tool.Kind, tool.Name)
	}
}

// TestREADMEDemoAnswer: the demo question in the README, run as printed,
// answers what the README shows (the sandbox's account is the same in
// every process, ids and all).
func TestREADMEDemoAnswer(t *testing.T) {
	text := section(t, readme(t), "Try it on demo data")
	blocks := regexp.MustCompile("(?s)```(\\w*)\n(.*?)```").FindAllStringSubmatch(text, -1)
	require.GreaterOrEqual(t, len(blocks), 2)
	require.Equal(t, "sh", blocks[0][1])
	command := strings.TrimSpace(blocks[0][2])
	m := regexp.MustCompile(`^skimmer-mcp (.*) '(\{.*\})'$`).FindStringSubmatch(command)
	require.NotNil(t, m, "the demo command: %q", command)
	args := append(strings.Fields(m[1]), m[2])

	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	require.NoError(t, err)
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := strings.Split(strings.TrimSpace(blocks[1][2]), "\n")
	require.Equal(t, "...", want[len(want)-1], "the README shows the first lines")
	want = want[:len(want)-1]
	require.GreaterOrEqual(t, len(got), len(want))
	assert.Equal(t, want, got[:len(want)])
}

// TestGoInstallPathIsTheModule: the README's go install line names this
// module's command, so that it installs what this repository builds.
func TestGoInstallPathIsTheModule(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	require.NoError(t, err)
	module := regexp.MustCompile(`(?m)^module (\S+)$`).FindSubmatch(mod)
	require.NotNil(t, module)
	m := regexp.MustCompile("go install (\\S+)@latest").FindStringSubmatch(section(t, readme(t), "Install"))
	require.NotNil(t, m, "the README's go install line")
	assert.Equal(t, string(module[1])+"/cmd/skimmer-mcp", m[1])
}

// TestConfigurationTableListsEveryFlag: the README's flag table and
// --help name the same flags.
func TestConfigurationTableListsEveryFlag(t *testing.T) {
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `--([a-z-]+)` \\|").FindAllStringSubmatch(section(t, readme(t), "Configuration"), -1) {
		documented[m[1]] = true
	}
	var out, errOut strings.Builder
	require.Equal(t, 0, run(context.Background(), []string{"--help"}, stdio{strings.NewReader(""), &out, &errOut}, env(nil)))
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  --([a-z-]+) \(`).FindAllStringSubmatch(errOut.String(), -1) {
		flags[m[1]] = true
	}
	require.NotEmpty(t, flags)
	assert.Equal(t, flags, documented)
}

// TestREADMEMakesSecretsOneWay: every secret the README has made is made
// with one command, the one the server's own sentences name.
func TestREADMEMakesSecretsOneWay(t *testing.T) {
	doc := readme(t)
	all := regexp.MustCompile("openssl rand[^`)]*").FindAllString(doc, -1)
	require.NotEmpty(t, all)
	for _, cmd := range all {
		assert.Equal(t, "openssl rand -hex 32", strings.TrimSpace(cmd))
	}
	assert.Equal(t, "`"+all[0]+"`", makeSecret)
	assert.NotContains(t, doc, readmeTokenPlaceholder, "the old placeholder, which the server now refuses")
}

// TestREADMEHostedCommand: Hosted mode's command, run as printed (on a
// free port), starts with a token made as the README makes it, logs the
// public URL to hand to people, and does not warn of a missing token.
func TestREADMEHostedCommand(t *testing.T) {
	text := section(t, readme(t), "Hosted mode")
	block := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(text)
	require.NotNil(t, block)
	lines := strings.Split(strings.TrimSpace(block[1]), "\n")
	require.Len(t, lines, 2)
	require.True(t, strings.HasPrefix(lines[0], "export SKIMMER_AUTH_TOKEN=$(openssl rand -hex 32)"), lines[0])
	fields := strings.Fields(lines[1])
	require.Equal(t, "skimmer-mcp", fields[0], "the installed binary, as everywhere else")
	args := fields[1:]
	for i, a := range args {
		if a == "0.0.0.0:8080" {
			args[i] = "0.0.0.0:0" // others use this machine
		}
	}
	_, base := upstreamSandbox(t)
	token := make([]byte, 32)
	for i := range token {
		token[i] = byte(i * 7)
	}
	p := start(t, []string{"SKIMMER_BASE_URL=" + base, "SKIMMER_AUTH_TOKEN=" + hex.EncodeToString(token)}, args...)
	assert.Equal(t, "https://mcp.example.com/mcp", p.waitURL(t))
	assert.NotContains(t, p.stderr.String(), "no auth token")
	p.stop(t)
}

// TestREADMEDemoForgetsUnlessKept: "each run starts from the seeded
// account; add --sandbox-data demo.json to keep changes".
func TestREADMEDemoForgetsUnlessKept(t *testing.T) {
	text := section(t, readme(t), "Try it on demo data")
	m := regexp.MustCompile("Each run starts from the seeded account.*?`(--sandbox-data ([^`]+))` to keep changes").FindStringSubmatch(text)
	require.NotNil(t, m, "the README says each run starts afresh, and how to keep changes")
	dir := t.TempDir()
	call := func(extra []string, args ...string) string {
		cmd := exec.Command(binary, append(append([]string{"--sandbox"}, extra...), args...)...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		out, err := cmd.Output()
		require.NoError(t, err, string(out))
		return string(out)
	}
	id := "e038264b5a98bf736cee2086178e31e6" // Emily Smith, as the README's demo answer shows
	note := `{"customerId":"` + id + `","type":"Call","title":"Asked about a heater","confirm":true}`
	list := `{"customerId":"` + id + `"}`
	for _, keep := range []bool{false, true} {
		var extra []string
		if keep {
			extra = strings.Fields(m[1])
		}
		assert.Contains(t, call(extra, "call", "create_customer_activity", note), "Logged Call")
		got := call(extra, "call", "list_customer_activities", list)
		assert.Equal(t, keep, strings.Contains(got, "Asked about a heater"), "kept with %v", extra)
	}
	_, err := os.Stat(filepath.Join(dir, m[2]))
	assert.NoError(t, err, "the file the README names")
}
