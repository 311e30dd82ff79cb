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

	"github.com/authgate/gateway/internal/harness"
	"github.com/authgate/gateway/store"
)

// rtStaleSession returns a client holding a session of u whose password was
// entered an hour ago (beyond the re-authentication window), with the second
// factor passed: a cookie stolen from a browser left signed in.
func rtStaleSession(t *testing.T, g *harness.Gateway, u *store.User) *harness.Client {
	t.Helper()
	rec := httptest.NewRecorder()
	hourAgo := time.Now().Add(-time.Hour)
	if _, err := g.Sessions.Issue(context.Background(), rec, store.IssueOptions{
		UserID: u.ID, Created: hourAgo, AuthAt: hourAgo, MFA: true, IP: "127.0.0.1", Agent: uaFirefox,
	}); err != nil {
		t.Fatal(err)
	}
	c := g.NewClient(t)
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
	owner := g.NewClient(t)
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
