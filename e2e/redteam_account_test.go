package e2e

// Red-team findings on the Login & Security page, 2FA management, the
// support console and the staff API: each test is an attack that used to
// work.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// rtStaleSession returns a client holding a session of u whose password was
// entered an hour ago (beyond the re-authentication window), with the second
// factor passed: a cookie stolen from a browser left signed in.
func rtStaleSession(t *testing.T, g *harness.Gateway, u *store.User) *harness.Client {
	t.Helper()
	rec := httptest.NewRecorder()
	hourAgo := time.Now().Add(-time.Hour)
	if _, err := g.PortalSessions.Issue(context.Background(), rec, store.IssueOptions{
		UserID: u.ID, Created: hourAgo, AuthAt: hourAgo, MFA: true, IP: "127.0.0.1", Agent: uaFirefox,
	}); err != nil {
		t.Fatal(err)
	}
	c := g.NewPortalClient(t)
	c.SetSessionCookie(rec.Result().Cookies()[0].Value)
	return c
}

func rtBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A setup someone started and left unconfirmed keeps its secret on the
// account. A stolen session too old for sensitive actions could read that
// secret back from the confirm page (a wrong code re-shows the key) and turn
// 2FA on with it through the API: the thief gets the recovery codes and the
// owner is signed out everywhere — what the recent-sign-in rule on setup is
// there to prevent.
func TestRedteamStaleSessionCannotConfirmAnAbandonedSetup(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	u := g.CreateUser(t, "alice")
	owner := g.NewPortalClient(t)
	owner.Login(t, "alice", harness.TestPassword)
	doc := mfaDoc(t, owner.PostForm(t, "/.gateway/account/2fa/setup", nil))
	key := doc.Find("#manual-key-raw").Text()
	if key == "" {
		t.Fatal("no key on the setup page")
	}
	app := newMFAApp(t, key)

	thief := rtStaleSession(t, g, u)
	resp := thief.PostForm(t, "/.gateway/account/2fa/confirm", url.Values{"code": {app.wrong()}})
	if b := rtBody(t, resp); strings.Contains(b, key) || !strings.Contains(b, "reauth_password") {
		t.Fatalf("stale confirm page: %d; shows the key: %v, asks for the password: %v",
			resp.StatusCode, strings.Contains(b, key), strings.Contains(b, "reauth_password"))
	}
	var e apiErr
	resp = mfaPostJSON(t, thief, "/.gateway/api/v1/me/2fa/confirm", `{"code":"`+app.code()+`"}`)
	mfaDecode(t, resp, &e)
	if resp.StatusCode != http.StatusForbidden || e.Code != "reauth_required" {
		t.Fatalf("stale API confirm: %d %+v, want 403 reauth_required", resp.StatusCode, e)
	}
	if fresh, _ := g.Store.FindUserByID(context.Background(), u.ID); fresh.MFAEnabled {
		t.Fatal("a stale session turned 2FA on")
	}
	if !acctProxied(t, owner) {
		t.Fatal("the owner was signed out")
	}
	// The owner, recently signed in, still finishes the setup.
	resp = mfaPostJSON(t, owner, "/.gateway/api/v1/me/2fa/confirm", `{"code":"`+app.code()+`"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("owner's confirm: %d %s", resp.StatusCode, rtBody(t, resp))
	}
}

// A staff member's stolen session (2FA passed, password unknown) could make
// a reset link for the staff member's own account and reset its 2FA: the
// thief sets a new password, enrols their own authenticator at the next
// sign-in and keeps the staff account for good, although the owner's own
// page refuses a password change without the current password and refuses
// turning 2FA off for a role that requires it.
func TestRedteamStaffCannotResetTheirOwnPasswordOrTwoFactor(t *testing.T) {
	g := staffGateway(t, "support,admin")
	sam := g.CreateUser(t, "sam", "support")
	bob := g.CreateUser(t, "bob", "support")
	samSecret := staffEnrolTOTP(t, g, sam)
	staffEnrolTOTP(t, g, bob)
	owner := g.NewPortalClient(t)
	staffSignInTOTP(t, owner, "sam", samSecret)
	thief := g.NewPortalClient(t)
	thief.SetSessionCookie(owner.SessionCookie())

	for _, action := range []string{"reset-link", "2fa/reset", "throttles/clear"} {
		code, body := staffCall(t, thief, "POST", "/.gateway/api/v1/users/sam/"+action, staffReason("locked out"))
		if code != http.StatusForbidden || body["code"] != "self_action" {
			t.Errorf("API %s on oneself: %d %v, want 403 self_action", action, code, body)
		}
		resp := thief.PostForm(t, "/.gateway/admin/users/sam/"+action, url.Values{"reason": {"locked out"}})
		if b := rtBody(t, resp); resp.StatusCode != http.StatusForbidden || strings.Contains(b, "/reset?token=") {
			t.Errorf("console %s on oneself: %d", action, resp.StatusCode)
		}
	}
	if fresh, _ := g.Store.FindUserByID(context.Background(), sam.ID); !fresh.MFAEnabled {
		t.Fatal("the staff member's own 2FA was reset")
	}
	if !staffAlive(t, owner) {
		t.Fatal("the owner was signed out")
	}
	// The console does not offer these on one's own page.
	doc := consoleDoc(t, owner, "/.gateway/admin/users/sam", http.StatusOK)
	for _, id := range []string{"#reset-link", "#mfa-reset"} {
		if doc.Find(id).Length() != 0 {
			t.Errorf("own console page offers %s", id)
		}
	}
	// Nor for a colleague: only admins act on staff accounts.
	if code, body := staffCall(t, owner, "POST", "/.gateway/api/v1/users/bob/reset-link", staffReason("ticket 12")); code != http.StatusForbidden || body["code"] != "forbidden" {
		t.Fatalf("support making a reset link for a colleague: %d %v, want 403", code, body)
	}
}

// Creating an account hands out a credential that outlives the session (the
// reset link is shown to whoever creates it), like making an API token or
// giving someone staff roles, which both ask for the password again. A stale
// admin session could create an admin account without it.
func TestRedteamCreatingAUserNeedsARecentSignIn(t *testing.T) {
	g := staffGateway(t, "off")
	u := g.CreateUser(t, "alice", "admin")
	stale := rtStaleSession(t, g, u)
	form := url.Values{"username": {"mallory"}, "email": {"m@example.com"}, "role": {"admin"}, "reason": {"new hire"}}
	resp := stale.PostForm(t, "/.gateway/admin/new-user", form)
	b := rtBody(t, resp)
	if strings.Contains(b, "/reset?token=") || !strings.Contains(b, "reauth_password") {
		t.Fatalf("stale admin creating an admin: %d, want the password prompt", resp.StatusCode)
	}
	if _, err := g.Store.FindUserByName(context.Background(), "mallory"); err == nil {
		t.Fatal("an account was created without a recent sign-in")
	}
	form.Set("reauth_password", harness.TestPassword)
	resp = stale.PostForm(t, "/.gateway/admin/new-user", form)
	if b := rtBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(b, "/reset?token=") {
		t.Fatalf("after confirming: %d", resp.StatusCode)
	}
}

// The "confirm it's you" form posted to the decoded request path, so an
// escaped path (%2F.., %3F) made it post — with the password and the
// carried fields — to another action than the one it named: here a roles
// form whose confirmation created an admin API token.
func TestRedteamReauthFormPostsBackToTheSameAction(t *testing.T) {
	g := staffGateway(t, "off")
	u := g.CreateUser(t, "alice", "admin")
	stale := rtStaleSession(t, g, u)
	const path = "/.gateway/admin/users/x%2F..%2F..%2Ftokens%3Fa=/roles"
	resp := stale.Do(t, http.MethodPost, path, strings.NewReader("role=admin&reason=r&name=evil"), "Accept", "text/html", "Origin", g.PortalURL)
	doc := mfaDoc(t, resp)
	form := doc.Find("form:has(#reauth_password)")
	action, ok := form.Attr("action")
	if !ok {
		t.Fatalf("no reauth form: %d", resp.StatusCode)
	}
	base, _ := url.Parse(g.PortalURL + path)
	ref, err := url.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	target := base.ResolveReference(ref) // where a browser posts it
	if target.RequestURI() != path {
		t.Errorf("reauth form posts to %q, want %q", target.RequestURI(), path)
	}
	vals := url.Values{"reauth_password": {harness.TestPassword}}
	form.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		vals.Add(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	stale.Do(t, http.MethodPost, target.RequestURI(), strings.NewReader(vals.Encode()), "Accept", "text/html", "Origin", g.PortalURL)
	if toks, _ := g.Store.FindAPITokens(context.Background()); len(toks) != 0 {
		t.Fatalf("confirming a roles change made an API token: %+v", toks[0])
	}
}

// Support may make a reset link for a plain user but not for an admin. A
// link made before an admin promoted that user kept working afterwards:
// support set the new admin's password, enrolled their own authenticator at
// sign-in and held an admin account.
func TestRedteamResetLinkDiesWhenRolesChange(t *testing.T) {
	g := staffGateway(t, "off")
	sam, _ := staffSignIn(t, g, "sam", "support")
	alice, _ := staffSignIn(t, g, "alice", "admin")
	g.CreateUser(t, "xavier")
	code, body := staffCall(t, sam, "POST", "/.gateway/api/v1/users/xavier/reset-link", staffReason("onboarding"))
	if code != http.StatusCreated {
		t.Fatalf("reset link: %d %v", code, body)
	}
	link := body["url"].(string)
	// The link is open in a browser when the promotion happens.
	person := g.NewPortalClient(t)
	if resp := resetOpen(t, person, link); resp.StatusCode != http.StatusOK {
		t.Fatalf("link page before the promotion: %d", resp.StatusCode)
	}
	resp := alice.PostForm(t, "/.gateway/admin/users/xavier/roles", url.Values{"role": {"admin"}, "reason": {"promotion"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("promotion: %d", resp.StatusCode)
	}
	const pw = "support would own an admin"
	if resp := resetSubmit(t, person, pw, pw); resp.StatusCode != http.StatusGone {
		t.Fatalf("link used after the promotion: %d, want 410", resp.StatusCode)
	}
	if resp := resetOpen(t, g.NewPortalClient(t), link); resp.StatusCode != http.StatusGone {
		t.Errorf("link page after the promotion: %d, want 410", resp.StatusCode)
	}
	if resp := signIn(t, g.NewPortalClient(t), "xavier", pw, "/"); resp.StatusCode == http.StatusSeeOther {
		t.Fatal("the password set through the old link works")
	}
}

// A reset link for a staff account, or turning its 2FA off, hands over that
// staff account beyond the session that asked (the link is shown to the
// caller): a stale admin session could keep admin access through another
// admin's account, as it could by creating one. For a staff target these now
// need a recent sign-in, like roles and API tokens; plain users are helped
// as before.
func TestRedteamStaleStaffSessionCannotHandOutAnotherStaffAccount(t *testing.T) {
	g := staffGateway(t, "off")
	alice := g.CreateUser(t, "alice", "admin")
	bruno := g.CreateUser(t, "bruno", "admin")
	staffEnrolTOTP(t, g, bruno)
	g.CreateUser(t, "victim")
	stale := rtStaleSession(t, g, alice)

	for _, action := range []string{"reset-link", "2fa/reset"} {
		code, body := staffCall(t, stale, "POST", "/.gateway/api/v1/users/bruno/"+action, staffReason("ticket 7"))
		if code != http.StatusForbidden || body["code"] != "reauth_required" {
			t.Errorf("stale API %s on an admin: %d %v, want 403 reauth_required", action, code, body)
		}
		resp := stale.PostForm(t, "/.gateway/admin/users/bruno/"+action, url.Values{"reason": {"ticket 7"}})
		if b := rtBody(t, resp); strings.Contains(b, "/reset?token=") || !strings.Contains(b, "reauth_password") {
			t.Errorf("stale console %s on an admin: %d, want the password prompt", action, resp.StatusCode)
		}
	}
	if fresh, _ := g.Store.FindUserByID(context.Background(), bruno.ID); !fresh.MFAEnabled {
		t.Fatal("a stale session turned another admin's 2FA off")
	}
	// A plain user is helped without the prompt.
	if code, body := staffCall(t, stale, "POST", "/.gateway/api/v1/users/victim/reset-link", staffReason("ticket 8")); code != http.StatusCreated {
		t.Fatalf("stale reset link for a plain user: %d %v", code, body)
	}
	// With the password, the page carries on.
	resp := stale.PostForm(t, "/.gateway/admin/users/bruno/reset-link", url.Values{"reason": {"ticket 7"}, "reauth_password": {harness.TestPassword}})
	if b := rtBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(b, "/reset?token=") {
		t.Fatalf("after confirming: %d", resp.StatusCode)
	}
}

// The person's API takes JSON bodies only (Content-Type application/json,
// known fields), so a request no browser page can make without a CORS
// preflight: the 2FA calls took any content type, text/plain included —
// the one body type a cross-site form or fetch can send without asking.
// Cross-origin protection refuses those today; the API should not depend
// on it alone, and signout-all and password already did not.
func TestRedteamTwoFactorCallsTakeOnlyJSONBodies(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	u := g.CreateUser(t, "alice")
	c, app, _ := mfaEnrolAPI(t, g, "alice")
	body := `{"password":"` + harness.TestPassword + `","code":"` + app.code() + `"}`
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
		resp := c.Do(t, http.MethodPost, "/.gateway/api/v1/me/2fa/disable", strings.NewReader(body), "Content-Type", ct)
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("2fa/disable with %s: %d, want 415", ct, resp.StatusCode)
		}
	}
	resp := mfaPostJSON(t, c, "/.gateway/api/v1/me/2fa/disable", `{"password":"x","code":"123456","sneaky":true}`)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("2fa/disable with an unknown field: %d, want 400", resp.StatusCode)
	}
	if fresh, _ := g.Store.FindUserByID(context.Background(), u.ID); !fresh.MFAEnabled {
		t.Fatal("2FA was turned off by a non-JSON body")
	}
	if resp := mfaPostJSON(t, c, "/.gateway/api/v1/me/2fa/disable", body); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("2fa/disable with JSON: %d %s", resp.StatusCode, rtBody(t, resp))
	}
}
