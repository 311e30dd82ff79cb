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
//
// Route rules apply as on the proxy, to the host and path the trusted proxy
// names (X-Forwarded-Host, X-Forwarded-Uri or X-Original-URI): a public
// path answers 200 without a session, a person the rules keep out gets 403,
// and a second factor or password that is due answers like a missing
// sign-in, leading to the confirm page instead of the login page.
func (g *Gateway) forwardAuth(w http.ResponseWriter, r *http.Request) {
	path, raw, ok := g.forwardedPath(w, r)
	if !ok {
		return
	}
	switch r.Header.Get("X-Forwarded-Method") {
	case http.MethodTrace, http.MethodConnect:
		if httpsafe.PeerTrusted(r, g.Config.TrustedPrefixes) {
			web.WriteJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed")
			return
		}
	}
	var rr *routeRule
	public := false
	if path != "" {
		rr = g.rule(g.proxy.route(httpsafe.RequestHost(r, g.Config.TrustedPrefixes), path))
		public = (httpsafe.IsPublicPath(path, g.Config.PublicPaths) || (rr != nil && httpsafe.IsPublicPath(path, rr.public))) &&
			!httpsafe.SuspiciousPath(raw)
	} else if g.hasRules {
		// Without the original path the rules cannot be applied: refuse
		// rather than let a rule-less answer through.
		g.Log.Warn("forward-auth without X-Forwarded-Uri from a trusted proxy while routes have rules; refused")
		g.renderErrorPage(w, r, http.StatusForbidden, "forward_auth_uri_missing", "No access",
			"The proxy in front of this site did not say which page was asked for, so access cannot be decided.")
		return
	}
	cur, outcome := g.apps.Authenticate(r)
	if outcome == store.Valid && !public {
		switch v := rr.decide(cur, g.apps.now()); v {
		case ruleForbidden:
			g.refuse(w, r, cur, rr)
			return
		case ruleMFA, ruleReauth:
			g.forwardStepUp(w, r, v)
			return
		}
	}
	if public && outcome != store.Valid {
		g.Metrics.count(outcomePublic)
		w.WriteHeader(http.StatusOK)
		return
	}
	switch outcome {
	case store.Valid:
		g.Metrics.count(outcomeProxied)
		h := w.Header()
		h.Set(g.Config.Headers.User, cur.User.Username)
		h.Set(g.Config.Headers.Email, cur.User.Email)
		h.Set(g.Config.Headers.Groups, cur.User.GroupsHeader)
		if !g.forwardAssertion(w, r, cur, path) {
			return
		}
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

// forwardStepUp asks for a second factor or the password through the
// fronting proxy: 401 with the confirm page in Location (nginx), or a 302
// there with ?redirect=1 and a browser (Caddy, Traefik).
func (g *Gateway) forwardStepUp(w http.ResponseWriter, r *http.Request, v ruleVerdict) {
	need, code := "password", "reauth_required"
	if v == ruleMFA {
		need, code = "mfa", "mfa_required"
	}
	g.Metrics.count(outcomeStepUp)
	target := g.stepUpURL(r, need, g.originalURI(r))
	if r.URL.Query().Get("redirect") == "1" && web.WantsHTML(r) {
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	w.Header().Set("Location", target)
	web.WriteJSONError(w, http.StatusUnauthorized, code, "confirm your sign-in to open this path")
}

// forwardedPath reads the path of the original request from a trusted
// proxy's headers and decides on it as serveProtected does: a path with a
// control character or invalid UTF-8, one refused by escaped_slashes, or
// one whose readings pick different routes is answered 400 here (the
// fronting proxy passes the refusal on). It returns the decision path and
// the escaped path as sent; "" means no path was given.
func (g *Gateway) forwardedPath(w http.ResponseWriter, r *http.Request) (string, string, bool) {
	uri := g.originalURI(r)
	if uri == "" {
		return "", "", true
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil || httpsafe.InvalidPath(u.Path) {
		g.badPath(w, r)
		return "", "", false
	}
	f := httpsafe.ReadPath(u)
	if f.EscapedSlash && g.Config.EscapedSlashes == config.EscapedSlashesReject {
		g.badPathMsg(w, r, "escaped_slash", "This address holds an encoded slash (%2F or %5C), which this site does not accept.")
		return "", "", false
	}
	if !g.pathAgrees(w, r, httpsafe.RequestHost(r, g.Config.TrustedPrefixes), &f) {
		return "", "", false
	}
	return f.Main, u.EscapedPath(), true
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
