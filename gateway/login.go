package gateway

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/authgate/gateway/gateway/httpsafe"
	"github.com/authgate/gateway/store"
)

// Messages shown on the sign-in page. The same one answers an unknown user
// and a wrong password, so the page does not tell which usernames exist.
const (
	msgBadCredentials = "Wrong username or password."
	msgMissingFields  = "Enter your username and password."
	// A lock by support and a disable by an admin are told apart, so
	// the person knows whom to ask and what to expect.
	msgLocked   = "This account is locked. Contact support to have it unlocked."
	msgDisabled = "This account is disabled. Contact your administrator."
	// msgPasswordBlocked is shown only after the right password: the
	// owner learns what to do; a stranger with the password learns only
	// that it no longer works.
	msgPasswordBlocked = "Sign-in with this password is blocked: someone said a sign-in to this account was not theirs. " +
		"Set a new password with the link mailed to the account, or with \"Forgot password?\"."
)

// clientIP is the vetted client address of r.
func (g *Gateway) clientIP(r *http.Request) string {
	return httpsafe.ClientIP(r, g.Config.TrustedPrefixes).String()
}

// cleanRD validates a post-login target; anything doubtful becomes "/".
func (g *Gateway) cleanRD(rd string) string {
	if rd == "" {
		return "/"
	}
	if clean, ok := httpsafe.CleanRedirect(rd, g.rdHosts); ok {
		return clean
	}
	return "/"
}

func (g *Gateway) showLoginPage(w http.ResponseWriter, r *http.Request) {
	rd := g.cleanRD(r.URL.Query().Get("rd"))
	cur, outcome := g.Sessions.Authenticate(r)
	switch outcome {
	case store.Valid:
		// Signed in on the portal already: an app host asking for a
		// sign-in gets its handoff at once, without the password.
		g.continueSignedIn(w, r, &cur.Claims, rd, http.StatusFound)
		return
	case store.Ended, store.NoSession:
		// Why the session this browser had ended, said once (ended.go).
		why, ended := g.Sessions.WhyEnded(w, r)
		if outcome == store.Ended {
			g.Sessions.Clear(w)
		}
		if ended {
			g.renderLogin(w, r, http.StatusOK, "", rd, "", g.Sessions.EndedNotice(why))
			return
		}
	}
	notice := ""
	switch r.URL.Query().Get("m") {
	case "signed_out":
		notice = "You are signed out."
	case "ended":
		notice = "Your session ended. Please sign in again."
	case "password_reset":
		notice = "Your password was changed. Sign in with the new one."
	}
	g.renderLogin(w, r, http.StatusOK, "", rd, "", notice)
}

func (g *Gateway) submitLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		g.renderErrorPage(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The form could not be read.")
		return
	}
	typed := r.PostForm.Get("username")
	username := store.CanonicalUsername(typed)
	password := r.PostForm.Get("password")
	rd := g.cleanRD(r.PostForm.Get("rd"))
	ip := g.clientIP(r)
	if username == "" || password == "" || len(typed) > 256 {
		g.renderLogin(w, r, http.StatusBadRequest, truncate(typed, 256), rd, msgMissingFields, "")
		return
	}

	u, res, err := g.checkPasswordThrottled(r, username, password, ip) // throttle.go
	if err != nil {
		g.Log.Error("sign-in check failed", "err", err.Error(), "client_ip", ip)
		g.unavailable(w, r)
		return
	}
	if res.Throttled() {
		g.refuseThrottledLogin(w, r, u, username, rd, res)
		return
	}
	if !res.OK {
		g.Metrics.CountSignIn("failed")
		g.Log.Info("authentication_failed", "username", username, "client_ip", ip, "known_user", u != nil)
		if u != nil {
			g.event(r, u.ID, store.Event{Type: store.EventSignInFailed, Detail: "wrong password"})
		} else {
			g.countUnknownFailure(r)
		}
		if g.afterFailedLogin(w, r, u, rd, res) {
			return
		}
		g.renderLogin(w, r, http.StatusUnauthorized, typed, rd, msgBadCredentials, "")
		return
	}
	if u.Disabled {
		g.Metrics.CountSignIn("disabled")
		msg, detail := msgDisabled, "account disabled"
		if u.Lock == store.LockStaff {
			msg, detail = msgLocked, "account locked"
		}
		g.event(r, u.ID, store.Event{Type: store.EventSignInFailed, Detail: detail})
		g.renderLogin(w, r, http.StatusForbidden, typed, rd, msg, "")
		return
	}
	if u.PasswordBlocked {
		g.Metrics.CountSignIn("password_blocked")
		g.event(r, u.ID, store.Event{Type: store.EventSignInFailed, Detail: "password sign-in is blocked until a new password is set"})
		g.renderLogin(w, r, http.StatusForbidden, typed, rd, msgPasswordBlocked, "")
		return
	}
	g.endPreviousSession(r)

	pending, remembered, err := g.secondStep(r, u)
	if err != nil {
		g.Log.Error("sign-in: second step", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	newDevice := g.noteNewDevice(r, u, pending == store.PendingCode) // new_device.go
	g.markKnownBrowser(w, r, u)                                      // throttle_browser.go
	claims, err := g.Sessions.Issue(r.Context(), w, store.IssueOptions{
		UserID: u.ID, Pending: pending, MFA: remembered, IP: ip, Agent: r.UserAgent(),
	})
	if err != nil {
		g.Log.Error("issue session", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	g.recordNewSignIn(r, u.ID, claims.SessionID, newDevice) // new_device.go
	if pending != store.PendingNone {
		g.Metrics.CountSignIn("password_ok_2fa_due")
		http.Redirect(w, r, g.pendingTarget(pending)+"?rd="+url.QueryEscape(rd), http.StatusSeeOther)
		return
	}
	g.Metrics.CountSignIn("success")
	g.Log.Info("authentication_succeeded", "username", u.Username, "client_ip", ip)
	detail := "password"
	if remembered {
		detail = "password + remembered browser (no code asked)"
	}
	g.event(r, u.ID, store.Event{Type: store.EventSignIn, Detail: detail})
	g.continueSignedIn(w, r, claims, rd, http.StatusSeeOther) // handoff.go
}

// secondStep decides what a right password for u leads to: the code or
// passkey step when u has a second factor (unless this browser is
// remembered, which stands in for a code but never for a required
// passkey), forced enrolment when policy requires a factor u lacks, or
// nothing.
func (g *Gateway) secondStep(r *http.Request, u *store.User) (pending uint8, remembered bool, err error) {
	n, err := g.passkeyCount(r.Context(), u.ID)
	if err != nil {
		return 0, false, err
	}
	strict := g.phishingResistant(u.Roles)
	switch {
	case u.MFAEnabled && !strict && g.rememberedDevice(r, u): // login_2fa_remember.go
		return store.PendingNone, true, nil
	case u.MFAEnabled || n > 0:
		// A required passkey the person lacks is added after the code
		// (finishMFASignIn), so a leaked password alone cannot add one.
		return store.PendingCode, false, nil
	case strict:
		return store.PendingPasskey, false, nil
	case g.mfaRequired(u.Roles):
		return store.PendingEnroll, false, nil
	}
	return store.PendingNone, false, nil
}

// endPreviousSession revokes the session a browser already had before a new
// sign-in, so a planted or shared cookie does not live on.
func (g *Gateway) endPreviousSession(r *http.Request) {
	cur, outcome := g.Sessions.Authenticate(r)
	if cur == nil || (outcome != store.Valid && outcome != store.Pending) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	if err := g.Sessions.Revoke(ctx, cur.Claims.UserID, cur.Claims.SessionID, cur.Claims.Created); err != nil {
		g.Log.Warn("revoke previous session", "err", err.Error())
	}
}

// event appends to the user's activity stream; a failure is logged, never
// shown, since the action itself already happened.
func (g *Gateway) event(r *http.Request, uid string, e store.Event) {
	e.IP = g.clientIP(r)
	e.Device = r.UserAgent() // bounded by the store (store.MaxEventDevice)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	if err := g.Users.AppendEvent(ctx, uid, e); err != nil {
		g.Log.Warn("append activity event", "err", err.Error(), "type", e.Type)
	}
}

// countUnknownFailure counts a failed sign-in on a username that does not
// exist, for the console's hourly figures; like event, a failure is logged.
func (g *Gateway) countUnknownFailure(r *http.Request) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	if err := g.Users.CountFailedSignIn(ctx); err != nil {
		g.Log.Warn("count failed sign-in", "err", err.Error())
	}
}

// mfaRequired reports whether policy demands 2FA of someone with these roles.
func (g *Gateway) mfaRequired(roles []string) bool {
	for _, r := range roles {
		if g.Config.MFARequiredFor(r) {
			return true
		}
	}
	return false
}
