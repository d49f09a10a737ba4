package oauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// documents fetches client ID metadata documents: a client whose id is an
// https URL publishes its registration there. Fetching it is a request to
// an address a stranger chose, so it is fenced in: https only, no
// redirects, a size and a time limit, no proxy, and no connection to a
// private, loopback, link-local or otherwise internal address, checked on
// the address actually dialled, after DNS resolution (so a name that
// resolves differently the second time gains nothing). Results, good and
// bad, are cached, so a client id cannot be used to make this server
// fetch a URL over and over.
type documents struct {
	http      *http.Client
	maxBytes  int64
	now       func() time.Time
	mu        sync.Mutex
	cache     map[string]documentEntry
	maxCached int
}

type documentEntry struct {
	client  *client
	err     error
	expires time.Time
}

// DocumentOptions tune metadata-document fetching; the zero value is the
// production setting.
type DocumentOptions struct {
	// AllowLoopback lets documents be fetched from loopback addresses: for
	// tests only, which serve a document on this machine.
	AllowLoopback bool
	// RootCAs replaces the system's roots; for tests.
	RootCAs *x509.CertPool
	// Timeout bounds a whole fetch: 5s when zero.
	Timeout time.Duration
	// MaxBytes bounds a document: 8 KiB when zero.
	MaxBytes int64
}

const (
	documentDefaultTTL = 10 * time.Minute
	documentMinTTL     = time.Minute
	documentMaxTTL     = 24 * time.Hour
	documentErrorTTL   = 30 * time.Second
)

func newDocuments(o DocumentOptions, now func() time.Time) *documents {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 8 << 10
	}
	dialer := &net.Dialer{Timeout: o.Timeout, Control: func(_, address string, _ syscall.RawConn) error {
		return checkDialAddress(address, o.AllowLoopback)
	}}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the address check
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &documents{
		http: &http.Client{Transport: tr, Timeout: o.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		maxBytes: o.MaxBytes, now: now, cache: map[string]documentEntry{}, maxCached: 1024,
	}
}

// internal is every range a metadata document may not be fetched from,
// besides what net/netip's own predicates name.
var internal = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64 can reach private IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"), // 6to4 can embed any IPv4
}

// checkDialAddress refuses a connection to anything but a public address.
func checkDialAddress(address string, allowLoopback bool) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("metadata document address %q: %w", address, err)
	}
	ip := ap.Addr().Unmap()
	if ip.IsLoopback() && allowLoopback {
		return nil
	}
	bad := !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified()
	for _, p := range internal {
		bad = bad || p.Contains(ip)
	}
	if bad {
		return fmt.Errorf("%s is a private or internal address", ip)
	}
	return nil
}

// checkDocumentURL says what is wrong with a client id used as a document
// URL, or nil.
func checkDocumentURL(id string) error {
	u, err := url.Parse(id)
	switch {
	case err != nil:
		return fmt.Errorf("the client_id is not a URL: %w", err)
	case len(id) > 2048:
		return errors.New("the client_id URL is longer than 2048 characters")
	case u.Scheme != "https" || u.Host == "":
		return errors.New("a client_id that is a URL must be an https URL")
	case u.User != nil || u.Fragment != "" || strings.Contains(id, "#"):
		return errors.New("a client_id URL may not hold credentials or a fragment")
	case u.Path == "" || u.Path == "/":
		return errors.New("a client_id URL must have a path, e.g. https://app.example.com/oauth/client.json")
	case strings.Contains("/"+u.Path+"/", "/./") || strings.Contains("/"+u.Path+"/", "/../"):
		return errors.New("a client_id URL may not hold . or .. segments")
	}
	return nil
}

// client returns the client a metadata document describes, from the cache
// or fetched now.
func (d *documents) client(ctx context.Context, id string) (*client, error) {
	if err := checkDocumentURL(id); err != nil {
		return nil, fmt.Errorf("%w: %v", errUnknownClient, err)
	}
	now := d.now()
	d.mu.Lock()
	e, ok := d.cache[id]
	d.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.client, e.err
	}
	c, ttl, err := d.fetch(ctx, id)
	if err != nil {
		err, ttl = fmt.Errorf("%w: %v", errUnknownClient, err), documentErrorTTL
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.cache) >= d.maxCached {
		for k, e := range d.cache {
			if !now.Before(e.expires) || len(d.cache) >= d.maxCached {
				delete(d.cache, k)
			}
		}
	}
	d.cache[id] = documentEntry{client: c, err: err, expires: now.Add(ttl)}
	return c, err
}

func (d *documents) fetch(ctx context.Context, id string) (*client, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && ue.Timeout() {
			return nil, 0, errors.New("the client's metadata document did not arrive in time")
		}
		return nil, 0, fmt.Errorf("the client's metadata document could not be fetched: %v", errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			return nil, 0, fmt.Errorf("the client's metadata document answered with a redirect (HTTP %d), which is not followed", resp.StatusCode)
		}
		return nil, 0, fmt.Errorf("the client's metadata document answered HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, d.maxBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("the client's metadata document could not be read: %v", err)
	}
	if int64(len(body)) > d.maxBytes {
		return nil, 0, fmt.Errorf("the client's metadata document is larger than %d bytes", d.maxBytes)
	}
	var doc struct {
		registration
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, 0, fmt.Errorf("the client's metadata document is not JSON: %v", err)
	}
	if doc.ClientID != id {
		return nil, 0, fmt.Errorf("the client's metadata document names client_id %q, not its own URL", doc.ClientID)
	}
	switch doc.TokenEndpointAuthMethod {
	case "", "none":
	default:
		return nil, 0, fmt.Errorf("the client's metadata document asks for token_endpoint_auth_method %q; this server accepts documents of public clients (none)", doc.TokenEndpointAuthMethod)
	}
	if err := doc.check(); err != nil {
		return nil, 0, err
	}
	name := strings.TrimSpace(doc.ClientName)
	if name == "" {
		u, _ := url.Parse(id)
		name = u.Hostname()
	}
	return &client{ID: id, Name: name, Redirects: doc.RedirectURIs}, cacheTTL(resp.Header.Get("Cache-Control")), nil
}

// cacheTTL reads max-age from Cache-Control, held between a minute and a
// day so that a document is neither fetched on every request nor trusted
// for ever.
func cacheTTL(cc string) time.Duration {
	for _, part := range strings.Split(cc, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch strings.ToLower(k) {
		case "no-store", "no-cache":
			return documentMinTTL
		case "max-age":
			if n, err := strconv.Atoi(v); err == nil {
				return min(max(time.Duration(n)*time.Second, documentMinTTL), documentMaxTTL)
			}
		}
	}
	return documentDefaultTTL
}
