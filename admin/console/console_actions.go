package console

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authgate/gateway/admin/web"
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
	// reauth names the action when it always needs a person who entered
	// their password recently (see needsRecentSignIn), e.g. a role change.
	reauth string
	run    func(h *Handler, ctx context.Context, a *staffActor, u *store.User, in *actionInput) (*actionResult, *actionError)
}

// actionInput is what a request supplies to an action.
type actionInput struct {
	Reason    string
	SessionID string   // actRevokeSession
	Roles     []string // actRoles
	Groups    []string // actGroups: the whole new list; nil when not sent
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

var errStaffNotReplicated = staffRefuse(http.StatusServiceUnavailable, store.CodeNotReplicated, store.MsgNotReplicated)

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
	if aerr := mayActOn(a, u, act); aerr != nil {
		return u, nil, aerr
	}
	reason, aerr := cleanReason(in.Reason)
	if aerr != nil {
		return u, nil, aerr
	}
	in.Reason = reason // as the person will read it after a sign-out
	res, aerr := act.run(h, ctx, a, u, in)
	if aerr != nil {
		return u, nil, aerr
	}
	h.recordStaffAction(ctx, a, in.r, store.AuditEntry{
		Action: act.audit, Target: u.Username, TargetID: u.ID, Reason: reason, Detail: res.detail,
	}, u.ID, store.Event{Type: res.eventType, Detail: a.label() + " " + res.text + ": " + reason})
	return u, res, nil
}

// mayActOn is the one rule of who may act on whose account, applied to
// every staff action, console and API alike, before it runs (and to what
// a user's console page offers, with act nil):
//   - anyone may act on their own account, except for the notSelf
//     actions (403 self_action), which would let a stolen staff session
//     replace the password or authenticator, or lock its owner out;
//   - accounts with a support or admin role are acted on by admins only
//     (403 forbidden): support cannot sign out, lock, unlock, reset the 2FA
//     of, clear the limits of or make a reset link for another staff member;
//   - an API token, whatever its role, never acts on a support or admin
//     account: that needs a person who signed in recently, in the console
//     (403 reauth_required).
func mayActOn(a *staffActor, u *store.User, act *staffAction) *actionError {
	if a.UserID != "" && a.UserID == u.ID {
		if act != nil && act.notSelf {
			return staffRefuse(http.StatusForbidden, "self_action", "You cannot do this to your own account; ask another admin.")
		}
		return nil
	}
	if !u.IsStaff() {
		return nil
	}
	if !a.isAdmin() {
		return staffRefuse(http.StatusForbidden, "forbidden", "Only an admin can act on a support or admin account; ask an admin.")
	}
	if a.Token != nil {
		return errTokenNeedsPerson
	}
	return nil
}

// errTokenNeedsPerson refuses an API token what needs a recent sign-in.
var errTokenNeedsPerson = staffRefuse(http.StatusForbidden, "reauth_required",
	"API tokens cannot do this: it needs a person who signed in recently. Do it in the support console.")

// needsRecentSignIn names act when, done by a on the user named in the
// path, it needs a person who entered their password within
// session.reauth_window ("" when not): an action marked reauth (a role
// change), and a reset link or 2FA reset for a staff account, which hand
// that account (and its powers) to whoever holds the link or knows the
// password, beyond this session. Plain users are helped without asking.
// An action the rule of mayActOn refuses anyway is not asked about.
func (h *Handler) needsRecentSignIn(r *http.Request, a *staffActor, act *staffAction) string {
	if act.reauth != "" {
		return act.reauth
	}
	what := map[*staffAction]string{
		actResetLink:      "create a reset link for a staff account",
		actResetMFA:       "reset a staff account's two-step verification",
		actRemovePasskeys: "remove a staff account's passkeys",
	}[act]
	if what == "" {
		return ""
	}
	u, err := h.Store.FindUserByName(r.Context(), r.PathValue("name"))
	if err != nil || !u.IsStaff() || mayActOn(a, u, act) != nil {
		return "" // a failed look-up or a refusal fails again, and answers, in runAction
	}
	return what
}

// checkRecentSignIn lets act go ahead when it needs no recent sign-in, or
// the session's is recent (or the console's password prompt confirmed
// it). Otherwise it has answered: API tokens get 403 reauth_required (they
// have no password to enter), sessions what RequireRecentAuth answers.
func (h *Handler) checkRecentSignIn(w http.ResponseWriter, r *http.Request, a *staffActor, act *staffAction) bool {
	what := h.needsRecentSignIn(r, a, act)
	if what == "" {
		return true
	}
	if a.p == nil {
		web.WriteJSONError(w, errTokenNeedsPerson.status, errTokenNeedsPerson.code, errTokenNeedsPerson.msg)
		return false
	}
	return h.RequireRecentAuth(w, r, a.p, what)
}

// recordStaffAction writes the audit entry and, when uid is set, the
// user's activity entry. The action has already happened, so a failure is
// logged with everything the entry held rather than undoing it.
func (h *Handler) recordStaffAction(ctx context.Context, a *staffActor, r *http.Request, e store.AuditEntry, uid string, ev store.Event) {
	e.Actor, e.ActorRole, e.IP = a.auditName(), a.Role, h.ClientIP(r)
	if a.Token != nil {
		e.TokenID, e.TokenOwner = a.Token.ID, a.Token.CreatedBy
	}
	if err := h.Store.AppendAudit(ctx, e); err != nil {
		h.Log.Error("audit entry not written", "err", err.Error(), "actor", e.Actor, "action", e.Action,
			"target", e.Target, "reason", e.Reason, "client_ip", e.IP, "detail", e.Detail)
	}
	h.Log.Info("staff_action", "actor", e.Actor, "token_owner", e.TokenOwner, "action", e.Action, "target", e.Target, "client_ip", e.IP)
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
