package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// emailStore is what the address confirmation page needs.
type emailStore interface {
	FindOneTime(ctx context.Context, kind, tok string) (*store.OneTime, error)
	ConsumeOneTime(ctx context.Context, kind, tok string) (*store.OneTime, error)
	FindUserByID(ctx context.Context, uid string) (*store.User, error)
	UpdateUser(ctx context.Context, uid string, upd store.UserUpdate) error
	AppendEventWith(ctx context.Context, uid string, e store.Event, extra []store.OutboxMessage) error
}

// emailRoutes registers {prefix}/email/confirm, the page the link mailed
// to a newly entered address opens.
func (g *Gateway) emailRoutes(mux *http.ServeMux) {
	st, ok := g.Users.(emailStore)
	if !ok || !g.MailOn {
		return
	}
	h := &emailConfirm{g: g, st: st, link: g.newSecretLink("email", "/email/confirm")}
	g.proxy.ownCookies = append(g.proxy.ownCookies, h.link.name)
	mux.HandleFunc("GET "+g.prefix+"/email/confirm", h.show)
	mux.HandleFunc("POST "+g.prefix+"/email/confirm", h.confirm)
}

// emailConfirm makes an address the account's once its owner proves they
// read its mail. Only the newest address asked for can be confirmed.
type emailConfirm struct {
	g    *Gateway
	st   emailStore
	link *secretLink
}

func (h *emailConfirm) render(w http.ResponseWriter, r *http.Request, status int, p templates.EmailConfirmPage) {
	p.Chrome = templates.Chrome{Title: "Confirm your e-mail address", Prefix: h.g.prefix}
	if p.Invalid {
		h.link.clear(w)
	}
	h.g.render(w, r, status, templates.EmailConfirm(p))
}

func (h *emailConfirm) lookup(w http.ResponseWriter, r *http.Request, t *store.OneTime, err error) (*store.User, bool) {
	var u *store.User
	if err == nil {
		u, err = h.st.FindUserByID(r.Context(), t.UserID)
	}
	if err == nil && (u.EmailPending == "" || u.EmailPending != t.Data) {
		err = store.ErrNotFound // a newer address was asked for, or this one is done
	}
	if errors.Is(err, store.ErrNotFound) {
		h.render(w, r, http.StatusGone, templates.EmailConfirmPage{Invalid: true})
		return nil, false
	}
	if err != nil {
		h.g.Log.Error("email confirm: look-up", "err", err.Error())
		h.g.unavailable(w, r)
		return nil, false
	}
	return u, true
}

func (h *emailConfirm) show(w http.ResponseWriter, r *http.Request) {
	if h.link.exchange(w, r) {
		return
	}
	tok := h.link.token(r)
	if tok == "" {
		h.render(w, r, http.StatusGone, templates.EmailConfirmPage{Invalid: true, NoToken: true})
		return
	}
	t, err := h.st.FindOneTime(r.Context(), store.TokenVerifyEmail, tok)
	if u, ok := h.lookup(w, r, t, err); ok {
		h.render(w, r, http.StatusOK, templates.EmailConfirmPage{Address: u.EmailPending})
	}
}

func (h *emailConfirm) confirm(w http.ResponseWriter, r *http.Request) {
	tok := h.link.token(r)
	if tok == "" {
		h.render(w, r, http.StatusGone, templates.EmailConfirmPage{Invalid: true, NoToken: true})
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	t, err := h.st.ConsumeOneTime(ctx, store.TokenVerifyEmail, tok)
	u, ok := h.lookup(w, r, t, err)
	if !ok {
		return
	}
	old, now, empty := u.Email, time.Now().UTC(), ""
	if err := h.st.UpdateUser(ctx, u.ID, store.UserUpdate{Email: &t.Data, EmailConfirmed: &now, EmailPending: &empty}); err != nil {
		h.g.Log.Error("email confirm: update", "err", err.Error())
		h.g.unavailable(w, r)
		return
	}
	detail := "alerts now go to " + t.Data
	var extra []store.OutboxMessage
	if old != "" && old != t.Data {
		detail = "changed from " + old + " to " + t.Data
		// The old address hears of it too: if someone else made the
		// change, that is where the owner still reads mail.
		extra = append(extra, store.OutboxMessage{Kind: store.MessageMail, Template: store.EventEmailChanged, To: old})
	}
	e := store.Event{Type: store.EventEmailChanged, IP: h.g.clientIP(r), Device: truncate(r.UserAgent(), 512), Detail: detail}
	if err := h.st.AppendEventWith(ctx, u.ID, e, extra); err != nil {
		h.g.Log.Error("email confirm: activity", "err", err.Error())
	}
	h.link.clear(w)
	h.render(w, r, http.StatusOK, templates.EmailConfirmPage{Address: t.Data, Done: true})
}
