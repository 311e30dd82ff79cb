package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// consoleNotices are the messages a user page shows after an action; the
// redirect carries only the key, so nothing typed is reflected.
var consoleNotices = map[string]string{
	"signed_out":        "Signed out of all devices.",
	"session_revoked":   "The device was signed out.",
	"mfa_reset":         "Two-step verification was turned off and the user signed out everywhere.",
	"passkeys_removed":  "The user's passkeys were removed and the user signed out everywhere.",
	"locked":            "The account is locked and signed out everywhere.",
	"unlocked":          "The account can be used again.",
	"throttles_cleared": "The sign-in limits were cleared.",
	"disabled":          "The account is disabled and signed out everywhere.",
	"roles_changed":     "The roles were changed.",
	"groups_changed":    "The groups were changed.",
}

// showStaffUser is one user's page in the console.
func (h *Handler) showStaffUser(w http.ResponseWriter, r *http.Request, a *staffActor) {
	u, err := h.Store.FindUserByName(r.Context(), r.PathValue("name"))
	if errors.Is(err, store.ErrNotFound) {
		h.ErrorPage(w, r, http.StatusNotFound, "user_not_found", "No such user", "There is no user with this name.")
		return
	}
	if err != nil {
		h.Log.Error("console user page", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	h.renderStaffUser(w, r, a, u, http.StatusOK, consoleNotices[r.URL.Query().Get("m")], "")
}

// renderStaffUser draws a user's page, with a notice or an error on top.
func (h *Handler) renderStaffUser(w http.ResponseWriter, r *http.Request, a *staffActor, u *store.User, status int, notice, errMsg string) {
	ctx := r.Context()
	sessions, err := h.Store.FindSessions(ctx, u.ID)
	var events []store.Event
	if err == nil {
		events, err = h.Store.FindEvents(ctx, u.ID, 50)
	}
	var throttles []store.ThrottleState
	if err == nil {
		throttles, err = h.Store.FindUserThrottles(ctx, u)
	}
	passkeys := 0
	if err == nil {
		passkeys, err = h.Store.CountPasskeys(ctx, u.ID)
	}
	if err != nil {
		h.Log.Error("console user page", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	page := templates.ConsoleUserPage{
		Chrome: h.consoleChrome(a, u.Username+" — Support console"), Nav: h.consoleNav(a, ""),
		CanAct: mayActOn(a, u, nil) == nil, Self: a.UserID == u.ID,
		Notice: notice, Error: errMsg, Path: h.consoleUserPath(u.Username),
		User: templates.ConsoleUserInfo{
			Username: u.Username, Email: u.Email, Roles: strings.Join(u.Roles, ", "), Created: consoleTime(u.Created),
			Groups: strings.Join(u.Groups, ", "), EmailState: consoleEmailState(u),
			MFAEnabled: u.MFAEnabled, RecoveryLeft: len(u.RecoveryCodes), Status: staffUserStatus(u), StatusText: staffUserStatusText(u), Passkeys: passkeys,
			Locked: u.Disabled && u.Lock == store.LockStaff, Disabled: u.Disabled && u.Lock != store.LockStaff,
		},
		Sessions: h.consoleSessions(sessions), Events: consoleEvents(events),
		Throttles: consoleThrottles(throttles), RoleChoices: consoleRoleChoices(u.Roles),
	}
	h.Render(w, r, status, templates.ConsoleUser(page))
}

// submitConsoleAction runs a staff action from a form on a user's page.
// Success redirects back to the page (or, for a reset link, shows the link
// once); a refusal shows the page again with the reason for it.
func (h *Handler) submitConsoleAction(act *staffAction) func(http.ResponseWriter, *http.Request, *staffActor) {
	return func(w http.ResponseWriter, r *http.Request, a *staffActor) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			h.ErrorPage(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The form could not be read.")
			return
		}
		// Handing out staff powers outlives this session: confirm it's them.
		if !h.checkRecentSignIn(w, r, a, act) {
			return
		}
		in := &actionInput{Reason: r.PostForm.Get("reason"), SessionID: r.PathValue("id"), Roles: r.PostForm["role"], w: w, r: r}
		if v, ok := r.PostForm["groups"]; ok {
			in.Groups = splitGroupsField(strings.Join(v, ","))
		}
		u, res, aerr := h.runAction(a, act, in)
		if aerr != nil {
			if u == nil || aerr.status == http.StatusServiceUnavailable {
				h.ErrorPage(w, r, aerr.status, aerr.code, "Not done", aerr.msg)
				return
			}
			if fresh, err := h.Store.FindUserByID(r.Context(), u.ID); err == nil {
				u = fresh
			}
			h.renderStaffUser(w, r, a, u, aerr.status, "", aerr.msg)
			return
		}
		if res.link != nil {
			h.Render(w, r, http.StatusOK, templates.ConsoleLink(templates.ConsoleLinkPage{
				Chrome: h.consoleChrome(a, "Reset link — Support console"), Nav: h.consoleNav(a, ""),
				Username: u.Username, URL: res.link.URL, Expires: consoleTime(res.link.Expires),
				UserPath: h.consoleUserPath(u.Username),
			}))
			return
		}
		http.Redirect(w, r, h.consoleUserPath(u.Username)+"?m="+res.notice, http.StatusSeeOther)
	}
}

// consoleEmailState tells staff whether alerts reach the address: one the
// person confirmed or one staff set (both used), and a change waiting for
// its confirmation link (not used yet).
func consoleEmailState(u *store.User) string {
	s := "set by staff, not confirmed by the person"
	if !u.EmailConfirmed.IsZero() {
		s = "confirmed by the person on " + consoleTime(u.EmailConfirmed)
	}
	if u.Email == "" {
		s = "none: no alerts"
	}
	if u.EmailPending != "" {
		s += "; change to " + u.EmailPending + " waiting for confirmation"
	}
	return s
}
