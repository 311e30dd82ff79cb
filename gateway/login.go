package gateway

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/a-h/templ"

	"github.com/authgate/gateway/gateway/httpsafe"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
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

func (g *Gateway) loginPage(r *http.Request, username, rd, errMsg, notice string) templ.Component {
	return templates.Login(templates.LoginPage{
		Chrome:   templates.Chrome{Title: "Sign in", Prefix: g.prefix},
		Username: username, RD: rd, Error: errMsg, Notice: notice, Forgot: g.MailOn,
	})
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
			g.render(w, r, http.StatusOK, g.loginPage(r, "", rd, "", g.Sessions.EndedNotice(why)))
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
	g.render(w, r, http.StatusOK, g.loginPage(r, "", rd, "", notice))
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
		g.render(w, r, http.StatusBadRequest, g.loginPage(r, truncate(typed, 256), rd, msgMissingFields, ""))
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
		g.Metrics.SignIns.WithLabelValues("failed").Inc()
		g.Log.Info("authentication_failed", "username", username, "client_ip", ip, "known_user", u != nil)
		if u != nil {
			g.event(r, u.ID, store.Event{Type: store.EventSignInFailed, Detail: "wrong password"})
		} else {
			g.countUnknownFailure(r)
		}
		if g.afterFailedLogin(w, r, u, rd, res) {
			return
		}
		g.render(w, r, http.StatusUnauthorized, g.loginPage(r, typed, rd, msgBadCredentials, ""))
		return
	}
	if u.Disabled {
		g.Metrics.SignIns.WithLabelValues("disabled").Inc()
		msg, detail := msgDisabled, "account disabled"
		if u.Lock == store.LockStaff {
			msg, detail = msgLocked, "account locked"
		}
		g.event(r, u.ID, store.Event{Type: store.EventSignInFailed, Detail: detail})
		g.render(w, r, http.StatusForbidden, g.loginPage(r, typed, rd, msg, ""))
		return
	}
	if u.PasswordBlocked {
		g.Metrics.SignIns.WithLabelValues("password_blocked").Inc()
		g.event(r, u.ID, store.Event{Type: store.EventSignInFailed, Detail: "password sign-in is blocked until a new password is set"})
		g.render(w, r, http.StatusForbidden, g.loginPage(r, typed, rd, msgPasswordBlocked, ""))
		return
	}
	g.endPreviousSession(r)

	pending, remembered := store.PendingNone, false
	switch {
	case u.MFAEnabled && g.rememberedDevice(r, u): // login_2fa_remember.go
		remembered = true
	case u.MFAEnabled:
		pending = store.PendingCode
	case g.mfaRequired(u.Roles):
		pending = store.PendingEnroll
	}
	g.noteNewDevice(r, u, pending == store.PendingCode) // new_device.go
	g.markKnownBrowser(w, r, u)                         // throttle_browser.go
	claims, err := g.Sessions.Issue(r.Context(), w, store.IssueOptions{
		UserID: u.ID, Pending: pending, MFA: remembered, IP: ip, Agent: r.UserAgent(),
	})
	if err != nil {
		g.Log.Error("issue session", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	if pending != store.PendingNone {
		g.Metrics.SignIns.WithLabelValues("password_ok_2fa_due").Inc()
		target := g.prefix + "/login/2fa"
		if pending == store.PendingEnroll {
			target = g.prefix + "/login/2fa/setup"
		}
		http.Redirect(w, r, target+"?rd="+url.QueryEscape(rd), http.StatusSeeOther)
		return
	}
	g.Metrics.SignIns.WithLabelValues("success").Inc()
	g.Log.Info("authentication_succeeded", "username", u.Username, "client_ip", ip)
	detail := "password"
	if remembered {
		detail = "password + remembered browser (no code asked)"
	}
	g.event(r, u.ID, store.Event{Type: store.EventSignIn, Detail: detail})
	g.continueSignedIn(w, r, claims, rd, http.StatusSeeOther) // handoff.go
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
	e.Device = truncate(r.UserAgent(), 512)
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
