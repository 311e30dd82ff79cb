package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// signIn posts the login form and returns the response without checking it.
func signIn(t *testing.T, c *harness.Client, username, password, rd string) *http.Response {
	t.Helper()
	return c.PostForm(t, "/.gateway/login", url.Values{"username": {username}, "password": {password}, "rd": {rd}})
}

// sessionCookieOf returns the Set-Cookie of the session cookie in resp.
func sessionCookieOf(t *testing.T, g *harness.Gateway, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, ck := range resp.Cookies() {
		if ck.Name == g.Config.Cookie.Name {
			return ck
		}
	}
	t.Fatalf("no %s cookie in the response (status %d)", g.Config.Cookie.Name, resp.StatusCode)
	return nil
}

// codeOf fetches path (API style unless header says otherwise) and returns
// the status, closing the body.
func codeOf(t *testing.T, c *harness.Client, path string, header ...string) int {
	t.Helper()
	resp := c.Get(t, path, header...)
	resp.Body.Close()
	return resp.StatusCode
}

// pollCode polls path with c until it answers want, failing after d.
func pollCode(t *testing.T, c *harness.Client, path string, want int, d time.Duration, header ...string) {
	t.Helper()
	deadline := time.Now().Add(d)
	got := 0
	for {
		if got = codeOf(t, c, path, header...); got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: still %d after %v, want %d", path, got, d, want)
		}
		time.Sleep(15 * time.Millisecond)
	}
}

// pageError returns the text of the error line of a gateway page.
func pageError(t *testing.T, body io.Reader) string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(body)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(doc.Find("#error").Text())
}

func TestSignInReachesAppWithIdentityHeaders(t *testing.T) {
	// Staff must set up 2FA by default; that flow has its own tests.
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.MFA.Require = "off" }})
	g.CreateUser(t, "alice", "user", "support")
	c := g.NewClient(t)

	resp := signIn(t, c, "Alice", harness.TestPassword, "/dashboard?tab=1")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard?tab=1" {
		t.Fatalf("sign-in: %d to %q, want 303 to /dashboard?tab=1", resp.StatusCode, resp.Header.Get("Location"))
	}
	e, resp := c.Echo(t, "/dashboard?tab=1")
	if e == nil {
		t.Fatalf("signed in but not proxied: %d", resp.StatusCode)
	}
	want := map[string]string{
		"X-Forwarded-User":   "alice",
		"X-Forwarded-Email":  "alice@example.com",
		"X-Forwarded-Groups": "user,support",
	}
	for k, v := range want {
		if got := e.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("upstream got %s = %q, want exactly %q", k, got, v)
		}
	}
	if e.Path != "/dashboard" || e.Query != "tab=1" {
		t.Errorf("upstream got path %q query %q", e.Path, e.Query)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain-http", true: "secure"}[secure], func(t *testing.T) {
			g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.Cookie.Secure = secure }})
			g.CreateUser(t, "alice")
			resp := signIn(t, g.NewClient(t), "alice", harness.TestPassword, "/")
			ck := sessionCookieOf(t, g, resp)
			if !ck.HttpOnly {
				t.Error("session cookie is not HttpOnly")
			}
			if ck.SameSite != http.SameSiteLaxMode {
				t.Errorf("SameSite = %v, want Lax", ck.SameSite)
			}
			if ck.Domain != "" || strings.Contains(strings.ToLower(ck.Raw), "domain=") {
				t.Errorf("session cookie has a Domain (%q); it must be host-only", ck.Raw)
			}
			if ck.Path != "/" {
				t.Errorf("Path = %q, want /", ck.Path)
			}
			if ck.Secure != secure {
				t.Errorf("Secure = %v with cookie.secure %v", ck.Secure, secure)
			}
			if len(ck.Value) < 40 {
				t.Errorf("cookie value %d bytes: too short to hold an encrypted session", len(ck.Value))
			}
		})
	}
}

func TestUpstreamNeverSeesSessionCookie(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.PublicPaths = []string{"/public/"} }})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	sess := c.SessionCookie()

	// App cookies come before, after and (as a second header line) beside
	// the gateway's, including values Go's cookie parser rejects: they must
	// reach the app byte for byte.
	appCookies := []string{`theme=dark`, `prefs={"a":1,"b":"x"}`, `legacy=a\b`}
	for _, path := range []string{"/app", "/public/page"} {
		req, _ := http.NewRequest(http.MethodGet, g.URL+path, nil)
		req.Header.Add("Cookie", appCookies[0]+"; "+g.Config.Cookie.Name+"="+sess+"; "+appCookies[1])
		// The same cookie twice (two different values would be refused as
		// ambiguous: e2e/redteam_portal_test.go); every copy is removed.
		req.Header.Add("Cookie", appCookies[2]+"; "+g.Config.Cookie.Name+"="+sess)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if strings.Contains(string(body), g.Config.Cookie.Name) || strings.Contains(string(body), sess[:20]) {
			t.Errorf("%s: the upstream received the gateway's session cookie: %s", path, body)
		}
		for _, ac := range appCookies {
			if !strings.Contains(string(body), jsonString(ac)) {
				t.Errorf("%s: app cookie %s did not reach the upstream intact: %s", path, ac, body)
			}
		}
	}
}

// jsonString is s as encoding/json writes it inside a string (the echo app
// answers JSON), minus the quotes.
func jsonString(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

func TestSameAnswerForUnknownUserAndWrongPassword(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)

	wrong := signIn(t, c, "alice", "not the right password at all", "/")
	wrongBody, _ := io.ReadAll(wrong.Body)
	unknown := signIn(t, c, "nobody", "not the right password at all", "/")
	unknownBody, _ := io.ReadAll(unknown.Body)

	if wrong.StatusCode != unknown.StatusCode {
		t.Errorf("status: wrong password %d, unknown user %d", wrong.StatusCode, unknown.StatusCode)
	}
	if wrong.StatusCode == http.StatusSeeOther || wrong.StatusCode == http.StatusOK {
		t.Errorf("a wrong password got %d", wrong.StatusCode)
	}
	msgWrong := pageError(t, strings.NewReader(string(wrongBody)))
	msgUnknown := pageError(t, strings.NewReader(string(unknownBody)))
	if msgWrong == "" || msgWrong != msgUnknown {
		t.Errorf("messages differ: wrong password %q, unknown user %q", msgWrong, msgUnknown)
	}
	// The whole page is the same but for the username typed back in.
	a := strings.ReplaceAll(string(wrongBody), "alice", "USER")
	b := strings.ReplaceAll(string(unknownBody), "nobody", "USER")
	if a != b {
		t.Errorf("the pages for a wrong password and an unknown user differ:\n%s\n----\n%s", a, b)
	}
	if sess := c.SessionCookie(); sess != "" {
		t.Error("a failed sign-in set a session cookie")
	}
}

func TestEverySignInGetsNewSessionAndEndsThePreviousOne(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	first := c.SessionCookie()

	c.Login(t, "alice", harness.TestPassword)
	second := c.SessionCookie()
	if first == second || second == "" {
		t.Fatal("the second sign-in kept the same session cookie")
	}
	if code := codeOf(t, c, "/app"); code != http.StatusOK {
		t.Fatalf("new session: %d", code)
	}
	replay := g.NewClient(t)
	replay.SetSessionCookie(first)
	if code := codeOf(t, replay, "/app"); code != http.StatusUnauthorized {
		t.Errorf("the browser's previous session still works after a new sign-in: %d", code)
	}

	// A planted cookie of someone else is ended too when the browser signs in.
	g.CreateUser(t, "mallory")
	planted := g.NewClient(t)
	planted.Login(t, "mallory", harness.TestPassword)
	mallory := planted.SessionCookie()
	victim := g.NewClient(t)
	victim.SetSessionCookie(mallory)
	victim.Login(t, "alice", harness.TestPassword)
	if code := codeOf(t, planted, "/app"); code != http.StatusUnauthorized {
		t.Errorf("the planted session survived the victim's sign-in: %d", code)
	}
}

func TestDisabledUserCannotSignIn(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	u := g.CreateUser(t, "alice")
	disableUser(t, g, u.ID)
	c := g.NewClient(t)
	resp := signIn(t, c, "alice", harness.TestPassword, "/")
	if resp.StatusCode == http.StatusSeeOther || c.SessionCookie() != "" {
		t.Fatalf("a disabled user signed in: %d", resp.StatusCode)
	}
	// Only the right password reveals that the account is disabled.
	resp = signIn(t, c, "alice", "not the right password at all", "/")
	if msg := pageError(t, resp.Body); !strings.Contains(msg, "Wrong username or password") {
		t.Errorf("wrong password for a disabled account says %q", msg)
	}
}
