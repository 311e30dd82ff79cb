package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// signedInRequest starts a gateway, signs a user in and returns a request
// carrying the session cookie. The request rate limit is off: a benchmark
// loop is one session far above any sane per-session rate.
func signedInRequest(b *testing.B) (*harness.Gateway, *http.Request) {
	return signedInRequestWith(b, nil)
}

// signedInRequestWith is signedInRequest with the access log written to
// access (nil: off).
func signedInRequestWith(b *testing.B, access io.Writer) (*harness.Gateway, *http.Request) {
	return signedInRequestOn(b, harness.Options{AccessLog: access})
}

// signedInRequestOn is signedInRequest with harness options (a portal, an
// access log); the request is for the app host, with the app's cookie.
func signedInRequestOn(b *testing.B, o harness.Options) (*harness.Gateway, *http.Request) {
	b.Helper()
	access := o.AccessLog
	extra := o.Configure
	o.Configure = func(c *config.Config) {
		off, err := config.ParseRate("off")
		if err != nil {
			b.Fatal(err)
		}
		c.RateLimit.PerSession = off
		c.Log.Access = access != nil
		if extra != nil {
			extra(c)
		}
	}
	g := harness.Start(b, o)
	u := g.CreateUser(b, "bench")
	rec := httptest.NewRecorder()
	if _, err := g.Sessions.Issue(b.Context(), rec, store.IssueOptions{UserID: u.ID, IP: "127.0.0.1"}); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/app/page", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	req.Host = strings.TrimPrefix(g.URL, "http://")
	req.AddCookie(rec.Result().Cookies()[0])
	if _, out := g.Sessions.Authenticate(req); out != store.Valid {
		b.Fatalf("warm-up: outcome %v", out)
	}
	return g, req
}

// BenchmarkAuthenticate is the per-request session check: cookie decode
// (HMAC + AES), revocation and user checks against the in-memory mirror,
// idle tracking. redis-cmds/op should be ~0.
func BenchmarkAuthenticate(b *testing.B) {
	g, req := signedInRequest(b)
	before := g.Redis.TotalCommands(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, out := g.Sessions.Authenticate(req); out != store.Valid {
			b.Fatalf("outcome %v", out)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(g.Redis.TotalCommands(b)-before)/float64(b.N), "redis-cmds/op")
}

// BenchmarkProxy compares a full proxied request through the gateway's
// real handler with a bare httputil.ReverseProxy to the same upstream, in
// one run, and with the access log on (written to io.Discard, so the
// benchmark counts its formatting and allocations, not a disk). The
// upstream runs in the same process, so allocs/op include its share; the
// difference between bare and gateway is the gateway's own.
func BenchmarkProxy(b *testing.B) {
	g, req := signedInRequest(b)
	gl, reqLogged := signedInRequestWith(b, io.Discard)
	up, _ := url.Parse(g.Upstream.URL)
	bare := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(up); pr.SetXForwarded() },
		Transport: &http.Transport{MaxIdleConnsPerHost: 256},
	}
	run := func(b *testing.B, h http.Handler, req *http.Request) {
		b.ReportAllocs()
		for b.Loop() {
			// A fresh request each time, as from a server: the gateway
			// prepares the incoming request in place.
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req.Clone(req.Context()))
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, bare, req) })
	b.Run("gateway", func(b *testing.B) { run(b, g.Handler, req) })
	b.Run("gateway+access_log", func(b *testing.B) { run(b, gl.Handler, reqLogged) })
	// With a portal every request also decides its host (the portal's or
	// an app's) before anything else.
	gp, reqPortal := signedInRequestOn(b, harness.Options{Portal: true})
	b.Run("gateway+portal", func(b *testing.B) { run(b, gp.Handler, reqPortal) })
	// With route rules (allow by role, group or name, a deny list, a
	// public entry, reauth) decided on every request: allocs/op must
	// equal plain "gateway".
	gr, reqRules := signedInRequestOn(b, harness.Options{Configure: func(c *config.Config) {
		c.Routes = []config.Route{
			{PathPrefix: "/app/", Upstream: c.Upstream, RouteRules: config.RouteRules{
				Allow:  config.Principals{Roles: []string{"admin"}, Groups: []string{"ops"}, Users: []string{"bench"}},
				Deny:   config.Principals{Users: []string{"mallory"}, Groups: []string{"contractors"}},
				Public: []string{"/app/status"}, Reauth: config.Duration{Duration: time.Hour},
			}},
			{PathPrefix: "/", Upstream: c.Upstream},
		}
	}})
	b.Run("gateway+rules", func(b *testing.B) { run(b, gr.Handler, reqRules) })
}
