package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// mfaStartReplace presses "Replace my authenticator" on the two-step
// verification page and returns the new key the page shows.
func mfaStartReplace(t *testing.T, c *harness.Client) string {
	t.Helper()
	if mfaStatus(t, c).Find("form button#replace").Length() != 1 {
		t.Fatal(`the two-step verification page offers no "Replace my authenticator"`)
	}
	resp := c.PostForm(t, "/.gateway/account/2fa/replace", nil)
	doc := mfaDoc(t, resp)
	key := doc.Find("#manual-key-raw").Text()
	qr, _ := doc.Find("img#qr").Attr("src")
	if resp.StatusCode != http.StatusOK || key == "" || !strings.HasPrefix(qr, "data:image/png;base64,") ||
		!strings.Contains(doc.Find("h1").Text(), "Replace your authenticator app") {
		t.Fatalf("replace page: %d key %q", resp.StatusCode, key)
	}
	return key
}

// now is the app's code for the current time step, without taking it
// (for codes that must be refused whatever step they are for).
func (a *mfaApp) now() string { return a.at(time.Now().Unix() / 30) }

func mfaWantSignedIn(t *testing.T, resp *http.Response, what string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/app/page" {
		t.Fatalf("%s: %d to %q, want 303 to the app", what, resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestMFAReplaceAuthenticator(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	u := g.CreateUser(t, "eve")
	c, oldApp, _ := mfaEnrolAPI(t, g, "eve")
	before, err := g.Store.FindUserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}

	key := mfaStartReplace(t, c)
	newApp := newMFAApp(t, key)
	// The new key waits server-side, encrypted, for at most 10 minutes.
	rdb := g.Redis.Client(t)
	keys, _ := rdb.Keys(t.Context(), "gw:mfareplace:*").Result()
	if len(keys) != 1 {
		t.Fatalf("replacements in Redis: %v", keys)
	}
	if ttl := rdb.TTL(t.Context(), keys[0]).Val(); ttl <= 0 || ttl > 10*time.Minute {
		t.Fatalf("the new key waits %v", ttl)
	}
	if v := rdb.Get(t.Context(), keys[0]).Val(); v == "" || strings.Contains(v, key) {
		t.Fatal("the new key is kept in clear")
	}
	// Until the new app is confirmed, the old one signs in.
	other := g.NewClient(t)
	mfaPasswordStep(t, other, "eve")
	mfaWantSignedIn(t, mfaSubmit(t, other, oldApp.code()), "old code before the confirmation")

	// The new key is bound to the sign-in that asked for it: another
	// device of the same person cannot confirm it.
	resp := other.PostForm(t, "/.gateway/account/2fa/replace/confirm", url.Values{"code": {newApp.now()}})
	if doc := mfaDoc(t, resp); resp.StatusCode != http.StatusConflict || !strings.Contains(doc.Find("#error").Text(), "No replacement") {
		t.Fatalf("confirm from another device: %d, want 409", resp.StatusCode)
	}

	// A wrong code is refused, shows the same key again and changes nothing.
	resp = c.PostForm(t, "/.gateway/account/2fa/replace/confirm", url.Values{"code": {newApp.wrong()}})
	doc := mfaDoc(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find("#manual-key-raw").Text() != key || doc.Find("#error").Length() != 1 {
		t.Fatalf("wrong code: %d; want 422 with the same key and an error", resp.StatusCode)
	}
	if now, err := g.Store.FindUserByID(t.Context(), u.ID); err != nil || now.MFASecret != before.MFASecret || !now.MFAEnabled {
		t.Fatalf("a wrong code changed the account's key (err %v)", err)
	}

	resp = c.PostForm(t, "/.gateway/account/2fa/replace/confirm", url.Values{"code": {newApp.code()}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/.gateway/account/2fa?m=replaced" {
		t.Fatalf("confirm: %d to %q", resp.StatusCode, loc)
	}
	// This device stays signed in and is told what happened.
	resp = c.Get(t, "/.gateway/account/2fa?m=replaced", "Accept", "text/html")
	if got := mfaDoc(t, resp).Find("#notice").Text(); !strings.Contains(got, "new authenticator app is in use") {
		t.Errorf("notice after replacing: %q", got)
	}
	// The confirmation ended the replacement: it cannot be confirmed twice.
	resp = c.PostForm(t, "/.gateway/account/2fa/replace/confirm", url.Values{"code": {newApp.now()}})
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("second confirmation: %d, want 409", resp.StatusCode)
	}

	// Now the old app's codes are refused at sign-in and the new app's work.
	wrongNow := g.NewClient(t)
	mfaPasswordStep(t, wrongNow, "eve")
	mfaWantRefused(t, mfaSubmit(t, wrongNow, oldApp.now()), http.StatusUnauthorized, "not right")
	mfaWantSignedIn(t, mfaSubmit(t, wrongNow, newApp.code()), "new code after the confirmation")

	if !mfaHasEvent(mfaEvents(t, g, u.ID), store.EventMFAEnabled, "authenticator app replaced") {
		t.Error("no activity entry for the replacement")
	}
}

func TestMFAReplaceBySupport(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "sam", store.RoleSupport)
	// Support must use 2FA (default mfa.require): enrol at sign-in.
	c := g.NewClient(t)
	signIn(t, c, "sam", harness.TestPassword, "/app/page")
	resp := c.PostForm(t, "/.gateway/login/2fa/setup", url.Values{"rd": {"/app/page"}})
	oldApp := newMFAApp(t, mfaDoc(t, resp).Find("#manual-key-raw").Text())
	resp = c.PostForm(t, "/.gateway/login/2fa/setup/confirm", url.Values{"rd": {"/app/page"}, "code": {oldApp.code()}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("enrolment: %d", resp.StatusCode)
	}
	// The role forbids turning 2FA off; the page points to the replacement.
	if got := mfaStatus(t, c).Find("#disable-refused").Text(); !strings.Contains(got, "Replace my authenticator") {
		t.Errorf("refusal to turn off says %q", got)
	}

	newApp := newMFAApp(t, mfaStartReplace(t, c))
	resp = c.PostForm(t, "/.gateway/account/2fa/replace/confirm", url.Values{"code": {newApp.code()}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	wrongNow := g.NewClient(t)
	mfaPasswordStep(t, wrongNow, "sam")
	mfaWantRefused(t, mfaSubmit(t, wrongNow, oldApp.now()), http.StatusUnauthorized, "not right")
	mfaWantSignedIn(t, mfaSubmit(t, wrongNow, newApp.code()), "support's new code")
}

func TestMFAReplaceMailsAlert(t *testing.T) {
	g, box := mailGateway(t, func(c *config.Config) { c.MFA.Require = "optional" })
	g.CreateUser(t, "alice")
	c := mailLoginOK(t, g, "alice", harness.TestPassword, "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")
	resp := mfaPostJSON(t, c, "/.gateway/api/v1/me/2fa/setup", "")
	var setup struct{ Secret string }
	mfaDecode(t, resp, &setup)
	oldApp := newMFAApp(t, setup.Secret)
	if resp := mfaPostJSON(t, c, "/.gateway/api/v1/me/2fa/confirm", `{"code":"`+oldApp.code()+`"}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("enrol: %d", resp.StatusCode)
	}
	newApp := newMFAApp(t, mfaStartReplace(t, c))
	if resp := c.PostForm(t, "/.gateway/account/2fa/replace/confirm", url.Values{"code": {newApp.code()}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	m := box.Await(t, "alice@example.com", "Your authenticator app was replaced", mailBound)
	if !strings.Contains(m.Text, "authenticator app replaced") {
		t.Errorf("alert text does not say what happened: %.300q", m.Text)
	}
}
