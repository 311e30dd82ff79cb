package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
	"github.com/authgate/gateway/store/totp"
	"github.com/authgate/gateway/templates"
)

// MFAStore is what the second sign-in step and forced enrolment need from
// persistence besides UserStore (*store.Store implements it). Attempts are
// limited by Deps.Attempts.
type MFAStore interface {
	totp.Store
	UpdateUser(ctx context.Context, uid string, upd store.UserUpdate) error
	CountPasskeys(ctx context.Context, uid string) (int, error)
}

var _ MFAStore = (*store.Store)(nil)

// Messages of the code step.
const (
	msgWrongCode    = "That code is not right. Check your authenticator app and try again."
	msgReplayedCode = "That code was already used. Wait for the next code from your app."
	msgMissingCode  = "Enter the code from your authenticator app, or a recovery code."
	msgPasskeyOnly  = "Your account must use a passkey for this step; codes are not accepted."
)

// mfaRoutes registers the second sign-in step and forced enrolment.
func (g *Gateway) mfaRoutes(mux *http.ServeMux) {
	p := g.prefix
	mux.HandleFunc("GET "+p+"/login/2fa", g.showMFACode)
	mux.HandleFunc("POST "+p+"/login/2fa", g.submitMFACode)
	mux.HandleFunc("GET "+p+"/login/2fa/setup", g.showMFAEnrol)
	mux.HandleFunc("POST "+p+"/login/2fa/setup", g.startMFAEnrol)
	mux.HandleFunc("POST "+p+"/login/2fa/setup/confirm", g.confirmMFAEnrol)
}

// pendingSession finds the half-signed-in session a 2FA page needs, with
// the step it owes (want). When the request is anywhere else in the flow it
// answers (to rd if fully signed in, to the other 2FA page, or back to the
// password) and returns nil.
func (g *Gateway) pendingSession(w http.ResponseWriter, r *http.Request, want uint8, rd string) *store.Principal {
	cur, outcome := g.Sessions.Authenticate(r)
	switch outcome {
	case store.Valid:
		g.continueSignedIn(w, r, &cur.Claims, rd, http.StatusSeeOther)
		return nil
	case store.Unavailable:
		g.unavailable(w, r)
		return nil
	case store.Pending:
		if cur.Claims.Pending == want {
			return cur
		}
		http.Redirect(w, r, g.pendingTarget(cur.Claims.Pending)+"?rd="+url.QueryEscape(rd), http.StatusSeeOther)
		return nil
	case store.Ended:
		g.Sessions.ClearEnded(w, r)
		http.Redirect(w, r, g.prefix+"/login?m=ended&rd="+url.QueryEscape(rd), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, g.prefix+"/login?rd="+url.QueryEscape(rd), http.StatusSeeOther)
	return nil
}

// pendingAccount is the session that owes the step want and its user, who
// has n passkeys (pendingSession, pendingUser); when there is none it has
// answered and u is nil.
func (g *Gateway) pendingAccount(w http.ResponseWriter, r *http.Request, want uint8, rd string) (cur *store.Principal, u *store.User, n int) {
	if cur = g.pendingSession(w, r, want, rd); cur == nil {
		return nil, nil, 0
	}
	if u, n = g.pendingUser(w, r, cur, rd); u == nil {
		return nil, nil, 0
	}
	return cur, u, n
}

// pendingForm reads the form of a sign-in step and finds the session that
// owes want and its user (pendingAccount); otherwise it has answered and u
// is nil.
func (g *Gateway) pendingForm(w http.ResponseWriter, r *http.Request, want uint8) (rd string, cur *store.Principal, u *store.User, n int) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		g.renderErrorPage(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The form could not be read.")
		return "", nil, nil, 0
	}
	rd = g.cleanRD(r.PostForm.Get("rd"))
	cur, u, n = g.pendingAccount(w, r, want, rd)
	return rd, cur, u, n
}

// pendingTarget is the page of the step a pending session owes.
func (g *Gateway) pendingTarget(pending uint8) string {
	switch pending {
	case store.PendingEnroll:
		return g.prefix + "/login/2fa/setup"
	case store.PendingPasskey:
		return g.prefix + "/login/passkey/setup"
	}
	return g.prefix + "/login/2fa"
}

// pendingUser loads the user of a pending session and how many passkeys
// they have. A user who was deleted, or whose second-factor state no longer
// fits the step the session owes (a factor added or removed elsewhere
// meanwhile), must start again from the password.
func (g *Gateway) pendingUser(w http.ResponseWriter, r *http.Request, cur *store.Principal, rd string) (*store.User, int) {
	u, err := g.Users.FindUserByID(r.Context(), cur.Claims.UserID)
	if errors.Is(err, store.ErrNotFound) {
		u = nil
	} else if err != nil {
		g.Log.Error("2fa: load user", "err", err.Error())
		g.unavailable(w, r)
		return nil, 0
	}
	n := 0
	if u != nil {
		if n, err = g.passkeyCount(r.Context(), u.ID); err != nil {
			g.Log.Error("2fa: count passkeys", "err", err.Error())
			g.unavailable(w, r)
			return nil, 0
		}
	}
	fits := false
	if u != nil {
		switch cur.Claims.Pending {
		case store.PendingCode:
			fits = u.MFAEnabled || n > 0
		case store.PendingEnroll:
			fits = !u.MFAEnabled && n == 0
		case store.PendingPasskey:
			fits = n == 0
		}
	}
	if !fits {
		g.endPreviousSession(r)
		g.Sessions.Clear(w)
		http.Redirect(w, r, g.prefix+"/login?m=ended&rd="+url.QueryEscape(rd), http.StatusSeeOther)
		return nil, 0
	}
	return u, n
}

func (g *Gateway) showMFACode(w http.ResponseWriter, r *http.Request) {
	rd := g.cleanRD(r.URL.Query().Get("rd"))
	_, u, n := g.pendingAccount(w, r, store.PendingCode, rd)
	if u == nil {
		return
	}
	g.renderMFACode(w, r, http.StatusOK, g.mfaCodePage(r, u, n, rd, ""))
}

// mfaCodePage is the second step for u, who has n passkeys: the code form
// when an authenticator app may be used, the passkey button when a passkey
// may (and this host offers passkeys).
func (g *Gateway) mfaCodePage(r *http.Request, u *store.User, n int, rd, errMsg string) *templates.MFACodePage {
	offered, note := g.passkeysOffered(r)
	p := &templates.MFACodePage{
		Chrome: templates.Chrome{Title: "Two-step verification", Prefix: g.prefix},
		RD:     rd, Error: errMsg, RememberFor: g.rememberFor(),
		Code:    u.MFAEnabled && !(n > 0 && g.phishingResistant(u.Roles)),
		Passkey: n > 0 && offered,
	}
	if n > 0 && !offered {
		p.PasskeyNote = note
	}
	return p
}

// renderMFACode renders the second step, with the passkey script when the
// page offers a passkey.
func (g *Gateway) renderMFACode(w http.ResponseWriter, r *http.Request, status int, p *templates.MFACodePage) {
	if p.Passkey {
		allowOwnScripts(w)
	}
	g.render(w, r, status, templates.MFACode(*p))
}

// submitMFACode checks the second factor of a half-signed-in session: a
// code from the app or a recovery code. Attempts are limited per account
// (not per session), so signing in with the password again does not buy
// more guesses.
func (g *Gateway) submitMFACode(w http.ResponseWriter, r *http.Request) {
	rd, cur, u, n := g.pendingForm(w, r, store.PendingCode)
	if u == nil {
		return
	}
	page := g.mfaCodePage(r, u, n, rd, "")
	if !page.Code {
		// Only a passkey will do (mfa.phishing_resistant), or the account
		// has no authenticator app: a code is not even checked.
		page.Error = msgPasskeyOnly
		g.renderMFACode(w, r, http.StatusForbidden, page)
		return
	}
	typed := r.PostForm.Get("code")
	if typed == "" || len(typed) > 64 {
		page.Error = msgMissingCode
		g.renderMFACode(w, r, http.StatusBadRequest, page)
		return
	}
	out, ok := g.checkMFACode(w, r, u, typed, true, func(status int, msg string) {
		page.Error = msg
		g.renderMFACode(w, r, status, page)
	})
	if !ok {
		return
	}
	g.finishMFASignIn(w, r, cur, u, out, rd, r.PostForm.Get("remember") == "1")
}

// checkMFACode runs one code check for u under the per-account limit on
// code attempts (store/attempts: taken before the check, so a burst of
// parallel guesses cannot slip past it). On refusal it has written the
// activity event and answered through fail (status and message), or
// answered 503 itself; ok is true only for an accepted code.
func (g *Gateway) checkMFACode(w http.ResponseWriter, r *http.Request, u *store.User, typed string,
	allowRecovery bool, fail func(status int, msg string)) (totp.Outcome, bool) {
	var out totp.Outcome
	res, err := g.Attempts.Code(r.Context(), u.ID, func(ctx context.Context) (bool, error) {
		var err error
		out, err = g.TOTP.Check(ctx, g.MFA, u, typed, time.Now(), allowRecovery)
		return out.OK(), err
	})
	if err != nil {
		g.Log.Error("2fa: check code", "err", err.Error(), "user_id", u.ID)
		g.unavailable(w, r)
		return totp.Outcome{}, false
	}
	if res.Throttled() {
		g.Metrics.CountSignIn("throttled")
		w.Header().Set("Retry-After", attempts.RetryAfter(res.Wait))
		fail(http.StatusTooManyRequests, attempts.Message(res.Wait))
		return totp.Outcome{}, false
	}
	if res.OK {
		return out, true
	}
	detail, msg := "wrong code", msgWrongCode
	if out.Replayed {
		detail, msg = "code already used", msgReplayedCode
	}
	g.Metrics.CountSignIn("mfa_failed")
	g.Log.Info("authentication_failed", "step", "2fa", "username", u.Username, "client_ip", g.clientIP(r), "reason", detail)
	g.event(r, u.ID, store.Event{Type: store.EventMFAFailed, Detail: detail})
	if res.DelayStarted {
		g.event(r, u.ID, store.Event{Type: store.EventThrottled,
			Detail: "two-step codes paused after too many wrong codes (" + attempts.In(res.Delay) + ")"})
	}
	if res.Delay > 0 {
		// This failure started or lengthened a pause: say so now rather
		// than let the next (possibly right) code bounce off it.
		w.Header().Set("Retry-After", attempts.RetryAfter(res.Delay))
		fail(http.StatusTooManyRequests, msg+" "+attempts.Message(res.Delay))
		return totp.Outcome{}, false
	}
	fail(http.StatusUnauthorized, msg)
	return totp.Outcome{}, false
}

// finishMFASignIn turns the pending session into a full one with a new
// session id. A recovery code also signs out every other session (someone
// may have the lost phone) and the page says how many codes are left.
func (g *Gateway) finishMFASignIn(w http.ResponseWriter, r *http.Request, cur *store.Principal, u *store.User,
	out totp.Outcome, rd string, remember bool) {
	ctx := r.Context()
	ip, ua := g.clientIP(r), r.UserAgent()
	if g.phishingResistant(u.Roles) {
		// The code proved the person; their role still needs a passkey,
		// which they add next, before anything else.
		g.owePasskey(w, r, cur, rd)
		return
	}
	if out.Factor == totp.FactorRecovery {
		// Everything issued before now dies; the session issued just below
		// comes after the cut and lives.
		if err := g.Sessions.SignOutEverywhere(ctx, w, u.ID, nil, ip, ua, store.EndReason{Code: store.EndMFAChanged}); err != nil {
			g.Log.Error("2fa: sign out other sessions", "err", err.Error())
			g.unavailable(w, r)
			return
		}
	}
	claims, err := g.Sessions.Reissue(ctx, w, cur, time.Unix(0, cur.Claims.AuthAt), true, ip, ua)
	if err != nil {
		g.Log.Error("2fa: issue session", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	detail := "password + " + out.Factor.Describe()
	if remember && out.Factor == totp.FactorApp {
		if note := g.rememberDevice(w, u); note != "" {
			detail += "; " + note
		}
	}
	g.Metrics.CountSignIn("success")
	g.Log.Info("authentication_succeeded", "username", u.Username, "client_ip", ip, "factor", out.Factor.Describe())
	g.event(r, u.ID, store.Event{Type: store.EventSignIn, Detail: detail})
	if out.Factor == totp.FactorRecovery {
		g.event(r, u.ID, store.Event{Type: store.EventRecoveryUsed,
			Detail: "signed in with a recovery code; " + mfaPlural(out.RecoveryLeft, "code", "codes") + " left; other devices signed out"})
		g.render(w, r, http.StatusOK, templates.MFARecoveryUsed(templates.MFARecoveryUsedPage{
			Chrome: templates.Chrome{Title: "Signed in with a recovery code", Prefix: g.prefix, SignedIn: true, Username: u.Username},
			Left:   out.RecoveryLeft, ContinueURL: rd,
		}))
		return
	}
	g.continueSignedIn(w, r, claims, rd, http.StatusSeeOther) // handoff.go
}

// mfaPlural writes "1 code", "3 codes".
func mfaPlural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
