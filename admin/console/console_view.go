package console

import (
	"net/url"
	"strings"
	"time"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// consoleTimeLayout is how the console writes times: UTC, to the minute, the
// same for every staff member whatever their time zone.
const consoleTimeLayout = "2006-01-02 15:04 UTC"

func consoleTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(consoleTimeLayout)
}

// consoleChrome is the page frame for a staff member.
func (h *Handler) consoleChrome(a *staffActor, title string) templates.Chrome {
	return h.Chrome(a.p, title)
}

func (h *Handler) consoleNav(a *staffActor, current string) templates.ConsoleNav {
	return templates.ConsoleNav{Admin: a.isAdmin(), Current: current}
}

// consoleUserPath is a user's console page.
func (h *Handler) consoleUserPath(username string) string {
	return h.Prefix + "/admin/users/" + url.PathEscape(username)
}

// staffUserStatus names the account state for staff.
func staffUserStatus(u *store.User) string {
	switch {
	case !u.Disabled:
		return "Active"
	case u.Lock == store.LockStaff:
		return "Locked"
	}
	return "Disabled"
}

// staffUserStatusText says the account state in words, with who may lift
// a lock: a lock by support and a disable by an admin are different things
// and are never called by each other's name.
func staffUserStatusText(u *store.User) string {
	switch {
	case !u.Disabled:
		return "Active"
	case u.Lock == store.LockStaff:
		return "Locked by support (support or an admin can unlock it)"
	}
	return "Disabled by an admin (only an admin can enable it)"
}

// auditActionLabels say what each audit action did, as staff read it.
var auditActionLabels = map[string]string{
	store.AuditSignOutAll:     "Signed out of all devices",
	store.AuditSessionRevoke:  "Signed out one device",
	store.AuditMFAReset:       "Reset two-step verification",
	store.AuditPasskeysRemove: "Removed the passkeys",
	store.AuditLock:           "Locked the account",
	store.AuditUnlock:         "Unlocked or enabled the account",
	store.AuditThrottleClear:  "Cleared the sign-in limits",
	store.AuditResetLink:      "Created a password reset link",
	store.AuditResetUsed:      "Used a password reset link",
	store.AuditUserCreate:     "Created the account",
	store.AuditRolesChange:    "Changed the roles",
	store.AuditGroupsChange:   "Changed the groups",
	store.AuditDisable:        "Disabled the account",
	store.AuditTokenCreate:    "Created an API token",
	store.AuditTokenRevoke:    "Revoked an API token",
	// The person, from the link in an alert mail: every session ended.
	store.AuditAccountSecured: "Secured the account (“This wasn't me”)",
	store.AuditOutboxRequeue:  "Sent a given-up message again",
}

// auditActionLabel is an action in words; an action this version does not
// know (written by a newer one) is shown readably rather than hidden.
func auditActionLabel(action string) string {
	if l, ok := auditActionLabels[action]; ok {
		return l
	}
	return strings.ReplaceAll(action, "_", " ")
}

// auditActionChoices are the options of the audit log's action filter.
func auditActionChoices() []templates.ConsoleChoice {
	out := make([]templates.ConsoleChoice, 0, len(store.AuditActions))
	for _, a := range store.AuditActions {
		out = append(out, templates.ConsoleChoice{Value: a, Label: auditActionLabel(a)})
	}
	return out
}

// auditRows are audit entries as the console shows them.
func auditRows(entries []store.AuditEntry) []templates.ConsoleAuditRow {
	out := make([]templates.ConsoleAuditRow, 0, len(entries))
	for _, e := range entries {
		out = append(out, templates.ConsoleAuditRow{
			Time: consoleTime(e.Time), Actor: e.Actor, Role: e.ActorRole, TokenOwner: e.TokenOwner,
			Action: auditActionLabel(e.Action), Target: e.Target, Reason: e.Reason, IP: e.IP, Detail: e.Detail,
		})
	}
	return out
}

// consoleEventLabels name activity entries for staff.
var consoleEventLabels = map[string]string{
	store.EventSignIn:            "Signed in",
	store.EventSignInFailed:      "Failed sign-in",
	store.EventSignOut:           "Signed out",
	store.EventSessionRevoked:    "Device signed out",
	store.EventSignOutAll:        "Signed out everywhere",
	store.EventPasswordChanged:   "Password changed",
	store.EventMFAEnabled:        "Two-step verification on",
	store.EventMFADisabled:       "Two-step verification off",
	store.EventMFAFailed:         "Wrong verification code",
	store.EventRecoveryUsed:      "Recovery code used",
	store.EventRecoveryRenewed:   "New recovery codes",
	store.EventNewDevice:         "New device",
	store.EventLocked:            "Account locked",
	store.EventUnlocked:          "Account unlocked",
	store.EventDisabled:          "Account disabled",
	store.EventResetLink:         "Reset link created",
	store.EventThrottled:         "Sign-in attempts limited",
	store.EventStaffAction:       "Staff action",
	store.EventAccountSecured:    "Secured (\"This wasn't me\")",
	store.EventResetRequested:    "Reset link asked for",
	store.EventEmailChanged:      "E-mail changed",
	store.EventEmailChangeAsked:  "E-mail confirmation sent",
	store.EventAlertsChanged:     "Alert choices changed",
	store.EventIdentityConfirmed: "Identity confirmed",
	store.EventPasskeyAdded:      "Passkey added",
	store.EventPasskeyRemoved:    "Passkey removed",
	store.EventPasskeyWarning:    "Passkey may have been copied",
}

func consoleEventLabel(t string) string {
	if l, ok := consoleEventLabels[t]; ok {
		return l
	}
	return strings.ReplaceAll(t, "_", " ")
}

func consoleEvents(events []store.Event) []templates.ConsoleEvent {
	out := make([]templates.ConsoleEvent, 0, len(events))
	for _, e := range events {
		ce := templates.ConsoleEvent{Time: consoleTime(e.Time), What: consoleEventLabel(e.Type), Detail: e.Detail, IP: e.IP, Actor: e.Actor}
		if e.Device != "" {
			ce.Device = web.DeviceLabel(e.Device)
		}
		out = append(out, ce)
	}
	return out
}

func (h *Handler) consoleSessions(sessions []*store.Session) []templates.ConsoleSession {
	out := make([]templates.ConsoleSession, 0, len(sessions))
	for _, s := range sessions {
		out = append(out, templates.ConsoleSession{
			ID: s.ID, Device: web.DeviceLabel(s.UserAgent), Name: s.Name, IP: s.IP, Place: h.Places.Lookup(s.IP),
			Created: consoleTime(s.Created), LastSeen: consoleTime(s.LastSeen),
		})
	}
	return out
}

// consoleThrottleLabel names a brute-force counter by its key.
func consoleThrottleLabel(key string) string {
	switch {
	case strings.HasPrefix(key, "mfa:"):
		return "Verification code attempts"
	case strings.HasPrefix(key, "pw:name:"):
		return "Password attempts (by username)"
	}
	return "Password attempts"
}

func consoleThrottles(ts []store.ThrottleState) []templates.ConsoleThrottle {
	out := make([]templates.ConsoleThrottle, 0, len(ts))
	for _, t := range ts {
		out = append(out, templates.ConsoleThrottle{What: consoleThrottleLabel(t.Key), Fails: t.Fails, Until: consoleTime(t.Until)})
	}
	return out
}

// consoleRoleChoices are the role checkboxes, ticked for roles.
func consoleRoleChoices(roles []string) []templates.ConsoleRoleChoice {
	var out []templates.ConsoleRoleChoice
	for _, r := range []string{store.RoleUser, store.RoleSupport, store.RoleAdmin} {
		c := templates.ConsoleRoleChoice{Name: r}
		for _, have := range roles {
			c.Checked = c.Checked || have == r
		}
		out = append(out, c)
	}
	return out
}
