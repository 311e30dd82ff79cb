package gateway

import (
	"net/http"
	"net/url"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/gateway/httpsafe"
	"github.com/authgate/gateway/store"
)

// forwardAuth answers nginx auth_request, Traefik ForwardAuth and Caddy
// forward_auth: 200 with the identity headers when the session is valid,
// else 401 — or, with ?redirect=1 and a browser, 302 to the login page with
// rd set to the original path (taken from the headers of trusted proxies
// only, and kept only if it passes the redirect checks).
//
// The 401 carries the same login URL in a Location header: nginx passes on
// only the status of a refused auth_request, and its configuration picks
// the header up (auth_request_set $login $upstream_http_location) to send
// the browser there with a correctly escaped way back.
func (g *Gateway) forwardAuth(w http.ResponseWriter, r *http.Request) {
	if _, ok := g.forwardedPath(w, r); !ok {
		return
	}
	cur, outcome := g.apps.Authenticate(r)
	switch outcome {
	case store.Valid:
		g.Metrics.count(outcomeProxied)
		h := w.Header()
		h.Set(g.Config.Headers.User, cur.User.Username)
		h.Set(g.Config.Headers.Email, cur.User.Email)
		h.Set(g.Config.Headers.Groups, cur.User.GroupsHeader)
		w.WriteHeader(http.StatusOK)
		return
	case store.Unavailable:
		g.Metrics.count(outcomeUnavailable)
		g.unavailable(w, r)
		return
	case store.Ended:
		g.Metrics.count(outcomeRevoked)
		g.apps.ClearEnded(w, r)
	default:
		g.Metrics.count(outcomeUnauth)
	}
	target := g.prefix + "/login"
	if outcome == store.Pending {
		target += "/2fa"
	}
	login := target + "?rd=" + url.QueryEscape(g.cleanRD(g.originalURI(r)))
	if g.Config.HasPortal() {
		// Sign-in on the portal, back through this app host's callback.
		local := g.cleanRD(g.originalURI(r))
		login = g.portalLogin(g.appURL(r, local))
	}
	if r.URL.Query().Get("redirect") == "1" && web.WantsHTML(r) {
		http.Redirect(w, r, login, http.StatusFound)
		return
	}
	w.Header().Set("Location", login)
	web.WriteJSONError(w, http.StatusUnauthorized, "unauthenticated", "sign in required")
}

// forwardedPath reads the path of the original request from a trusted
// proxy's headers and decides on it as serveProtected does: a path with a
// control character or invalid UTF-8, one refused by escaped_slashes, or
// one whose readings pick different routes is answered 400 here (the
// fronting proxy passes the refusal on). "" means no path was given.
func (g *Gateway) forwardedPath(w http.ResponseWriter, r *http.Request) (string, bool) {
	uri := g.originalURI(r)
	if uri == "" {
		return "", true
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil || httpsafe.InvalidPath(u.Path) {
		g.badPath(w, r)
		return "", false
	}
	f := httpsafe.ReadPath(u)
	if f.EscapedSlash && g.Config.EscapedSlashes == config.EscapedSlashesReject {
		g.badPathMsg(w, r, "escaped_slash", "This address holds an encoded slash (%2F or %5C), which this site does not accept.")
		return "", false
	}
	if !g.pathAgrees(w, r, httpsafe.RequestHost(r, g.Config.TrustedPrefixes), &f) {
		return "", false
	}
	return f.Main, true
}

// originalURI is the path and query the person asked the fronting proxy
// for, read only from a trusted proxy: X-Forwarded-Uri (Traefik, Caddy),
// X-Original-URI (nginx), or the path of X-Original-URL. Only the local
// part is used, even when the proxy also names the host: the session
// cookie is host-only, so signing in happens on the app's own host (the
// proxy routes the prefix there) and the way back is a local path. An
// absolute URL would be refused unless that host were allow-listed, and
// the person would land on "/" instead.
func (g *Gateway) originalURI(r *http.Request) string {
	if !httpsafe.PeerTrusted(r, g.Config.TrustedPrefixes) {
		return ""
	}
	for _, h := range []string{"X-Forwarded-Uri", "X-Original-Uri"} {
		if v := r.Header.Get(h); v != "" {
			return v
		}
	}
	if full := r.Header.Get("X-Original-Url"); full != "" {
		if u, err := url.Parse(full); err == nil {
			return u.RequestURI()
		}
	}
	return ""
}
