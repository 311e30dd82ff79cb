package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authgate/gateway/internal/testkit/harness"
)

// portalGateway starts a gateway whose portal is a second port of its own.
func portalGateway(t *testing.T, o harness.Options) *harness.Gateway {
	t.Helper()
	o.Portal = true
	return harness.Start(t, o)
}

// portalFollow sends a GET to an absolute URL with c's cookies and returns
// the response (redirects not followed).
func portalFollow(t *testing.T, c *harness.Client, abs string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, abs, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	resp, err := c.Client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", abs, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// portalCallbackURL signs c in on the portal with rd and returns where the
// portal sends the browser: the app host's callback with a fresh code.
func portalCallbackURL(t *testing.T, g *harness.Gateway, c *harness.Client, name, rd string) string {
	t.Helper()
	resp := c.OnPortal().PostForm(t, "/.gateway/login", url.Values{"username": {name}, "password": {harness.TestPassword}, "rd": {rd}})
	return portalToCallback(t, g, c, resp)
}

// portalToCallback follows, with c's cookies, the redirects that lead from
// a signed-in portal to an app host's callback: the app host first tags the
// browser (its /.gateway/login), then the portal makes the code. It returns
// the callback URL without following it.
func portalToCallback(t *testing.T, g *harness.Gateway, c *harness.Client, resp *http.Response) string {
	t.Helper()
	for range 3 {
		loc := resp.Header.Get("Location")
		if resp.StatusCode/100 != 3 {
			break
		}
		if strings.HasPrefix(loc, g.URL+"/.gateway/callback?code=") {
			return loc
		}
		resp = portalFollow(t, c, loc)
	}
	t.Fatalf("portal sign-in: %d to %q, want the app's callback", resp.StatusCode, resp.Header.Get("Location"))
	return ""
}

// portalSignIn signs a new browser in the way a person does: the app sends
// it to the portal, the portal hands the session back through the app's
// callback, and the app lets it in. It returns the client on the app host.
func portalSignIn(t *testing.T, g *harness.Gateway, name string) *harness.Client {
	t.Helper()
	c := g.NewClient(t)
	resp := c.Get(t, "/app?x=1", "Accept", "text/html")
	login := resp.Header.Get("Location")
	want := g.PortalURL + "/.gateway/login?rd=" + url.QueryEscape(g.URL+"/app?x=1")
	if resp.StatusCode != http.StatusFound || login != want {
		t.Fatalf("app without a cookie: %d to %q, want %q", resp.StatusCode, login, want)
	}
	cb := portalCallbackURL(t, g, c, name, g.URL+"/app?x=1")
	resp = portalFollow(t, c, cb)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/app?x=1" {
		t.Fatalf("callback: %d to %q, want /app?x=1", resp.StatusCode, resp.Header.Get("Location"))
	}
	if e, resp := c.Echo(t, "/app?x=1"); e == nil || e.Header.Get("X-Forwarded-User") != name {
		t.Fatalf("app after the handoff: %d %+v", resp.StatusCode, e)
	}
	return c
}
