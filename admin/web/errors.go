package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/a-h/templ"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// Render writes a templ page with a status (see RenderPage).
func (h *Base) Render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	RenderPage(h.Log, w, r, status, c)
}

// ErrorPage answers with a full page for browsers and JSON otherwise.
func (h *Base) ErrorPage(w http.ResponseWriter, r *http.Request, status int, code, title, msg string) {
	if !WantsHTML(r) || strings.HasPrefix(r.URL.Path, h.Prefix+"/api/") {
		WriteJSONError(w, status, code, msg)
		return
	}
	// The frame keeps the navigation of a signed-in person, and the page
	// offers a way back (the template's link). A 503 does not ask the
	// store it could not reach a second time.
	var p *store.Principal
	if status != http.StatusServiceUnavailable {
		if cur, outcome := h.Sessions.Authenticate(r); outcome == store.Valid {
			p = cur
		}
	}
	h.Render(w, r, status, templates.Error(templates.ErrorPage{
		Chrome: h.Chrome(p, title), Status: status, Message: msg,
	}))
}

// NotFound answers 404.
func (h *Base) NotFound(w http.ResponseWriter, r *http.Request) {
	if DropTrailingSlash(w, r, h.Prefix) {
		return
	}
	h.ErrorPage(w, r, http.StatusNotFound, "not_found", "Not found", "There is no page at this address.")
}

// NotReplicated answers a sign-out that is in force (this replica refuses
// the sessions, and the Redis master has it) but that no Redis replica
// confirmed in time: a failover now could lose it, so it is not reported
// done. The gateway keeps writing it back.
func (h *Base) NotReplicated(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	h.ErrorPage(w, r, http.StatusServiceUnavailable, store.CodeNotReplicated, "Not confirmed yet", store.MsgNotReplicated)
}

// StoreFailed answers a failed change: not replicated, or unavailable.
func (h *Base) StoreFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotReplicated) {
		h.NotReplicated(w, r)
		return
	}
	h.Unavailable(w, r)
}

// Unavailable answers 503: the store cannot be reached (fail closed).
func (h *Base) Unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	h.ErrorPage(w, r, http.StatusServiceUnavailable, "unavailable", "Temporarily unavailable",
		"The account service is unavailable right now. Please try again in a few seconds.")
}

// Forbidden answers 403 with a page for browsers and JSON otherwise.
func (h *Base) Forbidden(w http.ResponseWriter, r *http.Request, code, msg string) {
	h.ErrorPage(w, r, http.StatusForbidden, code, "Not allowed", msg)
}
