package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
	"github.com/authgate/gateway/store/passwords"
	"github.com/authgate/gateway/templates"
)

// Codes of a refused password change, shared by the page and the API.
const (
	codeWeakPassword  = "weak_password"
	codeWrongPassword = "wrong_password"
	codeThrottled     = "throttled"
)

// passwordRefusal is a password change refused for a reason the person can
// act on; any other error is a technical failure.
type passwordRefusal struct {
	Code    string
	Message string
	// RetryAfter is set when attempts are paused (code throttled).
	RetryAfter time.Duration
}

func (e *passwordRefusal) Error() string { return e.Message }

// checkPasswordAttempt verifies pw as u's current password under the
// shared brute-force limits (store/attempts): the account counter it shares
// with sign-in and re-authentication, and the client-address counter.
// wait > 0 means the attempt was refused without checking, and how long to
// wait. A wrong password shows in the person's activity; a right one clears
// the account counter.
func (h *Handler) checkPasswordAttempt(ctx context.Context, r *http.Request, u *store.User, pw string) (ok bool, wait time.Duration, err error) {
	res, err := h.Attempts.Password(ctx, attempts.User(u.ID), h.ClientIP(r), func(ctx context.Context) (bool, error) {
		if len(pw) > 4*passwords.MaxLen {
			return false, nil // longer than any acceptable password: no need to hash it
		}
		return h.Hasher.Verify(ctx, u.PasswordHash, pw)
	})
	switch {
	case err != nil:
		return false, 0, err
	case res.Throttled():
		return false, res.Wait, nil
	case res.OK:
		return true, 0, nil
	}
	h.accountEvent(ctx, r, u.ID, store.Event{
		Type: store.EventSignInFailed, Detail: "wrong current password when changing the password",
	})
	h.Log.Info("authentication_failed", "username", u.Username, "client_ip", h.ClientIP(r), "during", "password_change")
	return false, 0, nil
}

// changePassword replaces p's password after checking the current one (it
// is the re-authentication) and the policy for the new one. On success
// every other device is signed out and this one gets a new session id,
// whose cookie is set on w. Refusals are *passwordRefusal.
func (h *Handler) changePassword(ctx context.Context, w http.ResponseWriter, r *http.Request, p *store.Principal, current, next string) error {
	u, err := h.Store.FindUserByID(ctx, p.Claims.UserID)
	if err != nil {
		return err
	}
	var policy *passwords.PolicyError
	if err := passwords.Check(next, h.Config.Password.MinLength, u.Username, u.Email); errors.As(err, &policy) {
		return &passwordRefusal{Code: codeWeakPassword, Message: policy.Reason}
	} else if err != nil {
		return err
	}
	if passwords.Normalize(next) == passwords.Normalize(current) {
		return &passwordRefusal{Code: codeWeakPassword, Message: "Choose a new password that differs from your current one."}
	}
	ok, wait, err := h.checkPasswordAttempt(ctx, r, u, current)
	switch {
	case err != nil:
		return err
	case wait > 0:
		return &passwordRefusal{Code: codeThrottled, RetryAfter: wait,
			Message: "Too many wrong passwords. Try again in " + waitWords(wait) + "."}
	case !ok:
		return &passwordRefusal{Code: codeWrongPassword, Message: "Your current password is not right."}
	}
	hash, err := h.Hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	if err := h.Store.UpdateUser(ctx, u.ID, store.UserUpdate{PasswordHash: &hash}); err != nil {
		return err
	}
	// Typing the current password just now was a sign-in: the kept session
	// counts as freshly authenticated.
	kept := *p
	kept.Claims.AuthAt = h.Now().UnixNano()
	if err := h.Sessions.SignOutEverywhere(ctx, w, u.ID, &kept, h.ClientIP(r), r.UserAgent(),
		store.EndReason{Code: store.EndPasswordChanged}); err != nil {
		return fmt.Errorf("password changed but signing out other devices failed: %w", err)
	}
	h.accountEvent(ctx, r, u.ID, store.Event{Type: store.EventPasswordChanged, Detail: "every other device was signed out"})
	h.Log.Info("password_changed", "username", u.Username, "client_ip", h.ClientIP(r))
	return nil
}

// waitWords says a wait the way people do: "5 seconds", "3 minutes".
func waitWords(d time.Duration) string {
	if d < time.Minute {
		n := max(int(d.Round(time.Second)/time.Second), 1)
		if n == 1 {
			return "1 second"
		}
		return strconv.Itoa(n) + " seconds"
	}
	n := int((d + time.Minute - 1) / time.Minute)
	if n == 1 {
		return "1 minute"
	}
	return strconv.Itoa(n) + " minutes"
}

func (h *Handler) passwordPage(p *store.Principal, errMsg string) templates.PasswordPage {
	return templates.PasswordPage{
		Chrome: h.Chrome(p, "Change password"), MinLength: h.Config.Password.MinLength, Error: errMsg,
	}
}

func (h *Handler) showPasswordPage(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	allowOwnScripts(w)
	h.Render(w, r, http.StatusOK, templates.AccountPassword(h.passwordPage(p, "")))
}

func (h *Handler) submitPassword(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.ErrorPage(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The form could not be read.")
		return
	}
	next := r.PostForm.Get("new_password")
	if next != r.PostForm.Get("confirm_password") {
		allowOwnScripts(w)
		h.Render(w, r, http.StatusUnprocessableEntity, templates.AccountPassword(
			h.passwordPage(p, "The two new passwords don't match. Type the same new password twice.")))
		return
	}
	ctx, cancel := actionContext(r)
	defer cancel()
	allowOwnScripts(w) // a refusal shows the form, with its meter, again
	err := h.changePassword(ctx, w, r, p, r.PostForm.Get("current_password"), next)
	var refusal *passwordRefusal
	switch {
	case errors.As(err, &refusal):
		status := http.StatusUnprocessableEntity
		if refusal.Code == codeThrottled {
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", strconv.Itoa(int(refusal.RetryAfter.Seconds())))
		}
		h.Render(w, r, status, templates.AccountPassword(h.passwordPage(p, refusal.Message)))
	case err != nil:
		h.Log.Error("account: change password", "err", err.Error(), "user_id", p.Claims.UserID)
		h.Unavailable(w, r)
	default:
		http.Redirect(w, r, h.Prefix+"/account?m=password_changed", http.StatusSeeOther)
	}
}
