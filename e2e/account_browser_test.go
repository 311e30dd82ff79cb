package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// User-Agents the two browsers present, so the devices list can tell them
// apart the way a person would.
const (
	uaMacChrome = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36"
	uaAndroid   = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.113 Mobile Safari/537.36"
)

// acctDevice is one browser with its own cookie jar.
type acctDevice struct {
	t   *testing.T
	ctx context.Context
	g   *harness.Gateway
}

// newAcctDevice starts an isolated browser that presents userAgent.
func newAcctDevice(t *testing.T, g *harness.Gateway, userAgent string) *acctDevice {
	t.Helper()
	ctx := browsertest.NewIsolated(t)
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: userAgent})
		return err
	})); err != nil {
		t.Fatalf("set user agent: %v", err)
	}
	return &acctDevice{t: t, ctx: ctx, g: g}
}

// open loads path and returns the location the browser ended at.
func (d *acctDevice) open(path string) string {
	d.t.Helper()
	if err := chromedp.Do(d.ctx, chromedp.Navigate(d.g.URL+path)); err != nil {
		d.t.Fatalf("open %s: %v", path, err)
	}
	return d.location()
}

func (d *acctDevice) location() string {
	d.t.Helper()
	loc, err := chromedp.Run(d.ctx, chromedp.Location())
	if err != nil {
		d.t.Fatal(err)
	}
	return strings.TrimPrefix(loc, d.g.URL)
}

// submit types values into empty fields (by id), clicks the button and
// waits for the page it loads; it returns that page's status.
func (d *acctDevice) submit(button string, fields ...string) int64 {
	d.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		steps = append(steps, chromedp.SendKeys(chromedp.ID(fields[i]), fields[i+1]))
	}
	if err := chromedp.Do(d.ctx, steps...); err != nil {
		d.t.Fatalf("fill the form: %v", err)
	}
	resp, err := chromedp.RunResponse(d.ctx, chromedp.Click(chromedp.CSS(button)))
	if err != nil {
		d.t.Fatalf("click %s: %v", button, err)
	}
	return resp.Status
}

// text returns the text of the first element matching css ("" if none).
func (d *acctDevice) text(css string) string {
	d.t.Helper()
	n, err := chromedp.Run(d.ctx, chromedp.Nodes(chromedp.CSSAll(css), chromedp.AtLeast(0)))
	if err != nil {
		d.t.Fatalf("find %s: %v", css, err)
	}
	if len(n) == 0 {
		return ""
	}
	s, err := chromedp.Run(d.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		d.t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// count returns how many elements match css.
func (d *acctDevice) count(css string) int {
	d.t.Helper()
	n, err := chromedp.Run(d.ctx, chromedp.Nodes(chromedp.CSSAll(css), chromedp.AtLeast(0)))
	if err != nil {
		d.t.Fatalf("find %s: %v", css, err)
	}
	return len(n)
}

// signIn signs in through the login form and lands on the account page.
func (d *acctDevice) signIn(name, password string) {
	d.t.Helper()
	d.open("/.gateway/login?rd=%2F.gateway%2Faccount")
	if st := d.submit("#submit", "username", name, "password", password); st != http.StatusOK {
		d.t.Fatalf("sign in: status %d", st)
	}
	if loc := d.location(); loc != "/.gateway/account" {
		d.t.Fatalf("after sign-in at %s, want the account page", loc)
	}
}

// signedOut reports whether the device's next request for the app lands on
// the login page.
func (d *acctDevice) signedOut() bool {
	d.t.Helper()
	return strings.HasPrefix(d.open("/app"), "/.gateway/login")
}

func acctTwoDevices(t *testing.T) (g *harness.Gateway, laptop, phone *acctDevice) {
	t.Helper()
	g = harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	laptop = newAcctDevice(t, g, uaMacChrome)
	phone = newAcctDevice(t, g, uaAndroid)
	phone.signIn("alice", harness.TestPassword)
	laptop.signIn("alice", harness.TestPassword)
	return g, laptop, phone
}

func TestAccountBrowserSignOutOtherDevice(t *testing.T) {
	_, laptop, phone := acctTwoDevices(t)

	if n := laptop.count("#devices tbody tr"); n != 2 {
		t.Fatalf("the laptop sees %d devices, want 2", n)
	}
	if got := laptop.text("#devices tr.current .device-label"); got != "Chrome on macOS (desktop)" {
		t.Errorf("this device is %q", got)
	}
	if got := laptop.text("#devices tr:not(.current) .device-label"); got != "Chrome on Android (mobile)" {
		t.Errorf("the other device is %q", got)
	}
	if phone.signedOut() {
		t.Fatal("the phone is signed out before anything happened")
	}

	if st := laptop.submit("#devices tr:not(.current) button.revoke"); st != http.StatusOK {
		t.Fatalf("sign out the phone: status %d", st)
	}
	if got := laptop.text("#notice"); got != "The device was signed out." {
		t.Errorf("notice %q", got)
	}
	if n := laptop.count("#devices tbody tr"); n != 1 {
		t.Errorf("%d devices left, want 1", n)
	}
	if !phone.signedOut() {
		t.Error("the phone's next request did not land on the login page")
	}
	if laptop.signedOut() {
		t.Error("the laptop was signed out too")
	}
}

func TestAccountBrowserSignOutAllKeepingThisDevice(t *testing.T) {
	_, laptop, phone := acctTwoDevices(t)

	if checked, err := chromedp.Run(laptop.ctx, chromedp.Evaluate[bool](`document.getElementById("keep_current").checked`)); err != nil || !checked {
		t.Fatalf("keep me signed in is not ticked by default (%v)", err)
	}
	if st := laptop.submit("#signout_all"); st != http.StatusOK {
		t.Fatalf("sign out all: status %d", st)
	}
	if got := laptop.text("#notice"); !strings.Contains(got, "All other devices were signed out") {
		t.Errorf("notice %q", got)
	}
	if !phone.signedOut() {
		t.Error("the phone's next request did not land on the login page")
	}
	if laptop.signedOut() {
		t.Error("the laptop was signed out although it asked to stay")
	}
}

func TestAccountBrowserChangePassword(t *testing.T) {
	g, laptop, phone := acctTwoDevices(t)

	laptop.open("/.gateway/account")
	if st := laptop.submit("#change_password"); st != http.StatusOK || laptop.location() != "/.gateway/account/password" {
		t.Fatalf("open the password page: %d at %s", st, laptop.location())
	}
	st := laptop.submit("#password_submit", "current_password", harness.TestPassword,
		"new_password", "qwerty123456", "confirm_password", "qwerty123456")
	if st != http.StatusUnprocessableEntity {
		t.Errorf("weak password: status %d, want 422", st)
	}
	if got := laptop.text("#error"); !strings.Contains(got, "too common") {
		t.Errorf("weak password error %q, want the reason", got)
	}
	if phone.signedOut() {
		t.Fatal("a refused change signed the phone out")
	}

	st = laptop.submit("#password_submit", "current_password", harness.TestPassword,
		"new_password", newPassword, "confirm_password", newPassword)
	if st != http.StatusOK || laptop.location() != "/.gateway/account?m=password_changed" {
		t.Fatalf("change password: %d at %s", st, laptop.location())
	}
	if !phone.signedOut() {
		t.Error("the phone's next request did not land on the login page")
	}
	if laptop.signedOut() {
		t.Error("the laptop was signed out by its own password change")
	}
	acctLogin(t, g, "alice", newPassword, uaFirefox)
}
