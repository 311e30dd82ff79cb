package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// mfaStatus fetches the two-step verification page.
func mfaStatus(t *testing.T, c *harness.Client) *goquery.Document {
	t.Helper()
	resp := c.Get(t, "/.gateway/account/2fa", "Accept", "text/html")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status page: %d", resp.StatusCode)
	}
	return mfaDoc(t, resp)
}

// mfaCodesOn lists the recovery codes shown on a page.
func mfaCodesOn(doc *goquery.Document) []string {
	var codes []string
	doc.Find("#recovery-codes li").Each(func(_ int, s *goquery.Selection) {
		codes = append(codes, strings.TrimSpace(s.Text()))
	})
	return codes
}

func TestMFAAccountPageEnrolRenewDisable(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	u := g.CreateUser(t, "eve")
	c := g.NewClient(t)
	c.Login(t, "eve", harness.TestPassword)
	other := g.NewClient(t)
	other.Login(t, "eve", harness.TestPassword)

	doc := mfaStatus(t, c)
	if !strings.Contains(doc.Find("#mfa-status").Text(), "Off") || doc.Find("#setup").Length() != 1 {
		t.Fatal("status page does not show 2FA off with a set-up button")
	}
	resp := c.PostForm(t, "/.gateway/account/2fa/setup", nil)
	doc = mfaDoc(t, resp)
	secret := doc.Find("#manual-key-raw").Text()
	qr, _ := doc.Find("img#qr").Attr("src")
	if resp.StatusCode != http.StatusOK || secret == "" || !strings.HasPrefix(qr, "data:image/png;base64,") ||
		doc.Find("input#code[name=code]").Length() != 1 || doc.Find("#confirm").Length() != 1 {
		t.Fatalf("setup page: %d key %q", resp.StatusCode, secret)
	}
	// Not on until confirmed: signing in elsewhere asks no code yet.
	probe := g.NewClient(t)
	probe.Login(t, "eve", harness.TestPassword)

	app := newMFAApp(t, secret)
	resp = c.PostForm(t, "/.gateway/account/2fa/confirm", url.Values{"code": {app.wrong()}})
	doc = mfaDoc(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find("#manual-key-raw").Text() != secret || doc.Find("#error").Length() != 1 {
		t.Fatalf("wrong confirm code: %d; want 422 with the same key and an error", resp.StatusCode)
	}
	resp = c.PostForm(t, "/.gateway/account/2fa/confirm", url.Values{"code": {app.code()}})
	doc = mfaDoc(t, resp)
	codes := mfaCodesOn(doc)
	if resp.StatusCode != http.StatusOK || len(codes) != 10 {
		t.Fatalf("confirm: %d with %d codes, want 200 with 10", resp.StatusCode, len(codes))
	}
	href, _ := doc.Find("a#download").Attr("href")
	_, hasDownload := doc.Find("a#download").Attr("download")
	file, _ := url.PathUnescape(strings.TrimPrefix(href, "data:text/plain;charset=utf-8,"))
	if !strings.HasPrefix(href, "data:text/plain") || !hasDownload || !strings.Contains(file, codes[9]) {
		t.Errorf("download link %.60q does not carry the codes", href)
	}
	// The other devices were signed out; this one was not.
	pollCode(t, other, "/", http.StatusUnauthorized, 2*time.Second)
	pollCode(t, probe, "/", http.StatusUnauthorized, 2*time.Second)
	if e, resp := c.Echo(t, "/"); e == nil {
		t.Fatalf("this device after enabling: %d", resp.StatusCode)
	}
	doc = mfaStatus(t, c)
	if !strings.Contains(doc.Find("#mfa-status").Text(), "On") || !strings.Contains(doc.Find("#recovery-status").Text(), "10 unused recovery codes") {
		t.Fatalf("status after enabling: %q / %q", doc.Find("#mfa-status").Text(), doc.Find("#recovery-status").Text())
	}
	// The codes are shown once: nowhere on the status page.
	if html, _ := doc.Html(); strings.Contains(html, codes[0]) {
		t.Error("a recovery code is shown again on the status page")
	}

	// New recovery codes: the old ones stop working.
	resp = c.PostForm(t, "/.gateway/account/2fa/recovery", nil)
	renewed := mfaCodesOn(mfaDoc(t, resp))
	if resp.StatusCode != http.StatusOK || len(renewed) != 10 || renewed[0] == codes[0] {
		t.Fatalf("renew: %d with %d codes", resp.StatusCode, len(renewed))
	}
	late := g.NewClient(t)
	mfaPasswordStep(t, late, "eve")
	mfaWantRefused(t, mfaSubmit(t, late, codes[0]), http.StatusUnauthorized, "not right")

	// Turning off needs the password and a code.
	resp = c.PostForm(t, "/.gateway/account/2fa/disable", url.Values{"password": {"wrong password!!"}, "code": {renewed[1]}})
	if msg := mfaDoc(t, resp).Find("#error").Text(); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(msg, "Wrong password") {
		t.Fatalf("disable with a wrong password: %d %q", resp.StatusCode, msg)
	}
	resp = c.PostForm(t, "/.gateway/account/2fa/disable", url.Values{"password": {harness.TestPassword}, "code": {app.wrong()}})
	if msg := mfaDoc(t, resp).Find("#error").Text(); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(msg, "not right") {
		t.Fatalf("disable with a wrong code: %d %q", resp.StatusCode, msg)
	}
	mfaPasswordStep(t, other, "eve")
	if resp := mfaSubmit(t, other, app.code()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in on the other device: %d", resp.StatusCode)
	}
	resp = c.PostForm(t, "/.gateway/account/2fa/disable", url.Values{"password": {harness.TestPassword}, "code": {renewed[1]}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/.gateway/account/2fa?m=disabled" {
		t.Fatalf("disable: %d to %q", resp.StatusCode, loc)
	}
	doc = mfaDoc(t, c.Get(t, resp.Header.Get("Location"), "Accept", "text/html"))
	if !strings.Contains(doc.Find("#mfa-status").Text(), "Off") || !strings.Contains(doc.Find("#notice").Text(), "signed out") {
		t.Error("status after disabling does not say off")
	}
	pollCode(t, other, "/", http.StatusUnauthorized, 2*time.Second)
	evs := mfaEvents(t, g, u.ID)
	for _, typ := range []string{store.EventMFAEnabled, store.EventRecoveryRenewed, store.EventMFADisabled} {
		if !mfaHasEvent(evs, typ, "") {
			t.Errorf("no %s event", typ)
		}
	}
	// Signing in asks for the password only again.
	g.NewClient(t).Login(t, "eve", harness.TestPassword)
}

func TestMFAAPIDisable(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	u := g.CreateUser(t, "fay")
	c, app, codes := mfaEnrolAPI(t, g, "fay")
	other := g.NewClient(t)
	mfaPasswordStep(t, other, "fay")
	if resp := mfaSubmit(t, other, app.code()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second device: %d", resp.StatusCode)
	}
	for _, tc := range []struct{ body, code string }{
		{`{"password":"not the password","code":"` + codes[0] + `"}`, "wrong_password"},
		{`{"password":"` + harness.TestPassword + `","code":"` + app.wrong() + `"}`, "invalid_code"},
		{`{"password":`, "bad_request"},
	} {
		resp := mfaPostJSON(t, c, "/.gateway/api/v1/me/2fa/disable", tc.body)
		var e struct{ Code string }
		mfaDecode(t, resp, &e)
		if e.Code != tc.code || resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("disable %s: %d %q, want %q", tc.body, resp.StatusCode, e.Code, tc.code)
		}
	}
	before := c.SessionCookie()
	resp := mfaPostJSON(t, c, "/.gateway/api/v1/me/2fa/disable", `{"password":"`+harness.TestPassword+`","code":"`+app.code()+`"}`)
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("disable: %d %s", resp.StatusCode, b)
	}
	if c.SessionCookie() == before {
		t.Error("no new session id after disabling")
	}
	if e, resp := c.Echo(t, "/"); e == nil {
		t.Fatalf("this device after disabling: %d", resp.StatusCode)
	}
	pollCode(t, other, "/", http.StatusUnauthorized, 2*time.Second)
	if !mfaHasEvent(mfaEvents(t, g, u.ID), store.EventMFADisabled, "") {
		t.Error("no mfa_disabled event")
	}
	// Off means off: no code to confirm, nothing to disable.
	resp = mfaPostJSON(t, c, "/.gateway/api/v1/me/2fa/confirm", `{"code":"123456"}`)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("confirm without a setup: %d, want 409", resp.StatusCode)
	}
	g.NewClient(t).Login(t, "fay", harness.TestPassword)
}

// TestMFASurvivesSecretRotation: secrets and recovery codes stored under
// the old secret keep working when it moves to previous_secrets.
func TestMFASurvivesSecretRotation(t *testing.T) {
	oldSecret := strings.Repeat("old-secret-", 4)
	g := harness.Start(t, harness.Options{Secret: oldSecret})
	g.CreateUser(t, "gus")
	_, app, codes := mfaEnrolAPI(t, g, "gus")

	rotated := harness.Start(t, harness.Options{Redis: g.Redis, Secret: strings.Repeat("new-secret-", 4),
		Configure: func(c *config.Config) { c.PreviousSecrets = []string{oldSecret} }})
	c := rotated.NewClient(t)
	mfaPasswordStep(t, c, "gus")
	if resp := mfaSubmit(t, c, app.code()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("app code after rotation: %d", resp.StatusCode)
	}
	c = rotated.NewClient(t)
	mfaPasswordStep(t, c, "gus")
	if resp := mfaSubmit(t, c, codes[0]); resp.StatusCode != http.StatusOK {
		t.Fatalf("recovery code after rotation: %d", resp.StatusCode)
	}
}
