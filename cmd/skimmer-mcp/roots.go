package main

import (
	"crypto/x509"
	"io/fs"
	"os"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// The binary carries root certificates (the bundle of
// golang.org/x/crypto/x509roots/fallback) for where the system has none:
// the container image's empty base, a minimal Linux. Then it verifies
// Skimmer's certificate anywhere, with no CA files to ship beside it.
// Importing the fallback package would parse all of them in every process
// as it starts (0.67 MB, a millisecond, and 1.1 MB of idle RSS), though
// macOS and Windows verify with the platform's own and a Linux with a CA
// file uses that; so they are parsed only where they can be needed.

// systemCAFiles are where Go's crypto/x509 looks for the system's roots
// on Linux (certFiles in root_linux.go), read in this order until one is
// there.
var systemCAFiles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
	"/etc/ssl/ca-bundle.pem",                            // OpenSUSE
	"/etc/pki/tls/cacert.pem",                           // OpenELEC
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
	"/etc/ssl/cert.pem",                                 // Alpine
}

// needBundledRoots reports whether the system may lack roots. Only a
// Linux can (elsewhere the platform verifies), and it is taken to have
// them only when the first of those files that opens is a file with
// something in it. In any other case (SSL_CERT_FILE or SSL_CERT_DIR set,
// only a directory of certificates, an empty file) the bundle is loaded,
// as it always was, and Go still prefers the system's roots wherever it
// finds any.
func needBundledRoots(goos string, getenv func(string) string, open func(string) (fs.File, error)) bool {
	if goos != "linux" {
		return false
	}
	if getenv("SSL_CERT_FILE") != "" || getenv("SSL_CERT_DIR") != "" {
		return true
	}
	for _, name := range systemCAFiles {
		f, err := open(name)
		if err != nil {
			continue // as Go does: on to the next
		}
		fi, err := f.Stat()
		_ = f.Close()
		return err != nil || !fi.Mode().IsRegular() || fi.Size() == 0
	}
	return true
}

// useBundledRoots hands the bundle to crypto/x509 as its fallback if the
// system may lack roots, and says whether it did. It must run before the
// first TLS connection, and once.
func useBundledRoots(goos string) bool {
	open := func(name string) (fs.File, error) { return os.Open(name) }
	if !needBundledRoots(goos, os.Getenv, open) {
		return false
	}
	roots := x509.NewCertPool()
	for c := range bundle.Roots() {
		cert, err := x509.ParseCertificate(c.Certificate)
		if err != nil {
			continue // one the standard library cannot read, it could not use
		}
		if c.Constraint == nil {
			roots.AddCert(cert)
		} else {
			roots.AddCertWithConstraint(cert, c.Constraint)
		}
	}
	x509.SetFallbackRoots(roots)
	return true
}
