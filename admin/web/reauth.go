package web

import (
	"context"
	"net/http"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
	"github.com/authgate/gateway/templates"
)

// Recent reports whether the session's password entry is within the
// re-authentication window.
func (h *Base) Recent(p *store.Principal) bool {
	return h.Now().Sub(time.Unix(0, p.Claims.AuthAt)) <= h.Config.Session.ReauthWindow.Duration
}

// RequireRecentAuth guards a sensitive POST. It returns true when the sign-in
// is recent enough, or when the form carries a correct reauth_password (the
// session is then re-issued with a fresh sign-in time, and the action
// carries on in this same request). Otherwise it has answered: API calls get
// 403 {"code":"reauth_required"}; pages get a password form that re-posts
// the original fields to the same action. what names the action for people.
//
// Password attempts made here count against the same brute-force limits as
// the login form (see checkReauthPassword).
func (h *Base) RequireRecentAuth(w http.ResponseWriter, r *http.Request, p *store.Principal, what string) bool {
	if h.Recent(p) {
		return true
	}
	if !WantsHTML(r) {
		WriteJSONError(w, http.StatusForbidden, "reauth_required", "sign in again (or enter your password) to do this")
		return false
	}
	errMsg, errStatus := "", http.StatusUnauthorized
	if pw := r.PostFormValue("reauth_password"); pw != "" {
		ok, status, msg := h.checkReauthPassword(w, r, p, pw)
		if ok {
			return true
		}
		errMsg, errStatus = msg, status
	}
	var fields []templates.ReauthField
	for name, vals := range r.PostForm {
		if name == "reauth_password" {
			continue
		}
		for _, v := range vals {
			fields = append(fields, templates.ReauthField{Name: name, Value: v})
		}
	}
	status := http.StatusOK
	if errMsg != "" {
		status = errStatus
	}
	// The form goes back to the path exactly as it came (escaped): the
	// decoded path of e.g. ".../users/x%2F..%2Ftokens%3F/roles" would make
	// the browser post the password and these fields to another action.
	h.Render(w, r, status, templates.Reauth(templates.ReauthPage{
		Chrome: h.Chrome(p, "Confirm it's you"), Action: r.URL.EscapedPath(), What: what, Fields: fields, Error: errMsg,
	}))
	return false
}

// checkReauthPassword verifies the password for re-authentication under the
// same brute-force limits as the login form (the account counter is shared)
// and, when right, re-issues the session with a fresh sign-in time (new
// session id). When not, it returns the status and message for the person:
// 401 for a wrong password, 429 with Retry-After while attempts are paused
// (the right password included), 503 when the check cannot be made.
func (h *Base) checkReauthPassword(w http.ResponseWriter, r *http.Request, p *store.Principal, pw string) (bool, int, string) {
	const msgTryAgain = "Something went wrong; please try again."
	u, err := h.Store.FindUserByID(r.Context(), p.Claims.UserID)
	if err != nil {
		return false, http.StatusServiceUnavailable, msgTryAgain
	}
	res, err := h.Attempts.Password(r.Context(), attempts.User(u.ID), h.ClientIP(r), func(ctx context.Context) (bool, error) {
		return h.Hasher.Verify(ctx, u.PasswordHash, pw)
	})
	switch {
	case err != nil:
		h.Log.Error("reauth: check password", "err", err.Error())
		return false, http.StatusServiceUnavailable, msgTryAgain
	case res.Throttled():
		w.Header().Set("Retry-After", attempts.RetryAfter(res.Wait))
		return false, http.StatusTooManyRequests, attempts.Message(res.Wait)
	case !res.OK:
		ev := store.Event{Type: store.EventSignInFailed, Detail: "wrong password when confirming an action", IP: h.ClientIP(r), Device: r.UserAgent()}
		_ = h.Store.AppendEvent(r.Context(), u.ID, ev)
		if res.DelayStarted {
			ev.Type, ev.Detail = store.EventThrottled, "password attempts paused after too many wrong passwords ("+attempts.In(res.Delay)+")"
			_ = h.Store.AppendEvent(r.Context(), u.ID, ev)
		}
		if res.Delay > 0 {
			w.Header().Set("Retry-After", attempts.RetryAfter(res.Delay))
			return false, http.StatusTooManyRequests, "Wrong password. " + attempts.Message(res.Delay)
		}
		return false, http.StatusUnauthorized, "Wrong password."
	}
	c, err := h.Sessions.Reissue(r.Context(), w, p, h.Now(), p.Claims.MFA, h.ClientIP(r), r.UserAgent())
	if err != nil {
		return false, http.StatusServiceUnavailable, msgTryAgain
	}
	p.Claims = *c
	ev := store.Event{Type: store.EventIdentityConfirmed, Detail: "with the password, for an account change", IP: h.ClientIP(r), Device: r.UserAgent()}
	if err := h.Store.AppendEvent(r.Context(), u.ID, ev); err != nil {
		h.Log.Warn("reauth: record activity", "err", err.Error())
	}
	return true, 0, ""
}

// Chrome is the page frame for a signed-in person.
func (h *Base) Chrome(p *store.Principal, title string) templates.Chrome {
	c := templates.Chrome{Title: title, Prefix: h.Prefix}
	if p != nil && p.User != nil {
		c.SignedIn, c.Username = true, p.User.Username
		c.Staff = p.User.HasRole(store.RoleSupport) || p.User.HasRole(store.RoleAdmin)
	}
	return c
}
