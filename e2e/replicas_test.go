package e2e

import (
	"context"
	"crypto/rand"
	"net/http"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store"
)

// twoReplicas starts two gateways sharing one redis and one secret.
func twoReplicas(t *testing.T, srv *redistest.Server) (a, b *harness.Gateway) {
	t.Helper()
	secret := rand.Text() + rand.Text()
	a = harness.Start(t, harness.Options{Redis: srv, Secret: secret})
	b = harness.Start(t, harness.Options{Redis: srv, Secret: secret})
	return a, b
}

// status fetches path with c and returns the status code (API style, no
// Accept: text/html, so a refused session is a 401).
func status(t *testing.T, c *harness.Client, path string) int {
	t.Helper()
	resp := c.Get(t, path)
	resp.Body.Close()
	return resp.StatusCode
}

// refusedWithin polls until c is refused on its gateway, failing after d.
func refusedWithin(t *testing.T, c *harness.Client, d time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if status(t, c, "/app") == http.StatusUnauthorized {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: replica B still lets the old cookie through after %v", what, d)
}

func signedInOnBoth(t *testing.T, a, b *harness.Gateway, name string) (onA, onB *harness.Client, u *store.User) {
	t.Helper()
	u = a.CreateUser(t, name)
	onA = a.NewClient(t)
	onA.Login(t, name, harness.TestPassword)
	onB = onA.For(b) // the same cookie presented to the other replica
	if got := status(t, onB, "/app"); got != http.StatusOK {
		t.Fatalf("cookie from A on B: %d, want 200", got)
	}
	return onA, onB, u
}

func TestRevocationOnOneReplicaIsEnforcedByTheOther(t *testing.T) {
	srv := redistest.Start(t)
	a, b := twoReplicas(t, srv)

	t.Run("sign out one session", func(t *testing.T) {
		onA, onB, _ := signedInOnBoth(t, a, b, "ann")
		resp := onA.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", a.URL)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		refusedWithin(t, onB, 2*time.Second, "logout on A")
	})

	t.Run("sign out everywhere", func(t *testing.T) {
		_, onB, u := signedInOnBoth(t, a, b, "ben")
		if err := a.Sessions.SignOutEverywhere(context.Background(), nil, u.ID, nil, "", "", store.EndReason{}); err != nil {
			t.Fatal(err)
		}
		refusedWithin(t, onB, 2*time.Second, "sign-out-everywhere on A")
	})

	t.Run("disable user", func(t *testing.T) {
		_, onB, u := signedInOnBoth(t, a, b, "cat")
		disabled := true
		if err := a.Store.UpdateUser(context.Background(), u.ID, store.UserUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		refusedWithin(t, onB, 2*time.Second, "user disabled via A")
	})
}

func TestReplicaEnforcesRevocationsMadeWhileRedisRestarted(t *testing.T) {
	srv := redistest.StartPersistent(t)
	a, b := twoReplicas(t, srv)
	onA, onB, _ := signedInOnBoth(t, a, b, "dan")
	_, keptOnB, _ := signedInOnBoth(t, a, b, "eve")

	srv.Stop(t)
	srv.Restart(t) // same data (append-only file), B may still be reconnecting

	// Revoke on A as soon as A can reach redis again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp := onA.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", a.URL)
		resp.Body.Close()
		if resp.StatusCode == http.StatusNoContent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A could not revoke after the restart: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	refusedWithin(t, onB, 5*time.Second, "revocation made while B reconnected")

	// B recovered by itself: a session nobody revoked works again on B.
	deadline = time.Now().Add(10 * time.Second)
	for status(t, keptOnB, "/app") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("B did not recover after redis came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedisDataLossDoesNotReviveRevokedSessions(t *testing.T) {
	srv := redistest.Start(t) // no persistence: a restart loses everything
	a, b := twoReplicas(t, srv)
	onA, onB, _ := signedInOnBoth(t, a, b, "fay")
	revoked := onA.SessionCookie()
	resp := onA.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", a.URL)
	resp.Body.Close()
	refusedWithin(t, onB, 2*time.Second, "logout")

	srv.Restart(t) // the revocation list is gone with everything else
	replay := a.NewClient(t)
	replay.SetSessionCookie(revoked)
	for _, c := range []*harness.Client{replay, replay.For(b), onB} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			code := status(t, c, "/app")
			if code == http.StatusUnauthorized {
				break
			}
			if code == http.StatusOK || time.Now().After(deadline) {
				t.Fatalf("a session from before the data loss got %d, want 401", code)
			}
			time.Sleep(20 * time.Millisecond) // 503 while reconnecting is fine
		}
	}
}
