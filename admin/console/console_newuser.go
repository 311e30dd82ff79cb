package console

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// showNewUser is the admin's form to create a user.
func (h *Handler) showNewUser(w http.ResponseWriter, r *http.Request, a *staffActor) {
	h.Render(w, r, http.StatusOK, templates.ConsoleNewUser(templates.ConsoleNewUserPage{
		Chrome: h.consoleChrome(a, "Create a user — Support console"), Nav: h.consoleNav(a, "new-user"),
		Roles: consoleRoleChoices([]string{store.RoleUser}),
	}))
}

// submitNewUser creates a user with a password nobody knows (a random one,
// hashed and forgotten) and shows a one-time link for them to set their
// own, so no admin ever chooses or sees it. The link is a credential that
// outlives this session (for an account with any roles, staff ones
// included), so making it needs a recent password entry, as API tokens and
// role changes do.
func (h *Handler) submitNewUser(w http.ResponseWriter, r *http.Request, a *staffActor) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.ErrorPage(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The form could not be read.")
		return
	}
	if !h.RequireRecentAuth(w, r, a.p, "create an account") {
		return
	}
	page := templates.ConsoleNewUserPage{
		Chrome: h.consoleChrome(a, "Create a user — Support console"), Nav: h.consoleNav(a, "new-user"),
		Username: strings.TrimSpace(r.PostForm.Get("username")), Email: strings.TrimSpace(r.PostForm.Get("email")),
		Roles: consoleRoleChoices(r.PostForm["role"]), Reason: r.PostForm.Get("reason"),
	}
	fail := func(status int, msg string) {
		page.Error = msg
		h.Render(w, r, status, templates.ConsoleNewUser(page))
	}
	reason, aerr := cleanReason(page.Reason)
	if aerr != nil {
		fail(aerr.status, aerr.msg)
		return
	}
	u := &store.User{Username: store.CanonicalUsername(page.Username), Email: page.Email}
	if store.ValidateUsername(u.Username) != nil {
		fail(http.StatusUnprocessableEntity, "A username is 1 to 64 letters, digits and . _ @ - (starting with a letter or digit).")
		return
	}
	if u.Email != "" {
		if err := store.ValidateEmail(u.Email); err != nil {
			fail(http.StatusUnprocessableEntity, "That email address does not look right.")
			return
		}
	}
	for _, role := range r.PostForm["role"] {
		if store.ValidRole(role) && !slices.Contains(u.Roles, role) {
			u.Roles = append(u.Roles, role)
		}
	}
	if len(u.Roles) == 0 {
		fail(http.StatusUnprocessableEntity, "Choose at least one role.")
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	hash, err := h.Hasher.Hash(ctx, rand.Text()+rand.Text())
	if err != nil {
		h.Log.Error("hash placeholder password", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	u.PasswordHash = hash
	if err := h.Store.CreateUser(ctx, u); errors.Is(err, store.ErrConflict) {
		fail(http.StatusConflict, "That username is taken.")
		return
	} else if err != nil {
		h.Log.Error("create user", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	link, aerr := h.issueResetLink(ctx, r, a, u)
	if aerr != nil {
		h.ErrorPage(w, r, aerr.status, aerr.code, "Not done", "The user was created, but the link could not be made: make one on their page.")
		return
	}
	h.recordStaffAction(ctx, a, r, store.AuditEntry{
		Action: store.AuditUserCreate, Target: u.Username, TargetID: u.ID, Reason: reason,
		Detail: "roles " + strings.Join(u.Roles, ", ") + "; reset link expires " + consoleTime(link.Expires),
	}, u.ID, store.Event{Type: store.EventStaffAction, Detail: a.label() + " created your account: " + reason})
	h.Render(w, r, http.StatusOK, templates.ConsoleLink(templates.ConsoleLinkPage{
		Chrome: h.consoleChrome(a, "User created — Support console"), Nav: h.consoleNav(a, ""),
		Username: u.Username, Created: true, URL: link.URL, Expires: consoleTime(link.Expires),
		UserPath: h.consoleUserPath(u.Username),
	}))
}
