package account

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// accountRoutes registers the Login & Security page. Every route runs behind
// WithUser (fully signed-in people only); the gateway wraps them all in
// security headers and cross-origin protection.
func (h *Handler) accountRoutes(mux *http.ServeMux) {
	p := h.Prefix
	mux.HandleFunc("GET "+p+"/account", h.WithUser(h.showAccount))
	mux.HandleFunc("POST "+p+"/account/sessions/{id}/revoke", h.WithUser(h.submitRevokeSession))
	mux.HandleFunc("POST "+p+"/account/sessions/{id}/rename", h.WithUser(h.submitRenameSession))
	mux.HandleFunc("POST "+p+"/account/signout-all", h.WithUser(h.submitSignOutAll))
	mux.HandleFunc("GET "+p+"/account/activity", h.WithUser(h.showTimeline)) // account_timeline.go
	mux.HandleFunc("GET "+p+"/account/password", h.WithUser(h.showPasswordPage))
	mux.HandleFunc("POST "+p+"/account/password", h.WithUser(h.submitPassword))
	h.newSignInRoutes(mux) // the new-sign-ins panel's answers: account_newsignins.go
}

// accountActivityLimit is how many events the page shows.
const accountActivityLimit = 20

// accountNotices are the confirmations an action may redirect to (?m=…);
// only these fixed texts are ever shown, nothing from the URL itself.
var accountNotices = map[string]string{
	"revoked":          "The device was signed out.",
	"renamed":          "The device name was saved.",
	"signed_out_all":   "All other devices were signed out. This device stays signed in.",
	"password_changed": "Your password was changed and every other device was signed out.",
	"new_signin_ok":    "Thanks. That sign-in is no longer listed.",
}

func (h *Handler) showAccount(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	h.renderAccount(w, r, p, http.StatusOK, accountNotices[r.URL.Query().Get("m")], "")
}

// renderAccount builds the page from the store and renders it with a notice
// or an error. A store failure answers 503.
func (h *Handler) renderAccount(w http.ResponseWriter, r *http.Request, p *store.Principal, status int, notice, errMsg string) {
	page, err := h.accountPage(r.Context(), p)
	if err != nil {
		h.Log.Error("account page: load", "err", err.Error(), "user_id", p.Claims.UserID)
		h.Unavailable(w, r)
		return
	}
	page.Notice, page.Error = notice, errMsg
	h.Render(w, r, status, templates.Account(page))
}

// accountPage is the view model of the page for p.
func (h *Handler) accountPage(ctx context.Context, p *store.Principal) (templates.AccountPage, error) {
	uid := p.Claims.UserID
	u, err := h.Store.FindUserByID(ctx, uid)
	if err != nil {
		return templates.AccountPage{}, err
	}
	sessions, err := h.Store.FindSessions(ctx, uid)
	if err != nil {
		return templates.AccountPage{}, err
	}
	events, err := h.Store.FindEvents(ctx, uid, accountActivityLimit)
	if err != nil {
		return templates.AccountPage{}, err
	}
	page := templates.AccountPage{
		Chrome: h.Chrome(p, "Login & Security"), Email: u.Email,
		ShowPlace: h.Places != nil, MFAEnabled: u.MFAEnabled,
	}
	if h.passkeysOn() {
		page.PasskeysOn = true
		if page.Passkeys, err = h.Store.CountPasskeys(ctx, uid); err != nil {
			return templates.AccountPage{}, err
		}
	}
	page.Devices = h.deviceRows(sessions, p)
	for _, e := range events {
		row := templates.ActivityRow{
			Time: e.Time, What: eventWords(e.Type), Device: eventDevice(e), IP: e.IP,
			Place: h.Places.Lookup(e.IP), Detail: e.Detail, Actor: e.Actor, Alert: eventAlert(e),
		}
		page.Activity = append(page.Activity, row)
	}
	if page.NewDevices, err = h.newSignInRows(ctx, p, sessions); err != nil {
		return templates.AccountPage{}, err
	}
	return page, nil
}

// deviceRows are the sessions as the page and the API show them, newest
// activity first. The device asking is in use right now, whatever its last
// batched last-seen time says; last-seen has whole seconds, so ties go to
// the newer sign-in.
func (h *Handler) deviceRows(sessions []*store.Session, p *store.Principal) []templates.DeviceRow {
	now := time.Now().UTC()
	rows := make([]templates.DeviceRow, 0, len(sessions))
	for _, s := range sessions {
		d := templates.DeviceRow{
			ID: s.ID, Label: web.DeviceLabel(s.UserAgent), Name: s.Name, Current: s.ID == p.Claims.SessionID,
			Created: s.Created, LastSeen: s.LastSeen, IP: s.IP, Place: h.Places.Lookup(s.IP),
		}
		if d.Current {
			d.LastSeen = now
		}
		rows = append(rows, d)
	}
	slices.SortStableFunc(rows, func(a, b templates.DeviceRow) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return b.Created.Compare(a.Created)
	})
	return rows
}
