package e2e

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/mailtest"
)

// mailBound is how long a test waits for a mail at most. It is a limit
// for a loaded machine, not a measurement: tests log the time it took.
const mailBound = 30 * time.Second

// mailGateway starts a gateway with a portal that mails through a fresh
// Mailpit, with retries seconds apart.
func mailGateway(t *testing.T, more ...func(*config.Config)) (*harness.Gateway, *mailtest.Server) {
	t.Helper()
	box := mailtest.Start(t)
	g := harness.Start(t, harness.Options{Portal: true, Configure: func(c *config.Config) {
		c.MFA.Require = "off"
		c.SMTP.URL, c.SMTP.From = box.URL(), "Sign-in <signin@example.com>"
		c.Notify.RetryBase, c.Notify.RetryMax = config.Duration{Duration: 200 * time.Millisecond}, config.Duration{Duration: time.Second}
		for _, f := range more {
			f(c)
		}
	}})
	return g, box
}

// mailLogin signs name in on a new portal client that presents userAgent.
func mailLogin(t *testing.T, g *harness.Gateway, name, password, userAgent string) (*harness.Client, *http.Response) {
	t.Helper()
	c := g.NewPortalClient(t)
	resp := c.PostForm(t, "/.gateway/login", url.Values{"username": {name}, "password": {password}, "rd": {"/"}}, "User-Agent", userAgent)
	return c, resp
}

func mailLoginOK(t *testing.T, g *harness.Gateway, name, password, userAgent string) *harness.Client {
	t.Helper()
	c, resp := mailLogin(t, g, name, password, userAgent)
	if resp.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("login %s: %d %.300s", name, resp.StatusCode, b)
	}
	return c
}

// mailLink finds the link to page (e.g. "/.gateway/wasntme") in a mail's
// text body, and checks the HTML body has the same link.
func mailLink(t *testing.T, m *mailtest.Message, page string) string {
	t.Helper()
	re := regexp.MustCompile(`https?://[^\s"<>]+` + regexp.QuoteMeta(page) + `\?token=[A-Za-z0-9%_-]+`)
	link := re.FindString(m.Text)
	if link == "" {
		t.Fatalf("no %s link in the mail %q:\n%s", page, m.Subject, m.Text)
	}
	if !regexp.MustCompile(regexp.QuoteMeta(link)).MatchString(m.HTML) {
		t.Fatalf("the HTML body lacks the text body's link %s", page)
	}
	return link
}

// mailOpen opens a mailed link with c as a browser does: 302 to the clean
// page (the token moves into a cookie), then the clean page.
func mailOpen(t *testing.T, c *harness.Client, link, clean string) *http.Response {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	resp := c.Get(t, u.RequestURI(), "Accept", "text/html")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != clean {
		t.Fatalf("opening the link: %d to %q, want 302 to %s", resp.StatusCode, resp.Header.Get("Location"), clean)
	}
	return c.Get(t, clean, "Accept", "text/html")
}
