package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// TestNewDeviceAlertInTheBrowser: a sign-in in a Chromium that never
// signed in to the account mails an alert; opening its "This wasn't me"
// link changes nothing; the button on the page ends every session, the
// browser's own and the laptop's.
func TestNewDeviceAlertInTheBrowser(t *testing.T) {
	g, box := mailGateway(t)
	g.CreateUser(t, "alice")
	laptop := mailLoginOK(t, g, "alice", harness.TestPassword, uaFirefox)

	ctx := browsertest.New(t)
	consoleBrowserStep(t, ctx, "open the sign-in page", chromedp.Navigate(g.PortalURL+"/.gateway/login"))
	start := time.Now()
	consoleBrowserSignIn(t, ctx, "alice", harness.TestPassword)
	m := box.Await(t, "alice@example.com", "New sign-in", mailBound)
	t.Logf("new-device mail in Mailpit %s after the browser's sign-in", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(m.Text, "Chrom") {
		t.Errorf("the alert does not name the browser:\n%s", m.Text)
	}
	link := mailLink(t, m, "/.gateway/wasntme")

	consoleBrowserStep(t, ctx, "open the link", chromedp.Navigate(link))
	if p := consoleBrowserPath(t, ctx); p != "/.gateway/wasntme" {
		t.Fatalf("the link leads to %s", p)
	}
	if text := consoleBrowserText(t, ctx); !strings.Contains(text, "alice") {
		t.Fatalf("the page does not name the account: %q", text)
	}
	if !staffAlive(t, laptop) {
		t.Fatal("opening the link signed the laptop out")
	}
	consoleBrowserSubmit(t, ctx, "wasntme-confirm")
	if text := consoleBrowserText(t, ctx); !strings.Contains(text, "Every device") {
		t.Fatalf("after the button: %q", text)
	}
	if staffAlive(t, laptop) {
		t.Fatal("the laptop is still signed in")
	}
	consoleBrowserStep(t, ctx, "open the account page", chromedp.Navigate(g.PortalURL+"/.gateway/account"))
	if p := consoleBrowserPath(t, ctx); p != "/.gateway/login" {
		t.Fatalf("the browser that signed in is still signed in: it shows %s", p)
	}
}
