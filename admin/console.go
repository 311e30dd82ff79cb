package admin

import "net/http"

// consoleRoutes registers the support console and the staff API.
func (h *Handler) consoleRoutes(mux *http.ServeMux) {}
