package account

import (
	"net/http"

	"github.com/authgate/gateway/admin/web"
)

// Handler serves the account routes; the shared collaborators and answers
// come from the embedded web.Base.
type Handler struct {
	*web.Base
}

// New builds the account handler on the shared base.
func New(b *web.Base) *Handler { return &Handler{Base: b} }

// Routes registers the person's pages and API on mux; each group lives in
// its own file.
func (h *Handler) Routes(mux *http.ServeMux) {
	h.accountRoutes(mux) // Login & Security page: account*.go
	h.apiRoutes(mux)     // JSON API for the person: api_me*.go
	h.mfaRoutes(mux)     // 2FA management and its API: account_2fa*.go, api_me_2fa*.go
	h.emailRoutes(mux)   // e-mail address and alert choices: account_email.go
	h.passkeyRoutes(mux) // passkeys: passkeys.go, api_me_passkeys.go
}
