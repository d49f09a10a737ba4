// Command assemble makes the release artifacts that GoReleaser does not:
// the folder that `mcpb pack` turns into the Claude Desktop bundle, and the
// MCP Registry entry (server.json) for one version. It reads what a
// GoReleaser run left in dist/ (artifacts.json, metadata.json).
//
//	go run ./deploy/assemble bundle --dist dist --out dist/mcpb
//	npx @anthropic-ai/mcpb pack dist/mcpb dist/skimmer-mcp_VERSION.mcpb
//	go run ./deploy/assemble server-json --dist dist --mcpb dist/skimmer-mcp_VERSION.mcpb --out dist/server.json
//
// The bundle's manifest is deploy/mcpb/manifest.json with the version and
// the tool list filled in; the tools come from the built binary itself
// (skimmer-mcp tools --json), never from a list typed by hand.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  assemble bundle --dist DIR --out DIR [--template FILE] [--license FILE]
  assemble server-json --dist DIR --mcpb FILE --out FILE [--template FILE]
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("assemble "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dist := fs.String("dist", "dist", "GoReleaser's output folder")
	out := fs.String("out", "", "where to write")
	var err error
	switch args[0] {
	case "bundle":
		template := fs.String("template", "deploy/mcpb/manifest.json", "the manifest template")
		launcher := fs.String("launcher", "deploy/mcpb/launch.sh", "the Linux launcher")
		license := fs.String("license", "LICENSE", "the license to ship in the bundle")
		if err = fs.Parse(args[1:]); err != nil {
			return 2
		}
		if *out == "" {
			err = errors.New("--out is required")
			break
		}
		var b *bundle
		if b, err = assembleBundle(bundleInputs{Dist: *dist, Template: *template, Launcher: *launcher, License: *license}, *out); err == nil {
			fmt.Fprintf(stdout, "bundle folder %s: version %s, %d tools\n", *out, b.Version, len(b.Tools))
		}
	case "server-json":
		template := fs.String("template", "deploy/server.json", "the registry entry template")
		schema := fs.String("schema", "deploy/server.schema.json", "the registry's JSON schema")
		mcpb := fs.String("mcpb", "", "the packed bundle, whose SHA-256 the entry states")
		if err = fs.Parse(args[1:]); err != nil {
			return 2
		}
		if *out == "" || *mcpb == "" {
			err = errors.New("--out and --mcpb are required")
			break
		}
		var version string
		if version, err = writeServerJSON(*dist, *template, *schema, *mcpb, *out); err == nil {
			fmt.Fprintf(stdout, "%s: version %s, valid against %s\n", *out, version, *schema)
		}
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "assemble:", err)
		return 1
	}
	return 0
}
