package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// mfaDeviceCookie returns the remember-device cookie set by resp, or nil.
func mfaDeviceCookie(g *harness.Gateway, resp *http.Response) *http.Cookie {
	for _, ck := range resp.Cookies() {
		if ck.Name == g.Config.Cookie.Name+"_device" {
			return ck
		}
	}
	return nil
}

// mfaStraightIn signs in with the password and reports whether it went
// straight through (303 to rd) rather than to the code step.
func mfaStraightIn(t *testing.T, c *harness.Client, name string) bool {
	t.Helper()
	resp := signIn(t, c, name, harness.TestPassword, "/app/page")
	switch loc := resp.Header.Get("Location"); {
	case resp.StatusCode == http.StatusSeeOther && loc == "/app/page":
		return true
	case resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(loc, "/.gateway/login/2fa?"):
		return false
	default:
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, loc)
		return false
	}
}

func TestMFARememberDeviceIsOffByDefault(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "ida")
	_, app, _ := mfaEnrolAPI(t, g, "ida")
	c := g.NewClient(t)
	mfaPasswordStep(t, c, "ida")
	if doc := mfaDoc(t, c.Get(t, "/.gateway/login/2fa", "Accept", "text/html")); doc.Find("#remember").Length() != 0 {
		t.Error("the code page offers to remember the browser though mfa.remember_device is 0")
	}
	resp := mfaSubmit(t, c, app.code(), "remember", "1")
	if resp.StatusCode != http.StatusSeeOther || mfaDeviceCookie(g, resp) != nil {
		t.Fatalf("remember=1 with the option off: %d, device cookie set: %v", resp.StatusCode, mfaDeviceCookie(g, resp) != nil)
	}
	c.PostForm(t, "/.gateway/logout", nil)
	if mfaStraightIn(t, c, "ida") {
		t.Fatal("signed in without a code while remember-device is off")
	}
}

func TestMFARememberDevice(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.MFA.RememberDevice = config.Duration{Duration: 30 * 24 * time.Hour}
	}})
	u := g.CreateUser(t, "jon")
	_, app, _ := mfaEnrolAPI(t, g, "jon")

	b := g.NewClient(t)
	mfaPasswordStep(t, b, "jon")
	doc := mfaDoc(t, b.Get(t, "/.gateway/login/2fa", "Accept", "text/html"))
	if label := doc.Find("label[for=remember]").Text(); !strings.Contains(label, "30 days") {
		t.Fatalf("remember option: %q", label)
	}
	resp := mfaSubmit(t, b, app.code(), "remember", "1")
	ck := mfaDeviceCookie(g, resp)
	if resp.StatusCode != http.StatusSeeOther || ck == nil {
		t.Fatalf("code with remember: %d, cookie %v", resp.StatusCode, ck)
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/.gateway/login" {
		t.Errorf("device cookie attributes: HttpOnly=%v SameSite=%v Path=%q", ck.HttpOnly, ck.SameSite, ck.Path)
	}
	// The app never sees it.
	if e, _ := b.Echo(t, "/app/page"); e == nil || strings.Contains(e.Header.Get("Cookie"), "_device") {
		t.Error("the upstream saw the device cookie (or the request failed)")
	}

	// Same browser, next sign-in: password only.
	b.PostForm(t, "/.gateway/logout", nil)
	if !mfaStraightIn(t, b, "jon") {
		t.Fatal("remembered browser was asked for a code")
	}
	if !mfaHasEvent(mfaEvents(t, g, u.ID), store.EventSignIn, "remembered browser") {
		t.Error("no sign_in event naming the remembered browser")
	}
	// Another browser is asked; the cookie does not stand in for another
	// person's code either.
	if mfaStraightIn(t, g.NewClient(t), "jon") {
		t.Fatal("a new browser skipped the code")
	}
	g.CreateUser(t, "kim")
	mfaEnrolAPI(t, g, "kim")
	thief := g.NewClient(t)
	login, _ := url.Parse(g.URL + "/.gateway/login")
	thief.Jar.SetCookies(login, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: ck.Path}})
	if mfaStraightIn(t, thief, "kim") {
		t.Fatal("jon's device cookie skipped kim's code")
	}

	// Signing out everywhere ends it.
	if err := g.Sessions.SignOutEverywhere(t.Context(), httptest.NewRecorder(), u.ID, nil, "", "", store.EndReason{}); err != nil {
		t.Fatal(err)
	}
	if mfaStraightIn(t, b, "jon") {
		t.Fatal("remembered browser skipped the code after signing out everywhere")
	}
	// Remember again, then change 2FA (new recovery codes): ended too.
	if resp := mfaSubmit(t, b, app.code(), "remember", "1"); mfaDeviceCookie(g, resp) == nil {
		t.Fatalf("second remember: %d", resp.StatusCode)
	}
	if resp := mfaPostJSON(t, b, "/.gateway/api/v1/me/2fa/recovery-codes", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("new recovery codes: %d", resp.StatusCode)
	}
	b.PostForm(t, "/.gateway/logout", nil)
	if mfaStraightIn(t, b, "jon") {
		t.Fatal("remembered browser skipped the code after a 2FA change")
	}
}
