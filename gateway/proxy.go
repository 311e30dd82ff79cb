package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authgate/gateway/store"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/gateway/assertion"
	"github.com/authgate/gateway/gateway/httpsafe"
)

// proxy forwards requests to the upstream chosen by host and path prefix,
// with the identity headers set by us and nobody else.
type proxy struct {
	rp         *httputil.ReverseProxy
	routes     []config.Route
	routeNames []string // host + path prefix of each route, for the access log
	fallback   *url.URL
	trusted    []netip.Prefix
	headers    config.Headers
	strip      *httpsafe.HeaderStripper // identity and path-override headers, every spelling
	cookieName string
	// portalCookie is the portal's cookie when it differs ("" otherwise):
	// on a portal that is another port of the app's host the browser sends
	// it to the app too.
	portalCookie string
	// ownCookies are the names of every cookie the gateway sets (session,
	// known browser, remembered device): the upstream may not set them.
	ownCookies []string
	// requestIDs is set when the access log gives requests their ids.
	requestIDs bool

	// Headers describing the client's connection, every spelling: only the
	// ones rewrite sets from a trusted proxy, or all of them from anyone else.
	stripTrusted, stripUntrusted *httpsafe.HeaderStripper

	// assert signs the identity for routes that have it on (assertOn[i]
	// for route i, assertFallback for the single upstream); nil when no
	// route does. assertFailed answers when no key can sign yet.
	assert         *assertion.Issuer
	assertOn       []bool
	assertFallback bool
	assertFailed   func(http.ResponseWriter, *http.Request)
}

func newProxy(cfg *config.Config, cookieName string, log *slog.Logger, onError func(http.ResponseWriter, *http.Request, int)) (*proxy, error) {
	if cfg.UpstreamURL == nil && len(cfg.Routes) == 0 {
		return nil, errors.New("no upstream configured")
	}
	p := &proxy{
		routes: cleanRoutes(cfg.Routes), fallback: cfg.UpstreamURL, trusted: cfg.TrustedPrefixes,
		headers: canonicalHeaders(cfg.Headers), cookieName: cookieName,
		strip: httpsafe.NewHeaderStripper(append([]string{cfg.Headers.User, cfg.Headers.Email, cfg.Headers.Groups, cfg.Headers.Assertion},
			alwaysStripped...)),
		stripTrusted:   httpsafe.NewHeaderStripper(rewrittenHeaders),
		stripUntrusted: httpsafe.NewHeaderStripper(append(append([]string{}, rewrittenHeaders...), connectionHeaders...)),
	}
	for i, rt := range p.routes {
		p.routeNames = append(p.routeNames, rt.Host+rt.PathPrefix)
		p.assertOn = append(p.assertOn, cfg.AssertionOn(i))
	}
	p.assertFallback = cfg.AssertionOn(-1)
	// Size the idle pool for the load: Go's default of 2 idle connections
	// per host churns connections and halves throughput under load.
	transport := &http.Transport{
		Proxy:                 nil, // never send upstream traffic through an environment proxy
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		ModifyResponse: p.modifyResponse,
		Transport:      transport,
		BufferPool:     newBufferPool(),
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status := statusForProxyError(r, err)
			log.Warn("upstream request failed", "status", status, "err", err.Error(), "path", r.URL.Path)
			onError(w, r, status)
		},
	}
	return p, nil
}

// alwaysStripped never reach the upstream, whoever sent them. IIS URL
// Rewrite, older Symfony and Zend route on X-Original-URL and
// X-Rewrite-URL instead of the request line, so a client could ask for a
// public path and be served another one; the access decision was made on
// the request line. RFC 7239 Forwarded and X-Real-IP from a client are
// never believed (and the gateway does not write them).
var alwaysStripped = []string{
	"X-Original-Url", "X-Rewrite-Url", "X-Original-Uri", "X-Forwarded-Uri", "X-Forwarded-Path",
	"Forwarded", "X-Real-Ip",
}

// rewrittenHeaders are set by rewrite; other spellings (X_Forwarded_For,
// which CGI-style stacks merge with the real one) are removed.
var rewrittenHeaders = []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"}

// connectionHeaders describe the client's connection or the proxy path in
// front of the app; believed only from trusted proxies.
var connectionHeaders = []string{
	"X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Server", "X-Forwarded-Scheme",
	"X-Forwarded-Protocol", "X-Forwarded-Ssl", "X-Url-Scheme", "Front-End-Https",
	"X-Client-Ip", "True-Client-Ip", "Cf-Connecting-Ip", "X-Cluster-Client-Ip", "Fastly-Client-Ip",
	// What the common PHP idiom reads before REMOTE_ADDR (HTTP_CLIENT_IP,
	// HTTP_X_FORWARDED, HTTP_FORWARDED_FOR), and other widespread ones.
	"Client-Ip", "X-Forwarded", "Forwarded-For", "X-Remote-Ip", "X-Remote-Addr", "X-Originating-Ip",
	"X-Proxyuser-Ip",
}

// statusForProxyError maps a transport failure: 499 when the client went
// away, 504 on timeout, 502 otherwise.
func statusForProxyError(r *http.Request, err error) int {
	if errors.Is(r.Context().Err(), context.Canceled) {
		return 499
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

// pick returns the upstream for a request: the longest matching route
// prefix (host-specific routes before host-less ones), else the fallback.
//
// It runs for the rate limiter, serve and rewrite alike, so it allocates
// nothing: hosts compare case-insensitively in place, and a prefix ending
// in "/" also matches the bare directory ("/api/" matches "/api"). Prefixes
// match without regard to ASCII case: "/ADMIN/x" gets the route (and the
// rules) of "/admin/", since many apps and file systems ignore case.
func (p *proxy) pick(host, cleaned string) *url.URL {
	if i := p.route(host, cleaned); i >= 0 {
		return p.routes[i].UpstreamURL
	}
	return p.fallback
}

// routeName names the route a request goes to, for the access log:
// "host/prefix" or "/prefix" as configured, "upstream" for the single
// upstream, "" when there is none.
func (p *proxy) routeName(host, cleaned string) string {
	if i := p.route(host, cleaned); i >= 0 {
		return p.routeNames[i]
	}
	if p.fallback != nil {
		return "upstream"
	}
	return ""
}

// route returns the index of the route pick uses, or -1 for the fallback.
func (p *proxy) route(host, cleaned string) int {
	if len(p.routes) == 0 {
		return -1
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	var best *config.Route
	found := -1
	for i := range p.routes {
		rt := &p.routes[i]
		if rt.Host != "" && !strings.EqualFold(rt.Host, host) {
			continue
		}
		if !hasPrefixFold(cleaned, rt.PathPrefix) &&
			!(strings.HasSuffix(rt.PathPrefix, "/") && strings.EqualFold(cleaned, rt.PathPrefix[:len(rt.PathPrefix)-1])) {
			continue
		}
		if best == nil || (rt.Host != "" && best.Host == "") ||
			((rt.Host != "") == (best.Host != "") && len(rt.PathPrefix) > len(best.PathPrefix)) {
			best, found = rt, i
		}
	}
	return found
}

// serve proxies r for cur (nil: anonymous). The incoming request is
// prepared in place — identity headers stripped in every spelling and then
// set by us, our cookie removed — so Rewrite needs no per-request state and
// no request copy is made. The path goes on as the client sent it.
func (p *proxy) serve(w http.ResponseWriter, r *http.Request, cleaned string, cur *store.Principal) {
	dropUpgrade(r.Header)
	p.strip.Strip(r.Header)
	p.strip.Strip(r.Trailer) // declared request trailers; some servers merge them into headers
	stripCookie(r, p.cookieName)
	if p.portalCookie != "" {
		stripCookie(r, p.portalCookie)
	}
	if cur != nil {
		// One allocation for the three values; each slice is capped at
		// its length so that an append elsewhere copies instead of
		// writing into its neighbour.
		v := new([3]string)
		v[0], v[1], v[2] = cur.User.Username, cur.User.Email, cur.User.GroupsHeader
		r.Header[p.headers.User] = v[0:1:1]
		if cur.User.Email != "" {
			r.Header[p.headers.Email] = v[1:2:2]
		}
		r.Header[p.headers.Groups] = v[2:3:3]
	}
	route := p.route(r.Host, cleaned)
	if route < 0 && p.fallback == nil {
		http.Error(w, "no upstream for this host", http.StatusNotFound)
		return
	}
	if cur != nil && p.assert != nil && p.assertFor(route) {
		routeHost := ""
		if route >= 0 {
			routeHost = p.routes[route].Host
		}
		v, ok := p.assert.Header(cur, route, routeHost, r.Host)
		if !ok {
			// The app expects a signed identity: never send it the
			// request without one.
			p.assertFailed(w, r)
			return
		}
		r.Header[p.headers.Assertion] = v
	}
	p.rp.ServeHTTP(w, r)
}

// assertFor reports whether route (-1: the single upstream) gets the
// signed identity.
func (p *proxy) assertFor(route int) bool {
	if route < 0 {
		return p.assertFallback
	}
	return p.assertOn[route]
}

// dropUpgrade removes a request's Upgrade header unless it asks for
// WebSocket and nothing else, so that the request goes on as an ordinary
// one. After a protocol switch the reverse proxy only copies bytes: with an
// app that accepts "Upgrade: h2c" (or any other protocol it can be talked
// into), the client would get a connection straight to the app and send it
// requests the gateway never checked, to any path, with any identity
// headers.
func dropUpgrade(h http.Header) {
	up, ok := h["Upgrade"]
	if !ok || (len(up) == 1 && strings.EqualFold(strings.Trim(up[0], " \t"), "websocket")) {
		return
	}
	delete(h, "Upgrade")
}

// rewrite builds the outgoing request. Out starts as a copy of the prepared
// In with hop-by-hop headers (and those named in Connection) and the
// client's X-Forwarded-* already removed by ReverseProxy.
func (p *proxy) rewrite(pr *httputil.ProxyRequest) {
	target := p.pick(pr.In.Host, httpsafe.DecisionPath(pr.In.URL.Path))
	out := pr.Out
	out.URL.Scheme = target.Scheme
	out.URL.Host = target.Host
	// The path as sent: escapes (%2F among them) reach the app unchanged.
	out.URL.Path = joinPath(target.Path, pr.In.URL.Path)
	out.URL.RawPath = ""
	if pr.In.URL.RawPath != "" {
		out.URL.RawPath = joinPath(target.EscapedPath(), pr.In.URL.RawPath)
	}
	if target.RawQuery != "" && out.URL.RawQuery != "" {
		out.URL.RawQuery = target.RawQuery + "&" + out.URL.RawQuery
	} else if target.RawQuery != "" {
		out.URL.RawQuery = target.RawQuery
	}
	out.Host = pr.In.Host // apps generate links for the host people use
	xff, proto, host := httpsafe.ForwardedFor(pr.In, p.trusted)
	if len(p.trusted) > 0 && httpsafe.PeerTrusted(pr.In, p.trusted) {
		p.stripTrusted.Strip(out.Header)
	} else {
		p.stripUntrusted.Strip(out.Header)
	}
	v := new([3]string) // one allocation, as in serve
	v[0], v[1], v[2] = xff, proto, host
	out.Header["X-Forwarded-For"] = v[0:1:1]
	out.Header["X-Forwarded-Proto"] = v[1:2:2]
	out.Header["X-Forwarded-Host"] = v[2:3:3]
}

// cleanRoutes copies the routes with their path prefixes cleaned once, the
// way request paths are, so pick can compare them as they are.
func cleanRoutes(routes []config.Route) []config.Route {
	out := append([]config.Route(nil), routes...)
	for i := range out {
		out[i].PathPrefix = httpsafe.CleanPath(out[i].PathPrefix)
	}
	return out
}

// canonicalHeaders lets serve set the identity headers by map key.
func canonicalHeaders(h config.Headers) config.Headers {
	return config.Headers{
		User: http.CanonicalHeaderKey(h.User), Email: http.CanonicalHeaderKey(h.Email),
		Groups: http.CanonicalHeaderKey(h.Groups), Assertion: http.CanonicalHeaderKey(h.Assertion),
	}
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func joinPath(base, p string) string {
	if base == "" || base == "/" {
		return p
	}
	return strings.TrimSuffix(base, "/") + p
}

// modifyResponse vets the upstream's answer before it is copied out.
func (p *proxy) modifyResponse(resp *http.Response) error {
	if p.requestIDs {
		// The answer already carries the gateway's id; the app's copy
		// would make a second value.
		delete(resp.Header, requestIDHeader)
	}
	return p.dropOwnCookies(resp)
}

// dropOwnCookies removes from an upstream answer every Set-Cookie that
// names one of the gateway's cookies. Every app behind the gateway answers
// on the gateway's host, so an app (or a page of it that lets people choose
// headers) could otherwise plant its own session cookie in a signed-in
// person's browser — swapping them onto another account for the whole site,
// or for one path — or delete theirs.
func (p *proxy) dropOwnCookies(resp *http.Response) error {
	lines := resp.Header["Set-Cookie"]
	if len(lines) == 0 {
		return nil
	}
	kept := make([]string, 0, len(lines))
	for _, line := range lines {
		name, _, _ := strings.Cut(line, "=")
		if !slices.Contains(p.ownCookies, strings.Trim(name, " \t")) {
			kept = append(kept, line)
		}
	}
	if len(kept) == 0 {
		delete(resp.Header, "Set-Cookie")
	} else {
		resp.Header["Set-Cookie"] = kept
	}
	return nil
}

// stripCookie removes the gateway's own session cookie from the request, so
// the upstream app (and its logs) never holds a credential for the gateway.
// It cuts the raw header on ";" instead of re-encoding r.Cookies(): Go's
// parser drops cookies it finds invalid (a JSON value with quotes, a
// backslash), and the app's own cookies must reach it byte for byte.
func stripCookie(r *http.Request, name string) {
	lines := r.Header.Values("Cookie")
	found := false
	for _, line := range lines {
		if strings.Contains(line, name) {
			found = true
			break
		}
	}
	if !found {
		return
	}
	var kept []string
	for _, line := range lines {
		for pair := range strings.SplitSeq(line, ";") {
			pair = strings.TrimSpace(pair)
			if pair == "" {
				continue
			}
			if k, _, _ := strings.Cut(pair, "="); strings.TrimSpace(k) == name {
				continue
			}
			kept = append(kept, pair)
		}
	}
	r.Header.Del("Cookie")
	if len(kept) > 0 {
		r.Header.Set("Cookie", strings.Join(kept, "; "))
	}
}

func (g *Gateway) renderProxyError(w http.ResponseWriter, r *http.Request, status int) {
	if status == 499 {
		w.WriteHeader(status)
		return
	}
	msg := "The application behind the gateway did not answer. Please try again in a moment."
	title := "Application unavailable"
	if status == http.StatusGatewayTimeout {
		msg = "The application behind the gateway took too long to answer."
		title = "Application timed out"
	}
	g.renderErrorPage(w, r, status, fmt.Sprintf("upstream_%d", status), title, msg)
}
