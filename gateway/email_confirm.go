package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// emailStore is what the address confirmation page needs.
type emailStore interface {
	oneTimeStore
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
	h := &emailConfirm{g: g, st: st}
	h.link = g.newOneTimeLink(st, "email", "/email/confirm", store.TokenVerifyEmail, "email confirm",
		func(w http.ResponseWriter, r *http.Request, noToken bool) {
			h.render(w, r, http.StatusGone, templates.EmailConfirmPage{Invalid: true, NoToken: noToken})
		})
	h.link.routes(mux, h.show, h.confirm)
}

// emailConfirm makes an address the account's once its owner proves they
// read its mail. Only the newest address asked for can be confirmed.
type emailConfirm struct {
	g    *Gateway
	st   emailStore
	link *oneTimeLink
}

func (h *emailConfirm) render(w http.ResponseWriter, r *http.Request, status int, p templates.EmailConfirmPage) {
	p.Chrome = templates.Chrome{Title: "Confirm your e-mail address", Prefix: h.g.prefix}
	h.g.render(w, r, status, templates.EmailConfirm(p))
}

// pending reports whether t still names the address u asked for last; a
// newer address was asked for, or this one is done, when it does not.
func pending(t *store.OneTime, u *store.User) bool {
	return u.EmailPending != "" && u.EmailPending == t.Data
}

func (h *emailConfirm) show(w http.ResponseWriter, r *http.Request, t *store.OneTime, u *store.User) {
	if !pending(t, u) {
		h.link.refuse(w, r, false)
		return
	}
	h.render(w, r, http.StatusOK, templates.EmailConfirmPage{Address: u.EmailPending})
}

func (h *emailConfirm) confirm(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	t, u, ok := h.link.open(ctx, w, r, h.link.token(r), true)
	if !ok {
		return
	}
	if !pending(t, u) {
		h.link.refuse(w, r, false)
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
	e := store.Event{Type: store.EventEmailChanged, IP: h.g.clientIP(r), Device: r.UserAgent(), Detail: detail}
	if err := h.st.AppendEventWith(ctx, u.ID, e, extra); err != nil {
		h.g.Log.Error("email confirm: activity", "err", err.Error())
	}
	h.link.clear(w)
	h.render(w, r, http.StatusOK, templates.EmailConfirmPage{Address: t.Data, Done: true})
}
