package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/server"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store/passwords"
)

func TestAppHostServesOnlyTheHandoffSignOutAndForwardAuth(t *testing.T) {
	g := portalGateway(t, harness.Options{Configure: func(c *config.Config) { c.MFA.Require = "off" }})
	g.CreateUser(t, "ann", "admin")
	c := portalSignIn(t, g, "ann") // an admin, signed in on both hosts
	for _, path := range []string{
		"/.gateway/api/v1/me", "/.gateway/api/v1/me/sessions", "/.gateway/api/v1/users?q=a",
		"/.gateway/api/v1/audit", "/.gateway/admin", "/.gateway/admin/users/ann", "/.gateway/account/sessions",
		"/.gateway/login/2fa", "/.gateway/reset", "/.gateway/nope",
	} {
		if resp := c.Get(t, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s on the app host: %d, want 404", path, resp.StatusCode)
		}
	}
	for _, path := range []string{
		"/.gateway/api/v1/me/signout-all", "/.gateway/api/v1/users/ann/reset-link", "/.gateway/account/password",
		"/.gateway/admin/users/ann/lock", "/.gateway/login",
	} {
		resp := c.Do(t, http.MethodPost, path, strings.NewReader(`{"reason":"x"}`), "Origin", g.URL, "Content-Type", "application/json")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s on the app host: %d, want 404", path, resp.StatusCode)
		}
	}
	for path, want := range map[string]string{
		"/.gateway/account":         g.PortalURL + "/.gateway/account",
		"/.gateway":                 g.PortalURL + "/.gateway/account",
		"/.gateway/login?rd=%2Fx":   g.PortalURL + "/.gateway/login?rd=" + url.QueryEscape(g.URL+"/.gateway/callback?browser=TAG&rd=%2Fx"),
		"/.gateway/login":           g.PortalURL + "/.gateway/login?rd=" + url.QueryEscape(g.URL+"/.gateway/callback?browser=TAG&rd=%2F"),
		"/.gateway/login?rd=//evil": g.PortalURL + "/.gateway/login?rd=" + url.QueryEscape(g.URL+"/.gateway/callback?browser=TAG&rd=%2F"),
	} {
		// The way back is this host's callback with the browser's handoff
		// tag (its cookie), so the portal's code works in this browser only.
		resp := c.Get(t, path, "Accept", "text/html")
		tag := ""
		for _, ck := range c.Jar.Cookies(mustURL(t, g.URL+"/.gateway/callback")) {
			if ck.Name == g.Config.Cookie.Name+"_handoff" {
				tag = ck.Value
			}
		}
		if want = strings.Replace(want, "TAG", tag, 1); tag == "" || resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
			t.Errorf("GET %s on the app host: %d to %q, want %q", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	if resp := c.Get(t, "/.gateway/logout", "Accept", "text/html"); resp.StatusCode != http.StatusOK ||
		!strings.Contains(rtBody(t, resp), `id="confirm-signout"`) {
		t.Errorf("GET logout on the app host: %d, want the confirm page", resp.StatusCode)
	}
	if resp := c.Get(t, "/.gateway/static/style.css"); resp.StatusCode != http.StatusOK {
		t.Errorf("static on the app host: %d", resp.StatusCode)
	}
	if resp := c.Get(t, "/.gateway/auth"); resp.StatusCode != http.StatusOK || resp.Header.Get("X-Forwarded-User") != "ann" {
		t.Errorf("forward-auth on the app host: %d", resp.StatusCode)
	}

	// The portal serves the pages but never proxies the app.
	p := c.OnPortal()
	if code, _ := staffCall(t, p, "GET", "/.gateway/api/v1/me", nil); code != http.StatusOK {
		t.Errorf("me on the portal: %d", code)
	}
	if code, _ := staffCall(t, p, "GET", "/.gateway/api/v1/users?q=a", nil); code != http.StatusOK {
		t.Errorf("staff API on the portal: %d", code)
	}
	if resp := p.Get(t, "/app"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("app path on the portal: %d, want 404", resp.StatusCode)
	}
	if resp := p.Get(t, "/"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/.gateway/account" {
		t.Errorf("portal root: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := p.Get(t, "/.gateway/callback?code=x"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("callback on the portal: %d, want 404", resp.StatusCode)
	}
}

func TestAppCookieAndPortalCookieAreNotInterchangeable(t *testing.T) {
	g := portalGateway(t, harness.Options{})
	g.CreateUser(t, "ann")
	c := portalSignIn(t, g, "ann")
	appCookie, portalCookie := c.SessionCookie(), c.OnPortal().SessionCookie()
	if appCookie == "" || portalCookie == "" || appCookie == portalCookie {
		t.Fatalf("want two different cookies, got app %q portal %q", appCookie, portalCookie)
	}
	// The app's cookie under the portal's name opens nothing on the portal.
	thief := g.NewPortalClient(t)
	thief.SetSessionCookie(appCookie)
	if code, _ := staffCall(t, thief, "GET", "/.gateway/api/v1/me", nil); code != http.StatusUnauthorized {
		t.Errorf("app cookie on the portal: %d, want 401", code)
	}
	// Nor the portal's cookie under the app's name on the app.
	other := g.NewClient(t)
	other.SetSessionCookie(portalCookie)
	if e, _ := other.Echo(t, "/app"); e != nil {
		t.Error("portal cookie reached the app")
	}
	// The upstream never sees either cookie.
	e, _ := c.Echo(t, "/app")
	if ck := e.Header.Get("Cookie"); strings.Contains(ck, g.Config.Cookie.Name) || strings.Contains(ck, g.Config.Cookie.PortalName) {
		t.Errorf("upstream saw the gateway's cookies: %q", ck)
	}
	// One session, so one device on the list.
	var out struct {
		Sessions []struct{ Current bool } `json:"sessions"`
	}
	resp := c.OnPortal().Get(t, "/.gateway/api/v1/me/sessions")
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Sessions) != 1 {
		t.Fatalf("devices after signing in on portal and app: %+v %v, want one", out, err)
	}
}

func TestHandoffCodeWorksOnceOnItsHostOnly(t *testing.T) {
	clock := &harness.Clock{}
	g := portalGateway(t, harness.Options{Clock: clock})
	g.CreateUser(t, "ann")
	c := g.NewClient(t)
	refused := func(what string, resp *http.Response) {
		t.Helper()
		body := rtBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, g.PortalURL+"/.gateway/login") {
			t.Errorf("%s: %d, want 400 with a link to the portal:\n%.400s", what, resp.StatusCode, body)
		}
		for _, ck := range resp.Cookies() {
			t.Errorf("%s set cookie %s", what, ck.Name)
		}
	}

	cb := portalCallbackURL(t, g, c, "ann", g.URL+"/app")
	if resp := portalFollow(t, c, cb); resp.StatusCode != http.StatusFound {
		t.Fatalf("first use: %d", resp.StatusCode)
	}
	refused("replayed code", portalFollow(t, g.NewClient(t), cb))

	// A code made for this app host, taken to another host (same listener,
	// another name), is refused there and is used up.
	cb = portalCallbackURL(t, g, c, "ann", g.URL+"/app")
	foreign := strings.Replace(cb, "127.0.0.1", "localhost", 1)
	refused("code on another host", portalFollow(t, g.NewClient(t), foreign))
	refused("code after a try on another host", portalFollow(t, g.NewClient(t), cb))

	cb = portalCallbackURL(t, g, c, "ann", g.URL+"/app")
	clock.Advance(61 * time.Second)
	refused("expired code", portalFollow(t, g.NewClient(t), cb))
	refused("garbage code", portalFollow(t, g.NewClient(t), g.URL+"/.gateway/callback?code=nope"))
}

func TestSignedInOnThePortalMeansNoPasswordForTheNextApp(t *testing.T) {
	g := portalGateway(t, harness.Options{})
	g.CreateUser(t, "ann")
	c := portalSignIn(t, g, "ann")
	// The same browser without the app's cookie (a second app host would
	// be just like this): the portal hands the session over at once.
	fresh := g.NewClient(t)
	u, _ := url.Parse(g.PortalURL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == g.Config.Cookie.PortalName {
			fresh.OnPortal().SetSessionCookie(ck.Value)
		}
	}
	resp := fresh.Get(t, "/app", "Accept", "text/html")
	resp = portalFollow(t, fresh, resp.Header.Get("Location"))
	portalFollow(t, fresh, portalToCallback(t, g, fresh, resp))
	if e, _ := fresh.Echo(t, "/app"); e == nil || e.Header.Get("X-Forwarded-User") != "ann" {
		t.Fatal("second app host not signed in")
	}
	if fresh.SessionCookie() == "" || fresh.SessionCookie() == fresh.OnPortal().SessionCookie() {
		t.Fatal("the app host did not get a cookie of its own")
	}
}

func TestRevokingOnThePortalEndsTheAppCookieOnAnotherReplica(t *testing.T) {
	srv := redistest.Start(t)
	secret := rand.Text() + rand.Text()
	a := portalGateway(t, harness.Options{Redis: srv, Secret: secret})
	b := portalGateway(t, harness.Options{Redis: srv, Secret: secret})
	a.CreateUser(t, "ann")
	onA := portalSignIn(t, a, "ann")
	onB := onA.For(b) // the app cookie, presented to the other replica
	if got := status(t, onB, "/app"); got != http.StatusOK {
		t.Fatalf("app cookie on replica B: %d", got)
	}
	// The person ends that session from the portal's devices list.
	p := onA.OnPortal()
	var out struct {
		Sessions []struct{ ID string } `json:"sessions"`
	}
	if err := json.NewDecoder(p.Get(t, "/.gateway/api/v1/me/sessions").Body).Decode(&out); err != nil || len(out.Sessions) != 1 {
		t.Fatalf("sessions: %+v %v", out, err)
	}
	resp := p.Do(t, http.MethodPost, "/.gateway/api/v1/me/sessions/"+out.Sessions[0].ID+"/revoke", nil, "Origin", a.PortalURL)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke on the portal: %d", resp.StatusCode)
	}
	refusedWithin(t, onB, 2*time.Second, "revoked on the portal of A")
	if got := status(t, onA, "/app"); got != http.StatusUnauthorized {
		t.Errorf("app cookie on replica A after the revocation: %d", got)
	}
}

func TestSignOutFromAnAppEndsTheSessionEverywhere(t *testing.T) {
	g := portalGateway(t, harness.Options{})
	g.CreateUser(t, "ann")
	c := portalSignIn(t, g, "ann")
	// What an app's "Sign out" button does: a form POST from its page.
	resp := c.PostForm(t, "/.gateway/logout", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != g.PortalURL+"/.gateway/login?m=signed_out" {
		t.Fatalf("app sign-out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if e, _ := c.Echo(t, "/app"); e != nil {
		t.Error("the app still lets the browser in")
	}
	if code, _ := staffCall(t, c.OnPortal(), "GET", "/.gateway/api/v1/me", nil); code != http.StatusUnauthorized {
		t.Errorf("portal cookie after signing out on the app: %d, want 401", code)
	}
	page := portalFollow(t, c, resp.Header.Get("Location"))
	if body := rtBody(t, page); !strings.Contains(body, "You are signed out.") {
		t.Errorf("signed-out page: %d %.300s", page.StatusCode, body)
	}
	// Another site cannot sign people out.
	other := portalSignIn(t, g, "ann")
	resp = other.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site sign-out: %d, want 403", resp.StatusCode)
	}
	if e, _ := other.Echo(t, "/app"); e == nil {
		t.Error("a cross-site POST signed the person out")
	}
}

func TestWithoutAPortalTheConsoleAndStaffAPIAreOff(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.MFA.Require = "off" }})
	g.CreateUser(t, "ann", "admin")
	c := g.NewClient(t)
	c.Login(t, "ann", harness.TestPassword)
	for _, path := range []string{"/.gateway/admin", "/.gateway/admin/audit", "/.gateway/api/v1/users?q=a", "/.gateway/api/v1/users/ann", "/.gateway/api/v1/audit"} {
		if resp := c.Get(t, path, "Accept", "text/html"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s without a portal: %d, want 404", path, resp.StatusCode)
		}
	}
	resp := c.Do(t, http.MethodPost, "/.gateway/api/v1/users/ann/reset-link", strings.NewReader(`{"reason":"x"}`), "Origin", g.URL, "Content-Type", "application/json")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("staff reset-link without a portal: %d, want 404", resp.StatusCode)
	}
	// Whatever the credential: the routes are not there at all.
	if resp := g.NewClient(t).Get(t, "/.gateway/api/v1/users?q=a", "Authorization", "Bearer gwt_not_a_token"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("staff API with a bearer token without a portal: %d, want 404", resp.StatusCode)
	}
	// The person's own pages keep working on the one origin.
	if code, _ := staffCall(t, c, "GET", "/.gateway/api/v1/me", nil); code != http.StatusOK {
		t.Errorf("me without a portal: %d", code)
	}
	if resp := c.Get(t, "/.gateway/account", "Accept", "text/html"); resp.StatusCode != http.StatusOK {
		t.Errorf("account page without a portal: %d", resp.StatusCode)
	}
	if resp := c.Get(t, "/.gateway/logout", "Accept", "text/html"); resp.StatusCode != http.StatusOK {
		t.Errorf("logout confirm page without a portal: %d", resp.StatusCode)
	}
}

func TestStartUpWarnsWithoutAPortal(t *testing.T) {
	srv := redistest.Start(t)
	for _, portal := range []bool{false, true} {
		cfg := config.Defaults()
		cfg.Upstream, cfg.Redis.URL, cfg.Secret, cfg.Cookie.Secure = "http://127.0.0.1:9", srv.URL(), rand.Text()+rand.Text(), false
		if portal {
			cfg.PortalURL = "http://127.0.0.1:9443"
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		a, err := server.New(context.Background(), &cfg, slog.New(slog.NewTextHandler(&logs, nil)), server.Options{HashParams: passwords.TestParams()})
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "set portal_url (GATEWAY_PORTAL_URL)")
		if warned == portal {
			t.Errorf("portal %v: warning logged %v:\n%s", portal, warned, logs.String())
		}
	}
}

func TestAppCannotSetThePortalsCookie(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/plant" {
			harness.EchoHandler().ServeHTTP(w, r)
			return
		}
		w.Header().Add("Set-Cookie", "gateway_portal=planted; Path=/")
		w.Header().Add("Set-Cookie", "gateway_session=planted; Path=/")
		w.Header().Add("Set-Cookie", "app_pref=dark; Path=/")
		w.WriteHeader(http.StatusOK)
	})
	g := portalGateway(t, harness.Options{Upstream: app})
	g.CreateUser(t, "ann")
	c := portalSignIn(t, g, "ann")
	resp := c.Get(t, "/plant")
	var names []string
	for _, ck := range resp.Cookies() {
		names = append(names, ck.Name)
	}
	if len(names) != 1 || names[0] != "app_pref" {
		t.Errorf("cookies the app could set through the gateway: %v, want only app_pref", names)
	}
}
