package account

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/passkeys"
)

// apiPasskeyRoutes registers the passkey calls of the person's API:
//
//	GET  me/passkeys                  → {"passkeys":[{"id","name","created","last_used","synced"}]}
//	POST me/passkeys/register/begin   → {"publicKey":{…}} (WebAuthn creation options); recent sign-in
//	POST me/passkeys/register/finish  the browser's credential JSON, with an optional "name" → 201 passkey; recent sign-in
//	POST me/passkeys/{id}/rename      {"name"} → passkey
//	POST me/passkeys/{id}/delete      → 204; recent sign-in; 409 last_factor
func (h *Handler) apiPasskeyRoutes(mux *http.ServeMux) {
	p := h.Prefix + "/api/v1/me/passkeys"
	mux.HandleFunc("GET "+p, h.withMeAPI(h.apiListPasskeys))
	mux.HandleFunc("POST "+p+"/register/begin", h.withMeAPI(h.apiBeginPasskey))
	mux.HandleFunc("POST "+p+"/register/finish", h.withMeAPI(h.apiFinishPasskey))
	mux.HandleFunc("POST "+p+"/{id}/rename", h.withMeAPI(h.apiRenamePasskey))
	mux.HandleFunc("POST "+p+"/{id}/delete", h.withMeAPI(h.apiDeletePasskey))
}

// passkeyJSON is one passkey in the API; last_used is null until used.
type passkeyJSON struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"last_used"`
	Synced   bool       `json:"synced"`
}

func toPasskeyJSON(k *store.Passkey) passkeyJSON {
	out := passkeyJSON{ID: k.EncodedID(), Name: k.Name, Created: k.Created, Synced: k.Synced()}
	if !k.LastUsed.IsZero() {
		t := k.LastUsed
		out.LastUsed = &t
	}
	return out
}

func (h *Handler) apiListPasskeys(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	keys, err := h.Store.FindPasskeys(r.Context(), p.Claims.UserID)
	if err != nil {
		h.StoreFailed(w, r, err)
		return
	}
	out := struct {
		Passkeys []passkeyJSON `json:"passkeys"`
	}{Passkeys: []passkeyJSON{}}
	for _, k := range keys {
		out.Passkeys = append(out.Passkeys, toPasskeyJSON(k))
	}
	web.WriteJSON(w, http.StatusOK, out)
}

// apiBeginPasskey answers the creation options of a new passkey; the
// ceremony is bound to this session.
func (h *Handler) apiBeginPasskey(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	if !h.RequireRecentAuth(w, r, p, "add a passkey") {
		return
	}
	rp, err := h.passkeyParty(r)
	if err != nil {
		web.WriteJSONError(w, http.StatusConflict, "passkeys_unavailable", passkeys.MsgIPHost)
		return
	}
	u, err := h.Store.FindUserByID(r.Context(), p.Claims.UserID)
	if err != nil {
		h.StoreFailed(w, r, err)
		return
	}
	opts, err := h.Passkeys.BeginRegistration(r.Context(), rp, u, p.Claims.SessionID)
	if errors.Is(err, store.ErrTooManyPasskeys) {
		web.WriteJSONError(w, http.StatusConflict, "too_many_passkeys", "You have the most passkeys an account can have. Remove one to add another.")
		return
	}
	if err != nil {
		h.Log.Error("passkey add: begin", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	web.WriteJSON(w, http.StatusOK, opts)
}

func (h *Handler) apiFinishPasskey(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	if !h.RequireRecentAuth(w, r, p, "add a passkey") {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		web.WriteJSONError(w, http.StatusBadRequest, "bad_request", "the body could not be read")
		return
	}
	var named struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(body, &named)
	k, msg, status := h.registerPasskey(r, p, body, named.Name)
	if msg != "" {
		web.WriteJSONError(w, status, passkeyErrorCode(status), msg)
		return
	}
	web.WriteJSON(w, http.StatusCreated, toPasskeyJSON(k))
}

// passkeyErrorCode names a refusal of registerPasskey or deletePasskey.
func passkeyErrorCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "no_ceremony"
	case http.StatusConflict: // only the account's limit (deletePasskey's last_factor is named by its caller)
		return "too_many_passkeys"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusUnprocessableEntity:
		return "passkey_refused"
	}
	return "unavailable"
}

func (h *Handler) apiRenamePasskey(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	var body struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&body); err != nil {
		web.WriteJSONError(w, http.StatusBadRequest, "bad_request", `send {"name": "…"}`)
		return
	}
	uid, id := p.Claims.UserID, r.PathValue("id")
	err := h.Store.RenamePasskey(r.Context(), uid, id, passkeys.CleanName(body.Name))
	if errors.Is(err, store.ErrNotFound) {
		web.WriteJSONError(w, http.StatusNotFound, "not_found", "no such passkey")
		return
	}
	if err != nil {
		h.StoreFailed(w, r, err)
		return
	}
	k, err := h.Store.FindPasskey(r.Context(), uid, id)
	if err != nil {
		h.StoreFailed(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, toPasskeyJSON(k))
}

func (h *Handler) apiDeletePasskey(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	if !h.RequireRecentAuth(w, r, p, "remove a passkey") {
		return
	}
	msg, status := h.deletePasskey(r, p, r.PathValue("id"))
	if status == http.StatusConflict {
		web.WriteJSONError(w, status, "last_factor", msg)
		return
	}
	if msg != "" {
		web.WriteJSONError(w, status, passkeyErrorCode(status), msg)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
