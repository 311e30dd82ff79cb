package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// mfaBrowserSubmit clicks a submit button and waits for the page it loads,
// failing unless its status is want.
func mfaBrowserSubmit(t *testing.T, ctx context.Context, button string, want int) {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID(button)))
	if err != nil {
		t.Fatalf("click #%s: %v", button, err)
	}
	if int(resp.Status) != want {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("click #%s: status %d at %s, want %d; page: %.300s", button, resp.Status, resp.URL, want, body)
	}
}

// mfaBrowserText is the text of the element with id.
func mfaBrowserText(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		t.Fatalf("read #%s: %v", id, err)
	}
	return strings.TrimSpace(s)
}

// TestMFABrowserEnrolAndSignIn turns 2FA on in Chromium the way a person
// does (reading the manual key off the page into an authenticator app,
// here oathtool), then signs out and back in with a code.
func TestMFABrowserEnrolAndSignIn(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "liv")
	ctx := browsertest.New(t)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(g.URL+"/.gateway/login?rd=/.gateway/account/2fa"),
		chromedp.SendKeys(chromedp.ID("username"), "liv"),
		chromedp.SendKeys(chromedp.ID("password"), harness.TestPassword),
	); err != nil {
		t.Fatalf("fill the login form: %v", err)
	}
	mfaBrowserSubmit(t, ctx, "submit", http.StatusOK)
	if s := mfaBrowserText(t, ctx, "mfa-status"); !strings.Contains(s, "Off") {
		t.Fatalf("status before: %q", s)
	}

	mfaBrowserSubmit(t, ctx, "setup", http.StatusOK)
	secret := mfaBrowserText(t, ctx, "manual-key-raw")
	grouped := mfaBrowserText(t, ctx, "manual-key")
	if secret == "" || strings.ReplaceAll(grouped, " ", "") != secret {
		t.Fatalf("manual key %q / %q", grouped, secret)
	}
	// The QR code is a PNG the browser actually draws under the page's CSP.
	width, err := chromedp.Run(ctx, chromedp.JavascriptAttribute[float64](chromedp.ID("qr"), "naturalWidth"))
	if err != nil || width < 100 {
		t.Fatalf("QR image not rendered: width %v, %v", width, err)
	}

	app := newMFAApp(t, secret)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("code"), app.code())); err != nil {
		t.Fatal(err)
	}
	mfaBrowserSubmit(t, ctx, "confirm", http.StatusOK)
	codes := strings.Fields(mfaBrowserText(t, ctx, "recovery-codes"))
	if len(codes) != 10 {
		t.Fatalf("recovery codes on the page: %q", codes)
	}
	// Nothing a person could misread when typing them from paper.
	for _, c := range codes {
		if strings.ContainsAny(c, "0oO1iIlL") {
			t.Errorf("recovery code %q has a look-alike character", c)
		}
	}
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("download"), "href"))
	if err != nil || !strings.HasPrefix(href.Value, "data:text/plain") {
		t.Errorf("download link %q, %v", href.Value, err)
	}

	// Sign out, and back in: password, then a code.
	mfaBrowserSubmit(t, ctx, "signout", http.StatusOK)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(g.URL+"/.gateway/login?rd=/app/home"),
		chromedp.SendKeys(chromedp.ID("username"), "liv"),
		chromedp.SendKeys(chromedp.ID("password"), harness.TestPassword),
	); err != nil {
		t.Fatalf("fill the login form: %v", err)
	}
	mfaBrowserSubmit(t, ctx, "submit", http.StatusOK)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(loc, "/.gateway/login/2fa") {
		t.Fatalf("after the password the browser is at %q (%v), want the code step", loc, err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("code"), app.code())); err != nil {
		t.Fatal(err)
	}
	mfaBrowserSubmit(t, ctx, "submit", http.StatusOK)
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	// The echo app answers with what it received: the path and the
	// identity headers the gateway set.
	if !strings.Contains(body, `"path":"/app/home"`) || !strings.Contains(body, `"X-Forwarded-User":["liv"]`) {
		t.Fatalf("after the code the app did not see liv at /app/home: %.300s", body)
	}
}
