package gateway

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// tableChoosesApps reports whether the gateway's route table, as routes
// builds it without a portal, hands r to the apps without a redirect.
func tableChoosesApps(t testing.TB, prefix string, r *http.Request) bool {
	t.Helper()
	apps := false
	mux := http.NewServeMux()
	mux.Handle("/", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { apps = true }))
	mux.Handle(prefix+"/", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	mux.Handle(prefix, http.RedirectHandler(prefix+"/account", http.StatusFound))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return apps && w.Code == http.StatusOK
}

// The shortcut past the route table is taken only where the table itself
// would have sent the request to the apps unchanged: never for a path that
// reaches the gateway's own pages, and never for one the table redirects.
func TestPlainAppPathAgreesWithRouteTable(t *testing.T) {
	g := &Gateway{prefix: "/.gateway"}
	paths := []string{
		"/", "/app", "/app/", "/a/b/c", "/a%20b", "/.gateway", "/.gateway/", "/.gateway/account",
		"/.gatewayx", "/x/.gateway/account", "/%2Egateway/account", "/%2egateway", "/.gateway%2Faccount",
		"//.gateway/account", "/a//b", "/a/./b", "/a/../b", "/a/..", "/a/.", "/./.gateway/login",
		"/x/../.gateway/login", "/a%2Fb", "/a%252F", "/%41", "/a;b", "/..;/x", "/a/...", "/a/.b",
		"/a/..b", "/.well-known/x", "/%", "/a%zz",
	}
	shortcut := map[string]bool{}
	for _, p := range paths {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodConnect} {
			r := httptest.NewRequest(method, "http://app.test/", nil)
			r.URL.Path, r.URL.RawPath = "", ""
			if err := setRawPath(r, p); err != nil {
				continue // not a path a server would hand over
			}
			got := g.plainAppPath(r)
			if got && !tableChoosesApps(t, g.prefix, r) {
				t.Errorf("%s %s: shortcut taken, but the route table does not send it to the apps as is", method, p)
			}
			if got {
				shortcut[p] = true
			}
		}
	}
	// The shortcut must actually be taken for ordinary app paths, or it
	// saves nothing.
	for _, p := range []string{"/", "/app", "/app/", "/a/b/c", "/a%20b", "/a/.b", "/a/...", "/.well-known/x"} {
		if !shortcut[p] {
			t.Errorf("%s: an ordinary app path should skip the route table", p)
		}
	}
}

func setRawPath(r *http.Request, raw string) error {
	u, err := url.ParseRequestURI(raw) // as the server parses it: no dot segments resolved
	if err != nil {
		return err
	}
	r.URL.Path, r.URL.RawPath = u.Path, u.RawPath
	r.RequestURI = raw
	return nil
}

func FuzzPlainAppPath(f *testing.F) {
	for _, s := range []string{"/", "/a/../.gateway/x", "/%2e%2Egateway", "//x", "/a/./b", "/.gateway"} {
		f.Add(s)
	}
	g := &Gateway{prefix: "/.gateway"}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest(http.MethodGet, "http://app.test/", nil)
		if !strings.HasPrefix(raw, "/") || setRawPath(r, raw) != nil {
			return
		}
		if g.plainAppPath(r) && !tableChoosesApps(t, g.prefix, r) {
			t.Fatalf("%q: shortcut taken, but the route table does not send it to the apps as is", raw)
		}
	})
}
