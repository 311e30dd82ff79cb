package account

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
	"github.com/authgate/gateway/store/totp"
	"github.com/authgate/gateway/templates"
)

// Two-step verification on the Login & Security page and in the API.
//
// Setting up keeps the new secret encrypted on the user (MFASecret set,
// MFAEnabled false) until one right code confirms it; each start makes a
// new secret, and an unconfirmed one does nothing (sign-in looks only at
// MFAEnabled). The pages (account_2fa_*.go) and the API (api_me_2fa.go)
// share the actions below, which answer with an *mfaError the caller turns
// into a page or JSON.

// mfaRoutes registers 2FA enrolment and management pages and API calls.
func (h *Handler) mfaRoutes(mux *http.ServeMux) {
	p := h.Prefix
	mux.HandleFunc("GET "+p+"/account/2fa", h.WithUser(h.showMFA))
	mux.HandleFunc("POST "+p+"/account/2fa/setup", h.WithUser(h.startMFASetup))
	mux.HandleFunc("POST "+p+"/account/2fa/confirm", h.WithUser(h.confirmMFASetup))
	mux.HandleFunc("POST "+p+"/account/2fa/recovery", h.WithUser(h.renewRecoveryCodes))
	mux.HandleFunc("POST "+p+"/account/2fa/disable", h.WithUser(h.disableMFA))
	mux.HandleFunc("POST "+p+"/account/2fa/replace", h.WithUser(h.startMFAReplace))           // account_2fa_replace.go
	mux.HandleFunc("POST "+p+"/account/2fa/replace/confirm", h.WithUser(h.confirmMFAReplace)) // account_2fa_replace.go
	h.apiMFARoutes(mux)                                                                       // api_me_2fa.go
}

// mfaError is a refused 2FA action: a status, a stable code for the API and
// a message for people.
type mfaError struct {
	Status int
	Code   string
	Msg    string
	// RetryAfter is set (whole seconds) when attempts are paused.
	RetryAfter string
}

func (e *mfaError) Error() string { return e.Msg }

var (
	errMFAUnavailable = &mfaError{http.StatusServiceUnavailable, "unavailable",
		"The account service is unavailable right now. Please try again in a few seconds.", "5"}
	errMFAOff = &mfaError{http.StatusForbidden, "mfa_off",
		"Two-step verification is turned off on this server.", ""}
	errMFAAlreadyOn = &mfaError{http.StatusConflict, "mfa_already_enabled",
		"Two-step verification is already on. To move to another app, use \"Replace my authenticator\" on the two-step verification page.", ""}
	errMFANotOn = &mfaError{http.StatusConflict, "mfa_not_enabled",
		"Two-step verification is not on.", ""}
	errMFANoSetup = &mfaError{http.StatusConflict, "no_setup_in_progress",
		"No setup is in progress. Start again to get a new key.", ""}
	errMFARequired = &mfaError{http.StatusForbidden, "mfa_required",
		"Two-step verification can't be turned off because your role requires it.", ""}
	errMFAWrongCode = &mfaError{http.StatusUnprocessableEntity, "invalid_code",
		"That code is not right. Check your authenticator app and try again.", ""}
	errMFAReplayed = &mfaError{http.StatusUnprocessableEntity, "code_already_used",
		"That code was already used. Wait for the next code from your app.", ""}
	errMFAWrongPassword = &mfaError{http.StatusUnprocessableEntity, "wrong_password",
		"Wrong password.", ""}
)

// mfaUser loads the signed-in person's full record (the principal carries
// only what the request path needs).
func (h *Handler) mfaUser(ctx context.Context, p *store.Principal) (*store.User, *mfaError) {
	u, err := h.Store.FindUserByID(ctx, p.Claims.UserID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			h.Log.Error("2fa: load user", "err", err.Error())
		}
		return nil, errMFAUnavailable
	}
	return u, nil
}

// mfaPolicyRequires reports whether any of roles must use 2FA (mfa.require).
func (h *Handler) mfaPolicyRequires(roles []string) bool {
	for _, r := range roles {
		if h.Config.MFARequiredFor(r) {
			return true
		}
	}
	return false
}

// mfaOff reports whether the operator turned the second factor off.
func (h *Handler) mfaOff() bool { return h.Config.MFA.Require == config.MFAOff }

// mfaEvent writes to the person's activity stream; a failure is logged
// only, since the action itself already happened.
func (h *Handler) mfaEvent(r *http.Request, uid, typ, detail string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	if err := h.Store.AppendEvent(ctx, uid, store.Event{Type: typ, Detail: detail, IP: h.ClientIP(r), Device: r.UserAgent()}); err != nil {
		h.Log.Warn("append activity event", "err", err.Error(), "type", typ)
	}
}

// showMFA is the status page: on or off, recovery codes left, and the
// actions that fit.
func (h *Handler) showMFA(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	u, merr := h.mfaUser(r.Context(), p)
	if merr != nil {
		h.Unavailable(w, r)
		return
	}
	page := templates.MFAStatusPage{
		Chrome:  h.Chrome(p, "Two-step verification"),
		Enabled: u.MFAEnabled, RecoveryLeft: len(u.RecoveryCodes),
		Required: h.mfaPolicyRequires(u.Roles), Unavailable: h.mfaOff(),
	}
	switch r.URL.Query().Get("m") {
	case "disabled":
		page.Notice = "Two-step verification is off. Your other devices were signed out."
	case "replaced":
		page.Notice = "Your new authenticator app is in use; the old one's codes no longer work. Your other devices were signed out."
	}
	if page.Unavailable && !page.Enabled {
		page.Notice = "Two-step verification is turned off on this server."
	}
	h.Render(w, r, http.StatusOK, templates.MFAStatus(page))
}

// renderMFAError answers a refused page action with the status page and the
// reason.
func (h *Handler) renderMFAError(w http.ResponseWriter, r *http.Request, p *store.Principal, e *mfaError) {
	if e.Status == http.StatusServiceUnavailable {
		h.Unavailable(w, r)
		return
	}
	if e.RetryAfter != "" {
		w.Header().Set("Retry-After", e.RetryAfter)
	}
	page := templates.MFAStatusPage{Chrome: h.Chrome(p, "Two-step verification"), Error: e.Msg}
	if u, merr := h.mfaUser(r.Context(), p); merr == nil {
		page.Enabled, page.RecoveryLeft = u.MFAEnabled, len(u.RecoveryCodes)
		page.Required, page.Unavailable = h.mfaPolicyRequires(u.Roles), h.mfaOff()
	}
	h.Render(w, r, e.Status, templates.MFAStatus(page))
}

// checkMFACode runs one code check for u under the per-account limit on
// code attempts, shared with the sign-in step (store/attempts). A wrong or
// replayed code is written to the activity stream.
func (h *Handler) checkMFACode(r *http.Request, u *store.User, typed string, allowRecovery bool) (totp.Outcome, *mfaError) {
	var out totp.Outcome
	res, err := h.Attempts.Code(r.Context(), u.ID, func(ctx context.Context) (bool, error) {
		var err error
		out, err = h.TOTP.Check(ctx, h.Store, u, typed, time.Now(), allowRecovery)
		return out.OK(), err
	})
	if err != nil {
		h.Log.Error("2fa: check code", "err", err.Error(), "user_id", u.ID)
		return totp.Outcome{}, errMFAUnavailable
	}
	if res.OK {
		return out, nil
	}
	if res.Throttled() {
		return totp.Outcome{}, mfaThrottled(res.Wait, "")
	}
	refusal, detail := errMFAWrongCode, "wrong code"
	if out.Replayed {
		refusal, detail = errMFAReplayed, "code already used"
	}
	h.mfaEvent(r, u.ID, store.EventMFAFailed, detail+" (account page)")
	return totp.Outcome{}, h.mfaAfterFailure(r, u, refusal, res, "two-step codes")
}

// mfaThrottled is the refusal of an attempt made during a pause (or of a
// failure that started one, with what went wrong before the wait).
func mfaThrottled(wait time.Duration, before string) *mfaError {
	msg := attempts.Message(wait)
	if before != "" {
		msg = before + " " + msg
	}
	return &mfaError{http.StatusTooManyRequests, "too_many_attempts", msg, attempts.RetryAfter(wait)}
}

// mfaAfterFailure notes a pause that a failure started and, when the
// failure started or lengthened one, turns the refusal into a 429 that
// says when to try again.
func (h *Handler) mfaAfterFailure(r *http.Request, u *store.User, refusal *mfaError, res attempts.Result, what string) *mfaError {
	if res.DelayStarted {
		h.mfaEvent(r, u.ID, store.EventThrottled, what+" paused after too many failures ("+attempts.In(res.Delay)+")")
	}
	if res.Delay > 0 {
		return mfaThrottled(res.Delay, refusal.Msg)
	}
	return refusal
}
