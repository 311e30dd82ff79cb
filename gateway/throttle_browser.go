package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// A browser that has signed in to an account before gets a "known browser"
// cookie (OWASP's device cookies). Its password attempts on that account
// are counted on a counter of their own, so a stranger guessing at the
// account from elsewhere, who keeps the account's counter in a delay, does
// not slow down its owner on their usual browser. The cookie proves only
// that this browser once knew the password; it never stands in for it, and
// its own wrong attempts are limited like any others (the client-address
// limit still applies too). It is scoped to the sign-in form's path, so
// the upstream app never sees it.

// knownBrowserLifetime is how long a browser stays known without signing in.
const knownBrowserLifetime = 180 * 24 * time.Hour

// knownBrowserName derives the cookie name from the session cookie's. A
// "__Host-" name requires Path=/, so that prefix becomes "__Secure-".
func (g *Gateway) knownBrowserName() string {
	name := g.Config.Cookie.Name
	if strings.HasPrefix(name, "__Host-") {
		name = "__Secure-" + strings.TrimPrefix(name, "__Host-")
	}
	return name + "_known"
}

// knownBrowserMAC signs "uid.id" with a key derived from the current secret
// (after a secret rotation browsers are simply not known until their next
// sign-in).
func (g *Gateway) knownBrowserMAC(uid, id string) string {
	k := hmac.New(sha256.New, []byte(g.Config.Secret))
	k.Write([]byte("gateway known browser v1"))
	mac := hmac.New(sha256.New, k.Sum(nil))
	mac.Write([]byte(uid + "." + id))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

// knownBrowser returns the id of this browser if it carries a valid cookie
// for the account uid.
func (g *Gateway) knownBrowser(r *http.Request, uid string) (string, bool) {
	c, err := r.Cookie(g.knownBrowserName())
	if err != nil || len(c.Value) > 128 {
		return "", false
	}
	id, mac, ok := strings.Cut(c.Value, ".")
	if !ok || id == "" || !hmac.Equal([]byte(mac), []byte(g.knownBrowserMAC(uid, id))) {
		return "", false
	}
	return id, true
}

// markKnownBrowser sets (or renews) the cookie after a right password for
// uid, keeping the browser's id when it already had one for uid.
func (g *Gateway) markKnownBrowser(w http.ResponseWriter, r *http.Request, uid string) {
	id, ok := g.knownBrowser(r, uid)
	if !ok {
		id = rand.Text()
	}
	http.SetCookie(w, &http.Cookie{
		Name: g.knownBrowserName(), Value: id + "." + g.knownBrowserMAC(uid, id),
		Path: g.prefix + "/login", MaxAge: int(knownBrowserLifetime.Seconds()),
		HttpOnly: true, Secure: g.Config.Cookie.Secure, SameSite: http.SameSiteStrictMode,
	})
}
