package account

import (
	"net/http"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/totp"
	"github.com/authgate/gateway/templates"
)

// startMFASetup shows a new key as a QR code and for typing in, with the
// confirm form. Turning 2FA on needs a recent sign-in, so a stolen session
// cannot lock the owner out with the thief's phone.
func (h *Handler) startMFASetup(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	if !h.RequireRecentAuth(w, r, p, "set up two-step verification") {
		return
	}
	u, secret, merr := h.mfaBeginSetup(r, p)
	if merr != nil {
		h.renderMFAError(w, r, p, merr)
		return
	}
	h.renderMFAKey(w, r, p, mfaSetupKey, http.StatusOK, u, secret, "")
}

// mfaKeyPage is what differs between the pages that show a new key: the
// set-up and the replacement of an authenticator app.
type mfaKeyPage struct {
	log, title, action string
	replace            bool
}

var (
	mfaSetupKey   = mfaKeyPage{"2fa setup", "Set up your authenticator app", "/account/2fa/confirm", false}
	mfaReplaceKey = mfaKeyPage{"2fa replace", "Replace your authenticator app", "/account/2fa/replace/confirm", true}
)

// renderMFAKey shows secret as a QR code and for typing in, with the form
// that confirms it (k says which).
func (h *Handler) renderMFAKey(w http.ResponseWriter, r *http.Request, p *store.Principal, k mfaKeyPage, status int, u *store.User, secret, errMsg string) {
	qr, err := totp.NewEnrolment(totp.Issuer(r.Host), u.Username, secret).QRDataURL()
	if err != nil {
		h.Log.Error(k.log+": QR code", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	h.Render(w, r, status, templates.MFASetup(templates.MFASetupPage{
		Chrome: h.Chrome(p, k.title),
		QR:     qr, Key: secret, GroupedKey: totp.GroupKey(secret), Replace: k.replace,
		Action: h.Prefix + k.action, Error: errMsg, CancelURL: h.Prefix + "/account/2fa",
	}))
}

// renderMFAKeyAgain shows the same key again after a refused code merr,
// with Retry-After when attempts are paused.
func (h *Handler) renderMFAKeyAgain(w http.ResponseWriter, r *http.Request, p *store.Principal, k mfaKeyPage, u *store.User, secret string, merr *mfaError) {
	if merr.RetryAfter != "" {
		w.Header().Set("Retry-After", merr.RetryAfter)
	}
	h.renderMFAKey(w, r, p, k, merr.Status, u, secret, merr.Msg)
}

// renderRecoveryCodes shows u's new recovery codes, once.
func (h *Handler) renderRecoveryCodes(w http.ResponseWriter, r *http.Request, p *store.Principal, u *store.User, codes []string, heading, notice string) {
	h.Render(w, r, http.StatusOK, templates.MFARecovery(templates.MFARecoveryPage{
		Chrome:  h.Chrome(p, "Save your recovery codes"),
		Heading: heading,
		Notice:  notice,
		Codes:   codes, DownloadURL: totp.RecoveryDownloadURL(u.Username, codes), ContinueURL: h.Prefix + "/account/2fa",
	}))
}

// confirmMFASetup turns 2FA on with the first right code and shows the
// recovery codes, once. A wrong code shows the same key again. Like the
// start, it needs a recent sign-in: the setup in progress is kept on the
// account, so an old session must neither see its key nor confirm it.
func (h *Handler) confirmMFASetup(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if !h.RequireRecentAuth(w, r, p, "set up two-step verification") {
		return
	}
	u, codes, merr := h.mfaConfirm(w, r, p, r.PostFormValue("code"))
	if merr != nil {
		// A wrong code keeps the setup in progress: show the same key again.
		if u != nil && merr.Status != http.StatusServiceUnavailable {
			if secret, perr := h.mfaPendingSecret(u); perr == nil {
				h.renderMFAKeyAgain(w, r, p, mfaSetupKey, u, secret, merr)
				return
			}
		}
		h.renderMFAError(w, r, p, merr)
		return
	}
	h.renderRecoveryCodes(w, r, p, u, codes, "Two-step verification is on",
		"From now on, signing in needs a code from your app. Your other devices were signed out.")
}

// renewRecoveryCodes replaces the recovery codes after a recent sign-in.
func (h *Handler) renewRecoveryCodes(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	if !h.RequireRecentAuth(w, r, p, "get new recovery codes") {
		return
	}
	u, codes, merr := h.mfaRenewCodes(r, p)
	if merr != nil {
		h.renderMFAError(w, r, p, merr)
		return
	}
	h.renderRecoveryCodes(w, r, p, u, codes, "New recovery codes", "Your old recovery codes no longer work.")
}

// disableMFA turns 2FA off with the password and a code.
func (h *Handler) disableMFA(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if merr := h.mfaDisable(w, r, p, r.PostFormValue("password"), r.PostFormValue("code")); merr != nil {
		h.renderMFAError(w, r, p, merr)
		return
	}
	http.Redirect(w, r, h.Prefix+"/account/2fa?m=disabled", http.StatusSeeOther)
}
