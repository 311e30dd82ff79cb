package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/mailtest"
	"github.com/authgate/gateway/store"
)

// An intruder who knows the password signs in, moves the account's address
// to a mailbox of theirs and confirms it at once. "This wasn't me" from the
// owner's old address must hand the account back to that address: the reset
// link goes there and the address is put back, or the intruder gets the
// link (and could ask "Forgot password?" again after every reset).
func TestThisWasntMeTakesTheAddressBackFromAnIntruder(t *testing.T) {
	g, box := mailGateway(t)
	bob := g.CreateUser(t, "bob")
	mailLoginOK(t, g, "bob", harness.TestPassword, uaFirefox)
	intruder := mailLoginOK(t, g, "bob", harness.TestPassword, uaIPhone)
	box.Await(t, "bob@example.com", "New sign-in", mailBound)

	if resp := intruder.PostForm(t, "/.gateway/account/email", url.Values{"email": {"mallory@example.net"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("intruder's change of address: %d", resp.StatusCode)
	}
	confirm := mailLink(t, box.Await(t, "mallory@example.net", "Confirm your e-mail", mailBound), "/.gateway/email/confirm")
	mc := g.NewPortalClient(t)
	mailOpen(t, mc, confirm, "/.gateway/email/confirm")
	if doc := acctDoc(t, mc.PostForm(t, "/.gateway/email/confirm", nil), http.StatusOK); doc.Find("#email-confirmed").Length() != 1 {
		t.Fatalf("intruder's confirmation: %s", doc.Text())
	}
	// A second change, left waiting: its link must die with the rest. (Made
	// in the store: the page paces links a minute apart.)
	second := "mallory2@example.net"
	if err := g.Store.UpdateUser(t.Context(), bob.ID, store.UserUpdate{EmailPending: &second}); err != nil {
		t.Fatal(err)
	}
	tok, err := g.Store.CreateOneTime(t.Context(), store.TokenVerifyEmail, bob.ID, second, store.VerifyEmailTTL)
	if err != nil {
		t.Fatal(err)
	}
	pending := "/.gateway/email/confirm?token=" + tok

	// The old address is told, with a way to undo it.
	told := box.Await(t, "bob@example.com", "e-mail address was changed", mailBound)
	link := mailLink(t, told, "/.gateway/wasntme")
	owner := g.NewPortalClient(t)
	mailOpen(t, owner, link, "/.gateway/wasntme")
	if doc := acctDoc(t, owner.PostForm(t, "/.gateway/wasntme", nil), http.StatusOK); doc.Find("#secured").Length() != 1 {
		t.Fatalf("confirm: %s", doc.Text())
	}
	if u := must(g.Store.FindUserByID(t.Context(), bob.ID)); u.Email != "bob@example.com" || u.EmailPending != "" || u.EmailConfirmed.IsZero() {
		t.Fatalf("after \"This wasn't me\": email %q pending %q confirmed %v, want bob@example.com back, confirmed, nothing pending",
			u.Email, u.EmailPending, u.EmailConfirmed)
	}
	box.Await(t, "bob@example.com", "Set a new password", mailBound)
	if resp := mailOpen(t, g.NewPortalClient(t), pending, "/.gateway/email/confirm"); resp.StatusCode != http.StatusGone {
		t.Fatalf("the intruder's waiting confirmation link opens with %d, want 410", resp.StatusCode)
	}
	// The intruder's mailbox gets no reset link, now or by asking.
	g.NewPortalClient(t).PostForm(t, "/.gateway/login/forgot", url.Values{"identity": {"mallory@example.net"}})
	g.NewPortalClient(t).PostForm(t, "/.gateway/login/forgot", url.Values{"identity": {"bob"}})
	deadline := time.Now().Add(mailBound)
	for resets(t, box, "bob@example.com") < 2 { // the secured one and the asked-for one
		if time.Now().After(deadline) {
			t.Fatal("the reset link asked for by name did not reach bob@example.com")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := resets(t, box, "mallory@example.net") + resets(t, box, "mallory2@example.net"); n != 0 {
		t.Fatalf("%d reset links went to the intruder's addresses", n)
	}
}

// resets counts the reset-link mails to addr.
func resets(t *testing.T, box *mailtest.Server, addr string) int {
	n := 0
	for _, m := range box.Messages(t) {
		for _, to := range m.To {
			if strings.EqualFold(to.Address, addr) && strings.Contains(m.Subject, "Set a new password") {
				n++
			}
		}
	}
	return n
}

// A reset link asked for before the password was changed on the account
// page no longer works: the person who changed it may be locking out
// whoever else read the link.
func TestResetLinkDiesWhenThePasswordChanges(t *testing.T) {
	g, box := mailGateway(t)
	g.CreateUser(t, "alice")
	g.NewPortalClient(t).PostForm(t, "/.gateway/login/forgot", url.Values{"identity": {"alice"}})
	link := mailLink(t, box.Await(t, "alice@example.com", "Set a new password", mailBound), "/.gateway/reset")
	c := mailLoginOK(t, g, "alice", harness.TestPassword, uaFirefox)
	acctCall(t, c, "POST", "/me/password", `{"current_password":"`+harness.TestPassword+`","new_password":"`+newPassword+`"}`, nil)
	if resp := mailOpen(t, g.NewPortalClient(t), link, "/.gateway/reset"); resp.StatusCode != http.StatusGone {
		t.Fatalf("the reset link asked for before the password change opens with %d, want 410", resp.StatusCode)
	}
}

// The device that signed in is never asked about its own sign-in, and it
// cannot answer it either, with "Yes, that was me" or by signing itself out
// on the account page: an intruder would use that to hide their sign-in
// from the owner's other devices.
func TestNewSignInCannotBeDismissedByItsOwnDevice(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	laptop := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)
	intruder := acctLogin(t, g, "alice", harness.TestPassword, uaIPhone)
	own := ""
	for _, s := range mySessions(t, intruder) {
		if s.Current {
			own = s.ID
		}
	}
	if own == "" {
		t.Fatal("the intruder's device does not see its own session")
	}
	resp := intruder.PostForm(t, "/.gateway/account/new-signins/"+own+"/dismiss", nil, "Accept", "text/html")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("the device's own \"Yes, that was me\": %d, want 403", resp.StatusCode)
	}
	if n := accountDoc(t, laptop).Find("#new-devices li").Length(); n != 1 {
		t.Fatalf("the owner's laptop lists %d new sign-ins after the intruder answered for itself, want 1", n)
	}
	// Nor does signing itself out on the account page answer it.
	if resp := intruder.PostForm(t, "/.gateway/account/sessions/"+own+"/revoke", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the intruder signs itself out: %d", resp.StatusCode)
	}
	if n := accountDoc(t, laptop).Find("#new-devices li").Length(); n != 1 {
		t.Fatalf("the owner's laptop lists %d new sign-ins after the intruder signed itself out, want 1", n)
	}
	// The owner's answer still works.
	if resp := laptop.PostForm(t, "/.gateway/account/new-signins/"+own+"/dismiss", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the owner's \"Yes, that was me\": %d", resp.StatusCode)
	}
	if n := accountDoc(t, laptop).Find("#new-devices li").Length(); n != 0 {
		t.Fatalf("%d new sign-ins listed after the owner's answer", n)
	}
}

// An intruder with several browsers cannot clear their sign-ins from the
// owner's page either: a device may vouch for a sign-in ("Yes, that was
// me", or signing that device out) only if it was signed in before it, so
// the intruder's first browser always stays listed for the owner.
func TestNewSignInCanOnlyBeAnsweredFromAnEarlierDevice(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	laptop := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)
	first := acctLogin(t, g, "alice", harness.TestPassword, uaIPhone)
	second := acctLogin(t, g, "alice", harness.TestPassword, uaAndroid)
	third := acctLogin(t, g, "alice", harness.TestPassword, uaMacChrome)
	own := func(c *harness.Client) string {
		for _, s := range mySessions(t, c) {
			if s.Current {
				return s.ID
			}
		}
		t.Fatal("a device does not see its own session")
		return ""
	}
	firstID, secondID := own(first), own(second)
	listed := func(c *harness.Client) map[string]bool {
		out := map[string]bool{}
		accountDoc(t, c).Find("#new-devices li").Each(func(_ int, li *goquery.Selection) {
			id, _ := li.Attr("data-session")
			out[id] = li.Find("button.dismiss").Length() == 1
		})
		return out
	}
	// The later browser is offered no "Yes" for the earlier one, and its
	// POST is refused; the earlier browser may answer for the later one.
	if rows := listed(second); rows[firstID] || len(rows) != 2 {
		t.Errorf("the second browser's page lists %v (session id: offers \"Yes, that was me\"), want the first and the third, the first without it", rows)
	}
	if !strings.Contains(accountDoc(t, second).Find("#new-devices li[data-session='"+firstID+"'] .later-device").Text(), "signed in after it") {
		t.Error("the second browser's page does not say why it cannot answer for the first")
	}
	resp := second.PostForm(t, "/.gateway/account/new-signins/"+firstID+"/dismiss", nil, "Accept", "text/html")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a later device's \"Yes, that was me\" for an earlier one: %d, want 403", resp.StatusCode)
	}
	if resp := first.PostForm(t, "/.gateway/account/new-signins/"+secondID+"/dismiss", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("an earlier device's \"Yes, that was me\" for a later one: %d, want 303", resp.StatusCode)
	}
	// Signing the first browser out from the third does not answer it.
	if resp := third.PostForm(t, "/.gateway/account/sessions/"+firstID+"/revoke", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the third browser signs the first out: %d", resp.StatusCode)
	}
	rows := listed(laptop)
	if _, ok := rows[firstID]; !ok {
		t.Fatalf("the owner's laptop no longer lists the first browser's sign-in after the intruder's answers: %v", rows)
	}
	if !rows[firstID] {
		t.Error("the owner's laptop, signed in before every other, is not offered \"Yes, that was me\"")
	}
	if _, ok := rows[secondID]; ok {
		t.Error("the first browser's answer for the second did not count")
	}
	// The owner's earlier device still answers.
	if resp := laptop.PostForm(t, "/.gateway/account/new-signins/"+firstID+"/dismiss", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the owner's \"Yes, that was me\": %d", resp.StatusCode)
	}
	if _, ok := listed(laptop)[firstID]; ok {
		t.Error("the first browser's sign-in is still listed after the owner's answer")
	}
}

// Whoever was signed in to a staff account could have made an API token,
// which would outlive the sign-out and the password block just as a
// passkey would: securing the account revokes the tokens it made.
func TestSecuringAStaffAccountRevokesItsAPITokens(t *testing.T) {
	g, _ := mailGateway(t)
	admin, u := staffSignIn(t, g, "ada", "admin")
	secret, err := g.Store.CreateAPIToken(t.Context(), &store.APIToken{Name: "made by an intruder", Role: store.RoleAdmin,
		OwnerID: u.ID, CreatedBy: u.Username}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := tokenCall(t, g, secret, "GET", "/.gateway/api/v1/users?q=a", nil); code != http.StatusOK {
		t.Fatalf("the token before: %d %v", code, body)
	}
	if resp := admin.PostForm(t, "/.gateway/account/new-signins/secure", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("No, secure my account: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		code, body := tokenCall(t, g, secret, "GET", "/.gateway/api/v1/users?q=a", nil)
		if code == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the account's API token still answers %d %v after the account was secured, want 401", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Each new address gets a mail; anyone signed in may type any address, so
// a second link within store.EmailChangeCooldown is refused with a wait,
// or the gateway could be made to flood a stranger's mailbox.
func TestAddressChangeLinksArePaced(t *testing.T) {
	g, box := mailGateway(t)
	g.CreateUser(t, "alice")
	c := mailLoginOK(t, g, "alice", harness.TestPassword, uaFirefox)
	if resp := c.PostForm(t, "/.gateway/account/email", url.Values{"email": {"stranger@example.net"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first change of address: %d", resp.StatusCode)
	}
	for i := 0; i < 3; i++ {
		resp := c.PostForm(t, "/.gateway/account/email", url.Values{"email": {"stranger@example.net"}}, "Accept", "text/html")
		doc := acctDoc(t, resp, http.StatusTooManyRequests)
		if resp.Header.Get("Retry-After") == "" || !strings.Contains(doc.Text(), "Wait") {
			t.Fatalf("a second link at once: Retry-After %q, page %q", resp.Header.Get("Retry-After"), doc.Find("main").Text())
		}
	}
	box.Await(t, "stranger@example.net", "Confirm your e-mail", mailBound)
	awaitMetric(t, g, `gateway_outbox_sent_total{kind="mail"} 1`)
	awaitMetric(t, g, `gateway_outbox_messages{state="queued"} 0`)
	if n := box.Count(t, "stranger@example.net"); n != 1 {
		t.Fatalf("%d mails to the typed address, want 1", n)
	}
}
