package gateway

import (
	"net/http"
	"strings"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/gateway/httpsafe"
)

// Paths. The upstream receives the path as the client sent it (GitLab's
// API and container registries need %2F kept), while the gateway decides
// on the most restrictive reading: decoded, dot segments resolved, slashes
// merged (httpsafe.DecisionPath). Because an app may read the path
// differently (not decoding %2F, cutting ";jsessionid", decoding twice),
// every other reading must pick the same route, else the request is
// refused: otherwise "/admin/..%2F..%2Fpublic" would be judged as "/public"
// while an app that splits on raw slashes serves it from "/admin/".

// readPath returns the decision path of a request for the apps, applying
// escaped_slashes; when the path cannot be decided on it has answered 400
// and returns false. An ordinary path costs no allocation.
func (g *Gateway) readPath(w http.ResponseWriter, r *http.Request) (string, bool) {
	f := httpsafe.ReadPath(r.URL)
	if f.EscapedSlash {
		switch g.Config.EscapedSlashes {
		case config.EscapedSlashesReject:
			g.badPathMsg(w, r, "escaped_slash", "This address holds an encoded slash (%2F or %5C), which this site does not accept.")
			return "", false
		case config.EscapedSlashesDecode:
			httpsafe.DecodeEscapedSlashes(r.URL)
			f = httpsafe.ReadPath(r.URL)
		}
	}
	if !g.pathAgrees(w, r, r.Host, &f) {
		return "", false
	}
	return f.Main, true
}

// pathAgrees checks that every reading of a path picks the same route and
// that none of them is the gateway's own prefix (which the router did not
// send here, so the app would be asked for the gateway's address). It has
// answered 400 when not.
func (g *Gateway) pathAgrees(w http.ResponseWriter, r *http.Request, host string, f *httpsafe.PathForms) bool {
	if g.ownPath(f.Main) {
		g.badPathMsg(w, r, "ambiguous_path", "This address is not valid here.")
		return false
	}
	if f.Len() == 0 {
		return true
	}
	route := g.proxy.route(host, f.Main)
	for i := range f.Len() {
		if alt := f.Alt(i); g.ownPath(alt) || g.proxy.route(host, alt) != route {
			g.badPathMsg(w, r, "ambiguous_path", "This address can be read in more than one way and was refused.")
			return false
		}
	}
	return true
}

// ownPath reports whether p lies under the gateway's prefix.
func (g *Gateway) ownPath(p string) bool {
	return strings.HasPrefix(p, g.prefix) && (len(p) == len(g.prefix) || p[len(g.prefix)] == '/')
}

// isPublic reports whether a request for the apps needs no session: its
// path is not one that servers are known to resolve differently
// (httpsafe.SuspiciousPath) and it is public on every reading.
func (g *Gateway) isPublic(r *http.Request, cleaned string) bool {
	if len(g.Config.PublicPaths) == 0 || !httpsafe.IsPublicPath(cleaned, g.Config.PublicPaths) {
		return false
	}
	return !httpsafe.SuspiciousPath(r.URL.EscapedPath())
}

// badPath answers a path holding a control character or invalid UTF-8.
func (g *Gateway) badPath(w http.ResponseWriter, r *http.Request) {
	g.badPathMsg(w, r, "bad_path", "This address holds characters that are not allowed in a path.")
}

func (g *Gateway) badPathMsg(w http.ResponseWriter, r *http.Request, code, msg string) {
	g.renderErrorPage(w, r, http.StatusBadRequest, code, "Bad request", msg)
}
