package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/internal/testkit/harness"
)

// passkeyURL is the gateway's base URL by host name: WebAuthn refuses an
// IP address as relying-party id, and http://localhost is a secure
// context browsers allow passkeys on.
func passkeyURL(base string) string {
	return strings.Replace(base, "://127.0.0.1:", "://localhost:", 1)
}

// addAuthenticator gives the tab of ctx a virtual platform authenticator
// (CTAP2.1, internal transport, resident keys, user verification that
// succeeds, presence confirmed at once, synced credentials), as a phone or
// laptop with a passkey provider would be.
func addAuthenticator(t *testing.T, ctx context.Context) webauthn.AuthenticatorID {
	t.Helper()
	id, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (webauthn.AuthenticatorID, error) {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return "", err
		}
		res, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true,
				HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
				DefaultBackupEligibility: true, DefaultBackupState: true,
			},
		})
		return res.AuthenticatorID, err
	})
	if err != nil {
		t.Fatalf("add virtual authenticator: %v", err)
	}
	return id
}

// noAutofill makes the tab of ctx a browser without passkey autofill
// (conditional mediation), from its next page on. The virtual authenticator
// answers an autofill request at once, as if the person picked the passkey
// offered, so the button can only be tested without it.
func noAutofill(t *testing.T, ctx context.Context) {
	t.Helper()
	err := chromedp.Do(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `PublicKeyCredential.isConditionalMediationAvailable = function () { return Promise.resolve(false); };`,
		})
		return chromedp.Void{}, err
	})
	if err != nil {
		t.Fatalf("turn autofill off: %v", err)
	}
}

// authenticatorCredentials lists the passkeys the virtual authenticator holds.
func authenticatorCredentials(t *testing.T, ctx context.Context, id webauthn.AuthenticatorID) []*webauthn.Credential {
	t.Helper()
	creds, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]*webauthn.Credential, error) {
		res, err := cdp.Call(ctx, tg, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		return res.Credentials, err
	})
	if err != nil {
		t.Fatalf("get credentials: %v", err)
	}
	return creds
}

// passkeyClick clicks a button that starts a passkey ceremony and waits for
// the page its form submits to load, failing unless its status is want.
// It returns the page's URL.
func passkeyClick(t *testing.T, ctx context.Context, button string, want int) string {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID(button)))
	if err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("click #%s: %v; page: %.300s", button, err, body)
	}
	if resp == nil {
		t.Fatalf("click #%s: no page loaded", button)
	}
	if int(resp.Status) != want {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("click #%s: status %d at %s, want %d; page: %.300s", button, resp.Status, resp.URL, want, body)
	}
	return resp.URL
}

// passkeyPasswordLogin fills and submits the password form.
func passkeyPasswordLogin(t *testing.T, ctx context.Context, base, user, rd string, want int) string {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/.gateway/login?rd="+rd),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), harness.TestPassword),
	); err != nil {
		t.Fatalf("fill the login form: %v", err)
	}
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("submit")))
	if err != nil {
		t.Fatalf("submit password: %v", err)
	}
	if int(resp.Status) != want {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("password sign-in: status %d at %s, want %d; page %.300s", resp.Status, resp.URL, want, body)
	}
	return resp.URL
}

// passkeySignOut posts the sign-out button of the page.
func passkeySignOut(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/.gateway/account")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("signout"))); err != nil {
		t.Fatalf("sign out: %v", err)
	}
}

// appSawUser says whether the page the browser shows is the echo app,
// reached as user.
func appSawUser(t *testing.T, ctx context.Context, user string) bool {
	t.Helper()
	var body string
	var err error
	for range 5 { // a document still being replaced by a redirect loses the node read
		if body, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body"))); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(body, `"X-Forwarded-User":["`+user+`"]`)
}

var _ = http.StatusOK
