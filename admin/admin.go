// Package admin wires the pages served under the gateway's prefix that the
// gateway's sign-in flows do not serve: the person's Login & Security pages
// and "me" API (admin/account) and, on a portal origin, the support console
// and staff API (admin/console). What they share lives in admin/web. It
// reads and writes through the store and issues sessions through the small
// web.Sessions interface that main wires to the gateway, so it never
// imports the request path.
package admin

import (
	"net/http"

	"github.com/authgate/gateway/admin/account"
	"github.com/authgate/gateway/admin/console"
	"github.com/authgate/gateway/admin/web"
)

// Deps are the handlers' collaborators, built in main (see web.Deps).
type Deps = web.Deps

// Sessions is what the pages need from the session layer (see web.Sessions).
type Sessions = web.Sessions

// UserStates looks up a user's current state (see web.UserStates).
type UserStates = web.UserStates

// Places finds the approximate place of an IP (see web.Places).
type Places = web.Places

// OpenPlaces opens the GeoIP database at path; "" means none (see web.OpenPlaces).
func OpenPlaces(path string) (*Places, error) { return web.OpenPlaces(path) }

// StaffRoute is one console page or staff API call (see console.StaffRoute).
type StaffRoute = console.StaffRoute

// StaffRoutes lists every console page and staff API route, for tests that
// check each is gated.
func StaffRoutes() []StaffRoute { return console.StaffRoutes() }

// Handler serves everything under the prefix that the gateway does not.
type Handler struct {
	mux *http.ServeMux
}

// New builds the handler and its route table.
func New(d Deps) *Handler {
	b := web.NewBase(d)
	mux := http.NewServeMux()
	account.New(b).Routes(mux) // Login & Security page, 2FA and the "me" API
	if b.Config.HasPortal() {
		// Staff powers only on an origin no app shares: a script in an app's
		// page is same-origin with anything served on the app's host.
		console.New(b).Routes(mux) // support console and staff API
	}
	mux.HandleFunc(b.Prefix+"/", b.NotFound)
	return &Handler{mux: mux}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }
