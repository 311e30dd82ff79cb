package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	otptotp "github.com/pquerna/otp/totp"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/axetest"
	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// a11yCheck runs axe-core on the page the tab shows in light and dark mode
// at 1280 and 390 px, and fails on any serious or critical violation, on
// a page wider than a 390 px phone, or on a page without a dark mode.
func a11yCheck(t *testing.T, ctx context.Context, axe, page string) {
	t.Helper()
	axetest.CheckModes(t, ctx, axe, page)
}

// TestEveryPageIsAccessible walks the gateway's pages in one headless
// Chromium — sign-in, the 2FA steps, Login & Security and its password and
// 2FA pages (replacing the authenticator too), the console's home, user, audit, token and new-user pages, the
// sign-out page and an error page — and checks each with axe-core in light
// and dark mode at 1280 and 390 px: no serious or critical violation, and
// nothing wider than a phone.
func TestEveryPageIsAccessible(t *testing.T) {
	axe := axetest.Load(t)
	g := staffGateway(t, "support,admin", func(c *config.Config) {
		c.Throttle.PasswordAccount.Free = 1 // victim's second wrong password starts a delay
	})
	alice := g.CreateUser(t, "alice", "admin")
	secret := staffEnrolTOTP(t, g, alice)
	g.CreateUser(t, "newbie", "support") // still has to set up 2FA
	// The console's pages with something in them: a signed-in user with a
	// rather long user agent and e-mail, a failure, a lock, a limit.
	g.CreateUser(t, "victim")
	vc := g.NewPortalClient(t)
	vc.PostForm(t, "/.gateway/login", url.Values{"username": {"victim"}, "password": {harness.TestPassword}, "rd": {"/"}},
		"User-Agent", "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro Build/AP2A.240805.005) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36").Body.Close()
	for range 2 {
		g.NewPortalClient(t).PostForm(t, "/.gateway/login", url.Values{"username": {"victim"}, "password": {"a wrong password here"}, "rd": {"/"}}).Body.Close()
	}
	locked := g.CreateUser(t, "locked.out.person.with.a.long.name")
	on, kind := true, store.LockStaff
	if err := g.Store.UpdateUser(context.Background(), locked.ID, store.UserUpdate{Disabled: &on, Lock: &kind}); err != nil {
		t.Fatal(err)
	}

	ctx := browsertest.NewFor(t, 4*time.Minute)
	p := g.PortalURL + "/.gateway"
	visit := func(what, path string) {
		t.Helper()
		if _, err := chromedp.RunResponse(ctx, chromedp.Navigate(p+path)); err != nil {
			t.Fatalf("open %s: %v", what, err)
		}
		a11yCheck(t, ctx, axe, what)
	}
	submit := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("main button[type=submit]"))); err != nil {
			t.Fatalf("%s: submit: %v", what, err)
		}
	}

	visit("sign-in page", "/login?rd=%2F.gateway%2Faccount")
	visit("error page (404)", "/no-such-page")
	visit("forgot password page", "/login/forgot")
	visit("reset page without a link", "/reset")
	if _, err := chromedp.RunResponse(ctx, chromedp.Navigate(p+"/login?rd=%2F.gateway%2Faccount")); err != nil {
		t.Fatal(err)
	}
	submit("password step", chromedp.SendKeys(chromedp.ID("username"), "alice"), chromedp.SendKeys(chromedp.ID("password"), harness.TestPassword))
	a11yCheck(t, ctx, axe, "2FA code page")
	code, err := otptotp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	submit("code step", chromedp.SendKeys(chromedp.ID("code"), code))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/.gateway/account") {
		t.Fatalf("signed in on %s, want the account page", loc)
	}
	a11yCheck(t, ctx, axe, "Login & Security page")
	visit("change password page", "/account/password")
	visit("two-step verification page", "/account/2fa")
	// Replace my authenticator: the new key with its confirm form, the
	// same page refusing a wrong code, and the notice once it is done.
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("replace"))); err != nil {
		t.Fatalf("start replacing the authenticator: %v", err)
	}
	a11yCheck(t, ctx, axe, "replace authenticator page")
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("code"), "000000")); err != nil {
		t.Fatal(err)
	}
	if resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("confirm"))); err != nil {
		t.Fatalf("wrong code for the new app: %v", err)
	} else if resp.Status != 422 {
		t.Fatalf("wrong code for the new app: status %d, want the page again with 422", resp.Status)
	}
	a11yCheck(t, ctx, axe, "replace authenticator page with a wrong code")
	visit("two-step verification page after a replacement", "/account/2fa?m=replaced")
	visit("e-mail and alerts page", "/account/email")
	visit("passkeys page", "/account/passkeys")
	visit("activity timeline with its chart", "/account/activity")
	// The static script (allowed by the page's CSP) turned the UTC times
	// into local ones with "… ago", keeping UTC on hover.
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){var t=document.querySelector("#timeline time");return t.dataset.shown+"|"+t.title+"|"+t.textContent})()`))
	if f := strings.Split(shown, "|"); err != nil || len(f) != 3 || f[0] != "local" || !strings.HasSuffix(f[1], "UTC") || strings.HasSuffix(f[2], "UTC") || !strings.Contains(f[2], "(") {
		t.Errorf("activity time in the browser = %q, %v; want local time with how long ago, UTC in the title", shown, err)
	}
	visit("activity timeline, failures only", "/account/activity?show=failures")

	visit("console home and search by address", "/admin?q=127.0.0.1")
	visit("console page of a locked account with a long name", "/admin/users/locked.out.person.with.a.long.name")
	visit("console user page", "/admin/users/victim")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("signout-all-open"))); err != nil {
		t.Fatal(err)
	}
	a11yCheck(t, ctx, axe, "console user page, confirm step open")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("reset-link-open"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("reset-link-reason"), "forgot the password")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("reset-link"))); err != nil {
		t.Fatal(err)
	}
	a11yCheck(t, ctx, axe, "reset link page")
	visit("audit log", "/admin/audit")
	visit("API tokens", "/admin/tokens")
	visit("create a user", "/admin/new-user")
	visit("outbox", "/admin/outbox")
	visit("sign-out page", "/logout")

	// A support account without 2FA is sent to set it up.
	submit("sign out")
	if _, err := chromedp.RunResponse(ctx, chromedp.Navigate(p+"/login")); err != nil {
		t.Fatal(err)
	}
	submit("newbie's password step", chromedp.SendKeys(chromedp.ID("username"), "newbie"), chromedp.SendKeys(chromedp.ID("password"), harness.TestPassword))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/login/2fa/setup") {
		t.Fatalf("newbie is on %s, want the 2FA setup page", loc)
	}
	a11yCheck(t, ctx, axe, "2FA setup page")
}
