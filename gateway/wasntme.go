package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// wasntMeStore is what the "This wasn't me" page needs from persistence.
type wasntMeStore interface {
	oneTimeStore
	SecureAccount(ctx context.Context, uid string, o store.SecureOptions) error
}

// wasntMeRoutes registers {prefix}/wasntme, the page the link of a
// new-device alert opens.
func (g *Gateway) wasntMeRoutes(mux *http.ServeMux) {
	st, ok := g.Users.(wasntMeStore)
	if !ok {
		return
	}
	h := &wasntMe{g: g, st: st}
	h.link = g.newOneTimeLink(st, "wasntme", "/wasntme", store.TokenWasntMe, "wasntme",
		func(w http.ResponseWriter, r *http.Request, noToken bool) {
			h.render(w, r, http.StatusGone, templates.WasntMePage{Invalid: true, NoToken: noToken})
		})
	h.link.routes(mux, h.show, h.confirm)
}

// wasntMe lets the owner of an account answer a new-device alert from
// any browser, signed in or not: the link's token (7 days, one use) moves
// into a cookie as secretlink.go describes, the page only asks, and the
// button calls store.SecureAccount.
type wasntMe struct {
	g    *Gateway
	st   wasntMeStore
	link *oneTimeLink
}

func (h *wasntMe) render(w http.ResponseWriter, r *http.Request, status int, p templates.WasntMePage) {
	p.Chrome = templates.Chrome{Title: "Secure your account", Prefix: h.g.prefix}
	h.g.render(w, r, status, templates.WasntMe(p))
}

// show changes nothing: scanners that open the link leave it as it was.
func (h *wasntMe) show(w http.ResponseWriter, r *http.Request, _ *store.OneTime, u *store.User) {
	h.render(w, r, http.StatusOK, templates.WasntMePage{Username: u.Username})
}

// confirm secures the account, then uses the token up. In that order, so
// a failure half-way leaves the link working for another try; two racing
// posts both secure the account (no harm), and afterwards the link is
// dead.
func (h *wasntMe) confirm(w http.ResponseWriter, r *http.Request) {
	tok := h.link.token(r)
	t, u, ok := h.link.open(r.Context(), w, r, tok, false)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	ip, ua := h.g.clientIP(r), truncate(r.UserAgent(), 512)
	err := h.st.SecureAccount(ctx, u.ID, store.SecureOptions{
		IP: ip, Agent: ua, Via: "the link in a mail", ResetTo: t.Data,
		SignOut: func(ctx context.Context) error {
			return h.g.Sessions.SignOutEverywhere(ctx, w, u.ID, nil, ip, ua, store.EndReason{Code: store.EndSecured})
		},
	})
	if err != nil {
		h.g.Log.Error("wasntme: secure account", "err", err.Error(), "username", u.Username)
		h.g.unavailable(w, r)
		return
	}
	h.link.useUp(ctx, tok)
	h.link.clear(w)
	h.g.Log.Info("account_secured", "username", u.Username, "client_ip", ip)
	h.render(w, r, http.StatusOK, templates.WasntMePage{Username: u.Username, Done: true})
}
