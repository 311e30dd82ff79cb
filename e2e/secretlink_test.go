package e2e

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// resetOpen opens a reset link with c the way a browser does: the link
// answers 302 to the clean page, moving the token into a cookie, and the
// clean page is fetched. It returns the clean page's answer.
func resetOpen(t *testing.T, c *harness.Client, link string) *http.Response {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	resp := c.Get(t, u.RequestURI(), "Accept", "text/html")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/.gateway/reset" {
		t.Fatalf("opening the link: %d to %q, want 302 to the clean page", resp.StatusCode, resp.Header.Get("Location"))
	}
	return c.Get(t, "/.gateway/reset", "Accept", "text/html")
}

// resetSubmit posts the reset form as the page does (the token is not in
// the form: the browser's cookie carries it).
func resetSubmit(t *testing.T, c *harness.Client, pw, confirm string) *http.Response {
	t.Helper()
	return c.PostForm(t, "/.gateway/reset", url.Values{"new_password": {pw}, "confirm_password": {confirm}})
}

// resetLinkFor has support make a reset link for name through the API; it
// must point at the portal (portal_url), where the reset page is served.
func resetLinkFor(t *testing.T, g *harness.Gateway, staff *harness.Client, name string) string {
	t.Helper()
	code, body := staffCall(t, staff, "POST", "/.gateway/api/v1/users/"+name+"/reset-link", staffReason("forgot password"))
	if code != http.StatusCreated {
		t.Fatalf("reset link: %d %v", code, body)
	}
	link := body["url"].(string)
	if !strings.HasPrefix(link, g.PortalURL+"/.gateway/reset?token=") {
		t.Fatalf("reset link %q is not on the portal", link)
	}
	return link
}

func TestResetLinkSurvivesLinkScanners(t *testing.T) {
	g := staffGateway(t, "off")
	bob, _ := staffSignIn(t, g, "bob", "support")
	g.CreateUser(t, "victim")
	old := g.NewPortalClient(t)
	old.Login(t, "victim", harness.TestPassword)
	link := resetLinkFor(t, g, bob, "victim")
	token := must(url.Parse(link)).Query().Get("token")

	// A mail scanner that does not follow redirects: it gets the redirect to
	// the clean address and a cookie, nothing else.
	plain := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := plain.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/.gateway/reset" {
		t.Fatalf("link: %d to %q, want 302 to /.gateway/reset", resp.StatusCode, resp.Header.Get("Location"))
	}
	if rp := resp.Header.Get("Referrer-Policy"); rp != "no-referrer" {
		t.Errorf("link answer Referrer-Policy %q", rp)
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Name, "_link_reset") {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.Path != "/.gateway/reset" || ck.SameSite != http.SameSiteLaxMode ||
		ck.MaxAge <= 0 || ck.MaxAge > 15*60 || strings.Contains(ck.Value, token) {
		t.Fatalf("link cookie: %+v", ck)
	}

	// One that follows redirects with a cookie jar: it sees the form at the
	// clean address, and the token is nowhere on that page.
	jar, _ := cookiejar.New(nil)
	follower := &http.Client{Timeout: 10 * time.Second, Jar: jar}
	resp, err = follower.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != g.PortalURL+"/.gateway/reset" {
		t.Fatalf("followed link: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if strings.Contains(string(body), token) || !strings.Contains(string(body), "victim") {
		t.Fatalf("the form page holds the token, or not the user: %.400s", body)
	}
	if rp := resp.Header.Get("Referrer-Policy"); rp != "no-referrer" {
		t.Errorf("form page Referrer-Policy %q", rp)
	}
	if !staffAlive(t, old) {
		t.Fatal("opening the link signed the user out")
	}

	// The token alone, without the cookie (as the old form posted it), is
	// refused: only the page's own cookie carries a token to the POST.
	const pw = "a fine new passphrase"
	stranger := g.NewPortalClient(t)
	resp = stranger.PostForm(t, "/.gateway/reset", url.Values{"token": {token}, "new_password": {pw}, "confirm_password": {pw}})
	if resp.StatusCode != http.StatusGone || !strings.Contains(pageError(t, resp.Body), "open the link") {
		t.Fatalf("POST without the cookie: %d, want 410 asking to open the link", resp.StatusCode)
	}

	// The person, after both scanners, opens the link and sets a password.
	person := g.NewPortalClient(t)
	resp = resetOpen(t, person, link)
	if doc, _ := goquery.NewDocumentFromReader(resp.Body); resp.StatusCode != http.StatusOK || doc.Find("#reset-username").Text() != "victim" {
		t.Fatalf("the person's form: %d", resp.StatusCode)
	}
	resp = resetSubmit(t, person, pw, pw)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/.gateway/login?m=password_reset" {
		t.Fatalf("the person's reset: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if rp := resp.Header.Get("Referrer-Policy"); rp != "no-referrer" {
		t.Errorf("reset answer Referrer-Policy %q", rp)
	}
	cleared := false
	for _, c := range resp.Cookies() {
		cleared = cleared || (strings.Contains(c.Name, "_link_reset") && c.MaxAge < 0)
	}
	if !cleared {
		t.Error("the link cookie was not cleared after use")
	}
	if staffAlive(t, old) {
		t.Fatal("the reset did not sign the user out everywhere")
	}
	g.NewPortalClient(t).Login(t, "victim", pw)

	// Replay: the scanner still holds a cookie with the token; it is used up.
	form := url.Values{"new_password": {"scanner's own passphrase"}, "confirm_password": {"scanner's own passphrase"}}
	req, _ := http.NewRequest("POST", g.PortalURL+"/.gateway/reset", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", g.PortalURL)
	resp, err = follower.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("replayed cookie: %d, want 410", resp.StatusCode)
	}
	if resp := resetOpen(t, g.NewPortalClient(t), link); resp.StatusCode != http.StatusGone {
		t.Fatalf("used link: %d, want 410", resp.StatusCode)
	}
	g.NewPortalClient(t).Login(t, "victim", pw)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestResetLinkInTheBrowser(t *testing.T) {
	g := staffGateway(t, "off")
	bob, _ := staffSignIn(t, g, "bob", "support")
	g.CreateUser(t, "victim")
	old := g.NewPortalClient(t)
	old.Login(t, "victim", harness.TestPassword)
	link := resetLinkFor(t, g, bob, "victim")

	ctx := browsertest.New(t)
	consoleBrowserStep(t, ctx, "open the link", chromedp.Navigate(link))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != g.PortalURL+"/.gateway/reset" {
		t.Fatalf("address bar shows %q (%v), want the clean page", loc, err)
	}
	if text := consoleBrowserText(t, ctx); !strings.Contains(text, "victim") {
		t.Fatalf("the page does not name the account: %q", text)
	}
	const pw = "my browser chose this"
	consoleBrowserStep(t, ctx, "type the new password",
		chromedp.SendKeys(chromedp.ID("new_password"), pw),
		chromedp.SendKeys(chromedp.ID("confirm_password"), pw),
	)
	consoleBrowserSubmit(t, ctx, "reset-submit")
	if p := consoleBrowserPath(t, ctx); p != "/.gateway/login" {
		t.Fatalf("after setting the password the browser is on %s (%s)", p, consoleBrowserText(t, ctx))
	}
	if staffAlive(t, old) {
		t.Fatal("the user's other device is still signed in")
	}
	consoleBrowserSignIn(t, ctx, "victim", pw)
	if p := consoleBrowserPath(t, ctx); p == "/.gateway/login" {
		t.Fatalf("signing in with the new password failed: %s", consoleBrowserText(t, ctx))
	}
}
