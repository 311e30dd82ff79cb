package gateway

import "net/http"

// mfaRoutes registers the second sign-in step and forced enrolment.
func (g *Gateway) mfaRoutes(mux *http.ServeMux) {}
