package account

import (
	"context"
	"net/http"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// The new-sign-ins panel of Login & Security: each sign-in from a browser
// new to the account (store.NewSignIn, kept 14 days) is asked about once.
// Both answers are plain POST forms behind WithUser and the gateway's
// cross-origin protection, like the page's other forms.

// newSignInRoutes registers the two answers.
func (h *Handler) newSignInRoutes(mux *http.ServeMux) {
	p := h.Prefix
	mux.HandleFunc("POST "+p+"/account/new-signins/{id}/dismiss", h.WithUser(h.submitDismissNewSignIn))
	mux.HandleFunc("POST "+p+"/account/new-signins/secure", h.WithUser(h.submitSecureAccount))
}

// newSignInRows are p's unanswered new sign-ins as the page shows them:
// never the device asking (it knows it signed in), a device no longer
// signed in marked so, and "Yes, that was me" only where the device asking
// signed in before (mayConfirm).
func (h *Handler) newSignInRows(ctx context.Context, p *store.Principal, sessions []*store.Session) ([]templates.NewSignInRow, error) {
	list, err := h.Store.FindNewSignIns(ctx, p.Claims.UserID)
	if err != nil {
		return nil, err
	}
	live := make(map[string]bool, len(sessions))
	for _, s := range sessions {
		live[s.ID] = true
	}
	rows := make([]templates.NewSignInRow, 0, len(list))
	for _, n := range list {
		if n.SessionID == p.Claims.SessionID {
			continue
		}
		rows = append(rows, templates.NewSignInRow{
			ID: n.SessionID, Time: n.Time, Device: web.DeviceLabel(n.Device), IP: n.IP,
			Place: h.Places.Lookup(n.IP), Detail: n.Detail, SignedOut: !live[n.SessionID],
			CanConfirm: mayConfirm(p, n),
		})
	}
	return rows, nil
}

// mayConfirm says whether p's device may answer "Yes, that was me" for n:
// only a device signed in before n was (the session's first sign-in, which
// survives re-authentication and id rotation). A device cannot vouch for
// itself (the caller checks the id) nor for a sign-in older than itself:
// otherwise an intruder with two browsers would dismiss each one's entry
// from the other and leave the owner nothing to see.
func mayConfirm(p *store.Principal, n store.NewSignIn) bool {
	return p.Claims.Created < n.Time.UnixNano()
}

// findNewSignIn returns uid's unanswered new sign-in of session sid, if
// there is one.
func (h *Handler) findNewSignIn(ctx context.Context, uid, sid string) (store.NewSignIn, bool, error) {
	list, err := h.Store.FindNewSignIns(ctx, uid)
	if err != nil {
		return store.NewSignIn{}, false, err
	}
	for _, n := range list {
		if n.SessionID == sid {
			return n, true, nil
		}
	}
	return store.NewSignIn{}, false, nil
}

// submitDismissNewSignIn is "Yes, that was me": the entry goes away. An
// unknown or already answered id gets the same answer, and ids are only
// ever fields of the person's own record.
func (h *Handler) submitDismissNewSignIn(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	sid := r.PathValue("id")
	if !validSessionID(sid) {
		h.ErrorPage(w, r, http.StatusNotFound, "not_found", "Sign-in not found", "That sign-in is not listed on your account.")
		return
	}
	if sid == p.Claims.SessionID {
		// The page never asks a device about itself; an intruder's device
		// must not answer for itself either and so hide its own sign-in
		// from the owner's other devices.
		h.ErrorPage(w, r, http.StatusForbidden, "own_signin", "Answer from another device",
			"This sign-in is the one of this device: answer it from another device where you are signed in.")
		return
	}
	ctx, cancel := actionContext(r)
	defer cancel()
	n, listed, err := h.findNewSignIn(ctx, p.Claims.UserID, sid)
	if err != nil {
		h.Log.Error("account: dismiss new sign-in", "err", err.Error(), "user_id", p.Claims.UserID)
		h.StoreFailed(w, r, err)
		return
	}
	if listed && !mayConfirm(p, n) {
		h.ErrorPage(w, r, http.StatusForbidden, "later_device", "Answer from an earlier device",
			"This device signed in after that sign-in, so it cannot vouch for it: answer from a device you were signed in on before, or choose “No, secure my account”.")
		return
	}
	if err := h.Store.DismissNewSignIn(ctx, p.Claims.UserID, sid); err != nil {
		h.Log.Error("account: dismiss new sign-in", "err", err.Error(), "user_id", p.Claims.UserID)
		h.StoreFailed(w, r, err)
		return
	}
	http.Redirect(w, r, h.Prefix+"/account?m=new_signin_ok", http.StatusSeeOther)
}

// submitSecureAccount is "No, secure my account": store.SecureAccount signs
// every device out (this one too), blocks sign-in with the password until a
// reset and mails a reset link; the login page then says so (EndSecured).
// It asks for no re-authentication: someone who fears an intruder must not
// be slowed down, and the worst a stolen session can do with it is make the
// owner reset their password from their own mailbox.
func (h *Handler) submitSecureAccount(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	uid := p.Claims.UserID
	ctx, cancel := actionContext(r)
	defer cancel()
	ip, ua := h.ClientIP(r), r.UserAgent()
	err := h.Store.SecureAccount(ctx, uid, store.SecureOptions{
		IP: ip, Agent: ua, Via: "the account page",
		SignOut: func(ctx context.Context) error {
			return h.Sessions.SignOutEverywhere(ctx, w, uid, nil, ip, ua, store.EndReason{Code: store.EndSecured})
		},
	})
	if err != nil {
		h.Log.Error("account: secure account", "err", err.Error(), "user_id", uid)
		h.StoreFailed(w, r, err)
		return
	}
	if err := h.Store.ClearNewSignIns(ctx, uid); err != nil {
		h.Log.Warn("account: clear new sign-ins", "err", err.Error(), "user_id", uid)
	}
	h.Log.Info("account_secured", "user_id", uid, "client_ip", ip)
	// The ended session's cookie goes where the login page reads why.
	h.Sessions.ClearEnded(w, r)
	http.Redirect(w, r, h.Prefix+"/login", http.StatusSeeOther)
}
