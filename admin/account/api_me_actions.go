package account

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
)

// maxAPIBody bounds a JSON request body.
const maxAPIBody = 64 << 10

// decodeMeBody reads a JSON request body into v. An empty body is accepted
// (v keeps its defaults) unless required. A body must be declared as
// application/json, be one JSON object with only known fields, and fit in
// maxAPIBody. On failure it has answered with a JSON error.
func decodeMeBody(w http.ResponseWriter, r *http.Request, v any, required bool) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		web.WriteJSONError(w, http.StatusRequestEntityTooLarge, "too_large", "the request body is too large")
		return false
	case err != nil:
		web.WriteJSONError(w, http.StatusBadRequest, "bad_request", "the request body could not be read")
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if required {
			web.WriteJSONError(w, http.StatusBadRequest, "bad_request", "a JSON body is required")
			return false
		}
		return true
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		web.WriteJSONError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as Content-Type: application/json")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		web.WriteJSONError(w, http.StatusBadRequest, "bad_request", "the JSON body is not valid: "+err.Error())
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		web.WriteJSONError(w, http.StatusBadRequest, "bad_request", "the JSON body must be a single object")
		return false
	}
	return true
}

func (h *Handler) revokeMySession(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	ctx, cancel := actionContext(r)
	defer cancel()
	current, err := h.revokeOwnSession(ctx, r, p, r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		web.WriteJSONError(w, http.StatusNotFound, "not_found", "no such session")
	case err != nil:
		h.apiStoreError(w, r, "me/sessions/revoke", err)
	default:
		if current {
			h.Sessions.Clear(w)
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// signOutAllJSON is the body of POST me/signout-all.
type signOutAllJSON struct {
	// KeepCurrent keeps the calling session (with a fresh cookie); absent
	// means true, as on the page.
	KeepCurrent *bool `json:"keep_current"`
}

func (h *Handler) signOutMeEverywhere(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	var body signOutAllJSON
	if !decodeMeBody(w, r, &body, false) {
		return
	}
	if !h.RequireRecentAuth(w, r, p, "sign out of all devices") {
		return
	}
	keep := body.KeepCurrent == nil || *body.KeepCurrent
	ctx, cancel := actionContext(r)
	defer cancel()
	if err := h.signOutAll(ctx, w, r, p, keep); err != nil {
		h.apiStoreError(w, r, "me/signout-all", err)
		return
	}
	if !keep {
		h.Sessions.Clear(w)
	}
	w.WriteHeader(http.StatusNoContent)
}

// passwordJSON is the body of POST me/password.
type passwordJSON struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (h *Handler) changeMyPassword(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	var body passwordJSON
	if !decodeMeBody(w, r, &body, true) {
		return
	}
	ctx, cancel := actionContext(r)
	defer cancel()
	err := h.changePassword(ctx, w, r, p, body.CurrentPassword, body.NewPassword)
	var refusal *passwordRefusal
	switch {
	case errors.As(err, &refusal):
		status := http.StatusUnprocessableEntity
		if refusal.Code == codeThrottled {
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", strconv.Itoa(int(refusal.RetryAfter.Seconds())))
		}
		web.WriteJSONError(w, status, refusal.Code, refusal.Message)
	case err != nil:
		h.apiStoreError(w, r, "me/password", err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
