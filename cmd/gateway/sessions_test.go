package main

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store"
)

// TestOlderAOFRestoreAndEndAll restores an older append-only file under two
// running replicas: the sign-outs made since the backup stay refused on
// both, are written back to Redis, and a replica started afterwards refuses
// them too. Then `gateway sessions end-all`, as the README's restore
// procedure says, ends every session on every replica at once; nobody's
// account is lost.
func TestOlderAOFRestoreAndEndAll(t *testing.T) {
	srv := redistest.StartPersistent(t)
	secret := rand.Text() + rand.Text()
	a := harness.Start(t, harness.Options{Redis: srv, Secret: secret})
	b := harness.Start(t, harness.Options{Redis: srv, Secret: secret})
	ann := a.CreateUser(t, "ann")
	a.CreateUser(t, "bob")
	a.CreateUser(t, "cat")
	ann1, ann2 := login(t, a, "ann").SessionCookie(), login(t, a, "ann").SessionCookie()
	bobClient := login(t, a, "bob")
	bob, cat := bobClient.SessionCookie(), login(t, a, "cat").SessionCookie()
	for _, raw := range []string{ann1, ann2, bob, cat} {
		waitCookie(t, b, raw, http.StatusOK, "cookie from A on B")
	}

	backup := srv.Snapshot(t)
	if err := a.Sessions.SignOutEverywhere(context.Background(), nil, ann.ID, nil, "", "", store.EndReason{}); err != nil {
		t.Fatal(err)
	}
	resp := bobClient.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", a.URL)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	signedOut := []string{ann1, ann2, bob}
	for _, raw := range signedOut {
		waitCookie(t, a, raw, http.StatusUnauthorized, "sign-out on A")
		waitCookie(t, b, raw, http.StatusUnauthorized, "sign-out on A, on B")
	}

	restored := time.Now()
	srv.RestoreSnapshot(t, backup)
	rdb := srv.Client(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		noneAccepted(t, "after the restore", []*harness.Gateway{a, b}, signedOut...)
		cut, _ := rdb.HGet(context.Background(), "gw:{g}:signedout", ann.ID).Int64()
		if cut > 0 && a.Mirror.Rollbacks()+b.Mirror.Rollbacks() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sign-outs not written back after the restore (cut %d, rollbacks %d/%d)", cut, a.Mirror.Rollbacks(), b.Mirror.Rollbacks())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("older AOF restored → sign-outs written back after %v", time.Since(restored).Round(time.Millisecond))
	fresh := harness.Start(t, harness.Options{Redis: srv, Secret: secret})
	all := []*harness.Gateway{a, b, fresh}
	noneAccepted(t, "replica started after the write-back", all, signedOut...)
	for _, g := range all {
		waitCookie(t, g, cat, http.StatusOK, "a session nobody ended")
	}

	out, _, err := cli(t, []string{"GATEWAY_REDIS_URL=" + srv.URL()}, "", "sessions", "end-all")
	if err != nil || !strings.Contains(out, "ended every session") {
		t.Fatalf("sessions end-all: %v %q", err, out)
	}
	for _, g := range all {
		waitCookie(t, g, cat, http.StatusUnauthorized, "end-all")
	}
	noneAccepted(t, "after end-all", all, append(signedOut, cat)...)
	for _, name := range []string{"ann", "bob", "cat"} {
		login(t, fresh, name) // every account still there
	}
	if _, _, err := cli(t, []string{"GATEWAY_REDIS_URL=" + srv.URL()}, "", "sessions", "end"); err == nil {
		t.Error("sessions end: no usage error")
	}
}

func login(t *testing.T, g *harness.Gateway, name string) *harness.Client {
	t.Helper()
	c := g.NewClient(t)
	c.Login(t, name, harness.TestPassword)
	return c
}

// rawStatus sends the raw session cookie to /app on g (no jar, so a refusal
// that clears the cookie does not change the next check).
func rawStatus(t *testing.T, g *harness.Gateway, raw string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/app", nil)
	req.AddCookie(&http.Cookie{Name: g.Config.Cookie.Name, Value: raw})
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitCookie(t *testing.T, g *harness.Gateway, raw string, want int, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for rawStatus(t, g, raw) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s does not answer %d", what, g.URL, want)
		}
		time.Sleep(15 * time.Millisecond)
	}
}

func noneAccepted(t *testing.T, what string, gws []*harness.Gateway, raws ...string) {
	t.Helper()
	for _, g := range gws {
		for _, raw := range raws {
			if rawStatus(t, g, raw) == http.StatusOK {
				t.Fatalf("%s: a signed-out cookie is accepted by %s", what, g.URL)
			}
		}
	}
}
