package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/gateway/httpsafe"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
	"github.com/authgate/gateway/templates"
)

// Kinds of request rate limits, labels of gateway_throttled_total (the
// brute-force kinds come from package attempts).
const (
	kindRequestSession = "request_session"
	kindRequestIP      = "request_ip"
)

// rateLimited takes a token for a proxied request: from the session's
// bucket when cur is signed in, else from the client address's bucket
// (anonymous requests to public paths). It returns true when it refused
// the request and has answered 429. No Redis, and no allocation for a
// client already seen.
func (g *Gateway) rateLimited(w http.ResponseWriter, r *http.Request, cleaned string, cur *store.Principal, now time.Time) bool {
	l := g.limits.limitsFor(r.Host, cleaned)
	var ok bool
	var wait time.Duration
	kind := kindRequestSession
	if cur != nil {
		ok, wait = l.allowSession(cur.Claims.SessionID, now)
	} else {
		kind = kindRequestIP
		ok, wait = l.allowIP(httpsafe.ClientIP(r, g.Config.TrustedPrefixes), now)
	}
	if ok {
		return false
	}
	g.Metrics.count(outcomeLimited)
	g.Metrics.CountThrottled(kind)
	g.tooManyRequests(w, r, wait)
	return true
}

// tooManyRequests answers 429 with Retry-After: a page for browsers, JSON
// for everything else.
func (g *Gateway) tooManyRequests(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	w.Header().Set("Retry-After", attempts.RetryAfter(wait))
	msg := "Too many requests. Try again in " + attempts.In(wait) + "."
	if !web.WantsHTML(r) {
		web.WriteJSONError(w, http.StatusTooManyRequests, "rate_limited", msg)
		return
	}
	g.renderThrottled(w, r, templates.ThrottledPage{
		Chrome:  templates.Chrome{Title: "Slow down", Prefix: g.prefix},
		Message: msg,
		Detail:  "This page was asked for too often in a short time. Wait a moment, then reload it.",
	})
}

// renderThrottled writes a 429 page under the same strict headers as the
// gateway's own pages (the proxied path does not get them otherwise).
func (g *Gateway) renderThrottled(w http.ResponseWriter, r *http.Request, p templates.ThrottledPage) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	g.render(w, r, http.StatusTooManyRequests, templates.Throttled(p))
}

// RunRateLimits drops idle rate limiters until ctx ends; main runs it in
// the background next to the gateway.
func (g *Gateway) RunRateLimits(ctx context.Context) { g.limits.run(ctx) }
