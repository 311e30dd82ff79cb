package account

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/totp"
)

// Replacing the authenticator app is one flow for everyone, staff
// included (their role forbids turning 2FA off, so "off and on again" is
// no way for them): after a recent sign-in the page shows a new key, the
// person confirms it with a code from the new app, and only then does the
// new key take the old one's place. Until that, the new key waits in Redis
// bound to this sign-in (store/mfareplace.go) for mfaReplaceTTL and the old
// app keeps working; a flow left unfinished changes nothing.

// mfaReplaceTTL is how long a new key waits for its first code.
const mfaReplaceTTL = 10 * time.Minute

var errMFANoReplace = &mfaError{http.StatusConflict, "no_replacement_in_progress",
	"No replacement is in progress (or it expired). Start again to get a new key; your current app still works.", ""}

// startMFAReplace makes a new key and shows it with the confirm form.
func (h *Handler) startMFAReplace(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	if !h.RequireRecentAuth(w, r, p, "replace your authenticator app") {
		return
	}
	u, merr := h.mfaUser(r.Context(), p)
	if merr == nil && !u.MFAEnabled {
		merr = errMFANotOn
	}
	if merr != nil {
		h.renderMFAError(w, r, p, merr)
		return
	}
	secret := totp.GenerateSecret()
	if err := h.Store.PutMFAReplacement(r.Context(), u.ID, p.Claims.Created, h.TOTP.Seal(u.ID, secret), mfaReplaceTTL); err != nil {
		h.Log.Error("2fa replace: keep new secret", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	h.renderMFAKey(w, r, p, mfaReplaceKey, http.StatusOK, u, secret, "")
}

// confirmMFAReplace installs the new key after one right code from the new
// app. A wrong code shows the same key again and changes nothing.
func (h *Handler) confirmMFAReplace(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if !h.RequireRecentAuth(w, r, p, "replace your authenticator app") {
		return
	}
	u, secret, merr := h.mfaReplace(w, r, p, r.PostFormValue("code"))
	if merr != nil {
		if secret != "" && merr.Status != http.StatusServiceUnavailable {
			h.renderMFAKeyAgain(w, r, p, mfaReplaceKey, u, secret, merr)
			return
		}
		h.renderMFAError(w, r, p, merr)
		return
	}
	http.Redirect(w, r, h.Prefix+"/account/2fa?m=replaced", http.StatusSeeOther)
}

// mfaReplace checks code against the replacement in progress and, when
// right, makes it the account's key. On a refusal it returns the pending
// secret (when there is one) so the page can show it again.
func (h *Handler) mfaReplace(w http.ResponseWriter, r *http.Request, p *store.Principal, code string) (*store.User, string, *mfaError) {
	u, merr := h.mfaUser(r.Context(), p)
	if merr != nil {
		return nil, "", merr
	}
	if !u.MFAEnabled {
		return u, "", errMFANotOn
	}
	sealed, err := h.Store.MFAReplacement(r.Context(), u.ID, p.Claims.Created)
	if errors.Is(err, store.ErrNotFound) {
		return u, "", errMFANoReplace
	}
	if err != nil {
		h.Log.Error("2fa replace: read new secret", "err", err.Error())
		return u, "", errMFAUnavailable
	}
	secret, err := h.TOTP.Open(u.ID, sealed)
	if err != nil {
		return u, "", errMFANoReplace
	}
	// The code goes through the per-account limit on code attempts, as
	// every other code check does.
	var step int64
	res, err := h.Attempts.Code(r.Context(), u.ID, func(context.Context) (bool, error) {
		s, ok, err := totp.Validate(secret, code, time.Now())
		step = s
		return ok, err
	})
	if err != nil {
		h.Log.Error("2fa replace: check code", "err", err.Error(), "user_id", u.ID)
		return u, secret, errMFAUnavailable
	}
	if !res.OK {
		if res.Throttled() {
			return u, secret, mfaThrottled(res.Wait, "")
		}
		h.mfaEvent(r, u.ID, store.EventMFAFailed, "wrong code from the new app when replacing the authenticator (account page)")
		return u, secret, h.mfaAfterFailure(r, u, errMFAWrongCode, res, "two-step codes")
	}
	// Taken in one step: of two confirmations racing, one installs it.
	if _, err := h.Store.TakeMFAReplacement(r.Context(), u.ID, p.Claims.Created); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return u, "", errMFANoReplace
		}
		return u, "", errMFAUnavailable
	}
	// The step of the confirming code counts as used, so that code cannot
	// sign in afterwards.
	if err := h.Store.UpdateUser(r.Context(), u.ID, store.UserUpdate{MFASecret: &sealed, MFALastStep: &step}); err != nil {
		h.Log.Error("2fa replace: install new secret", "err", err.Error())
		return u, "", errMFAUnavailable
	}
	keep := *p
	keep.Claims.MFA = true
	if err := h.Sessions.SignOutEverywhere(r.Context(), w, u.ID, &keep, h.ClientIP(r), r.UserAgent(), store.EndReason{Code: store.EndMFAChanged}); err != nil {
		h.Log.Error("2fa replace: sign out other sessions", "err", err.Error())
		return u, "", errMFAUnavailable
	}
	h.mfaEvent(r, u.ID, store.EventMFAEnabled, "authenticator app replaced; the old app's codes no longer work; other devices signed out")
	h.Log.Info("mfa_replaced", "username", u.Username, "client_ip", h.ClientIP(r))
	return u, "", nil
}
