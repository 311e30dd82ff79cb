package gateway

import (
	"net/http"

	"github.com/authgate/gateway/gateway/httpsafe"
	"github.com/authgate/gateway/store"
)

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

// forwardAssertion adds the signed identity to a forward-auth answer when
// the route of the original request (host and path from the trusted
// proxy's headers; the single upstream's setting without them) has it on,
// for the proxy to copy to the app. false means it answered 503: no key
// can sign yet, and the app must not get the request without it.
func (g *Gateway) forwardAssertion(w http.ResponseWriter, r *http.Request, cur *store.Principal, path string) bool {
	p := g.proxy
	if p.assert == nil {
		return true
	}
	host := httpsafe.RequestHost(r, g.Config.TrustedPrefixes)
	route := -1
	if path != "" {
		route = p.route(host, path)
	}
	if !p.assertFor(route) {
		return true
	}
	routeHost := ""
	if route >= 0 {
		routeHost = p.routes[route].Host
	}
	v, ok := p.assert.Header(cur, route, routeHost, host)
	if !ok {
		g.unavailable(w, r)
		return false
	}
	w.Header()[p.headers.Assertion] = v
	return true
}
