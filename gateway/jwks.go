package gateway

import "net/http"

// jwksRoute serves the assertion's public keys at
// {prefix}/.well-known/jwks.json, on the portal and on every app host, so
// an app fetches them from its own origin. Without assertions the path is
// not found like any other.
func (g *Gateway) jwksRoute(mux *http.ServeMux) {
	if g.Assertions == nil {
		return
	}
	mux.HandleFunc("GET "+g.prefix+"/.well-known/jwks.json", g.Assertions.ServeJWKS)
}
