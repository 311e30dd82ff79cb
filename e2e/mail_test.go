package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

func TestNewDeviceMailAndThisWasntMe(t *testing.T) {
	g, box := mailGateway(t)
	alice := g.CreateUser(t, "alice")
	laptop := mailLoginOK(t, g, "alice", harness.TestPassword, uaFirefox)
	if n := box.Count(t, "alice@example.com"); n != 0 {
		t.Fatalf("the account's first sign-in mailed %d alerts", n)
	}
	start := time.Now()
	phone := mailLoginOK(t, g, "alice", harness.TestPassword, uaIPhone)
	m := box.Await(t, "alice@example.com", "New sign-in", mailBound)
	t.Logf("new-device mail in Mailpit %s after the sign-in", time.Since(start).Round(time.Millisecond))
	for _, want := range []string{"iOS", "127.0.0.1", "UTC", "This wasn't me"} {
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want[:3]) {
			t.Errorf("the alert does not name %q:\n%s", want, m.Text)
		}
	}
	if m.From.Address != "signin@example.com" {
		t.Errorf("From %q", m.From.Address)
	}
	link := mailLink(t, m, "/.gateway/wasntme")

	// A scanner (or the person) opening the link changes nothing.
	stranger := g.NewPortalClient(t)
	page := acctDoc(t, mailOpen(t, stranger, link, "/.gateway/wasntme"), http.StatusOK)
	if page.Find("#wasntme-username").Text() != "alice" || page.Find("#wasntme-confirm").Length() != 1 {
		t.Fatalf("the link's page does not ask to confirm for alice: %s", page.Text())
	}
	if !staffAlive(t, laptop) || !staffAlive(t, phone) {
		t.Fatal("opening the link signed a device out")
	}
	if u := must(g.Store.FindUserByID(t.Context(), alice.ID)); u.PasswordBlocked {
		t.Fatal("opening the link blocked the password")
	}

	// The button, from a browser that is not signed in.
	resp := stranger.PostForm(t, "/.gateway/wasntme", nil)
	if doc := acctDoc(t, resp, http.StatusOK); doc.Find("#secured").Length() != 1 {
		t.Fatalf("confirm: %s", doc.Text())
	}
	if staffAlive(t, laptop) || staffAlive(t, phone) {
		t.Fatal("a device is still signed in after \"This wasn't me\"")
	}
	_, resp = mailLogin(t, g, "alice", harness.TestPassword, uaFirefox)
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "blocked") {
		t.Fatalf("sign-in with the old password after \"This wasn't me\": %d, want 403 blocked", resp.StatusCode)
	}
	if countEvents(t, g, alice.ID, store.EventAccountSecured) != 1 {
		t.Error("no account_secured activity")
	}
	if a := staffAudit(t, g, store.AuditFilter{Action: store.AuditAccountSecured}); len(a) != 1 || a[0].Target != "alice" {
		t.Errorf("audit: %+v", a)
	}

	// The link works once.
	again := g.NewPortalClient(t)
	if resp := mailOpen(t, again, link, "/.gateway/wasntme"); resp.StatusCode != http.StatusGone {
		t.Fatalf("the used link opens with %d, want 410", resp.StatusCode)
	}

	// The reset link mailed with it sets a new password, once; 2FA and
	// everything else stay.
	reset := box.Await(t, "alice@example.com", "Set a new password", mailBound)
	rlink := mailLink(t, reset, "/.gateway/reset")
	c := g.NewPortalClient(t)
	mailOpen(t, c, rlink, "/.gateway/reset")
	if resp := resetSubmit(t, c, newPassword, newPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	mailLoginOK(t, g, "alice", newPassword, uaFirefox)
	box.Await(t, "alice@example.com", "password was changed", mailBound)
	if resp := mailOpen(t, g.NewPortalClient(t), rlink, "/.gateway/reset"); resp.StatusCode != http.StatusGone {
		t.Fatalf("the used reset link opens with %d, want 410", resp.StatusCode)
	}
}

func TestForgotPasswordByMail(t *testing.T) {
	g, box := mailGateway(t)
	g.CreateUser(t, "carol")
	old := mailLoginOK(t, g, "carol", harness.TestPassword, uaFirefox)

	ask := func(identity string) string {
		t.Helper()
		c := g.NewPortalClient(t)
		resp := c.PostForm(t, "/.gateway/login/forgot", url.Values{"identity": {identity}})
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("forgot %q: %d", identity, resp.StatusCode)
		}
		return string(b)
	}
	// The login page offers it.
	if doc := acctDoc(t, g.NewPortalClient(t).Get(t, "/.gateway/login"), http.StatusOK); doc.Find("#forgot").Length() != 1 {
		t.Fatal("no \"Forgot password?\" on the sign-in page")
	}
	known, unknown := ask("Carol@Example.com"), ask("nobody@example.com")
	if known != unknown || !strings.Contains(known, "forgot-sent") {
		t.Fatalf("the answers differ between a known and an unknown account")
	}
	m := box.Await(t, "carol@example.com", "Set a new password", mailBound)
	link := mailLink(t, m, "/.gateway/reset")
	if !strings.Contains(m.Text, "30 minutes") {
		t.Errorf("the mail does not say how long the link works:\n%s", m.Text)
	}
	c := g.NewPortalClient(t)
	mailOpen(t, c, link, "/.gateway/reset")
	if resp := resetSubmit(t, c, "password", "password"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a weak password: %d, want 422", resp.StatusCode)
	}
	if resp := resetSubmit(t, c, newPassword, newPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if staffAlive(t, old) {
		t.Fatal("the old device is still signed in after the reset")
	}
	mailLoginOK(t, g, "carol", newPassword, uaFirefox)
	// Used once.
	c2 := g.NewPortalClient(t)
	if resp := mailOpen(t, c2, link, "/.gateway/reset"); resp.StatusCode != http.StatusGone {
		t.Fatalf("the link opens again: %d", resp.StatusCode)
	}
	box.Await(t, "carol@example.com", "password was changed", mailBound)
	if n := box.Count(t, "nobody@example.com"); n != 0 {
		t.Fatalf("%d mails to an address of no account", n)
	}
}

func TestForgotPasswordIsThrottled(t *testing.T) {
	g, _ := mailGateway(t, func(c *config.Config) {
		c.Throttle.PasswordAccount.Free = 2
	})
	g.CreateUser(t, "dave")
	codes := []int{}
	for range 4 {
		resp := g.NewPortalClient(t).PostForm(t, "/.gateway/login/forgot", url.Values{"identity": {"dave"}})
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != http.StatusOK || codes[3] != http.StatusTooManyRequests {
		t.Fatalf("statuses of four requests for one account: %v, want 200 first and 429 at last", codes)
	}
}

// TestMailWaitsForTheServer stops the SMTP server, makes an event that
// mails, and starts the server again: the mail arrives once it is back,
// after failed attempts that the metrics count and that leave the message
// in the retry set, never dropped.
func TestMailWaitsForTheServer(t *testing.T) {
	g, box := mailGateway(t)
	alice := g.CreateUser(t, "alice")
	box.Stop(t)
	c := mailLoginOK(t, g, "alice", harness.TestPassword, uaFirefox)
	resp := acctCall(t, c, "POST", "/me/password",
		`{"current_password":"`+harness.TestPassword+`","new_password":"`+newPassword+`"}`, nil, "User-Agent", uaFirefox)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("password change: %d", resp.StatusCode)
	}
	// Wait until a delivery failed and the message waits for a retry.
	deadline := time.Now().Add(mailBound)
	for {
		n, err := g.Store.CountOutbox(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n.Retrying > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed delivery filed for retry: %+v", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The gauge is read at scrape time: the message may be back in the
	// queue (and failing again) by then, so look for it in either state.
	if met := metricsText(t, g); !strings.Contains(met, `gateway_outbox_messages{state="retrying"} 1`) &&
		!strings.Contains(met, `gateway_outbox_messages{state="queued"} 1`) {
		t.Error("gateway_outbox_messages does not show the message waiting")
	}
	box.Restart(t)
	m := box.Await(t, "alice@example.com", "password was changed", mailBound)
	if !strings.Contains(m.Text, "Firefox") {
		t.Errorf("the mail lost the event's device:\n%s", m.Text)
	}
	// The worker counts the delivery once the server's answer is in,
	// a moment after Mailpit stored the message.
	awaitMetric(t, g, `gateway_outbox_sent_total{kind="mail"} 1`)
	awaitMetric(t, g, `gateway_outbox_failures_total{kind="mail"}`)
	if n := countEvents(t, g, alice.ID, store.EventPasswordChanged); n != 1 {
		t.Errorf("%d password_changed events", n)
	}
}

func metricsText(t *testing.T, g *harness.Gateway) string {
	t.Helper()
	resp, err := http.Get(g.OpsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// awaitMetric waits until /metrics shows want (a line or its start).
func awaitMetric(t *testing.T, g *harness.Gateway, want string) {
	t.Helper()
	deadline := time.Now().Add(mailBound)
	for !strings.Contains(metricsText(t, g), want) {
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed %s", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
