package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/harness"
)

// A hung Redis (SIGSTOP: connections accepted, nothing answered): requests
// are served from the mirror within its staleness bound, then answer 503
// quickly, each well within a second or so, never after go-redis' read
// timeout and retries; /readyz answers within its own limit with the
// detail; everything recovers without a restart once Redis continues.
func TestHungRedisFailsFastAndRecovers(t *testing.T) {
	t.Parallel() // waits on the staleness bound; let other tests run meanwhile
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	if code := codeOf(t, c, "/app"); code != http.StatusOK {
		t.Fatalf("before the hang: %d", code)
	}

	g.Redis.Pause(t)
	paused := time.Now()
	var slowest time.Duration
	for {
		code, took := timedCode(t, c, "/app")
		slowest = max(slowest, took)
		if took > slowAnswer {
			t.Errorf("a request took %v while redis hangs", took)
		}
		if code == http.StatusServiceUnavailable {
			break
		}
		if code != http.StatusOK {
			t.Fatalf("while redis hangs: %d, want 200 (mirror) then 503", code)
		}
		if time.Since(paused) > 10*time.Second {
			t.Fatal("no 503 within 10 s of the hang")
		}
		time.Sleep(50 * time.Millisecond)
	}
	first503 := time.Since(paused)
	for range 3 {
		code, took := timedCode(t, c, "/app")
		slowest = max(slowest, took)
		if code != http.StatusServiceUnavailable || took > slowAnswer {
			t.Errorf("while redis hangs: %d after %v, want 503 fast", code, took)
		}
	}
	code, r, took := readyz(t, g)
	if code != http.StatusServiceUnavailable || r.Ready || r.Redis != "timeout" || r.Mirror.State != "redis_down" || r.Mirror.Lag != nil {
		t.Errorf("/readyz while redis hangs: %d %+v", code, r)
	}
	if took > slowAnswer {
		t.Errorf("/readyz took %v while redis hangs", took)
	}
	_, m := opsGet(t, g, "/metrics")
	if v := metricValue(t, m, `gateway_mirror_state{state="redis_down"}`); v != 1 {
		t.Errorf("state metric redis_down = %v, want 1", v)
	}
	if v := metricValue(t, m, `gateway_mirror_direct_checks_total`); v < 1 {
		t.Errorf("direct checks = %v, want ≥ 1", v)
	}
	t.Logf("hung redis: first 503 %v after the hang (staleness bound 3 s), slowest answer %v, /readyz in %v", first503.Round(time.Millisecond), slowest.Round(time.Millisecond), took.Round(time.Millisecond))

	g.Redis.Resume(t)
	resumed := time.Now()
	pollCode(t, c, "/app", http.StatusOK, 10*time.Second)
	t.Logf("hung redis: requests succeed %v after SIGCONT", time.Since(resumed).Round(time.Millisecond))
	pollOps(t, g, "/readyz", http.StatusOK, 5*time.Second)
	if code, r, _ := readyz(t, g); code != http.StatusOK || r.Redis != "ok" || r.Mirror.State != "following" || r.Mirror.Lag == nil || *r.Mirror.Lag != 0 {
		t.Errorf("/readyz after the hang: %d %+v", code, r)
	}
	_, m = opsGet(t, g, "/metrics")
	if v := metricValue(t, m, `gateway_mirror_reloads_total`); v < 1 {
		t.Errorf("reloads = %v after the follower reconnected, want ≥ 1", v)
	}
	if v := metricValue(t, m, `gateway_mirror_state{state="following"}`); v != 1 {
		t.Errorf("state metric following = %v after the hang, want 1", v)
	}
}
