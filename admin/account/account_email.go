package account

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// emailRoutes registers the e-mail and alerts page of Login & Security.
func (h *Handler) emailRoutes(mux *http.ServeMux) {
	p := h.Prefix
	mux.HandleFunc("GET "+p+"/account/email", h.WithUser(h.showEmail))
	mux.HandleFunc("POST "+p+"/account/email", h.WithUser(h.submitEmail))
	mux.HandleFunc("POST "+p+"/account/alerts", h.WithUser(h.submitAlerts))
}

// optionalAlerts are the alerts a person may turn off, in page order.
var optionalAlerts = []templates.AlertChoice{
	{Key: store.AlertNewDevice, Label: "Sign-ins from a new browser",
		Help: "With a \"This wasn't me\" link that signs every device out and blocks the password."},
	{Key: store.AlertStaff, Label: "Support actions on your account",
		Help: "Sign-outs, locks and other steps support takes, with their reason. Support resetting your two-step verification is always mailed."},
}

var emailNotices = map[string]string{
	"sent":   "We mailed a confirmation link to the new address. It works for 24 hours.",
	"alerts": "Your alert choices were saved.",
}

func (h *Handler) showEmail(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	h.renderEmail(w, r, p, http.StatusOK, emailNotices[r.URL.Query().Get("m")], "")
}

func (h *Handler) renderEmail(w http.ResponseWriter, r *http.Request, p *store.Principal, status int, notice, errMsg string) {
	u, err := h.Store.FindUserByID(r.Context(), p.Claims.UserID)
	if err != nil {
		h.Log.Error("account e-mail page: load", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	page := templates.AccountEmailPage{
		Chrome: h.Chrome(p, "E-mail and alerts"), Email: u.Email, Pending: u.EmailPending,
		MailOn: h.MailOn, Notice: notice, Error: errMsg, Confirmed: EmailState(u),
	}
	for _, a := range optionalAlerts {
		a.On = u.AlertOn(a.Key)
		page.Alerts = append(page.Alerts, a)
	}
	h.Render(w, r, status, templates.AccountEmail(page))
}

// EmailState words how an address was verified, for the person and staff.
func EmailState(u *store.User) string {
	if !u.EmailConfirmed.IsZero() {
		return "confirmed by you on " + u.EmailConfirmed.Format("2 Jan 2006")
	}
	return "set by an administrator"
}

// submitEmail starts a change of address: the new one waits, unused, for
// the link mailed to it. Redirecting alerts is what an intruder with a
// session would do first, so it needs a recent sign-in.
func (h *Handler) submitEmail(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil || !h.MailOn {
		h.renderEmail(w, r, p, http.StatusBadRequest, "", "The form could not be read.")
		return
	}
	addr := strings.TrimSpace(r.PostForm.Get("email"))
	if err := store.ValidateEmail(addr); err != nil {
		h.renderEmail(w, r, p, http.StatusUnprocessableEntity, "", "That is not an e-mail address.")
		return
	}
	if !h.RequireRecentAuth(w, r, p, "change the address your alerts go to") {
		return
	}
	ctx := r.Context()
	wait, err := h.Store.ClaimCooldown(ctx, p.Claims.UserID, "email", store.EmailChangeCooldown)
	if err != nil {
		h.Log.Error("account e-mail: cooldown", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	if wait > 0 {
		secs := int(wait.Round(time.Second) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		h.renderEmail(w, r, p, http.StatusTooManyRequests, "",
			fmt.Sprintf("A confirmation link was mailed a moment ago. Wait %d seconds, then send the address again.", max(secs, 1)))
		return
	}
	if err := h.Store.UpdateUser(ctx, p.Claims.UserID, store.UserUpdate{EmailPending: &addr}); err != nil {
		h.Log.Error("account e-mail: save", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	e := store.Event{Type: store.EventEmailChangeAsked, IP: h.ClientIP(r), Device: r.UserAgent(),
		Detail: "a confirmation link was mailed to " + addr}
	if err := h.Store.AppendEventWith(ctx, p.Claims.UserID, e, []store.OutboxMessage{
		{Kind: store.MessageMail, Template: store.MailVerifyEmail, To: addr},
	}); err != nil {
		h.Log.Error("account e-mail: queue the link", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	http.Redirect(w, r, h.Prefix+"/account/email?m=sent", http.StatusSeeOther)
}

// submitAlerts saves which optional alerts the person gets.
func (h *Handler) submitAlerts(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.renderEmail(w, r, p, http.StatusBadRequest, "", "The form could not be read.")
		return
	}
	on := r.PostForm["alert"]
	off := []string{}
	for _, a := range optionalAlerts {
		if !slices.Contains(on, a.Key) {
			off = append(off, a.Key)
		}
	}
	if err := h.Store.UpdateUser(r.Context(), p.Claims.UserID, store.UserUpdate{AlertsOff: &off}); err != nil {
		h.Log.Error("account alerts: save", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	h.accountEvent(r.Context(), r, p.Claims.UserID, store.Event{Type: store.EventAlertsChanged,
		Detail: "optional alerts turned off: " + orNone(off)})
	http.Redirect(w, r, h.Prefix+"/account/email?m=alerts", http.StatusSeeOther)
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
