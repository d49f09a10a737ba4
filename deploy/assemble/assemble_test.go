package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The repository's files, from this package's folder.
const (
	manifestTemplate = "../mcpb/manifest.json"
	launcher         = "../mcpb/launch.sh"
	serverTemplate   = "../server.json"
	schemaFile       = "../server.schema.json"
	dockerfile       = "../container/Dockerfile"
	license          = "../../LICENSE"
)

// server is skimmer-mcp built for this machine, once for the package.
var server string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "assemble-test")
	if err != nil {
		panic(err)
	}
	server = filepath.Join(dir, "skimmer-mcp")
	if out, err := exec.Command("go", "build", "-o", server, "../../cmd/skimmer-mcp").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building skimmer-mcp: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestServerJSONTemplateIsValid(t *testing.T) {
	raw, err := os.ReadFile(serverTemplate)
	require.NoError(t, err)
	require.NoError(t, checkServerJSON(raw, schemaFile))
}

func TestServerJSONForARelease(t *testing.T) {
	raw, err := os.ReadFile(serverTemplate)
	require.NoError(t, err)
	sha := strings.Repeat("ab", 32)
	filled, err := fillServerJSON(raw, "1.4.2", sha)
	require.NoError(t, err)
	require.NoError(t, checkServerJSON(filled, schemaFile))
	assert.NotContains(t, string(filled), templateVersion)

	var e struct {
		Version  string
		Packages []struct{ RegistryType, Identifier, FileSHA256 string }
	}
	require.NoError(t, json.Unmarshal(filled, &e))
	assert.Equal(t, "1.4.2", e.Version)
	ids := map[string]string{}
	for _, p := range e.Packages {
		ids[p.RegistryType] = p.Identifier
		if p.RegistryType == "mcpb" {
			assert.Equal(t, sha, p.FileSHA256)
		}
	}
	assert.Equal(t, "ghcr.io/skimmer-mcp/skimmer-mcp:1.4.2", ids["oci"])
	assert.Equal(t, "https://github.com/skimmer-mcp/skimmer-mcp/releases/download/v1.4.2/skimmer-mcp_1.4.2.mcpb", ids["mcpb"])

	_, err = fillServerJSON(raw, "1.4.2+snapshot", sha)
	assert.ErrorContains(t, err, "not a release version")
}

// TestServerJSONRefusals: the checks can fail, each on its own rule.
func TestServerJSONRefusals(t *testing.T) {
	raw, err := os.ReadFile(serverTemplate)
	require.NoError(t, err)
	for _, tt := range []struct{ from, to, want string }{
		{`"description": "Skimmer pool-service`, `"description": "` + strings.Repeat("x", 101) + ` Skimmer pool-service`, "maxLength"},
		{`"name": "io.github.skimmer-mcp/skimmer-mcp"`, `"name": "skimmer-mcp"`, "does not follow the registry schema"},
		{`"isRequired": false,
          "isSecret": true
        }
      ]
    }
  ]`, `"isRequired": false
        }
      ]
    }
  ]`, "mark it isSecret"},
		{`"url": "https://{host}/mcp"`, `"url": "https://{tenant}.example.com/mcp"`, "{tenant} is not among its variables"},
		{`"url": "https://{host}/mcp"`, `"url": "http://{host}/mcp"`, "https URLs"},
		{`ghcr.io/skimmer-mcp/skimmer-mcp:0.0.0`, `ghcr.io/skimmer-mcp/skimmer-mcp:latest`, "tag it with the entry's version"},
		{`https://github.com/skimmer-mcp/skimmer-mcp/releases/download`, `https://example.com/skimmer-mcp/skimmer-mcp/releases/download`, "GitHub (or GitLab) release downloads"},
		{`"$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"`, `"$schema": "https://static.modelcontextprotocol.io/schemas/2025-10-17/server.schema.json"`, "the schema in this repository"},
	} {
		require.Contains(t, string(raw), tt.from)
		broken := strings.Replace(string(raw), tt.from, tt.to, 1)
		assert.ErrorContains(t, checkServerJSON([]byte(broken), schemaFile), tt.want, "%s → %s", tt.from, tt.to)
	}
}

// TestOneNameEverywhere: the registry checks that an image carries the
// server's name in its io.modelcontextprotocol.server.name label.
func TestOneNameEverywhere(t *testing.T) {
	var entry struct{ Name string }
	require.NoError(t, readJSON(serverTemplate, &entry))
	docker, err := os.ReadFile(dockerfile)
	require.NoError(t, err)
	m := regexp.MustCompile(`io\.modelcontextprotocol\.server\.name="([^"]+)"`).FindSubmatch(docker)
	require.NotNil(t, m, "the Dockerfile's label")
	assert.Equal(t, entry.Name, string(m[1]))
}

// TestDockerfileCopiesEverySourceFolder: the image's source stage copies
// the folders it needs by name, for the server and for the sandbox target;
// a package added elsewhere would break it.
func TestDockerfileCopiesEverySourceFolder(t *testing.T) {
	docker, err := os.ReadFile(dockerfile)
	require.NoError(t, err)
	copied := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^COPY (\w+) \./\w+$`).FindAllSubmatch(docker, -1) {
		copied[string(m[1])] = true
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.ImportPath}}{{end}}{{end}}", "../../cmd/skimmer-mcp", "../../cmd/skimmer-sandbox").Output()
	require.NoError(t, err)
	const module = "github.com/skimmer-mcp/skimmer-mcp/"
	for _, pkg := range strings.Fields(string(out)) {
		top, _, _ := strings.Cut(strings.TrimPrefix(pkg, module), "/")
		assert.True(t, copied[top], "%s is in %s/, which the Dockerfile does not copy", pkg, top)
	}
}

// TestManifestTemplate: what the bundle's settings set is what the server
// reads, and every setting is used.
func TestManifestTemplate(t *testing.T) {
	var m struct {
		Server struct {
			MCPConfig struct {
				Env map[string]string `json:"env"`
			} `json:"mcp_config"`
		} `json:"server"`
		UserConfig map[string]struct {
			Type      string `json:"type"`
			Sensitive bool   `json:"sensitive"`
			Required  bool   `json:"required"`
			Default   any    `json:"default"`
		} `json:"user_config"`
	}
	require.NoError(t, readJSON(manifestTemplate, &m))
	help, _ := exec.Command(server, "--help").CombinedOutput()
	used := map[string]bool{}
	for name, value := range m.Server.MCPConfig.Env {
		if name != "SKIMMER_API_KEY" {
			assert.Contains(t, string(help), "(env "+name+",", "%s is no flag's twin", name)
		}
		key, ok := strings.CutPrefix(value, "${user_config.")
		require.True(t, ok, "%s=%s", name, value)
		key = strings.TrimSuffix(key, "}")
		require.Contains(t, m.UserConfig, key, "%s=%s", name, value)
		used[key] = true
	}
	for key, c := range m.UserConfig {
		assert.True(t, used[key], "the setting %s reaches no variable", key)
		// Claude Desktop leaves ${user_config.x} as it is when x has no
		// value: every optional setting needs a default.
		assert.True(t, c.Required || c.Default != nil, "%s is optional with no default", key)
	}
	// Prompts: a manifest's prompt is a static text with ${arguments.x}
	// filled in, which cannot say what the server's prompts say (their
	// words follow which arguments are given and the confirm policy), so
	// none is listed, and the manifest says the server offers them.
	var flags struct {
		Prompts          []any `json:"prompts"`
		PromptsGenerated *bool `json:"prompts_generated"`
		ToolsGenerated   *bool `json:"tools_generated"`
	}
	require.NoError(t, readJSON(manifestTemplate, &flags))
	assert.Empty(t, flags.Prompts)
	require.NotNil(t, flags.PromptsGenerated)
	assert.True(t, *flags.PromptsGenerated, "the server offers prompts at run time")
	require.NotNil(t, flags.ToolsGenerated)
	assert.False(t, *flags.ToolsGenerated, "every tool is in the list; the settings only take some away")

	assert.True(t, m.UserConfig["api_key"].Sensitive, "the key is masked and kept securely")
	assert.True(t, m.UserConfig["api_key"].Required)

	// No setting can turn confirmation off: the server's default (ask in
	// a dialog where Claude can, else the preview in the chat) is the one
	// an office gets. A read-only setting the server takes is read only.
	assert.NotContains(t, m.Server.MCPConfig.Env, "SKIMMER_CONFIRM", "the bundle offers no way to apply changes unconfirmed")
	cmd := exec.Command(server, "tools")
	cmd.Env = []string{"SKIMMER_READ_ONLY=true"}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, 5, strings.Count(strings.TrimSpace(string(out)), "\n")+1, "read only, as the bundle's setting says:\n%s", out)
}

func TestFillManifest(t *testing.T) {
	raw, err := os.ReadFile(manifestTemplate)
	require.NoError(t, err)
	tools := []manifestTool{{"a_tool", "Does a."}, {"b_tool", "Does b."}}
	filled, err := fillManifest(raw, "1.2.3", tools)
	require.NoError(t, err)
	var m struct {
		Version string
		Tools   []manifestTool
	}
	require.NoError(t, json.Unmarshal(filled, &m))
	assert.Equal(t, "1.2.3", m.Version)
	assert.Equal(t, tools, m.Tools)

	_, err = fillManifest([]byte(`{"version": "0.0.0", "tools": [], "more": {"tools": []}}`), "1", tools)
	assert.ErrorContains(t, err, "appears 2 times")
}

// fakeDist lays out what GoReleaser leaves in dist/: this machine's real
// binary, and stand-ins for the others.
func fakeDist(t *testing.T, version string) string {
	t.Helper()
	root := t.TempDir()
	dist := filepath.Join(root, "dist")
	var arts []artifact
	host := runtime.GOOS + "/" + runtime.GOARCH
	for _, p := range []string{"darwin/amd64", "darwin/arm64", "darwin/all", "linux/amd64", "linux/arm64", "windows/amd64"} {
		goos, goarch, _ := strings.Cut(p, "/")
		name := "skimmer-mcp"
		if goos == "windows" {
			name += ".exe"
		}
		rel := filepath.Join("dist", "skimmer-mcp_"+goos+"_"+goarch, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, rel)), 0o755))
		if p == host || (runtime.GOOS == "darwin" && p == "darwin/all") {
			require.NoError(t, copyFile(server, filepath.Join(root, rel), 0o755))
		} else {
			require.NoError(t, os.WriteFile(filepath.Join(root, rel), []byte("stand-in for "+p), 0o755))
		}
		arts = append(arts, artifact{Name: name, Path: rel, Goos: goos, Goarch: goarch, Type: "Binary"})
	}
	arts = append(arts, artifact{Name: "checksums.txt", Path: "dist/checksums.txt", Type: "Checksum"})
	writeJSON(t, filepath.Join(dist, "artifacts.json"), arts)
	writeJSON(t, filepath.Join(dist, "metadata.json"), map[string]string{"project_name": "skimmer-mcp", "version": version})
	return dist
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, raw, 0o644))
}

func TestAssembleBundle(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("the bundle is assembled on Linux or macOS") // CI runs on Linux
	}
	dist := fakeDist(t, "2.0.1")
	out := filepath.Join(t.TempDir(), "bundle")
	b, err := assembleBundle(bundleInputs{Dist: dist, Template: manifestTemplate, Launcher: launcher, License: license}, out)
	require.NoError(t, err)
	assert.Equal(t, "2.0.1", b.Version)

	// The tools are the binary's own.
	raw, err := exec.Command(server, "tools", "--json").Output()
	require.NoError(t, err)
	var listed []manifestTool
	require.NoError(t, json.Unmarshal(raw, &listed))
	var m struct {
		Version string
		Tools   []manifestTool
	}
	require.NoError(t, readJSON(filepath.Join(out, "manifest.json"), &m))
	assert.Equal(t, "2.0.1", m.Version)
	assert.Equal(t, listed, m.Tools)
	assert.Len(t, m.Tools, 11)

	for _, f := range []string{"server/darwin/skimmer-mcp", "server/win32/skimmer-mcp.exe", "server/linux/amd64/skimmer-mcp",
		"server/linux/arm64/skimmer-mcp", "server/linux/launch.sh", "LICENSE", "icon.png"} {
		assert.FileExists(t, filepath.Join(out, f))
	}

	// A template that starts a file the bundle lacks is refused.
	broken := filepath.Join(t.TempDir(), "manifest.json")
	tpl, err := os.ReadFile(manifestTemplate)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(broken, bytes.Replace(tpl, []byte("server/win32/skimmer-mcp.exe"), []byte("server/windows/skimmer-mcp.exe"), 1), 0o644))
	_, err = assembleBundle(bundleInputs{Dist: dist, Template: broken, Launcher: launcher, License: license}, out)
	assert.ErrorContains(t, err, "which the bundle lacks")
}

// TestLauncher: the Linux launcher starts the binary for this CPU, even
// when the host unpacked it without execute bits.
func TestLauncher(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the launcher is for Linux")
	}
	dir := t.TempDir()
	require.NoError(t, copyFile(launcher, filepath.Join(dir, "launch.sh"), 0o644))
	arch := map[string]string{"amd64": "amd64", "arm64": "arm64"}[runtime.GOARCH]
	require.NotEmpty(t, arch)
	require.NoError(t, copyFile(server, filepath.Join(dir, arch, "skimmer-mcp"), 0o644))
	out, err := exec.Command("/bin/sh", filepath.Join(dir, "launch.sh"), "--version").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Regexp(t, `^skimmer-mcp \S+ \(go`, string(out))

	require.NoError(t, os.Remove(filepath.Join(dir, arch, "skimmer-mcp")))
	out, err = exec.Command("/bin/sh", filepath.Join(dir, "launch.sh"), "--version").CombinedOutput()
	assert.Error(t, err, "no binary, no start")
	_ = out
}

func TestIcon(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(icon(512)))
	require.NoError(t, err)
	assert.Equal(t, 512, img.Bounds().Dx())
	assert.Equal(t, 512, img.Bounds().Dy())
	_, _, _, corner := img.At(1, 1).RGBA()
	_, _, _, middle := img.At(256, 256).RGBA()
	assert.Zero(t, corner, "rounded corners are transparent")
	assert.Equal(t, uint32(0xffff), middle)
	assert.Equal(t, icon(512), icon(512), "the same on every build")
}

// The packages of the bundle and image must stay in step with the layout.
func TestLayoutCoversTheManifest(t *testing.T) {
	raw, err := os.ReadFile(manifestTemplate)
	require.NoError(t, err)
	for _, l := range layout {
		assert.True(t, slices.Contains([]string{"darwin", "windows", "linux"}, l.goos))
		if !strings.HasPrefix(l.dest, "server/linux/") {
			assert.Contains(t, string(raw), "${__dirname}/"+l.dest, "the manifest starts %s", l.dest)
		}
	}
}
