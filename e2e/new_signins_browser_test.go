package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/authgate/gateway/internal/testkit/harness"
)

// TestNewSignInsBrowserAnswerBoth: a sign-in from a new browser shows on
// the other devices' Login & Security page (never on its own), "Yes, that
// was me" makes it go for good, and "No, secure my account" ends every
// session and tells the person what happened and what to do.
func TestNewSignInsBrowserAnswerBoth(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	laptop := newAcctDevice(t, g, uaMacChrome)
	phone := newAcctDevice(t, g, uaAndroid)
	laptop.signIn("alice", harness.TestPassword) // the account's first sign-in: nothing to check
	if n := laptop.count("#new-devices li"); n != 0 {
		t.Fatalf("the first sign-in flagged %d sign-ins", n)
	}

	phone.signIn("alice", harness.TestPassword)
	if n := phone.count("#new-devices li"); n != 0 {
		t.Errorf("the phone is asked about its own sign-in: %q", phone.text("#new-devices"))
	}
	laptop.open("/.gateway/account")
	if n := laptop.count("#new-devices li"); n != 1 {
		t.Fatalf("the laptop lists %d new sign-ins, want the phone's", n)
	}
	if got := laptop.text("#new-devices li"); !strings.Contains(got, "Chrome on Android (mobile)") {
		t.Errorf("the new sign-in reads %q, want the phone's device", got)
	}

	if st := laptop.submit("#new-devices li button.dismiss"); st != http.StatusOK {
		t.Fatalf("Yes, that was me: status %d", st)
	}
	if got := laptop.text("#notice"); !strings.Contains(got, "no longer listed") {
		t.Errorf("notice %q", got)
	}
	laptop.open("/.gateway/account")
	if n := laptop.count("#new-devices li"); n != 0 {
		t.Fatalf("after Yes, that was me and a reload %d new sign-ins are listed", n)
	}
	if phone.signedOut() {
		t.Fatal("answering yes signed the phone out")
	}

	tablet := newAcctDevice(t, g, uaFirefox)
	tablet.signIn("alice", harness.TestPassword)
	laptop.open("/.gateway/account")
	if got := laptop.text("#new-devices li"); !strings.Contains(got, "Firefox") || laptop.count("#new-devices li") != 1 {
		t.Fatalf("the laptop does not list just the Firefox sign-in: %q", laptop.text("#new-devices"))
	}
	if st := laptop.submit("#new-devices li button.secure"); st != http.StatusOK {
		t.Fatalf("No, secure my account: status %d", st)
	}
	if loc := laptop.location(); !strings.HasPrefix(loc, "/.gateway/login") {
		t.Fatalf("after securing the account at %s, want the login page", loc)
	}
	if got := laptop.text(".notice"); !strings.Contains(got, "every device was signed out") || !strings.Contains(got, "new password") {
		t.Errorf("the login page says %q, want why and what to do", got)
	}
	for name, d := range map[string]*acctDevice{"laptop": laptop, "phone": phone, "Firefox": tablet} {
		if !d.signedOut() {
			t.Errorf("the %s is still signed in after securing the account", name)
		}
	}
	// The password an intruder may know no longer signs in.
	phone.open("/.gateway/login?rd=%2F.gateway%2Faccount")
	phone.submit("#submit", "username", "alice", "password", harness.TestPassword)
	if loc := phone.location(); strings.HasPrefix(loc, "/.gateway/account") {
		t.Error("the password still signs in after securing the account")
	}
}
