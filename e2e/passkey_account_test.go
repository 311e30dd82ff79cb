package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// passkeyListJSON is GET me/passkeys.
type passkeyListJSON struct {
	Passkeys []struct {
		ID       string     `json:"id"`
		Name     string     `json:"name"`
		Created  time.Time  `json:"created"`
		LastUsed *time.Time `json:"last_used"`
		Synced   bool       `json:"synced"`
	} `json:"passkeys"`
}

// addPasskeyOnAccountPage adds a passkey named name on the Login & Security
// page, as a person does right after signing in, and returns to the
// passkeys page.
func addPasskeyOnAccountPage(t *testing.T, ctx context.Context, base, name string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/.gateway/account")); err != nil {
		t.Fatal(err)
	}
	passkeyClick(t, ctx, "manage-passkeys", http.StatusOK)
	passkeyClick(t, ctx, "passkey-new", http.StatusOK)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("passkey-name"), name)); err != nil {
		t.Fatal(err)
	}
	if at := passkeyClick(t, ctx, "passkey-add", http.StatusOK); !strings.Contains(at, "/account/passkeys?m=added") {
		t.Fatalf("after adding a passkey the browser is at %s", at)
	}
}

// TestPasskeyAccountLifecycle is the "done when": in Chromium with
// a virtual authenticator a person adds a passkey on the account page,
// signs out, signs in with only the passkey and reaches the app; GET
// me/passkeys lists it; removing it makes the next passkey sign-in fail;
// the activity tells each step.
func TestPasskeyAccountLifecycle(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "pia")
	base := passkeyURL(g.URL)
	ctx := browsertest.New(t)
	auth := addAuthenticator(t, ctx)
	noAutofill(t, ctx)

	passkeyPasswordLogin(t, ctx, base, "pia", "/.gateway/account", http.StatusOK)
	addPasskeyOnAccountPage(t, ctx, base, "Pia's phone")
	row := mfaBrowserText(t, ctx, "passkeys")
	if !strings.Contains(row, "Pia's phone") || !strings.Contains(row, "Synced") || !strings.Contains(row, "never used") {
		t.Fatalf("passkey row: %q", row)
	}
	if len(authenticatorCredentials(t, ctx, auth)) != 1 {
		t.Fatal("the authenticator holds no passkey")
	}

	passkeySignOut(t, ctx, base)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/.gateway/login?rd=/hello")); err != nil {
		t.Fatal(err)
	}
	passkeyClick(t, ctx, "passkey-signin", http.StatusOK)
	if !appSawUser(t, ctx, "pia") {
		t.Fatal("the passkey sign-in did not reach the app as pia")
	}

	var list passkeyListJSON
	readBrowserJSON(t, ctx, base+"/.gateway/api/v1/me/passkeys", &list)
	if len(list.Passkeys) != 1 {
		t.Fatalf("GET me/passkeys: %+v", list)
	}
	k := list.Passkeys[0]
	if k.Name != "Pia's phone" || !k.Synced || k.ID == "" || k.Created.IsZero() || k.LastUsed == nil || k.LastUsed.Before(k.Created) {
		t.Fatalf("GET me/passkeys: %+v", k)
	}

	// Removing it needs a recent sign-in: the passkey sign-in just was.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/.gateway/account/passkeys")); err != nil {
		t.Fatal(err)
	}
	passkeyClick(t, ctx, "remove-"+k.ID, http.StatusOK)
	if s := mfaBrowserText(t, ctx, "notice"); !strings.Contains(s, "removed") {
		t.Fatalf("after removal: %q", s)
	}
	passkeySignOut(t, ctx, base)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/.gateway/login?rd=/hello")); err != nil {
		t.Fatal(err)
	}
	// The authenticator still offers it; the gateway refuses it.
	passkeyClick(t, ctx, "passkey-signin", http.StatusUnauthorized)
	if s := mfaBrowserText(t, ctx, "error"); !strings.Contains(s, "not accepted") {
		t.Fatalf("removed passkey: page says %q", s)
	}

	passkeyPasswordLogin(t, ctx, base, "pia", "/.gateway/account", http.StatusOK)
	var act struct {
		Events []struct {
			Type, Detail string
		} `json:"events"`
	}
	readBrowserJSON(t, ctx, base+"/.gateway/api/v1/me/activity", &act)
	var seen []string
	for _, e := range act.Events {
		seen = append(seen, e.Type+": "+e.Detail)
	}
	all := strings.Join(seen, "\n")
	for _, want := range []string{"passkey_added: passkey “Pia's phone” added", "sign_in: passkey “Pia's phone”",
		"passkey_removed: passkey “Pia's phone” removed", "sign_in_failed: passkey not accepted"} {
		if !strings.Contains(all, want) {
			t.Errorf("activity lacks %q:\n%s", want, all)
		}
	}
}

// readBrowserJSON opens url in the browser (with its cookies) and decodes
// the JSON it shows. (Navigating, not fetch: the gateway's pages allow no
// script to call the API, so a test script could not either.)
func readBrowserJSON(t *testing.T, ctx context.Context, url string, v any) {
	t.Helper()
	var body string
	var err error
	for range 5 { // a page still loading from an earlier click can replace the document under the read
		if err = chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			continue
		}
		if body, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("pre"))); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %s: %v: %.300s", url, err, body)
	}
}

// A route that asks for a second factor (mfa: required) lets a session
// without one pass with the account's passkey, even when the account has
// no authenticator app: the step offers the passkey instead of sending
// the person to set an app up.
func TestPasskeyPassesARouteSecondFactorStep(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.MFA.Require = config.MFAOptional
		c.Routes = []config.Route{
			{PathPrefix: "/admin/", Upstream: c.Upstream, RouteRules: config.RouteRules{MFA: "required"}},
			{PathPrefix: "/", Upstream: c.Upstream},
		}
	}})
	g.CreateUser(t, "quinn")
	base := passkeyURL(g.URL)
	ctx := browsertest.New(t)
	addAuthenticator(t, ctx)
	noAutofill(t, ctx)

	// Signed in with the password only, then a passkey added: this
	// session has no second factor.
	passkeyPasswordLogin(t, ctx, base, "quinn", "/.gateway/account", http.StatusOK)
	addPasskeyOnAccountPage(t, ctx, base, "Quinn's laptop")

	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(base+"/admin/x"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.URL, "/.gateway/login/confirm") {
		t.Fatalf("the admin route led to %s, want the confirm page", resp.URL)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("stepup_continue"))); err != nil {
		t.Fatalf("continue on the confirm page: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(loc, "/2fa/setup") || !strings.Contains(loc, "/.gateway/login/2fa") {
		t.Fatalf("the second-factor step for an account with a passkey is %s, want the code step offering the passkey", loc)
	}
	passkeyClick(t, ctx, "passkey-step", http.StatusOK)
	if !appSawUser(t, ctx, "quinn") {
		t.Fatal("after the passkey the admin route did not reach the app as quinn")
	}
	if loc, err = chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/admin/x") {
		t.Fatalf("after the passkey the browser is at %s (%v), want /admin/x", loc, err)
	}
}

// A route's `reauth` is passed with a passkey as well as with the
// password: the confirm page offers the account's passkey, and after it
// the page opens.
func TestPasskeyPassesARouteReauth(t *testing.T) {
	clock := &harness.Clock{}
	g := harness.Start(t, harness.Options{Clock: clock, Configure: func(c *config.Config) {
		c.MFA.Require = config.MFAOptional
		c.Routes = []config.Route{
			{PathPrefix: "/admin/", Upstream: c.Upstream, RouteRules: config.RouteRules{Reauth: config.Duration{Duration: 5 * time.Minute}}},
			{PathPrefix: "/", Upstream: c.Upstream},
		}
	}})
	g.CreateUser(t, "rita")
	base := passkeyURL(g.URL)
	ctx := browsertest.New(t)
	addAuthenticator(t, ctx)
	noAutofill(t, ctx)
	passkeyPasswordLogin(t, ctx, base, "rita", "/.gateway/account", http.StatusOK)
	addPasskeyOnAccountPage(t, ctx, base, "Rita's phone")

	clock.Advance(6 * time.Minute)
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(base+"/admin/x"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.URL, "/.gateway/login/confirm?need=password") {
		t.Fatalf("a stale sign-in on the admin route led to %s, want the confirm page", resp.URL)
	}
	passkeyClick(t, ctx, "reauth-passkey", http.StatusOK)
	if !appSawUser(t, ctx, "rita") {
		t.Fatal("after the passkey the admin route did not reach the app as rita")
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/admin/x") {
		t.Fatalf("after the passkey the browser is at %s (%v), want /admin/x", loc, err)
	} // It shows in the activity as a confirmation with the passkey, not as
	// a second sign-in.
	if _, err := chromedp.Run(ctx, chromedp.Navigate(base+"/.gateway/account/activity")); err != nil {
		t.Fatal(err)
	}
	if s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("chart-text"))); err != nil || !strings.Contains(s, "1 sign-in and 0 failed attempts") {
		t.Errorf("activity chart says %q (%v), want the one sign-in", s, err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("timeline")))
	if err != nil || !strings.Contains(rows, "Confirmed it's you") || !strings.Contains(rows, "with passkey “Rita's phone”, for a page") {
		t.Errorf("activity after the passkey confirmation (%v): %q", err, strings.Join(strings.Fields(rows), " "))
	}

}
