package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// artifact is one entry of GoReleaser's dist/artifacts.json.
type artifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Goos   string `json:"goos"`
	Goarch string `json:"goarch"`
	Type   string `json:"type"`
}

// release is what one GoReleaser run built.
type release struct {
	Version  string
	Binaries []artifact // type Binary: one per platform, and darwin "all"
}

func readRelease(dist string) (*release, error) {
	var meta struct {
		Version string `json:"version"`
	}
	if err := readJSON(filepath.Join(dist, "metadata.json"), &meta); err != nil {
		return nil, fmt.Errorf("%w (run goreleaser first; see deploy/README.md)", err)
	}
	if meta.Version == "" {
		return nil, fmt.Errorf("%s/metadata.json names no version", dist)
	}
	var all []artifact
	if err := readJSON(filepath.Join(dist, "artifacts.json"), &all); err != nil {
		return nil, err
	}
	r := &release{Version: meta.Version}
	for _, a := range all {
		if a.Type == "Binary" {
			r.Binaries = append(r.Binaries, a)
		}
	}
	return r, nil
}

// binary returns the path of the binary for goos/goarch ("all" for the
// macOS universal one), resolved against the folder GoReleaser ran in.
func (r *release) binary(root, goos, goarch string) (string, error) {
	for _, a := range r.Binaries {
		if a.Goos == goos && a.Goarch == goarch {
			return filepath.Join(root, a.Path), nil
		}
	}
	return "", fmt.Errorf("GoReleaser built no %s/%s binary (see deploy/goreleaser.yaml)", goos, goarch)
}

// runnable returns a binary this machine can run, to ask it for its tools.
func (r *release) runnable(root string) (string, error) {
	if runtime.GOOS == "darwin" {
		return r.binary(root, "darwin", "all")
	}
	return r.binary(root, runtime.GOOS, runtime.GOARCH)
}

func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
