package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	otptotp "github.com/pquerna/otp/totp"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/totp"
)

// staffGateway starts a gateway with 2FA policy mfa ("off" lets staff in
// with a password alone, which keeps tests that are not about 2FA short).
func staffGateway(t *testing.T, mfa string, more ...func(*config.Config)) *harness.Gateway {
	t.Helper()
	return harness.Start(t, harness.Options{Portal: true, Configure: func(c *config.Config) {
		c.MFA.Require = mfa
		for _, f := range more {
			f(c)
		}
	}})
}

// staffSignIn creates a user with roles and signs a new client in with the
// password.
func staffSignIn(t *testing.T, g *harness.Gateway, name string, roles ...string) (*harness.Client, *store.User) {
	t.Helper()
	u := g.CreateUser(t, name, roles...)
	c := g.NewPortalClient(t)
	c.Login(t, name, harness.TestPassword)
	return c, u
}

// staffEnrolTOTP turns 2FA on for u directly in the store, sealing the
// secret the way store/totp does, and returns the plain secret.
func staffEnrolTOTP(t *testing.T, g *harness.Gateway, u *store.User) string {
	t.Helper()
	key, err := otptotp.Generate(otptotp.GenerateOpts{Issuer: "gateway test", AccountName: u.Username})
	if err != nil {
		t.Fatal(err)
	}
	codec, err := totp.New(append([]string{g.Config.Secret}, g.Config.PreviousSecrets...))
	if err != nil {
		t.Fatal(err)
	}
	sealed, on := codec.Seal(u.ID, key.Secret()), true
	if err := g.Store.UpdateUser(context.Background(), u.ID, store.UserUpdate{MFASecret: &sealed, MFAEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	return key.Secret()
}

// staffSignInTOTP signs c in with the password and then a TOTP code.
func staffSignInTOTP(t *testing.T, c *harness.Client, name, secret string) {
	t.Helper()
	resp := c.PostForm(t, "/.gateway/login", url.Values{"username": {name}, "password": {harness.TestPassword}, "rd": {"/"}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/.gateway/login/2fa") {
		t.Fatalf("password step: %d to %q, want the code step", resp.StatusCode, loc)
	}
	code, err := otptotp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp = c.PostForm(t, "/.gateway/login/2fa", url.Values{"code": {code}, "rd": {"/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("code step: %d to %q: %.300s", resp.StatusCode, resp.Header.Get("Location"), b)
	}
}

// staffCall sends a JSON request and decodes a JSON answer (if any).
func staffCall(t *testing.T, c *harness.Client, method, path string, body any, header ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
		header = append(header, "Content-Type", "application/json")
	}
	resp := c.Do(t, method, path, rd, header...)
	defer resp.Body.Close()
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("%s %s: bad JSON: %v", method, path, err)
		}
	}
	return resp.StatusCode, out
}

// staffReason is a body with a reason.
func staffReason(s string) map[string]string { return map[string]string{"reason": s} }

// staffAlive reports whether c's session on the portal still works.
func staffAlive(t *testing.T, c *harness.Client) bool {
	t.Helper()
	code, _ := staffCall(t, c, "GET", "/.gateway/api/v1/me", nil)
	return code == http.StatusOK
}

// staffAudit reads the audit log from the store.
func staffAudit(t *testing.T, g *harness.Gateway, f store.AuditFilter) []store.AuditEntry {
	t.Helper()
	es, err := g.Store.FindAudit(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// staffEvents reads a user's activity from the store, newest first.
func staffEvents(t *testing.T, g *harness.Gateway, uid string) []store.Event {
	t.Helper()
	es, err := g.Store.FindEvents(context.Background(), uid, 50)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// staffSessionIDs lists a user's session ids from the staff API.
func staffSessionIDs(t *testing.T, c *harness.Client, name string) []string {
	t.Helper()
	code, body := staffCall(t, c, "GET", "/.gateway/api/v1/users/"+name+"/sessions", nil)
	if code != http.StatusOK {
		t.Fatalf("sessions of %s: %d %v", name, code, body)
	}
	var ids []string
	for _, s := range body["sessions"].([]any) {
		ids = append(ids, s.(map[string]any)["id"].(string))
	}
	return ids
}

func TestStaffActionsThroughTheAPI(t *testing.T) {
	g := staffGateway(t, "off")
	bob, _ := staffSignIn(t, g, "bob", "support")
	victim := g.CreateUser(t, "victim")
	phone, laptop := g.NewPortalClient(t), g.NewPortalClient(t)
	phone.Login(t, "victim", harness.TestPassword)
	laptop.Login(t, "victim", harness.TestPassword)

	code, body := staffCall(t, bob, "GET", "/.gateway/api/v1/users?q=vic", nil)
	if code != http.StatusOK || !strings.Contains(staffJSONText(body), `"username":"victim"`) {
		t.Fatalf("search: %d %v", code, body)
	}
	code, body = staffCall(t, bob, "GET", "/.gateway/api/v1/users?q=VICTIM@EXAMPLE", nil)
	if code != http.StatusOK || !strings.Contains(staffJSONText(body), `"username":"victim"`) {
		t.Fatalf("search by email: %d %v", code, body)
	}
	if code, body = staffCall(t, bob, "GET", "/.gateway/api/v1/users/victim", nil); code != http.StatusOK || body["status"] != "active" {
		t.Fatalf("profile: %d %v", code, body)
	}
	if code, _ = staffCall(t, bob, "GET", "/.gateway/api/v1/users/nobody", nil); code != http.StatusNotFound {
		t.Fatalf("unknown user: %d, want 404", code)
	}
	ids := staffSessionIDs(t, bob, "victim")
	if len(ids) != 2 {
		t.Fatalf("victim has %d sessions in the staff view, want 2", len(ids))
	}

	// No reason, a blank one, or one too long: refused, and nothing happens.
	for _, b := range []any{nil, staffReason(""), staffReason(" \t\n "), staffReason(strings.Repeat("x", 501))} {
		code, body := staffCall(t, bob, "POST", "/.gateway/api/v1/users/victim/signout-all", b)
		if code != http.StatusUnprocessableEntity || !strings.HasPrefix(body["code"].(string), "reason_") || body["error"] == "" {
			t.Fatalf("sign-out with body %v: %d %v, want 422 reason_…", b, code, body)
		}
	}
	if code, _ := staffCall(t, bob, "POST", "/.gateway/api/v1/users/victim/signout-all", nil, "Content-Type", "application/json"); code != http.StatusUnprocessableEntity {
		t.Fatalf("empty body: %d", code)
	}
	resp := bob.Do(t, "POST", "/.gateway/api/v1/users/victim/signout-all", strings.NewReader("{not json"), "Content-Type", "application/json")
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("broken JSON: %d, want 400", resp.StatusCode)
	}
	if !staffAlive(t, phone) || !staffAlive(t, laptop) {
		t.Fatal("a refused action signed the victim out")
	}
	if n := len(staffAudit(t, g, store.AuditFilter{})); n != 0 {
		t.Fatalf("refused actions wrote %d audit entries", n)
	}

	// Sign out one device: the phone, which signed in first.
	_, body = staffCall(t, bob, "GET", "/.gateway/api/v1/users/victim/sessions", nil)
	var phoneSID string
	var first time.Time
	for _, s := range body["sessions"].([]any) {
		s := s.(map[string]any)
		created, _ := time.Parse(time.RFC3339Nano, s["created"].(string))
		if phoneSID == "" || created.Before(first) {
			first, phoneSID = created, s["id"].(string)
		}
	}
	code, body = staffCall(t, bob, "POST", "/.gateway/api/v1/users/victim/sessions/"+phoneSID+"/revoke", staffReason("lost phone, ticket 4711"))
	if code != http.StatusNoContent {
		t.Fatalf("revoke one: %d %v", code, body)
	}
	if staffAlive(t, phone) || !staffAlive(t, laptop) {
		t.Fatal("revoking the phone's session should end the phone's session only")
	}
	if code, _ := staffCall(t, bob, "POST", "/.gateway/api/v1/users/victim/sessions/"+phoneSID+"/revoke", staffReason("again")); code != http.StatusNotFound {
		t.Fatalf("revoking a dead session: %d, want 404", code)
	}

	// Sign out everywhere.
	phone.Login(t, "victim", harness.TestPassword)
	laptop.Login(t, "victim", harness.TestPassword)
	if code, body := staffCall(t, bob, "POST", "/.gateway/api/v1/users/victim/signout-all", staffReason("account takeover, ticket 4712")); code != http.StatusNoContent {
		t.Fatalf("sign out everywhere: %d %v", code, body)
	}
	if staffAlive(t, phone) || staffAlive(t, laptop) {
		t.Fatal("victim still signed in after sign-out everywhere")
	}
	ev := staffEvents(t, g, victim.ID)[0]
	if ev.Type != store.EventSignOutAll || ev.Actor != "support:bob" ||
		ev.Detail != "Support (bob) signed you out of all devices: account takeover, ticket 4712" {
		t.Fatalf("victim's activity: %+v", ev)
	}
	au := staffAudit(t, g, store.AuditFilter{Action: store.AuditSignOutAll})
	if len(au) != 1 || au[0].Actor != "bob" || au[0].ActorRole != "support" || au[0].Target != "victim" ||
		au[0].Reason != "account takeover, ticket 4712" || au[0].IP != "127.0.0.1" || time.Since(au[0].Time) > time.Minute {
		t.Fatalf("audit: %+v", au)
	}

	// Lock: signs out and refuses sign-in; lock twice is a conflict; unlock.
	laptop.Login(t, "victim", harness.TestPassword)
	if code, _ := staffCall(t, bob, "POST", "/.gateway/api/v1/users/victim/lock", staffReason("fraud check")); code != http.StatusNoContent {
		t.Fatalf("lock: %d", code)
	}
	if staffAlive(t, laptop) {
		t.Fatal("locked user still signed in")
	}
	// The login page tells the locked-out person, once, with the reason.
	const lockedNotice = "Support locked your account and signed you out. Contact support to unlock it. Reason given: “fraud check”"
	if body := staffPageText(t, laptop, "/.gateway/login"); !strings.Contains(body, lockedNotice) {
		t.Errorf("the login page after a lock does not say why:\n%s", body)
	}
	if body := staffPageText(t, laptop, "/.gateway/login"); strings.Contains(body, lockedNotice) {
		t.Error("the login page says why twice")
	}
	if resp := signIn(t, g.NewPortalClient(t), "victim", harness.TestPassword, "/"); resp.StatusCode == http.StatusSeeOther {
		t.Fatal("locked user signed in")
	}
	if code, body := staffCall(t, bob, "POST", "/.gateway/api/v1/users/victim/lock", staffReason("again")); code != http.StatusConflict {
		t.Fatalf("second lock: %d %v, want 409", code, body)
	}
	if _, body := staffCall(t, bob, "GET", "/.gateway/api/v1/users/victim", nil); body["status"] != "locked" {
		t.Fatalf("status after lock: %v", body["status"])
	}
	if code, _ := staffCall(t, bob, "POST", "/.gateway/api/v1/users/victim/unlock", staffReason("cleared")); code != http.StatusNoContent {
		t.Fatalf("unlock: %d", code)
	}
	laptop.Login(t, "victim", harness.TestPassword)

	// Throttles: failures show, and clearing them empties the list.
	// Counters as a password-guessing stranger leaves them (store-level, so
	// this test does not depend on the sign-in limits' policy).
	pol := store.ThrottlePolicy{Free: 1, Base: time.Minute, Max: time.Hour, Forget: time.Hour}
	for _, k := range []string{store.PasswordUserThrottleKey(victim.ID), store.MFAThrottleKey(victim.ID)} {
		for range 3 {
			if _, err := g.Store.ThrottleFail(context.Background(), k, pol); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, body = staffCall(t, bob, "GET", "/.gateway/api/v1/users/victim", nil)
	if th, _ := body["throttles"].([]any); len(th) != 2 || th[0].(map[string]any)["blocked_until"] == nil {
		t.Fatalf("no throttles shown after failed sign-ins: %v", body)
	}
	if code, _ := staffCall(t, bob, "POST", "/.gateway/api/v1/users/victim/throttles/clear", staffReason("user locked out by a bot")); code != http.StatusNoContent {
		t.Fatalf("clear throttles: %d", code)
	}
	if _, body = staffCall(t, bob, "GET", "/.gateway/api/v1/users/victim", nil); len(body["throttles"].([]any)) != 0 {
		t.Fatalf("throttles after clearing: %v", body["throttles"])
	}

	// Reset 2FA: the secret, the codes and every session go.
	staffEnrolTOTP(t, g, victim)
	codes := []string{"h1", "h2"}
	g.Store.UpdateUser(context.Background(), victim.ID, store.UserUpdate{RecoveryCodes: &codes})
	if code, _ := staffCall(t, bob, "POST", "/.gateway/api/v1/users/victim/2fa/reset", staffReason("lost authenticator, ID checked")); code != http.StatusNoContent {
		t.Fatalf("2fa reset: %d", code)
	}
	u, _ := g.Store.FindUserByID(context.Background(), victim.ID)
	if u.MFAEnabled || u.MFASecret != "" || len(u.RecoveryCodes) != 0 {
		t.Fatalf("2FA still set after reset: %+v", u)
	}
	if staffAlive(t, laptop) {
		t.Fatal("2FA reset did not sign the user out")
	}

	// Every action above is in the audit log, with its reason, and in the
	// user's own activity, naming the staff member.
	for _, act := range []string{store.AuditSessionRevoke, store.AuditSignOutAll, store.AuditLock, store.AuditUnlock,
		store.AuditThrottleClear, store.AuditMFAReset} {
		if es := staffAudit(t, g, store.AuditFilter{Action: act, Actor: "bob", Target: "victim"}); len(es) != 1 || es[0].Reason == "" {
			t.Errorf("audit for %s: %+v", act, es)
		}
	}
	staffActs := 0
	for _, e := range staffEvents(t, g, victim.ID) {
		if e.Actor == "support:bob" {
			staffActs++
			if !strings.HasPrefix(e.Detail, "Support (bob) ") {
				t.Errorf("activity entry does not name the staff member: %q", e.Detail)
			}
		}
	}
	if staffActs != 6 {
		t.Errorf("victim's activity has %d staff entries, want 6", staffActs)
	}
}

// staffJSONText re-encodes a decoded body, to look for fragments in it.
// staffPageText is the HTML of a page as a browser asks for it.
func staffPageText(t *testing.T, c *harness.Client, path string) string {
	t.Helper()
	resp := c.Get(t, path, "Accept", "text/html")
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func staffJSONText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestResetLinkIsSingleUseAndSignsOutEverywhere(t *testing.T) {
	g := staffGateway(t, "off")
	bob, _ := staffSignIn(t, g, "bob", "support")
	victim := g.CreateUser(t, "victim")
	old := g.NewPortalClient(t)
	old.Login(t, "victim", harness.TestPassword)

	code, body := staffCall(t, bob, "POST", "/.gateway/api/v1/users/victim/reset-link", staffReason("forgot password, ticket 99"))
	if code != http.StatusCreated {
		t.Fatalf("reset link: %d %v", code, body)
	}
	link, _ := url.Parse(body["url"].(string))
	exp, _ := time.Parse(time.RFC3339, body["expires"].(string))
	if link.Path != "/.gateway/reset" || len(link.Query().Get("token")) < 40 || time.Until(exp) < 23*time.Hour || time.Until(exp) > 25*time.Hour {
		t.Fatalf("link %q expires %v", link, exp)
	}
	if ev := staffEvents(t, g, victim.ID)[0]; ev.Type != store.EventResetLink || !strings.Contains(ev.Detail, "forgot password, ticket 99") {
		t.Fatalf("victim's activity: %+v", ev)
	}

	person := g.NewPortalClient(t)
	resp := resetOpen(t, person, link.String())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset page: %d", resp.StatusCode)
	}
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	if doc.Find("#reset-username").Text() != "victim" {
		t.Fatal("reset page does not say whose password it sets")
	}
	post := func(pw, confirm string) *http.Response { return resetSubmit(t, person, pw, confirm) }
	// A refused password keeps the link usable.
	if resp := post("password", "password"); resp.StatusCode != http.StatusUnprocessableEntity || pageError(t, resp.Body) == "" {
		t.Fatalf("weak password: %d", resp.StatusCode)
	}
	if resp := post("a fine new passphrase", "a different one here"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("mismatched confirmation: %d", resp.StatusCode)
	}
	if !staffAlive(t, old) {
		t.Fatal("a refused reset signed the user out")
	}
	resp = post("a fine new passphrase", "a fine new passphrase")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/.gateway/login?m=password_reset" {
		t.Fatalf("reset: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if staffAlive(t, old) {
		t.Fatal("the old session survived the reset")
	}
	// Used once: the page and the form both refuse it now.
	if resp := resetOpen(t, person, link.String()); resp.StatusCode != http.StatusGone {
		t.Fatalf("used link page: %d, want 410", resp.StatusCode)
	}
	if resp := post("another fine passphrase", "another fine passphrase"); resp.StatusCode != http.StatusGone {
		t.Fatalf("used link again: %d, want 410", resp.StatusCode)
	}
	if resp := signIn(t, g.NewPortalClient(t), "victim", harness.TestPassword, "/"); resp.StatusCode == http.StatusSeeOther {
		t.Fatal("the old password still works")
	}
	fresh := g.NewPortalClient(t)
	fresh.Login(t, "victim", "a fine new passphrase")
	if es := staffAudit(t, g, store.AuditFilter{Action: store.AuditResetUsed, Target: "victim"}); len(es) != 1 {
		t.Fatalf("use of the link not audited: %+v", es)
	}
	// A made-up token gets the same answer as a used one.
	if resp := resetOpen(t, person, "/.gateway/reset?token=nope"); resp.StatusCode != http.StatusGone {
		t.Fatalf("bogus token: %d", resp.StatusCode)
	}
}

func TestSupportCannotActOnAdminsOrLockThemselves(t *testing.T) {
	g := staffGateway(t, "off")
	bob, _ := staffSignIn(t, g, "bob", "support")
	alice, _ := staffSignIn(t, g, "alice", "admin")
	for _, p := range []string{"signout-all", "lock", "2fa/reset", "reset-link", "throttles/clear"} {
		code, body := staffCall(t, bob, "POST", "/.gateway/api/v1/users/alice/"+p, staffReason("trying"))
		if code != http.StatusForbidden || body["code"] != "forbidden" {
			t.Errorf("support %s on an admin: %d %v, want 403", p, code, body)
		}
	}
	if !staffAlive(t, alice) {
		t.Fatal("support signed an admin out")
	}
	// Support may still look.
	if code, _ := staffCall(t, bob, "GET", "/.gateway/api/v1/users/alice/sessions", nil); code != http.StatusOK {
		t.Fatalf("support viewing an admin: %d", code)
	}
	if code, body := staffCall(t, bob, "POST", "/.gateway/api/v1/users/bob/lock", staffReason("oops")); code != http.StatusForbidden || body["code"] != "self_action" {
		t.Fatalf("locking oneself: %d %v", code, body)
	}
	if code, _ := staffCall(t, alice, "POST", "/.gateway/api/v1/users/alice/lock", staffReason("oops")); code != http.StatusForbidden {
		t.Fatalf("admin locking themselves: %d", code)
	}
	// An admin may act on support, and support may not lift an admin's disable.
	g.CreateUser(t, "carol")
	resp := alice.PostForm(t, "/.gateway/admin/users/carol/disable", url.Values{"reason": {"left the company"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin disable: %d", resp.StatusCode)
	}
	if code, body := staffCall(t, bob, "POST", "/.gateway/api/v1/users/carol/unlock", staffReason("asked nicely")); code != http.StatusForbidden {
		t.Fatalf("support enabling an admin-disabled account: %d %v", code, body)
	}
	if code, body := staffCall(t, bob, "POST", "/.gateway/api/v1/users/carol/lock", staffReason("x")); code != http.StatusConflict {
		t.Fatalf("support re-locking a disabled account: %d %v, want 409", code, body)
	}
	if code, _ := staffCall(t, alice, "POST", "/.gateway/api/v1/users/carol/unlock", staffReason("came back")); code != http.StatusNoContent {
		t.Fatalf("admin enabling: %d", code)
	}
	// An operator's disable (the CLI) on top of a staff lock is the
	// operator's too: support cannot lift it.
	dave := g.CreateUser(t, "dave")
	if code, _ := staffCall(t, bob, "POST", "/.gateway/api/v1/users/dave/lock", staffReason("suspicious")); code != http.StatusNoContent {
		t.Fatalf("lock dave: %d", code)
	}
	disableUser(t, g, dave.ID)
	if code, _ := staffCall(t, bob, "POST", "/.gateway/api/v1/users/dave/unlock", staffReason("sure")); code != http.StatusForbidden {
		t.Fatalf("support lifting an operator's disable: %d, want 403", code)
	}
	// Support cannot read the audit log.
	if code, _ := staffCall(t, bob, "GET", "/.gateway/api/v1/audit", nil); code != http.StatusForbidden {
		t.Fatalf("support reading the audit log: %d", code)
	}
	if code, body := staffCall(t, alice, "GET", "/.gateway/api/v1/audit?user=carol", nil); code != http.StatusOK || len(body["entries"].([]any)) != 2 {
		t.Fatalf("admin reading the audit log: %d %v", code, body)
	}
}

func TestStaffNeedSecondFactorInThisSession(t *testing.T) {
	// Two replicas of one deployment, one configured without 2FA: a support
	// session made there has not passed a second factor, and the replica
	// whose policy wants one for support refuses it the console.
	srv := harness.Start(t, harness.Options{Portal: true, Configure: func(c *config.Config) { c.MFA.Require = "off" }})
	strict := harness.Start(t, harness.Options{Portal: true, Redis: srv.Redis, Secret: srv.Config.Secret})
	bob, _ := staffSignIn(t, srv, "bob", "support")
	if code, _ := staffCall(t, bob, "GET", "/.gateway/api/v1/users?q=b", nil); code != http.StatusOK {
		t.Fatalf("lenient replica: %d", code)
	}
	onStrict := bob.For(strict)
	code, body := staffCall(t, onStrict, "GET", "/.gateway/api/v1/users?q=b", nil)
	if code != http.StatusForbidden || body["code"] != "mfa_required" {
		t.Fatalf("password-only staff session under a 2FA policy: %d %v", code, body)
	}
	resp := onStrict.Get(t, "/.gateway/admin", "Accept", "text/html")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("console page: %d", resp.StatusCode)
	}

	// With the second factor passed, the same person gets in.
	u, _ := strict.Store.FindUserByName(context.Background(), "bob")
	secret := staffEnrolTOTP(t, strict, u)
	c := strict.NewPortalClient(t)
	staffSignInTOTP(t, c, "bob", secret)
	if code, body := staffCall(t, c, "GET", "/.gateway/api/v1/users?q=b", nil); code != http.StatusOK {
		t.Fatalf("staff with 2FA: %d %v", code, body)
	}
}

// staffCreateToken makes an API token on the console as admin c and
// returns the secret shown once.
func staffCreateToken(t *testing.T, c *harness.Client, name, role string) string {
	t.Helper()
	resp := c.PostForm(t, "/.gateway/admin/tokens", url.Values{"name": {name}, "role": {role}, "reason": {"ticket bot"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create token: %d", resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(doc.Find("#token-secret").Text())
	if !strings.HasPrefix(secret, store.APITokenPrefix) {
		t.Fatalf("no token shown: %q", doc.Find("main").Text())
	}
	return secret
}

func TestAPITokensAreScopedToStaffCalls(t *testing.T) {
	g := staffGateway(t, "off")
	alice, _ := staffSignIn(t, g, "alice", "admin")
	victim := g.CreateUser(t, "victim")
	vc := g.NewPortalClient(t)
	vc.Login(t, "victim", harness.TestPassword)

	secret := staffCreateToken(t, alice, "helpdesk-bot", "support")
	bearer := []string{"Authorization", "Bearer " + secret}
	bot := g.NewPortalClient(t) // no cookie at all
	if code, body := staffCall(t, bot, "GET", "/.gateway/api/v1/users?q=vic", nil, bearer...); code != http.StatusOK || !strings.Contains(staffJSONText(body), "victim") {
		t.Fatalf("token search: %d %v", code, body)
	}
	if code, body := staffCall(t, bot, "POST", "/.gateway/api/v1/users/victim/signout-all", staffReason("bot: phishing report 17"), bearer...); code != http.StatusNoContent {
		t.Fatalf("token sign-out: %d %v", code, body)
	}
	if staffAlive(t, vc) {
		t.Fatal("token action did not sign the user out")
	}
	es := staffAudit(t, g, store.AuditFilter{Action: store.AuditSignOutAll})
	if len(es) != 1 || es[0].Actor != "token:helpdesk-bot" || es[0].TokenID == "" || es[0].ActorRole != "support" {
		t.Fatalf("audit of a token action: %+v", es)
	}
	if ev := staffEvents(t, g, victim.ID)[0]; ev.Actor != "token:helpdesk-bot" || !strings.Contains(ev.Detail, "helpdesk-bot") {
		t.Fatalf("activity of a token action: %+v", ev)
	}
	// Not the person calls, not admin calls, not the console pages.
	for _, p := range []string{"/.gateway/api/v1/me", "/.gateway/api/v1/me/sessions", "/.gateway/api/v1/me/activity"} {
		if code, _ := staffCall(t, bot, "GET", p, nil, bearer...); code != http.StatusUnauthorized {
			t.Errorf("token on %s: %d, want 401", p, code)
		}
	}
	if code, _ := staffCall(t, bot, "POST", "/.gateway/api/v1/me/signout-all", map[string]bool{"keep_current": false}, bearer...); code < 400 {
		t.Errorf("token on me/signout-all: %d", code)
	}
	if code, _ := staffCall(t, bot, "GET", "/.gateway/api/v1/audit", nil, bearer...); code != http.StatusForbidden {
		t.Errorf("support token on the audit log: %d, want 403", code)
	}
	resp := bot.Get(t, "/.gateway/admin/users/victim", append([]string{"Accept", "text/html"}, bearer...)...)
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/.gateway/login") {
		t.Errorf("token on a console page: %d, want the login redirect", resp.StatusCode)
	}
	// A token never stands in for a session on the proxied app either.
	if e, _ := bot.OnApp().Echo(t, "/app", bearer...); e != nil {
		t.Error("a token reached the app")
	}
	// A bearer header, even a bad one, is the only credential looked at.
	for _, h := range []string{"Bearer nope", "Bearer " + secret + "x", "Basic " + secret, "Bearer"} {
		if code, body := staffCall(t, alice, "GET", "/.gateway/api/v1/users?q=v", nil, "Authorization", h); code != http.StatusUnauthorized || body["code"] != "invalid_token" {
			t.Errorf("Authorization %q: %d %v, want 401 invalid_token", h, code, body)
		}
	}
	// The secret is stored only as a hash.
	keys, _ := g.Store.Client().Keys(context.Background(), "*").Result()
	for _, k := range keys {
		if strings.Contains(k, secret[len(store.APITokenPrefix):]) {
			t.Fatalf("redis key %q holds the token", k)
		}
	}

	// An admin token may read the audit log; revoked tokens stop at once.
	adminSecret := staffCreateToken(t, alice, "siem-export", "admin")
	if code, body := staffCall(t, bot, "GET", "/.gateway/api/v1/audit?action=token_create", nil, "Authorization", "Bearer "+adminSecret); code != http.StatusOK || len(body["entries"].([]any)) != 2 {
		t.Fatalf("admin token on the audit log: %d %v", code, body)
	}
	toks, _ := g.Store.FindAPITokens(context.Background())
	for _, tok := range toks {
		resp := alice.PostForm(t, "/.gateway/admin/tokens/"+tok.ID+"/revoke", url.Values{"reason": {"rotating"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke token: %d", resp.StatusCode)
		}
	}
	if code, _ := staffCall(t, bot, "GET", "/.gateway/api/v1/users?q=v", nil, bearer...); code != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d, want 401", code)
	}
	if es := staffAudit(t, g, store.AuditFilter{Action: store.AuditTokenRevoke, Actor: "alice"}); len(es) != 2 {
		t.Fatalf("token revocations audited: %d, want 2", len(es))
	}
	// Only admins make tokens.
	bob, _ := staffSignIn(t, g, "bob", "support")
	if resp := bob.PostForm(t, "/.gateway/admin/tokens", url.Values{"name": {"mine"}, "role": {"admin"}, "reason": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("support making a token: %d", resp.StatusCode)
	}
}

func TestTokensNeedARecentSignIn(t *testing.T) {
	g := staffGateway(t, "off")
	u := g.CreateUser(t, "alice", "admin")
	// A session whose password entry is older than the re-authentication
	// window, as after a long working day.
	rec := httptest.NewRecorder()
	if _, err := g.PortalSessions.Issue(context.Background(), rec, store.IssueOptions{
		UserID: u.ID, AuthAt: time.Now().Add(-g.Config.Session.ReauthWindow.Duration - time.Minute), IP: "127.0.0.1",
	}); err != nil {
		t.Fatal(err)
	}
	alice := g.NewPortalClient(t)
	alice.SetSessionCookie(rec.Result().Cookies()[0].Value)
	if code, _ := staffCall(t, alice, "GET", "/.gateway/api/v1/users?q=a", nil); code != http.StatusOK {
		t.Fatalf("the old session should still be a staff session: %d", code)
	}
	resp := alice.PostForm(t, "/.gateway/admin/tokens", url.Values{"name": {"late"}, "role": {"admin"}, "reason": {"x"}})
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	if resp.StatusCode != http.StatusOK || doc.Find("#reauth_password").Length() != 1 || doc.Find("#token-secret").Length() != 0 {
		t.Fatalf("token from an old sign-in: %d, want the password prompt", resp.StatusCode)
	}
	if toks, _ := g.Store.FindAPITokens(context.Background()); len(toks) != 0 {
		t.Fatal("a token was made without a recent sign-in")
	}
	// The prompt re-posts the form with the password; then it is made.
	resp = alice.PostForm(t, "/.gateway/admin/tokens", url.Values{
		"name": {"late"}, "role": {"admin"}, "reason": {"x"}, "reauth_password": {harness.TestPassword},
	})
	doc, _ = goquery.NewDocumentFromReader(resp.Body)
	if resp.StatusCode != http.StatusOK || doc.Find("#token-secret").Length() != 1 {
		t.Fatalf("token after confirming: %d", resp.StatusCode)
	}
}
