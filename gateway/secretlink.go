package gateway

import (
	"net/http"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/authgate/gateway/internal/seal"
)

// Links that carry a secret (…/reset?token=…, and any later one-time link)
// are opened by more than the person they were sent to: mail and chat
// scanners fetch them, browsers keep them in history and sync, and a page
// at such an address leaks it to every site it loads from or links to
// (Referer). So the token leaves the address bar at once:
//
//  1. GET {page}?token=T answers 302 to the clean {page}, setting a
//     short-lived cookie that holds T encrypted (securecookie: AES-CTR and
//     an HMAC, keys derived from the configured secrets). Nothing is looked
//     up or changed: a scanner that opens the link, and even follows the
//     redirect, leaves it as it was.
//  2. GET {page} reads the token from the cookie and shows the page
//     (looking the token up read-only).
//  3. Only the person's POST from that page uses the token; the cookie is
//     cleared afterwards, and whenever the token turns out unusable.
//
// The cookie is HttpOnly, Secure when cookies are, scoped to the page's
// path (never sent to the apps or other pages) and lives linkCookieTTL.
// It is SameSite=Lax, not Strict: the link is opened from a mail or chat
// app, a cross-site navigation, and Chromium does not send Strict cookies
// on any request of a redirect chain that started cross-site, so the clean
// page would never see it. Lax still keeps it off cross-site POSTs, and the
// POST is checked for a cross-origin request besides. Every response under
// the prefix sends Referrer-Policy: no-referrer (securityHeaders).

// linkCookieTTL is how long a person has, after opening a link, to submit
// its page before they must open the link again.
const linkCookieTTL = 15 * time.Minute

// secretLink is the token-in-a-cookie exchange for one kind of link.
type secretLink struct {
	g      *Gateway
	name   string // cookie name
	path   string // the page's path with the prefix; the cookie's Path
	codecs []securecookie.Codec
}

// newSecretLink prepares the exchange for the page at prefix+page (e.g.
// "/reset"); kind tells the cookie and its keys apart from other links'.
func (g *Gateway) newSecretLink(kind, page string) *secretLink {
	sl := &secretLink{g: g, name: g.loginCookieName("_link_" + kind), path: g.prefix + page}
	for _, s := range append([]string{g.Config.Secret}, g.Config.PreviousSecrets...) {
		hk, err1 := seal.Key(s, "gateway secret link hmac v1 "+kind)
		bk, err2 := seal.Key(s, "gateway secret link aes v1 "+kind)
		if err1 != nil || err2 != nil {
			continue
		}
		sc := securecookie.New(hk, bk)
		sc.SetSerializer(securecookie.JSONEncoder{})
		sc.MaxAge(int(linkCookieTTL / time.Second))
		sl.codecs = append(sl.codecs, sc)
	}
	return sl
}

// exchange handles a GET that still carries ?token=: it moves the token
// into the cookie and redirects to the clean page. It reports whether it
// answered; a GET without the parameter is left to the page.
func (sl *secretLink) exchange(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	if !q.Has("token") {
		return false
	}
	tok := q.Get("token")
	if tok == "" || len(tok) > 256 || len(sl.codecs) == 0 {
		sl.clear(w)
	} else if val, err := securecookie.EncodeMulti(sl.name, tok, sl.codecs[0]); err != nil {
		sl.g.Log.Warn("secret link: encode cookie", "err", err.Error())
		sl.clear(w)
	} else {
		http.SetCookie(w, &http.Cookie{
			Name: sl.name, Value: val, Path: sl.path, MaxAge: int(linkCookieTTL / time.Second),
			HttpOnly: true, Secure: sl.g.Config.Cookie.Secure, SameSite: http.SameSiteLaxMode,
		})
	}
	// The clean address is fixed (never built from the request), so this
	// redirect cannot be pointed anywhere else.
	http.Redirect(w, r, sl.path, http.StatusFound)
	return true
}

// token returns the token the cookie holds, or "" when there is none or it
// does not decode (tampered, older than linkCookieTTL, other keys).
func (sl *secretLink) token(r *http.Request) string {
	ck, err := r.Cookie(sl.name)
	if err != nil || ck.Value == "" {
		return ""
	}
	var tok string
	if err := securecookie.DecodeMulti(sl.name, ck.Value, &tok, sl.codecs...); err != nil {
		return ""
	}
	return tok
}

// clear deletes the cookie (after use, or when its token is unusable).
func (sl *secretLink) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: sl.name, Value: "", Path: sl.path, MaxAge: -1,
		HttpOnly: true, Secure: sl.g.Config.Cookie.Secure, SameSite: http.SameSiteLaxMode,
	})
}
