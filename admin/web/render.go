package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/a-h/templ"
)

// RenderPage writes a templ component as an HTML page with a status; a
// failure half-way is logged (the status is already sent). Security
// headers (CSP, no-store, frame-ancestors) and cross-origin protection are
// applied by the gateway around every page it serves.
func RenderPage(log *slog.Logger, w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		log.Error("render page", "err", err.Error(), "path", r.URL.Path)
	}
}

// APIError is the JSON error body of the whole gateway:
// {"error": "...", "code": "..."}.
type APIError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// WriteJSON answers with v as JSON, never cached nor sniffed.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteJSONError answers with the API's error shape.
func WriteJSONError(w http.ResponseWriter, status int, code, msg string) {
	WriteJSON(w, status, APIError{Error: msg, Code: code})
}

// WantsHTML reports whether the client is a browser expecting a page.
func WantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
