package gateway

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/authgate/gateway/internal/seal"
	"github.com/authgate/gateway/store"
)

// "Don't ask again on this browser" (mfa.remember_device > 0, off by
// default): after a right app code, a separate signed and encrypted cookie
// lets the same browser skip the code step for that long. It is bound to
// the user, and it dies with
//   - its age (mfa.remember_device),
//   - a sign-out of all devices (it must be newer than User.SignedOutBefore,
//     which password changes and staff actions move too),
//   - any change to the person's 2FA (it carries a digest of the encrypted
//     secret and the recovery-code list: turning 2FA off and on, replacing
//     the authenticator app, new recovery codes, using one, or a staff reset all change it).
// The cookie is scoped to the sign-in pages' path, so it is never sent to
// the upstream app; it only ever stands in for the code, never the password.

// rememberClaims is the content of the remember-device cookie.
type rememberClaims struct {
	UID    string `json:"u"`
	Device string `json:"d"` // random id, for the activity stream
	Issued int64  `json:"t"` // unix nanos
	State  string `json:"s"` // digest of the 2FA state when issued
}

// rememberCookieName is the remember-browser cookie's name (see loginCookieName).
func (g *Gateway) rememberCookieName() string { return g.loginCookieName("_device") }

// rememberFor is the offer on the code page, "" when the option is off.
func (g *Gateway) rememberFor() string {
	d := g.Config.MFA.RememberDevice.Duration
	switch {
	case d <= 0:
		return ""
	case d >= 48*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + " days"
	case d >= 2*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	}
	return d.String()
}

// rememberCodecs derives the cookie's keys from every configured secret
// (current first), so rotating the secret keeps remembered browsers.
func (g *Gateway) rememberCodecs() []securecookie.Codec {
	secrets := append([]string{g.Config.Secret}, g.Config.PreviousSecrets...)
	codecs := make([]securecookie.Codec, 0, len(secrets))
	for _, s := range secrets {
		hk, err1 := seal.Key(s, "gateway remember device hmac v1")
		bk, err2 := seal.Key(s, "gateway remember device aes v1")
		if err1 != nil || err2 != nil {
			continue
		}
		sc := securecookie.New(hk, bk)
		sc.SetSerializer(securecookie.JSONEncoder{})
		sc.MaxAge(int(g.Config.MFA.RememberDevice.Seconds()) + 1)
		codecs = append(codecs, sc)
	}
	return codecs
}

// mfaState digests the parts of u that any 2FA change alters.
func mfaState(u *store.User) string {
	h := sha256.Sum256([]byte(u.ID + "\x00" + u.MFASecret + "\x00" + strings.Join(u.RecoveryCodes, ",")))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// rememberDevice sets the remember-device cookie for u on w, if the option
// is on, and says so for the activity stream ("" when not set).
func (g *Gateway) rememberDevice(w http.ResponseWriter, u *store.User) string {
	d := g.Config.MFA.RememberDevice.Duration
	codecs := g.rememberCodecs()
	if d <= 0 || len(codecs) == 0 {
		return ""
	}
	now := time.Now()
	c := rememberClaims{UID: u.ID, Device: store.NewSessionID()[:12], Issued: now.UnixNano(), State: mfaState(u)}
	val, err := securecookie.EncodeMulti(g.rememberCookieName(), c, codecs[0])
	if err != nil {
		g.Log.Warn("2fa: encode remember-device cookie", "err", err.Error())
		return ""
	}
	http.SetCookie(w, &http.Cookie{
		Name: g.rememberCookieName(), Value: val, Path: g.prefix + "/login", Expires: now.Add(d),
		HttpOnly: true, Secure: g.Config.Cookie.Secure, SameSite: http.SameSiteStrictMode,
	})
	return "browser " + c.Device + " remembered until " + now.Add(d).UTC().Format("2006-01-02")
}

// rememberedDevice reports whether r carries a live remember-device cookie
// for u, which then stands in for the code step.
func (g *Gateway) rememberedDevice(r *http.Request, u *store.User) bool {
	d := g.Config.MFA.RememberDevice.Duration
	if d <= 0 || !u.MFAEnabled {
		return false
	}
	ck, err := r.Cookie(g.rememberCookieName())
	if err != nil || ck.Value == "" {
		return false
	}
	var c rememberClaims
	if err := securecookie.DecodeMulti(g.rememberCookieName(), ck.Value, &c, g.rememberCodecs()...); err != nil {
		return false
	}
	issued := time.Unix(0, c.Issued)
	return c.UID == u.ID && time.Since(issued) < d &&
		(u.SignedOutBefore.IsZero() || issued.After(u.SignedOutBefore)) &&
		c.State == mfaState(u)
}
