package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// about is what a person who opens the server's address in a browser is
// told: what this is, and what to give their AI app.
type about struct {
	public   string // --public-url (canonical once checked); "" to take the address the browser used
	endpoint string // /mcp or /sse
	oauth    bool
	token    bool // SKIMMER_AUTH_TOKEN is set
	demo     bool // --sandbox
}

func newAbout(c *config, endpoint string) about {
	return about{public: c.publicURL, endpoint: endpoint, oauth: c.oauth, token: c.authToken != "", demo: c.sandbox}
}

// readmeHosted is where the README says how to connect to a hosted server.
const readmeHosted = "https://github.com/skimmer-mcp/skimmer-mcp#a-hosted-endpoint"

// text is the page: a few plain lines, no markup.
func (a about) text(r *http.Request) string {
	base := a.public
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	url := base + a.endpoint
	var b strings.Builder
	fmt.Fprintf(&b, "This is skimmer-mcp, an MCP server for a Skimmer account; it has no web pages to use.\n")
	switch {
	case a.demo && a.oauth:
		fmt.Fprintf(&b, "It serves a demo account with made-up customers: signing in needs no key.\n")
	case a.demo:
		fmt.Fprintf(&b, "It serves a demo account with made-up customers: any made-up key of %d characters or more will do.\n", skimmer.MinKeyLength)
	}
	fmt.Fprintf(&b, "Add %s to your AI app:\n", url)
	if a.oauth {
		fmt.Fprintf(&b, "- Claude or ChatGPT: as a custom connector, by this URL alone; you then sign in with your Skimmer API key.\n")
	}
	header := "your Skimmer API key in the skimmer-api-key header"
	if a.token {
		header += ", and the team token you were given as Authorization: Bearer TOKEN"
	}
	fmt.Fprintf(&b, "- Claude Code, VS Code, Cursor: as an HTTP MCP server, with %s.\n", header)
	fmt.Fprintf(&b, "How, step by step: %s\n", readmeHosted)
	return b.String()
}

// writeAbout answers a browser with the page.
func writeAbout(w http.ResponseWriter, r *http.Request, status int, a about) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = fmt.Fprint(w, a.text(r))
}

// signInPaths are where an OAuth client looks for a sign-in: the metadata
// documents of RFC 9728, RFC 8414 and OpenID Connect, and the endpoints a
// client falls back on when there are none.
var signInPaths = []string{
	"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/{rest...}",
	"/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server/{rest...}",
	"/.well-known/openid-configuration", "/register", "/authorize", "/token",
}

// noSignIn answers those paths on a server without --oauth. A client such
// as Claude Code tries them when a request without a key is refused, and
// prints the last answer's error_description: this tells the person what
// to do instead, where "404 page not found" told them nothing. The status
// stays 404, so every client still knows there is no sign-in here.
func noSignIn(mux *http.ServeMux) {
	for _, p := range signInPaths {
		mux.HandleFunc(p, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{
				"error":             "invalid_request",
				"error_description": "this server has no sign-in; send your Skimmer API key in the skimmer-api-key header",
			})
		})
	}
}
