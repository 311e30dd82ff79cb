package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

func countEvents(t *testing.T, g *harness.Gateway, uid, typ string) int {
	t.Helper()
	events, err := g.Store.FindEvents(context.Background(), uid, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func accountDoc(t *testing.T, c *harness.Client) *goquery.Document {
	t.Helper()
	resp := c.Get(t, "/.gateway/account", "Accept", "text/html")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("account page: %d", resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestSignInFromANewDeviceIsFlagged(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	alice := g.CreateUser(t, "alice")

	laptop := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)
	if n := countEvents(t, g, alice.ID, store.EventNewDevice); n != 0 {
		t.Fatalf("the account's first sign-in raised %d new-device alerts, want none", n)
	}
	if accountDoc(t, laptop).Find("#new-devices").Length() != 0 {
		t.Fatal("alert shown after the first sign-in")
	}

	// The same browser signs in again: known, nothing to flag.
	again := laptop.PostForm(t, "/.gateway/login", map[string][]string{"username": {"alice"}, "password": {harness.TestPassword}, "rd": {"/"}}, "User-Agent", uaFirefox)
	if again.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in on the laptop: %d", again.StatusCode)
	}
	if n := countEvents(t, g, alice.ID, store.EventNewDevice); n != 0 {
		t.Fatalf("a known browser raised %d alerts", n)
	}

	// A browser that never signed in to alice's account.
	acctLogin(t, g, "alice", harness.TestPassword, uaIPhone)
	if n := countEvents(t, g, alice.ID, store.EventNewDevice); n != 1 {
		t.Fatalf("sign-in from a new browser: %d new-device events, want 1", n)
	}
	alert := accountDoc(t, laptop).Find("#new-devices")
	if alert.Length() != 1 || !strings.Contains(alert.Text(), "iOS") {
		t.Fatalf("the laptop's account page does not show the new iPhone sign-in: %q", alert.Text())
	}
}
