package redistest

import (
	"context"
	"testing"
	"time"
)

func TestParseClusterNodes(t *testing.T) {
	out := "a1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460\n" +
		"b2 127.0.0.1:30002@40002 master,fail - 0 0 2 connected 5461-10922 [5500->-a1]\n" +
		"c3 127.0.0.1:30003@40003 slave a1 0 0 1 connected\n"
	v := parseClusterNodes(out)
	if len(v) != 3 {
		t.Fatalf("parsed %d entries, want 3", len(v))
	}
	if !v[0].myself() || !v[0].master() || !v[0].serves(0) || !v[0].serves(5460) || v[0].serves(5461) {
		t.Errorf("entry 0 = %+v", v[0])
	}
	if v[1].master() || !v[1].serves(10922) {
		t.Errorf("a failed master counts as master: %+v", v[1])
	}
	if v[2].master() || v[2].masterID != "a1" {
		t.Errorf("entry 2 = %+v", v[2])
	}
}

// The cluster serves keys on every master, and a killed master's replica
// takes over its slots.
func TestClusterFailover(t *testing.T) {
	start := time.Now()
	c := StartCluster(t)
	t.Logf("cluster up in %v", time.Since(start))
	ctx := context.Background()
	cc := c.Client(t)
	for _, k := range []string{"a", "b", "c", "{user}x"} {
		if err := cc.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	slot := c.Slot(t, "a")
	master, replicas := c.MasterOf(t, slot)
	if len(replicas) != 1 {
		t.Fatalf("master %s has %d replicas, want 1", master.Addr, len(replicas))
	}
	killed := time.Now()
	master.Kill(t)
	promoted := c.WaitPromoted(t, replicas[0], 10*time.Second)
	t.Logf("replica promoted %v after the kill", promoted.Sub(killed))
	c.WaitHealthy(t, 10*time.Second)
	if m, _ := c.MasterOf(t, slot); m != replicas[0] {
		t.Fatalf("slot %d served by %v after failover, want %s", slot, m, replicas[0].Addr)
	}
}
