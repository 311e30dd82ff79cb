package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// endedNotice is the notice the login page shows (role=status), "" if none.
func endedNotice(d *acctDevice) string { return d.text("p.notice") }

// Every way a session ends is explained on the next page the person sees,
// once; error pages keep the navigation and a way back; a link to the
// sign-out address asks first; a trailing slash still finds the page.
func TestSessionEndSaysWhyInTheBrowser(t *testing.T) {
	clock := &harness.Clock{}
	g := harness.Start(t, harness.Options{Clock: clock, Configure: func(c *config.Config) {
		c.Session.Lifetime = config.Duration{Duration: time.Hour}
		c.Session.IdleTimeout = config.Duration{Duration: 30 * time.Minute}
	}})
	g.CreateUser(t, "alice")
	laptop, phone := newAcctDevice(t, g, uaMacChrome), newAcctDevice(t, g, uaAndroid)
	phone.signIn("alice", harness.TestPassword)
	laptop.signIn("alice", harness.TestPassword)

	// askedToSignIn opens the app on the phone and returns the notice of
	// the login page it lands on.
	askedToSignIn := func(step string) string {
		t.Helper()
		if loc := phone.open("/app"); !strings.HasPrefix(loc, "/.gateway/login") {
			t.Fatalf("%s: the phone opened the app at %s, want the login page", step, loc)
		}
		return endedNotice(phone)
	}

	// Signed out from another device.
	laptop.open("/.gateway/account")
	if st := laptop.submit("#devices tr:not(.current) button.revoke"); st != http.StatusOK {
		t.Fatalf("sign out the phone: %d", st)
	}
	if got := askedToSignIn("revoked"); got != "You signed this browser out from another of your devices." {
		t.Errorf("after a sign-out from the laptop the phone reads %q", got)
	}
	if got := endedNotice(phone); got == "" {
		t.Error("the notice vanished before the person could read it")
	}
	phone.open("/.gateway/login")
	if got := endedNotice(phone); got != "" {
		t.Errorf("the reason is said twice: %q on a reload", got)
	}

	// Everywhere, by the person.
	phone.signIn("alice", harness.TestPassword)
	laptop.open("/.gateway/account")
	if st := laptop.submit("#signout_all"); st != http.StatusOK {
		t.Fatalf("sign out all: %d", st)
	}
	if got := askedToSignIn("all"); !strings.Contains(got, "You signed out everywhere from Login & Security") {
		t.Errorf("after sign-out everywhere the phone reads %q", got)
	}

	// A password change.
	phone.signIn("alice", harness.TestPassword)
	laptop.open("/.gateway/account/password")
	if st := laptop.submit("#password_submit", "current_password", harness.TestPassword,
		"new_password", newPassword, "confirm_password", newPassword); st != http.StatusOK {
		t.Fatalf("change the password: %d", st)
	}
	if got := askedToSignIn("password"); !strings.HasPrefix(got, "Your password was changed") {
		t.Errorf("after a password change the phone reads %q", got)
	}

	// Idle for longer than the idle timeout.
	phone.signIn("alice", newPassword)
	clock.Advance(31 * time.Minute)
	if got := askedToSignIn("idle"); got != "You were signed out after 30 minutes without activity." {
		t.Errorf("after 31 idle minutes the phone reads %q", got)
	}

	// Past the lifetime, although used all along.
	phone.signIn("alice", newPassword)
	for range 2 {
		clock.Advance(25 * time.Minute)
		if loc := phone.open("/app"); loc != "/app" {
			t.Fatalf("a session in use was refused at %s", loc)
		}
	}
	clock.Advance(15 * time.Minute)
	if got := askedToSignIn("expired"); got != "Your session expired: a sign-in lasts at most 1 hour. Please sign in again." {
		t.Errorf("after the lifetime the phone reads %q", got)
	}

	// Error pages: the navigation stays for a signed-in person, and there
	// is a way back; a stranger is offered the sign-in page.
	laptop.signIn("alice", newPassword)
	laptop.open("/.gateway/no-such-page")
	if got := laptop.text("header nav"); !strings.Contains(got, "Login & Security") || !strings.Contains(got, "Sign out alice") {
		t.Errorf("a 404 page signed in shows the navigation %q", got)
	}
	if got := laptop.text("#back"); got != "Back to Login & Security" {
		t.Errorf("a 404 page signed in offers %q", got)
	}
	phone.open("/.gateway/no-such-page")
	if got, header := phone.text("#back"), phone.text("header"); got != "Go to the sign-in page" || strings.Contains(header, "Login & Security") {
		t.Errorf("a 404 page for a stranger offers %q, header %q", got, header)
	}

	// A trailing slash finds the page.
	if loc := laptop.open("/.gateway/account/"); loc != "/.gateway/account" {
		t.Errorf("/.gateway/account/ ends at %s", loc)
	}

	// The sign-out address opened as a link asks first; the button signs out.
	if loc := laptop.open("/.gateway/logout"); loc != "/.gateway/logout" || laptop.count("#confirm-signout") != 1 {
		t.Fatalf("GET of the sign-out address ends at %s without the confirm button", loc)
	}
	if st := laptop.submit("#confirm-signout"); st != http.StatusOK || endedNotice(laptop) != "You are signed out." {
		t.Errorf("confirm sign-out: %d, notice %q", st, endedNotice(laptop))
	}
	if !laptop.signedOut() {
		t.Error("the laptop is still signed in after confirming")
	}
}
