package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// TestConsoleDashboardShowsWhatIsGoingOn drives sign-ins, failures, a
// throttled account, a lock and a disable, and checks what the console's
// home page says about them, the search by address, the user page's
// wording and confirm steps, and the audit log in words.
func TestConsoleDashboardShowsWhatIsGoingOn(t *testing.T) {
	g := staffGateway(t, "off", func(c *config.Config) {
		c.Throttle.PasswordAccount.Free = 1 // the second wrong password starts a delay
	})
	alice, _ := staffSignIn(t, g, "alice", "admin")
	bob, _ := staffSignIn(t, g, "bob", "support")
	g.CreateUser(t, "victim")
	g.CreateUser(t, "carol")
	g.CreateUser(t, "dave")
	victim := g.NewPortalClient(t)
	victim.Login(t, "victim", harness.TestPassword)
	for _, name := range []string{"victim", "nobody", "carol", "carol"} {
		resp := g.NewPortalClient(t).PostForm(t, "/.gateway/login", url.Values{"username": {name}, "password": {"not the password at all"}, "rd": {"/"}})
		resp.Body.Close()
	}
	act := func(c *harness.Client, user, action, reason string) {
		t.Helper()
		resp := c.PostForm(t, "/.gateway/admin/users/"+user+"/"+action, url.Values{"reason": {reason}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s %s: %d", action, user, resp.StatusCode)
		}
	}
	act(bob, "victim", "lock", "reported stolen phone, ticket 77")
	act(alice, "dave", "disable", "left the company")

	doc := consoleDoc(t, alice, "/.gateway/admin", http.StatusOK)
	figure := func(id string) string { return strings.TrimSpace(doc.Find("#" + id + " dd").Text()) }
	// Sign-ins: alice, bob, victim. Failures: victim's, the unknown name's,
	// carol's two (the second starts her delay).
	if got := figure("signins-24h"); got != "3" {
		t.Errorf("sign-ins figure %q, want 3", got)
	}
	if got := figure("failed-24h"); got != "4" {
		t.Errorf("failed attempts figure %q, want 4", got)
	}
	if got := figure("active-now"); got != "3" {
		t.Errorf("active sessions %q, want 3 (alice, bob, and victim's until the window passes)", got)
	}
	if got := figure("locked-now"); got != "2" {
		t.Errorf("locked or disabled %q, want 2", got)
	}
	if title := doc.Find("#hour-chart title#hour-chart-summary").Text(); !strings.Contains(title, "3 sign-ins and 4 failed attempts") {
		t.Errorf("chart summary %q", title)
	}
	if n := doc.Find("#hour-chart rect.bar-ok").Length(); n != 1 {
		t.Errorf("chart draws %d sign-in bars, want 1 (this hour)", n)
	}
	throttled := doc.Find("#throttled tr.throttled")
	if throttled.Length() != 1 || !strings.Contains(throttled.Text(), "Password attempts on an account") {
		t.Errorf("throttled: %q", throttled.Text())
	}
	if href, _ := throttled.Find("a").Attr("href"); href != "/.gateway/admin/users/carol" {
		t.Errorf("throttled account links %q", href)
	}
	locked := map[string]string{}
	doc.Find("#locked tr.locked").Each(func(_ int, s *goquery.Selection) {
		locked[s.Find("a").Text()] = s.Find(`td[data-label="State"]`).Text()
	})
	if !strings.HasPrefix(locked["victim"], "Locked by support") || !strings.HasPrefix(locked["dave"], "Disabled by an admin") {
		t.Errorf("locked and disabled accounts: %v", locked)
	}
	staff := doc.Find("#staff-actions").Text()
	for _, want := range []string{"Locked the account", "reported stolen phone, ticket 77", "Disabled the account"} {
		if !strings.Contains(staff, want) {
			t.Errorf("recent staff actions lack %q: %s", want, staff)
		}
	}
	// Support sees the figures but not the audit trail, which is admins'.
	sdoc := consoleDoc(t, bob, "/.gateway/admin", http.StatusOK)
	if sdoc.Find("#overview").Length() != 1 || sdoc.Find("#staff-actions").Length() != 0 {
		t.Error("support's dashboard: figures missing or staff actions shown")
	}

	// Search by address: every account that signed in from 127.0.0.1,
	// also when typed as an IPv4-mapped IPv6 address.
	for _, q := range []string{"127.0.0.1", "::ffff:127.0.0.1"} {
		res := consoleDoc(t, bob, "/.gateway/admin?q="+url.QueryEscape(q), http.StatusOK)
		var names []string
		res.Find("#results a.user-link").Each(func(_ int, s *goquery.Selection) { names = append(names, s.Text()) })
		if len(names) != 3 || !strings.Contains(res.Find("#results-title").Text(), "127.0.0.1") {
			t.Errorf("accounts from %s: %v (%s), want alice, bob and victim", q, names, res.Find("#results-title").Text())
		}
	}
	if res := consoleDoc(t, bob, "/.gateway/admin?q=192.0.2.1", http.StatusOK); res.Find("#no-results").Length() != 1 {
		t.Error("an address nobody signed in from lists accounts")
	}

	// The user page says locked, not disabled, and each action's reason
	// field and confirm step are its own.
	udoc := consoleDoc(t, alice, "/.gateway/admin/users/victim", http.StatusOK)
	if st := udoc.Find("#status").Text(); !strings.HasPrefix(st, "Locked by support") || strings.Contains(st, "Disabled") {
		t.Errorf("status of a locked account: %q", st)
	}
	labels := map[string]bool{}
	udoc.Find(`input[name="reason"]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("id")
		l := udoc.Find(`label[for="` + id + `"]`).Text()
		if l == "" || labels[l] {
			t.Errorf("reason field %s labelled %q (missing or the same as another)", id, l)
		}
		labels[l] = true
	})
	if len(labels) < 3 {
		t.Errorf("only %d reason fields", len(labels))
	}
	if eff := udoc.Find("#unlock-effect").Text(); !strings.Contains(eff, "victim can sign in again") {
		t.Errorf("unlock confirm step says %q", eff)
	}
	if udoc.Find("details.confirm #unlock").Length() != 1 {
		t.Error("unlock is not behind a confirm step")
	}

	// The audit log is in words, and filters by action.
	adoc := consoleDoc(t, alice, "/.gateway/admin/audit?action=lock", http.StatusOK)
	if n := adoc.Find("tr.audit-entry").Length(); n != 1 || adoc.Find(".audit-action").Text() != "Locked the account" {
		t.Errorf("audit filtered by lock: %d entries, action %q", n, adoc.Find(".audit-action").Text())
	}
	if opt := adoc.Find(`#action option[value="signout_all"]`).Text(); opt != "Signed out of all devices" {
		t.Errorf("action filter shows %q for signout_all", opt)
	}
	if strings.Contains(adoc.Find("#entries").Text(), "signout_all") || strings.Contains(adoc.Find("#entries").Text(), " lock ") {
		t.Error("audit entries show internal action ids")
	}
}

// redisCalls is how many commands Redis has run so far (INFO commandstats).
func redisCalls(t *testing.T, g *harness.Gateway) int64 {
	t.Helper()
	info, err := g.Store.Client().Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, line := range strings.Split(info, "\n") {
		if _, rest, ok := strings.Cut(line, ":calls="); ok {
			calls, _, _ := strings.Cut(rest, ",")
			v, _ := strconv.ParseInt(calls, 10, 64)
			n += v
		}
	}
	return n
}

// TestConsoleDashboardCostDoesNotGrowWithUsers: a view of the console's
// home page costs the same number of Redis commands with 6 users as with
// 206, so nothing on it scans the users or their sessions.
func TestConsoleDashboardCostDoesNotGrowWithUsers(t *testing.T) {
	g := staffGateway(t, "off")
	alice, _ := staffSignIn(t, g, "alice", "admin")
	for _, name := range []string{"u1", "u2", "u3", "u4", "u5"} {
		g.CreateUser(t, name)
	}
	view := func() int64 {
		t.Helper()
		before := redisCalls(t, g)
		consoleDoc(t, alice, "/.gateway/admin", http.StatusOK)
		return redisCalls(t, g) - before - 1 // less the INFO of the second count
	}
	view() // the first view after an upgrade builds the locked index once
	small := view()
	for i := range 200 {
		if err := g.Store.CreateUser(context.Background(), &store.User{Username: fmt.Sprintf("many%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	large := view()
	t.Logf("Redis commands per view of the console's home page: %d with 6 users, %d with 206", small, large)
	if large > small+5 { // a few for the session check and background work
		t.Errorf("a view costs %d commands with 206 users, %d with 6: it grows with the users", large, small)
	}
}
