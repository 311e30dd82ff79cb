package e2e

// Red-team tests for sign-in, sessions, the revocation mirror and the proxy:
// attacks that earlier tests did not name. Each test failed before the fix
// that came with it.

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/harness"
	"github.com/authgate/gateway/store"
)

// rtChangePassword sets a new password the way `gateway users passwd` and
// every other password change do: a new hash, then everybody signed out.
func rtChangePassword(t *testing.T, g *harness.Gateway, u *store.User, password string) {
	t.Helper()
	ctx := context.Background()
	hash, err := g.Hasher.Hash(ctx, password)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Store.UpdateUser(ctx, u.ID, store.UserUpdate{PasswordHash: &hash}); err != nil {
		t.Fatal(err)
	}
	if err := g.Sessions.SignOutEverywhere(ctx, nil, u.ID, nil, "", ""); err != nil {
		t.Fatal(err)
	}
}

// A browser that once entered the right password gets a known-browser
// cookie: its attempts are counted on a counter of its own, and signing in
// there raises no new-device alert. Someone who learnt the password (a
// phished or shared one — a 2FA code still due is enough) keeps that cookie
// after the owner changes the password, so they must not keep either
// privilege: the owner's remedy is exactly the password change.
func TestKnownBrowserCookieDiesWithThePassword(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.Throttle.PasswordAccount = thrPolicy(2) }})
	u := g.CreateUser(t, "lena")
	intruder := g.NewClient(t)
	intruder.Login(t, "lena", harness.TestPassword) // with the leaked password
	const newPassword = "a brand new passphrase 42"
	rtChangePassword(t, g, u, newPassword)

	// A stranger keeps the account in a delay...
	for i := range 3 {
		thrSignIn(t, g.NewClient(t), "lena", "stranger "+strconv.Itoa(i))
	}
	thrWantThrottled(t, thrSignIn(t, g.NewClient(t), "lena", newPassword), "new browser during the delay")
	// ...and the intruder's old browser is held by the same delay: it no
	// longer knows the password, so it is not the owner's browser.
	got := thrSignIn(t, intruder, "lena", "guess 1")
	if got.Status != http.StatusTooManyRequests {
		t.Fatalf("intruder's browser guessing after the password change: %+v, want the account's delay (429)", got)
	}

	// Once the intruder learns the new password too, the sign-in is news.
	if err := g.Store.ResetUserThrottles(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	before := countEvents(t, g, u.ID, store.EventNewDevice)
	resp := intruder.PostForm(t, "/.gateway/login", url.Values{"username": {"lena"}, "password": {newPassword}, "rd": {"/"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in with the new password: %d", resp.StatusCode)
	}
	if n := countEvents(t, g, u.ID, store.EventNewDevice) - before; n != 1 {
		t.Fatalf("sign-in with the new password from a browser that only knew the old one: %d new-device alerts, want 1", n)
	}
}
