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
	"github.com/authgate/gateway/internal/testkit/mailtest"
)

// a11yTab is one headless Chromium tab walking pages for a11yCheck.
type a11yTab struct {
	t   *testing.T
	ctx context.Context
	axe string
}

func newA11yTab(t *testing.T, axe string) *a11yTab {
	return &a11yTab{t: t, ctx: browsertest.NewFor(t, 4*time.Minute), axe: axe}
}

// open loads url and returns the status of the page it ends on.
func (a *a11yTab) open(what, url string) int {
	a.t.Helper()
	resp, err := chromedp.RunResponse(a.ctx, chromedp.Navigate(url))
	if err != nil {
		a.t.Fatalf("open %s: %v", what, err)
	}
	if resp == nil {
		return 0
	}
	return int(resp.Status)
}

// visit opens url, fails unless the page answers want, and checks it.
func (a *a11yTab) visit(what, url string, want int) {
	a.t.Helper()
	if st := a.open(what, url); st != want {
		a.t.Fatalf("%s: status %d at %s, want %d; page: %.300s", what, st, a.path(), want, a.text("body"))
	}
	a.check(what)
}

// check runs a11yCheck on the page the tab shows.
func (a *a11yTab) check(what string) {
	a.t.Helper()
	a11yCheck(a.t, a.ctx, a.axe, what)
}

// fill types into the fields named by id, value after id.
func (a *a11yTab) fill(idValue ...string) {
	a.t.Helper()
	var acts []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(idValue); i += 2 {
		acts = append(acts, chromedp.Clear(chromedp.ID(idValue[i])), chromedp.SendKeys(chromedp.ID(idValue[i]), idValue[i+1]))
	}
	if err := chromedp.Do(a.ctx, acts...); err != nil {
		a.t.Fatalf("fill %v: %v", idValue, err)
	}
}

// click clicks the button (or link) with that id, waits for the page it
// loads and fails unless its status is want.
func (a *a11yTab) click(id string, want int) {
	a.t.Helper()
	// A form the browser refuses to send loads nothing: fail soon, not
	// at the test's deadline.
	ctx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID(id)))
	if err != nil {
		a.t.Fatalf("click #%s: %v", id, err)
	}
	if resp == nil || int(resp.Status) != want {
		st := 0
		if resp != nil {
			st = int(resp.Status)
		}
		a.t.Fatalf("click #%s: status %d at %s, want %d; page: %.300s", id, st, a.path(), want, a.text("body"))
	}
}

// path is the path of the page the tab shows.
func (a *a11yTab) path() string {
	a.t.Helper()
	loc, err := chromedp.Run(a.ctx, chromedp.Location())
	if err != nil {
		a.t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	return u.Path
}

// text is the visible text of the first element css matches ("" if none).
func (a *a11yTab) text(css string) string {
	a.t.Helper()
	s, err := chromedp.Run(a.ctx, chromedp.Evaluate[string](`(function(){var e=document.querySelector(`+"`"+css+"`"+`);return e?e.innerText:""})()`))
	if err != nil {
		a.t.Fatal(err)
	}
	return s
}

// TestMailAndRulePagesAreAccessible checks, as TestEveryPageIsAccessible
// does (axe-core in light and dark mode at 1280 and 390 px, nothing wider
// than a phone), the pages a person reaches through mail, route rules and
// re-authentication, each reached the way a person reaches it: the account
// page with a new sign-in to answer; the e-mail page waiting for a
// confirmation, the confirmation page, its result and its used link (410);
// the 403 of a route `allow`; a route's "two-step verification needed"
// step and the sign-in's set-up and recovery-code pages it leads to; a
// route's "Confirm it's you"; the account's "Confirm it's you" and its
// wrong-password answer; the sign-in page saying why the browser was
// signed out, and after a wrong password; the 429 page; "This wasn't me",
// its result and its used link (410); the forgot-password answer; the
// reset page with a link, refusing a password, and for a used link (410);
// the console's outbox with a mail waiting.
func TestMailAndRulePagesAreAccessible(t *testing.T) {
	axe := axetest.Load(t)
	box := mailtest.Start(t)
	clock := &harness.Clock{}
	g := harness.Start(t, harness.Options{Portal: true, Clock: clock, Configure: func(c *config.Config) {
		c.MFA.Require = config.MFAOptional // a route, not the role, asks for the second factor
		c.SMTP.URL, c.SMTP.From = box.URL(), "Sign-in <signin@example.com>"
		c.Notify.RetryBase, c.Notify.RetryMax = config.Duration{Duration: 200 * time.Millisecond}, config.Duration{Duration: time.Second}
		c.Throttle.PasswordAccount.Free = 1 // the second wrong password starts a delay
		c.Routes = []config.Route{
			{PathPrefix: "/staff-only/", Upstream: c.Upstream, RouteRules: config.RouteRules{Allow: config.Principals{Roles: []string{"admin"}}}},
			{PathPrefix: "/with-2fa/", Upstream: c.Upstream, RouteRules: config.RouteRules{MFA: config.RouteMFARequired}},
			{PathPrefix: "/recent/", Upstream: c.Upstream, RouteRules: config.RouteRules{Reauth: config.Duration{Duration: 5 * time.Minute}}},
			{PathPrefix: "/", Upstream: c.Upstream},
		}
	}})
	g.CreateUser(t, "bea")
	g.CreateUser(t, "cy")
	g.CreateUser(t, "guess")
	g.CreateUser(t, "ops", "admin")
	mailLoginOK(t, g, "bea", harness.TestPassword, uaFirefox) // the account's first sign-in: nothing to check
	tab := newA11yTab(t, axe)
	p := g.PortalURL + "/.gateway"

	// A sign-in from this new browser mails an alert with "This wasn't
	// me"; a phone signing in afterwards is a new sign-in to answer here.
	tab.open("sign-in page", p+"/login?rd=%2F.gateway%2Faccount")
	tab.fill("username", "bea", "password", harness.TestPassword)
	tab.click("submit", 200)
	alert := box.Await(t, "bea@example.com", "New sign-in", mailBound)
	mailLoginOK(t, g, "bea", harness.TestPassword, uaAndroid)
	tab.visit("Login & Security page with a new sign-in to answer", p+"/account", 200)
	if got := tab.text("#new-devices li"); !strings.Contains(got, "Android") {
		t.Fatalf("the account page lists %q as new sign-in, want the phone", got)
	}

	// A new address: the mailed link asks, then confirms.
	tab.open("e-mail page", p+"/account/email")
	tab.fill("email", "bea.new@example.org")
	tab.click("email-submit", 200)
	if tab.text("#email-pending") == "" {
		t.Fatalf("after asking for a new address: %.300s", tab.text("body"))
	}
	tab.check("e-mail page with an address waiting for confirmation")
	confirm := mailLink(t, box.Await(t, "bea.new@example.org", "Confirm your e-mail", mailBound), "/.gateway/email/confirm")
	tab.visit("e-mail confirmation page", confirm, 200)
	tab.click("email-confirm", 200)
	if tab.text("#email-confirmed") == "" {
		t.Fatalf("after confirming the address: %.300s", tab.text("body"))
	}
	tab.check("e-mail address confirmed")
	tab.visit("e-mail confirmation link already used (410)", confirm, 410)

	// Route rules, on the app's host: `allow` refuses a plain user; `mfa:
	// required` asks for a second factor, which bea sets up on the way.
	tab.visit("page a route's allow refuses (403)", g.URL+"/staff-only/", 403)
	tab.visit("route needs two-step verification", g.URL+"/with-2fa/", 200)
	if at := tab.path(); at != "/.gateway/login/confirm" {
		t.Fatalf("a route with mfa: required led to %s", at)
	}
	tab.click("stepup_continue", 200)
	tab.click("start", 200)
	tab.check("set up an authenticator while signing in")
	key := tab.text("#manual-key-raw")
	code, err := otptotp.GenerateCode(key, clock.Now())
	if err != nil {
		t.Fatalf("code for key %q: %v", key, err)
	}
	tab.fill("code", code)
	tab.click("confirm", 200)
	if tab.text("#recovery-codes") == "" {
		t.Fatalf("after turning 2FA on while signing in: %.300s", tab.text("body"))
	}
	tab.check("recovery codes after turning 2FA on while signing in")

	// `reauth: 5m` after a sign-in 6 minutes old asks for the password.
	clock.Advance(6 * time.Minute)
	tab.visit("route's Confirm it's you", g.URL+"/recent/", 200)
	if at := tab.path(); at != "/.gateway/login/confirm" {
		t.Fatalf("a route with reauth led to %s", at)
	}
	tab.fill("reauth_password", harness.TestPassword)
	tab.click("reauth_submit", 200)

	// Signing out everywhere (this browser too) after the re-auth window
	// asks for the password; the sign-in page then says why.
	clock.Advance(11 * time.Minute)
	tab.open("account page", p+"/account")
	if err := chromedp.Do(tab.ctx, chromedp.Click(chromedp.ID("keep_current"))); err != nil {
		t.Fatal(err)
	}
	tab.click("signout_all", 200)
	tab.check("Confirm it's you before signing out everywhere")
	tab.fill("reauth_password", "not the password at all")
	tab.click("reauth_submit", 401)
	tab.check("Confirm it's you, wrong password")
	tab.fill("reauth_password", harness.TestPassword)
	tab.click("reauth_submit", 200)
	if got := tab.text("p.notice"); got == "" || !strings.HasPrefix(tab.path(), "/.gateway/login") {
		t.Fatalf("after signing out everywhere: at %s, notice %q", tab.path(), got)
	}
	tab.check("sign-in page saying why you were signed out")

	// Wrong passwords: the second one starts a pause.
	tab.open("sign-in page", p+"/login")
	tab.fill("username", "guess", "password", "a wrong password here")
	tab.click("submit", 401)
	tab.check("sign-in page after a wrong password")
	tab.fill("username", "guess", "password", "another wrong password")
	tab.click("submit", 429)
	tab.check("too many attempts (429)")

	// This wasn't me: the link only asks; the button secures the account.
	wasntMe := mailLink(t, alert, "/.gateway/wasntme")
	tab.visit("This wasn't me page", wasntMe, 200)
	tab.click("wasntme-confirm", 200)
	if tab.text("#secured") == "" {
		t.Fatalf("after This wasn't me: %.300s", tab.text("body"))
	}
	tab.check("This wasn't me, account secured")
	tab.visit("This wasn't me link already used (410)", wasntMe, 410)

	// Forgot password: the answer, the mailed link's form, a refused
	// password, and the link once used.
	tab.open("forgot password page", p+"/login/forgot")
	tab.fill("identity", "cy")
	tab.click("forgot-submit", 200)
	tab.check("forgot password, link sent")
	reset := mailLink(t, box.Await(t, "cy@example.com", "Set a new password", mailBound), "/.gateway/reset")
	tab.visit("password reset page with a valid link", reset, 200)
	tab.fill("new_password", "one new password here", "confirm_password", "another password here")
	tab.click("reset-submit", 422)
	tab.check("password reset page refusing the password")
	tab.fill("new_password", "cy's brand new passphrase", "confirm_password", "cy's brand new passphrase")
	tab.click("reset-submit", 200)
	tab.visit("password reset link already used (410)", reset, 410)

	// With the mail server gone a mail waits to be sent again; the outbox
	// lists it for an admin, with its error.
	box.Stop(t)
	tab.open("forgot password page", p+"/login/forgot")
	tab.fill("identity", "guess")
	tab.click("forgot-submit", 200)
	tab.open("sign-in page", p+"/login?rd=%2F.gateway%2Fadmin%2Foutbox")
	tab.fill("username", "ops", "password", harness.TestPassword)
	tab.click("submit", 200)
	for deadline := time.Now().Add(mailBound); !strings.Contains(tab.text("#outbox-retrying"), "guess"); {
		if time.Now().After(deadline) {
			t.Fatalf("the outbox lists no mail waiting: %.500s", tab.text("main"))
		}
		time.Sleep(300 * time.Millisecond)
		tab.open("outbox", p+"/admin/outbox")
	}
	tab.check("outbox with a mail waiting to be sent again")
}

// waitShown waits until the element with id is visible: passkey buttons
// stay hidden until the page's script finds a browser that can use them.
func (a *a11yTab) waitShown(id string) {
	a.t.Helper()
	if err := chromedp.Do(a.ctx, chromedp.WaitVisible(chromedp.ID(id))); err != nil {
		a.t.Fatalf("wait for #%s: %v; page: %.300s", id, err, a.text("body"))
	}
}

// TestPasskeyAndTwoStepPagesAreAccessible checks the same way, under a
// brand (title, accent colour, way back to the app), the pages of
// passkeys and two-step verification, in a Chromium with a virtual
// authenticator (passkey buttons show): the sign-in page with its passkey
// button; turning 2FA on from the account (the new key, the recovery
// codes) and getting new codes; adding a passkey and the passkeys page and
// account page with one; a route's "Confirm it's you" offering the
// passkey; the 2FA step offering the passkey beside the code; the page
// after signing in with a recovery code; the passkey a staff role must add
// before anything else; and the console's page of a user with groups and
// passkeys, with its "Remove all passkeys" confirm step open; and an API
// token just created (its secret shown once) with the list of tokens.
func TestPasskeyAndTwoStepPagesAreAccessible(t *testing.T) {
	axe := axetest.Load(t)
	clock := &harness.Clock{}
	// The portal by host name: WebAuthn refuses an IP address.
	g := harness.Start(t, harness.Options{Portal: true, Clock: clock, Configure: func(c *config.Config) {
		c.PortalURL = passkeyURL(c.PortalURL)
		c.RedirectHosts = append(c.RedirectHosts, "localhost")
		// Branded, as an operator may: a title nearly as long as allowed in the
		// header of a phone, an accent colour, a way back to the app.
		c.UI = config.UI{Title: "Acme Widgets International: customer accounts and security", Accent: "#6b2c91", AppURL: "https://app.example.com/home"}
		c.MFA.Require = "support,admin"
		c.MFA.PhishingResistant = "support"
		c.Routes = []config.Route{
			{PathPrefix: "/recent/", Upstream: c.Upstream, RouteRules: config.RouteRules{Reauth: config.Duration{Duration: 5 * time.Minute}}},
			{PathPrefix: "/", Upstream: c.Upstream},
		}
	}})
	g.CreateUser(t, "pia")
	g.CreateUser(t, "sam", "support", "admin")
	tab := newA11yTab(t, axe)
	addAuthenticator(t, tab.ctx)
	noAutofill(t, tab.ctx) // the virtual authenticator would answer autofill at once
	base := g.PortalURL
	p := base + "/.gateway"

	tab.open("sign-in page", p+"/login?rd=%2F.gateway%2Faccount")
	tab.waitShown("passkey-signin")
	tab.check("sign-in page with its passkey button")
	tab.fill("username", "pia", "password", harness.TestPassword)
	tab.click("submit", 200)

	// Two-step verification from the account: the new key, the codes,
	// and new codes.
	tab.open("two-step verification page", p+"/account/2fa")
	tab.click("setup", 200)
	tab.check("turn on 2FA from the account: the new key")
	code, err := otptotp.GenerateCode(tab.text("#manual-key-raw"), clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	tab.fill("code", code)
	tab.click("confirm", 200)
	if tab.text("#recovery-codes") == "" {
		t.Fatalf("after turning 2FA on: %.300s", tab.text("body"))
	}
	tab.check("recovery codes after turning 2FA on")
	tab.open("two-step verification page", p+"/account/2fa")
	tab.click("regenerate", 200)
	recovery := strings.Fields(tab.text("#recovery-codes li"))
	if len(recovery) == 0 {
		t.Fatalf("new recovery codes: %.300s", tab.text("body"))
	}
	tab.check("new recovery codes")

	// A passkey: the page that adds one, then the lists with it.
	tab.open("passkeys page", p+"/account/passkeys")
	tab.click("passkey-new", 200)
	tab.waitShown("passkey-add")
	tab.check("add a passkey")
	tab.fill("passkey-name", "Pia's laptop")
	passkeyClick(t, tab.ctx, "passkey-add", 200)
	tab.check("passkeys page with a passkey")
	tab.visit("Login & Security page with a passkey", p+"/account", 200)

	// A route's reauth offers the passkey beside the password.
	clock.Advance(6 * time.Minute)
	tab.open("route's Confirm it's you", g.URL+"/recent/")
	tab.waitShown("reauth-passkey")
	tab.check("route's Confirm it's you with a passkey button")
	passkeyClick(t, tab.ctx, "reauth-passkey", 200)
	if !appSawUser(t, tab.ctx, "pia") {
		t.Fatal("confirming with the passkey did not reach the app")
	}

	// The second step offers the passkey beside the code; a recovery
	// code signs in and says how many are left.
	passkeySignOut(t, tab.ctx, base)
	passkeyPasswordLogin(t, tab.ctx, base, "pia", "%2F.gateway%2Faccount", 200)
	tab.waitShown("passkey-step")
	tab.check("2FA step offering a passkey")
	tab.fill("code", recovery[0])
	tab.click("submit", 200)
	if tab.text("#recovery-left") == "" {
		t.Fatalf("after a recovery code: %.300s", tab.text("body"))
	}
	tab.check("signed in with a recovery code")

	// A support member must add a passkey first, then finds pia.
	passkeySignOut(t, tab.ctx, base)
	if at := passkeyPasswordLogin(t, tab.ctx, base, "sam", "%2F.gateway%2Fadmin%2Fusers%2Fpia", 200); !strings.Contains(at, "/login/passkey/setup") {
		t.Fatalf("a support member without a passkey is at %s, want the passkey set-up", at)
	}
	tab.waitShown("passkey-add")
	tab.check("a role that must add a passkey")
	tab.fill("passkey-name", "Sam's laptop")
	passkeyClick(t, tab.ctx, "passkey-add", 200)
	if at := tab.path(); at != "/.gateway/admin/users/pia" {
		t.Fatalf("after adding the passkey sam is at %s", at)
	}
	tab.fill("groups-input", "finance, berlin-office", "groups-reason", "moved to the Berlin office")
	tab.click("groups-submit", 200)
	if got := tab.text("#groups"); !strings.Contains(got, "berlin-office") {
		t.Fatalf("pia's groups read %q", got)
	}
	tab.check("console user page with groups and a passkey")
	if err := chromedp.Do(tab.ctx, chromedp.Click(chromedp.ID("passkeys-remove-open"))); err != nil {
		t.Fatal(err)
	}
	tab.check("console user page, remove passkeys confirm step open")

	// An API token is shown once, right after it is made.
	tab.open("API tokens", p+"/admin/tokens")
	tab.fill("token-name", "nightly user sync from the HR system", "token-reason", "the HR system keeps groups in step")
	tab.click("token-create", 200)
	if tab.text("#token-secret") == "" {
		t.Fatalf("after creating a token: %.300s", tab.text("body"))
	}
	tab.check("API token just created, and the list with it")
}
