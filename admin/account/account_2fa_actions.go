package account

import (
	"context"
	"net/http"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
	"github.com/authgate/gateway/store/totp"
)

// The 2FA actions shared by the pages and the API. Each returns nil or the
// refusal; those that change the session (confirm, disable) set the fresh
// cookie on w.

// mfaBeginSetup makes a new secret for p and keeps it, encrypted, as the
// setup in progress. It returns the secret in clear for the page or API to
// show once.
func (h *Handler) mfaBeginSetup(r *http.Request, p *store.Principal) (*store.User, string, *mfaError) {
	if h.mfaOff() {
		return nil, "", errMFAOff
	}
	u, merr := h.mfaUser(r.Context(), p)
	if merr != nil {
		return nil, "", merr
	}
	if u.MFAEnabled {
		return nil, "", errMFAAlreadyOn
	}
	secret := totp.GenerateSecret()
	sealed := h.TOTP.Seal(u.ID, secret)
	if err := h.Store.UpdateUser(r.Context(), u.ID, store.UserUpdate{MFASecret: &sealed}); err != nil {
		h.Log.Error("2fa setup: store secret", "err", err.Error())
		return nil, "", errMFAUnavailable
	}
	u.MFASecret = sealed
	return u, secret, nil
}

// mfaPendingSecret is the secret of the setup in progress, in clear.
func (h *Handler) mfaPendingSecret(u *store.User) (string, *mfaError) {
	if u.MFAEnabled {
		return "", errMFAAlreadyOn
	}
	if u.MFASecret == "" {
		return "", errMFANoSetup
	}
	secret, err := h.TOTP.Open(u.ID, u.MFASecret)
	if err != nil {
		// Sealed under a secret no longer configured: as good as none.
		return "", errMFANoSetup
	}
	return secret, nil
}

// mfaConfirm turns 2FA on with the first right code from the new app and
// returns the recovery codes (in clear, to be shown once). Every other
// session of the account is signed out; this one gets a new id.
func (h *Handler) mfaConfirm(w http.ResponseWriter, r *http.Request, p *store.Principal, code string) (*store.User, []string, *mfaError) {
	u, merr := h.mfaUser(r.Context(), p)
	if merr != nil {
		return nil, nil, merr
	}
	if _, merr := h.mfaPendingSecret(u); merr != nil {
		return u, nil, merr
	}
	if _, merr := h.checkMFACode(r, u, code, false); merr != nil {
		return u, nil, merr
	}
	codes := totp.NewRecoveryCodes()
	hashes := h.TOTP.HashRecoveryCodes(u.ID, codes)
	on := true
	if err := h.Store.UpdateUser(r.Context(), u.ID, store.UserUpdate{MFAEnabled: &on, RecoveryCodes: &hashes}); err != nil {
		h.Log.Error("2fa setup: enable", "err", err.Error())
		return u, nil, errMFAUnavailable
	}
	keep := *p
	keep.Claims.MFA = true
	if err := h.Sessions.SignOutEverywhere(r.Context(), w, u.ID, &keep, h.ClientIP(r), r.UserAgent(), store.EndReason{Code: store.EndMFAChanged}); err != nil {
		h.Log.Error("2fa setup: sign out other sessions", "err", err.Error())
		return u, nil, errMFAUnavailable
	}
	h.mfaEvent(r, u.ID, store.EventMFAEnabled, "authenticator app added; other devices signed out")
	h.Log.Info("mfa_enabled", "username", u.Username, "client_ip", h.ClientIP(r))
	return u, codes, nil
}

// mfaRenewCodes replaces the recovery codes (the old ones stop working)
// and returns the new ones in clear. The caller has checked that the
// sign-in is recent.
func (h *Handler) mfaRenewCodes(r *http.Request, p *store.Principal) (*store.User, []string, *mfaError) {
	u, merr := h.mfaUser(r.Context(), p)
	if merr != nil {
		return nil, nil, merr
	}
	if !u.MFAEnabled {
		return u, nil, errMFANotOn
	}
	codes := totp.NewRecoveryCodes()
	hashes := h.TOTP.HashRecoveryCodes(u.ID, codes)
	if err := h.Store.UpdateUser(r.Context(), u.ID, store.UserUpdate{RecoveryCodes: &hashes}); err != nil {
		h.Log.Error("2fa: renew recovery codes", "err", err.Error())
		return u, nil, errMFAUnavailable
	}
	h.mfaEvent(r, u.ID, store.EventRecoveryRenewed, "new recovery codes; the old ones no longer work")
	return u, codes, nil
}

// mfaDisable turns 2FA off after the password and a code (or a recovery
// code), unless the person's role requires it. Every other session is
// signed out; this one gets a new id.
func (h *Handler) mfaDisable(w http.ResponseWriter, r *http.Request, p *store.Principal, password, code string) *mfaError {
	u, merr := h.mfaUser(r.Context(), p)
	if merr != nil {
		return merr
	}
	if !u.MFAEnabled {
		return errMFANotOn
	}
	if h.mfaPolicyRequires(u.Roles) {
		// A passkey meets the policy too: with one, the app may go.
		n, err := h.Store.CountPasskeys(r.Context(), u.ID)
		if err != nil {
			return errMFAUnavailable
		}
		if n == 0 || !h.passkeysOn() {
			return errMFARequired
		}
	}
	// The password goes through the same limits as every other password
	// check of this account (and of this client address).
	res, err := h.Attempts.Password(r.Context(), attempts.User(u.ID), h.ClientIP(r), func(ctx context.Context) (bool, error) {
		return h.Hasher.Verify(ctx, u.PasswordHash, password)
	})
	if err != nil {
		h.Log.Error("2fa disable: verify password", "err", err.Error())
		return errMFAUnavailable
	}
	if res.Throttled() {
		return mfaThrottled(res.Wait, "")
	}
	if !res.OK {
		h.mfaEvent(r, u.ID, store.EventSignInFailed, "wrong password when turning off two-step verification")
		return h.mfaAfterFailure(r, u, errMFAWrongPassword, res, "password attempts")
	}
	if _, merr := h.checkMFACode(r, u, code, true); merr != nil {
		return merr
	}
	empty, off, zero := "", false, int64(0)
	none := []string{}
	if err := h.Store.UpdateUser(r.Context(), u.ID, store.UserUpdate{
		MFASecret: &empty, MFAEnabled: &off, MFALastStep: &zero, RecoveryCodes: &none,
	}); err != nil {
		h.Log.Error("2fa disable: update", "err", err.Error())
		return errMFAUnavailable
	}
	if err := h.Sessions.SignOutEverywhere(r.Context(), w, u.ID, p, h.ClientIP(r), r.UserAgent(), store.EndReason{Code: store.EndMFAChanged}); err != nil {
		h.Log.Error("2fa disable: sign out other sessions", "err", err.Error())
		return errMFAUnavailable
	}
	h.mfaEvent(r, u.ID, store.EventMFADisabled, "two-step verification turned off; other devices signed out")
	h.Log.Info("mfa_disabled", "username", u.Username, "client_ip", h.ClientIP(r))
	return nil
}
