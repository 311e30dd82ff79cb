package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// TestBrandingOnEveryPage configures ui.* and checks what a visitor sees:
// the title (escaped, not markup), the logo allowed by the page's CSP, the
// accent colour's stylesheet, and the way back to the app, on the sign-in
// page, the account page and an error page.
func TestBrandingOnEveryPage(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.UI = config.UI{
			Title: `Acme <b>accounts</b>`, LogoURL: "https://cdn.example.com/acme.svg",
			Accent: "#6B2C91", AppURL: "https://app.example.com/home",
		}
	}})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	check := func(what string, resp *http.Response) {
		t.Helper()
		doc := acctDoc(t, resp, resp.StatusCode)
		if got := strings.TrimSpace(doc.Find("#brand").Text()); got != "Acme <b>accounts</b>" {
			t.Errorf("%s: header shows %q, want the title as text", what, got)
		}
		if doc.Find("#brand b").Length() != 0 {
			t.Errorf("%s: the title was rendered as markup", what)
		}
		if src, _ := doc.Find("#logo").Attr("src"); src != "https://cdn.example.com/acme.svg" {
			t.Errorf("%s: logo %q", what, src)
		}
		if href, _ := doc.Find("#back-to-app").Attr("href"); href != "https://app.example.com/home" {
			t.Errorf("%s: Back to the app leads to %q", what, href)
		}
		if doc.Find(`link[href="/.gateway/static/brand.css"]`).Length() != 1 {
			t.Errorf("%s: no accent stylesheet", what)
		}
		if title := doc.Find("title").Text(); !strings.HasSuffix(title, " — Acme <b>accounts</b>") {
			t.Errorf("%s: tab title %q does not name the service", what, title)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: https://cdn.example.com;") {
			t.Errorf("%s: CSP %q does not allow the logo's origin", what, csp)
		}
	}
	check("sign-in page", c.Get(t, "/.gateway/login", "Accept", "text/html"))
	c.Login(t, "alice", harness.TestPassword)
	check("account page", c.Get(t, "/.gateway/account", "Accept", "text/html"))
	check("error page", c.Get(t, "/.gateway/no-such-page", "Accept", "text/html"))

	resp := c.Get(t, "/.gateway/static/brand.css")
	css, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") ||
		!strings.Contains(string(css), "--accent:#6b2c91") || !strings.Contains(string(css), "prefers-color-scheme: dark") {
		t.Errorf("brand.css: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), css)
	}
}

// TestBackToTheAppDefaults: without a portal the app is on the same
// origin, so the way back is "/"; with a portal and no ui.app_url there is
// no link (the portal cannot know where the person came from).
func TestBackToTheAppDefaults(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	doc := acctDoc(t, g.NewClient(t).Get(t, "/.gateway/login", "Accept", "text/html"), http.StatusOK)
	if href, _ := doc.Find("#back-to-app").Attr("href"); href != "/" {
		t.Errorf("one origin: Back to the app leads to %q, want /", href)
	}
	if doc.Find(`link[href$="brand.css"]`).Length() != 0 {
		t.Error("accent stylesheet linked without ui.accent")
	}
	if got := strings.TrimSpace(doc.Find("#brand").Text()); got != config.DefaultUITitle {
		t.Errorf("default title %q", got)
	}
	p := harness.Start(t, harness.Options{Portal: true})
	doc = acctDoc(t, p.NewPortalClient(t).Get(t, "/.gateway/login", "Accept", "text/html"), http.StatusOK)
	if doc.Find("#back-to-app").Length() != 0 {
		t.Error("portal without ui.app_url shows a Back to the app link")
	}
}
