package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/passkeys"
)

// Every passkey ceremony starts the same way: the relying party of the
// host, the ceremony kept single-use in Redis under its binding for
// passkeys.CeremonyTTL (store/passkeys does that), and the options as JSON.
// Only what binds the ceremony differs: a random id in a cookie for the
// discoverable sign-in, the session otherwise.

// jsonRefusal is a JSON error a begin call answers with.
type jsonRefusal struct {
	status    int
	code, msg string
}

// Refusals of a begin call whose session may not start the ceremony.
var (
	refuseNoPendingStep   = jsonRefusal{http.StatusConflict, "no_pending_step", "Sign in with your password first."}
	refuseUnauthenticated = jsonRefusal{http.StatusUnauthorized, "unauthenticated", "Sign in first."}
)

// msgPasskeysUnavailable answers a begin call when the store fails.
const msgPasskeysUnavailable = "Passkeys are unavailable right now. Try again in a few seconds."

// startCeremony answers a begin call: begin keeps the ceremony for the
// relying party of r and returns its options. what names the ceremony in
// log lines; unavailable is the message when the store fails.
func (g *Gateway) startCeremony(w http.ResponseWriter, r *http.Request, what, unavailable string,
	begin func(ctx context.Context, rp passkeys.RP) (any, error)) {
	rp, err := g.passkeyParty(r)
	if err != nil {
		web.WriteJSONError(w, http.StatusConflict, "passkeys_unavailable", passkeys.MsgIPHost)
		return
	}
	opts, err := begin(r.Context(), rp)
	if errors.Is(err, passkeys.ErrNoPasskey) {
		web.WriteJSONError(w, http.StatusConflict, "no_passkey", "Your account has no passkey for this site.")
		return
	}
	if err != nil {
		g.Log.Error(what+": begin", "err", err.Error())
		web.WriteJSONError(w, http.StatusServiceUnavailable, "unavailable", unavailable)
		return
	}
	writeCeremonyOptions(w, opts)
}

// startSessionCeremony answers a begin call bound to the caller's session:
// the session must be one that accept takes (else refuse, as when its
// account is gone); begin then starts the ceremony for its account.
func (g *Gateway) startSessionCeremony(w http.ResponseWriter, r *http.Request, what string,
	accept func(cur *store.Principal, outcome store.AuthOutcome) bool, refuse jsonRefusal,
	begin func(ctx context.Context, rp passkeys.RP, u *store.User, cur *store.Principal) (any, error)) {
	cur, outcome := g.Sessions.Authenticate(r)
	if outcome == store.Unavailable {
		g.unavailable(w, r)
		return
	}
	if !accept(cur, outcome) {
		web.WriteJSONError(w, refuse.status, refuse.code, refuse.msg)
		return
	}
	u, err := g.Users.FindUserByID(r.Context(), cur.Claims.UserID)
	if err != nil {
		web.WriteJSONError(w, refuse.status, refuse.code, refuse.msg)
		return
	}
	g.startCeremony(w, r, what, msgPasskeysUnavailable, func(ctx context.Context, rp passkeys.RP) (any, error) {
		return begin(ctx, rp, u, cur)
	})
}

// owes accepts a pending session that owes the step pending.
func owes(pending uint8) func(*store.Principal, store.AuthOutcome) bool {
	return func(cur *store.Principal, outcome store.AuthOutcome) bool {
		return outcome == store.Pending && cur.Claims.Pending == pending
	}
}
