package e2e

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// passkeyGetJS asks the browser's authenticator for an assertion on the
// options a gateway's begin call answered (JSON), and returns the answer as
// the gateway reads it: what a page on this origin would produce.
const passkeyGetJS = `(async (opts) => {
	const dec = s => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)), c => c.charCodeAt(0)).buffer;
	const enc = b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
	const pk = opts.publicKey;
	pk.challenge = dec(pk.challenge);
	(pk.allowCredentials || []).forEach(c => c.id = dec(c.id));
	const c = await navigator.credentials.get({publicKey: pk});
	return JSON.stringify({id: c.id, rawId: enc(c.rawId), type: c.type, clientExtensionResults: {},
		response: {clientDataJSON: enc(c.response.clientDataJSON), authenticatorData: enc(c.response.authenticatorData),
			signature: enc(c.response.signature), userHandle: enc(c.response.userHandle)}});
})(%s)`

// browserAssertion has the browser (on its current page's origin) answer
// the options of a begin call.
func browserAssertion(t *testing.T, ctx context.Context, options string) string {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](strings.Replace(passkeyGetJS, "%s", options, 1), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("assertion in the browser: %v", err)
	}
	return out
}

// beginFrom starts a passkey sign-in on base with a client of its own and
// returns the options.
func beginFrom(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	resp, body := passkeyPost(t, c, base+"/.gateway/login/passkey/begin", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("begin on %s: %d %s", base, resp.StatusCode, body)
	}
	return body
}

func finishAt(t *testing.T, c *http.Client, base, assertion string) *http.Response {
	t.Helper()
	resp, _ := passkeyPost(t, c, base+"/.gateway/login/passkey/finish", "application/x-www-form-urlencoded",
		url.Values{"rd": {"/"}, "credential": {assertion}}.Encode())
	return resp
}

// TestPasskeyAssertionsBoundToOriginChallengeAndCounter: an answer is
// accepted once, for the challenge it signed, on the origin it was made
// for; a signature counter that goes backwards is let through but shown
// to the person and written to the activity.
func TestPasskeyAssertionsBoundToOriginChallengeAndCounter(t *testing.T) {
	secret := rand.Text() + rand.Text()
	g := harness.Start(t, harness.Options{Secret: secret})
	// The same accounts and passkeys behind another origin (another port
	// of localhost: the same relying-party id, another origin).
	other := harness.Start(t, harness.Options{Redis: g.Redis, Secret: secret})
	rex := g.CreateUser(t, "rex")
	base, otherBase := passkeyURL(g.URL), passkeyURL(other.URL)
	ctx := browsertest.New(t)
	addAuthenticator(t, ctx)
	noAutofill(t, ctx)
	passkeyPasswordLogin(t, ctx, base, "rex", "/.gateway/account", http.StatusOK)
	addPasskeyOnAccountPage(t, ctx, base, "Rex's laptop")
	passkeySignOut(t, ctx, base)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/.gateway/login")); err != nil {
		t.Fatal(err)
	}

	// Control: an answer the browser makes on base's origin for base's
	// challenge signs in there.
	c := localhostClient()
	good := browserAssertion(t, ctx, beginFrom(t, c, base))
	if resp := finishAt(t, c, base, good); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("control assertion: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Replayed: its ceremony is gone (taken with GETDEL)...
	if resp := finishAt(t, c, base, good); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed assertion, same browser: %d, want 400", resp.StatusCode)
	}
	// ...and against a fresh ceremony its challenge is the wrong one.
	beginFrom(t, c, base)
	if resp := finishAt(t, c, base, good); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replayed assertion, new ceremony: %d, want 401", resp.StatusCode)
	}
	// Another browser cannot answer this browser's ceremony.
	thief := localhostClient()
	if resp := finishAt(t, thief, base, good); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("assertion from a browser without the ceremony: %d, want 400", resp.StatusCode)
	}

	// Another origin: other's challenge, signed by the browser on base's
	// origin, is refused by other (the origin in the signed client data
	// is not other's).
	c2 := localhostClient()
	foreign := browserAssertion(t, ctx, beginFrom(t, c2, otherBase))
	if resp := finishAt(t, c2, otherBase, foreign); resp.StatusCode != http.StatusUnauthorized {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("assertion made on another origin: %d, want 401: %.200s", resp.StatusCode, b)
	}

	// A signature counter that went backwards: as if another copy of the
	// passkey had signed in more often.
	keys, err := g.Store.FindPasskeys(context.Background(), rex.ID)
	if err != nil || len(keys) != 1 {
		t.Fatalf("passkeys: %v %v", keys, err)
	}
	if err := g.Store.UsePasskey(context.Background(), rex.ID, keys[0].EncodedID(), store.PasskeyUse{
		At: time.Now(), SignCount: 1_000_000, Flags: keys[0].Flags}); err != nil {
		t.Fatal(err)
	}
	passkeyClick(t, ctx, "passkey-signin", http.StatusOK)
	if !appSawUser(t, ctx, "rex") {
		t.Fatal("sign-in with a regressed counter did not reach the app")
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/.gateway/account/passkeys")); err != nil {
		t.Fatal(err)
	}
	if s := mfaBrowserText(t, ctx, "passkeys"); !strings.Contains(s, "may have been copied") {
		t.Fatalf("passkeys page does not show the counter warning: %q", s)
	}
	found := false
	for _, e := range staffEvents(t, g, rex.ID) {
		found = found || (e.Type == store.EventPasskeyWarning && strings.Contains(e.Detail, "Rex's laptop"))
	}
	if !found {
		t.Fatal("no passkey_warning in the activity")
	}
}
