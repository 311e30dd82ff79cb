package gateway

import (
	"net/http"
	"net/url"
	"time"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
)

// serveProtected is the hot path: every request for the upstream app. The
// upstream gets the path as sent; every decision is made on its readings
// (paths.go), and a path whose readings disagree is refused.
func (g *Gateway) serveProtected(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { g.Metrics.observe(time.Since(start)) }()
	cleaned, ok := g.readPath(w, r)
	if !ok {
		return
	}
	if g.access == nil {
		g.protect(w, r, cleaned, start, nil)
		return
	}
	rec, id := g.access.begin(w, r) // accesslog.go
	var user string
	g.protect(rec, r, cleaned, start, &user)
	g.access.end(rec, r, id, user, cleaned, start)
}

// protect decides and answers one request for the apps; user, when not
// nil, receives the name of the signed-in user it was proxied for.
func (g *Gateway) protect(w http.ResponseWriter, r *http.Request, cleaned string, start time.Time, user *string) {
	// TRACE echoes requests (headers included) and CONNECT asks for a
	// tunnel: neither has a place in front of a web app.
	if r.Method == http.MethodTrace || r.Method == http.MethodConnect {
		w.Header().Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
		web.WriteJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed")
		return
	}
	rr := g.rule(g.proxy.route(r.Host, cleaned)) // rules.go; nil for the fallback upstream
	public := g.isPublic(r, cleaned) || g.routePublic(rr, r, cleaned)
	cur, outcome := g.apps.Authenticate(r)
	switch {
	case outcome == store.Valid:
		if user != nil {
			*user = cur.User.Username
		}
		// The route's rules, decided from the cookie and the in-memory
		// user state. A public path is open to anyone, rules or not.
		if !public {
			switch v := rr.decide(cur, g.apps.now()); v {
			case ruleForbidden:
				g.refuse(w, r, cur, rr)
				return
			case ruleMFA, ruleReauth:
				g.askToStepUp(w, r, v, r.URL.RequestURI())
				return
			}
		}
		// Public paths included: a signed-in person keeps their identity
		// there (unlike oauth2-proxy skip-auth routes), so a public page can
		// greet them; the headers are the gateway's, never the client's.
		if g.rateLimited(w, r, cleaned, cur, start) { // ratelimit_http.go
			return
		}
		g.Metrics.count(outcomeProxied)
		// Cut off if the session ends before the request does (open_requests.go).
		r, open := g.apps.open.track(r, cur)
		defer g.apps.open.untrack(open)
		g.proxy.serve(w, r, cleaned, cur)
		return
	case public:
		// Anonymous, even when a cookie could not be checked: a public path
		// needs no session, and no identity header is set.
		if g.rateLimited(w, r, cleaned, nil, start) {
			return
		}
		g.Metrics.count(outcomePublic)
		if outcome == store.Ended {
			g.apps.ClearEnded(w, r)
		}
		g.proxy.serve(w, r, cleaned, nil)
		return
	case outcome == store.Unavailable:
		g.Metrics.count(outcomeUnavailable)
		g.unavailable(w, r)
		return
	case outcome == store.Ended:
		g.Metrics.count(outcomeRevoked)
		g.apps.ClearEnded(w, r)
	default:
		g.Metrics.count(outcomeUnauth)
	}
	g.askToSignIn(w, r, outcome == store.Pending)
}

// askToSignIn sends a browser to the login page (back here afterwards) and
// answers anything else with 401 JSON.
func (g *Gateway) askToSignIn(w http.ResponseWriter, r *http.Request, pending bool) {
	if !web.WantsHTML(r) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		w.Header().Set("WWW-Authenticate", `Cookie realm="gateway"`)
		web.WriteJSONError(w, http.StatusUnauthorized, "unauthenticated", "sign in required")
		return
	}
	if g.Config.HasPortal() {
		// Sign-in happens on the portal, which hands the session back to
		// this host through its callback (handoff.go).
		http.Redirect(w, r, g.portalLogin(g.appURL(r, r.URL.RequestURI())), http.StatusFound)
		return
	}
	target := g.prefix + "/login"
	if pending {
		target = g.prefix + "/login/2fa"
	}
	http.Redirect(w, r, target+"?rd="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
}
