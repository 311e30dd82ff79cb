package web

import (
	"net/http"
	"strings"
)

// DropTrailingSlash answers a browser's GET of a page under prefix whose
// address ends in "/" (".gateway/account/", as typed or pasted) with a
// redirect to the address without it, and reports whether it did. The
// target is the request's own escaped path, shortened, on the same origin:
// it can never lead elsewhere ("//host" is refused).
func DropTrailingSlash(w http.ResponseWriter, r *http.Request, prefix string) bool {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !WantsHTML(r) {
		return false
	}
	path := r.URL.EscapedPath()
	if !strings.HasSuffix(path, "/") || !strings.HasPrefix(path, prefix+"/") {
		return false
	}
	trimmed := strings.TrimRight(path, "/")
	if len(trimmed) <= len(prefix) || strings.HasPrefix(trimmed, "//") || strings.Contains(trimmed, "\\") {
		return false
	}
	if r.URL.RawQuery != "" {
		trimmed += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, trimmed, http.StatusMovedPermanently)
	return true
}
