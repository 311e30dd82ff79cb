package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// tokenNotices are the messages after a token action (by key, as for users).
var tokenNotices = map[string]string{"revoked": "The token was revoked; calls with it fail from now on."}

// showTokens lists the API tokens (never their secrets).
func (h *Handler) showTokens(w http.ResponseWriter, r *http.Request, a *staffActor) {
	h.renderTokens(w, r, a, http.StatusOK, templates.ConsoleTokensPage{Notice: tokenNotices[r.URL.Query().Get("m")]})
}

func (h *Handler) renderTokens(w http.ResponseWriter, r *http.Request, a *staffActor, status int, page templates.ConsoleTokensPage) {
	tokens, err := h.Store.FindAPITokens(r.Context())
	if err != nil {
		h.Log.Error("list api tokens", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	page.Chrome, page.Nav = h.consoleChrome(a, "API tokens — Support console"), h.consoleNav(a, "tokens")
	page.DefaultDays, page.MaxDays = int(store.APITokenDefaultTTL/day), int(store.APITokenMaxTTL/day)
	for _, t := range tokens {
		used := "never"
		if !t.LastUsed.IsZero() {
			used = consoleTime(t.LastUsed)
		}
		row := templates.ConsoleTokenRow{
			ID: t.ID, Name: t.Name, Role: t.Role, CreatedBy: t.CreatedBy, Created: consoleTime(t.Created),
			LastUsed: used, RevokePath: h.Prefix + "/admin/tokens/" + url.PathEscape(t.ID) + "/revoke",
		}
		row.Expires, row.DaysLeft, row.Dead = h.tokenStanding(r, t)
		page.Tokens = append(page.Tokens, row)
	}
	h.Render(w, r, status, templates.ConsoleTokens(page))
}

const day = 24 * time.Hour

// tokenStanding says, for the list, when t expires and whether calls with it
// work now, by the same rules as staffFromToken.
func (h *Handler) tokenStanding(r *http.Request, t *store.APIToken) (expires, left string, dead bool) {
	if t.OwnerID == "" || t.Expires.IsZero() {
		return "—", "refused: made before tokens had owners; revoke it", true
	}
	expires = consoleTime(t.Expires)
	remain := t.Expires.Sub(h.Now())
	if remain <= 0 {
		return expires, "expired", true
	}
	if h.UserStates != nil {
		owner, err := h.UserStates.FindUserState(r.Context(), t.OwnerID)
		if err == nil && !t.CoveredBy(owner) {
			return expires, "refused: its owner is disabled, locked, gone or lacks the role", true
		}
	}
	// Whole days (or hours, on the last day), rounded up: a 90-day token
	// made today shows 90 days left until the same time tomorrow.
	if remain < day {
		if n := int((remain + time.Hour - 1) / time.Hour); n > 1 {
			return expires, strconv.Itoa(n) + " hours left", false
		}
		return expires, "less than an hour left", false
	}
	return expires, strconv.Itoa(int((remain+day-1)/day)) + " days left", false
}

// validTokenName accepts 1-64 printable characters.
func validTokenName(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 64 {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// submitNewToken makes an API token and shows its secret once. Making a
// credential that outlives this session needs a recent password entry.
func (h *Handler) submitNewToken(w http.ResponseWriter, r *http.Request, a *staffActor) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.ErrorPage(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The form could not be read.")
		return
	}
	if !h.RequireRecentAuth(w, r, a.p, "create an API token") {
		return
	}
	name, role := strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("role")
	days := strings.TrimSpace(r.PostForm.Get("days"))
	form := templates.ConsoleTokensPage{Name: name, Role: role, Days: days}
	reason, aerr := cleanReason(r.PostForm.Get("reason"))
	n, nerr := strconv.Atoi(days)
	if days == "" {
		n, nerr = int(store.APITokenDefaultTTL/day), nil
	}
	switch {
	case aerr != nil:
		form.Error = aerr.msg
	case !validTokenName(name):
		form.Error = "Give the token a name of 1 to 64 characters, saying what uses it."
	case role != store.RoleSupport && role != store.RoleAdmin:
		form.Error = "Choose what the token is allowed to do."
	case nerr != nil || n < 1 || time.Duration(n)*day > store.APITokenMaxTTL:
		form.Error = "A token works for 1 to " + strconv.Itoa(int(store.APITokenMaxTTL/day)) + " days."
	}
	if form.Error != "" {
		h.renderTokens(w, r, a, http.StatusUnprocessableEntity, form)
		return
	}
	t := &store.APIToken{Name: name, Role: role, OwnerID: a.UserID, CreatedBy: a.Username}
	secret, err := h.Store.CreateAPIToken(r.Context(), t, time.Duration(n)*day)
	if err != nil {
		h.Log.Error("create api token", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	h.recordStaffAction(r.Context(), a, r, store.AuditEntry{
		Action: store.AuditTokenCreate, Reason: reason,
		Detail: "token “" + t.Name + "” (" + t.Role + ", id " + t.ID + ", expires " + consoleTime(t.Expires) + ")",
	}, "", store.Event{})
	h.renderTokens(w, r, a, http.StatusOK, templates.ConsoleTokensPage{NewSecret: secret, NewName: t.Name})
}

// submitRevokeToken revokes an API token at once.
func (h *Handler) submitRevokeToken(w http.ResponseWriter, r *http.Request, a *staffActor) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.ErrorPage(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The form could not be read.")
		return
	}
	reason, aerr := cleanReason(r.PostForm.Get("reason"))
	if aerr != nil {
		h.renderTokens(w, r, a, aerr.status, templates.ConsoleTokensPage{Error: aerr.msg})
		return
	}
	t, err := h.Store.DeleteAPIToken(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		h.renderTokens(w, r, a, http.StatusNotFound, templates.ConsoleTokensPage{Error: "That token does not exist (any more)."})
		return
	}
	if err != nil {
		h.Log.Error("revoke api token", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	h.recordStaffAction(r.Context(), a, r, store.AuditEntry{
		Action: store.AuditTokenRevoke, Reason: reason, Detail: "token “" + t.Name + "” (" + t.Role + ", id " + t.ID + ")",
	}, "", store.Event{})
	http.Redirect(w, r, h.Prefix+"/admin/tokens?m=revoked", http.StatusSeeOther)
}
