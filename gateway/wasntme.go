package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// wasntMeStore is what the "This wasn't me" page needs from persistence.
type wasntMeStore interface {
	FindOneTime(ctx context.Context, kind, tok string) (*store.OneTime, error)
	ConsumeOneTime(ctx context.Context, kind, tok string) (*store.OneTime, error)
	FindUserByID(ctx context.Context, uid string) (*store.User, error)
	SecureAccount(ctx context.Context, uid string, o store.SecureOptions) error
}

// wasntMeRoutes registers {prefix}/wasntme, the page the link of a
// new-device alert opens.
func (g *Gateway) wasntMeRoutes(mux *http.ServeMux) {
	st, ok := g.Users.(wasntMeStore)
	if !ok {
		return
	}
	h := &wasntMe{g: g, st: st, link: g.newSecretLink("wasntme", "/wasntme")}
	g.proxy.ownCookies = append(g.proxy.ownCookies, h.link.name)
	mux.HandleFunc("GET "+g.prefix+"/wasntme", h.show)
	mux.HandleFunc("POST "+g.prefix+"/wasntme", h.confirm)
}

// wasntMe lets the owner of an account answer a new-device alert from
// any browser, signed in or not: the link's token (7 days, one use) moves
// into a cookie as secretlink.go describes, the page only asks, and the
// button calls store.SecureAccount.
type wasntMe struct {
	g    *Gateway
	st   wasntMeStore
	link *secretLink
}

func (h *wasntMe) render(w http.ResponseWriter, r *http.Request, status int, p templates.WasntMePage) {
	p.Chrome = templates.Chrome{Title: "Secure your account", Prefix: h.g.prefix}
	if p.Invalid {
		h.link.clear(w)
	}
	h.g.render(w, r, status, templates.WasntMe(p))
}

// lookup finds the token's account without using the token; ok is false
// when it has answered.
func (h *wasntMe) lookup(w http.ResponseWriter, r *http.Request, tok string) (*store.User, bool) {
	if tok == "" {
		h.render(w, r, http.StatusGone, templates.WasntMePage{Invalid: true, NoToken: true})
		return nil, false
	}
	t, err := h.st.FindOneTime(r.Context(), store.TokenWasntMe, tok)
	var u *store.User
	if err == nil {
		u, err = h.st.FindUserByID(r.Context(), t.UserID)
	}
	if errors.Is(err, store.ErrNotFound) {
		h.render(w, r, http.StatusGone, templates.WasntMePage{Invalid: true})
		return nil, false
	}
	if err != nil {
		h.g.Log.Error("wasntme: look-up", "err", err.Error())
		h.g.unavailable(w, r)
		return nil, false
	}
	return u, true
}

// show changes nothing: scanners that open the link leave it as it was.
func (h *wasntMe) show(w http.ResponseWriter, r *http.Request) {
	if h.link.exchange(w, r) {
		return
	}
	if u, ok := h.lookup(w, r, h.link.token(r)); ok {
		h.render(w, r, http.StatusOK, templates.WasntMePage{Username: u.Username})
	}
}

// confirm secures the account, then uses the token up. In that order, so
// a failure half-way leaves the link working for another try; two racing
// posts both secure the account (no harm), and afterwards the link is
// dead.
func (h *wasntMe) confirm(w http.ResponseWriter, r *http.Request) {
	tok := h.link.token(r)
	u, ok := h.lookup(w, r, tok)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	ip, ua := h.g.clientIP(r), truncate(r.UserAgent(), 512)
	err := h.st.SecureAccount(ctx, u.ID, store.SecureOptions{
		IP: ip, Agent: ua, Via: "the link in a new-device alert",
		SignOut: func(ctx context.Context) error {
			return h.g.Sessions.SignOutEverywhere(ctx, w, u.ID, nil, ip, ua, store.EndReason{Code: store.EndSecured})
		},
	})
	if err != nil {
		h.g.Log.Error("wasntme: secure account", "err", err.Error(), "username", u.Username)
		h.g.unavailable(w, r)
		return
	}
	if _, err := h.st.ConsumeOneTime(ctx, store.TokenWasntMe, tok); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.g.Log.Warn("wasntme: use up the link", "err", err.Error())
	}
	h.link.clear(w)
	h.g.Log.Info("account_secured", "username", u.Username, "client_ip", ip)
	h.render(w, r, http.StatusOK, templates.WasntMePage{Username: u.Username, Done: true})
}
