package gateway

import (
	"fmt"
	"net/netip"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
)

// BenchmarkRateLimitSession is the per-request cost of the session limiter
// for a session already tracked (the common case): one shard lock, one map
// lookup, one token bucket. Run with -benchmem: it must not allocate.
func BenchmarkRateLimitSession(b *testing.B) {
	s := newLimiterSet[string](limit(1_000_000, 1_000_000), 200_000)
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = fmt.Sprintf("session-%022d", i)
	}
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.allow(ids[i&1023], now)
		i++
	}
}

// BenchmarkRateLimitSessionParallel is the same under contention from all
// cores, each on its own sessions.
func BenchmarkRateLimitSessionParallel(b *testing.B) {
	s := newLimiterSet[string](limit(1_000_000, 1_000_000), 200_000)
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		g := next.Add(1)
		ids := make([]string, 1024)
		for i := range ids {
			ids[i] = fmt.Sprintf("session-%02d-%019d", g, i)
		}
		i := 0
		for pb.Next() {
			s.allow(ids[i&1023], time.Now())
			i++
		}
	})
}

// BenchmarkRateLimitIP is the cost for an anonymous client address.
func BenchmarkRateLimitIP(b *testing.B) {
	l := routeLimits{ip: newLimiterSet[netip.Addr](limit(1_000_000, 1_000_000), 200_000)}
	addrs := make([]netip.Addr, 1024)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})
	}
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l.allowIP(addrs[i&1023], now)
		i++
	}
}

// TestRateLimitMemory100kIPs reports the heap held by limiters for 100,000
// distinct client addresses (go test -run Memory100k -v ./gateway/). It
// states a measurement, it asserts nothing but that all were tracked.
func TestRateLimitMemory100kIPs(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	const n = 100_000
	for _, c := range []struct {
		name string
		run  func() (int, any)
	}{
		{"client addresses", func() (int, any) {
			s := newLimiterSet[netip.Addr](config.Limit{Rate: config.Rate{Events: 20, Per: time.Second}, Burst: 40}, 200_000)
			now := time.Now()
			for i := range n {
				s.allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), now)
			}
			return s.len(), s
		}},
		{"sessions", func() (int, any) {
			s := newLimiterSet[string](config.Limit{Rate: config.Rate{Events: 50, Per: time.Second}, Burst: 100}, 200_000)
			now := time.Now()
			for i := range n {
				s.allow("sid-"+strconv.Itoa(i)+"-0123456789abcdef", now) // session ids are ~22 chars
			}
			return s.len(), s
		}},
	} {
		before := limiterHeap()
		held, keep := c.run()
		after := limiterHeap()
		if held != n {
			t.Fatalf("%s: %d tracked, want %d", c.name, held, n)
		}
		perEntry := float64(after-before) / n
		t.Logf("%s: %d limiters hold %.1f MiB (%.0f bytes each)", c.name, n, float64(after-before)/(1<<20), perEntry)
		runtime.KeepAlive(keep)
	}
}

func limiterHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
