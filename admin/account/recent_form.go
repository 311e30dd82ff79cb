package account

import (
	"net/http"

	"github.com/authgate/gateway/store"
)

// recentAuthForm reads the form of a sensitive POST (at most limit bytes)
// and checks the sign-in is recent enough to do what (RequireRecentAuth).
// Otherwise it has answered (bad request, or the password asked for) and
// returns false.
func (h *Handler) recentAuthForm(w http.ResponseWriter, r *http.Request, p *store.Principal, limit int64, what string) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		h.ErrorPage(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The form could not be read.")
		return false
	}
	return h.RequireRecentAuth(w, r, p, what)
}
