package console

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
)

// The staff actions. Each says what it changes; runAction does the checks
// and the records around it. A reset link, a 2FA reset or lifted limits on
// one's own account would let a stolen staff session replace the password
// and the authenticator (or guess the password) without proving anything,
// so those are refused on oneself too.
var (
	actSignOutAll     = &staffAction{audit: store.AuditSignOutAll, run: (*Handler).doSignOutAll}
	actRevokeSession  = &staffAction{audit: store.AuditSessionRevoke, run: (*Handler).doRevokeSession}
	actResetMFA       = &staffAction{audit: store.AuditMFAReset, notSelf: true, run: (*Handler).doResetMFA}
	actLock           = &staffAction{audit: store.AuditLock, notSelf: true, run: (*Handler).doLock}
	actUnlock         = &staffAction{audit: store.AuditUnlock, notSelf: true, run: (*Handler).doUnlock}
	actClearThrottles = &staffAction{audit: store.AuditThrottleClear, notSelf: true, run: (*Handler).doClearThrottles}
	actResetLink      = &staffAction{audit: store.AuditResetLink, notSelf: true, run: (*Handler).doResetLink}
	actDisable        = &staffAction{audit: store.AuditDisable, admin: true, notSelf: true, run: (*Handler).doDisable}
	actRoles          = &staffAction{audit: store.AuditRolesChange, admin: true, notSelf: true, reauth: "change someone's roles", run: (*Handler).doRoles}
	actGroups         = &staffAction{audit: store.AuditGroupsChange, admin: true, notSelf: true, reauth: "change someone's groups", run: (*Handler).doGroups}
)

// staffSignOut ends every session of u at once, on every replica; the
// person is told why (code, with staff's reason) on their next page.
func (h *Handler) staffSignOut(ctx context.Context, in *actionInput, u *store.User, code string) *actionError {
	why := store.EndReason{Code: code, Text: in.Reason}
	if err := h.Sessions.SignOutEverywhere(ctx, in.w, u.ID, nil, h.ClientIP(in.r), in.r.UserAgent(), why); err != nil {
		h.Log.Error("staff sign-out everywhere", "err", err.Error())
		if errors.Is(err, store.ErrNotReplicated) {
			return errStaffNotReplicated
		}
		return errStaffUnavailable
	}
	return nil
}

// staffUpdate changes u and makes this replica see it at once (others learn it
// from the feed).
func (h *Handler) staffUpdate(ctx context.Context, u *store.User, upd store.UserUpdate) *actionError {
	if err := h.Store.UpdateUser(ctx, u.ID, upd); err != nil {
		h.Log.Error("staff update user", "err", err.Error())
		return errStaffUnavailable
	}
	h.Sessions.InvalidateUser(u.ID)
	return nil
}

func (h *Handler) doSignOutAll(ctx context.Context, _ *staffActor, u *store.User, in *actionInput) (*actionResult, *actionError) {
	if aerr := h.staffSignOut(ctx, in, u, store.EndByStaff); aerr != nil {
		return nil, aerr
	}
	return &actionResult{eventType: store.EventSignOutAll, text: "signed you out of all devices",
		notice: "signed_out"}, nil
}

func (h *Handler) doRevokeSession(ctx context.Context, _ *staffActor, u *store.User, in *actionInput) (*actionResult, *actionError) {
	sess, err := h.Store.FindSession(ctx, u.ID, in.SessionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.UserID != u.ID) {
		return nil, staffRefuse(http.StatusNotFound, "session_not_found", "This device is not signed in any more.")
	}
	if err == nil {
		err = h.Sessions.RevokeByID(ctx, u.ID, sess.ID, store.EndReason{Code: store.EndByStaff, Text: in.Reason})
	}
	if err != nil {
		h.Log.Error("staff revoke session", "err", err.Error())
		return nil, errStaffUnavailable
	}
	device := web.DeviceLabel(sess.UserAgent)
	return &actionResult{eventType: store.EventSessionRevoked, text: "signed out your device " + device,
		detail: "session " + sess.ID + " (" + device + ", " + sess.IP + ")", notice: "session_revoked"}, nil
}

func (h *Handler) doResetMFA(ctx context.Context, _ *staffActor, u *store.User, in *actionInput) (*actionResult, *actionError) {
	off, none := false, []string{}
	empty := ""
	if aerr := h.staffUpdate(ctx, u, store.UserUpdate{MFASecret: &empty, MFAEnabled: &off, RecoveryCodes: &none}); aerr != nil {
		return nil, aerr
	}
	if aerr := h.staffSignOut(ctx, in, u, store.EndMFAChanged); aerr != nil {
		return nil, aerr
	}
	return &actionResult{eventType: store.EventMFADisabled,
		text: "turned off two-step verification and signed you out of all devices", notice: "mfa_reset"}, nil
}

func (h *Handler) doLock(ctx context.Context, _ *staffActor, u *store.User, in *actionInput) (*actionResult, *actionError) {
	if u.Disabled {
		// Re-locking would turn an admin's disable into a lock support may lift.
		return nil, staffRefuse(http.StatusConflict, "already_locked", "This account is already locked or disabled.")
	}
	on, kind := true, store.LockStaff
	if aerr := h.staffUpdate(ctx, u, store.UserUpdate{Disabled: &on, Lock: &kind}); aerr != nil {
		return nil, aerr
	}
	if aerr := h.staffSignOut(ctx, in, u, store.EndLocked); aerr != nil {
		return nil, aerr
	}
	return &actionResult{eventType: store.EventLocked, detail: h.retireTokens(ctx, u, u.Roles, true),
		text: "locked your account and signed you out of all devices", notice: "locked"}, nil
}

func (h *Handler) doUnlock(ctx context.Context, a *staffActor, u *store.User, _ *actionInput) (*actionResult, *actionError) {
	if !u.Disabled {
		return nil, staffRefuse(http.StatusConflict, "not_locked", "This account is not locked.")
	}
	byAdmin := u.Lock != store.LockStaff
	if byAdmin && !a.isAdmin() {
		return nil, staffRefuse(http.StatusForbidden, "forbidden", "An admin disabled this account; only an admin can enable it.")
	}
	off, none := false, ""
	if aerr := h.staffUpdate(ctx, u, store.UserUpdate{Disabled: &off, Lock: &none}); aerr != nil {
		return nil, aerr
	}
	text := "unlocked your account"
	if byAdmin {
		text = "enabled your account again"
	}
	return &actionResult{eventType: store.EventUnlocked, text: text, notice: "unlocked"}, nil
}

func (h *Handler) doClearThrottles(ctx context.Context, _ *staffActor, u *store.User, _ *actionInput) (*actionResult, *actionError) {
	if err := h.Store.ResetUserThrottles(ctx, u); err != nil {
		h.Log.Error("staff clear throttles", "err", err.Error())
		return nil, errStaffUnavailable
	}
	return &actionResult{eventType: store.EventStaffAction,
		text: "cleared the limits on failed sign-in attempts for your account", notice: "throttles_cleared"}, nil
}

func (h *Handler) doResetLink(ctx context.Context, a *staffActor, u *store.User, in *actionInput) (*actionResult, *actionError) {
	link, aerr := h.issueResetLink(ctx, in.r, a, u)
	if aerr != nil {
		return nil, aerr
	}
	return &actionResult{eventType: store.EventResetLink,
		text:   "created a one-time link for you to set a new password (it works once, for 24 hours)",
		detail: "expires " + link.Expires.Format(consoleTimeLayout), link: link}, nil
}

// issueResetLink makes a link and its absolute URL, on the portal
// (portal_url), where the reset page is served; without a portal, on the
// host the staff member reached the console on.
func (h *Handler) issueResetLink(ctx context.Context, r *http.Request, a *staffActor, u *store.User) (*issuedLink, *actionError) {
	tok, link, err := h.Store.CreateResetLink(ctx, u.ID, a.auditName(), store.ResetLinkTTL)
	if err != nil {
		h.Log.Error("create reset link", "err", err.Error())
		return nil, errStaffUnavailable
	}
	origin := "http://" + r.Host
	if r.TLS != nil || h.Config.Cookie.Secure {
		origin = "https://" + r.Host
	}
	if h.Config.HasPortal() {
		origin = h.Config.Portal.String()
	}
	return &issuedLink{URL: origin + h.Prefix + "/reset?token=" + tok, Expires: link.Expires}, nil
}

func (h *Handler) doDisable(ctx context.Context, _ *staffActor, u *store.User, in *actionInput) (*actionResult, *actionError) {
	if u.Disabled && u.Lock != store.LockStaff {
		return nil, staffRefuse(http.StatusConflict, "already_disabled", "This account is already disabled.")
	}
	on, kind := true, store.LockAdmin
	if aerr := h.staffUpdate(ctx, u, store.UserUpdate{Disabled: &on, Lock: &kind}); aerr != nil {
		return nil, aerr
	}
	if aerr := h.staffSignOut(ctx, in, u, store.EndDisabled); aerr != nil {
		return nil, aerr
	}
	return &actionResult{eventType: store.EventDisabled, detail: h.retireTokens(ctx, u, u.Roles, true),
		text: "disabled your account and signed you out of all devices", notice: "disabled"}, nil
}

func (h *Handler) doRoles(ctx context.Context, _ *staffActor, u *store.User, in *actionInput) (*actionResult, *actionError) {
	var roles []string
	for _, r := range in.Roles {
		r = strings.TrimSpace(r)
		if !store.ValidRole(r) {
			return nil, staffRefuse(http.StatusUnprocessableEntity, "invalid_role", "Roles are user, support and admin.")
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	if len(roles) == 0 {
		return nil, staffRefuse(http.StatusUnprocessableEntity, "roles_required", "Choose at least one role.")
	}
	slices.Sort(roles)
	// A reset link made earlier (perhaps by support, for a plain user) must
	// not open an account that now holds other roles: retire it first.
	if err := h.Store.RetireResetLink(ctx, u.ID); err != nil {
		h.Log.Error("roles change: retire reset link", "err", err.Error())
		return nil, errStaffUnavailable
	}
	if aerr := h.staffUpdate(ctx, u, store.UserUpdate{Roles: roles}); aerr != nil {
		return nil, aerr
	}
	list := strings.Join(roles, ", ")
	detail := "roles " + strings.Join(u.Roles, ", ") + " → " + list
	if retired := h.retireTokens(ctx, u, roles, u.Disabled); retired != "" {
		detail += "; " + retired
	}
	return &actionResult{eventType: store.EventStaffAction, text: "changed your roles to " + list,
		detail: detail, notice: "roles_changed"}, nil
}

// retireTokens revokes the API tokens u owns that u, with roles and
// disabled as just written, no longer covers, so they stay dead if u is
// restored later, and says which for the audit entry ("" when none). On
// failure the tokens are still refused on every call (the owner check in
// staffFromToken); only their permanence is lost, which is logged.
func (h *Handler) retireTokens(ctx context.Context, u *store.User, roles []string, disabled bool) string {
	gone, err := h.Store.RetireAPITokensOf(ctx, &store.UserState{ID: u.ID, Roles: roles, Disabled: disabled})
	if err != nil {
		h.Log.Error("retire api tokens of a changed owner", "err", err.Error(), "owner", u.Username)
	}
	if len(gone) == 0 {
		return ""
	}
	names := make([]string, 0, len(gone))
	for _, t := range gone {
		names = append(names, "“"+t.Name+"” (id "+t.ID+")")
	}
	return "revoked their API tokens " + strings.Join(names, ", ")
}

// doGroups replaces u's groups with in.Groups (checked and made canonical
// by store.CleanGroups). Every replica sees the change through the feed,
// as with roles: the next request carries the new groups.
func (h *Handler) doGroups(ctx context.Context, _ *staffActor, u *store.User, in *actionInput) (*actionResult, *actionError) {
	if in.Groups == nil {
		return nil, staffRefuse(http.StatusUnprocessableEntity, "groups_required", `Send the whole new list of groups ("groups": [] removes them all).`)
	}
	groups, err := store.CleanGroups(in.Groups)
	if err != nil {
		return nil, staffRefuse(http.StatusUnprocessableEntity, "invalid_group", err.Error()+".")
	}
	if aerr := h.staffUpdate(ctx, u, store.UserUpdate{Groups: &groups}); aerr != nil {
		return nil, aerr
	}
	list := strings.Join(groups, ", ")
	if list == "" {
		list = "none"
	}
	old := strings.Join(u.Groups, ", ")
	if old == "" {
		old = "none"
	}
	return &actionResult{eventType: store.EventStaffAction, text: "changed your groups to " + list,
		detail: "groups " + old + " → " + list, notice: "groups_changed"}, nil
}

// splitGroupsField reads the console's groups field: names separated by
// commas or white space. An empty field is an empty list (no groups).
func splitGroupsField(s string) []string {
	out := []string{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		out = append(out, f)
	}
	return out
}
