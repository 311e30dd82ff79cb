package console

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
)

// staffUserJSON is a user as the staff API shows it.
type staffUserJSON struct {
	Username   string   `json:"username"`
	Email      string   `json:"email"`
	Roles      []string `json:"roles"`
	Groups     []string `json:"groups"`
	MFAEnabled bool     `json:"mfa_enabled"`
	// Status is "active", "locked" (by staff) or "disabled" (by an admin).
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
}

func staffUser(u *store.User) staffUserJSON {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	return staffUserJSON{
		Username: u.Username, Email: u.Email, Roles: roles, MFAEnabled: u.MFAEnabled, Groups: groups,
		Status: strings.ToLower(staffUserStatus(u)), Created: u.Created,
	}
}

// apiFindUsers answers GET users?q=PREFIX (username or email prefix).
func (h *Handler) apiFindUsers(w http.ResponseWriter, r *http.Request, _ *staffActor) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" || len(q) > 254 {
		web.WriteJSONError(w, http.StatusBadRequest, "query_required", "give q, the start of a username or email")
		return
	}
	users, err := h.Store.FindUsers(r.Context(), q, consoleSearchLimit)
	if err != nil {
		h.Log.Error("staff api search", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	out := make([]staffUserJSON, 0, len(users))
	for _, u := range users {
		out = append(out, staffUser(u))
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"users": out})
}

// apiStaffUser loads the user named in the path, or answers 404/503.
func (h *Handler) apiStaffUser(w http.ResponseWriter, r *http.Request) (*store.User, bool) {
	u, err := h.Store.FindUserByName(r.Context(), r.PathValue("name"))
	if errors.Is(err, store.ErrNotFound) {
		web.WriteJSONError(w, http.StatusNotFound, "user_not_found", "there is no user with this name")
		return nil, false
	}
	if err != nil {
		h.Log.Error("staff api user", "err", err.Error())
		h.Unavailable(w, r)
		return nil, false
	}
	return u, true
}

// apiGetUser answers GET users/{name}: the profile and the brute-force
// counters on the account.
func (h *Handler) apiGetUser(w http.ResponseWriter, r *http.Request, _ *staffActor) {
	u, ok := h.apiStaffUser(w, r)
	if !ok {
		return
	}
	ts, err := h.Store.FindUserThrottles(r.Context(), u)
	if err != nil {
		h.Log.Error("staff api throttles", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	type throttle struct {
		Counter      string     `json:"counter"`
		Fails        int64      `json:"fails"`
		BlockedUntil *time.Time `json:"blocked_until"`
	}
	out := struct {
		staffUserJSON
		RecoveryCodesLeft int        `json:"recovery_codes_left"`
		Throttles         []throttle `json:"throttles"`
	}{staffUserJSON: staffUser(u), RecoveryCodesLeft: len(u.RecoveryCodes), Throttles: []throttle{}}
	for _, t := range ts {
		th := throttle{Counter: consoleThrottleLabel(t.Key), Fails: t.Fails}
		if !t.Until.IsZero() {
			th.BlockedUntil = &t.Until
		}
		out.Throttles = append(out.Throttles, th)
	}
	web.WriteJSON(w, http.StatusOK, out)
}

// apiUserSessions answers GET users/{name}/sessions: the user's devices.
func (h *Handler) apiUserSessions(w http.ResponseWriter, r *http.Request, _ *staffActor) {
	u, ok := h.apiStaffUser(w, r)
	if !ok {
		return
	}
	sessions, err := h.Store.FindSessions(r.Context(), u.ID)
	if err != nil {
		h.Log.Error("staff api sessions", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	type session struct {
		ID       string    `json:"id"`
		Device   string    `json:"device"`
		Name     string    `json:"name,omitempty"`
		IP       string    `json:"ip"`
		Place    string    `json:"place"`
		Created  time.Time `json:"created"`
		LastSeen time.Time `json:"last_seen"`
	}
	out := make([]session, 0, len(sessions))
	for _, s := range sessions {
		out = append(out, session{
			ID: s.ID, Device: web.DeviceLabel(s.UserAgent), Name: s.Name, IP: s.IP, Place: h.Places.Lookup(s.IP),
			Created: s.Created, LastSeen: s.LastSeen,
		})
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// apiUserActivity answers GET users/{name}/activity?limit=N (newest first).
func (h *Handler) apiUserActivity(w http.ResponseWriter, r *http.Request, _ *staffActor) {
	u, ok := h.apiStaffUser(w, r)
	if !ok {
		return
	}
	events, err := h.Store.FindEvents(r.Context(), u.ID, int64(staffQueryLimit(r, 50, 500)))
	if err != nil {
		h.Log.Error("staff api activity", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	type event struct {
		Time   time.Time `json:"time"`
		Type   string    `json:"type"`
		IP     string    `json:"ip"`
		Device string    `json:"device"`
		Detail string    `json:"detail"`
		Actor  string    `json:"actor,omitempty"`
	}
	out := make([]event, 0, len(events))
	for _, e := range events {
		ev := event{Time: e.Time, Type: e.Type, IP: e.IP, Detail: e.Detail, Actor: e.Actor}
		if e.Device != "" {
			ev.Device = web.DeviceLabel(e.Device)
		}
		out = append(out, ev)
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"events": out})
}

// staffQueryLimit reads ?limit=, defaulting to def and capped at max.
func staffQueryLimit(r *http.Request, def, max int) int {
	n, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || n <= 0 {
		return def
	}
	return min(n, max)
}

// apiAction runs a staff action from a JSON body {"reason": "..."}:
// 204 when done, 201 with the link for a reset link.
func (h *Handler) apiAction(act *staffAction) func(http.ResponseWriter, *http.Request, *staffActor) {
	return func(w http.ResponseWriter, r *http.Request, a *staffActor) {
		var body struct {
			Reason string   `json:"reason"`
			Roles  []string `json:"roles"`
			Groups []string `json:"groups"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
		if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			web.WriteJSONError(w, http.StatusBadRequest, "bad_request", `send a JSON body: {"reason": "why you do this"}`)
			return
		}
		if !h.checkRecentSignIn(w, r, a, act) {
			return
		}
		_, res, aerr := h.runAction(a, act, &actionInput{
			Reason: body.Reason, SessionID: r.PathValue("id"), Roles: body.Roles, Groups: body.Groups, w: w, r: r,
		})
		if aerr != nil {
			web.WriteJSONError(w, aerr.status, aerr.code, aerr.msg)
			return
		}
		if res.link != nil {
			web.WriteJSON(w, http.StatusCreated, map[string]any{"url": res.link.URL, "expires": res.link.Expires})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// apiAudit answers GET audit?actor=&user=&action=&since=&until=&limit=
// (admins), newest first.
func (h *Handler) apiAudit(w http.ResponseWriter, r *http.Request, _ *staffActor) {
	aq, msg := parseAuditQuery(r.URL.Query())
	if msg != "" {
		web.WriteJSONError(w, http.StatusBadRequest, "bad_filter", msg)
		return
	}
	aq.filter.Limit = staffQueryLimit(r, 100, 1000)
	entries, err := h.Store.FindAudit(r.Context(), aq.filter)
	if err != nil {
		h.Log.Error("staff api audit", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	type entry struct {
		Time      time.Time `json:"time"`
		Actor     string    `json:"actor"`
		ActorRole string    `json:"actor_role"`
		TokenID   string    `json:"token_id,omitempty"`
		// TokenOwner is the admin who owns the token that acted.
		TokenOwner string `json:"token_owner,omitempty"`
		Action     string `json:"action"`
		User       string `json:"user"`
		Reason     string `json:"reason"`
		IP         string `json:"ip"`
		Detail     string `json:"detail"`
	}
	out := make([]entry, 0, len(entries))
	for _, e := range entries {
		out = append(out, entry{
			Time: e.Time, Actor: e.Actor, ActorRole: e.ActorRole, TokenID: e.TokenID, TokenOwner: e.TokenOwner, Action: e.Action,
			User: e.Target, Reason: e.Reason, IP: e.IP, Detail: e.Detail,
		})
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"entries": out})
}
