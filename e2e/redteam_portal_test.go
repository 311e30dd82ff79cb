package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authgate/gateway/internal/testkit/harness"
)

// Attacks on the portal's handoff and host split, tried the way an attacker
// would, each with what the victim would notice.

// An attacker signs in on the portal with their own account, keeps the
// handoff code their browser was sent to, and gets the victim to open it
// (a link in a mail, a top-level navigation from any page). The code must
// not sign the victim's browser in as the attacker on the app (login CSRF),
// nor replace a session the victim already has there.
func TestHandoffCodeFromAnotherBrowserSignsNoOneIn(t *testing.T) {
	g := portalGateway(t, harness.Options{})
	g.CreateUser(t, "mallory")
	g.CreateUser(t, "ann")

	attacker := g.NewClient(t)
	code := portalCallbackURL(t, g, attacker, "mallory", g.URL+"/app")

	victim := g.NewClient(t)
	resp := portalFollow(t, victim, code)
	if body := readAll(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "another browser") {
		t.Errorf("attacker's code in the victim's browser: %d, want 400 'made for another browser':\n%.300s", resp.StatusCode, body)
	}
	if e, _ := victim.Echo(t, "/app"); e != nil {
		t.Fatalf("victim reached the app as %q with the attacker's code", e.Header.Get("X-Forwarded-User"))
	}

	// A victim already signed in on the app keeps their own session.
	ann := portalSignIn(t, g, "ann")
	code = portalCallbackURL(t, g, attacker, "mallory", g.URL+"/app")
	portalFollow(t, ann, code)
	if e, _ := ann.Echo(t, "/app"); e == nil || e.Header.Get("X-Forwarded-User") != "ann" {
		t.Fatalf("signed-in victim after opening the attacker's code: %+v, want still ann", e)
	}

	// The attacker's own browser still completes its sign-in normally.
	code = portalCallbackURL(t, g, attacker, "mallory", g.URL+"/app")
	if resp := portalFollow(t, attacker, code); resp.StatusCode != http.StatusFound {
		t.Fatalf("the browser that asked for the code: %d", resp.StatusCode)
	}
	if e, _ := attacker.Echo(t, "/app"); e == nil || e.Header.Get("X-Forwarded-User") != "mallory" {
		t.Fatal("the browser that asked for the code is not signed in")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A code made just before the person signs out on the portal (a tab left
// open, a slow redirect) must not bring the ended session back on the app.
func TestHandoffCodeOfAnEndedSessionSignsNoOneIn(t *testing.T) {
	g := portalGateway(t, harness.Options{})
	g.CreateUser(t, "ann")
	c := g.NewClient(t)
	code := portalCallbackURL(t, g, c, "ann", g.URL+"/app")
	if resp := c.OnPortal().PostForm(t, "/.gateway/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out on the portal: %d", resp.StatusCode)
	}
	resp := portalFollow(t, c, code)
	if body := readAll(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "has ended") {
		t.Errorf("code of an ended session: %d, want 400 'has ended':\n%.300s", resp.StatusCode, body)
	}
	if e, _ := c.Echo(t, "/app"); e != nil {
		t.Fatal("the ended session reached the app through its handoff code")
	}
}

// Cookie tossing: a script on the app's host (another port of the portal's
// host, or a sibling subdomain for cookie names without "__Host-") plants
// the attacker's own cookie under the gateway's name with a narrower path;
// the browser then sends it before the visitor's. The visitor must not be
// taken for the attacker, on the portal or on the app.
func TestPlantedCookieDoesNotSwapTheVisitorsAccount(t *testing.T) {
	g := portalGateway(t, harness.Options{})
	g.CreateUser(t, "ann")
	g.CreateUser(t, "mallory")
	ann := portalSignIn(t, g, "ann")
	mallory := portalSignIn(t, g, "mallory")

	planted := g.Config.Cookie.PortalName + "=" + mallory.OnPortal().SessionCookie()
	resp := ann.OnPortal().Do(t, http.MethodGet, "/.gateway/api/v1/me", nil, "Cookie", planted)
	if body := readAll(t, resp); resp.StatusCode == http.StatusOK || strings.Contains(body, "mallory") {
		t.Errorf("portal with a planted cookie before the visitor's: %d %.200s, want signed out (401)", resp.StatusCode, body)
	}

	planted = g.Config.Cookie.Name + "=" + mallory.SessionCookie()
	if e, resp := ann.Echo(t, "/app", "Cookie", planted); e != nil {
		t.Errorf("app with a planted cookie before the visitor's: %d as %q, want no one", resp.StatusCode, e.Header.Get("X-Forwarded-User"))
	}
	// Without the planted cookie the visitor is still themselves.
	if e, _ := ann.Echo(t, "/app"); e == nil || e.Header.Get("X-Forwarded-User") != "ann" {
		t.Fatal("the visitor's own cookie stopped working")
	}
}

// Path tricks on an app host reach none of the portal's routes:
// the host alone decides which routes exist, whatever the path looks like.
func TestAppHostPathTricksReachNoPortalRoute(t *testing.T) {
	g := portalGateway(t, harness.Options{})
	g.CreateUser(t, "ann")
	c := portalSignIn(t, g, "ann")
	c.Jar.SetCookies(mustURL(t, g.URL), []*http.Cookie{{Name: g.Config.Cookie.PortalName, Value: c.OnPortal().SessionCookie(), Path: "/"}})
	for _, path := range []string{
		"/.gateway//api/v1/me", "/.gateway/./api/v1/me", "/.gateway/%2e/api/v1/me", "/.gateway/api/v1/../v1/me",
		"/.gateway/api/v1/../../admin", "/.gateway%2fapi/v1/me", "/.gateway/api%2fv1/me", "//.gateway/api/v1/me",
		"/.GATEWAY/api/v1/me", "/.gateway/static/../api/v1/me",
	} {
		// The app host's browser also carries the portal's cookie, as on a
		// two-port set-up; the API's answer names the person.
		resp := c.Get(t, path, "Accept", "application/json")
		if body := readAll(t, resp); strings.Contains(body, `"username"`) || strings.Contains(body, "Support console") {
			t.Errorf("GET %s on the app host: %d %.200s", path, resp.StatusCode, body)
		}
	}
}
