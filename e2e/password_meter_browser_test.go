package e2e

import (
	"crypto/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/internal/testkit/harness"
)

// TestAccountBrowserPasswordMeter types into the new-password field in
// Chromium, under the page's real CSP: a weak password shows "weak" with
// the reason the change would give, a strong one "strong", and clearing the
// field hides the meter. The server's verdict on submit is unchanged.
func TestAccountBrowserPasswordMeter(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	d := newAcctDevice(t, g, uaMacChrome)
	d.signIn("alice", harness.TestPassword)
	if loc := d.open("/.gateway/account/password"); loc != "/.gateway/account/password" {
		t.Fatalf("password page: at %s", loc)
	}
	if d.count("#new_password_strength:not([hidden])") != 0 {
		t.Fatal("the meter shows before anything is typed")
	}

	meter := func(typed, want string) string {
		t.Helper()
		if err := chromedp.Do(d.ctx, chromedp.Clear(chromedp.ID("new_password")),
			chromedp.SendKeys(chromedp.ID("new_password"), typed)); err != nil {
			t.Fatalf("type %q: %v", typed, err)
		}
		got, err := chromedp.Run(d.ctx, chromedp.Poll[string](`(() => {
			const o = document.getElementById("new_password_strength");
			return !o.hidden && !o.hasAttribute("data-checking") && o.textContent.startsWith(`+"`Strength: "+want+"`"+`) ? o.textContent : null;
		})()`))
		if err != nil {
			t.Fatalf("typed %q: the meter never said %q (now %q): %v", typed, want, d.text("#new_password_strength"), err)
		}
		return got
	}
	if got := meter("aaaaaaaaaaaa", "weak"); !strings.Contains(got, "one character repeated") {
		t.Errorf("meter for aaaaaaaaaaaa = %q; want the reason", got)
	}
	if got := meter("abcdefghijkl", "weak"); !strings.Contains(got, "sequence") {
		t.Errorf("meter for abcdefghijkl = %q; want the reason", got)
	}
	strong := rand.Text()[:16]
	if got := meter(strong, "strong"); got != "Strength: strong" {
		t.Errorf("meter for a random password = %q", got)
	}

	// Submitting a weak password is still refused by the server.
	d.open("/.gateway/account/password")
	if st := d.submit("#password_submit", "current_password", harness.TestPassword,
		"new_password", "passwordpassword", "confirm_password", "passwordpassword"); st != http.StatusUnprocessableEntity {
		t.Fatalf("weak password submitted: status %d, want 422", st)
	}
	if got := d.text("#error"); !strings.Contains(got, "repeats a short pattern") {
		t.Errorf("error %q; want the reason", got)
	}
}
