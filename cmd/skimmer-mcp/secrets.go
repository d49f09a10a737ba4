package main

import (
	"fmt"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/loopback"
	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/oauth"
)

// minConfirmKey is the shortest SKIMMER_CONFIRM_KEY accepted: the same as
// for SKIMMER_OAUTH_KEY, since it too is a key that replicas share and a
// stranger must not guess.
const minConfirmKey = oauth.MinKeyLength

// minAuthToken is the shortest SKIMMER_AUTH_TOKEN accepted: a shared
// secret that callers send, as long as the keys above.
const minAuthToken = 32

// makeSecret is how every secret here is made: one command, the same in
// every sentence and in the README.
const makeSecret = "`openssl rand -hex 32`"

// readmeTokenPlaceholder is the example token an earlier README printed;
// copied as it was, it would be accepted as a real token.
const readmeTokenPlaceholder = "replace-with-a-long-random-string"

// checkSecrets holds the environment-only secrets to one rule. A secret
// that is set must be long enough. A hosted server whose replicas must
// share a secret to work at all refuses to start on an open address
// without it, saying how to make one: SKIMMER_OAUTH_KEY with --oauth (see
// check), SKIMMER_CONFIRM_KEY with --store, since a confirmation sealed by
// one replica opens on another only under the same key. On loopback, a
// demo or a test on one machine, each only warns.
func (c *config) checkSecrets() error {
	if c.confirmKey != "" && len(c.confirmKey) < minConfirmKey {
		return fmt.Errorf("SKIMMER_CONFIRM_KEY is %d characters long; use at least %d random characters, made with %s", len(c.confirmKey), minConfirmKey, makeSecret)
	}
	for _, k := range []struct{ name, v string }{{"SKIMMER_OAUTH_KEY", c.oauthKey}, {"SKIMMER_OAUTH_KEY_PREVIOUS", c.oauthKeyPrevious}} {
		if c.oauth && k.v != "" && len(k.v) < oauth.MinKeyLength {
			return fmt.Errorf("%s is %d characters long; use at least %d random characters, made with %s", k.name, len(k.v), oauth.MinKeyLength, makeSecret)
		}
	}
	hosted := c.transport != "stdio" && (c.command == "" || c.command == "serve")
	if hosted && c.authToken != "" {
		// The token is all that stands between the server's key (or its
		// places for sessions) and anyone who can reach it.
		switch {
		case c.authToken == readmeTokenPlaceholder:
			return fmt.Errorf("%s is the README's example, not a token: make one with %s, and give it to the people who use this server", c.named("auth-token"), makeSecret)
		case len(c.authToken) < minAuthToken:
			return fmt.Errorf("%s is %d characters long; use at least %d random characters, made with %s: a short one can be guessed", c.named("auth-token"), len(c.authToken), minAuthToken, makeSecret)
		}
	}
	if hosted && c.store != "" && c.confirmKey == "" && !loopback.Addr(c.addr) {
		return fmt.Errorf("%s on %s needs SKIMMER_CONFIRM_KEY, the same on every replica: it seals confirmations, and one sealed by one replica is refused by another under a different key; make one with %s", c.named("store"), c.addr, makeSecret)
	}
	if c.oauth && c.oauthTestLoopback && !loopback.Addr(c.addr) {
		return fmt.Errorf("SKIMMER_OAUTH_TEST_LOOPBACK_METADATA=1 lets sign-in fetch client metadata documents from this machine's own addresses, for tests; it is refused on %s: unset it, or listen on loopback", c.addr)
	}
	return nil
}
