package gateway

import "net/http"

// resetRoutes registers the one-time password-reset link pages.
func (g *Gateway) resetRoutes(mux *http.ServeMux) {}
