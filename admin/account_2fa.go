package admin

import "net/http"

// mfaRoutes registers 2FA enrolment and management pages and API calls.
func (h *Handler) mfaRoutes(mux *http.ServeMux) {}
