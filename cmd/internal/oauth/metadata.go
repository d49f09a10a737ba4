package oauth

import (
	"net/http"

	"github.com/mark3labs/mcp-go/server"
)

// metadata answers RFC 8414 discovery: where the endpoints are and what
// they accept. Only S256 is offered for PKCE, so a client that cannot do
// it stops here rather than at the token endpoint.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                         s.issuer,
		"authorization_endpoint":                         s.issuer + "/authorize",
		"token_endpoint":                                 s.issuer + "/token",
		"registration_endpoint":                          s.issuer + "/register",
		"revocation_endpoint":                            s.issuer + "/revoke",
		"scopes_supported":                               scopesSupported,
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token"},
		"token_endpoint_auth_methods_supported":          authMethods,
		"revocation_endpoint_auth_methods_supported":     authMethods,
		"code_challenge_methods_supported":               []string{"S256"},
		"client_id_metadata_document_supported":          true,
		"authorization_response_iss_parameter_supported": true,
		"service_documentation":                          "https://github.com/skimmer-mcp/skimmer-mcp#add-it-to-claude-or-chatgpt-as-a-connector",
	})
}

var authMethods = []string{"none", "client_secret_basic", "client_secret_post"}

// protectedResource is RFC 9728 discovery for the MCP endpoint, served at
// the path-inserted well-known URL the 401 names and at the bare one that
// clients also try.
func (s *Server) protectedResource() http.Handler {
	return server.NewProtectedResourceMetadataHandler(server.ProtectedResourceMetadataConfig{
		Resource:               s.resource,
		AuthorizationServers:   []string{s.issuer},
		ScopesSupported:        scopesSupported,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "Skimmer",
	})
}
