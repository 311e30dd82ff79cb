// Package admin serves the Login & Security page, the support console and
// the JSON API under the gateway's prefix. It reads and writes through the
// store and issues sessions through the small Sessions interface that main
// wires to the gateway, so it never imports the request path.
package admin

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
	"github.com/authgate/gateway/store/passwords"
	"github.com/authgate/gateway/store/totp"
)

// Sessions is what admin needs from the session layer (the gateway's
// *Sessions implements it).
type Sessions interface {
	Authenticate(r *http.Request) (*store.Principal, store.AuthOutcome)
	Issue(ctx context.Context, w http.ResponseWriter, o store.IssueOptions) (*store.Claims, error)
	Reissue(ctx context.Context, w http.ResponseWriter, cur *store.Principal, authAt time.Time, mfa bool, ip, agent string) (*store.Claims, error)
	Revoke(ctx context.Context, uid, sid string, created int64) error
	RevokeByID(ctx context.Context, uid, sid string) error
	SignOutEverywhere(ctx context.Context, w http.ResponseWriter, uid string, keep *store.Principal, ip, agent string) error
	InvalidateUser(uid string)
	Clear(w http.ResponseWriter)
}

// Deps are the handlers' collaborators, built in main.
type Deps struct {
	Config   *config.Config
	Store    *store.Store
	Sessions Sessions
	Hasher   *passwords.Hasher
	Log      *slog.Logger
	// ClientIP returns the vetted client address of a request.
	ClientIP func(r *http.Request) string
	// Registerer takes admin's Prometheus instruments; may be nil.
	Registerer prometheus.Registerer
	// Attempts limits password guessing on re-authentication and password
	// change, sharing its counters with the sign-in form.
	Attempts *attempts.Guard
	// TOTP encrypts 2FA secrets and hashes recovery codes (account_2fa*.go).
	TOTP *totp.Codec
	// Places finds the approximate place of an IP (OpenPlaces); nil shows none.
	Places *Places
	// Now is the clock of sign-in times and API token expiry, the sessions'
	// clock (nil means time.Now); tests move it forward to make a sign-in
	// old or a token expire.
	Now func() time.Time
	// UserStates gives a user's current state from the replica's in-memory
	// mirror (store.Mirror, which follows every user change on every
	// replica), so checking an API token's owner on each call costs no Redis
	// round trip.
	UserStates UserStates
}

// UserStates looks up a user's current state (nil when the user is gone).
type UserStates interface {
	FindUserState(ctx context.Context, uid string) (*store.UserState, error)
}

// Handler serves everything under the prefix that the gateway does not.
type Handler struct {
	Deps
	prefix string
	mux    *http.ServeMux
}

// New builds the admin handler and its route table.
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	h := &Handler{Deps: d, prefix: d.Config.PathPrefix, mux: http.NewServeMux()}
	h.routes()
	return h
}

// routes registers every surface; each lives in its own file.
func (h *Handler) routes() {
	h.accountRoutes(h.mux) // Login & Security page: account*.go
	h.apiRoutes(h.mux)     // JSON API for the person: api_me*.go
	h.mfaRoutes(h.mux)     // 2FA management and its API: account_2fa*.go, api_me_2fa*.go
	if h.Config.HasPortal() {
		// Staff powers only on an origin no app shares: a script in an app's
		// page is same-origin with anything served on the app's host.
		h.consoleRoutes(h.mux) // support console and staff API: console*.go, api_staff*.go
	}
	h.mux.HandleFunc(h.prefix+"/", h.notFound)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }
