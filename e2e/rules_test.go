package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// appServer is an upstream that names itself in X-App and echoes.
func appServer(t *testing.T, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-App", name)
		harness.EchoHandler().ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// ruleCode is the status (and JSON code, if any) of GET path for c.
func ruleCode(t *testing.T, c *harness.Client, path string, header ...string) (int, string, *http.Response) {
	t.Helper()
	resp := c.Get(t, path, header...)
	defer resp.Body.Close()
	var body struct{ Code string }
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.NewDecoder(resp.Body).Decode(&body)
	}
	return resp.StatusCode, body.Code, resp
}

// The "done when": two routes, one `allow: [admin]` with
// `mfa: required` and `reauth: 5m`, one open to any signed-in person. A
// plain user gets 403 on the first and 200 on the second; an admin without
// a second factor sets one up and comes back; a sign-in older than 5
// minutes is asked for the password again and comes back.
func TestRouteRulesAllowMFAAndReauth(t *testing.T) {
	admin := appServer(t, "admin")
	clock := &harness.Clock{}
	g := harness.Start(t, harness.Options{Clock: clock, Configure: func(c *config.Config) {
		c.MFA.Require = config.MFAOptional // the route, not the role, asks for the second factor
		c.Routes = []config.Route{
			{PathPrefix: "/admin/", Upstream: admin.URL, RouteRules: config.RouteRules{
				Allow: config.Principals{Roles: []string{"admin"}}, MFA: "required", Reauth: config.Duration{Duration: 5 * time.Minute},
			}},
			{PathPrefix: "/", Upstream: c.Upstream}, // the echo app
		}
	}})
	g.CreateUser(t, "pat")
	g.CreateUser(t, "ada", store.RoleAdmin)

	pat := g.NewClient(t)
	pat.Login(t, "pat", harness.TestPassword)
	if status, code, _ := ruleCode(t, pat, "/admin/x"); status != http.StatusForbidden || code != "forbidden" {
		t.Errorf("plain user, API, on the admin route: %d %q, want 403 forbidden", status, code)
	}
	resp := pat.Get(t, "/admin/x", "Accept", "text/html")
	doc := mfaDoc(t, resp)
	msg := doc.Find("#message").Text()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(msg, "signed in as pat") || !strings.Contains(msg, "the role admin") ||
		doc.Find("a#next").AttrOr("href", "") != "/.gateway/logout" {
		t.Errorf("plain user's 403 page: %d %q", resp.StatusCode, msg)
	}
	if e, resp := pat.Echo(t, "/x"); e == nil || e.Header.Get("X-Forwarded-User") != "pat" {
		t.Errorf("plain user on the open route: %d", resp.StatusCode)
	}
	if status, _, _ := ruleCode(t, pat, "/ADMIN/x"); status != http.StatusForbidden {
		t.Errorf("plain user on /ADMIN/x: %d, want 403 (prefixes ignore case)", status)
	}

	// An admin without a second factor: sent to set one up, then back.
	ada := g.NewClient(t)
	ada.Login(t, "ada", harness.TestPassword)
	if status, code, _ := ruleCode(t, ada, "/admin/x"); status != http.StatusUnauthorized || code != "mfa_required" {
		t.Errorf("admin without 2FA, API: %d %q, want 401 mfa_required", status, code)
	}
	_, _, resp = ruleCode(t, ada, "/admin/x?q=1", "Accept", "text/html")
	confirm := "/.gateway/login/confirm?need=mfa&rd=" + url.QueryEscape("/admin/x?q=1")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != confirm {
		t.Fatalf("admin without 2FA, browser: %d to %q, want 302 to %s", resp.StatusCode, resp.Header.Get("Location"), confirm)
	}
	resp = ada.Get(t, confirm, "Accept", "text/html")
	if doc := mfaDoc(t, resp); resp.StatusCode != http.StatusOK || doc.Find("#stepup_continue").Length() != 1 ||
		!strings.Contains(doc.Find("#message").Text(), "not on for your account") {
		t.Fatalf("confirm page: %d", resp.StatusCode)
	}
	resp = ada.PostForm(t, "/.gateway/login/confirm", url.Values{"need": {"mfa"}, "rd": {"/admin/x?q=1"}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/.gateway/login/2fa/setup?rd="+url.QueryEscape("/admin/x?q=1") {
		t.Fatalf("confirm: %d to %q, want the set-up step", resp.StatusCode, loc)
	}
	rd := url.Values{"rd": {"/admin/x?q=1"}}
	secret := mfaDoc(t, ada.PostForm(t, "/.gateway/login/2fa/setup", rd)).Find("#manual-key-raw").Text()
	app := newMFAApp(t, secret)
	resp = ada.PostForm(t, "/.gateway/login/2fa/setup/confirm", url.Values{"rd": {"/admin/x?q=1"}, "code": {app.code()}})
	if href := mfaDoc(t, resp).Find("#continue").AttrOr("href", ""); resp.StatusCode != http.StatusOK || href != "/admin/x?q=1" {
		t.Fatalf("set-up confirmed: %d, continue to %q", resp.StatusCode, href)
	}
	if e, resp := ada.Echo(t, "/admin/x?q=1"); e == nil || resp.Header.Get("X-App") != "admin" || e.Header.Get("X-Forwarded-User") != "ada" {
		t.Fatalf("admin with 2FA on the admin route: %d", resp.StatusCode)
	}

	// Six minutes on, the sign-in is too old: the password again, then back.
	clock.Advance(6 * time.Minute)
	if status, code, _ := ruleCode(t, ada, "/admin/x"); status != http.StatusUnauthorized || code != "reauth_required" {
		t.Errorf("stale sign-in, API: %d %q, want 401 reauth_required", status, code)
	}
	_, _, resp = ruleCode(t, ada, "/admin/x", "Accept", "text/html")
	confirm = "/.gateway/login/confirm?need=password&rd=" + url.QueryEscape("/admin/x")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != confirm {
		t.Fatalf("stale sign-in, browser: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if doc := mfaDoc(t, ada.Get(t, confirm, "Accept", "text/html")); doc.Find("#reauth_password").Length() != 1 {
		t.Fatal("confirm page has no password field")
	}
	form := url.Values{"need": {"password"}, "rd": {"/admin/x"}, "reauth_password": {"not the password"}}
	resp = ada.PostForm(t, "/.gateway/login/confirm", form)
	if doc := mfaDoc(t, resp); resp.StatusCode != http.StatusUnauthorized || doc.Find("#error").Length() != 1 {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}
	form.Set("rd", "https://evil.example/x") // the way back is checked like any rd
	form.Set("reauth_password", harness.TestPassword)
	resp = ada.PostForm(t, "/.gateway/login/confirm", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("right password with a foreign rd: %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	if e, resp := ada.Echo(t, "/admin/x"); e == nil || resp.Header.Get("X-App") != "admin" {
		t.Fatalf("admin after entering the password again: %d", resp.StatusCode)
	}
	// Public paths of other routes, and the open route, are untouched.
	if e, _ := ada.Echo(t, "/y"); e == nil {
		t.Error("open route refused the admin")
	}
}

// setGroups gives a user groups and waits until this replica's mirror
// has them.
func setGroups(t *testing.T, g *harness.Gateway, uid string, groups ...string) {
	t.Helper()
	if err := g.Store.UpdateUser(context.Background(), uid, store.UserUpdate{Groups: &groups}); err != nil {
		t.Fatal(err)
	}
	g.Sessions.InvalidateUser(uid)
}

// Allow by group or user name, deny by user name, a public path of the
// route, on the proxy and through forward-auth alike.
func TestRouteRulesGroupsUsersDenyPublic(t *testing.T) {
	ops := appServer(t, "ops")
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1/32"}
		c.Routes = []config.Route{{PathPrefix: "/ops/", Upstream: ops.URL, RouteRules: config.RouteRules{
			Allow:  config.Principals{Groups: []string{"ops"}, Users: []string{"carol"}},
			Deny:   config.Principals{Users: []string{"dave"}},
			Public: []string{"/ops/status", "/ops/docs/"},
		}}}
	}})
	erin, dave := g.CreateUser(t, "erin"), g.CreateUser(t, "dave")
	g.CreateUser(t, "carol")
	g.CreateUser(t, "frank")
	setGroups(t, g, erin.ID, "ops")
	setGroups(t, g, dave.ID, "ops")
	clients := map[string]*harness.Client{}
	for _, name := range []string{"erin", "carol", "dave", "frank"} {
		clients[name] = g.NewClient(t)
		clients[name].Login(t, name, harness.TestPassword)
	}
	anon := g.NewClient(t)
	for name, want := range map[string]int{"erin": 200, "carol": 200, "dave": 403, "frank": 403} {
		if status, _, _ := ruleCode(t, clients[name], "/ops/x"); status != want {
			t.Errorf("%s on /ops/x: %d, want %d", name, status, want)
		}
		// Forward-auth: the same answer for the same path.
		status, _, resp := ruleCode(t, clients[name], "/.gateway/auth", "X-Forwarded-Uri", "/ops/x", "X-Forwarded-Host", "app.example")
		if status != want {
			t.Errorf("%s through forward-auth on /ops/x: %d, want %d", name, status, want)
		}
		if want == 200 && resp.Header.Get("X-Forwarded-User") != name {
			t.Errorf("%s: forward-auth identity %q", name, resp.Header.Get("X-Forwarded-User"))
		}
		// A public path of the route: open to all, the denied included.
		if status, _, _ := ruleCode(t, clients[name], "/ops/status"); status != 200 {
			t.Errorf("%s on /ops/status: %d", name, status)
		}
	}
	for path, want := range map[string]int{
		"/ops/status": 200, "/ops/docs/a": 200, "/ops/docs": 401, "/ops/status/x": 401, "/ops/x": 401, "/ops/%2e%2e/ops/status": 401,
	} {
		if status, _, _ := ruleCode(t, anon, path); status != want {
			t.Errorf("anonymous %s: %d, want %d", path, status, want)
		}
		if status, _, _ := ruleCode(t, anon, "/.gateway/auth", "X-Forwarded-Uri", path); status != want {
			t.Errorf("anonymous forward-auth %s: %d, want %d", path, status, want)
		}
	}
	// Groups are read from the mirror: taking erin out closes the route.
	setGroups(t, g, erin.ID)
	if status, _, _ := ruleCode(t, clients["erin"], "/ops/x"); status != http.StatusForbidden {
		t.Errorf("erin after leaving ops: %d, want 403", status)
	}
	// Without the original path, forward-auth cannot apply rules: refused.
	if status, _, _ := ruleCode(t, clients["carol"], "/.gateway/auth"); status != http.StatusForbidden {
		t.Errorf("forward-auth without X-Forwarded-Uri while rules exist: %d, want 403", status)
	}
}

// With a portal the confirm page is the portal's, and the app host gets
// the renewed session through the handoff.
func TestRouteRulesReauthThroughPortal(t *testing.T) {
	clock := &harness.Clock{}
	g := portalGateway(t, harness.Options{Clock: clock, Configure: func(c *config.Config) {
		c.Routes = []config.Route{
			{PathPrefix: "/admin/", Upstream: c.Upstream, RouteRules: config.RouteRules{Reauth: config.Duration{Duration: 5 * time.Minute}}},
			{PathPrefix: "/", Upstream: c.Upstream},
		}
	}})
	g.CreateUser(t, "ann")
	c := portalSignIn(t, g, "ann")
	clock.Advance(6 * time.Minute)
	resp := c.Get(t, "/admin/x", "Accept", "text/html")
	want := g.PortalURL + "/.gateway/login/confirm?need=password&rd=" + url.QueryEscape(g.URL+"/admin/x")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
		t.Fatalf("stale sign-in on the app host: %d to %q, want %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	if doc := mfaDoc(t, portalFollow(t, c, want)); doc.Find("#reauth_password").Length() != 1 {
		t.Fatal("the portal's confirm page has no password field")
	}
	resp = c.OnPortal().PostForm(t, "/.gateway/login/confirm", url.Values{
		"need": {"password"}, "rd": {g.URL + "/admin/x"}, "reauth_password": {harness.TestPassword},
	})
	cb := portalToCallback(t, g, c, resp)
	resp = portalFollow(t, c, cb)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/admin/x" {
		t.Fatalf("callback: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if e, resp := c.Echo(t, "/admin/x"); e == nil || e.Header.Get("X-Forwarded-User") != "ann" {
		t.Fatalf("app host after confirming on the portal: %d", resp.StatusCode)
	}
}
