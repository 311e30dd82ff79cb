package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authgate/gateway/store"
)

// maxStaffReason is the longest reason staff may write, in characters.
const maxStaffReason = 500

// staffAction is something staff do to one user's account. The console
// pages and the staff API run the same actions through runAction, so both
// get the same checks and the same records.
type staffAction struct {
	audit   string // the audit log's name for it
	admin   bool   // admins only
	notSelf bool   // nobody may do it to their own account (no locking yourself out)
	run     func(h *Handler, ctx context.Context, a *staffActor, u *store.User, in *actionInput) (*actionResult, *actionError)
}

// actionInput is what a request supplies to an action.
type actionInput struct {
	Reason    string
	SessionID string   // actRevokeSession
	Roles     []string // actRoles
	w         http.ResponseWriter
	r         *http.Request
}

// actionResult is what an action did, for the records and the answer.
type actionResult struct {
	eventType string // the user's activity entry
	text      string // for the user, without the actor and the reason
	detail    string // for the audit log
	notice    string // what the console page says afterwards
	link      *issuedLink
}

// issuedLink is a reset link made for someone, shown once.
type issuedLink struct {
	URL     string
	Expires time.Time
}

// actionError is a refusal with a status, a stable code and a message for
// people; it never carries internal detail.
type actionError struct {
	status int
	code   string
	msg    string
}

func staffRefuse(status int, code, msg string) *actionError {
	return &actionError{status: status, code: code, msg: msg}
}

var errStaffUnavailable = staffRefuse(http.StatusServiceUnavailable, "unavailable", "The account service is unavailable right now. Please try again in a few seconds.")

// cleanReason normalises a written reason: control characters become
// spaces, runs of space collapse, and it must be 1 to maxStaffReason characters.
func cleanReason(s string) (string, *actionError) {
	s = strings.ToValidUTF8(s, "")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if s == "" {
		return "", staffRefuse(http.StatusUnprocessableEntity, "reason_required",
			"Write a reason: it goes into the audit log and the user sees it in their account activity.")
	}
	if utf8.RuneCountInString(s) > maxStaffReason {
		return "", staffRefuse(http.StatusUnprocessableEntity, "reason_too_long", "Keep the reason to 500 characters or fewer.")
	}
	return s, nil
}

// runAction performs act on the user named in the path after every check,
// then writes the audit log and the user's own activity.
func (h *Handler) runAction(a *staffActor, act *staffAction, in *actionInput) (*store.User, *actionResult, *actionError) {
	r := in.r
	if act.admin && !a.isAdmin() {
		return nil, nil, staffRefuse(http.StatusForbidden, "forbidden", "Only admins can do this.")
	}
	// The action must finish (and be recorded) even if the client goes away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	u, err := h.Store.FindUserByName(ctx, r.PathValue("name"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, staffRefuse(http.StatusNotFound, "user_not_found", "There is no user with this name.")
	}
	if err != nil {
		h.Log.Error("staff action: find user", "err", err.Error())
		return nil, nil, errStaffUnavailable
	}
	if aerr := h.mayActOn(a, u, act); aerr != nil {
		return u, nil, aerr
	}
	reason, aerr := cleanReason(in.Reason)
	if aerr != nil {
		return u, nil, aerr
	}
	res, aerr := act.run(h, ctx, a, u, in)
	if aerr != nil {
		return u, nil, aerr
	}
	h.recordStaffAction(ctx, a, in.r, store.AuditEntry{
		Action: act.audit, Target: u.Username, TargetID: u.ID, Reason: reason, Detail: res.detail,
	}, u.ID, store.Event{Type: res.eventType, Detail: a.label() + " " + res.text + ": " + reason})
	return u, res, nil
}

// mayActOn refuses support acting on admins, and anyone doing a notSelf
// action to their own account.
func (h *Handler) mayActOn(a *staffActor, u *store.User, act *staffAction) *actionError {
	if u.HasRole(store.RoleAdmin) && !a.isAdmin() {
		return staffRefuse(http.StatusForbidden, "forbidden", "Support staff cannot act on an admin's account; ask an admin.")
	}
	if act.notSelf && a.UserID != "" && a.UserID == u.ID {
		return staffRefuse(http.StatusForbidden, "self_action", "You cannot do this to your own account; ask another admin.")
	}
	return nil
}

// handsOverStaffAccount names act when, done by a's session on the user
// named in the path, it needs a recent sign-in ("" when not): a reset link
// for a staff account, or its 2FA turned off, hands that account (and its
// powers) to whoever holds the link or knows the password, beyond this
// session, as an API token or a role change does. Plain users are helped
// without asking; tokens have no password to enter.
func (h *Handler) handsOverStaffAccount(r *http.Request, a *staffActor, act *staffAction) string {
	what := map[*staffAction]string{
		actResetLink: "create a reset link for a staff account",
		actResetMFA:  "reset a staff account's two-step verification",
	}[act]
	if what == "" || a.p == nil || h.recent(a.p) {
		return ""
	}
	u, err := h.Store.FindUserByName(r.Context(), r.PathValue("name"))
	if err != nil || !u.IsStaff() {
		return "" // a failed look-up fails again, and answers, in runAction
	}
	return what
}

// recordStaffAction writes the audit entry and, when uid is set, the
// user's activity entry. The action has already happened, so a failure is
// logged with everything the entry held rather than undoing it.
func (h *Handler) recordStaffAction(ctx context.Context, a *staffActor, r *http.Request, e store.AuditEntry, uid string, ev store.Event) {
	e.Actor, e.ActorRole, e.IP = a.auditName(), a.Role, h.ClientIP(r)
	if a.Token != nil {
		e.TokenID = a.Token.ID
	}
	if err := h.Store.AppendAudit(ctx, e); err != nil {
		h.Log.Error("audit entry not written", "err", err.Error(), "actor", e.Actor, "action", e.Action,
			"target", e.Target, "reason", e.Reason, "client_ip", e.IP, "detail", e.Detail)
	}
	h.Log.Info("staff_action", "actor", e.Actor, "action", e.Action, "target", e.Target, "client_ip", e.IP)
	if uid == "" {
		return
	}
	// Staff act from their own machines: the user's page shows who did it,
	// not the staff member's address or browser.
	ev.Actor = a.eventActor()
	if err := h.Store.AppendEvent(ctx, uid, ev); err != nil {
		h.Log.Error("activity entry not written", "err", err.Error(), "type", ev.Type, "actor", ev.Actor)
	}
}
