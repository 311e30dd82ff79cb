package gateway

import (
	"github.com/authgate/gateway/store"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// forwardAuth answers nginx auth_request, Traefik ForwardAuth and Caddy
// forward_auth: 200 with the identity headers when the session is valid,
// else 401 — or, with ?redirect=1 and a browser, 302 to the login page with
// rd set to the original URL (taken from X-Forwarded-* of trusted proxies
// only, and kept only if it passes the redirect allow-list).
func (g *Gateway) forwardAuth(w http.ResponseWriter, r *http.Request) {
	cur, outcome := g.Sessions.Authenticate(r)
	switch outcome {
	case store.Valid:
		g.Metrics.count(outcomeProxied)
		h := w.Header()
		h.Set(g.Config.Headers.User, cur.User.Username)
		h.Set(g.Config.Headers.Email, cur.User.Email)
		h.Set(g.Config.Headers.Groups, cur.User.Groups)
		w.WriteHeader(http.StatusOK)
		return
	case store.Unavailable:
		g.Metrics.count(outcomeUnavailable)
		g.unavailable(w, r)
		return
	case store.Ended:
		g.Metrics.count(outcomeRevoked)
		g.Sessions.Clear(w)
	default:
		g.Metrics.count(outcomeUnauth)
	}
	if r.URL.Query().Get("redirect") == "1" && wantsHTML(r) {
		rd := g.cleanRD(g.originalURL(r))
		target := g.prefix + "/login"
		if outcome == store.Pending {
			target += "/2fa"
		}
		http.Redirect(w, r, target+"?rd="+url.QueryEscape(rd), http.StatusFound)
		return
	}
	writeJSONError(w, http.StatusUnauthorized, "unauthenticated", "sign in required")
}

// peerTrusted reports whether the direct peer is a configured trusted proxy.
func peerTrusted(r *http.Request, trusted []netip.Prefix) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// originalURL rebuilds the URL the person asked the fronting proxy for.
func (g *Gateway) originalURL(r *http.Request) string {
	if !peerTrusted(r, g.Config.TrustedPrefixes) {
		return ""
	}
	uri := r.Header.Get("X-Forwarded-Uri")
	if uri == "" {
		uri = r.Header.Get("X-Original-Uri")
	}
	if full := r.Header.Get("X-Original-Url"); full != "" && uri == "" {
		return full
	}
	host := r.Header.Get("X-Forwarded-Host")
	proto := strings.ToLower(r.Header.Get("X-Forwarded-Proto"))
	if host == "" || (proto != "http" && proto != "https") || !strings.HasPrefix(uri, "/") {
		return uri
	}
	return proto + "://" + host + uri
}
