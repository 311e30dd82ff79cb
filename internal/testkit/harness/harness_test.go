package harness

import "testing"

func TestStartSignInReachUpstream(t *testing.T) {
	g := Start(t, Options{})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	if e, resp := c.Echo(t, "/x"); e != nil {
		t.Fatalf("reached upstream without a session: %d", resp.StatusCode)
	}
	c.Login(t, "alice", TestPassword)
	e, resp := c.Echo(t, "/x")
	if e == nil {
		t.Fatalf("signed in but not proxied: %d", resp.StatusCode)
	}
	if got := e.Header.Get("X-Forwarded-User"); got != "alice" {
		t.Fatalf("X-Forwarded-User = %q, want alice", got)
	}
}
