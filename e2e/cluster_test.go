package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/redistest"
)

// hotPathKey is a key of the one slot every request path needs (store
// generation, revocation list, feed).
const hotPathKey = "gw:{g}:feed"

// sample is one answer seen by a probe.
type sample struct {
	at   time.Time // when the request started
	code int       // 0: no answer (transport error)
	took time.Duration
}

// probe sends GET path with one client every 25 ms and keeps every answer,
// the way a person clicking through an app would notice an outage.
type probe struct {
	name string
	mu   sync.Mutex
	seen []sample
}

func startProbe(ctx context.Context, wg *sync.WaitGroup, name string, c *harness.Client, url string) *probe {
	p := &probe{name: name}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			s := sample{at: time.Now()}
			if resp, err := c.Client.Get(url); err == nil {
				resp.Body.Close()
				s.code = resp.StatusCode
			}
			s.took = time.Since(s.at)
			p.mu.Lock()
			p.seen = append(p.seen, s)
			p.mu.Unlock()
			time.Sleep(25 * time.Millisecond)
		}
	}()
	return p
}

// outcome sums up a probe's answers to requests started after from.
type outcome struct {
	failed  int           // answers other than 200
	slowest time.Duration // the longest wait for an answer
	odd     []int         // statuses other than 200 and 503
	// firstFail is when the first failed answer arrived (zero: none).
	firstFail time.Time
	// recovered is when requests succeeded again for good: the arrival of
	// the first 200 after the last failure (from itself when none failed,
	// zero when none succeeded since).
	recovered time.Time
}

func (p *probe) outage(from time.Time) outcome {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := outcome{recovered: from}
	lastFail := -1
	for i, s := range p.seen {
		if s.at.Before(from) {
			continue
		}
		o.slowest = max(o.slowest, s.took)
		if s.code != http.StatusOK {
			o.failed++
			lastFail = i
			if o.firstFail.IsZero() {
				o.firstFail = s.at.Add(s.took)
			}
			if s.code != http.StatusServiceUnavailable {
				o.odd = append(o.odd, s.code)
			}
		}
	}
	if lastFail >= 0 {
		o.recovered = time.Time{}
		if lastFail+1 < len(p.seen) {
			next := p.seen[lastFail+1]
			o.recovered = next.at.Add(next.took)
		}
	}
	return o
}

// window is how long requests failed: from the first failed answer to the
// first good one after the last failure.
func (o outcome) window() time.Duration {
	if o.firstFail.IsZero() {
		return 0
	}
	return o.recovered.Sub(o.firstFail)
}

// healthySince reports whether every answer to a request started in the
// last d was a 200, and there was at least one.
func (p *probe) healthySince(d time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for i := len(p.seen) - 1; i >= 0 && time.Since(p.seen[i].at) < d; i-- {
		if p.seen[i].code != http.StatusOK {
			return false
		}
		n++
	}
	return n > 0
}

// replicaRig is two gateway replicas on one Redis topology, whose probes
// have a signed-in person request each replica on a proxied path (served
// from the replica's revocation mirror) and on the account API (which reads
// the person's own records in Redis).
type replicaRig struct {
	a, b *harness.Gateway
}

func startReplicaRig(t *testing.T, redisURL string) replicaRig {
	t.Helper()
	secret := rand.Text() + rand.Text()
	return replicaRig{
		a: harness.Start(t, harness.Options{RedisURL: redisURL, Secret: secret}),
		b: harness.Start(t, harness.Options{RedisURL: redisURL, Secret: secret}),
	}
}

// clusterRig is a replicaRig on a real Redis Cluster.
type clusterRig struct {
	replicaRig
	cluster *redistest.Cluster
}

func startClusterRig(t *testing.T) *clusterRig {
	t.Helper()
	c := redistest.StartCluster(t)
	return &clusterRig{replicaRig: startReplicaRig(t, c.URL()), cluster: c}
}

// userOnOtherMaster creates users until one's records live on a master
// other than avoid that has a replica, and returns its name and that master.
func (r *clusterRig) userOnOtherMaster(t *testing.T, avoid *redistest.ClusterNode) (string, *redistest.ClusterNode, *redistest.ClusterNode) {
	t.Helper()
	for i := range 20 {
		name := fmt.Sprintf("bob%d", i)
		u := r.a.CreateUser(t, name)
		m, replicas := r.cluster.MasterOf(t, r.cluster.Slot(t, "gw:user:{"+u.ID+"}"))
		if m != avoid && len(replicas) > 0 {
			return name, m, replicas[0]
		}
	}
	t.Fatal("no user landed on another master in 20 tries")
	return "", nil, nil
}

// probes signs name in on replica A and probes both replicas with the same
// cookie, on the proxied path and on the account API.
func (r replicaRig) probes(t *testing.T, ctx context.Context, wg *sync.WaitGroup, name string) []*probe {
	t.Helper()
	onA := r.a.NewClient(t)
	onA.Login(t, name, harness.TestPassword)
	onB := onA.For(r.b)
	var ps []*probe
	for _, x := range []struct {
		replica string
		c       *harness.Client
		g       *harness.Gateway
	}{{"A", onA, r.a}, {"B", onB, r.b}} {
		for _, path := range []string{"/app", "/.gateway/api/v1/me/sessions"} {
			if code := codeOf(t, x.c, path); code != http.StatusOK {
				t.Fatalf("replica %s %s before the failure: %d", x.replica, path, code)
			}
			ps = append(ps, startProbe(ctx, wg, x.replica+" "+path, x.c, x.g.URL+path))
		}
	}
	return ps
}

// waitRecovered waits until every probe has answered 200 for a second,
// failing after until.
func waitRecovered(t *testing.T, ps []*probe, until time.Time) {
	t.Helper()
	for {
		ok := true
		for _, p := range ps {
			ok = ok && p.healthySince(time.Second)
		}
		if ok {
			return
		}
		if time.Now().After(until) {
			for _, p := range ps {
				if !p.healthySince(time.Second) {
					t.Errorf("%s: still failing", p.name)
				}
			}
			t.FailNow()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// revocationEnforced signs a fresh person in after the recovery (no user
// lost, sign-in works), signs them out on A, and checks both replicas
// refuse the cookie.
func (r replicaRig) revocationEnforced(t *testing.T, name string) {
	t.Helper()
	onA := r.a.NewClient(t)
	onA.Login(t, name, harness.TestPassword)
	onB := onA.For(r.b)
	if code := status(t, onB, "/app"); code != http.StatusOK {
		t.Fatalf("after recovery, the cookie from A on B: %d", code)
	}
	resp := onA.PostForm(t, "/.gateway/logout", nil)
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("sign-out after recovery: %d", resp.StatusCode)
	}
	stale := onB.For(r.a) // the cookie as it was, before A cleared it
	if code := status(t, stale, "/app"); code != http.StatusUnauthorized {
		t.Errorf("A after its own sign-out: %d, want 401", code)
	}
	refusedWithin(t, onB, 2*time.Second, "sign-out on A after recovery")
}

// killAndMeasure kills master, times the promotion of its replica, and
// checks that every probe succeeds again within 5 s of it.
func (r *clusterRig) killAndMeasure(t *testing.T, what string, master, replica *redistest.ClusterNode, ps []*probe) {
	t.Helper()
	// Writes made moments before (the store generation at start-up, the
	// sessions of the set-up) reach the replica first: this measures the
	// failover; losing unreplicated writes is the durability tests' case.
	master.WaitReplicated(t, 5*time.Second)
	killed := time.Now()
	master.Kill(t)
	promoted := r.cluster.WaitPromoted(t, replica, 15*time.Second)
	r.measureRecovery(t, what, killed, promoted, ps)
	r.cluster.WaitHealthy(t, 10*time.Second)
}

// measureRecovery waits until every probe succeeds again, checks it did so
// within 5 s of the promotion, with only 503s meanwhile and no slow answer,
// and logs the figures; then both replicas must be ready again.
func (r replicaRig) measureRecovery(t *testing.T, what string, killed, promoted time.Time, ps []*probe) {
	t.Helper()
	waitRecovered(t, ps, promoted.Add(8*time.Second))
	t.Logf("%s: replica promoted %v after the kill", what, promoted.Sub(killed).Round(time.Millisecond))
	for _, p := range ps {
		o := p.outage(killed)
		if len(o.odd) > 0 {
			t.Errorf("%s, %s: answers other than 200 and 503: %v", what, p.name, o.odd)
		}
		if o.slowest > slowAnswer {
			t.Errorf("%s, %s: slowest answer %v", what, p.name, o.slowest)
		}
		if o.recovered.IsZero() || o.recovered.Sub(promoted) > 5*time.Second {
			t.Errorf("%s, %s: requests succeed again %v after the promotion, want ≤ 5 s", what, p.name, o.recovered.Sub(promoted))
		}
		t.Logf("%s, %s: %d answers 503 over %v; succeeding again %v after the kill, %v after the promotion; slowest answer %v",
			what, p.name, o.failed, o.window().Round(time.Millisecond), o.recovered.Sub(killed).Round(time.Millisecond),
			o.recovered.Sub(promoted).Round(time.Millisecond), o.slowest.Round(time.Millisecond))
	}
	for _, g := range []*harness.Gateway{r.a, r.b} {
		pollOps(t, g, "/readyz", http.StatusOK, time.Until(promoted.Add(5*time.Second)))
	}
}

// hangAndMeasure hangs the master holding the slot every request needs
// (pause) for 4.5 s, past the mirror's 3 s bound, while nothing can take its
// place: every answer, /readyz's included, must come fast and be a 200 or a
// 503; after resume everything succeeds again.
func (r replicaRig) hangAndMeasure(t *testing.T, what string, pause, resume func(), ps []*probe) {
	t.Helper()
	pause()
	paused := time.Now()
	// Past the mirror's 3 s staleness bound, so that the proxied path
	// answers 503 too.
	var readyzSlowest time.Duration
	for time.Since(paused) < 4500*time.Millisecond {
		for _, g := range []*harness.Gateway{r.a, r.b} {
			code, body, took := readyz(t, g)
			readyzSlowest = max(readyzSlowest, took)
			if took > slowAnswer || (code != http.StatusOK && code != http.StatusServiceUnavailable) {
				t.Errorf("/readyz while the master hangs: %d %+v after %v", code, body, took)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, g := range []*harness.Gateway{r.a, r.b} {
		if code, body, _ := readyz(t, g); code != http.StatusServiceUnavailable || body.Redis == "ok" {
			t.Errorf("/readyz 4.5 s into the hang: %d %+v", code, body)
		}
	}
	for _, p := range ps {
		o := p.outage(paused)
		if o.failed == 0 || len(o.odd) > 0 || o.slowest > slowAnswer {
			t.Errorf("%s while the master hangs: %d failed (other than 503: %v), slowest %v", p.name, o.failed, o.odd, o.slowest)
		}
		t.Logf("%s, %s: %d answers 503, the first %v after SIGSTOP; slowest answer %v",
			what, p.name, o.failed, o.firstFail.Sub(paused).Round(time.Millisecond), o.slowest.Round(time.Millisecond))
	}
	t.Logf("%s: /readyz slowest %v", what, readyzSlowest.Round(time.Millisecond))
	resume()
	resumed := time.Now()
	waitRecovered(t, ps, resumed.Add(10*time.Second))
	for _, p := range ps {
		o := p.outage(paused)
		t.Logf("%s, %s: succeeding again %v after SIGCONT", what, p.name, o.recovered.Sub(resumed).Round(time.Millisecond))
	}
}

// A Redis Cluster master dies (SIGKILL) — first the one holding the slot
// every request needs, then one holding a person's own records — and then
// a master hangs (SIGSTOP): both gateway replicas recover by themselves
// within 5 s of the promotion (not go-redis' 60 s topology timer), a hung
// master costs each request well under the old 5 s, and a sign-out made
// after recovery is enforced on both replicas.
func TestClusterMasterFailures(t *testing.T) {
	t.Parallel() // waits on failovers; let other tests run meanwhile
	started := time.Now()
	r := startClusterRig(t)
	r.a.CreateUser(t, "alice")
	r.a.CreateUser(t, "carol")
	r.a.CreateUser(t, "dave")

	// Each step starts from the cluster the previous one left.
	ok := t.Run("kill the hot-path master", func(t *testing.T) {
		master, replicas := r.cluster.MasterOf(t, r.cluster.Slot(t, hotPathKey))
		if len(replicas) != 1 {
			t.Fatalf("the hot-path master has %d replicas, want 1", len(replicas))
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		ps := r.probes(t, ctx, &wg, "alice")
		r.killAndMeasure(t, "hot-path master killed", master, replicas[0], ps)
		cancel()
		wg.Wait()
		r.revocationEnforced(t, "carol")
	})

	ok = ok && t.Run("kill a user's master", func(t *testing.T) {
		hot, _ := r.cluster.MasterOf(t, r.cluster.Slot(t, hotPathKey))
		name, master, replica := r.userOnOtherMaster(t, hot)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		ps := r.probes(t, ctx, &wg, name)
		r.killAndMeasure(t, "user's master killed", master, replica, ps)
		cancel()
		wg.Wait()
		r.revocationEnforced(t, name)
	})

	_ = ok && t.Run("hang the hot-path master", func(t *testing.T) {
		// The hot-path master is now the replica promoted above, which has
		// no replica of its own: nothing takes over, the cluster is down
		// until it continues.
		master, _ := r.cluster.MasterOf(t, r.cluster.Slot(t, hotPathKey))
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		ps := r.probes(t, ctx, &wg, "alice")
		r.hangAndMeasure(t, "hot-path master hung", func() { master.Pause(t) }, func() { master.Resume(t) }, ps)
		cancel()
		wg.Wait()
		r.revocationEnforced(t, "dave")
	})
	t.Logf("cluster test took %v", time.Since(started).Round(time.Millisecond))
	if t.Failed() {
		// The gateways' own view helps when a figure is off.
		for _, g := range []*harness.Gateway{r.a, r.b} {
			_, m := opsGet(t, g, "/metrics")
			for _, line := range strings.Split(m, "\n") {
				if strings.HasPrefix(line, "gateway_mirror_") {
					t.Log(line)
				}
			}
		}
	}
}
