package main

import (
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBundledRootsOnlyWhereNeeded: the binary's own roots are parsed where
// the system may have none (the image's empty base) and nowhere else.
func TestBundledRootsOnlyWhereNeeded(t *testing.T) {
	const pem = "-----BEGIN CERTIFICATE-----\n...\n"
	for _, tc := range []struct {
		name  string
		goos  string
		env   map[string]string
		files fstest.MapFS
		need  bool
	}{
		{name: "macOS verifies with the platform", goos: "darwin", need: false},
		{name: "Windows verifies with the platform", goos: "windows", need: false},
		{name: "an empty image", goos: "linux", files: fstest.MapFS{}, need: true},
		{name: "Debian", goos: "linux", files: fstest.MapFS{"etc/ssl/certs/ca-certificates.crt": {Data: []byte(pem)}}, need: false},
		{name: "Alpine", goos: "linux", files: fstest.MapFS{"etc/ssl/cert.pem": {Data: []byte(pem)}}, need: false},
		{name: "an empty CA file", goos: "linux", files: fstest.MapFS{"etc/ssl/certs/ca-certificates.crt": {}}, need: true},
		{name: "only a directory of certificates", goos: "linux", files: fstest.MapFS{"etc/ssl/certs/a.pem": {Data: []byte(pem)}}, need: true},
		{name: "a directory where the file would be", goos: "linux", files: fstest.MapFS{"etc/ssl/certs/ca-certificates.crt/x": {Data: []byte(pem)}}, need: true},
		{name: "SSL_CERT_FILE chosen", goos: "linux", env: map[string]string{"SSL_CERT_FILE": "/srv/ca.pem"},
			files: fstest.MapFS{"etc/ssl/certs/ca-certificates.crt": {Data: []byte(pem)}}, need: true},
		{name: "SSL_CERT_DIR chosen", goos: "linux", env: map[string]string{"SSL_CERT_DIR": "/srv/ca"},
			files: fstest.MapFS{"etc/ssl/certs/ca-certificates.crt": {Data: []byte(pem)}}, need: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := func(name string) (fs.File, error) {
				require.NotNil(t, tc.files, "%s opened a file", tc.goos)
				return tc.files.Open(strings.TrimPrefix(name, "/"))
			}
			assert.Equal(t, tc.need, needBundledRoots(tc.goos, func(k string) string { return tc.env[k] }, open))
		})
	}
}

// TestBundledRootsInTheProcess: the binary, with no system roots to find,
// says at start that its own bundle is the fallback; on this machine as it
// is, it does so only if the machine has no CA file.
func TestBundledRootsInTheProcess(t *testing.T) {
	for _, tc := range []struct {
		env     []string
		bundled bool
	}{
		{[]string{"SSL_CERT_FILE=/nonexistent/ca.pem", "SSL_CERT_DIR=/nonexistent"}, true},
		{nil, !systemHasCAFile()},
	} {
		p := start(t, tc.env, "--sandbox", "--transport", "http", "--addr", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug")
		p.waitURL(t)
		assert.Equal(t, tc.bundled, strings.Contains(p.stderr.String(), "TLS roots: "), "env %v:\n%s", tc.env, p.stderr.String())
	}
}

func systemHasCAFile() bool {
	open := func(name string) (fs.File, error) { return os.Open(name) }
	return !needBundledRoots("linux", func(string) string { return "" }, open)
}
