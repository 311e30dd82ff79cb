package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/a-h/templ"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// render writes a templ page with a status. Security headers (CSP, no-store,
// frame-ancestors) and cross-origin protection are applied by the gateway
// around this whole handler.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		h.Log.Error("render page", "err", err.Error(), "path", r.URL.Path)
	}
}

// apiError is the JSON error body: {"error": "...", "code": "..."}.
type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeJSONError answers with the API's error shape.
func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiError{Error: msg, Code: code})
}

// wantsHTML reports whether the client is a browser expecting a page.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// errorPage answers with a full page for browsers and JSON otherwise.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, code, title, msg string) {
	if !wantsHTML(r) || strings.HasPrefix(r.URL.Path, h.prefix+"/api/") {
		writeJSONError(w, status, code, msg)
		return
	}
	h.render(w, r, status, templates.Error(templates.ErrorPage{
		Chrome: templates.Chrome{Title: title, Prefix: h.prefix}, Status: status, Message: msg,
	}))
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusNotFound, "not_found", "Not found", "There is no page at this address.")
}

// notReplicated answers a sign-out that is in force (this replica refuses
// the sessions, and the Redis master has it) but that no Redis replica
// confirmed in time: a failover now could lose it, so it is not reported
// done. The gateway keeps writing it back.
func (h *Handler) notReplicated(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	h.errorPage(w, r, http.StatusServiceUnavailable, store.CodeNotReplicated, "Not confirmed yet", store.MsgNotReplicated)
}

// storeFailed answers a failed change: not replicated, or unavailable.
func (h *Handler) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotReplicated) {
		h.notReplicated(w, r)
		return
	}
	h.unavailable(w, r)
}

func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	h.errorPage(w, r, http.StatusServiceUnavailable, "unavailable", "Temporarily unavailable",
		"The account service is unavailable right now. Please try again in a few seconds.")
}
