package gateway

import (
	"net/http"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/totp"
	"github.com/authgate/gateway/templates"
)

// Forced enrolment: a person whose role requires 2FA and who has none gets
// a session that owes store.PendingEnroll after the password, and reaches
// only these pages until an authenticator app is confirmed.
//
// The secret being set up is kept encrypted on the user (MFASecret set,
// MFAEnabled false) between the QR page and the confirming code; each
// start makes a new one, so a secret seen by someone else earlier is never
// reused.

func (g *Gateway) showMFAEnrol(w http.ResponseWriter, r *http.Request) {
	rd := g.cleanRD(r.URL.Query().Get("rd"))
	if g.pendingSession(w, r, store.PendingEnroll, rd) == nil {
		return
	}
	g.render(w, r, http.StatusOK, templates.MFAEnrolStart(templates.MFAEnrolStartPage{
		Chrome: templates.Chrome{Title: "Set up two-step verification", Prefix: g.prefix}, RD: rd,
	}))
}

// startMFAEnrol makes a new secret and shows it (QR code and manual key).
func (g *Gateway) startMFAEnrol(w http.ResponseWriter, r *http.Request) {
	rd, _, u, _ := g.pendingForm(w, r, store.PendingEnroll)
	if u == nil {
		return
	}
	secret := totp.GenerateSecret()
	sealed := g.TOTP.Seal(u.ID, secret)
	if err := g.MFA.UpdateUser(r.Context(), u.ID, store.UserUpdate{MFASecret: &sealed}); err != nil {
		g.Log.Error("2fa enrol: store secret", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	g.renderMFAEnrol(w, r, http.StatusOK, u, secret, rd, "")
}

func (g *Gateway) renderMFAEnrol(w http.ResponseWriter, r *http.Request, status int, u *store.User, secret, rd, errMsg string) {
	e := totp.NewEnrolment(totp.Issuer(r.Host), u.Username, secret)
	qr, err := e.QRDataURL()
	if err != nil {
		g.Log.Error("2fa enrol: QR code", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	g.render(w, r, status, templates.MFASetup(templates.MFASetupPage{
		Chrome: templates.Chrome{Title: "Set up your authenticator app", Prefix: g.prefix},
		QR:     qr, Key: secret, GroupedKey: totp.GroupKey(secret),
		Action: g.prefix + "/login/2fa/setup/confirm", RD: rd, Error: errMsg,
	}))
}

// confirmMFAEnrol turns 2FA on with the first right code, shows the
// recovery codes once, and signs the person in fully (new session id; any
// other session of the account is signed out).
func (g *Gateway) confirmMFAEnrol(w http.ResponseWriter, r *http.Request) {
	rd, cur, u, _ := g.pendingForm(w, r, store.PendingEnroll)
	if u == nil {
		return
	}
	secret, err := g.TOTP.Open(u.ID, u.MFASecret)
	if u.MFASecret == "" || err != nil {
		// No setup in progress (or one sealed under a secret since dropped).
		g.render(w, r, http.StatusConflict, templates.MFAEnrolStart(templates.MFAEnrolStartPage{
			Chrome: templates.Chrome{Title: "Set up two-step verification", Prefix: g.prefix}, RD: rd,
			Error: "The setup expired. Start again to get a new key.",
		}))
		return
	}
	_, ok := g.checkMFACode(w, r, u, r.PostForm.Get("code"), false, func(status int, msg string) {
		g.renderMFAEnrol(w, r, status, u, secret, rd, msg)
	})
	if !ok {
		return
	}

	codes := totp.NewRecoveryCodes()
	hashes := g.TOTP.HashRecoveryCodes(u.ID, codes)
	on := true
	ctx := r.Context()
	if err := g.MFA.UpdateUser(ctx, u.ID, store.UserUpdate{MFAEnabled: &on, RecoveryCodes: &hashes}); err != nil {
		g.Log.Error("2fa enrol: enable", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	ip, ua := g.clientIP(r), r.UserAgent()
	if err := g.Sessions.SignOutEverywhere(ctx, w, u.ID, nil, ip, ua, store.EndReason{Code: store.EndMFAChanged}); err != nil {
		g.Log.Error("2fa enrol: sign out other sessions", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	if _, err := g.Sessions.Reissue(ctx, w, cur, time.Unix(0, cur.Claims.AuthAt), true, ip, ua); err != nil {
		g.Log.Error("2fa enrol: issue session", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	g.event(r, u.ID, store.Event{Type: store.EventMFAEnabled, Detail: "authenticator app added at sign-in (required for your role); other devices signed out"})
	g.event(r, u.ID, store.Event{Type: store.EventSignIn, Detail: "password + authenticator app"})
	g.Metrics.CountSignIn("success")
	g.Log.Info("mfa_enabled", "username", u.Username, "client_ip", ip, "at", "sign-in")
	g.render(w, r, http.StatusOK, templates.MFARecovery(templates.MFARecoveryPage{
		Chrome:  templates.Chrome{Title: "Save your recovery codes", Prefix: g.prefix, SignedIn: true, Username: u.Username},
		Heading: "Two-step verification is on",
		Notice:  "Your authenticator app is set up and you are signed in.",
		Codes:   codes, DownloadURL: totp.RecoveryDownloadURL(u.Username, codes), ContinueURL: rd,
	}))
}
