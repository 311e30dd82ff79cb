package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/authgate/gateway/admin"
	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/gateway"
	"github.com/authgate/gateway/gateway/httpsafe"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/passwords"
)

// app is one running gateway: store, mirror, handlers and both listeners.
type app struct {
	cfg      *config.Config
	log      *slog.Logger
	store    *store.Store
	mirror   *store.Mirror
	sessions *gateway.Sessions
	hasher   *passwords.Hasher
	handler  http.Handler
	ops      http.Handler

	publicAddr, opsAddr string
	servers             []*http.Server
	cancel              context.CancelFunc
	done                chan struct{}
}

// appOptions lets tests and the demo tune what production leaves alone.
type appOptions struct {
	hashParams passwords.Params
}

func newLogger(cfg *config.Config, w *os.File) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// newApp opens the store and builds every handler; nothing listens yet.
func newApp(ctx context.Context, cfg *config.Config, log *slog.Logger, opt appOptions) (*app, error) {
	st, err := store.Open(ctx, cfg.Redis.URL, log)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, store: st, done: make(chan struct{})}
	if warn := st.PersistenceWarning(ctx); warn != "" {
		log.Warn(warn)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	a.mirror = store.NewMirror(st, log)
	go a.mirror.Run(runCtx)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := a.mirror.WaitSynced(wctx); err != nil {
		a.close()
		return nil, fmt.Errorf("load revocation list: %w", err)
	}

	if opt.hashParams == (passwords.Params{}) {
		opt.hashParams = passwords.DefaultParams()
	}
	a.hasher = passwords.NewHasher(opt.hashParams, 0)
	a.sessions, err = gateway.NewSessions(gateway.SessionOptions{
		Secrets:    append([]string{cfg.Secret}, cfg.PreviousSecrets...),
		CookieName: cfg.Cookie.Name, Secure: cfg.Cookie.Secure,
		Lifetime: cfg.Session.Lifetime.Duration, IdleTimeout: cfg.Session.IdleTimeout.Duration,
		Trusted: cfg.TrustedPrefixes,
	}, st, a.mirror)
	if err != nil {
		a.close()
		return nil, err
	}
	go a.sessions.RunBackground(runCtx)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := gateway.NewMetrics(reg)
	pages := admin.New(admin.Deps{
		Config: cfg, Store: st, Sessions: a.sessions, Hasher: a.hasher, Log: log, Registerer: reg,
		ClientIP: func(r *http.Request) string { return httpsafe.ClientIP(r, cfg.TrustedPrefixes).String() },
	})
	gw, err := gateway.New(gateway.Deps{
		Config: cfg, Users: st, Sessions: a.sessions, Hasher: a.hasher, Metrics: metrics, Log: log,
		Pages: pages,
	})
	if err != nil {
		a.close()
		return nil, err
	}
	a.handler = gw
	a.ops = gateway.OpsHandler(gateway.OpsDeps{
		Ping: st.Ping, Ready: a.mirror.Ready, Gatherer: reg, Pprof: cfg.Ops.Pprof,
	})
	return a, nil
}

// listen binds both listeners and serves in the background.
func (a *app) listen() error {
	pub, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen (listen / GATEWAY_LISTEN): %w", err)
	}
	ops, err := net.Listen("tcp", a.cfg.OpsListen)
	if err != nil {
		pub.Close()
		return fmt.Errorf("listen (ops_listen / GATEWAY_OPS_LISTEN): %w", err)
	}
	a.publicAddr, a.opsAddr = pub.Addr().String(), ops.Addr().String()
	errLog := slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)
	for _, s := range []struct {
		ln net.Listener
		h  http.Handler
	}{{pub, a.handler}, {ops, a.ops}} {
		srv := &http.Server{
			Handler: s.h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
			MaxHeaderBytes: 64 << 10, ErrorLog: errLog,
		}
		a.servers = append(a.servers, srv)
		go func() {
			if err := srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("server stopped", "err", err.Error())
			}
		}()
	}
	a.log.Info("gateway listening", "listen", a.publicAddr, "ops_listen", a.opsAddr, "embedded_store", a.store.Embedded())
	return nil
}

// shutdown drains in-flight requests (up to timeout), then stops background
// work and closes the store.
func (a *app) shutdown(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, s := range a.servers {
		_ = s.Shutdown(ctx)
	}
	a.close()
}

func (a *app) close() {
	if a.cancel != nil {
		a.cancel()
	}
	time.Sleep(10 * time.Millisecond) // let the last-seen flush start before the store closes
	a.store.Close()
}

// baseURL is the public listener as a URL, for messages.
func (a *app) baseURL() string {
	host := a.publicAddr
	if strings.HasPrefix(host, "[::]") || strings.HasPrefix(host, "0.0.0.0") {
		_, port, _ := net.SplitHostPort(host)
		host = "127.0.0.1:" + port
	}
	return "http://" + host
}
