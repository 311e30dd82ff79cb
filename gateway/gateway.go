// Package gateway is the request path: the session check on every proxied
// request, the reverse proxy, the forward-auth endpoint and the sign-in flows.
package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
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
}

// Deps are the gateway's collaborators, built in main.
type Deps struct {
	Config   *config.Config
	Users    UserStore
	Sessions *Sessions
	Hasher   *passwords.Hasher
	Metrics  *Metrics
	Log      *slog.Logger
	// MFA and TOTP serve the second sign-in step (login_2fa*.go).
	MFA  MFAStore
	TOTP *totp.Codec
	// Attempts limits password guessing on the sign-in form (per account
	// and per client, counters in Redis).
	Attempts *attempts.Guard
	// Pages is mounted under the prefix for everything the gateway itself
	// does not serve (the account page, the console, the API); may be nil.
	Pages http.Handler
	// AccessLog receives one JSON line per request to the apps (log.access);
	// nil turns the access log and request ids off.
	AccessLog io.Writer
}

// Gateway serves the public listener.
type Gateway struct {
	Deps
	prefix  string
	proxy   *proxy
	handler http.Handler
	limits  *rateLimiter // ratelimit.go: token buckets on proxied traffic
	access  *accessLog   // accesslog.go; nil when off
}

// New builds the gateway and its route table.
func New(d Deps) (*Gateway, error) {
	g := &Gateway{Deps: d, prefix: d.Config.PathPrefix}
	p, err := newProxy(d.Config, d.Sessions.CookieName(), d.Log, g.renderProxyError)
	if err != nil {
		return nil, err
	}
	p.ownCookies = []string{d.Sessions.CookieName(), g.knownBrowserName(), g.rememberCookieName()}
	g.proxy = p
	if d.AccessLog != nil {
		g.access = newAccessLog(d.AccessLog, d.Config.TrustedPrefixes, p.routeName)
		p.requestIDs = true
	}
	g.limits = newRateLimiter(d.Config, p.pick)
	g.handler = g.routes()
	return g, nil
}

// routes is the one route table of the public listener. Order of the
// middleware on the gateway's own pages, outermost first: security headers,
// cross-origin protection for state-changing requests, then the handler.
func (g *Gateway) routes() http.Handler {
	pages := http.NewServeMux()
	p := g.prefix
	pages.HandleFunc("GET "+p+"/login", g.showLoginPage)
	pages.HandleFunc("POST "+p+"/login", g.submitLogin)
	pages.HandleFunc("POST "+p+"/logout", g.submitLogout)
	pages.HandleFunc("GET "+p+"/auth", g.forwardAuth)
	g.mfaRoutes(pages)   // login_2fa*.go: /login/2fa, /login/2fa/setup
	g.resetRoutes(pages) // password_reset*.go: one-time reset links
	pages.Handle("GET "+p+"/static/", http.StripPrefix(p, staticHandler()))
	if g.Pages != nil {
		pages.Handle(p+"/", g.Pages)
	} else {
		pages.HandleFunc(p+"/", g.notFound)
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(g.crossOriginDenied))
	own := securityHeaders(cop.Handler(pages), g.Config.Cookie.Secure, g.Config.RedirectHosts)

	root := http.NewServeMux()
	root.Handle(p+"/", own)
	root.Handle(p, http.RedirectHandler(p+"/account", http.StatusFound))
	root.Handle("/", http.HandlerFunc(g.serveProtected))
	return root
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.handler.ServeHTTP(w, r) }

func staticHandler() http.Handler {
	fs := http.FileServerFS(templates.Static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fs.ServeHTTP(w, r)
	})
}
