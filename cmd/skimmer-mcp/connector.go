package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/loopback"
	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/oauth"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sieve"
	"github.com/skimmer-mcp/skimmer-mcp/tools"
)

// newOAuth builds the authorization server that makes the hosted endpoint
// a connector: hosts add it by URL, and people sign in with their key.
func newOAuth(c *config, up *upstream, log *slog.Logger, listen string) (*oauth.Server, error) {
	public := c.publicURL
	if public == "" {
		host, port, _ := net.SplitHostPort(listen)
		public = "http://" + net.JoinHostPort(host, port) // loopback only: config checked
	}
	key, ephemeral := c.oauthKey, c.oauthKey == ""
	if ephemeral {
		// Loopback only (config checked): a demo, whose sign-ins last
		// until the server stops.
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		key = base64.StdEncoding.EncodeToString(b)
	}
	demoKey := ""
	if c.sandbox {
		demoKey = up.key // the sandbox's: it takes any key, and the page asks for none
	}
	// Everything that can fail comes first, and only then the warnings:
	// a warning printed just before the error that stops the server would
	// read as its cause.
	var store oauth.Store
	var warnings []string
	switch {
	case up.store != nil:
		// Replicas: a code issued by one is exchanged on another, and a
		// revocation holds on all.
		store = up.store.OAuth()
		if c.oauthState != "" {
			warnings = append(warnings, c.named("oauth-state")+" is ignored: with "+c.named("store")+", the OAuth state lives in the shared store")
		}
	default:
		ms, err := oauth.NewMemoryStore(c.oauthState, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.named("oauth-state"), err)
		}
		store = ms
		if c.oauthState == "" && !loopback.Addr(c.addr) {
			warnings = append(warnings, "--oauth-state is not set: revocations and refresh-token rotation are forgotten when the server restarts (grants themselves survive)")
		}
	}
	as, err := oauth.New(oauth.Config{
		Issuer: public, Key: key, PreviousKey: c.oauthKeyPrevious, Store: store,
		CheckKey:        checkKey(up),
		ReadOnly:        c.readOnly,
		DemoKey:         demoKey,
		AccessTTL:       c.oauthAccessTTL,
		WritesConfirmed: c.policy != tools.ConfirmNone,
		Documents:       oauth.DocumentOptions{AllowLoopback: c.oauthTestLoopback},
		Logger:          log,
	})
	if err != nil {
		return nil, err
	}
	if ephemeral {
		log.Warn("SKIMMER_OAUTH_KEY is not set: connectors signed in now stop working when this server stops")
	}
	for _, w := range warnings {
		log.Warn(w)
	}
	if c.oauthTestLoopback { // loopback only: config checked
		log.Warn("SKIMMER_OAUTH_TEST_LOOPBACK_METADATA=1: client metadata documents may be fetched from this machine's own addresses; for tests only")
	}
	log.Info("OAuth authorization server", "issuer", as.Issuer(), "resource", as.Resource())
	return as, nil
}

// checkKey makes the sign-in page's one real read: the first customer, with
// the key being signed in. The page has already refused a key that cannot
// be a Skimmer key (skimmer.CheckAPIKey), so only a well-formed one is
// sent.
func checkKey(up *upstream) func(ctx context.Context, key string) error {
	return func(ctx context.Context, key string) error {
		_, err := up.client.WithAPIKey(key).SearchCustomers(ctx, sieve.Query{Page: 1, PageSize: 1})
		if errors.Is(err, skimmer.ErrUnauthorized) || errors.Is(err, skimmer.ErrForbidden) {
			return fmt.Errorf("%w: %w", oauth.ErrKeyRejected, err)
		}
		return err
	}
}
