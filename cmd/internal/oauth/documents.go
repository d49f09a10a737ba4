package oauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
// resolves differently the second time gains nothing).
//
// A client id cannot be used to make this server fetch over and over, nor
// to learn about its network: a good document is cached by its URL; a
// failure is cached by host, whatever the path; one host is fetched from
// once at a time, and whoever asks meanwhile waits for that fetch; and
// what the page shows of a failure names the host and a reason class
// ("it could not be fetched"), never a DNS answer, an address or a dial
// error, which go to the debug log.
type documents struct {
	http      *http.Client
	maxBytes  int64
	now       func() time.Time
	log       *slog.Logger
	mu        sync.Mutex
	cache     map[string]documentEntry // by client id: documents that were used
	failed    map[string]documentEntry // by host: the last failure there
	fetching  map[string]chan struct{} // by host: closed when its fetch ends
	maxCached int
}

type documentEntry struct {
	client  *client
	err     *documentError
	expires time.Time
}

// documentError is why a metadata document could not be used: what the
// sign-in page says (its host, and a reason that tells nothing of this
// server's network) and, for the debug log only, the detail.
type documentError struct {
	host   string
	reason string
	detail error
}

func (e *documentError) Error() string {
	return "this app's metadata document at " + e.host + " could not be used: " + e.reason
}

func (e *documentError) Unwrap() error { return errUnknownClient }

// couldNotFetch is every failure to get an answer: the name did not
// resolve, resolved to an internal address, refused, timed out, broke
// off, failed TLS. Which one it was would tell a stranger what this
// server's network holds.
func couldNotFetch(detail error) *documentError {
	return &documentError{reason: "it could not be fetched", detail: detail}
}

// badDocument is a document that arrived and is wrong: its own content, or
// its server's answer, which its publisher may be told about.
func badDocument(format string, args ...any) *documentError {
	err := fmt.Errorf(format, args...)
	return &documentError{reason: err.Error(), detail: err}
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

func newDocuments(o DocumentOptions, now func() time.Time, log *slog.Logger) *documents {
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
		maxBytes: o.MaxBytes, now: now, log: log, maxCached: 1024,
		cache: map[string]documentEntry{}, failed: map[string]documentEntry{}, fetching: map[string]chan struct{}{},
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

// client returns the client a metadata document describes: from the
// cache, or from a fetch, its own or one in flight for its host.
func (d *documents) client(ctx context.Context, id string) (*client, error) {
	if err := checkDocumentURL(id); err != nil {
		return nil, fmt.Errorf("%w: %v", errUnknownClient, err)
	}
	u, _ := url.Parse(id)
	host := strings.ToLower(u.Host)
	for {
		d.mu.Lock()
		now := d.now()
		if e, ok := d.cache[id]; ok && now.Before(e.expires) {
			d.mu.Unlock()
			return e.client, nil
		}
		if e, ok := d.failed[host]; ok && now.Before(e.expires) {
			d.mu.Unlock()
			return nil, e.err
		}
		done, busy := d.fetching[host]
		if !busy {
			done = make(chan struct{})
			d.fetching[host] = done
			go d.fetchInto(id, host, done)
		}
		d.mu.Unlock()
		select {
		case <-done: // the answer is in the cache now, or the host failed
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v", errUnknownClient, ctx.Err())
		}
	}
}

// fetchInto fetches id and caches what came of it, then closes done. It
// does not depend on the request that started it: one who gives up does
// not fail the others waiting, nor leave a failure in the cache.
func (d *documents) fetchInto(id, host string, done chan struct{}) {
	defer close(done)
	c, ttl, err := d.fetch(context.Background(), id)
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.fetching, host)
	now := d.now()
	if err != nil {
		err.host = host
		d.log.Debug("oauth: a client metadata document could not be used", "client_id", id, "err", err.detail)
		bound(d.failed, d.maxCached, now)
		d.failed[host] = documentEntry{err: err, expires: now.Add(documentErrorTTL)}
		return
	}
	bound(d.cache, d.maxCached, now)
	d.cache[id] = documentEntry{client: c, expires: now.Add(ttl)}
}

// bound makes room for one more entry in m: the expired go, and while it
// is full, any.
func bound(m map[string]documentEntry, most int, now time.Time) {
	if len(m) < most {
		return
	}
	for k, e := range m {
		if !now.Before(e.expires) || len(m) >= most {
			delete(m, k)
		}
	}
}

func (d *documents) fetch(ctx context.Context, id string) (*client, time.Duration, *documentError) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, 0, couldNotFetch(err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && ue.Timeout() {
			return nil, 0, couldNotFetch(fmt.Errorf("no answer within the time limit: %w", err))
		}
		return nil, 0, couldNotFetch(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			return nil, 0, badDocument("it answered with a redirect (HTTP %d), which is not followed", resp.StatusCode)
		}
		return nil, 0, badDocument("it answered HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, d.maxBytes+1))
	if err != nil {
		return nil, 0, couldNotFetch(err)
	}
	if int64(len(body)) > d.maxBytes {
		return nil, 0, badDocument("it is larger than %d bytes", d.maxBytes)
	}
	var doc struct {
		registration
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, 0, &documentError{reason: "it is not JSON", detail: err}
	}
	if doc.ClientID != id {
		return nil, 0, badDocument("it names client_id %q, not its own URL", doc.ClientID)
	}
	switch doc.TokenEndpointAuthMethod {
	case "", "none":
	default:
		return nil, 0, badDocument("it asks for token_endpoint_auth_method %q; this server accepts documents of public clients (none)", doc.TokenEndpointAuthMethod)
	}
	if err := doc.check(); err != nil {
		return nil, 0, badDocument("%v", err)
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
