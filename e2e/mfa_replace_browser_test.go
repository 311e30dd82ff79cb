package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// mfaBrowserSignIn signs the browser in with the password and then code,
// and returns where it landed; the code step must answer want.
func mfaBrowserSignIn(t *testing.T, ctx context.Context, g *harness.Gateway, name, rd, code string, want int) string {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(g.URL+"/.gateway/login?rd="+rd),
		chromedp.SendKeys(chromedp.ID("username"), name),
		chromedp.SendKeys(chromedp.ID("password"), harness.TestPassword),
	); err != nil {
		t.Fatalf("fill the login form: %v", err)
	}
	mfaBrowserSubmit(t, ctx, "submit", http.StatusOK)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/.gateway/login/2fa") {
		t.Fatalf("after the password the browser is at %q, want the code step", loc)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("code"), code)); err != nil {
		t.Fatal(err)
	}
	mfaBrowserSubmit(t, ctx, "submit", want)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestMFAReplaceInTheBrowser: a person with 2FA on, and a support
// member whose role forbids turning it off, replace their authenticator
// app in Chromium: start on the two-step page, read the new key off the
// page into a new app (oathtool), confirm with its code. The old app
// signs in until then; afterwards its codes are refused at sign-in and
// the new app's work.
func TestMFAReplaceInTheBrowser(t *testing.T) {
	g := harness.Start(t, harness.Options{}) // mfa.require: support,admin
	for _, tc := range []struct {
		name  string
		roles []string
	}{
		{"rui", nil},
		{"sue", []string{store.RoleSupport}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := g.CreateUser(t, tc.name, tc.roles...)
			oldApp := newMFAApp(t, staffEnrolTOTP(t, g, u))
			ctx := browsertest.New(t)

			if loc := mfaBrowserSignIn(t, ctx, g, tc.name, "/.gateway/account/2fa", oldApp.code(), http.StatusOK); !strings.HasSuffix(loc, "/.gateway/account/2fa") {
				t.Fatalf("signed in on %s, want the two-step verification page", loc)
			}
			if tc.roles != nil {
				// Staff cannot turn 2FA off; the page points to the replacement.
				if s := mfaBrowserText(t, ctx, "disable-refused"); !strings.Contains(s, "Replace my authenticator") {
					t.Errorf("refusal to turn off says %q", s)
				}
			}
			mfaBrowserSubmit(t, ctx, "replace", http.StatusOK)
			if h, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main h1"))); !strings.Contains(h, "Replace your authenticator app") {
				t.Fatalf("replace page heading %q", h)
			}
			key := mfaBrowserText(t, ctx, "manual-key-raw")
			if key == "" || strings.ReplaceAll(mfaBrowserText(t, ctx, "manual-key"), " ", "") != key {
				t.Fatalf("new key on the page: %q", key)
			}
			width, err := chromedp.Run(ctx, chromedp.JavascriptAttribute[float64](chromedp.ID("qr"), "naturalWidth"))
			if err != nil || width < 100 {
				t.Fatalf("QR image not rendered: width %v, %v", width, err)
			}
			newApp := newMFAApp(t, key)

			// The new key is on screen but not confirmed: the old app
			// still signs in (here on another device).
			other := g.NewClient(t)
			mfaPasswordStep(t, other, tc.name)
			mfaWantSignedIn(t, mfaSubmit(t, other, oldApp.code()), "the old app's code before the new one is confirmed")

			if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("code"), newApp.code())); err != nil {
				t.Fatal(err)
			}
			mfaBrowserSubmit(t, ctx, "confirm", http.StatusOK)
			if s := mfaBrowserText(t, ctx, "notice"); !strings.Contains(s, "new authenticator app is in use") {
				t.Errorf("after confirming the page says %q", s)
			}
			if resp := other.Get(t, "/app/page"); resp.StatusCode == http.StatusOK {
				t.Error("the other device is still signed in after the replacement")
			}

			// Sign out and back in: the old app's code is refused, the new one's works.
			mfaBrowserSubmit(t, ctx, "signout", http.StatusOK)
			mfaBrowserSignIn(t, ctx, g, tc.name, "/app/home", oldApp.now(), http.StatusUnauthorized)
			if s := mfaBrowserText(t, ctx, "error"); !strings.Contains(s, "not right") {
				t.Errorf("the old app's code is refused with %q", s)
			}
			if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("code"), newApp.code())); err != nil {
				t.Fatal(err)
			}
			mfaBrowserSubmit(t, ctx, "submit", http.StatusOK)
			if body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body"))); !strings.Contains(body, `"X-Forwarded-User":["`+tc.name+`"]`) {
				t.Fatalf("the new app's code did not reach the app as %s: %.300s", tc.name, body)
			}
		})
	}
}
