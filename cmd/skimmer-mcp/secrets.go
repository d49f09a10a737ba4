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

// checkSecrets holds the environment-only secrets to one rule. A secret
// that is set must be long enough. A hosted server whose replicas must
// share a secret to work at all refuses to start on an open address
// without it, saying how to make one: SKIMMER_OAUTH_KEY with --oauth (see
// check), SKIMMER_CONFIRM_KEY with --store, since a confirmation sealed by
// one replica opens on another only under the same key. On loopback, a
// demo or a test on one machine, each only warns.
func (c *config) checkSecrets() error {
	if c.confirmKey != "" && len(c.confirmKey) < minConfirmKey {
		return fmt.Errorf("SKIMMER_CONFIRM_KEY is %d bytes long; use at least %d random bytes, e.g. the output of `openssl rand -base64 32`", len(c.confirmKey), minConfirmKey)
	}
	hosted := c.transport != "stdio" && (c.command == "" || c.command == "serve")
	if hosted && c.store != "" && c.confirmKey == "" && !loopback.Addr(c.addr) {
		return fmt.Errorf("--store on %s needs SKIMMER_CONFIRM_KEY, the same on every replica: it seals confirmations, and one sealed by one replica is refused by another under a different key; make one with `openssl rand -base64 32`", c.addr)
	}
	if c.oauth && c.oauthTestLoopback && !loopback.Addr(c.addr) {
		return fmt.Errorf("SKIMMER_OAUTH_TEST_LOOPBACK_METADATA=1 lets sign-in fetch client metadata documents from this machine's own addresses, for tests; it is refused on %s: unset it, or listen on loopback", c.addr)
	}
	return nil
}
