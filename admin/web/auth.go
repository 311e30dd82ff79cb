package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/authgate/gateway/store"
)

// WithUser runs next only for a fully signed-in person (a half-signed-in
// session, still owing its second factor, reaches nothing here). Pages send
// others to the login page; API calls get 401 JSON; an unverifiable session
// gets 503 (fail closed).
func (h *Base) WithUser(next func(http.ResponseWriter, *http.Request, *store.Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, outcome := h.Sessions.Authenticate(r)
		switch outcome {
		case store.Valid:
			next(w, r, p)
			return
		case store.Unavailable:
			h.Unavailable(w, r)
			return
		case store.Ended:
			h.Sessions.ClearEnded(w, r)
		}
		// Browsers go to the login page, also when a form is posted from a
		// page whose session has ended meanwhile (signed out from another
		// device): they come back to the account page, not to the action,
		// which is not repeated.
		if WantsHTML(r) && !strings.HasPrefix(r.URL.Path, h.Prefix+"/api/") {
			target, status := h.Prefix+"/login", http.StatusFound
			if outcome == store.Pending {
				target += "/2fa"
			}
			back := r.URL.RequestURI()
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				back, status = h.Prefix+"/account", http.StatusSeeOther
			}
			http.Redirect(w, r, target+"?rd="+url.QueryEscape(back), status)
			return
		}
		WriteJSONError(w, http.StatusUnauthorized, "unauthenticated", "sign in required")
	}
}
