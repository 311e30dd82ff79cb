package gateway

import (
	"context"
	"net/http"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/passkeys"
	"github.com/authgate/gateway/templates"
)

// A route's `reauth` may be passed with a passkey instead of the password
// when the account has one: the confirm page offers it, the ceremony is
// bound to the signed-in session, and a verified answer (user verification
// required, as at sign-in) counts as a fresh sign-in with a second factor.

// confirmPasskeyBinding keys the ceremony of the confirm page: the session
// it confirms, apart from any sign-in step's binding.
func confirmPasskeyBinding(cur *store.Principal) string { return "confirm:" + cur.Claims.SessionID }

// confirmPasskeyOffer fills page's passkey choice when the account has a
// passkey for this host, and lets the page run the gateway's script.
func (g *Gateway) confirmPasskeyOffer(w http.ResponseWriter, r *http.Request, cur *store.Principal, page *templates.ReauthPage) {
	if on, _ := g.passkeysOffered(r); !on {
		return
	}
	if n, err := g.passkeyCount(r.Context(), cur.Claims.UserID); err != nil || n == 0 {
		return
	}
	allowOwnScripts(w)
	page.PasskeyAction = g.prefix + "/login/confirm/passkey"
	page.PasskeyBegin = g.prefix + "/login/confirm/passkey/begin"
}

// beginConfirmPasskey answers the options of the confirm page's ceremony.
func (g *Gateway) beginConfirmPasskey(w http.ResponseWriter, r *http.Request) {
	signedIn := func(_ *store.Principal, outcome store.AuthOutcome) bool { return outcome == store.Valid }
	g.startSessionCeremony(w, r, "step-up passkey", signedIn, refuseUnauthenticated,
		func(ctx context.Context, rp passkeys.RP, u *store.User, cur *store.Principal) (any, error) {
			return g.Passkeys.BeginStep(ctx, rp, u, confirmPasskeyBinding(cur))
		})
}

// finishConfirmPasskey checks the answer and, when right, issues the
// session anew with a fresh sign-in time and a second factor, then goes
// on to rd.
func (g *Gateway) finishConfirmPasskey(w http.ResponseWriter, r *http.Request) {
	f, ok := g.readPasskeyFinish(w, r)
	if !ok {
		return
	}
	cur := g.confirmSession(w, r, f.rd)
	if cur == nil {
		return
	}
	fail := f.refuser(w, r, func(status int, msg string) {
		g.renderConfirmPassword(w, r, status, cur, f.rd, msg)
	})
	res, ok := g.checkPasskeyStep(w, r, f, confirmPasskeyBinding(cur), cur.Claims.UserID, "step-up passkey", "confirm", fail)
	if !ok {
		return
	}
	ip := g.clientIP(r)
	claims, err := g.Sessions.Reissue(r.Context(), w, cur, g.Sessions.Now(), true, ip, r.UserAgent())
	if err != nil {
		g.Log.Error("step-up passkey: issue session", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	g.Log.Info("authentication_succeeded", "step", "confirm", "username", cur.User.Username, "client_ip", ip, "factor", "passkey")
	g.event(r, cur.Claims.UserID, store.Event{Type: store.EventIdentityConfirmed, Detail: "with passkey " + passkeyLabel(res.Passkey) + ", for a page"})
	g.finishSignedIn(w, r, f, claims)
}
