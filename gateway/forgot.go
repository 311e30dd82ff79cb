package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
	"github.com/authgate/gateway/templates"
)

// forgotStore is what "Forgot password?" needs from persistence.
type forgotStore interface {
	FindUserByName(ctx context.Context, name string) (*store.User, error)
	FindUserByEmail(ctx context.Context, email string) (*store.User, error)
	FindUserByID(ctx context.Context, uid string) (*store.User, error)
	AppendEventWith(ctx context.Context, uid string, e store.Event, extra []store.OutboxMessage) error
}

// forgotRoutes registers {prefix}/login/forgot when mail can be sent.
func (g *Gateway) forgotRoutes(mux *http.ServeMux) {
	fs, ok := g.Users.(forgotStore)
	if !ok || !g.MailOn {
		return
	}
	f := &forgotPassword{g: g, st: fs}
	mux.HandleFunc("GET "+g.prefix+"/login/forgot", f.show)
	mux.HandleFunc("POST "+g.prefix+"/login/forgot", f.submit)
}

// forgotPassword mails a one-time reset link (store.ForgotResetTTL) to the
// account named by a username or an e-mail address. The answer is the
// same page, in about the same time, whether the account exists or not;
// each request counts as a failed password attempt on the account and the
// client (the brute-force guard), so the form can be used neither to mail
// a person without end nor to list accounts quickly.
type forgotPassword struct {
	g  *Gateway
	st forgotStore
}

func (f *forgotPassword) page(identity, errMsg string, sent bool) templates.ForgotPage {
	return templates.ForgotPage{Chrome: templates.Chrome{Title: "Forgot password", Prefix: f.g.prefix},
		Identity: identity, Error: errMsg, Sent: sent}
}

func (f *forgotPassword) show(w http.ResponseWriter, r *http.Request) {
	f.g.render(w, r, http.StatusOK, templates.Forgot(f.page("", "", false)))
}

func (f *forgotPassword) submit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		f.g.renderErrorPage(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The form could not be read.")
		return
	}
	typed := strings.TrimSpace(r.PostForm.Get("identity"))
	if typed == "" || len(typed) > 256 {
		f.g.render(w, r, http.StatusBadRequest, templates.Forgot(f.page(truncate(typed, 256), "Enter your username or e-mail address.", false)))
		return
	}
	ip := f.g.clientIP(r)
	u, err := f.find(r.Context(), typed)
	if err != nil {
		f.g.Log.Error("forgot password: look-up", "err", err.Error(), "client_ip", ip)
		f.g.unavailable(w, r)
		return
	}
	acct := attempts.Name(store.CanonicalUsername(typed))
	if u != nil {
		acct = attempts.User(u.ID)
	}
	res, err := f.g.Attempts.Password(r.Context(), acct, ip, func(context.Context) (bool, error) { return false, nil })
	if err != nil {
		f.g.Log.Error("forgot password: throttle", "err", err.Error(), "client_ip", ip)
		f.g.unavailable(w, r)
		return
	}
	if res.Throttled() {
		f.g.Log.Warn("password_reset_throttled", "client_ip", ip, "known_user", u != nil, "limit", string(res.Kind))
		f.g.throttledLoginPage(w, r, "/", attempts.Message(res.Wait), res.Wait)
		return
	}
	f.g.Log.Info("password_reset_requested", "client_ip", ip, "known_user", u != nil)
	if u != nil && !u.Disabled {
		// Written off the answer's path: the reply must not take longer
		// for an account that exists.
		e := store.Event{Type: store.EventResetRequested, IP: ip, Device: r.UserAgent(),
			Detail: "a password-reset link was asked for on the sign-in page and mailed to your address"}
		go func(uid string) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := f.st.AppendEventWith(ctx, uid, e, []store.OutboxMessage{{Kind: store.MessageMail, Template: store.MailResetLink}}); err != nil {
				f.g.Log.Error("forgot password: queue the mail", "err", err.Error())
			}
		}(u.ID)
	}
	f.g.render(w, r, http.StatusOK, templates.Forgot(f.page("", "", true)))
}

// find looks the account up by username, or by address when the text has
// an "@" and names no username. Both paths read as much for an unknown
// account as for a known one.
func (f *forgotPassword) find(ctx context.Context, typed string) (*store.User, error) {
	u, err := f.st.FindUserByName(ctx, typed)
	if errors.Is(err, store.ErrNotFound) && strings.Contains(typed, "@") {
		u, err = f.st.FindUserByEmail(ctx, typed)
	}
	if errors.Is(err, store.ErrNotFound) {
		_, _ = f.st.FindUserByID(ctx, unknownUserID) // as long as a found one's read
		return nil, nil
	}
	return u, err
}
