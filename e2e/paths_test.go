package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// pathGateway is a gateway with an app route under /admin/ (its own
// upstream) and the echo app for everything else; alice is signed in.
func pathGateway(t *testing.T, configure func(*config.Config)) (*harness.Gateway, string) {
	t.Helper()
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-App", "admin")
		harness.EchoHandler().ServeHTTP(w, r)
	}))
	t.Cleanup(admin.Close)
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.PublicPaths = []string{"/public/"}
		c.Routes = []config.Route{{PathPrefix: "/admin/", Upstream: admin.URL}}
		if configure != nil {
			configure(c)
		}
	}})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	return g, "Cookie: " + g.Config.Cookie.Name + "=" + c.SessionCookie() + "\n"
}

// sendPath sends path on the request line byte for byte and returns the
// status, what the app received (nil when nothing reached it) and which app.
func sendPath(t *testing.T, g *harness.Gateway, path, extra string) (int, *harness.Echoed, string) {
	t.Helper()
	addr := strings.TrimPrefix(g.URL, "http://")
	resp := rawRequest(t, addr, "GET "+path+" HTTP/1.1\nHost: "+addr+"\nAccept: application/json\n"+extra+"\n")
	defer resp.Body.Close()
	var e harness.Echoed
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Method == "" {
		return resp.StatusCode, nil, ""
	}
	return resp.StatusCode, &e, resp.Header.Get("X-App")
}

// The app gets the path exactly as the client sent it, escapes included,
// and the decision is made on the path decoded and cleaned.
func TestPathReachesAppAsSent(t *testing.T) {
	g, cookie := pathGateway(t, nil)
	for _, path := range []string{
		"/a%2Fb", "/a%2fb", "/api/v4/projects/group%2Fproject/files/dir%2Ffile%2Erb", "/caf%C3%A9", "/a%20b",
		"/docs/..%2F..%2Fx", "/x/%2e%2e/y", "/a%252Fb", "/a;jsessionid=1", "/q?x=%2F",
	} {
		status, e, _ := sendPath(t, g, path, cookie)
		if status != http.StatusOK || e == nil || e.URI != path {
			t.Errorf("GET %s: %d, app got %+v, want it as sent", path, status, e)
		}
	}
	// The bare escaped slash needs a session like any other path.
	if status, e, _ := sendPath(t, g, "/a%2Fb", ""); status != http.StatusUnauthorized || e != nil {
		t.Errorf("anonymous /a%%2Fb: %d, app got %+v", status, e)
	}
}

// Control characters, DEL and invalid UTF-8 in a path, raw or encoded, at
// any depth, are refused with 400 before anything else: signed in or not,
// public path or not, on the gateway's own pages too.
func TestControlCharactersInPathRefused(t *testing.T) {
	g, cookie := pathGateway(t, nil)
	for _, path := range []string{
		"/x%00y", "/public/x%00.css", "/x%01", "/x%0a", "/x%0D%0ASet-Cookie:%20a=b", "/x%1f", "/x%7f", "/x%7F",
		"/x%ff", "/x%c0%af", "/public/%c0%ae%c0%ae/admin", "/x%c2%85", "/x%2500", "/x%25c0%25af", "/x%252500",
		"/.gateway/login%00", "/admin/%00",
	} {
		for _, extra := range []string{"", cookie} {
			status, e, _ := sendPath(t, g, path, extra)
			if status != http.StatusBadRequest || e != nil {
				t.Errorf("GET %s (signed in %v): %d, app got %+v; want 400", path, extra != "", status, e)
			}
		}
	}
}

// Readings of one path that lead to different routes are refused: an app
// that splits on raw slashes, cuts ";params" or decodes twice would
// otherwise serve what the gateway judged as another route. A prefix
// ending in "/" opens not the bare name; route prefixes ignore case.
func TestAmbiguousPathsRefused(t *testing.T) {
	g, cookie := pathGateway(t, nil)
	for _, path := range []string{
		"/admin/..%2F..%2Fpublic/x", "/admin%2Fx", "/admin;x", "/admin;x/y", "/public/..;/admin/x",
		"/x/..%252F..%252Fadmin/y", "/.gateway%2Flogin", "/.gateway%2fapi/v1/me", "/admin%5Cx", "/x/..%5C..%5Cadmin/y",
	} {
		status, e, _ := sendPath(t, g, path, cookie)
		if status != http.StatusBadRequest || e != nil {
			t.Errorf("GET %s: %d, app got %+v; want 400", path, status, e)
		}
	}
	for path, app := range map[string]string{
		"/admin/x": "admin", "/ADMIN/x": "admin", "/Admin": "admin", "/admin": "admin", "/admin/a%2Fb": "admin",
		"/administrator": "", "/x/a%2Fb": "", "/x;jsessionid=1": "",
	} {
		status, e, got := sendPath(t, g, path, cookie)
		if status != http.StatusOK || e == nil || got != app || e.URI != path {
			t.Errorf("GET %s: %d, app %q got %+v; want app %q", path, status, got, e, app)
		}
	}
	// Literal dot segments and double slashes are redirected to the clean
	// path by the router before any decision.
	addr := strings.TrimPrefix(g.URL, "http://")
	for path, want := range map[string]string{"//admin/x": "/admin/x", "/public/../admin/x": "/admin/x"} {
		resp := rawRequest(t, addr, "GET "+path+" HTTP/1.1\nHost: "+addr+"\n"+cookie+"\n")
		resp.Body.Close()
		if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != want {
			t.Errorf("GET %s: %d to %q, want 307 to %s", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	// Anonymous: "/public/" opens its subtree only, never via a trick.
	for path, want := range map[string]int{
		"/public/x": 200, "/public/": 200, "/public": 401, "/PUBLIC/x": 401, "/public/..%2Fadmin/x": 400,
		"/public%2Fx": 401, "/public/%2e%2e/admin/x": 401, "/public/x%2Fy": 401,
	} {
		if status, _, _ := sendPath(t, g, path, ""); status != want {
			t.Errorf("anonymous GET %s: %d, want %d", path, status, want)
		}
	}
}

// escaped_slashes: reject answers 400, decode forwards "/" instead.
func TestEscapedSlashesSetting(t *testing.T) {
	g, cookie := pathGateway(t, func(c *config.Config) { c.EscapedSlashes = config.EscapedSlashesReject })
	for _, path := range []string{"/a%2Fb", "/a%2fb", "/a%5Cb", "/a%5cb", `/a\b`} {
		if status, e, _ := sendPath(t, g, path, cookie); status != http.StatusBadRequest || e != nil {
			t.Errorf("reject: GET %s: %d, app got %+v", path, status, e)
		}
	}
	if status, e, _ := sendPath(t, g, "/a%20b", cookie); status != http.StatusOK || e == nil || e.URI != "/a%20b" {
		t.Errorf("reject: other escapes must pass: %d %+v", status, e)
	}
	g, cookie = pathGateway(t, func(c *config.Config) { c.EscapedSlashes = config.EscapedSlashesDecode })
	for path, want := range map[string]string{"/a%2Fb%20c": "/a/b%20c", "/a%5cb": "/a/b", "/x/..%2Fadmin/y": "/x/../admin/y"} {
		status, e, app := sendPath(t, g, path, cookie)
		if status != http.StatusOK || e == nil || e.URI != want {
			t.Errorf("decode: GET %s: %d, app %q got %+v, want %s", path, status, app, e, want)
		}
		if strings.Contains(path, "admin") && app != "admin" {
			t.Errorf("decode: GET %s went to app %q, want the admin route", path, app)
		}
	}
}

// Forward-auth refuses the same paths, read from a trusted proxy's
// X-Forwarded-Uri (or X-Original-URI), signed in or not.
func TestForwardAuthRefusesBadForwardedPath(t *testing.T) {
	g, cookie := pathGateway(t, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1/32"} })
	for uri, want := range map[string]int{
		"/x%00y": 400, "/x%7f": 400, "/x%c0%af": 400, "/x%2500": 400, "/admin/..%2F..%2Fpublic/x": 400,
		"/admin;x": 400, "/x%zz": 400, "/a%2Fb": 200, "/admin/x?q=%00": 200,
	} {
		for _, h := range []string{"X-Forwarded-Uri", "X-Original-URI"} {
			status, _, _ := sendPath(t, g, "/.gateway/auth", cookie+h+": "+uri+"\n")
			if status != want {
				t.Errorf("forward-auth %s: %s: %d, want %d", h, uri, status, want)
			}
		}
		if want == 400 {
			if status, _, _ := sendPath(t, g, "/.gateway/auth", "X-Forwarded-Uri: "+uri+"\n"); status != 400 {
				t.Errorf("forward-auth signed out, %s: %d, want 400", uri, status)
			}
		}
	}
}
