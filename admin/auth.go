package admin

import (
	"net/http"
	"net/url"

	"github.com/authgate/gateway/store"
)

// withUser runs next only for a fully signed-in person (a half-signed-in
// session, still owing its second factor, reaches nothing here). Pages send
// others to the login page; API calls get 401 JSON; an unverifiable session
// gets 503 (fail closed).
func (h *Handler) withUser(next func(http.ResponseWriter, *http.Request, *store.Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, outcome := h.Sessions.Authenticate(r)
		switch outcome {
		case store.Valid:
			next(w, r, p)
			return
		case store.Unavailable:
			h.unavailable(w, r)
			return
		case store.Ended:
			h.Sessions.Clear(w)
		}
		if wantsHTML(r) && r.Method == http.MethodGet {
			target := h.prefix + "/login"
			if outcome == store.Pending {
				target += "/2fa"
			}
			http.Redirect(w, r, target+"?rd="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
			return
		}
		writeJSONError(w, http.StatusUnauthorized, "unauthenticated", "sign in required")
	}
}
