package gateway

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/authgate/gateway/gateway/httpsafe"
)

// With portal_url set, the gateway's pages and API live on the portal's
// origin only. A script in an app's page is same-origin with everything on
// the app's host, so on app hosts the prefix serves just what a browser
// needs there: the sign-in handoff, sign-out, forward-auth and the static
// files; the rest answers 404, and the account page and login redirect to
// the portal.

// isPortal reports whether r is for the portal: its Host (or a trusted
// proxy's X-Forwarded-Host) is the portal's host and port, compared
// exactly, the host without regard to case. It allocates nothing.
func (g *Gateway) isPortal(r *http.Request) bool {
	return strings.EqualFold(httpsafe.RequestHost(r, g.Config.TrustedPrefixes), g.Config.PortalHost)
}

// appRoutes is the prefix on app hosts when there is a portal.
func (g *Gateway) appRoutes(mux *http.ServeMux) {
	p := g.prefix
	mux.HandleFunc("GET "+p+"/callback", g.acceptHandoff) // handoff.go
	mux.HandleFunc("GET "+p+"/logout", g.showLogout)
	mux.HandleFunc("POST "+p+"/logout", g.submitAppLogout)
	mux.HandleFunc("GET "+p+"/auth", g.forwardAuth)
	mux.Handle("GET "+p+"/static/", http.StripPrefix(p, staticHandler()))
	if g.brand.AccentCSS != "" {
		mux.HandleFunc("GET "+p+brandCSSPath, g.serveBrandCSS)
	}
	g.jwksRoute(mux)
	mux.HandleFunc("GET "+p+"/login", g.appLogin)
	mux.HandleFunc("GET "+p+"/account", g.toPortal(p+"/account"))
	mux.HandleFunc(p+"/", g.notFound)
}

// portalRoot serves the portal's host outside the prefix: nothing is
// proxied on the portal's origin, "/" leads to the account page.
func (g *Gateway) portalRoot(own http.Handler) http.Handler {
	p := g.prefix
	mux := http.NewServeMux()
	mux.Handle(p+"/", own)
	mux.Handle(p, http.RedirectHandler(p+"/account", http.StatusFound))
	mux.Handle("GET /{$}", http.RedirectHandler(p+"/account", http.StatusFound))
	mux.HandleFunc("/", g.notFound)
	return mux
}

// toPortal redirects to a page of the portal.
func (g *Gateway) toPortal(path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, g.Config.PortalPage(path), http.StatusFound)
	}
}

// appLogin sends a login link opened on an app host to the portal, with
// the way back made absolute on this host.
func (g *Gateway) appLogin(w http.ResponseWriter, r *http.Request) {
	rd := r.URL.Query().Get("rd")
	if rd == "" || strings.HasPrefix(rd, "/") {
		// The way back is this host's callback, tagged with this browser
		// (handoff.go), so the code the portal makes works only here.
		local := g.cleanRD(rd)
		rd = g.appURL(r, g.prefix+"/callback?browser="+g.browserTag(w, r)+"&rd="+url.QueryEscape(local))
	}
	http.Redirect(w, r, g.portalLogin(rd), http.StatusFound)
}

// appURL is the absolute URL of a local path on the request's host.
func (g *Gateway) appURL(r *http.Request, local string) string {
	fallback := "http"
	if g.Config.Cookie.Secure {
		fallback = "https"
	}
	scheme := httpsafe.RequestScheme(r, g.Config.TrustedPrefixes, fallback)
	return scheme + "://" + httpsafe.RequestHost(r, g.Config.TrustedPrefixes) + local
}

// portalLogin is the portal's sign-in page with a way back, checked first
// (a refused one becomes the portal's own start page).
func (g *Gateway) portalLogin(rd string) string {
	return g.Config.PortalPage(g.prefix+"/login") + "?rd=" + url.QueryEscape(g.cleanRD(rd))
}

// allowedRedirectHosts is where rd may lead besides local paths:
// redirect_hosts, the hosts of routes and the portal's host and port.
func (g *Gateway) allowedRedirectHosts() []string {
	out := append([]string{}, g.Config.RedirectHosts...)
	for _, rt := range g.Config.Routes {
		h := rt.Host
		if h == "" {
			continue
		}
		if strings.Contains(h, ":") {
			h = "[" + h + "]" // an IPv6 route host
		}
		out = append(out, h)
	}
	if g.Config.HasPortal() {
		out = append(out, g.Config.PortalHost)
	}
	return out
}

// formActionSources lists, for the pages' CSP, where a form post may lead:
// Chrome applies form-action to the redirect after the post, and sign-in
// on the portal ends in a redirect to an app host (any port, since rd
// allows any port).
func formActionSources(hosts []string, secure bool, portal string) string {
	scheme := "https://"
	if !secure {
		scheme = "http://" // also allows https in CSP3
	}
	out := "'self'"
	for _, h := range hosts {
		if strings.HasPrefix(h, "[") {
			continue // CSP has no syntax for IPv6 literals
		}
		if strings.Contains(h, ":") {
			out += " " + scheme + h
			continue
		}
		if base, ok := strings.CutPrefix(h, "."); ok {
			out += " " + scheme + "*." + base + ":*"
			h = base
		}
		out += " " + scheme + h + ":*"
	}
	if portal != "" {
		out += " " + portal
	}
	return out
}
