package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/passkeys"
)

// The second step with a passkey: after the right password, an account
// with a passkey may answer with it instead of a code (and must, under
// mfa.phishing_resistant). The ceremony is bound to the pending session.

// beginPasskeyStep answers the options of the second step (the account's
// passkeys for this host), for a session that owes it.
func (g *Gateway) beginPasskeyStep(w http.ResponseWriter, r *http.Request) {
	g.startSessionCeremony(w, r, "passkey step", owes(store.PendingCode), refuseNoPendingStep,
		func(ctx context.Context, rp passkeys.RP, u *store.User, cur *store.Principal) (any, error) {
			return g.Passkeys.BeginStep(ctx, rp, u, cur.Claims.SessionID)
		})
}

// finishPasskeyStep checks the passkey answer of the second step and signs
// the person in fully (new session id).
func (g *Gateway) finishPasskeyStep(w http.ResponseWriter, r *http.Request) {
	f, ok := g.readPasskeyFinish(w, r)
	if !ok {
		return
	}
	cur, u, n := g.pendingAccount(w, r, store.PendingCode, f.rd)
	if u == nil {
		return
	}
	page := g.mfaCodePage(r, u, n, f.rd, "")
	fail := f.refuser(w, r, func(status int, msg string) {
		page.Error = msg
		g.renderMFACode(w, r, status, page)
	})
	res, ok := g.checkPasskeyStep(w, r, f, cur.Claims.SessionID, u.ID, "passkey step", "second step", fail)
	if !ok {
		return
	}
	ip := g.clientIP(r)
	claims, err := g.Sessions.Reissue(r.Context(), w, cur, time.Unix(0, cur.Claims.AuthAt), true, ip, r.UserAgent())
	if err != nil {
		g.Log.Error("passkey step: issue session", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	g.Metrics.CountSignIn("success")
	g.Log.Info("authentication_succeeded", "username", u.Username, "client_ip", ip, "factor", "passkey")
	g.event(r, u.ID, store.Event{Type: store.EventSignIn, Detail: "password + passkey " + passkeyLabel(res.Passkey)})
	g.finishSignedIn(w, r, f, claims)
}
