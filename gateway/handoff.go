package gateway

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/gateway/httpsafe"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// HandoffStore keeps the one-time codes that carry a portal sign-in to an
// app host (store/handoff.go).
type HandoffStore interface {
	CreateHandoff(ctx context.Context, h *store.Handoff) (string, error)
	TakeHandoff(ctx context.Context, code string) (*store.Handoff, error)
}

// continueSignedIn sends a person who is signed in on the portal (session
// c) on to rd. When rd is on an app host, the way there is that host's
// callback with a one-time code, so the app host can set a cookie of its
// own for the same session; anywhere else rd is followed as it is.
func (g *Gateway) continueSignedIn(w http.ResponseWriter, r *http.Request, c *store.Claims, rd string, status int) {
	scheme, host, local, ok := g.appTarget(rd)
	if !ok || c == nil {
		http.Redirect(w, r, rd, status)
		return
	}
	browser, target, bound := g.boundRequest(local)
	if !bound {
		// A code must name the browser that will use it, and only the app
		// host can tag that browser: go there first (appLogin), which
		// comes back here with the tag in rd.
		http.Redirect(w, r, scheme+"://"+host+g.prefix+"/login?rd="+url.QueryEscape(local), status)
		return
	}
	code, err := g.Handoffs.CreateHandoff(r.Context(), &store.Handoff{
		Claims: *c, Host: host, Target: target, Expires: g.Sessions.Now().Add(store.HandoffTTL),
		Browser: store.HandoffBinding(browser),
	})
	if err != nil {
		g.Log.Error("handoff: create code", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	http.Redirect(w, r, scheme+"://"+host+g.prefix+"/callback?code="+url.QueryEscape(code), status)
}

// appTarget splits an already checked absolute rd that leads to an app
// host (not the portal): scheme, host[:port] as the browser will send it
// in Host (default port left out), and the local part. ok is false without
// a portal and for local paths.
func (g *Gateway) appTarget(rd string) (scheme, host, local string, ok bool) {
	if !g.Config.HasPortal() || strings.HasPrefix(rd, "/") {
		return "", "", "", false
	}
	u, err := url.Parse(rd)
	if err != nil || u.Host == "" {
		return "", "", "", false
	}
	host = strings.ToLower(u.Host)
	if (u.Scheme == "http" && strings.HasSuffix(host, ":80")) || (u.Scheme == "https" && strings.HasSuffix(host, ":443")) {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	if host == g.Config.PortalHost {
		return "", "", "", false
	}
	local = u.EscapedPath()
	if local == "" {
		local = "/"
	}
	if u.RawQuery != "" {
		local += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		local += "#" + u.EscapedFragment()
	}
	return u.Scheme, host, local, true
}

// boundRequest reads the local part of an rd that an app host's appLogin
// made: its callback path with the browser's handoff tag and the local
// target. bound is false for any other rd.
func (g *Gateway) boundRequest(local string) (browser, target string, bound bool) {
	u, err := url.Parse(local)
	if err != nil || u.Path != g.prefix+"/callback" {
		return "", "", false
	}
	q := u.Query()
	browser = q.Get("browser")
	if !validBrowserTag(browser) {
		return "", "", false
	}
	target, ok := httpsafe.CleanRedirect(q.Get("rd"), nil)
	if !ok {
		target = "/"
	}
	return browser, target, true
}

// handoffCookieName is the app host's cookie that tags a browser between
// sending it to the portal and taking its handoff code back.
// It is scoped to the prefix (the app never receives it), so a "__Host-"
// name becomes "__Secure-".
func (g *Gateway) handoffCookieName() string {
	name := g.apps.CookieName()
	if strings.HasPrefix(name, "__Host-") {
		name = "__Secure-" + strings.TrimPrefix(name, "__Host-")
	}
	return name + "_handoff"
}

// browserTag returns this browser's handoff tag on this app host, setting
// the cookie when there is none yet (kept for an hour, so two tabs signing
// in at once share it).
func (g *Gateway) browserTag(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(g.handoffCookieName()); err == nil && validBrowserTag(ck.Value) {
		return ck.Value
	}
	tag := store.NewHandoffBrowserID()
	http.SetCookie(w, &http.Cookie{
		Name: g.handoffCookieName(), Value: tag, Path: g.prefix + "/", MaxAge: 3600,
		HttpOnly: true, Secure: g.Config.Cookie.Secure, SameSite: http.SameSiteLaxMode,
	})
	return tag
}

// validBrowserTag accepts what store.NewHandoffBrowserID makes.
func validBrowserTag(s string) bool {
	if len(s) != 22 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// acceptHandoff is an app host's callback: it uses up the one-time code,
// checks that it was made for this host and that its session still lives,
// sets this host's own cookie naming the same session, and goes on to
// where the person was headed. Anything doubtful sets nothing and shows a
// page that leads back to the portal.
func (g *Gateway) acceptHandoff(w http.ResponseWriter, r *http.Request) {
	h, err := g.Handoffs.TakeHandoff(r.Context(), r.URL.Query().Get("code"))
	if errors.Is(err, store.ErrNotFound) {
		g.refuseHandoff(w, r, "unknown or used code", "This sign-in link was already used or is not valid. Links from the sign-in page work once, for a minute.")
		return
	}
	if err != nil {
		g.Log.Error("handoff: take code", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	if g.apps.Now().After(h.Expires) {
		g.refuseHandoff(w, r, "expired code", "This sign-in link has expired. Links from the sign-in page work for a minute.")
		return
	}
	if !strings.EqualFold(h.Host, httpsafe.RequestHost(r, g.Config.TrustedPrefixes)) {
		g.refuseHandoff(w, r, "code for another host", "This sign-in link was made for another site and does not work here.")
		return
	}
	if ck, err := r.Cookie(g.handoffCookieName()); err != nil || h.Browser == "" ||
		subtle.ConstantTimeCompare([]byte(store.HandoffBinding(ck.Value)), []byte(h.Browser)) != 1 {
		g.refuseHandoff(w, r, "code for another browser", "This sign-in link was made for another browser and does not work here.")
		return
	}
	alive, err := g.apps.Alive(r.Context(), &h.Claims)
	if err != nil {
		g.Log.Error("handoff: check session", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	if !alive {
		g.refuseHandoff(w, r, "session ended", "The sign-in this link came from has ended.")
		return
	}
	if err := g.apps.Adopt(w, &h.Claims); err != nil {
		g.Log.Error("handoff: set cookie", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	target, ok := httpsafe.CleanRedirect(h.Target, nil) // local to this host, checked again
	if !ok {
		target = "/"
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// refuseHandoff answers a callback that cannot sign anyone in.
func (g *Gateway) refuseHandoff(w http.ResponseWriter, r *http.Request, why, msg string) {
	g.Log.Warn("handoff refused", "reason", why, "host", httpsafe.RequestHost(r, g.Config.TrustedPrefixes), "client_ip", g.clientIP(r))
	if !web.WantsHTML(r) {
		web.WriteJSONError(w, http.StatusBadRequest, "handoff_refused", msg)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	g.render(w, r, http.StatusBadRequest, templates.Error(templates.ErrorPage{
		Chrome: templates.Chrome{Title: "Sign-in link not valid", Prefix: g.prefix}, Status: http.StatusBadRequest,
		Message: msg, LinkURL: g.portalLogin(g.appURL(r, "/")), LinkText: "Sign in again",
	}))
}
