package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/authgate/gateway/store"
)

// submitLogout ends this session on the server (a copied cookie is useless
// afterwards) and clears the cookie. It is a POST so other sites cannot sign
// people out with an image tag; cross-origin POSTs are refused upstream.
func (g *Gateway) submitLogout(w http.ResponseWriter, r *http.Request) {
	cur, outcome := g.Sessions.Authenticate(r)
	if cur != nil && (outcome == store.Valid || outcome == store.Pending) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 3*time.Second)
		defer cancel()
		if err := g.Sessions.Revoke(ctx, cur.Claims.UserID, cur.Claims.SessionID, cur.Claims.Created); err != nil {
			// The cookie must not outlive a failed revocation unnoticed.
			g.Log.Error("logout: revoke session", "err", err.Error())
			g.unavailable(w, r)
			return
		}
		g.event(r, cur.Claims.UserID, store.Event{Type: store.EventSignOut, Detail: "signed out"})
		g.Log.Info("signed_out", "username", cur.User.Username, "client_ip", g.clientIP(r))
	}
	g.Sessions.Clear(w)
	if !wantsHTML(r) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, g.prefix+"/login?m=signed_out", http.StatusSeeOther)
}
