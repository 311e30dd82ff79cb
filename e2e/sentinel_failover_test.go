package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

// A Sentinel-managed master dies (SIGKILL): both gateway replicas follow the
// promotion by themselves, within 5 s of it; then the new master, which has
// no replica left to take over, hangs (SIGSTOP): every answer comes fast,
// and everything succeeds again once it continues. A sign-out made after
// each recovery is enforced on both replicas.
func TestSentinelMasterFailures(t *testing.T) {
	t.Parallel() // waits on a failover; let other tests run meanwhile
	started := time.Now()
	set := redistest.StartSentinel(t)
	r := startReplicaRig(t, set.URL())
	for _, name := range []string{"alice", "carol", "dave"} {
		r.a.CreateUser(t, name)
	}

	ok := t.Run("kill the master", func(t *testing.T) {
		master := set.Master(t)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		ps := r.probes(t, ctx, &wg, "alice")
		// The users and the store generation made moments ago reach the
		// replica first: this measures the failover, not lost writes.
		master.WaitReplicated(t, 5*time.Second)
		killed := time.Now()
		master.Kill()
		set.WaitPromoted(t, master, 15*time.Second)
		promoted := time.Now()
		r.measureRecovery(t, "sentinel master killed", killed, promoted, ps)
		cancel()
		wg.Wait()
		r.revocationEnforced(t, "carol")
	})
	_ = ok && t.Run("hang the master", func(t *testing.T) {
		master := set.Master(t)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		ps := r.probes(t, ctx, &wg, "alice")
		r.hangAndMeasure(t, "sentinel master hung", master.Pause, master.Resume, ps)
		cancel()
		wg.Wait()
		r.revocationEnforced(t, "dave")
	})
	t.Logf("sentinel test took %v", time.Since(started).Round(time.Millisecond))
}
