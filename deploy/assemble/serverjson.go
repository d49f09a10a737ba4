package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// templateVersion is the version the server.json template is written for;
// a release replaces it everywhere it appears (the entry's version, the
// image tag, the bundle's download URL).
const templateVersion = "0.0.0"

// zeroSHA256 stands for the bundle's hash in the template.
var zeroSHA256 = strings.Repeat("0", 64)

// writeServerJSON fills the template for the release in dist and the
// packed bundle, checks the result, and writes it.
func writeServerJSON(dist, template, schema, mcpb, out string) (string, error) {
	rel, err := readRelease(dist)
	if err != nil {
		return "", err
	}
	sum, err := fileSHA256(mcpb)
	if err != nil {
		return "", err
	}
	raw, err := os.ReadFile(template)
	if err != nil {
		return "", err
	}
	entry, err := fillServerJSON(raw, rel.Version, sum)
	if err != nil {
		return "", fmt.Errorf("%s: %w", template, err)
	}
	if err := checkServerJSON(entry, schema); err != nil {
		return "", err
	}
	return rel.Version, os.WriteFile(out, entry, 0o644)
}

var semver = regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)

func fillServerJSON(template []byte, version, sha string) ([]byte, error) {
	if !semver.MatchString(version) {
		return nil, fmt.Errorf("version %q is not a release version (1.2.3, 1.2.3-rc.1)", version)
	}
	text := string(template)
	if strings.Count(text, zeroSHA256) != 1 {
		return nil, fmt.Errorf("the bundle's fileSha256 placeholder (64 zeros) must appear once")
	}
	if !strings.Contains(text, templateVersion) {
		return nil, fmt.Errorf("the template has no %s version to replace", templateVersion)
	}
	text = strings.ReplaceAll(text, templateVersion, version)
	text = strings.Replace(text, zeroSHA256, sha, 1)
	return []byte(text), nil
}

// checkServerJSON validates an entry against the registry's schema (the
// copy in this repository; CI has no network) and against the rules the
// official registry adds on top of it that can be checked offline.
func checkServerJSON(entry []byte, schemaPath string) error {
	sch, id, err := compileSchema(schemaPath)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(entry))
	if err != nil {
		return fmt.Errorf("server.json is not JSON: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("server.json does not follow the registry schema: %w", err)
	}
	var e serverEntry
	if err := json.Unmarshal(entry, &e); err != nil {
		return err
	}
	return e.registryRules(id)
}

// compileSchema compiles the schema at path, and returns its $id.
func compileSchema(path string) (*jsonschema.Schema, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	obj, _ := doc.(map[string]any)
	id, _ := obj["$id"].(string)
	if id == "" {
		return nil, "", fmt.Errorf("%s has no $id", path)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		return nil, "", err
	}
	sch, err := c.Compile(id)
	return sch, id, err
}

type serverEntry struct {
	Schema   string `json:"$schema"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Packages []struct {
		RegistryType string `json:"registryType"`
		Identifier   string `json:"identifier"`
		Version      string `json:"version"`
		FileSHA256   string `json:"fileSha256"`
		Transport    struct {
			Type string `json:"type"`
		} `json:"transport"`
	} `json:"packages"`
	Remotes []struct {
		Type      string                     `json:"type"`
		URL       string                     `json:"url"`
		Variables map[string]json.RawMessage `json:"variables"`
		Headers   []struct {
			Name     string `json:"name"`
			IsSecret bool   `json:"isSecret"`
		} `json:"headers"`
	} `json:"remotes"`
}

var templateVar = regexp.MustCompile(`\{([^{}]+)\}`)

// registryRules are the official registry's checks beyond the schema
// (docs/reference/server-json/official-registry-requirements.md, and its
// validators) that need no network.
func (e serverEntry) registryRules(schemaID string) error {
	var errs []error
	if e.Schema != schemaID {
		errs = append(errs, fmt.Errorf("$schema is %q; the schema in this repository is %q", e.Schema, schemaID))
	}
	for _, p := range e.Packages {
		switch p.RegistryType {
		case "oci":
			host, _, _ := strings.Cut(p.Identifier, "/")
			if host != "ghcr.io" && host != "docker.io" && host != "quay.io" {
				errs = append(errs, fmt.Errorf("oci package %s: the registry accepts images from ghcr.io, docker.io, quay.io and a few clouds", p.Identifier))
			}
			if !strings.HasSuffix(p.Identifier, ":"+e.Version) {
				errs = append(errs, fmt.Errorf("oci package %s: tag it with the entry's version %s", p.Identifier, e.Version))
			}
		case "mcpb":
			u, err := url.Parse(p.Identifier)
			if err != nil || u.Scheme != "https" || u.Host != "github.com" || !strings.Contains(u.Path, "/releases/download/") {
				errs = append(errs, fmt.Errorf("mcpb package %s: the registry takes bundles from GitHub (or GitLab) release downloads over https", p.Identifier))
			}
			if !strings.Contains(strings.ToLower(p.Identifier), "mcp") {
				errs = append(errs, fmt.Errorf("mcpb package %s: the URL must contain \"mcp\"", p.Identifier))
			}
			if p.FileSHA256 == "" {
				errs = append(errs, errors.New("mcpb package: fileSha256 is required"))
			}
		default:
			errs = append(errs, fmt.Errorf("package type %q is not one this project ships", p.RegistryType))
		}
	}
	for _, r := range e.Remotes {
		if r.Type != "streamable-http" && r.Type != "sse" {
			errs = append(errs, fmt.Errorf("remote %s: type %q; remotes are streamable-http or sse", r.URL, r.Type))
		}
		concrete := r.URL
		for _, m := range templateVar.FindAllStringSubmatch(r.URL, -1) {
			if _, ok := r.Variables[m[1]]; !ok {
				errs = append(errs, fmt.Errorf("remote %s: {%s} is not among its variables", r.URL, m[1]))
			}
			concrete = strings.ReplaceAll(concrete, m[0], "example")
		}
		u, err := url.Parse(concrete)
		if err != nil || u.Scheme != "https" || u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1" {
			errs = append(errs, fmt.Errorf("remote %s: the registry takes https URLs that are not localhost", r.URL))
		}
		for _, h := range r.Headers {
			if strings.EqualFold(h.Name, "x-api-key") && !h.IsSecret {
				errs = append(errs, fmt.Errorf("remote %s: the %s header carries a key; mark it isSecret", r.URL, h.Name))
			}
		}
	}
	return errors.Join(errs...)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
