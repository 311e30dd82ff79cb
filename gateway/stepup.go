package gateway

import (
	"net/http"
	"net/url"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
	"github.com/authgate/gateway/templates"
)

// Step-up: a route with `mfa: required` or `reauth` sends a signed-in
// person here (askToStepUp) to pass a second factor or enter the password
// again, then back to rd. The page lives with the other sign-in pages (on
// the portal, with one); a new session id is issued when it is passed, and
// an app host picks it up through the usual handoff.

// confirmRoutes registers the confirm page.
func (g *Gateway) confirmRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+g.prefix+"/login/confirm", g.showConfirm)
	mux.HandleFunc("POST "+g.prefix+"/login/confirm", g.submitConfirm)
	if g.passkeysOn() {
		mux.HandleFunc("POST "+g.prefix+"/login/confirm/passkey/begin", g.beginConfirmPasskey) // stepup_passkey.go
		mux.HandleFunc("POST "+g.prefix+"/login/confirm/passkey", g.finishConfirmPasskey)
	}
}

// confirmSession finds the fully signed-in session the confirm page needs;
// otherwise it has sent the person to sign in (back to rd afterwards) and
// returns nil.
func (g *Gateway) confirmSession(w http.ResponseWriter, r *http.Request, rd string) *store.Principal {
	cur, outcome := g.Sessions.Authenticate(r)
	switch outcome {
	case store.Valid:
		return cur
	case store.Unavailable:
		g.unavailable(w, r)
		return nil
	case store.Ended:
		g.Sessions.Clear(w)
	}
	target := g.prefix + "/login"
	if outcome == store.Pending {
		target += "/2fa"
	}
	http.Redirect(w, r, target+"?rd="+url.QueryEscape(rd), http.StatusSeeOther)
	return nil
}

func (g *Gateway) showConfirm(w http.ResponseWriter, r *http.Request) {
	rd := g.cleanRD(r.URL.Query().Get("rd"))
	cur := g.confirmSession(w, r, rd)
	if cur == nil {
		return
	}
	if r.URL.Query().Get("need") == "mfa" {
		if cur.Claims.MFA {
			g.continueSignedIn(w, r, &cur.Claims, rd, http.StatusFound)
			return
		}
		g.render(w, r, http.StatusOK, templates.StepUp(templates.StepUpPage{
			Chrome: g.confirmChrome(cur), Action: g.prefix + "/login/confirm", RD: rd, Enrol: !cur.User.MFAEnabled,
		}))
		return
	}
	g.renderConfirmPassword(w, r, http.StatusOK, cur, rd, "")
}

// renderConfirmPassword is admin's "Confirm it's you" form, posting here.
func (g *Gateway) renderConfirmPassword(w http.ResponseWriter, r *http.Request, status int, cur *store.Principal, rd, errMsg string) {
	page := templates.ReauthPage{
		Chrome: g.confirmChrome(cur), Action: g.prefix + "/login/confirm", What: "open this page",
		Fields: []templates.ReauthField{{Name: "need", Value: "password"}, {Name: "rd", Value: rd}}, Error: errMsg, RD: rd,
	}
	g.confirmPasskeyOffer(w, r, cur, &page) // stepup_passkey.go
	g.render(w, r, status, templates.Reauth(page))
}

func (g *Gateway) confirmChrome(cur *store.Principal) templates.Chrome {
	return templates.Chrome{Title: "Confirm it's you", Prefix: g.prefix, SignedIn: true, Username: cur.User.Username}
}

func (g *Gateway) submitConfirm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		g.renderErrorPage(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The form could not be read.")
		return
	}
	rd := g.cleanRD(r.PostForm.Get("rd"))
	cur := g.confirmSession(w, r, rd)
	if cur == nil {
		return
	}
	if r.PostForm.Get("need") == "mfa" {
		g.startMFAStepUp(w, r, cur, rd)
		return
	}
	g.checkConfirmPassword(w, r, cur, rd)
}

// startMFAStepUp turns the session into one that owes its second factor
// (a code, or setting one up when the account has none), keeping the time
// of the password, and sends the person to that step; finishing it issues
// a full session with the factor and goes on to rd (login_2fa*.go).
func (g *Gateway) startMFAStepUp(w http.ResponseWriter, r *http.Request, cur *store.Principal, rd string) {
	if cur.Claims.MFA {
		g.continueSignedIn(w, r, &cur.Claims, rd, http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	// An account with a passkey answers on the code step with it (the
	// step offers it), as at sign-in (secondStep), even without an app.
	n, err := g.passkeyCount(ctx, cur.Claims.UserID)
	if err != nil {
		g.Log.Error("step-up: count passkeys", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	pending, target := store.PendingCode, g.prefix+"/login/2fa"
	if !cur.User.MFAEnabled && n == 0 {
		pending, target = store.PendingEnroll, g.prefix+"/login/2fa/setup"
	}
	_, err = g.Sessions.Issue(ctx, w, store.IssueOptions{
		UserID: cur.Claims.UserID, AuthAt: time.Unix(0, cur.Claims.AuthAt), Pending: pending,
		IP: g.clientIP(r), Agent: r.UserAgent(),
	})
	if err == nil {
		err = g.Sessions.Revoke(ctx, cur.Claims.UserID, cur.Claims.SessionID, cur.Claims.Created)
	}
	if err != nil {
		g.Log.Error("step-up: issue pending session", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	http.Redirect(w, r, target+"?rd="+url.QueryEscape(rd), http.StatusSeeOther)
}

// checkConfirmPassword checks the password again under the sign-in form's
// brute-force limits and, when right, issues the session anew with a fresh
// sign-in time and goes on to rd.
func (g *Gateway) checkConfirmPassword(w http.ResponseWriter, r *http.Request, cur *store.Principal, rd string) {
	pw := r.PostForm.Get("reauth_password")
	if pw == "" {
		g.renderConfirmPassword(w, r, http.StatusBadRequest, cur, rd, "Enter your password.")
		return
	}
	ip := g.clientIP(r)
	u, res, err := g.checkPasswordThrottled(r, cur.User.Username, pw, ip) // throttle.go
	switch {
	case err != nil:
		g.Log.Error("step-up: check password", "err", err.Error())
		g.unavailable(w, r)
		return
	case res.Throttled():
		w.Header().Set("Retry-After", attempts.RetryAfter(res.Wait))
		g.renderConfirmPassword(w, r, http.StatusTooManyRequests, cur, rd, attempts.Message(res.Wait))
		return
	case !res.OK || u == nil || u.ID != cur.Claims.UserID:
		g.Log.Info("authentication_failed", "step", "confirm", "username", cur.User.Username, "client_ip", ip)
		if u != nil {
			g.event(r, u.ID, store.Event{Type: store.EventSignInFailed, Detail: "wrong password when confirming a sign-in for a page"})
		}
		msg, status := "Wrong password.", http.StatusUnauthorized
		if res.DelayStarted && u != nil {
			g.event(r, u.ID, store.Event{Type: store.EventThrottled,
				Detail: "sign-in paused after too many wrong passwords (" + attempts.In(res.Delay) + ")"})
		}
		if res.Delay > 0 {
			w.Header().Set("Retry-After", attempts.RetryAfter(res.Delay))
			msg, status = msg+" "+attempts.Message(res.Delay), http.StatusTooManyRequests
		}
		g.renderConfirmPassword(w, r, status, cur, rd, msg)
		return
	}
	claims, err := g.Sessions.Reissue(r.Context(), w, cur, g.Sessions.Now(), cur.Claims.MFA, ip, r.UserAgent())
	if err != nil {
		g.Log.Error("step-up: issue session", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	g.Log.Info("authentication_succeeded", "step", "confirm", "username", cur.User.Username, "client_ip", ip)
	g.event(r, cur.Claims.UserID, store.Event{Type: store.EventIdentityConfirmed, Detail: "with the password, for a page"})
	g.continueSignedIn(w, r, claims, rd, http.StatusSeeOther)
}
