// Package server wires the gateway together: store, revocation mirror,
// sessions, handlers and both listeners. cmd/gateway calls it; tests use it
// to run a real gateway on loopback.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"

	"github.com/authgate/gateway/admin"
	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/gateway"
	"github.com/authgate/gateway/gateway/assertion"
	"github.com/authgate/gateway/gateway/httpsafe"
	"github.com/authgate/gateway/notify"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
	"github.com/authgate/gateway/store/passkeys"
	"github.com/authgate/gateway/store/passwords"
	"github.com/authgate/gateway/store/totp"
)

// App is one running gateway: store, mirror, handlers and both listeners.
type App struct {
	Config *config.Config
	Log    *slog.Logger
	Store  *store.Store
	Mirror *store.Mirror
	// Sessions is the cookie on app hosts (cookie.name); PortalSessions the
	// cookie of the gateway's pages: cookie.portal_name on the portal, the
	// same as Sessions without one. Both name the same sessions.
	Sessions       *gateway.Sessions
	PortalSessions *gateway.Sessions
	Hasher         *passwords.Hasher
	// Notify delivers the outbox: mail alerts and webhooks.
	Notify  *notify.Worker
	Handler http.Handler
	Ops     http.Handler
	// Assertions signs the identity for the apps; nil when no route has
	// the assertion on.
	Assertions *assertion.Issuer

	// PublicAddr, OpsAddr and PortalAddr are the bound addresses after
	// Listen (PortalAddr only with portal_listen).
	PublicAddr, OpsAddr, PortalAddr string
	portalLn                        net.Listener
	publicLn                        net.Listener
	servers                         []*http.Server
	cancel                          context.CancelFunc
	done                            chan struct{}
	notifyDone                      chan struct{} // closed when the outbox worker stopped
}

// Options lets tests and the demo tune what production leaves alone.
type Options struct {
	// HashParams overrides the argon2id parameters (tests use cheap ones).
	HashParams passwords.Params
	// Now is the sessions' clock (nil means time.Now); tests move it forward
	// to reach idle and absolute expiry without sleeping.
	Now func() time.Time
	// AccessLog is where access lines go when log.access is on (nil means
	// standard error, next to the other log lines).
	AccessLog io.Writer
	// PortalListener, when set, is used instead of binding portal_listen
	// (tests and the demo bind it first, to know the portal's URL).
	PortalListener net.Listener
	// PublicListener, when set, is used instead of binding listen (the
	// demo binds it first, to give the pages its "Back to the app" URL).
	PublicListener net.Listener
	// MailBox, when set, takes the mail instead of smtp.url (the demo
	// shows it on a page).
	MailBox *notify.MemoryBox
	// AssertionRefresh is how often the assertion keys are read again
	// (0: ten seconds); tests shorten it to see a rotation quickly.
	AssertionRefresh time.Duration
}

// NewLogger builds the slog logger the configuration asks for.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// New opens the store and builds every handler; nothing listens yet.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opt Options) (*App, error) {
	// No ping: the gateway starts even when Redis is not reachable yet.
	st, err := store.NewWith(cfg.Redis.URL, store.Options{Timeout: cfg.Redis.Timeout.Duration, MaxBlock: cfg.Redis.WaitTimeout.Duration}, log)
	if err != nil {
		return nil, err
	}
	st.WaitReplicas, st.WaitTimeout = cfg.Redis.WaitReplicas, cfg.Redis.WaitTimeout.Duration
	st.ActivityLimit = cfg.Redis.ActivityLimit
	st.SessionLifetime = cfg.Session.Lifetime.Duration
	a := &App{Config: cfg, Log: log, Store: st, done: make(chan struct{})}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	a.Mirror = store.NewMirror(st, log)
	go a.Mirror.Run(runCtx)
	a.awaitRedis(ctx, runCtx)

	if opt.HashParams == (passwords.Params{}) {
		opt.HashParams = passwords.DefaultParams()
	}
	a.Hasher = passwords.NewHasher(opt.HashParams, 0)
	a.Sessions, err = gateway.NewSessions(gateway.SessionOptions{
		Secrets:    append([]string{cfg.Secret}, cfg.PreviousSecrets...),
		CookieName: cfg.Cookie.Name, Secure: cfg.Cookie.Secure,
		Lifetime: cfg.Session.Lifetime.Duration, IdleTimeout: cfg.Session.IdleTimeout.Duration,
		Trusted: cfg.TrustedPrefixes, Now: opt.Now, LastSeenInterval: cfg.Session.LastSeenInterval.Duration,
		EndedPath: cfg.PathPrefix,
	}, st, a.Mirror)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.PortalSessions = a.Sessions
	if cfg.HasPortal() {
		a.PortalSessions = a.Sessions.WithCookie(cfg.Cookie.PortalName, 20_000)
	} else {
		log.Warn("the support console and the staff API are off: they are served only on a portal origin of their own; set portal_url (GATEWAY_PORTAL_URL)")
	}
	a.portalLn, a.publicLn = opt.PortalListener, opt.PublicListener
	go func() {
		defer close(a.done)
		a.Sessions.RunBackground(runCtx)
	}()

	// The gateway's own series; /metrics adds the Go runtime's and the
	// process's. TYPE lines let Prometheus tell counters, gauges and
	// histograms apart (the setting is the library's own, the same for every
	// App in the process).
	vmetrics.ExposeMetadata(true)
	series := vmetrics.NewSet()
	metrics := gateway.NewMetrics(series)
	// Brute-force limits shared by sign-in and the account pages and API.
	guard := attempts.New(st, attempts.PoliciesFrom(cfg.Throttle), func(k attempts.Kind) { metrics.CountThrottled(string(k)) })
	places, err := admin.OpenPlaces(cfg.GeoIPDB)
	if err != nil {
		a.Close()
		return nil, err
	}
	// Keys for TOTP secrets and recovery codes, from every configured secret.
	mfaCodec, err := totp.New(append([]string{cfg.Secret}, cfg.PreviousSecrets...))
	if err != nil {
		a.Close()
		return nil, err
	}
	var mailer notify.Sender
	switch {
	case opt.MailBox != nil:
		mailer = opt.MailBox
	case cfg.MailEnabled():
		if mailer, err = notify.NewSMTP(cfg); err != nil {
			a.Close()
			return nil, err
		}
	}
	a.Notify = notify.New(notify.Deps{
		Config: cfg, Store: st, Mail: mailer, Log: log, Metrics: series, Now: opt.Now,
		Describe: func(ua, ip string) (string, string) { return web.DeviceLabel(ua), places.Lookup(ip) },
	})
	// Events are written with the messages they send (store/outbox.go); the
	// worker runs even with nothing configured, so that a reset link asked
	// for before mail was set up is not left in the queue for ever.
	st.Outbox = a.Notify.Policy()
	a.notifyDone = make(chan struct{})
	go func() {
		defer close(a.notifyDone)
		a.Notify.Run(runCtx)
	}()
	var pk *passkeys.Service
	if cfg.PasskeysOn() {
		pk = &passkeys.Service{Store: st, Name: "Sign-in gateway", Now: opt.Now}
	}
	pages := admin.New(admin.Deps{
		TOTP:   mfaCodec,
		Config: cfg, Store: st, Sessions: a.PortalSessions, Hasher: a.Hasher, Log: log, Places: places,
		ClientIP: func(r *http.Request) string { return httpsafe.ClientIP(r, cfg.TrustedPrefixes).String() },
		Attempts: guard, Now: opt.Now, UserStates: a.Mirror, MailOn: mailer != nil, Passkeys: pk,
		Origin: func(r *http.Request) string {
			fallback := "http"
			if cfg.Cookie.Secure {
				fallback = "https"
			}
			return httpsafe.RequestScheme(r, cfg.TrustedPrefixes, fallback) + "://" + httpsafe.RequestHost(r, cfg.TrustedPrefixes)
		},
	})
	var access io.Writer
	if cfg.Log.Access {
		access = opt.AccessLog
		if access == nil {
			access = os.Stderr
		}
	}
	if cfg.AssertionUsed() {
		if a.Assertions, err = a.startAssertions(ctx, runCtx, opt); err != nil {
			a.Close()
			return nil, err
		}
	}
	gw, err := gateway.New(gateway.Deps{
		MFA: st, TOTP: mfaCodec, Passkeys: pk,
		Config: cfg, Users: st, Sessions: a.PortalSessions, AppSessions: a.Sessions, Handoffs: st,
		Hasher: a.Hasher, Metrics: metrics, Log: log, Pages: pages, Attempts: guard, AccessLog: access,
		MailOn:     mailer != nil,
		Assertions: a.Assertions,
	})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Handler = gw
	go gw.RunRateLimits(runCtx)
	gateway.RegisterMirrorMetrics(series, a.Mirror)
	a.Ops = gateway.OpsHandler(gateway.OpsDeps{Mirror: a.Mirror, Metrics: series, Pprof: cfg.Ops.Pprof})
	return a, nil
}

// startAssertions prepares the signing keys of the identity assertion and
// keeps them current. When Redis does not answer yet, routes with the
// assertion on answer 503 until the keys are loaded.
func (a *App) startAssertions(ctx, runCtx context.Context, opt Options) (*assertion.Issuer, error) {
	cfg := a.Config
	iss, err := assertion.New(a.Store, assertion.Options{
		Secrets:  append([]string{cfg.Secret}, cfg.PreviousSecrets...),
		Lifetime: cfg.Assertion.Lifetime.Duration, KeyRotation: cfg.Assertion.KeyRotation.Duration,
		Refresh: opt.AssertionRefresh, Issuer: cfg.PortalURL, InsecureOrigin: !cfg.Cookie.Secure, Log: a.Log,
	})
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := iss.Load(lctx); err != nil {
		a.Log.Warn("assertion signing keys not loaded yet: routes with the assertion on answer 503 until they are", "err", err.Error())
	}
	go iss.Run(runCtx)
	return iss, nil
}

// awaitRedis gives the revocation mirror the moment it needs for its first
// load when Redis answers, so the first requests are checked from memory.
// When Redis is not reachable yet (started after the gateway, restarting)
// start-up goes on regardless: the gateway is not ready — /readyz,
// protected requests and sign-in answer 503 — and the mirror keeps trying
// (store.Mirror.Run), so it serves as soon as Redis answers, without a
// restart. The persistence warning waits for that first load.
func (a *App) awaitRedis(ctx, runCtx context.Context) {
	if a.Store.Embedded() {
		a.Log.Warn(a.Store.PersistenceWarning(ctx))
	}
	pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
	err := a.Store.Ping(pctx)
	pcancel()
	if err == nil {
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		err = a.Mirror.WaitSynced(wctx)
		wcancel()
	}
	if err != nil {
		a.Log.Warn("redis is not reachable yet: starting anyway, not ready (503) until it answers", "err", err.Error())
	}
	go func() {
		if a.Mirror.WaitSynced(runCtx) != nil {
			return
		}
		if err != nil {
			a.Log.Info("redis answers: revocation list loaded, ready")
		}
		if warn := a.Store.PersistenceWarning(runCtx); warn != "" && !a.Store.Embedded() {
			a.Log.Warn(warn)
		}
	}()
}

// Listen binds both listeners and serves in the background.
func (a *App) Listen() error {
	pub := a.publicLn
	if pub == nil {
		var err error
		if pub, err = net.Listen("tcp", a.Config.Listen); err != nil {
			return fmt.Errorf("listen (GATEWAY_LISTEN): cannot listen on %q: %w", a.Config.Listen, err)
		}
	}
	ops, err := net.Listen("tcp", a.Config.OpsListen)
	if err != nil {
		pub.Close()
		return fmt.Errorf("ops_listen (GATEWAY_OPS_LISTEN): cannot listen on %q: %w", a.Config.OpsListen, err)
	}
	a.PublicAddr, a.OpsAddr = pub.Addr().String(), ops.Addr().String()
	listeners := []struct {
		ln net.Listener
		h  http.Handler
	}{{pub, a.Handler}, {ops, a.Ops}}
	if a.portalLn == nil && a.Config.PortalListen != "" {
		if a.portalLn, err = net.Listen("tcp", a.Config.PortalListen); err != nil {
			pub.Close()
			ops.Close()
			return fmt.Errorf("portal_listen (GATEWAY_PORTAL_LISTEN): cannot listen on %q: %w", a.Config.PortalListen, err)
		}
	}
	if a.portalLn != nil {
		// The same handler: it tells the portal from the apps by Host.
		a.PortalAddr = a.portalLn.Addr().String()
		listeners = append(listeners, struct {
			ln net.Listener
			h  http.Handler
		}{a.portalLn, a.Handler})
	}
	errLog := slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn)
	for _, s := range listeners {
		srv := &http.Server{
			Handler: s.h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
			MaxHeaderBytes: 64 << 10, ErrorLog: errLog,
		}
		a.servers = append(a.servers, srv)
		go func() {
			if err := srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.Log.Error("server stopped", "err", err.Error())
			}
		}()
	}
	a.Log.Info("gateway listening", "listen", a.PublicAddr, "ops_listen", a.OpsAddr, "portal_listen", a.PortalAddr,
		"portal_url", a.Config.PortalURL, "embedded_store", a.Store.Embedded())
	return nil
}

// Shutdown drains in-flight requests (up to timeout), then stops background
// work and closes the store.
func (a *App) Shutdown(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, s := range a.servers {
		_ = s.Shutdown(ctx)
	}
	a.Close()
}

// Close stops background work and closes the store without draining.
func (a *App) Close() {
	if a.cancel != nil {
		a.cancel()
	}
	// The last-seen tracker flushes once more when stopped (giving up after
	// 2 s); wait for it rather than close the store under it.
	if a.Sessions != nil {
		select {
		case <-a.done:
		case <-time.After(3 * time.Second):
		}
	}
	if a.notifyDone != nil {
		select {
		case <-a.notifyDone:
		case <-time.After(3 * time.Second):
		}
	}
	a.Store.Close()
}

// BaseURL is the public listener as a URL, for messages.
func (a *App) BaseURL() string {
	host := a.PublicAddr
	if strings.HasPrefix(host, "[::]") || strings.HasPrefix(host, "0.0.0.0") {
		_, port, _ := net.SplitHostPort(host)
		host = "127.0.0.1:" + port
	}
	return "http://" + host
}
