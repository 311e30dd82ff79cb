package admin

import "net/http"

// apiRoutes registers the person's JSON API under {prefix}/api/v1/me.
func (h *Handler) apiRoutes(mux *http.ServeMux) {}
