package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	otptotp "github.com/pquerna/otp/totp"

	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// consoleBrowserStep runs actions and fails the test with what on error.
func consoleBrowserStep(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// consoleBrowserSubmit clicks a submit button and waits for the page it loads.
func consoleBrowserSubmit(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID(id))); err != nil {
		t.Fatalf("submit #%s: %v", id, err)
	}
}

// consoleBrowserPath is the path of the page the tab shows.
func consoleBrowserPath(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	return u.Path
}

// consoleBrowserText is the visible text of the page body.
func consoleBrowserText(t *testing.T, ctx context.Context) string {
	t.Helper()
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// consoleBrowserSignIn signs in on the login page the tab shows.
func consoleBrowserSignIn(t *testing.T, ctx context.Context, name, password string) {
	t.Helper()
	consoleBrowserStep(t, ctx, "fill the sign-in form",
		chromedp.SendKeys(chromedp.ID("username"), name),
		chromedp.SendKeys(chromedp.ID("password"), password),
	)
	consoleBrowserSubmit(t, ctx, "submit")
}

func TestSupportSignsSomeoneOutEverywhereInTheBrowser(t *testing.T) {
	// Default policy: support must use two-step verification. The console
	// lives on the portal; the victim signs in there from the app.
	g := harness.Start(t, harness.Options{Portal: true})
	bob := g.CreateUser(t, "bob", "support")
	secret := staffEnrolTOTP(t, g, bob)
	g.CreateUser(t, "victim")

	// The victim is signed in on their own device.
	victim := browsertest.New(t)
	consoleBrowserStep(t, victim, "victim opens the app", chromedp.Navigate(g.URL+"/app"))
	if p := consoleBrowserPath(t, victim); p != "/.gateway/login" {
		t.Fatalf("victim starts on %s, want the login page", p)
	}
	consoleBrowserSignIn(t, victim, "victim", harness.TestPassword)
	if p := consoleBrowserPath(t, victim); p != "/app" {
		t.Fatalf("victim signed in lands on %s, want /app", p)
	}

	// Support signs in with password and code, on another device.
	staff := browsertest.NewIsolated(t)
	consoleBrowserStep(t, staff, "open the console", chromedp.Navigate(g.PortalURL+"/.gateway/admin"))
	consoleBrowserSignIn(t, staff, "bob", harness.TestPassword)
	if p := consoleBrowserPath(t, staff); p != "/.gateway/login/2fa" {
		t.Fatalf("after the password support is on %s, want the code step", p)
	}
	code, err := otptotp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	consoleBrowserStep(t, staff, "type the code", chromedp.SendKeys(chromedp.ID("code"), code))
	consoleBrowserSubmit(t, staff, "submit")
	if p := consoleBrowserPath(t, staff); p != "/.gateway/admin" {
		t.Fatalf("after the code support is on %s (%s), want the console", p, consoleBrowserText(t, staff))
	}

	// Find the victim and sign them out everywhere, with a reason.
	consoleBrowserStep(t, staff, "search", chromedp.SendKeys(chromedp.ID("q"), "vict"))
	consoleBrowserSubmit(t, staff, "search")
	if _, err := chromedp.RunResponse(staff, chromedp.Click(chromedp.CSS("a.user-link"))); err != nil {
		t.Fatalf("open the user's page: %v", err)
	}
	if p := consoleBrowserPath(t, staff); p != "/.gateway/admin/users/victim" {
		t.Fatalf("user page at %s", p)
	}
	devices, err := chromedp.Run(staff, chromedp.Text(chromedp.ID("sessions")))
	if err != nil || !strings.Contains(devices, "Chrome") {
		t.Fatalf("the victim's browser is not listed: %q %v", devices, err)
	}
	const why = "caller proved identity; account takeover report 8812"
	// The button opens the confirm step, which names the effect.
	consoleBrowserStep(t, staff, "open the confirm step", chromedp.Click(chromedp.ID("signout-all-open")))
	effect, err := chromedp.Run(staff, chromedp.Text(chromedp.ID("signout-all-effect")))
	if err != nil || !strings.Contains(effect, "Signs victim out of every device at once") {
		t.Fatalf("the confirm step does not say what happens: %q %v", effect, err)
	}
	consoleBrowserStep(t, staff, "write the reason", chromedp.SendKeys(chromedp.ID("signout-all-reason"), why))
	consoleBrowserSubmit(t, staff, "signout-all")
	notice, err := chromedp.Run(staff, chromedp.Text(chromedp.ID("notice")))
	if err != nil || !strings.Contains(notice, "Signed out of all devices") {
		t.Fatalf("no confirmation on the console: %q %v", notice, err)
	}

	// The victim's next request lands on the login page.
	consoleBrowserStep(t, victim, "victim reloads the app", chromedp.Navigate(g.URL+"/app"))
	if p := consoleBrowserPath(t, victim); p != "/.gateway/login" {
		t.Fatalf("victim's next request lands on %s, want the login page", p)
	}
	// The login page says who ended the session and why, on the portal.
	if notice, err := chromedp.Run(victim, chromedp.Text(chromedp.CSS("p.notice"))); err != nil ||
		notice != "Support signed you out of all your devices. Reason given: “"+why+"”" {
		t.Errorf("the login page says %q (%v), want support's reason", notice, err)
	}
	// Signed in again, they see who did it and why on Login & Security.
	consoleBrowserSignIn(t, victim, "victim", harness.TestPassword)
	consoleBrowserStep(t, victim, "open Login & Security", chromedp.Navigate(g.URL+"/.gateway/account"),
		chromedp.WaitVisible(chromedp.ID("activity")))
	if text := consoleBrowserText(t, victim); !strings.Contains(text, "Support (bob) signed you out of all devices: "+why) {
		t.Fatalf("the victim's activity lacks the entry:\n%s", text)
	}
	// The console is not theirs: the 403 page keeps their navigation and a
	// way back.
	consoleBrowserStep(t, victim, "open the console", chromedp.Navigate(g.PortalURL+"/.gateway/admin"))
	if back, err := chromedp.Run(victim, chromedp.Text(chromedp.ID("back"))); err != nil || back != "Back to Login & Security" {
		t.Errorf("the 403 page offers %q (%v)", back, err)
	}
	if nav, err := chromedp.Run(victim, chromedp.Text(chromedp.CSS("header nav"))); err != nil || !strings.Contains(nav, "Sign out victim") {
		t.Errorf("the 403 page lost the navigation: %q (%v)", nav, err)
	}
}
