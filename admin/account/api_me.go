package account

import (
	"net/http"
	"strconv"
	"time"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
)

// apiRoutes registers the person's JSON API under {prefix}/api/v1/me: the
// same actions as the Login & Security page, with the same session cookie.
func (h *Handler) apiRoutes(mux *http.ServeMux) {
	p := h.Prefix + "/api/v1/me"
	mux.HandleFunc("GET "+p, h.withMeAPI(h.getMe))
	mux.HandleFunc("GET "+p+"/sessions", h.withMeAPI(h.getMySessions))
	mux.HandleFunc("POST "+p+"/sessions/{id}/revoke", h.withMeAPI(h.revokeMySession))
	mux.HandleFunc("POST "+p+"/signout-all", h.withMeAPI(h.signOutMeEverywhere))
	mux.HandleFunc("POST "+p+"/password", h.withMeAPI(h.changeMyPassword))
	mux.HandleFunc("POST "+p+"/password/check", h.withMeAPI(h.checkMyNewPassword))
	mux.HandleFunc("GET "+p+"/activity", h.withMeAPI(h.getMyActivity))
}

// withMeAPI is WithUser for API calls: whatever the client's Accept header
// says, the answers (401, 403 reauth_required, errors) are JSON, never a
// redirect or a page.
func (h *Handler) withMeAPI(next func(http.ResponseWriter, *http.Request, *store.Principal)) http.HandlerFunc {
	inner := h.WithUser(next)
	return func(w http.ResponseWriter, r *http.Request) {
		r = r.Clone(r.Context())
		r.Header.Set("Accept", "application/json")
		inner(w, r)
	}
}

// meJSON is the answer of GET me.
type meJSON struct {
	Username   string   `json:"username"`
	Email      string   `json:"email"`
	Roles      []string `json:"roles"`
	MFAEnabled bool     `json:"mfa_enabled"`
}

// sessionJSON is one device in GET me/sessions.
type sessionJSON struct {
	ID       string    `json:"id"`
	Current  bool      `json:"current"`
	Device   string    `json:"device"`
	IP       string    `json:"ip"`
	Place    string    `json:"place"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
}

// eventJSON is one line of GET me/activity.
type eventJSON struct {
	Time   time.Time `json:"time"`
	Type   string    `json:"type"`
	IP     string    `json:"ip"`
	Device string    `json:"device"`
	Detail string    `json:"detail"`
}

func (h *Handler) getMe(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	u, err := h.Store.FindUserByID(r.Context(), p.Claims.UserID)
	if err != nil {
		h.apiStoreError(w, r, "me", err)
		return
	}
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	web.WriteJSON(w, http.StatusOK, meJSON{Username: u.Username, Email: u.Email, Roles: roles, MFAEnabled: u.MFAEnabled})
}

func (h *Handler) getMySessions(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	sessions, err := h.Store.FindSessions(r.Context(), p.Claims.UserID)
	if err != nil {
		h.apiStoreError(w, r, "me/sessions", err)
		return
	}
	out := make([]sessionJSON, 0, len(sessions))
	for _, d := range h.deviceRows(sessions, p) {
		out = append(out, sessionJSON{
			ID: d.ID, Current: d.Current, Device: d.Label, IP: d.IP, Place: d.Place,
			Created: d.Created.UTC(), LastSeen: d.LastSeen.UTC(),
		})
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// maxActivityLimit bounds GET me/activity?limit=.
const maxActivityLimit = 100

func (h *Handler) getMyActivity(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	limit := accountActivityLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxActivityLimit {
			web.WriteJSONError(w, http.StatusBadRequest, "bad_request", "limit must be a number from 1 to 100")
			return
		}
		limit = n
	}
	events, err := h.Store.FindEvents(r.Context(), p.Claims.UserID, int64(limit))
	if err != nil {
		h.apiStoreError(w, r, "me/activity", err)
		return
	}
	out := make([]eventJSON, 0, len(events))
	for _, e := range events {
		detail := e.Detail
		if e.Actor != "" {
			// The shape has no actor field; who acted belongs with the detail.
			detail += " (by " + e.Actor + ")"
		}
		out = append(out, eventJSON{Time: e.Time.UTC(), Type: e.Type, IP: e.IP, Device: eventDevice(e), Detail: detail})
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"events": out})
}

// apiStoreError answers a failed store read: 503, logged.
func (h *Handler) apiStoreError(w http.ResponseWriter, r *http.Request, call string, err error) {
	h.Log.Error("api: "+call, "err", err.Error())
	h.StoreFailed(w, r, err)
}
