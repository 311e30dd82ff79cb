package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// showLogout asks before signing out: a link (GET) never signs anyone out,
// so an image tag or a link scanner cannot; the page's button posts.
func (g *Gateway) showLogout(w http.ResponseWriter, r *http.Request) {
	g.render(w, r, http.StatusOK, templates.Logout(templates.LogoutPage{
		Chrome: templates.Chrome{Title: "Sign out", Prefix: g.prefix},
	}))
}

// submitLogout ends this session on the server (a copied cookie is useless
// afterwards) and clears the cookie. It is a POST so other sites cannot sign
// people out with an image tag; cross-origin POSTs are refused upstream.
func (g *Gateway) submitLogout(w http.ResponseWriter, r *http.Request) {
	g.logout(w, r, g.Sessions, g.prefix+"/login?m=signed_out")
}

// submitAppLogout is sign-out on an app host: the app host's cookie names
// the same session as the portal's and every other app's cookie, so ending
// it signs the browser out everywhere; the browser lands on the portal.
func (g *Gateway) submitAppLogout(w http.ResponseWriter, r *http.Request) {
	g.logout(w, r, g.apps, g.Config.PortalPage(g.prefix+"/login?m=signed_out"))
}

func (g *Gateway) logout(w http.ResponseWriter, r *http.Request, s *Sessions, after string) {
	cur, outcome := s.Authenticate(r)
	if cur != nil && (outcome == store.Valid || outcome == store.Pending) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 3*time.Second)
		defer cancel()
		if err := s.Revoke(ctx, cur.Claims.UserID, cur.Claims.SessionID, cur.Claims.Created); err != nil {
			// The cookie must not outlive a failed revocation unnoticed.
			g.Log.Error("logout: revoke session", "err", err.Error())
			if errors.Is(err, store.ErrNotReplicated) {
				w.Header().Set("Retry-After", "5")
				g.renderErrorPage(w, r, http.StatusServiceUnavailable, store.CodeNotReplicated, "Not confirmed yet", store.MsgNotReplicated)
				return
			}
			g.unavailable(w, r)
			return
		}
		// Other cookies of this browser naming the session (the portal's and
		// each app host's) say so on their next page.
		s.recordWhy(ctx, cur.Claims.UserID, cur.Claims.SessionID, store.EndReason{Code: store.EndSignedOut})
		g.event(r, cur.Claims.UserID, store.Event{Type: store.EventSignOut, Detail: "signed out"})
		g.Log.Info("signed_out", "username", cur.User.Username, "client_ip", g.clientIP(r))
	}
	s.Clear(w)
	if !web.WantsHTML(r) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, after, http.StatusSeeOther)
}
