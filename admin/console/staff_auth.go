package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
)

// staffActor is who performs a console page or staff API call: a signed-in
// staff member, or an API token made by an admin.
type staffActor struct {
	// UserID and Username name the staff member; empty for a token.
	UserID   string
	Username string
	// Role is the most powerful staff role held: store.RoleAdmin or
	// store.RoleSupport (a token's role for a token).
	Role  string
	Token *store.APIToken
	// p is the signed-in session (nil for a token), for the page frame.
	p *store.Principal
}

func (a *staffActor) isAdmin() bool { return a.Role == store.RoleAdmin }

// auditName is the actor as the audit log records it (a token's owner is
// recorded beside it, in AuditEntry.TokenOwner).
func (a *staffActor) auditName() string {
	if a.Token != nil {
		return "token:" + a.Token.Name
	}
	return a.Username
}

// eventActor is the Event.Actor value written to the user's activity.
func (a *staffActor) eventActor() string {
	if a.Token != nil {
		return "token:" + a.Token.Name
	}
	return a.Role + ":" + a.Username
}

// label is how the user's own activity names the actor, e.g. "Support (bob)".
func (a *staffActor) label() string {
	who := a.Username
	if a.Token != nil {
		who = "automation “" + a.Token.Name + "”"
	}
	if a.isAdmin() {
		return "Admin (" + who + ")"
	}
	return "Support (" + who + ")"
}

// staffRole returns the most powerful staff role of roles, or "".
func staffRole(has func(string) bool) string {
	switch {
	case has(store.RoleAdmin):
		return store.RoleAdmin
	case has(store.RoleSupport):
		return store.RoleSupport
	}
	return ""
}

// withStaff is the one gate in front of every console page and staff API
// call; the route table applies it to each route on its own, so no path
// variant, method or encoding reaches a handler without it. API routes take
// an "Authorization: Bearer" API token instead of the session cookie (and,
// when the header is present, only it); pages take only the cookie.
func (h *Handler) withStaff(rt staffRoute) http.Handler {
	bySession := h.WithUser(func(w http.ResponseWriter, r *http.Request, p *store.Principal) {
		a, ok := h.staffFromSession(w, r, p, rt)
		if ok {
			rt.handle(w, r, a)
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.api && r.Header.Get("Authorization") != "" {
			a, ok := h.staffFromToken(w, r, rt)
			if ok {
				rt.handle(w, r, a)
			}
			return
		}
		bySession(w, r)
	})
}

// staffFromSession admits a signed-in person with a staff role who passed
// the second factor in this session whenever policy requires it of any of
// their roles; everyone else gets 403.
func (h *Handler) staffFromSession(w http.ResponseWriter, r *http.Request, p *store.Principal, rt staffRoute) (*staffActor, bool) {
	role := staffRole(p.User.HasRole)
	if role == "" {
		h.Forbidden(w, r, "forbidden", "This page is for support staff.")
		return nil, false
	}
	if !p.Claims.MFA {
		for _, ur := range p.User.Roles {
			if h.Config.MFARequiredFor(ur) {
				h.Forbidden(w, r, "mfa_required",
					"The support console needs two-step verification. Sign out, then sign in again with your authenticator code.")
				return nil, false
			}
		}
	}
	if rt.admin && role != store.RoleAdmin {
		h.Forbidden(w, r, "forbidden", "This page is for admins.")
		return nil, false
	}
	return &staffActor{UserID: p.User.ID, Username: p.User.Username, Role: role, p: p}, true
}

// staffFromToken admits a live API token whose role covers the route: not
// expired, and whose owner may still do what the token does
// (store.APIToken.CoveredBy).
// Every refusal is 401 with a code that says which.
func (h *Handler) staffFromToken(w http.ResponseWriter, r *http.Request, rt staffRoute) (*staffActor, bool) {
	scheme, secret, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || secret == "" {
		web.WriteJSONError(w, http.StatusUnauthorized, "invalid_token", "the Authorization header must be \"Bearer <API token>\"")
		return nil, false
	}
	t, err := h.Store.FindAPITokenBySecret(r.Context(), strings.TrimSpace(secret))
	if errors.Is(err, store.ErrNotFound) {
		h.refuseToken(w, r, nil, "invalid_token", "the API token is unknown or revoked")
		return nil, false
	}
	if err != nil {
		h.Log.Error("look up api token", "err", err.Error())
		h.Unavailable(w, r)
		return nil, false
	}
	if t.OwnerID == "" || t.Expires.IsZero() {
		h.refuseToken(w, r, t, "invalid_token", "this API token was made before tokens had an owner and an expiry date; an admin must make a new one")
		return nil, false
	}
	if !h.Now().Before(t.Expires) {
		h.refuseToken(w, r, t, "token_expired", "the API token expired on "+t.Expires.Format(consoleTimeLayout)+"; an admin must make a new one")
		return nil, false
	}
	if h.UserStates == nil {
		h.refuseToken(w, r, t, "invalid_token", "API tokens are not accepted here")
		return nil, false
	}
	owner, err := h.UserStates.FindUserState(r.Context(), t.OwnerID)
	if err != nil {
		h.Log.Error("look up api token owner", "err", err.Error())
		h.Unavailable(w, r)
		return nil, false
	}
	// The owner's state comes from memory, so this refuses a token the
	// moment its owner is disabled, locked, deleted or demoted below it, on
	// every replica (the mirror drops the owner's state on any change).
	if !t.CoveredBy(owner) {
		h.refuseToken(w, r, t, "token_owner_inactive",
			"the API token's owner ("+t.CreatedBy+") is disabled, locked or gone, or no longer holds the token's role; the token no longer works")
		return nil, false
	}
	if rt.admin && t.Role != store.RoleAdmin {
		web.WriteJSONError(w, http.StatusForbidden, "forbidden", "this API token may not make admin calls")
		return nil, false
	}
	return &staffActor{Role: t.Role, Token: t}, true
}

// refuseToken answers 401 for an API token that cannot be used (t is nil
// when it is unknown) and logs it without any part of the secret.
func (h *Handler) refuseToken(w http.ResponseWriter, r *http.Request, t *store.APIToken, code, msg string) {
	if t != nil {
		h.Log.Warn("api token refused", "code", code, "token_id", t.ID, "owner", t.CreatedBy, "client_ip", h.ClientIP(r), "path", r.URL.Path)
	} else {
		h.Log.Warn("api token refused", "code", code, "client_ip", h.ClientIP(r), "path", r.URL.Path)
	}
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	web.WriteJSONError(w, http.StatusUnauthorized, code, msg)
}
