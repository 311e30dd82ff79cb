// Package harness runs a real gateway for tests: a real redis-server on a
// free loopback port, an echo app upstream, and the production wiring from
// internal/server, on random loopback ports.
package harness

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/server"
	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/passwords"
)

// Gateway is a running gateway under test.
type Gateway struct {
	*server.App
	// URL is the public base URL, e.g. http://127.0.0.1:41234.
	URL string
	// PortalURL is the base URL of the gateway's pages: the portal's with
	// Options.Portal, else the same as URL (one origin).
	PortalURL string
	// OpsURL is the ops listener's base URL.
	OpsURL string
	// Upstream is the app behind the gateway (an echo app by default).
	Upstream *httptest.Server
	// Redis is the redis-server the gateway uses (nil when started with
	// Options.RedisURL).
	Redis *redistest.Server
}

// Options tune a test gateway.
type Options struct {
	// Redis to use; nil starts a fresh one. Share one between two Start
	// calls to run two replicas.
	Redis *redistest.Server
	// RedisURL, when set, is used instead of Redis (which stays nil): a
	// redis-cluster:// or redis-sentinel:// URL of a topology the test
	// started itself.
	RedisURL string
	// Upstream handler; nil means EchoHandler.
	Upstream http.Handler
	// Configure edits the configuration before validation.
	Configure func(*config.Config)
	// Secret to use; "" picks a random one. Replicas must share it.
	Secret string
	// Clock, when set, is the sessions' clock; Advance it to reach idle and
	// absolute expiry without sleeping.
	Clock *Clock
	// AccessLog receives the access log when the configuration turns it on.
	AccessLog io.Writer
	// Portal serves the portal on a second loopback port of its own
	// (portal_url and portal_listen), with 127.0.0.1 an allowed app host.
	Portal bool
	// AssertionRefresh is how often the assertion keys are read again
	// (0: the production ten seconds).
	AssertionRefresh time.Duration
}

// Clock is a test clock: real time plus an offset that only grows, so time
// still passes (code that waits for the clock to move keeps working) and a
// test can jump hours ahead at once.
type Clock struct{ offset atomic.Int64 }

// Now returns the real time plus the offset.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// TestPassword is a password that passes the policy, for test users.
const TestPassword = "correct horse battery staple"

// Start runs a gateway and stops it when the test ends.
func Start(tb testing.TB, o Options) *Gateway {
	tb.Helper()
	if o.Redis == nil && o.RedisURL == "" {
		o.Redis = redistest.Start(tb)
	}
	up := o.Upstream
	if up == nil {
		up = EchoHandler()
	}
	upstream := httptest.NewServer(up)
	tb.Cleanup(upstream.Close)

	cfg := config.Defaults()
	cfg.Listen, cfg.OpsListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Upstream = upstream.URL
	cfg.Redis.URL = o.RedisURL
	if o.Redis != nil {
		cfg.Redis.URL = o.Redis.URL()
	}
	cfg.Secret = o.Secret
	if cfg.Secret == "" {
		cfg.Secret = rand.Text() + rand.Text()
	}
	cfg.Cookie.Secure = false
	cfg.Log.Level = "warn"
	opts := server.Options{HashParams: passwords.TestParams(), AccessLog: o.AccessLog, AssertionRefresh: o.AssertionRefresh}
	if o.Portal {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		opts.PortalListener = ln
		cfg.PortalListen = ln.Addr().String()
		cfg.PortalURL = "http://" + ln.Addr().String()
		cfg.RedirectHosts = append(cfg.RedirectHosts, "127.0.0.1")
	}
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatalf("test configuration: %v", err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if o.Clock != nil {
		opts.Now = o.Clock.Now
	}
	app, err := server.New(ctx, &cfg, log, opts)
	if err != nil {
		tb.Fatalf("start gateway: %v", err)
	}
	if err := app.Listen(); err != nil {
		app.Close()
		tb.Fatalf("listen: %v", err)
	}
	tb.Cleanup(func() { app.Shutdown(5 * time.Second) })
	g := &Gateway{App: app, URL: "http://" + app.PublicAddr, OpsURL: "http://" + app.OpsAddr, Upstream: upstream, Redis: o.Redis}
	g.PortalURL = g.URL
	if o.Portal {
		g.PortalURL = cfg.PortalURL
	}
	return g
}

// testWriter sends log lines to the test log, so they show only on failure.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// CreateUser adds a user with TestPassword (or password when given) and
// the roles (default user).
func (g *Gateway) CreateUser(tb testing.TB, name string, roles ...string) *store.User {
	tb.Helper()
	return g.CreateUserWithPassword(tb, name, TestPassword, roles...)
}

// CreateUserWithPassword adds a user with the given password.
func (g *Gateway) CreateUserWithPassword(tb testing.TB, name, password string, roles ...string) *store.User {
	tb.Helper()
	hash, err := g.Hasher.Hash(context.Background(), password)
	if err != nil {
		tb.Fatal(err)
	}
	u := &store.User{Username: name, Email: name + "@example.com", PasswordHash: hash, Roles: roles}
	if err := g.Store.CreateUser(context.Background(), u); err != nil {
		tb.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// Echoed is what the echo app saw.
type Echoed struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// URI is the request target exactly as the app received it.
	URI    string      `json:"uri"`
	Query  string      `json:"query"`
	Host   string      `json:"host"`
	Header http.Header `json:"header"`
}

// EchoHandler answers every request with a JSON description of it.
func EchoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Echoed{Method: r.Method, Path: r.URL.Path, URI: r.RequestURI, Query: r.URL.RawQuery, Host: r.Host, Header: r.Header})
	})
}

// Client is a cookie-keeping HTTP client that does not follow redirects, so
// tests see each 302 (one per browser or device).
type Client struct {
	*http.Client
	gw     *Gateway
	base   string // the URL paths are relative to: the app's or the portal's
	cookie string // the session cookie's name there
}

// NewClient returns a fresh client (a new device) for this gateway.
func (g *Gateway) NewClient(tb testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{gw: g, base: g.URL, cookie: g.Config.Cookie.Name, Client: &http.Client{
		Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// NewPortalClient returns a fresh client whose paths are on the gateway's
// pages: on the portal (Options.Portal) with the portal's cookie as its
// session cookie, else the same as NewClient.
func (g *Gateway) NewPortalClient(tb testing.TB) *Client {
	return g.NewClient(tb).OnPortal()
}

// OnApp returns a client with the same browser (cookie jar) whose paths
// are on the app's host, as a person's browser moves between the portal
// and the app.
func (c *Client) OnApp() *Client {
	d := *c
	d.base, d.cookie = c.gw.URL, c.gw.Config.Cookie.Name
	return &d
}

// OnPortal is OnApp for the gateway's pages (the portal's host, or the
// one origin without a portal).
func (c *Client) OnPortal() *Client {
	if !c.gw.Config.HasPortal() {
		return c.OnApp()
	}
	d := *c
	d.base, d.cookie = c.gw.PortalURL, c.gw.Config.Cookie.PortalName
	return &d
}

// Base is the URL the client's paths are relative to.
func (c *Client) Base() string { return c.base }

// For returns a client that shares c's cookies but talks to another gateway
// replica (same cookie on another replica).
func (c *Client) For(g *Gateway) *Client {
	u1, _ := url.Parse(c.base)
	jar, _ := cookiejar.New(nil)
	base := g.URL
	if c.base == c.gw.PortalURL && g.PortalURL != "" {
		base = g.PortalURL
	}
	u2, _ := url.Parse(base)
	jar.SetCookies(u2, c.Jar.Cookies(u1))
	return &Client{gw: g, base: base, cookie: c.cookie, Client: &http.Client{Jar: jar, Timeout: c.Timeout, CheckRedirect: c.CheckRedirect}}
}

// Do sends a request to the gateway; path is relative to its URL. Header
// pairs are "Name", "value", ….
func (c *Client) Do(tb testing.TB, method, path string, body io.Reader, header ...string) *http.Response {
	tb.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	tb.Cleanup(func() { resp.Body.Close() })
	return resp
}

// Get is Do with GET and no body.
func (c *Client) Get(tb testing.TB, path string, header ...string) *http.Response {
	tb.Helper()
	return c.Do(tb, http.MethodGet, path, nil, header...)
}

// PostForm posts form values like a browser on the gateway's own origin.
func (c *Client) PostForm(tb testing.TB, path string, form url.Values, header ...string) *http.Response {
	tb.Helper()
	header = append([]string{"Accept", "text/html", "Origin", c.base}, header...)
	return c.Do(tb, http.MethodPost, path, strings.NewReader(form.Encode()), header...)
}

// Login signs in with a password and fails the test unless it lands where
// a fully signed-in person lands (303 to rd).
func (c *Client) Login(tb testing.TB, username, password string) {
	tb.Helper()
	resp := c.PostForm(tb, "/.gateway/login", url.Values{"username": {username}, "password": {password}, "rd": {"/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("login %s: status %d location %q body %.300s", username, resp.StatusCode, resp.Header.Get("Location"), b)
	}
}

// Echo fetches path through the gateway and decodes what the upstream saw;
// ok is false (with the response) when the gateway did not proxy.
func (c *Client) Echo(tb testing.TB, path string, header ...string) (*Echoed, *http.Response) {
	tb.Helper()
	resp := c.Get(tb, path, header...)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return nil, resp
	}
	var e Echoed
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		tb.Fatalf("decode echo: %v", err)
	}
	return &e, resp
}

// SessionCookie returns the value of the client's session cookie ("" if none).
func (c *Client) SessionCookie() string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == c.cookie {
			return ck.Value
		}
	}
	return ""
}

// SetSessionCookie replaces the client's session cookie (replaying a copy).
func (c *Client) SetSessionCookie(value string) {
	u, _ := url.Parse(c.base)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: c.cookie, Value: value, Path: "/"}})
}
