package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/redistest"
)

// TestGatewayStartsBeforeRedis starts a gateway while its Redis is down,
// as when a container starts before its Redis: it starts instead of
// exiting, is not ready, and refuses with 503 both a request carrying a
// session cookie and a sign-in. Then redis-server comes up and the same
// gateway, without a restart, becomes ready, lets that cookie through and
// signs people in.
func TestGatewayStartsBeforeRedis(t *testing.T) {
	t.Parallel() // waits for the mirror to retry; let other tests run meanwhile
	srv := redistest.StartPersistent(t)
	secret := "late redis test secret, long enough to derive keys 0123456789"
	first := harness.Start(t, harness.Options{Redis: srv, Secret: secret})
	first.CreateUser(t, "alice")
	early := first.NewClient(t)
	early.Login(t, "alice", harness.TestPassword)
	srv.Stop(t)

	g := harness.Start(t, harness.Options{Redis: srv, Secret: secret})
	if code, body := opsGet(t, g, "/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with redis down: %d %s; want 503", code, body)
	}
	if code, _ := opsGet(t, g, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz with redis down: %d; want 200 (the process is alive)", code)
	}
	c := early.For(g)
	if code := codeOf(t, c, "/app"); code != http.StatusServiceUnavailable {
		t.Errorf("request with a session cookie before redis is up: %d; want 503", code)
	}
	resp := signIn(t, g.NewClient(t), "alice", harness.TestPassword, "/")
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("sign-in before redis is up: %d; want 503", resp.StatusCode)
	}

	srv.Restart(t)
	pollOps(t, g, "/readyz", http.StatusOK, 10*time.Second)
	pollCode(t, c, "/app", http.StatusOK, 5*time.Second)
	fresh := g.NewClient(t)
	fresh.Login(t, "alice", harness.TestPassword)
	if code := codeOf(t, fresh, "/app"); code != http.StatusOK {
		t.Errorf("new session after redis came up: %d", code)
	}
}
