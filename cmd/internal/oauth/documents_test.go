package oauth

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
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
	a := newAS(t, func(c *Config) {
		c.Documents = DocumentOptions{AllowLoopback: true, RootCAs: d.pool, Timeout: 300 * time.Millisecond}
	})
	cases := []struct{ path, says string }{
		{"/not-json", "not JSON"},
		{"/too-big", "larger than 8192 bytes"},
		{"/slow", "did not arrive in time"},
		{"/redirect", "redirect"},
		{"/other-id", "not its own URL"},
		{"/no-redirects", "redirect_uris is missing"},
		{"/secret", "public clients"},
		{"/missing", "HTTP 404"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			_, err := a.srv.client(context.Background(), d.URL+c.path)
			assert.ErrorIs(t, err, errUnknownClient)
			assert.ErrorContains(t, err, c.says)
			f := a.open(a.browser(), a.authorizeURL(d.URL+c.path, nil))
			assert.Equal(t, http.StatusBadRequest, f.status)
			assert.Contains(t, f.body, "not registered")
		})
	}
	hits := d.hits.Load()
	_, _ = a.srv.client(context.Background(), d.URL+"/not-json")
	assert.Equal(t, hits, d.hits.Load(), "a failure is cached too")

	// Without the test setting, loopback is refused like any internal
	// address: the connection is never made.
	strict := newAS(t, func(c *Config) { c.Documents = DocumentOptions{RootCAs: d.pool} })
	_, err := strict.srv.client(context.Background(), d.URL+"/not-json")
	assert.ErrorContains(t, err, "private or internal address")
	assert.Equal(t, hits, d.hits.Load(), "nothing reached the document server")
	// A private address is refused when dialled, before a packet is sent.
	_, err = strict.srv.client(context.Background(), "https://10.255.255.1/client.json")
	assert.ErrorContains(t, err, "10.255.255.1 is a private or internal address")

	for _, id := range []string{"http://app.example.com/client.json", "https://app.example.com", "https://app.example.com/", "https://user@app.example.com/c.json", "https://app.example.com/a/../c.json"} {
		_, err := a.srv.client(context.Background(), id)
		assert.ErrorIs(t, err, errUnknownClient, id)
	}
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
