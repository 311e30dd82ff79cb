package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/passwords"
	"github.com/authgate/gateway/templates"
)

// resetStore is what the reset-link page needs from persistence. The
// production store has it; a UserStore without it serves no reset page.
type resetStore interface {
	FindResetLink(ctx context.Context, tok string) (*store.ResetLink, error)
	ConsumeResetLink(ctx context.Context, tok string) (*store.ResetLink, error)
	FindUserByID(ctx context.Context, uid string) (*store.User, error)
	UpdateUser(ctx context.Context, uid string, upd store.UserUpdate) error
	ResetUserThrottles(ctx context.Context, u *store.User) error
	AppendEvent(ctx context.Context, uid string, e store.Event) error
	AppendAudit(ctx context.Context, e store.AuditEntry) error
}

// resetRoutes registers the one-time password-reset link pages.
func (g *Gateway) resetRoutes(mux *http.ServeMux) {
	rs, ok := g.Users.(resetStore)
	if !ok {
		return
	}
	pr := &passwordReset{g: g, st: rs, link: g.newSecretLink("reset", "/reset")}
	g.proxy.ownCookies = append(g.proxy.ownCookies, pr.link.name)
	mux.HandleFunc("GET "+g.prefix+"/reset", pr.showResetPage)
	mux.HandleFunc("POST "+g.prefix+"/reset", pr.submitReset)
}

// passwordReset serves {prefix}/reset, where a person whom support sent a
// link sets a new password. The link's token travels as secretlink.go
// describes: out of the address at once, used only by the form's POST.
type passwordReset struct {
	g    *Gateway
	st   resetStore
	link *secretLink
}

func (pr *passwordReset) page(u *store.User, errMsg string) templates.ResetPage {
	p := templates.ResetPage{
		Chrome: templates.Chrome{Title: "Set a new password", Prefix: pr.g.prefix},
		Error:  errMsg, MinLength: pr.g.Config.Password.MinLength,
	}
	if u == nil {
		p.Invalid = true
	} else {
		p.Username = u.Username
	}
	return p
}

// gone answers that the link cannot be used, and drops its cookie. Without
// a token at all (the cookie expired while the page was open, or cookies
// are blocked) the page says to open the link again.
func (pr *passwordReset) gone(w http.ResponseWriter, r *http.Request, noToken bool) {
	pr.link.clear(w)
	p := pr.page(nil, "")
	p.NoToken = noToken
	pr.g.render(w, r, http.StatusGone, templates.Reset(p))
}

// lookup finds the link's user without using the link up. ok is false when
// it has answered (invalid link: 410; Redis down: 503).
func (pr *passwordReset) lookup(w http.ResponseWriter, r *http.Request, tok string) (*store.ResetLink, *store.User, bool) {
	if tok == "" {
		pr.gone(w, r, true)
		return nil, nil, false
	}
	link, err := pr.st.FindResetLink(r.Context(), tok)
	var u *store.User
	if err == nil {
		u, err = pr.st.FindUserByID(r.Context(), link.UserID)
	}
	if errors.Is(err, store.ErrNotFound) {
		pr.gone(w, r, false)
		return nil, nil, false
	}
	if err != nil {
		pr.g.Log.Error("reset link lookup", "err", err.Error())
		pr.g.unavailable(w, r)
		return nil, nil, false
	}
	return link, u, true
}

// showResetPage moves a link's token into the cookie (redirecting to the
// clean address), or shows the form for the token the cookie holds. It
// changes nothing, so link scanners cannot use the link up.
func (pr *passwordReset) showResetPage(w http.ResponseWriter, r *http.Request) {
	if pr.link.exchange(w, r) {
		return
	}
	if _, u, ok := pr.lookup(w, r, pr.link.token(r)); ok {
		pr.g.render(w, r, http.StatusOK, templates.Reset(pr.page(u, "")))
	}
}

// submitReset checks the new password first (a refused password keeps the
// link usable), then uses the link up atomically, so of two racing posts
// only one sets a password; then it signs every session out.
func (pr *passwordReset) submitReset(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		pr.g.renderErrorPage(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The form could not be read.")
		return
	}
	tok := pr.link.token(r)
	link, u, ok := pr.lookup(w, r, tok)
	if !ok {
		return
	}
	pw := r.PostForm.Get("new_password")
	if pw != r.PostForm.Get("confirm_password") {
		pr.g.render(w, r, http.StatusUnprocessableEntity, templates.Reset(pr.page(u, "The two passwords are not the same.")))
		return
	}
	var perr *passwords.PolicyError
	if err := passwords.Check(pw, pr.g.Config.Password.MinLength, u.Username, u.Email); errors.As(err, &perr) {
		pr.g.render(w, r, http.StatusUnprocessableEntity, templates.Reset(pr.page(u, perr.Reason)))
		return
	} else if err != nil {
		pr.g.render(w, r, http.StatusUnprocessableEntity, templates.Reset(pr.page(u, "This password cannot be used.")))
		return
	}
	// From here on the change must complete even if the browser goes away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	hash, err := pr.g.Hasher.Hash(ctx, pw)
	if err != nil {
		pr.g.Log.Error("hash new password", "err", err.Error())
		pr.g.unavailable(w, r)
		return
	}
	used, err := pr.st.ConsumeResetLink(ctx, tok)
	if errors.Is(err, store.ErrNotFound) || (err == nil && used.UserID != link.UserID) {
		pr.gone(w, r, false)
		return
	}
	if err == nil {
		unblock := false // a new password lifts a "This wasn't me" block
		err = pr.st.UpdateUser(ctx, u.ID, store.UserUpdate{PasswordHash: &hash, PasswordBlocked: &unblock})
	}
	if err == nil {
		err = pr.g.Sessions.SignOutEverywhere(ctx, w, u.ID, nil, pr.g.clientIP(r), r.UserAgent(), store.EndReason{Code: store.EndPasswordReset})
	}
	if err != nil {
		pr.g.Log.Error("reset password", "err", err.Error())
		pr.g.unavailable(w, r)
		return
	}
	pr.g.Sessions.Clear(w)
	pr.link.clear(w)
	if err := pr.st.ResetUserThrottles(ctx, u); err != nil {
		pr.g.Log.Warn("clear throttles after reset", "err", err.Error())
	}
	pr.g.event(r, u.ID, store.Event{Type: store.EventPasswordChanged,
		Detail: "Password set with a one-time reset link from " + used.CreatedBy + "; signed out of all devices"})
	if err := pr.st.AppendAudit(ctx, store.AuditEntry{
		Actor: u.Username, ActorRole: "self", Action: store.AuditResetUsed, Target: u.Username,
		TargetID: u.ID, IP: pr.g.clientIP(r), Detail: "link from " + used.CreatedBy,
	}); err != nil {
		pr.g.Log.Error("audit entry not written", "err", err.Error(), "action", store.AuditResetUsed, "target", u.Username)
	}
	pr.g.Log.Info("password_reset_by_link", "username", u.Username, "client_ip", pr.g.clientIP(r))
	http.Redirect(w, r, pr.g.prefix+"/login?m=password_reset", http.StatusSeeOther)
}
