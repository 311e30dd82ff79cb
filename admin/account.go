package admin

import "net/http"

// accountRoutes registers the Login & Security page.
func (h *Handler) accountRoutes(mux *http.ServeMux) {}
