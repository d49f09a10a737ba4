package oauth

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docServer serves client metadata documents over TLS on loopback, as a
// client such as Claude does on the internet.
type docServer struct {
	*httptest.Server
	hits atomic.Int32
	pool *x509.CertPool
}

func newDocServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, self string)) *docServer {
	d := &docServer{}
	d.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.hits.Add(1)
		handler(w, r, d.URL+r.URL.Path)
	}))
	t.Cleanup(d.Close)
	d.pool = x509.NewCertPool()
	d.pool.AddCert(d.Certificate())
	return d
}

func document(self string) map[string]any {
	return map[string]any{"client_id": self, "client_name": "Doc App", "redirect_uris": []string{redirect}, "token_endpoint_auth_method": "none"}
}

func TestMetadataDocumentClient(t *testing.T) {
	d := newDocServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(document(self))
	})
	a := newAS(t, func(c *Config) { c.Documents = DocumentOptions{AllowLoopback: true, RootCAs: d.pool} })
	id := d.URL + "/oauth/client.json"
	f := a.open(a.browser(), a.authorizeURL(id, nil))
	require.Equal(t, http.StatusOK, f.status, f.body)
	assert.Contains(t, f.body, "Connect Doc App to Skimmer")
	out := a.tokens(id, nil)
	_, err := a.verify(out["access_token"].(string))
	require.NoError(t, err)
	status, _ := a.refresh(id, out["refresh_token"].(string))
	assert.Equal(t, 200, status)
	assert.EqualValues(t, 1, d.hits.Load(), "the document was fetched once, then served from the cache")
}

// TestMetadataDocumentRefusals: a document that is not what it must be,
// or is where the server must not go, makes its client unknown.
func TestMetadataDocumentRefusals(t *testing.T) {
	slow := make(chan struct{})
	d := newDocServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		switch r.URL.Path {
		case "/not-json":
			_, _ = w.Write([]byte("<html>hello</html>"))
		case "/too-big":
			doc := document(self)
			doc["client_name"] = strings.Repeat("x", 9000)
			_ = json.NewEncoder(w).Encode(doc)
		case "/slow":
			select {
			case <-slow:
			case <-time.After(3 * time.Second):
			}
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/other-id":
			_ = json.NewEncoder(w).Encode(document("https://app.example.com/client.json"))
		case "/no-redirects":
			doc := document(self)
			delete(doc, "redirect_uris")
			_ = json.NewEncoder(w).Encode(doc)
		case "/secret":
			doc := document(self)
			doc["token_endpoint_auth_method"] = "client_secret_basic"
			_ = json.NewEncoder(w).Encode(doc)
		case "/missing":
			http.NotFound(w, r)
		}
	})
	t.Cleanup(func() { close(slow) }) // before the server closes: cleanups run last first
	a := newAS(t, func(c *Config) { c.Documents = DocumentOptions{AllowLoopback: true, RootCAs: d.pool} })
	// A document that does not arrive is waited for up to the timeout; a
	// short one here, so the test need not wait 5 s. (It is the only case
	// that runs against it: a loaded machine may take longer than that to
	// answer at all.)
	quick := newAS(t, func(c *Config) {
		c.Documents = DocumentOptions{AllowLoopback: true, RootCAs: d.pool, Timeout: 300 * time.Millisecond}
	})
	_, err := quick.srv.client(context.Background(), d.URL+"/slow")
	assert.EqualError(t, err, "this app's metadata document at "+strings.TrimPrefix(d.URL, "https://")+" could not be used: it could not be fetched")
	var de *documentError
	require.ErrorAs(t, err, &de)
	assert.ErrorContains(t, de.detail, "no answer within the time limit")

	cases := []struct{ path, says, detail string }{
		{"/not-json", "it is not JSON", "invalid character"},
		{"/too-big", "it is larger than 8192 bytes", ""},
		{"/redirect", "it answered with a redirect (HTTP 302), which is not followed", ""},
		{"/other-id", "not its own URL", ""},
		{"/no-redirects", "redirect_uris is missing", ""},
		{"/secret", "public clients", ""},
		{"/missing", "it answered HTTP 404", ""},
	}
	host := strings.TrimPrefix(d.URL, "https://")
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			a.clock.add(documentErrorTTL) // the host's last failure is forgotten
			_, err := a.srv.client(context.Background(), d.URL+c.path)
			assert.ErrorIs(t, err, errUnknownClient)
			assert.ErrorContains(t, err, "this app's metadata document at "+host+" could not be used: ")
			assert.ErrorContains(t, err, c.says)
			var de *documentError
			require.ErrorAs(t, err, &de)
			assert.ErrorContains(t, de.detail, c.detail, "the detail is kept for the debug log")
			f := a.open(a.browser(), a.authorizeURL(d.URL+c.path, nil))
			assert.Equal(t, http.StatusBadRequest, f.status)
			assert.Contains(t, f.body, "This app&#39;s metadata document at "+host+" could not be used: ")
			assert.Contains(t, f.body, html.EscapeString(c.says))
		})
	}
	hits := d.hits.Load()
	_, _ = a.srv.client(context.Background(), d.URL+"/not-json")
	assert.Equal(t, hits, d.hits.Load(), "a failure is cached too")

	// Without the test setting, loopback is refused like any internal
	// address: the connection is never made.
	logs := &strings.Builder{}
	strict := newAS(t, func(c *Config) {
		c.Documents = DocumentOptions{RootCAs: d.pool}
		c.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	_, err = strict.srv.client(context.Background(), d.URL+"/not-json")
	assert.EqualError(t, err, "this app's metadata document at "+host+" could not be used: it could not be fetched")
	assert.Equal(t, hits, d.hits.Load(), "nothing reached the document server")
	// A private address is refused when dialled, before a packet is sent;
	// the page does not say so, the debug log does.
	_, err = strict.srv.client(context.Background(), "https://10.255.255.1/client.json")
	assert.EqualError(t, err, "this app's metadata document at 10.255.255.1 could not be used: it could not be fetched")
	assert.Contains(t, logs.String(), "10.255.255.1 is a private or internal address")

	for _, id := range []string{"http://app.example.com/client.json", "https://app.example.com", "https://app.example.com/", "https://user@app.example.com/c.json", "https://app.example.com/a/../c.json"} {
		_, err := a.srv.client(context.Background(), id)
		assert.ErrorIs(t, err, errUnknownClient, id)
	}
}

// TestTheSignInPageTellsNothingOfTheNetwork: what the page says of a
// document that could not be fetched is the same whether the name does
// not resolve, resolves to an internal address, or refuses: no DNS
// answer, no address, no dial error.
func TestTheSignInPageTellsNothingOfTheNetwork(t *testing.T) {
	a := newAS(t)
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refusedAddr := refused.Addr().String()
	refused.Close()
	for _, id := range []string{
		"https://metadata.google.internal.invalid/computeMetadata/v1/",
		"https://169.254.169.254/latest/meta-data/",
		"https://[fd00::1]/client.json",
		"https://" + refusedAddr + "/client.json",
	} {
		f := a.open(a.browser(), a.authorizeURL(id, nil))
		assert.Equal(t, http.StatusBadRequest, f.status, id)
		u, _ := url.Parse(id)
		assert.Contains(t, f.body, "This app&#39;s metadata document at "+html.EscapeString(u.Host)+" could not be used: it could not be fetched.", id)
		for _, leak := range []string{"lookup", "no such host", "dial", "private", "internal address", "refused", "127.0.0.1:", ":53"} {
			if !strings.Contains(id, leak) {
				assert.NotContains(t, f.body, leak, id)
			}
		}
	}
}

// TestDocumentFetchesAreCoalesced: many sign-ins at once for one app make
// one fetch; a host that failed is not asked again for a while, whatever
// path a client id names there.
func TestDocumentFetchesAreCoalesced(t *testing.T) {
	release := make(chan struct{})
	d := newDocServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		<-release
		if r.URL.Path != "/good.json" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(document(self))
	})
	a := newAS(t, func(c *Config) { c.Documents = DocumentOptions{AllowLoopback: true, RootCAs: d.pool} })
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := a.srv.client(context.Background(), d.URL+"/good.json")
			assert.NoError(t, err)
			assert.Equal(t, "Doc App", c.Name)
		}()
	}
	for d.hits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the others are waiting, not fetching
	close(release)
	wg.Wait()
	assert.EqualValues(t, 1, d.hits.Load(), "twenty at once, one fetch")

	for i := range 50 {
		_, err := a.srv.client(context.Background(), fmt.Sprintf("%s/made-up-%d.json", d.URL, i))
		assert.ErrorContains(t, err, "it answered HTTP 404")
	}
	assert.EqualValues(t, 2, d.hits.Load(), "fifty paths on a host that failed, one fetch")
	a.clock.add(documentErrorTTL)
	_, _ = a.srv.client(context.Background(), d.URL+"/made-up-again.json")
	assert.EqualValues(t, 3, d.hits.Load(), "tried again once the failure is old")
	_, err := a.srv.client(context.Background(), d.URL+"/good.json")
	assert.NoError(t, err, "a good document on the host is still served from its cache")
	assert.EqualValues(t, 3, d.hits.Load())
}

// lockedWriter makes a writer safe for a logger used by several
// goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestDialAddressCheck(t *testing.T) {
	for _, addr := range []string{"10.1.2.3:443", "172.16.0.1:443", "192.168.1.1:443", "127.0.0.1:443", "[::1]:443", "169.254.169.254:80",
		"[fe80::1]:443", "100.64.0.1:443", "0.0.0.0:443", "[fd00::1]:443", "[::ffff:10.0.0.1]:443", "[64:ff9b::a00:1]:443", "224.0.0.1:443"} {
		assert.Error(t, checkDialAddress(addr, false), addr)
	}
	for _, addr := range []string{"93.184.215.14:443", "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443"} {
		assert.NoError(t, checkDialAddress(addr, false), addr)
	}
	assert.NoError(t, checkDialAddress("127.0.0.1:443", true), "loopback only by the test setting")
	assert.Error(t, checkDialAddress("10.0.0.1:443", true), "and private addresses still not")
}

func TestCacheTTL(t *testing.T) {
	assert.Equal(t, documentDefaultTTL, cacheTTL(""))
	assert.Equal(t, time.Hour, cacheTTL("public, max-age=3600"))
	assert.Equal(t, documentMinTTL, cacheTTL("max-age=1"))
	assert.Equal(t, documentMaxTTL, cacheTTL("max-age=99999999"))
	assert.Equal(t, documentMinTTL, cacheTTL("no-store"))
}
