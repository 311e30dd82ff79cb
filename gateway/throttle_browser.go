package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/authgate/gateway/store"
)

// A browser that has signed in to an account before gets a "known browser"
// cookie (OWASP's device cookies). Its password attempts on that account
// are counted on a counter of their own, so a stranger guessing at the
// account from elsewhere, who keeps the account's counter in a delay, does
// not slow down its owner on their usual browser. The cookie proves only
// that this browser once knew the password; it never stands in for it, and
// its own wrong attempts on that account are limited by a counter of their
// own (they skip the shared client-address counter, which a stranger on the
// same address could otherwise keep in a delay). It is scoped to the sign-in form's path, so
// the upstream app never sees it.

// knownBrowserLifetime is how long a browser stays known without signing in.
const knownBrowserLifetime = 180 * 24 * time.Hour

// knownBrowserName is the known-browser cookie's name (see loginCookieName).
func (g *Gateway) knownBrowserName() string { return g.loginCookieName("_known") }

// loginCookieName names a cookie scoped to the sign-in pages after the
// session cookie. A "__Host-" cookie must have Path=/, so for these
// path-scoped cookies that prefix becomes "__Secure-".
func (g *Gateway) loginCookieName(suffix string) string {
	name := g.Sessions.CookieName() // the pages' cookie: the portal's when there is one
	if strings.HasPrefix(name, "__Host-") {
		name = "__Secure-" + strings.TrimPrefix(name, "__Host-")
	}
	return name + suffix
}

// knownBrowserMAC signs "uid.id" and the account's current password hash
// with a key derived from the current secret (after a secret rotation
// browsers are simply not known until their next sign-in). The hash is in
// the MAC because what the cookie proves is that the browser knew the
// password: once the password changes (which is what a person does when it
// leaked), browsers that only knew the old one are strangers again — their
// attempts count on the account's counter and their next sign-in is flagged
// as a new device.
func (g *Gateway) knownBrowserMAC(u *store.User, id string) string {
	k := hmac.New(sha256.New, []byte(g.Config.Secret))
	k.Write([]byte("gateway known browser v1"))
	mac := hmac.New(sha256.New, k.Sum(nil))
	mac.Write([]byte(u.ID + "." + id + "\x00" + u.PasswordHash))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

// knownBrowser returns the id of this browser if it carries a valid cookie
// for the account u, made while u had its current password.
func (g *Gateway) knownBrowser(r *http.Request, u *store.User) (string, bool) {
	c, err := r.Cookie(g.knownBrowserName())
	if err != nil || len(c.Value) > 128 {
		return "", false
	}
	id, mac, ok := strings.Cut(c.Value, ".")
	if !ok || id == "" || !hmac.Equal([]byte(mac), []byte(g.knownBrowserMAC(u, id))) {
		return "", false
	}
	return id, true
}

// markKnownBrowser sets (or renews) the cookie after a right password for
// u, keeping the browser's id when it already had one for u.
func (g *Gateway) markKnownBrowser(w http.ResponseWriter, r *http.Request, u *store.User) {
	id, ok := g.knownBrowser(r, u)
	if !ok {
		id = rand.Text()
	}
	http.SetCookie(w, &http.Cookie{
		Name: g.knownBrowserName(), Value: id + "." + g.knownBrowserMAC(u, id),
		Path: g.prefix + "/login", MaxAge: int(knownBrowserLifetime.Seconds()),
		HttpOnly: true, Secure: g.Config.Cookie.Secure, SameSite: http.SameSiteStrictMode,
	})
}
