// Package gateway is the request path: the session check on every proxied
// request, the reverse proxy, the forward-auth endpoint and the sign-in flows.
package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/gateway/assertion"
	"github.com/authgate/gateway/gateway/httpsafe"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
	"github.com/authgate/gateway/store/passkeys"
	"github.com/authgate/gateway/store/passwords"
	"github.com/authgate/gateway/store/totp"
	"github.com/authgate/gateway/templates"
)

// UserStore is what the sign-in flows need from persistence.
type UserStore interface {
	FindUserByName(ctx context.Context, name string) (*store.User, error)
	FindUserByID(ctx context.Context, uid string) (*store.User, error)
	AppendEvent(ctx context.Context, uid string, e store.Event) error
	FindEvents(ctx context.Context, uid string, n int64) ([]store.Event, error)
	// CountFailedSignIn counts a failure on an unknown username for the
	// console's hourly figures (known accounts are counted with their event).
	CountFailedSignIn(ctx context.Context) error
}

// Deps are the gateway's collaborators, built in main.
type Deps struct {
	Config *config.Config
	Users  UserStore
	// Sessions is the cookie of the gateway's pages: the portal's cookie
	// when portal_url is set, else the one cookie of the shared origin.
	Sessions *Sessions
	// AppSessions is the cookie on app hosts (the proxy, forward-auth, the
	// handoff); nil means Sessions (no portal). Both name the same
	// server-side sessions.
	AppSessions *Sessions
	// Handoffs keeps the one-time codes that carry a portal sign-in to an
	// app host (handoff.go); needed with portal_url.
	Handoffs HandoffStore
	Hasher   *passwords.Hasher
	Metrics  *Metrics
	Log      *slog.Logger
	// MFA and TOTP serve the second sign-in step (login_2fa*.go).
	MFA  MFAStore
	TOTP *totp.Codec
	// Passkeys runs the WebAuthn ceremonies of sign-in (passkey*.go); nil
	// turns passkeys off.
	Passkeys *passkeys.Service
	// Attempts limits password guessing on the sign-in form (per account
	// and per client, counters in Redis).
	Attempts *attempts.Guard
	// Pages is mounted under the prefix for everything the gateway itself
	// does not serve (the account page, the console, the API); may be nil.
	Pages http.Handler
	// AccessLog receives one JSON line per request to the apps (log.access);
	// nil turns the access log and request ids off.
	AccessLog io.Writer
	// MailOn says mail can be sent (smtp.url, or the demo's mail box): it
	// offers "Forgot password?" and the address confirmation page.
	MailOn bool
	// Assertions signs the identity for routes that have the assertion
	// on and serves the public keys; nil when no route has it.
	Assertions *assertion.Issuer
}

// Gateway serves the public listener.
type Gateway struct {
	Deps
	prefix  string
	proxy   *proxy
	handler http.Handler    // the apps' hosts (everything, without a portal)
	portal  http.Handler    // the portal's host; nil without a portal
	apps    *Sessions       // the cookie on app hosts
	rdHosts []string        // where rd may lead besides local paths (portal.go)
	limits  *rateLimiter    // ratelimit.go: token buckets on proxied traffic
	access  *accessLog      // accesslog.go; nil when off
	brand   templates.Brand // brand.go: config ui.*, shown on every page
	rules   []routeRule     // rules.go: the access rules of proxy.routes, index for index
	// hasRules is set when some route has rules: forward-auth then needs
	// the original path.
	hasRules bool
}

// New builds the gateway and its route table.
func New(d Deps) (*Gateway, error) {
	g := &Gateway{Deps: d, prefix: d.Config.PathPrefix, apps: d.AppSessions}
	if g.apps == nil {
		g.apps = d.Sessions
	}
	if d.Config.HasPortal() && d.Handoffs == nil {
		return nil, errors.New("portal_url needs a handoff store")
	}
	g.rdHosts = g.allowedRedirectHosts()
	p, err := newProxy(d.Config, g.apps.CookieName(), d.Log, g.renderProxyError)
	if err != nil {
		return nil, err
	}
	p.ownCookies = []string{g.apps.CookieName(), g.knownBrowserName(), g.rememberCookieName(), g.handoffCookieName(), g.passkeyCookieName()}
	if d.Sessions.CookieName() != g.apps.CookieName() {
		// A portal on another port of an app's host gets its cookie sent to
		// the app too: never pass it on, never let the app set it.
		p.portalCookie = d.Sessions.CookieName()
		p.ownCookies = append(p.ownCookies, p.portalCookie)
	}
	p.assert, p.assertFailed = d.Assertions, g.unavailable
	g.proxy = p
	g.rules = newRouteRules(p.routes)
	for i := range d.Config.Routes {
		g.hasRules = g.hasRules || d.Config.Routes[i].HasRules()
	}
	if d.AccessLog != nil {
		g.access = newAccessLog(d.AccessLog, d.Config.TrustedPrefixes, p.routeName)
		p.requestIDs = true
	}
	g.limits = newRateLimiter(d.Config, p.pick)
	g.brand = g.newBrand()
	g.handler = g.routes()
	return g, nil
}

// routes builds the route tables of the public listener: the full set of
// pages (on the portal's host, or on every host without a portal) and,
// with a portal, the few prefix routes of app hosts (portal.go). Order of
// the middleware on the gateway's own pages, outermost first: security
// headers, cross-origin protection for state-changing requests, then the
// handler.
func (g *Gateway) routes() http.Handler {
	pages := http.NewServeMux()
	p := g.prefix
	pages.HandleFunc("GET "+p+"/login", g.showLoginPage)
	pages.HandleFunc("POST "+p+"/login", g.submitLogin)
	pages.HandleFunc("GET "+p+"/logout", g.showLogout)
	pages.HandleFunc("POST "+p+"/logout", g.submitLogout)
	if !g.Config.HasPortal() {
		pages.HandleFunc("GET "+p+"/auth", g.forwardAuth) // on app hosts only, with a portal
	}
	g.mfaRoutes(pages)     // login_2fa*.go: /login/2fa, /login/2fa/setup
	g.confirmRoutes(pages) // stepup.go: /login/confirm, for routes with mfa or reauth
	g.passkeyRoutes(pages) // passkey*.go: /login/passkey/…, /login/2fa/passkey
	g.resetRoutes(pages)   // password_reset*.go: one-time reset links
	g.forgotRoutes(pages)  // forgot.go: "Forgot password?" mails a reset link
	g.wasntMeRoutes(pages) // wasntme.go: "This wasn't me" in new-device alerts
	g.emailRoutes(pages)   // email_confirm.go: confirm an address added on the account page
	pages.Handle("GET "+p+"/static/", http.StripPrefix(p, staticHandler()))
	if g.brand.AccentCSS != "" {
		pages.HandleFunc("GET "+p+brandCSSPath, g.serveBrandCSS)
	}
	g.jwksRoute(pages)
	if g.Pages != nil {
		pages.Handle(p+"/", g.Pages)
	} else {
		pages.HandleFunc(p+"/", g.notFound)
	}
	own := g.harden(pages)

	root := http.NewServeMux()
	root.Handle("/", http.HandlerFunc(g.serveProtected))
	if !g.Config.HasPortal() {
		root.Handle(p+"/", own)
		root.Handle(p, http.RedirectHandler(p+"/account", http.StatusFound))
		return root
	}
	g.portal = g.portalRoot(own)
	apps := http.NewServeMux()
	g.appRoutes(apps)
	root.Handle(p+"/", g.harden(apps))
	root.Handle(p, g.toPortal(p+"/account"))
	return root
}

// harden wraps the gateway's own pages: security headers, then
// cross-origin protection for state-changing requests.
func (g *Gateway) harden(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(g.crossOriginDenied))
	portal := ""
	if g.Config.HasPortal() {
		portal = g.Config.PortalPage("")
	}
	return securityHeaders(cop.Handler(g.withBrand(h)), g.Config.Cookie.Secure, g.imgSources(), formActionSources(g.rdHosts, g.Config.Cookie.Secure, portal))
}

// ServeHTTP implements http.Handler.
// The host is decided once, here: the portal's host gets the pages, every
// other host the apps.
//
// A path holding a control character or invalid UTF-8 is refused first,
// on every host, signed in or not (paths.go).
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if httpsafe.InvalidPath(r.URL.Path) {
		g.badPath(w, r)
		return
	}
	if g.portal != nil && g.isPortal(r) {
		g.portal.ServeHTTP(w, r)
		return
	}
	if g.plainAppPath(r) {
		g.serveProtected(w, r)
		return
	}
	g.handler.ServeHTTP(w, r)
}

// plainAppPath reports whether r can skip the route table and go straight
// to the apps: a clean path with no escapes, outside the prefix. For such
// a path the table picks "/" (serveProtected) without redirecting, so
// skipping it changes nothing but the cost: matching "/" allocates the
// wildcard's match list on every proxied request. Anything else (dot
// segments, doubled slashes, escapes such as %2E that could spell the
// prefix, CONNECT) still goes through the table as before.
func (g *Gateway) plainAppPath(r *http.Request) bool {
	if r.Method == http.MethodConnect || r.URL.RawPath != "" {
		return false
	}
	path := r.URL.Path
	if len(path) == 0 || path[0] != '/' || strings.HasPrefix(path, g.prefix) {
		return false
	}
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '%':
			return false
		case '/':
			// "//", "/./" and "/../" (or the same at the end) are not clean.
			rest := path[i+1:]
			if strings.HasPrefix(rest, "/") || rest == "." || rest == ".." ||
				strings.HasPrefix(rest, "./") || strings.HasPrefix(rest, "../") {
				return false
			}
		}
	}
	return true
}

func staticHandler() http.Handler {
	fs := http.FileServerFS(templates.Static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fs.ServeHTTP(w, r)
	})
}
