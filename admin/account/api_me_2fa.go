package account

import (
	"net/http"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/totp"
)

// apiMFARoutes registers the person's 2FA calls under {prefix}/api/v1/me/2fa.
func (h *Handler) apiMFARoutes(mux *http.ServeMux) {
	p := h.Prefix + "/api/v1/me/2fa"
	mux.HandleFunc("POST "+p+"/setup", h.WithUser(h.apiSetupMFA))
	mux.HandleFunc("POST "+p+"/confirm", h.WithUser(h.apiConfirmMFA))
	mux.HandleFunc("POST "+p+"/disable", h.WithUser(h.apiDisableMFA))
	mux.HandleFunc("POST "+p+"/recovery-codes", h.WithUser(h.apiRenewRecoveryCodes))
}

// writeMFAError answers a refused API call.
func writeMFAError(w http.ResponseWriter, e *mfaError) {
	if e.RetryAfter != "" {
		w.Header().Set("Retry-After", e.RetryAfter)
	}
	web.WriteJSONError(w, e.Status, e.Code, e.Msg)
}

// readMFAJSON decodes a JSON body into v; an empty body leaves v as it
// is. Like every call of the person's API it takes only Content-Type
// application/json with known fields (decodeMeBody), a body a cross-site
// page cannot send without a CORS preflight; it answers the refusal itself.
func readMFAJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	return decodeMeBody(w, r, v, false)
}

// mfaSetupResponse is the answer of POST me/2fa/setup.
type mfaSetupResponse struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
}

// apiSetupMFA starts a setup: → {"secret","otpauth_url"}. Needs a recent
// sign-in (403 reauth_required otherwise).
func (h *Handler) apiSetupMFA(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	if !h.RequireRecentAuth(w, r, p, "set up two-step verification") {
		return
	}
	u, secret, merr := h.mfaBeginSetup(r, p)
	if merr != nil {
		writeMFAError(w, merr)
		return
	}
	e := totp.NewEnrolment(totp.Issuer(r.Host), u.Username, secret)
	web.WriteJSON(w, http.StatusOK, mfaSetupResponse{Secret: secret, OTPAuthURL: e.URL})
}

// apiConfirmMFA turns 2FA on: {"code"} → {"recovery_codes":[…]}; 422 for a
// wrong code, 429 with Retry-After when attempts are paused. Needs a recent
// sign-in, as the setup does (403 reauth_required otherwise).
func (h *Handler) apiConfirmMFA(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	if !h.RequireRecentAuth(w, r, p, "set up two-step verification") {
		return
	}
	var body struct {
		Code string `json:"code"`
	}
	if !readMFAJSON(w, r, &body) {
		return
	}
	_, codes, merr := h.mfaConfirm(w, r, p, body.Code)
	if merr != nil {
		writeMFAError(w, merr)
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string][]string{"recovery_codes": codes})
}

// apiDisableMFA turns 2FA off: {"password","code"} → 204 (with a fresh
// session cookie; other sessions are signed out).
func (h *Handler) apiDisableMFA(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	var body struct {
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	if !readMFAJSON(w, r, &body) {
		return
	}
	if merr := h.mfaDisable(w, r, p, body.Password, body.Code); merr != nil {
		writeMFAError(w, merr)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiRenewRecoveryCodes replaces the recovery codes: → {"recovery_codes"}.
// Needs a recent sign-in.
func (h *Handler) apiRenewRecoveryCodes(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	if !h.RequireRecentAuth(w, r, p, "get new recovery codes") {
		return
	}
	_, codes, merr := h.mfaRenewCodes(r, p)
	if merr != nil {
		writeMFAError(w, merr)
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string][]string{"recovery_codes": codes})
}
