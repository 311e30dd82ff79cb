package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store"
)

// staffActionPaths are the staff API's actions on a user, below users/{name}/.
func staffActionPaths(sessionID string) []string {
	return []string{"signout-all", "sessions/" + sessionID + "/revoke", "2fa/reset", "lock", "unlock", "throttles/clear", "reset-link"}
}

func TestOnlyAdminsActOnStaffAccounts(t *testing.T) {
	g := staffGateway(t, "off")
	bob, _ := staffSignIn(t, g, "bob", "support")
	carol, carolU := staffSignIn(t, g, "carol", "support")
	alice, aliceU := staffSignIn(t, g, "alice", "admin")
	staffEnrolTOTP(t, g, carolU)
	audit := len(staffAudit(t, g, store.AuditFilter{}))
	carolEvents, aliceEvents := len(staffEvents(t, g, carolU.ID)), len(staffEvents(t, g, aliceU.ID))

	// Support acting on another support person or on an admin: refused,
	// nothing changes, nothing is recorded.
	for _, target := range []string{"carol", "alice"} {
		sid := staffSessionIDs(t, bob, target)[0] // looking is allowed
		for _, p := range staffActionPaths(sid) {
			code, body := staffCall(t, bob, "POST", "/.gateway/api/v1/users/"+target+"/"+p, staffReason("trying"))
			if code != http.StatusForbidden || body["code"] != "forbidden" {
				t.Errorf("support %s on %s: %d %v, want 403 forbidden", p, target, code, body)
			}
			resp := bob.PostForm(t, "/.gateway/admin/users/"+target+"/"+p, url.Values{"reason": {"trying"}})
			if b := rtBody(t, resp); resp.StatusCode != http.StatusForbidden || strings.Contains(b, "/reset?token=") {
				t.Errorf("support console %s on %s: %d, want 403", p, target, resp.StatusCode)
			}
		}
	}
	if !staffAlive(t, carol) || !staffAlive(t, alice) {
		t.Fatal("support signed a staff member out")
	}
	if u, _ := g.Store.FindUserByID(context.Background(), carolU.ID); !u.MFAEnabled || u.Disabled {
		t.Fatalf("support changed a colleague's account: %+v", u)
	}
	if n := len(staffAudit(t, g, store.AuditFilter{})); n != audit {
		t.Fatalf("refused actions wrote %d audit entries", n-audit)
	}
	if len(staffEvents(t, g, carolU.ID)) != carolEvents || len(staffEvents(t, g, aliceU.ID)) != aliceEvents {
		t.Fatal("refused actions wrote to the staff members' activity")
	}
	// The console shows a colleague's page read-only.
	doc := consoleDoc(t, bob, "/.gateway/admin/users/carol", http.StatusOK)
	if doc.Find("#view-only").Length() != 1 || doc.Find("#lock, #signout-all, #reset-link, #mfa-reset").Length() != 0 {
		t.Fatal("support's view of a colleague offers actions")
	}
	// Support still helps plain users, and may sign themselves out.
	g.CreateUser(t, "victim")
	if code, body := staffCall(t, bob, "POST", "/.gateway/api/v1/users/victim/lock", staffReason("fraud check")); code != http.StatusNoContent {
		t.Fatalf("support locking a plain user: %d %v", code, body)
	}

	// An admin may act on support accounts.
	if code, body := staffCall(t, alice, "POST", "/.gateway/api/v1/users/carol/2fa/reset", staffReason("lost phone, ID checked")); code != http.StatusNoContent {
		t.Fatalf("admin resetting support's 2FA: %d %v", code, body)
	}
	if staffAlive(t, carol) {
		t.Fatal("the 2FA reset did not sign carol out")
	}
	if code, body := staffCall(t, alice, "POST", "/.gateway/api/v1/users/carol/reset-link", staffReason("onboarding")); code != http.StatusCreated {
		t.Fatalf("admin making a reset link for support: %d %v", code, body)
	}
	if es := staffAudit(t, g, store.AuditFilter{Actor: "alice", Target: "carol"}); len(es) != 2 {
		t.Fatalf("admin actions on carol audited: %+v", es)
	}
	if code, _ := staffCall(t, bob, "POST", "/.gateway/api/v1/users/bob/signout-all", staffReason("leaving")); code != http.StatusNoContent {
		t.Fatalf("support signing themselves out everywhere: %d", code)
	}
}

// tokenCall calls the staff API with an API token and no cookie.
func tokenCall(t *testing.T, g *harness.Gateway, secret, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return staffCall(t, g.NewPortalClient(t), method, path, body, "Authorization", "Bearer "+secret)
}

// tokenRefusedWithin polls until secret is refused with code on g.
func tokenRefusedWithin(t *testing.T, g *harness.Gateway, secret, code, what string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		got, body := tokenCall(t, g, secret, "GET", "/.gateway/api/v1/users?q=v", nil)
		if got == http.StatusUnauthorized && body["code"] == code {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: token still answered %d %v after 2s, want 401 %s", what, got, body, code)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tokenWorksWithin polls until secret is accepted on g.
func tokenWorksWithin(t *testing.T, g *harness.Gateway, secret, what string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !tokenWorks(t, g, secret) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: token still refused after 2s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tokenWorks reports whether a token is accepted on g.
func tokenWorks(t *testing.T, g *harness.Gateway, secret string) bool {
	t.Helper()
	code, _ := tokenCall(t, g, secret, "GET", "/.gateway/api/v1/users?q=v", nil)
	return code == http.StatusOK
}

func TestAPITokensDieWithTheirOwner(t *testing.T) {
	srv := redistest.Start(t)
	secret := rand.Text() + rand.Text()
	off := func(c *config.Config) { c.MFA.Require = "off" }
	a := harness.Start(t, harness.Options{Redis: srv, Secret: secret, Configure: off, Portal: true})
	b := harness.Start(t, harness.Options{Redis: srv, Secret: secret, Configure: off, Portal: true})
	alice, aliceU := staffSignIn(t, a, "alice", "admin")
	zed, _ := staffSignIn(t, a, "zed", "admin")
	victim := a.CreateUser(t, "victim")
	adminTok := staffCreateToken(t, alice, "siem-export", "admin")
	supportTok := staffCreateToken(t, alice, "helpdesk-bot", "support")
	for _, g := range []*harness.Gateway{a, b} {
		if !tokenWorks(t, g, adminTok) || !tokenWorks(t, g, supportTok) {
			t.Fatal("fresh tokens refused")
		}
	}
	// Actions name the token and its owner; the owner's audit filter finds them.
	if code, body := tokenCall(t, b, supportTok, "POST", "/.gateway/api/v1/users/victim/signout-all", staffReason("phishing report 17")); code != http.StatusNoContent {
		t.Fatalf("token action: %d %v", code, body)
	}
	es := staffAudit(t, a, store.AuditFilter{Actor: "alice", Action: store.AuditSignOutAll})
	if len(es) != 1 || es[0].Actor != "token:helpdesk-bot" || es[0].TokenOwner != "alice" || es[0].TokenID == "" {
		t.Fatalf("audit of a token action: %+v", es)
	}
	if ev := staffEvents(t, a, victim.ID)[0]; ev.Actor != "token:helpdesk-bot" {
		t.Fatalf("victim's activity: %+v", ev)
	}
	_, body := staffCall(t, alice, "GET", "/.gateway/api/v1/audit?action=signout_all", nil)
	if !strings.Contains(staffJSONText(body), `"token_owner":"alice"`) {
		t.Fatalf("audit API lacks the token owner: %v", body)
	}
	doc := consoleDoc(t, alice, "/.gateway/admin/audit?action=signout_all", http.StatusOK)
	if owner := doc.Find(".audit-entry .token-owner").Text(); !strings.Contains(owner, "alice") {
		t.Fatalf("audit page does not name the token's owner: %q", owner)
	}
	resp := alice.Get(t, "/.gateway/admin/audit.csv?action=signout_all")
	recs, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(recs) != 2 || recs[0][len(recs[0])-1] != "token_owner" || recs[1][len(recs[1])-1] != "alice" {
		t.Fatalf("audit CSV: %v %v", recs, err)
	}
	// The console lists each token with its owner and days left.
	doc = consoleDoc(t, alice, "/.gateway/admin/tokens", http.StatusOK)
	doc.Find("tr.token").Each(func(_ int, s *goquery.Selection) {
		if left := strings.TrimSpace(s.Find(".token-left").Text()); left != "90 days left" || !strings.Contains(s.Text(), "alice") {
			t.Errorf("token row %q: %q left", strings.Join(strings.Fields(s.Text()), " "), left)
		}
	})

	// Every call checks the owner's current state. Demoted to support by
	// any means (here a raw write, as a restored backup or another tool
	// would make it): the admin token is refused at once on both replicas;
	// the support token does not exceed her role and keeps working.
	ctx := context.Background()
	setRoles := func(roles ...string) {
		t.Helper()
		if err := a.Store.UpdateUser(ctx, aliceU.ID, store.UserUpdate{Roles: roles}); err != nil {
			t.Fatal(err)
		}
	}
	setRoles("support")
	tokenRefusedWithin(t, b, adminTok, "token_owner_inactive", "owner demoted, other replica")
	tokenRefusedWithin(t, a, adminTok, "token_owner_inactive", "owner demoted")
	if !tokenWorks(t, b, supportTok) {
		t.Fatal("a support token died when its owner became support")
	}
	setRoles("admin")
	tokenWorksWithin(t, b, adminTok, "owner an admin again")
	// Disabled, likewise: refused on both replicas, and listed as refused.
	disableUser(t, a, aliceU.ID)
	tokenRefusedWithin(t, b, adminTok, "token_owner_inactive", "owner disabled, other replica")
	tokenRefusedWithin(t, a, supportTok, "token_owner_inactive", "owner disabled")
	doc = consoleDoc(t, zed, "/.gateway/admin/tokens", http.StatusOK)
	if left := doc.Find("tr.token .token-left").First().Text(); !strings.HasPrefix(left, "refused") {
		t.Errorf("the list shows a dead token as %q", left)
	}
	enabled := false
	if err := a.Store.UpdateUser(ctx, aliceU.ID, store.UserUpdate{Disabled: &enabled}); err != nil {
		t.Fatal(err)
	}
	tokenWorksWithin(t, b, supportTok, "owner enabled again")

	// A lock, disable or demotion made by staff also revokes the tokens it
	// kills, so they stay dead when the owner is restored.
	if resp := zed.PostForm(t, "/.gateway/admin/users/alice/roles", url.Values{"role": {"support"}, "reason": {"moved to helpdesk"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("demote alice: %d", resp.StatusCode)
	}
	tokenRefusedWithin(t, b, adminTok, "invalid_token", "demoted by staff, other replica")
	if es := staffAudit(t, a, store.AuditFilter{Action: store.AuditRolesChange, Target: "alice"}); len(es) != 1 || !strings.Contains(es[0].Detail, "siem-export") {
		t.Fatalf("the roles change does not name the token it revoked: %+v", es)
	}
	if !tokenWorks(t, b, supportTok) {
		t.Fatal("the demotion revoked a token it still covers")
	}
	if code, body := staffCall(t, zed, "POST", "/.gateway/api/v1/users/alice/lock", staffReason("laptop stolen")); code != http.StatusNoContent {
		t.Fatalf("lock alice: %d %v", code, body)
	}
	tokenRefusedWithin(t, b, supportTok, "invalid_token", "locked by staff, other replica")
	if code, _ := staffCall(t, zed, "POST", "/.gateway/api/v1/users/alice/unlock", staffReason("laptop found")); code != http.StatusNoContent {
		t.Fatalf("unlock alice: %d", code)
	}
	if resp := zed.PostForm(t, "/.gateway/admin/users/alice/roles", url.Values{"role": {"admin"}, "reason": {"back"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("promote alice: %d", resp.StatusCode)
	}
	for _, tok := range []string{adminTok, supportTok} {
		if code, body := tokenCall(t, b, tok, "GET", "/.gateway/api/v1/users?q=v", nil); code != http.StatusUnauthorized || body["code"] != "invalid_token" {
			t.Errorf("a revoked token of a restored owner: %d %v, want 401 invalid_token", code, body)
		}
	}
	// A token whose owner no longer exists.
	var orphanSecret string
	orphan := &store.APIToken{Name: "orphan", Role: store.RoleSupport, OwnerID: "no-such-user", CreatedBy: "ghost"}
	orphanSecret, err = a.Store.CreateAPIToken(context.Background(), orphan, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tokenRefusedWithin(t, b, orphanSecret, "token_owner_inactive", "owner gone")

	// A token stored before tokens had an owner and an expiry date.
	legacy := store.APITokenPrefix + strings.Repeat("a", 43)
	sum := sha256.Sum256([]byte(legacy))
	if err := a.Store.Client().HSet(context.Background(), "gw:apitoken:"+hex.EncodeToString(sum[:]),
		"id", "legacy1", "name", "old-bot", "role", "admin", "by", "zed", "created", time.Now().Unix()).Err(); err != nil {
		t.Fatal(err)
	}
	if code, body := tokenCall(t, a, legacy, "GET", "/.gateway/api/v1/users?q=v", nil); code != http.StatusUnauthorized || body["code"] != "invalid_token" {
		t.Fatalf("token without owner and expiry: %d %v, want 401 invalid_token", code, body)
	}
}

func TestAPITokensExpire(t *testing.T) {
	clock := &harness.Clock{}
	g := harness.Start(t, harness.Options{Clock: clock, Portal: true, Configure: func(c *config.Config) { c.MFA.Require = "off" }})
	alice, _ := staffSignIn(t, g, "alice", "admin")
	for _, days := range []string{"0", "366", "-1", "x"} {
		resp := alice.PostForm(t, "/.gateway/admin/tokens", url.Values{"name": {"bot"}, "role": {"support"}, "days": {days}, "reason": {"x"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || pageError(t, resp.Body) == "" {
			t.Errorf("token for %s days: %d, want 422", days, resp.StatusCode)
		}
	}
	resp := alice.PostForm(t, "/.gateway/admin/tokens", url.Values{"name": {"short"}, "role": {"support"}, "days": {"2"}, "reason": {"trial"}})
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	secret := strings.TrimSpace(doc.Find("#token-secret").Text())
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(secret, store.APITokenPrefix) {
		t.Fatalf("2-day token: %d", resp.StatusCode)
	}
	if left := strings.TrimSpace(doc.Find("tr.token .token-left").Text()); left != "2 days left" {
		t.Fatalf("list shows %q", left)
	}
	longest := staffCreateTokenDays(t, alice, "longest", "365")
	toks, _ := g.Store.FindAPITokens(context.Background())
	for _, tok := range toks {
		want := map[string]time.Duration{"short": 2 * 24 * time.Hour, "longest": 365 * 24 * time.Hour}[tok.Name]
		if d := tok.Expires.Sub(tok.Created); d < want-time.Second || d > want+time.Second {
			t.Errorf("token %s lives %v, want %v", tok.Name, d, want)
		}
	}
	if !tokenWorks(t, g, secret) {
		t.Fatal("fresh token refused")
	}
	clock.Advance(2*24*time.Hour + time.Minute)
	code, body := tokenCall(t, g, secret, "GET", "/.gateway/api/v1/users?q=a", nil)
	if code != http.StatusUnauthorized || body["code"] != "token_expired" || !strings.Contains(body["error"].(string), "expired") {
		t.Fatalf("expired token: %d %v, want 401 token_expired", code, body)
	}
	if !tokenWorks(t, g, longest) {
		t.Fatal("a 365-day token expired after 2 days")
	}
}

// staffCreateTokenDays makes a support token that lives days days.
func staffCreateTokenDays(t *testing.T, c *harness.Client, name, days string) string {
	t.Helper()
	resp := c.PostForm(t, "/.gateway/admin/tokens", url.Values{"name": {name}, "role": {"support"}, "days": {days}, "reason": {"ticket bot"}})
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	secret := strings.TrimSpace(doc.Find("#token-secret").Text())
	if resp.StatusCode != http.StatusOK || secret == "" {
		t.Fatalf("create token: %d", resp.StatusCode)
	}
	return secret
}

func TestAPITokensCannotDoWhatNeedsAPerson(t *testing.T) {
	g := staffGateway(t, "off")
	alice, aliceU := staffSignIn(t, g, "alice", "admin")
	sam, _ := staffSignIn(t, g, "sam", "support")
	plain := g.CreateUser(t, "plain")
	tok := staffCreateToken(t, alice, "ops-bot", "admin")
	audit := len(staffAudit(t, g, store.AuditFilter{}))

	// Acting on a staff account, or changing roles: 403 reauth_required,
	// saying a person must do it in the console; nothing happens.
	for _, p := range staffActionPaths(staffSessionIDs(t, alice, "sam")[0]) {
		code, body := tokenCall(t, g, tok, "POST", "/.gateway/api/v1/users/sam/"+p, staffReason("automation"))
		if code != http.StatusForbidden || body["code"] != "reauth_required" || !strings.Contains(body["error"].(string), "console") {
			t.Errorf("admin token %s on support: %d %v, want 403 reauth_required", p, code, body)
		}
	}
	for _, p := range []string{"disable", "roles"} {
		code, body := tokenCall(t, g, tok, "POST", "/.gateway/api/v1/users/sam/"+p, map[string]any{"reason": "x", "roles": []string{"user"}})
		if code != http.StatusForbidden || body["code"] != "reauth_required" {
			t.Errorf("admin token %s on support: %d %v", p, code, body)
		}
	}
	code, body := tokenCall(t, g, tok, "POST", "/.gateway/api/v1/users/plain/roles", map[string]any{"reason": "x", "roles": []string{"admin"}})
	if code != http.StatusForbidden || body["code"] != "reauth_required" {
		t.Fatalf("admin token giving a user the admin role: %d %v", code, body)
	}
	// Groups open routes as roles do: the same rule.
	code, body = tokenCall(t, g, tok, "POST", "/.gateway/api/v1/users/plain/groups", map[string]any{"reason": "x", "groups": []string{"finance"}})
	if code != http.StatusForbidden || body["code"] != "reauth_required" {
		t.Fatalf("admin token giving a user a group: %d %v", code, body)
	}
	if !staffAlive(t, sam) {
		t.Fatal("a token signed support out")
	}
	if u, _ := g.Store.FindUserByID(context.Background(), plain.ID); len(u.Roles) != 1 || u.Roles[0] != store.RoleUser || len(u.Groups) != 0 {
		t.Fatalf("a token changed roles or groups: %v %v", u.Roles, u.Groups)
	}
	if n := len(staffAudit(t, g, store.AuditFilter{})); n != audit {
		t.Fatalf("refused token calls wrote %d audit entries", n-audit)
	}
	// What needs no person still works for the token: disabling a plain user.
	if code, body := tokenCall(t, g, tok, "POST", "/.gateway/api/v1/users/plain/disable", staffReason("offboarding feed")); code != http.StatusNoContent {
		t.Fatalf("admin token disabling a plain user: %d %v", code, body)
	}

	// A person with a stale sign-in gets the same answer from the API; a
	// fresh one may change roles there.
	stale := rtStaleSession(t, g, aliceU)
	if code, body := staffCall(t, stale, "POST", "/.gateway/api/v1/users/plain/roles", map[string]any{"reason": "x", "roles": []string{"support"}}); code != http.StatusForbidden || body["code"] != "reauth_required" {
		t.Fatalf("stale session changing roles: %d %v", code, body)
	}
	if code, body := staffCall(t, stale, "POST", "/.gateway/api/v1/users/plain/groups", map[string]any{"reason": "x", "groups": []string{"eng"}}); code != http.StatusForbidden || body["code"] != "reauth_required" {
		t.Fatalf("stale session changing groups: %d %v", code, body)
	}
	if code, body := staffCall(t, alice, "POST", "/.gateway/api/v1/users/plain/roles", map[string]any{"reason": "new hire", "roles": []string{"support"}}); code != http.StatusNoContent {
		t.Fatalf("fresh session changing roles: %d %v", code, body)
	}
	if u, _ := g.Store.FindUserByID(context.Background(), plain.ID); len(u.Roles) != 1 || u.Roles[0] != store.RoleSupport {
		t.Fatalf("roles after the API change: %v", u.Roles)
	}
}
