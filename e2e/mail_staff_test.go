package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestStaffActionsAreMailedWithTheirReason: support signing a person out
// everywhere and resetting their 2FA each mails the person, naming the
// staff member and the reason.
func TestStaffActionsAreMailedWithTheirReason(t *testing.T) {
	g, box := mailGateway(t)
	bob, _ := staffSignIn(t, g, "bob", "support")
	alice := g.CreateUser(t, "alice")
	staffEnrolTOTP(t, g, alice)
	if code, body := staffCall(t, bob, "POST", "/.gateway/api/v1/users/alice/signout-all", staffReason("phone reported stolen")); code != http.StatusOK && code != http.StatusNoContent {
		t.Fatalf("sign out everywhere: %d %v", code, body)
	}
	m := box.Await(t, "alice@example.com", "Support acted", mailBound)
	if !strings.Contains(m.Text, "phone reported stolen") || !strings.Contains(m.Text, "bob") {
		t.Fatalf("the mail does not name the staff member and the reason:\n%s", m.Text)
	}
	if strings.Count(m.Text, "Support (bob)") > 1 {
		t.Errorf("the mail names the staff member twice:\n%s", m.Text)
	}
	if code, body := staffCall(t, bob, "POST", "/.gateway/api/v1/users/alice/2fa/reset", staffReason("lost the authenticator")); code/100 != 2 {
		t.Fatalf("2FA reset: %d %v", code, body)
	}
	m = box.Await(t, "alice@example.com", "reset your two-step", mailBound)
	if !strings.Contains(m.Text, "lost the authenticator") {
		t.Fatalf("the 2FA reset mail lacks the reason:\n%s", m.Text)
	}
}

// TestForgotPasswordKeepsTheSecondStep: after a reset by mail, an account
// with 2FA still asks for its code.
func TestForgotPasswordKeepsTheSecondStep(t *testing.T) {
	g, box := mailGateway(t)
	erin := g.CreateUser(t, "erin")
	staffEnrolTOTP(t, g, erin)
	g.NewPortalClient(t).PostForm(t, "/.gateway/login/forgot", url.Values{"identity": {"erin"}})
	link := mailLink(t, box.Await(t, "erin@example.com", "Set a new password", mailBound), "/.gateway/reset")
	c := g.NewPortalClient(t)
	mailOpen(t, c, link, "/.gateway/reset")
	if resp := resetSubmit(t, c, newPassword, newPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	_, resp := mailLogin(t, g, "erin", newPassword, uaFirefox)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/.gateway/login/2fa") {
		t.Fatalf("sign-in after the reset: %d to %q, want the code step", resp.StatusCode, loc)
	}
}
