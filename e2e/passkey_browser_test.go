package e2e

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// TestPasskeyStaffForcedEnrolAndSignIn: support staff under
// mfa.phishing_resistant and without any second factor must add a passkey
// right after the password, before reaching anything; then sign in with
// only the passkey (no username typed) and reach the app; and a password
// sign-in asks for the passkey as the second step, with no code form.
func TestPasskeyStaffForcedEnrolAndSignIn(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.MFA.PhishingResistant = "support" }})
	g.CreateUser(t, "sam", "support")
	base := passkeyURL(g.URL)
	ctx := browsertest.New(t)
	auth := addAuthenticator(t, ctx)

	at := passkeyPasswordLogin(t, ctx, base, "sam", "/hello", http.StatusOK)
	if !strings.Contains(at, "/.gateway/login/passkey/setup") {
		t.Fatalf("after the password a staff member without a passkey landed on %s, want the passkey setup", at)
	}
	// Nothing else is reachable before the passkey is added.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/hello")); err != nil {
		t.Fatal(err)
	}
	if appSawUser(t, ctx, "sam") {
		t.Fatal("the app was reached before the required passkey was added")
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/.gateway/login/passkey/setup?rd=/hello"),
		chromedp.SendKeys(chromedp.ID("passkey-name"), "Work laptop"),
	); err != nil {
		t.Fatal(err)
	}
	passkeyClick(t, ctx, "passkey-add", http.StatusOK)
	if !appSawUser(t, ctx, "sam") {
		t.Fatal("after adding the passkey the app was not reached as sam")
	}
	creds := authenticatorCredentials(t, ctx, auth)
	if len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
		t.Fatalf("authenticator holds %+v, want one discoverable passkey for localhost", creds)
	}
	if len(creds[0].UserHandle) < 16 || bytes.Contains(creds[0].UserHandle, []byte("sam")) {
		t.Fatalf("user handle %q: want a random id, not the user name", creds[0].UserHandle)
	}

	// Autofill: the login page asks for a passkey with conditional
	// mediation; the virtual authenticator answers it as a person picking
	// the offered passkey does, and the browser lands in the app.
	passkeySignOut(t, ctx, base)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/.gateway/login?rd=/hello")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`pre`))); err != nil {
		t.Fatal(err)
	}
	if !appSawUser(t, ctx, "sam") {
		t.Fatal("passkey autofill on the login page did not reach the app as sam")
	}

	// The button, in a browser without autofill: no username typed.
	noAutofill(t, ctx)
	passkeySignOut(t, ctx, base)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/.gateway/login?rd=/hello")); err != nil {
		t.Fatal(err)
	}
	passkeyClick(t, ctx, "passkey-signin", http.StatusOK)
	if !appSawUser(t, ctx, "sam") {
		t.Fatal("signing in with only the passkey did not reach the app as sam")
	}

	passkeySignOut(t, ctx, base)
	at = passkeyPasswordLogin(t, ctx, base, "sam", "/hello", http.StatusOK)
	if !strings.Contains(at, "/.gateway/login/2fa") {
		t.Fatalf("password sign-in of an account with a passkey landed on %s, want the second step", at)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#code").length`)); n != 0 {
		t.Fatal("the second step offers a code form to a role that must use a passkey")
	}
	passkeyClick(t, ctx, "passkey-step", http.StatusOK)
	if !appSawUser(t, ctx, "sam") {
		t.Fatal("the passkey as second step did not reach the app")
	}
	// The activity chart counts each of the four ways sam signed in: the
	// password with a new passkey, the passkey by autofill, by the button,
	// and the password with the passkey as second step.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/.gateway/account/activity")); err != nil {
		t.Fatal(err)
	}
	if s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("chart-text"))); err != nil || !strings.Contains(s, "4 sign-ins and 0 failed attempts") {
		t.Errorf("activity chart says %q (%v), want 4 sign-ins", s, err)
	}
	_ = context.Background
}
