package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

func TestUsersUnthrottle(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		// A long pause, so only clearing it can let the person in.
		c.Throttle.PasswordAccount = config.ThrottlePolicy{Free: 2, Base: config.Duration{Duration: time.Hour},
			Max: config.Duration{Duration: time.Hour}, Forget: config.Duration{Duration: 2 * time.Hour}}
	}})
	u := g.CreateUser(t, "ivy")
	env := []string{"GATEWAY_REDIS_URL=" + g.Redis.URL()}
	login := func(pw string) int {
		resp := g.NewClient(t).PostForm(t, "/.gateway/login", url.Values{"username": {"ivy"}, "password": {pw}, "rd": {"/"}})
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 3 {
		login("a stranger's guess")
	}
	if code := login(harness.TestPassword); code != http.StatusTooManyRequests {
		t.Fatalf("right password after a stranger's guesses: %d, want 429", code)
	}

	out, _, err := cli(t, env, "", "users", "unthrottle", "IVY", "--ip", "127.0.0.1")
	if err != nil {
		t.Fatalf("users unthrottle: %v", err)
	}
	for _, want := range []string{"user ivy: cleared password attempts: 3 failures, paused for another ", "client 127.0.0.1: cleared 3 failures"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code := login(harness.TestPassword); code != http.StatusSeeOther {
		t.Fatalf("right password after unthrottle: %d, want 303", code)
	}
	if got, _ := g.Store.FindUserThrottles(t.Context(), u); len(got) != 0 {
		t.Errorf("counters left: %+v", got)
	}
	evs, _ := g.Store.FindEvents(t.Context(), u.ID, 10)
	found := false
	for _, e := range evs {
		found = found || (e.Type == store.EventThrottled && e.Actor == "operator")
	}
	if !found {
		t.Errorf("the person's activity does not show the operator's unthrottle: %+v", evs)
	}

	if out, _, err := cli(t, env, "", "users", "unthrottle", "ivy"); err != nil || !strings.Contains(out, "nothing to clear") {
		t.Errorf("second unthrottle: %v %q", err, out)
	}
	for _, bad := range [][]string{{"unthrottle"}, {"unthrottle", "nobody"}, {"unthrottle", "--ip", "not-an-ip"}, {"unthrottle", "a", "b"}} {
		if _, _, err := cli(t, env, "", append([]string{"users"}, bad...)...); err == nil {
			t.Errorf("users %v accepted", bad)
		}
	}
}
