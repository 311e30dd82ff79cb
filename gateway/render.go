package gateway

import (
	"net/http"

	"github.com/a-h/templ"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// securityHeaders hardens every page the gateway serves itself: a strict CSP
// (no scripts at all), no framing, no caching, no sniffing, no referrer.
func securityHeaders(next http.Handler, hsts bool, imgSrc, formAction string) http.Handler {
	csp := "default-src 'none'; style-src 'self'; img-src " + imgSrc + "; form-action " + formAction +
		"; frame-ancestors 'none'; base-uri 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// render writes a templ component as an HTML page with a status.
func (g *Gateway) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	if !templates.HasBrand(r.Context()) {
		r = r.WithContext(templates.WithBrand(r.Context(), g.brand)) // a page served outside withBrand
	}
	web.RenderPage(g.Log, w, r, status, c)
}

// renderErrorPage answers with a full page for browsers and JSON otherwise.
func (g *Gateway) renderErrorPage(w http.ResponseWriter, r *http.Request, status int, code, title, msg string) {
	if !web.WantsHTML(r) {
		web.WriteJSONError(w, status, code, msg)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src "+g.imgSources()+"; frame-ancestors 'none'")
	c := templates.Chrome{Title: title, Prefix: g.prefix}
	if status != http.StatusServiceUnavailable { // the store it could not reach is not asked again
		c = g.chromeFor(r, title)
	}
	g.render(w, r, status, templates.Error(templates.ErrorPage{Chrome: c, Status: status, Message: msg}))
}

// chromeFor is the frame of a page for whoever asks: with the navigation
// when the request carries a valid session of this host (the portal's
// cookie on the portal, the app host's on an app host, which has no
// console).
func (g *Gateway) chromeFor(r *http.Request, title string) templates.Chrome {
	c := templates.Chrome{Title: title, Prefix: g.prefix}
	s, appHost := g.Sessions, g.Config.HasPortal() && !g.isPortal(r)
	if appHost {
		s = g.apps
	}
	if cur, outcome := s.Authenticate(r); outcome == store.Valid {
		c.SignedIn, c.Username = true, cur.User.Username
		c.Staff = !appHost && (cur.User.HasRole(store.RoleSupport) || cur.User.HasRole(store.RoleAdmin))
	}
	return c
}

func (g *Gateway) notFound(w http.ResponseWriter, r *http.Request) {
	if web.DropTrailingSlash(w, r, g.prefix) {
		return
	}
	g.renderErrorPage(w, r, http.StatusNotFound, "not_found", "Not found", "There is no page at this address.")
}

func (g *Gateway) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	g.Log.Warn("cross-origin request refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"))
	g.renderErrorPage(w, r, http.StatusForbidden, "cross_origin", "Request refused",
		"This request came from another site and was refused. Go back to the page and try again.")
}

func (g *Gateway) unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	g.renderErrorPage(w, r, http.StatusServiceUnavailable, "unavailable", "Temporarily unavailable",
		"Sign-in checks are unavailable right now, so nothing is let through. Please try again in a few seconds.")
}
