package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authgate/gateway/internal/testkit/harness"
)

func TestChangeEmailWithConfirmationLink(t *testing.T) {
	g, box := mailGateway(t)
	alice := g.CreateUser(t, "alice")
	c := mailLoginOK(t, g, "alice", harness.TestPassword, uaFirefox)
	doc := acctDoc(t, c.Get(t, "/.gateway/account/email", "Accept", "text/html"), http.StatusOK)
	if !strings.Contains(doc.Find("#email-current").Text(), "alice@example.com") || !strings.Contains(doc.Find("#email-state").Text(), "administrator") {
		t.Fatalf("the page does not show the address and its state: %q", doc.Find("section").First().Text())
	}
	resp := c.PostForm(t, "/.gateway/account/email", url.Values{"email": {"alice.new@example.org"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change address: %d", resp.StatusCode)
	}
	doc = acctDoc(t, c.Get(t, "/.gateway/account/email", "Accept", "text/html"), http.StatusOK)
	if !strings.Contains(doc.Find("#email-pending").Text(), "alice.new@example.org") {
		t.Fatal("the page does not show the address waiting for confirmation")
	}
	sup, _ := staffSignIn(t, g, "helper", "support")
	staffState := func() string {
		return acctDoc(t, sup.Get(t, "/.gateway/admin/users/alice", "Accept", "text/html"), http.StatusOK).Find("#email-state").Text()
	}
	if s := staffState(); !strings.Contains(s, "set by staff") || !strings.Contains(s, "alice.new@example.org waiting") {
		t.Fatalf("the console shows the address state as %q", s)
	}
	m := box.Await(t, "alice.new@example.org", "Confirm your e-mail", mailBound)
	link := mailLink(t, m, "/.gateway/email/confirm")

	// Opening the link only asks.
	other := g.NewPortalClient(t)
	page := acctDoc(t, mailOpen(t, other, link, "/.gateway/email/confirm"), http.StatusOK)
	if page.Find("#email-address").Text() != "alice.new@example.org" {
		t.Fatalf("confirmation page: %s", page.Text())
	}
	if u := must(g.Store.FindUserByID(t.Context(), alice.ID)); u.Email != "alice@example.com" {
		t.Fatalf("opening the link changed the address to %q", u.Email)
	}
	page = acctDoc(t, other.PostForm(t, "/.gateway/email/confirm", nil), http.StatusOK)
	if page.Find("#email-confirmed").Length() != 1 {
		t.Fatalf("confirm: %s", page.Text())
	}
	u := must(g.Store.FindUserByID(t.Context(), alice.ID))
	if u.Email != "alice.new@example.org" || u.EmailConfirmed.IsZero() || u.EmailPending != "" {
		t.Fatalf("after confirming: email %q confirmed %v pending %q", u.Email, u.EmailConfirmed, u.EmailPending)
	}
	if s := staffState(); !strings.Contains(s, "confirmed by the person") || strings.Contains(s, "waiting") {
		t.Fatalf("after confirming, the console shows %q", s)
	}
	// Both addresses hear of it.
	box.Await(t, "alice@example.com", "e-mail address was changed", mailBound)
	box.Await(t, "alice.new@example.org", "e-mail address was changed", mailBound)
	// The link works once.
	if resp := mailOpen(t, g.NewPortalClient(t), link, "/.gateway/email/confirm"); resp.StatusCode != http.StatusGone {
		t.Fatalf("used link: %d, want 410", resp.StatusCode)
	}
	// Forgot password now finds the account by its new address only.
	g.NewPortalClient(t).PostForm(t, "/.gateway/login/forgot", url.Values{"identity": {"alice.new@example.org"}})
	box.Await(t, "alice.new@example.org", "Set a new password", mailBound)
}

func TestOptionalAlertsCanBeTurnedOff(t *testing.T) {
	g, box := mailGateway(t)
	g.CreateUser(t, "alice")
	c := mailLoginOK(t, g, "alice", harness.TestPassword, uaFirefox)
	// Turn every optional alert off (no box ticked).
	if resp := c.PostForm(t, "/.gateway/account/alerts", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save alerts: %d", resp.StatusCode)
	}
	doc := acctDoc(t, c.Get(t, "/.gateway/account/email", "Accept", "text/html"), http.StatusOK)
	if _, on := doc.Find("#alert-new_device").Attr("checked"); on {
		t.Fatal("the new-device alert still shows as on")
	}
	mailLoginOK(t, g, "alice", harness.TestPassword, uaIPhone)
	awaitMetric(t, g, `gateway_outbox_skipped_total{reason="alert_off"} 1`)
	if n := box.Count(t, "alice@example.com"); n != 0 {
		t.Fatalf("%d mails with the new-device alert off", n)
	}
	// A credential change is mailed whatever the choice.
	acctCall(t, c, "POST", "/me/password", `{"current_password":"`+harness.TestPassword+`","new_password":"`+newPassword+`"}`, nil)
	box.Await(t, "alice@example.com", "password was changed", mailBound)
}
