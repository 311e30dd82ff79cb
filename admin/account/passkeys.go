package account

import (
	"errors"
	"net/http"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/passkeys"
	"github.com/authgate/gateway/templates"
)

// Passkeys on Login & Security (pages here, JSON in api_me_passkeys.go).
// Adding and removing one needs a recent sign-in (web.RequireRecentAuth:
// the same "confirm it's you" step as a password change); the last second
// factor of an account whose role requires one cannot be removed, checked
// and removed in one store script.

// passkeyRoutes registers the passkeys page and its actions.
func (h *Handler) passkeyRoutes(mux *http.ServeMux) {
	if !h.passkeysOn() {
		return
	}
	p := h.Prefix + "/account/passkeys"
	mux.HandleFunc("GET "+p, h.WithUser(h.showPasskeys))
	mux.HandleFunc("POST "+p+"/add", h.WithUser(h.submitAddPasskey))
	mux.HandleFunc("POST "+p+"/register", h.WithUser(h.submitRegisterPasskey))
	mux.HandleFunc("POST "+p+"/{id}/rename", h.WithUser(h.submitRenamePasskey))
	mux.HandleFunc("POST "+p+"/{id}/delete", h.WithUser(h.submitDeletePasskey))
	h.apiPasskeyRoutes(mux)
}

func (h *Handler) passkeysOn() bool { return h.Passkeys != nil && h.Config.PasskeysOn() }

// passkeyNotices are the confirmations the page may show (?m=…).
var passkeyNotices = map[string]string{
	"added":   "Your passkey was added. You can now sign in with it.",
	"renamed": "The passkey name was saved.",
	"removed": "The passkey was removed. It can no longer sign in to your account.",
}

// passkeyParty is the relying party of r: the portal, or the host the
// gateway is reached by.
func (h *Handler) passkeyParty(r *http.Request) (passkeys.RP, error) {
	portal := ""
	if h.Config.HasPortal() {
		portal = h.Config.Portal.String()
	}
	return passkeys.Party(portal, h.Origin(r))
}

// passkeyKeep is what removing a passkey of u must leave: a passkey under
// mfa.phishing_resistant, a second factor under mfa.require.
func (h *Handler) passkeyKeep(u *store.User) store.KeepFactor {
	keep := store.KeepNothing
	for _, role := range u.Roles {
		switch {
		case h.Config.PhishingResistantFor(role):
			return store.KeepPasskey
		case h.Config.MFARequiredFor(role):
			keep = store.KeepAny
		}
	}
	return keep
}

// passkeyRequiredText explains why the last factor stays, "" when nothing
// requires one.
func passkeyRequiredText(k store.KeepFactor) string {
	switch k {
	case store.KeepPasskey:
		return "Your role requires a passkey: your last one cannot be removed. Add a new one first to replace it."
	case store.KeepAny:
		return "Your role requires two-step verification: your last passkey can be removed only while an authenticator app is also set up."
	}
	return ""
}

// errLastFactorText is the refusal to remove the last required factor.
const errLastFactorText = "This is your last passkey and your role requires it (or another second factor). Add another one first."

func (h *Handler) showPasskeys(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	h.renderPasskeys(w, r, p, http.StatusOK, passkeyNotices[r.URL.Query().Get("m")], "")
}

func (h *Handler) renderPasskeys(w http.ResponseWriter, r *http.Request, p *store.Principal, status int, notice, errMsg string) {
	page, err := h.passkeysPage(r, p)
	if err != nil {
		h.Log.Error("passkeys page: load", "err", err.Error(), "user_id", p.Claims.UserID)
		h.Unavailable(w, r)
		return
	}
	page.Notice, page.Error = notice, errMsg
	h.Render(w, r, status, templates.Passkeys(page))
}

func (h *Handler) passkeysPage(r *http.Request, p *store.Principal) (templates.PasskeysPage, error) {
	ctx := r.Context()
	u, err := h.Store.FindUserByID(ctx, p.Claims.UserID)
	if err != nil {
		return templates.PasskeysPage{}, err
	}
	keys, err := h.Store.FindPasskeys(ctx, u.ID)
	if err != nil {
		return templates.PasskeysPage{}, err
	}
	page := templates.PasskeysPage{Chrome: h.Chrome(p, "Passkeys"), Required: passkeyRequiredText(h.passkeyKeep(u))}
	rp, err := h.passkeyParty(r)
	switch {
	case err == nil:
		page.CanAdd = len(keys) < store.MaxPasskeys
		if !page.CanAdd {
			page.Note = "You have the most passkeys an account can have. Remove one to add another."
		}
	case errors.Is(err, passkeys.ErrIPHost):
		page.Note = passkeys.MsgIPHost
	}
	for _, k := range keys {
		row := templates.PasskeyRow{ID: k.EncodedID(), Name: k.Name, Created: k.Created, LastUsed: k.LastUsed,
			Synced: k.Synced(), Warning: k.CounterWarning}
		if k.RPID != rp.ID {
			row.Host = k.RPID
		}
		page.Rows = append(page.Rows, row)
	}
	return page, nil
}

// submitAddPasskey shows the page that creates a passkey, after a recent
// sign-in (or the password, asked for here).
func (h *Handler) submitAddPasskey(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	if !h.recentAuthForm(w, r, p, 16<<10, "add a passkey") {
		return
	}
	if _, err := h.passkeyParty(r); err != nil {
		h.renderPasskeys(w, r, p, http.StatusConflict, "", passkeys.MsgIPHost)
		return
	}
	allowOwnScripts(w)
	h.Render(w, r, http.StatusOK, templates.PasskeyAdd(templates.PasskeyAddPage{Chrome: h.Chrome(p, "Add a passkey")}))
}

// submitRegisterPasskey stores the passkey the browser created on the add
// page (form fields credential and name).
func (h *Handler) submitRegisterPasskey(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	if !h.recentAuthForm(w, r, p, 64<<10, "add a passkey") {
		return
	}
	_, msg, status := h.registerPasskey(r, p, []byte(r.PostForm.Get("credential")), r.PostForm.Get("name"))
	if msg != "" {
		h.renderPasskeys(w, r, p, status, "", msg)
		return
	}
	http.Redirect(w, r, h.Prefix+"/account/passkeys?m=added", http.StatusSeeOther)
}

// registerPasskey finishes adding a passkey for p. It returns the passkey,
// or a message for the person and the status that goes with it.
func (h *Handler) registerPasskey(r *http.Request, p *store.Principal, body []byte, name string) (*store.Passkey, string, int) {
	if len(body) == 0 {
		return nil, "No passkey was received. Try again.", http.StatusBadRequest
	}
	u, err := h.Store.FindUserByID(r.Context(), p.Claims.UserID)
	if err != nil {
		return nil, "Something went wrong; please try again.", http.StatusServiceUnavailable
	}
	k, err := h.Passkeys.FinishRegistration(r.Context(), u, p.Claims.SessionID, passkeys.CleanName(name), body)
	switch {
	case errors.Is(err, passkeys.ErrNoCeremony):
		return nil, "Adding the passkey took too long or was already done. Try again.", http.StatusBadRequest
	case errors.Is(err, store.ErrTooManyPasskeys):
		return nil, "You have the most passkeys an account can have. Remove one to add another.", http.StatusConflict
	case errors.Is(err, passkeys.ErrRefused), errors.Is(err, store.ErrConflict):
		h.Log.Info("passkey_refused", "step", "add", "username", u.Username, "client_ip", h.ClientIP(r), "reason", err.Error())
		return nil, "That passkey could not be added. Try again, or use another device or password manager.", http.StatusUnprocessableEntity
	case err != nil:
		h.Log.Error("passkey add: finish", "err", err.Error())
		return nil, "Something went wrong; please try again.", http.StatusServiceUnavailable
	}
	h.mfaEvent(r, u.ID, store.EventPasskeyAdded, "passkey “"+k.Name+"” added")
	h.Log.Info("passkey_added", "username", u.Username, "client_ip", h.ClientIP(r), "at", "account")
	return k, "", 0
}

func (h *Handler) submitRenamePasskey(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		h.ErrorPage(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The form could not be read.")
		return
	}
	err := h.Store.RenamePasskey(r.Context(), p.Claims.UserID, r.PathValue("id"), passkeys.CleanName(r.PostForm.Get("name")))
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.renderPasskeys(w, r, p, http.StatusNotFound, "", "That passkey is not on your account (any more).")
	case err != nil:
		h.StoreFailed(w, r, err)
	default:
		http.Redirect(w, r, h.Prefix+"/account/passkeys?m=renamed", http.StatusSeeOther)
	}
}

// submitDeletePasskey removes a passkey after a recent sign-in.
func (h *Handler) submitDeletePasskey(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	if !h.recentAuthForm(w, r, p, 16<<10, "remove a passkey") {
		return
	}
	msg, status := h.deletePasskey(r, p, r.PathValue("id"))
	if msg != "" {
		h.renderPasskeys(w, r, p, status, "", msg)
		return
	}
	http.Redirect(w, r, h.Prefix+"/account/passkeys?m=removed", http.StatusSeeOther)
}

// deletePasskey removes the passkey id of p, or says why not.
func (h *Handler) deletePasskey(r *http.Request, p *store.Principal, id string) (string, int) {
	ctx := r.Context()
	u, err := h.Store.FindUserByID(ctx, p.Claims.UserID)
	if err != nil {
		return "Something went wrong; please try again.", http.StatusServiceUnavailable
	}
	k, err := h.Store.FindPasskey(ctx, u.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return "That passkey is not on your account (any more).", http.StatusNotFound
	} else if err != nil {
		return "Something went wrong; please try again.", http.StatusServiceUnavailable
	}
	switch err := h.Store.DeletePasskey(ctx, u.ID, id, h.passkeyKeep(u)); {
	case errors.Is(err, store.ErrNotFound):
		return "That passkey is not on your account (any more).", http.StatusNotFound
	case errors.Is(err, store.ErrLastFactor):
		return errLastFactorText, http.StatusConflict
	case err != nil:
		h.Log.Error("passkey remove", "err", err.Error())
		return "Something went wrong; please try again.", http.StatusServiceUnavailable
	}
	h.mfaEvent(r, u.ID, store.EventPasskeyRemoved, "passkey “"+k.Name+"” removed")
	h.Log.Info("passkey_removed", "username", u.Username, "client_ip", h.ClientIP(r), "by", "self")
	return "", 0
}
