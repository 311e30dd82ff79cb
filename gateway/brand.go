package gateway

import (
	"net/http"

	"github.com/authgate/gateway/templates"
)

// The operator's branding (config ui.*) reaches every page through the
// request's context: the pages' middleware puts it there (withBrand), and
// render adds it for the few pages served outside that middleware (proxy
// errors, the rate-limit page).

// brandCSSPath is the stylesheet with the accent colour, below the prefix.
// The colour cannot be an inline style: the pages' CSP allows stylesheets
// from the gateway only.
const brandCSSPath = "/static/brand.css"

// newBrand is the brand of the pages, from the validated configuration.
func (g *Gateway) newBrand() templates.Brand {
	ui := g.Config.UI
	b := templates.Brand{Title: ui.Title, LogoURL: ui.LogoURL, AppURL: ui.AppURL}
	if b.AppURL == "" && !g.Config.HasPortal() {
		b.AppURL = "/" // the app is on this same origin
	}
	if ui.Accent != "" {
		b.AccentCSS = g.prefix + brandCSSPath
	}
	return b
}

// withBrand puts the brand in the context of the gateway's own pages.
func (g *Gateway) withBrand(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(templates.WithBrand(r.Context(), g.brand)))
	})
}

// serveBrandCSS is the accent colour as a stylesheet. The colour is six
// hex digits (config checks it), so nothing else can end up in it. Dark
// mode keeps the colour for buttons (white text stays readable, as config
// checks) but not for links and outlines on a dark background, which keep
// the stylesheet's light accent.
func (g *Gateway) serveBrandCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write([]byte(":root{--accent:" + g.Config.UI.Accent + ";--button:" + g.Config.UI.Accent + "}\n" +
		"@media (prefers-color-scheme: dark){:root{--accent:var(--accent-dark)}}\n"))
}

// imgSources is the img-src of the pages' CSP: the gateway itself, data:
// URLs (the 2FA QR code), and the logo's origin when it lives elsewhere.
func (g *Gateway) imgSources() string {
	src := "'self' data:"
	if o := g.Config.UI.LogoOrigin(); o != "" {
		src += " " + o
	}
	return src
}
