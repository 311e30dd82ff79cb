package e2e

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// disableUser disables a user directly in the store, as the console or the
// CLI would.
func disableUser(t *testing.T, g *harness.Gateway, uid string) {
	t.Helper()
	disabled := true
	if err := g.Store.UpdateUser(context.Background(), uid, store.UserUpdate{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
}

// assertRefused checks that c's session is refused both ways: 401 JSON for
// an API client, 302 to the login page (coming back to path) for a browser.
func assertRefused(t *testing.T, c *harness.Client, path string) {
	t.Helper()
	resp := c.Get(t, path)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API request with a dead session: %d, want 401", resp.StatusCode)
	}
	var body struct{ Error, Code string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Code == "" {
		t.Errorf("401 body is not the JSON error shape: %v %+v", err, body)
	}
	resp = c.Get(t, path, "Accept", "text/html,application/xhtml+xml")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/.gateway/login?rd=") {
		t.Fatalf("browser request with a dead session: %d to %q, want 302 to the login page", resp.StatusCode, loc)
	}
	if !strings.Contains(loc, "rd="+strings.ReplaceAll(path, "/", "%2F")) {
		t.Errorf("login redirect %q does not come back to %s", loc, path)
	}
}

func TestLogoutThenReplayRefused(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	stolen := c.SessionCookie()

	resp := c.PostForm(t, "/.gateway/logout", nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/.gateway/login") {
		t.Fatalf("logout: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if ck := sessionCookieOf(t, g, resp); ck.MaxAge >= 0 || ck.Value != "" {
		t.Errorf("logout did not clear the cookie: %q", ck.Raw)
	}
	if c.SessionCookie() != "" {
		t.Error("the browser still holds a session cookie after logout")
	}

	replay := g.NewClient(t)
	replay.SetSessionCookie(stolen)
	assertRefused(t, replay, "/app")

	// Logging out with the dead cookie again is harmless.
	resp = replay.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", g.URL)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("second logout: %d", resp.StatusCode)
	}
}

func TestLogoutRefusedFromOtherSites(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	resp := c.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site logout: %d, want 403", resp.StatusCode)
	}
	if code := codeOf(t, c, "/app"); code != http.StatusOK {
		t.Errorf("a cross-site logout ended the session: %d", code)
	}
}

func TestTamperedCookieRefused(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	good := c.SessionCookie()

	for _, pos := range []int{0, len(good) / 4, len(good) / 2, len(good) - 5} {
		b := []byte(good)
		if b[pos] == 'A' {
			b[pos] = 'B'
		} else {
			b[pos] = 'A'
		}
		evil := g.NewClient(t)
		evil.SetSessionCookie(string(b))
		if code := codeOf(t, evil, "/app"); code != http.StatusUnauthorized {
			t.Errorf("cookie with byte %d flipped: %d, want 401", pos, code)
		}
	}
	for _, v := range []string{"", "x", good[:len(good)-10], good + "A", strings.Repeat("A", 5000)} {
		evil := g.NewClient(t)
		evil.SetSessionCookie(v)
		if code := codeOf(t, evil, "/app"); code != http.StatusUnauthorized {
			t.Errorf("cookie %.20q…: %d, want 401", v, code)
		}
	}
	if code := codeOf(t, c, "/app"); code != http.StatusOK {
		t.Errorf("the genuine cookie stopped working: %d", code)
	}
}

func TestSecretRotationKeepsSessions(t *testing.T) {
	secretA, secretB := rand.Text()+rand.Text(), rand.Text()+rand.Text()
	a := harness.Start(t, harness.Options{Secret: secretA})
	a.CreateUser(t, "alice")
	c := a.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)

	rotated := harness.Start(t, harness.Options{Redis: a.Redis, Secret: secretB,
		Configure: func(cfg *config.Config) { cfg.PreviousSecrets = []string{secretA} }})
	onRotated := c.For(rotated)
	if code := codeOf(t, onRotated, "/app"); code != http.StatusOK {
		t.Fatalf("a cookie issued under the previous secret is refused after rotation: %d", code)
	}
	// New sign-ins on the rotated gateway use the new secret.
	fresh := rotated.NewClient(t)
	fresh.Login(t, "alice", harness.TestPassword)
	if code := codeOf(t, fresh.For(a), "/app"); code != http.StatusUnauthorized {
		t.Errorf("a cookie issued under the new secret works with only the old one: %d", code)
	}

	onlyB := harness.Start(t, harness.Options{Redis: a.Redis, Secret: secretB})
	if code := codeOf(t, c.For(onlyB), "/app"); code != http.StatusUnauthorized {
		t.Errorf("a cookie under a retired secret still works: %d", code)
	}
	if code := codeOf(t, fresh.For(onlyB), "/app"); code != http.StatusOK {
		t.Errorf("a cookie under the current secret is refused: %d", code)
	}
}

func TestDisabledUserRefusedOnNextRequest(t *testing.T) {
	a := harness.Start(t, harness.Options{})
	b := harness.Start(t, harness.Options{Redis: a.Redis, Secret: a.Config.Secret})
	u := a.CreateUser(t, "alice")
	c := a.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	onB := c.For(b)
	if codeOf(t, c, "/app") != http.StatusOK || codeOf(t, onB, "/app") != http.StatusOK {
		t.Fatal("session not valid on both replicas")
	}
	disableUser(t, a, u.ID)
	// The feed carries the change to every replica well within this bound.
	pollCode(t, c, "/app", http.StatusUnauthorized, 2*time.Second)
	pollCode(t, onB, "/app", http.StatusUnauthorized, 2*time.Second)
	assertRefused(t, c, "/app")

	enabled := false
	if err := a.Store.UpdateUser(context.Background(), u.ID, store.UserUpdate{Disabled: &enabled}); err != nil {
		t.Fatal(err)
	}
	// Enabling again does not revive the session that was refused: the
	// browser was told to forget it, and the person signs in afresh.
	fresh := a.NewClient(t)
	fresh.Login(t, "alice", harness.TestPassword)
	if code := codeOf(t, fresh, "/app"); code != http.StatusOK {
		t.Errorf("re-enabled user cannot use a fresh session: %d", code)
	}
}

func TestIdleTimeout(t *testing.T) {
	clock := &harness.Clock{}
	g := harness.Start(t, harness.Options{Clock: clock, Configure: func(c *config.Config) {
		c.Session.Lifetime = config.Duration{Duration: 8 * time.Hour}
		c.Session.IdleTimeout = config.Duration{Duration: 30 * time.Minute}
	}})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)

	// Used every 20 minutes for two hours: never idle for 30.
	for range 6 {
		clock.Advance(20 * time.Minute)
		if code := codeOf(t, c, "/app"); code != http.StatusOK {
			t.Fatalf("a session used every 20 minutes was refused: %d", code)
		}
	}
	clock.Advance(31 * time.Minute)
	assertRefused(t, c, "/app")
	// It stays refused when used again right away.
	if code := codeOf(t, c.For(g), "/app"); code != http.StatusUnauthorized {
		t.Errorf("idle session accepted on retry: %d", code)
	}
}

func TestIdleTimeoutAcrossReplicas(t *testing.T) {
	t.Parallel() // waits on background timers; let other tests run meanwhile
	clock := &harness.Clock{}
	configure := func(c *config.Config) {
		c.Session.Lifetime = config.Duration{Duration: 8 * time.Hour}
		c.Session.IdleTimeout = config.Duration{Duration: 30 * time.Minute}
	}
	a := harness.Start(t, harness.Options{Clock: clock, Configure: configure})
	b := harness.Start(t, harness.Options{Clock: clock, Configure: configure, Redis: a.Redis, Secret: a.Config.Secret})
	a.CreateUser(t, "alice")
	c := a.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	onB := c.For(b)

	// The person works on replica A only; B has never seen the session. A
	// writes the last use to Redis off the request path.
	for range 4 {
		clock.Advance(20 * time.Minute)
		if code := codeOf(t, c, "/app"); code != http.StatusOK {
			t.Fatalf("replica A refused an active session: %d", code)
		}
	}
	flushLastSeen(t, a, time.Hour)
	// 80 minutes after sign-in, 20 after the last use: B must accept it.
	if code := codeOf(t, onB, "/app"); code != http.StatusOK {
		t.Errorf("replica B refused a session used on A 20 minutes ago: %d", code)
	}
	clock.Advance(31 * time.Minute)
	if code := codeOf(t, onB, "/app"); code != http.StatusUnauthorized {
		t.Errorf("replica B accepted a session idle for 31 minutes: %d", code)
	}
}

// flushLastSeen waits until the background flush (every few seconds) wrote
// to Redis a last-seen time at least ahead of the real time, that is one
// taken after the test clock moved.
func flushLastSeen(t *testing.T, g *harness.Gateway, ahead time.Duration) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, u := range mustUsers(t, g) {
			sessions, err := g.Store.FindSessions(context.Background(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sessions {
				if s.LastSeen.After(time.Now().Add(ahead)) {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("last-seen times never reached redis")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustUsers(t *testing.T, g *harness.Gateway) []*store.User {
	t.Helper()
	users, err := g.Store.FindUsers(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	return users
}

func TestAbsoluteLifetime(t *testing.T) {
	clock := &harness.Clock{}
	g := harness.Start(t, harness.Options{Clock: clock, Configure: func(c *config.Config) {
		c.Session.Lifetime = config.Duration{Duration: 2 * time.Hour}
		c.Session.IdleTimeout = config.Duration{Duration: 30 * time.Minute}
	}})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	for range 5 { // 100 minutes of steady use
		clock.Advance(20 * time.Minute)
		if code := codeOf(t, c, "/app"); code != http.StatusOK {
			t.Fatalf("an active session inside its lifetime was refused: %d", code)
		}
	}
	clock.Advance(21 * time.Minute) // 121 minutes after sign-in, 21 after last use
	assertRefused(t, c, "/app")
}

func TestShutdownWritesLastSeen(t *testing.T) {
	clock := &harness.Clock{}
	g := harness.Start(t, harness.Options{Clock: clock})
	u := g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	clock.Advance(5 * time.Minute)
	if code := codeOf(t, c, "/app"); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	// The last use is only in memory (written at most once a minute, in
	// the background); a clean shutdown must not lose it.
	g.Shutdown(5 * time.Second)

	st, err := store.Open(context.Background(), g.Redis.URL(), g.Log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sessions, err := st.FindSessions(context.Background(), u.ID)
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions: %v %d", err, len(sessions))
	}
	if ahead := time.Until(sessions[0].LastSeen); ahead < 4*time.Minute {
		t.Errorf("last seen after shutdown is %v from now; the use 5 minutes ahead on the test clock was lost", ahead)
	}
}

func TestRoleChangeReachesTheAppOnNextRequest(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.MFA.Require = "off" }})
	u := g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	if e, _ := c.Echo(t, "/app"); e == nil || e.Header.Get("X-Forwarded-Groups") != "user" {
		t.Fatalf("before: %+v", e)
	}
	email := "alice@new.example.com"
	if err := g.Store.UpdateUser(context.Background(), u.ID, store.UserUpdate{Roles: []string{"user", "admin"}, Email: &email}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		e, resp := c.Echo(t, "/app")
		if e == nil {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if e.Header.Get("X-Forwarded-Groups") == "user,admin" && e.Header.Get("X-Forwarded-Email") == email {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app still gets groups %q email %q", e.Header.Get("X-Forwarded-Groups"), e.Header.Get("X-Forwarded-Email"))
		}
		time.Sleep(15 * time.Millisecond)
	}
}
