// Package web is what the person's pages (admin/account) and the support
// console (admin/console) share: the collaborators they are built with,
// page and JSON rendering, error answers, the signed-in gate, the
// "confirm it's you" step for sensitive actions, and how a device and
// its place are named. The gateway renders its own pages and JSON errors
// with the same helpers (render.go).
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
	"github.com/authgate/gateway/store/passkeys"
	"github.com/authgate/gateway/store/passwords"
	"github.com/authgate/gateway/store/totp"
)

// Sessions is what the pages need from the session layer (the gateway's
// *Sessions implements it).
type Sessions interface {
	Authenticate(r *http.Request) (*store.Principal, store.AuthOutcome)
	Issue(ctx context.Context, w http.ResponseWriter, o store.IssueOptions) (*store.Claims, error)
	Reissue(ctx context.Context, w http.ResponseWriter, cur *store.Principal, authAt time.Time, mfa bool, ip, agent string) (*store.Claims, error)
	Revoke(ctx context.Context, uid, sid string, created int64) error
	// RevokeByID and SignOutEverywhere record why, for the login page.
	RevokeByID(ctx context.Context, uid, sid string, why store.EndReason) error
	SignOutEverywhere(ctx context.Context, w http.ResponseWriter, uid string, keep *store.Principal, ip, agent string, why store.EndReason) error
	InvalidateUser(uid string)
	Clear(w http.ResponseWriter)
	// ClearEnded clears the cookie of a session found ended, keeping what
	// the login page needs to say why.
	ClearEnded(w http.ResponseWriter, r *http.Request)
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
	// Attempts limits password guessing on re-authentication and password
	// change, sharing its counters with the sign-in form.
	Attempts *attempts.Guard
	// TOTP encrypts 2FA secrets and hashes recovery codes (account/account_2fa*.go).
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
	// MailOn says the gateway can send mail (smtp.url or the demo's box):
	// the account page then offers to change the alert address.
	MailOn bool
	// Passkeys runs the WebAuthn ceremonies of adding a passkey
	// (account/passkeys*.go); nil when passkeys are off.
	Passkeys *passkeys.Service
	// Origin is scheme://host[:port] of a request as the browser sent it
	// (trusted proxies' forwarded headers believed): where passkeys live
	// when there is no portal.
	Origin func(r *http.Request) string
}

// UserStates looks up a user's current state (nil when the user is gone).
type UserStates interface {
	FindUserState(ctx context.Context, uid string) (*store.UserState, error)
}

// Base is the part every page handler embeds: the collaborators and the
// path prefix, with the shared answers (render.go, auth.go, reauth.go).
type Base struct {
	Deps
	// Prefix is the gateway's path prefix, e.g. "/.gateway".
	Prefix string
}

// NewBase fills in the defaults of d (the clock) and returns the shared base.
func NewBase(d Deps) *Base {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Base{Deps: d, Prefix: d.Config.PathPrefix}
}
