package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

type bundleInputs struct {
	Dist     string // GoReleaser's output folder
	Template string // deploy/mcpb/manifest.json
	Launcher string // deploy/mcpb/launch.sh
	License  string
}

// bundle is what went into the bundle folder.
type bundle struct {
	Version string
	Tools   []manifestTool
}

type manifestTool struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// layout is where each binary goes in the bundle; the manifest's
// mcp_config names these paths.
var layout = []struct{ goos, goarch, dest string }{
	{"darwin", "all", "server/darwin/skimmer-mcp"}, // universal: arm64 and amd64
	{"windows", "amd64", "server/win32/skimmer-mcp.exe"},
	{"linux", "amd64", "server/linux/amd64/skimmer-mcp"},
	{"linux", "arm64", "server/linux/arm64/skimmer-mcp"},
}

// The template's placeholders, each present exactly once.
const (
	versionSlot = `"version": "0.0.0"`
	toolsSlot   = `"tools": []`
)

// assembleBundle fills out (emptied first) with what `mcpb pack` packs:
// manifest.json, icon.png, LICENSE, the binaries and the Linux launcher.
func assembleBundle(in bundleInputs, out string) (*bundle, error) {
	rel, err := readRelease(in.Dist)
	if err != nil {
		return nil, err
	}
	root := filepath.Dir(in.Dist) // artifacts.json paths start at GoReleaser's folder
	if err := os.RemoveAll(out); err != nil {
		return nil, err
	}
	for _, l := range layout {
		src, err := rel.binary(root, l.goos, l.goarch)
		if err != nil {
			return nil, err
		}
		if err := copyFile(src, filepath.Join(out, l.dest), 0o755); err != nil {
			return nil, err
		}
	}
	if err := copyFile(in.Launcher, filepath.Join(out, "server/linux/launch.sh"), 0o755); err != nil {
		return nil, err
	}
	if err := copyFile(in.License, filepath.Join(out, "LICENSE"), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(out, "icon.png"), icon(512), 0o644); err != nil {
		return nil, err
	}

	host, err := rel.runnable(root)
	if err != nil {
		return nil, err
	}
	tools, err := toolsOf(host)
	if err != nil {
		return nil, err
	}
	template, err := os.ReadFile(in.Template)
	if err != nil {
		return nil, err
	}
	manifest, err := fillManifest(template, rel.Version, tools)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Template, err)
	}
	if err := os.WriteFile(filepath.Join(out, "manifest.json"), manifest, 0o644); err != nil {
		return nil, err
	}
	if err := checkLaunchPaths(manifest, out); err != nil {
		return nil, err
	}
	return &bundle{Version: rel.Version, Tools: tools}, nil
}

// toolsOf asks a built binary for every tool it serves. The environment is
// emptied so that no SKIMMER_READ_ONLY or SKIMMER_TOOLS of the caller's
// shortens the list.
func toolsOf(binary string) ([]manifestTool, error) {
	cmd := exec.Command(binary, "tools", "--json")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s tools --json: %w: %s", binary, err, strings.TrimSpace(stderr.String()))
	}
	var tools []manifestTool
	if err := json.Unmarshal(out, &tools); err != nil {
		return nil, fmt.Errorf("%s tools --json: %w", binary, err)
	}
	if len(tools) == 0 {
		return nil, fmt.Errorf("%s tools --json listed no tools", binary)
	}
	return tools, nil
}

// fillManifest puts the version and the tools into the template's slots,
// keeping the rest of it, order and all, as written.
func fillManifest(template []byte, version string, tools []manifestTool) ([]byte, error) {
	text := string(template)
	for _, slot := range []string{versionSlot, toolsSlot} {
		if n := strings.Count(text, slot); n != 1 {
			return nil, fmt.Errorf("the placeholder %s appears %d times; it must appear once", slot, n)
		}
	}
	list, err := json.MarshalIndent(tools, "  ", "  ")
	if err != nil {
		return nil, err
	}
	v, _ := json.Marshal(version)
	text = strings.Replace(text, versionSlot, `"version": `+string(v), 1)
	text = strings.Replace(text, toolsSlot, `"tools": `+string(list), 1)
	if !json.Valid([]byte(text)) {
		return nil, fmt.Errorf("the filled manifest is not valid JSON")
	}
	return []byte(text), nil
}

// checkLaunchPaths makes sure every file the manifest starts is in the
// bundle folder, on each platform.
func checkLaunchPaths(manifest []byte, dir string) error {
	var m struct {
		Server struct {
			EntryPoint string `json:"entry_point"`
			MCPConfig  struct {
				Command           string   `json:"command"`
				Args              []string `json:"args"`
				PlatformOverrides map[string]struct {
					Command string   `json:"command"`
					Args    []string `json:"args"`
				} `json:"platform_overrides"`
			} `json:"mcp_config"`
		} `json:"server"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return err
	}
	paths := []string{m.Server.EntryPoint, m.Server.MCPConfig.Command}
	paths = append(paths, m.Server.MCPConfig.Args...)
	for _, o := range m.Server.MCPConfig.PlatformOverrides {
		paths = append(paths, o.Command)
		paths = append(paths, o.Args...)
	}
	for _, p := range paths {
		rel, inBundle := strings.CutPrefix(p, "${__dirname}/")
		if !inBundle && !filepath.IsAbs(p) && p != "" {
			rel, inBundle = p, true // entry_point is relative to the bundle
		}
		if !inBundle {
			continue // a system command, such as /bin/sh
		}
		if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
			return fmt.Errorf("the manifest starts %s, which the bundle lacks: %w", p, err)
		}
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}
