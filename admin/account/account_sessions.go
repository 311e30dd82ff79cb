package account

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
)

// maxDeviceName is the longest device name a person may give, in characters.
const maxDeviceName = 60

// actionContext detaches a state change from the client: once started, a
// revocation finishes even if the browser goes away, but never hangs.
func actionContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
}

// accountEvent writes e to the person's activity with the IP and device of
// the request that caused it. A failure to write is logged, not fatal: the
// action itself has happened.
func (h *Handler) accountEvent(ctx context.Context, r *http.Request, uid string, e store.Event) {
	e.IP = h.ClientIP(r)
	e.Device = r.UserAgent()
	if err := h.Store.AppendEvent(ctx, uid, e); err != nil {
		h.Log.Warn("account: write activity", "err", err.Error(), "user_id", uid, "event", e.Type)
	}
}

// validSessionID reports whether sid looks like an id the store issues
// (unpadded base64url), so nothing else reaches a Redis key.
func validSessionID(sid string) bool {
	if sid == "" || len(sid) > 64 {
		return false
	}
	for _, c := range sid {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// revokeOwnSession signs out one of p's own devices, on every replica from
// its next request. Sessions are stored under their user, so another
// person's id is simply not found: the answer is the same as for an unknown
// id (store.ErrNotFound), and nothing tells whether that id exists. current
// reports whether p revoked the session it is using.
func (h *Handler) revokeOwnSession(ctx context.Context, r *http.Request, p *store.Principal, sid string) (current bool, err error) {
	uid := p.Claims.UserID
	if !validSessionID(sid) {
		return false, store.ErrNotFound
	}
	sess, err := h.Store.FindSession(ctx, uid, sid)
	if err != nil {
		return false, err
	}
	if err := h.Sessions.RevokeByID(ctx, uid, sid, store.EndReason{Code: store.EndRevokedByYou}); err != nil {
		return false, err
	}
	// Signing another device out answers its new-sign-in entry, as "Yes,
	// that was me" would, and under the same rule (mayConfirm): only from a
	// device signed in before it. A device signing itself out answers
	// nothing (an intruder would so wipe their sign-in off the owner's
	// page, then sign in again from the same, now known, browser), and a
	// later device signing an earlier one out leaves its entry for the
	// owner to see.
	if sid != p.Claims.SessionID {
		if n, listed, err := h.findNewSignIn(ctx, uid, sid); err == nil && listed && mayConfirm(p, n) {
			_ = h.Store.DismissNewSignIn(ctx, uid, sid)
		}
	}
	what := web.DeviceLabel(sess.UserAgent)
	if sess.Name != "" {
		what = sess.Name + ", " + what
	}
	h.accountEvent(ctx, r, uid, store.Event{
		Type: store.EventSessionRevoked, Detail: "signed out " + what + ", last used from " + sess.IP,
	})
	return sid == p.Claims.SessionID, nil
}

// signOutAll ends every session of p's user at once (one timestamp, O(1)).
// With keep, this device gets a fresh session issued after the cut, and its
// cookie is set on w.
func (h *Handler) signOutAll(ctx context.Context, w http.ResponseWriter, r *http.Request, p *store.Principal, keep bool) error {
	var kept *store.Principal
	detail := "every device, this one included"
	if keep {
		kept, detail = p, "every other device; this one stayed signed in"
	}
	if err := h.Sessions.SignOutEverywhere(ctx, w, p.Claims.UserID, kept, h.ClientIP(r), r.UserAgent(),
		store.EndReason{Code: store.EndAllByYou}); err != nil {
		return err
	}
	h.accountEvent(ctx, r, p.Claims.UserID, store.Event{Type: store.EventSignOutAll, Detail: detail})
	h.Log.Info("signed_out_everywhere", "user_id", p.Claims.UserID, "kept_current", keep, "client_ip", h.ClientIP(r))
	return nil
}

func (h *Handler) submitRevokeSession(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	ctx, cancel := actionContext(r)
	defer cancel()
	current, err := h.revokeOwnSession(ctx, r, p, r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.ErrorPage(w, r, http.StatusNotFound, "not_found", "Device not found",
			"That device is not signed in to your account; it may have been signed out already.")
	case err != nil:
		h.Log.Error("account: revoke session", "err", err.Error(), "user_id", p.Claims.UserID)
		h.StoreFailed(w, r, err)
	case current:
		// Signing out the device in hand is signing out.
		h.Sessions.Clear(w)
		http.Redirect(w, r, h.Prefix+"/login?m=signed_out", http.StatusSeeOther)
	default:
		http.Redirect(w, r, h.Prefix+"/account?m=revoked", http.StatusSeeOther)
	}
}

// cleanDeviceName trims a typed device name and checks it; problem is a
// sentence for the person when it is refused. An empty name clears it.
func cleanDeviceName(s string) (name, problem string) {
	s = strings.Join(strings.Fields(s), " ")
	switch {
	case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		return "", "Use only ordinary characters in a device name."
	case utf8.RuneCountInString(s) > maxDeviceName:
		return "", "Use at most 60 characters for a device name."
	}
	return s, ""
}

func (h *Handler) submitRenameSession(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		h.ErrorPage(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The form could not be read.")
		return
	}
	name, problem := cleanDeviceName(r.PostForm.Get("name"))
	if problem != "" {
		h.renderAccount(w, r, p, http.StatusUnprocessableEntity, "", problem)
		return
	}
	sid := r.PathValue("id")
	err := store.ErrNotFound
	if validSessionID(sid) {
		err = h.Store.RenameSession(r.Context(), p.Claims.UserID, sid, name)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.ErrorPage(w, r, http.StatusNotFound, "not_found", "Device not found",
			"That device is not signed in to your account; it may have been signed out already.")
	case err != nil:
		h.Log.Error("account: rename session", "err", err.Error(), "user_id", p.Claims.UserID)
		h.Unavailable(w, r)
	default:
		http.Redirect(w, r, h.Prefix+"/account?m=renamed", http.StatusSeeOther)
	}
}

// keepCurrent reads the keep_current field: the form sends a hidden "0"
// before the checkbox's "1" (an unchecked box sends nothing), so the last
// value wins. Absent means on, the default.
func keepCurrent(vals []string) bool {
	if len(vals) == 0 {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(vals[len(vals)-1])) {
	case "0", "false", "off", "no":
		return false
	}
	return true
}

func (h *Handler) submitSignOutAll(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	if !h.recentAuthForm(w, r, p, 64<<10, "sign out of all devices") {
		return
	}
	keep := keepCurrent(r.PostForm["keep_current"])
	ctx, cancel := actionContext(r)
	defer cancel()
	if err := h.signOutAll(ctx, w, r, p, keep); err != nil {
		h.Log.Error("account: sign out everywhere", "err", err.Error(), "user_id", p.Claims.UserID)
		h.StoreFailed(w, r, err)
		return
	}
	if !keep {
		h.Sessions.Clear(w)
		http.Redirect(w, r, h.Prefix+"/login?m=signed_out", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, h.Prefix+"/account?m=signed_out_all", http.StatusSeeOther)
}
