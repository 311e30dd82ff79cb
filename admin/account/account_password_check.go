package account

import (
	"errors"
	"net/http"
	"strings"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/passwords"
)

// passwordCheckJSON is the answer of POST me/password/check.
type passwordCheckJSON struct {
	// Strength is "weak" (the policy refuses it) or "strong".
	Strength string `json:"strength"`
	// Reason says why a weak password is refused, in the words the
	// change would use.
	Reason string `json:"reason,omitempty"`
}

// checkMyNewPassword judges a candidate new password with the policy the
// change applies (store/passwords.Check, with this account's username and
// email) without changing anything: {"new_password"} → {"strength",
// "reason"}. The password page's strength meter calls it as the person
// types; the change itself checks again.
func (h *Handler) checkMyNewPassword(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	var body struct {
		NewPassword string `json:"new_password"`
	}
	if !decodeMeBody(w, r, &body, true) {
		return
	}
	u, err := h.Store.FindUserByID(r.Context(), p.Claims.UserID)
	if err != nil {
		h.apiStoreError(w, r, "me/password/check", err)
		return
	}
	out := passwordCheckJSON{Strength: "strong"}
	var refused *passwords.PolicyError
	if err := passwords.Check(body.NewPassword, h.Config.Password.MinLength, u.Username, u.Email); errors.As(err, &refused) {
		out = passwordCheckJSON{Strength: "weak", Reason: refused.Reason}
	} else if err != nil {
		h.apiStoreError(w, r, "me/password/check", err)
		return
	}
	web.WriteJSON(w, http.StatusOK, out)
}

// allowOwnScripts relaxes the pages' CSP for one page that needs a script:
// the gateway's own static files may run and call its own API ('self'),
// still no inline script and no eval. Every other page keeps a CSP with no
// script at all.
func allowOwnScripts(w http.ResponseWriter) {
	h := w.Header()
	if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "default-src 'none'") {
		h.Set("Content-Security-Policy", strings.Replace(csp, "default-src 'none'",
			"default-src 'none'; script-src 'self'; connect-src 'self'", 1))
	}
}
