package gateway

import (
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
)

func limit(perSec, burst int) config.Limit {
	return config.Limit{Rate: config.Rate{Events: perSec, Per: time.Second}, Burst: burst}
}

func TestLimiterBurstThenRefill(t *testing.T) {
	s := newLimiterSet[string](limit(10, 3), 1000)
	now := time.Unix(1_800_000_000, 0)
	for i := range 3 {
		if ok, _ := s.allow("sess", now); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := s.allow("sess", now)
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("4th request at once: ok=%v wait=%v, want refused with about 100ms to wait", ok, wait)
	}
	if ok, _ := s.allow("other", now); !ok {
		t.Fatal("another session was refused")
	}
	if ok, _ := s.allow("sess", now.Add(wait)); !ok {
		t.Fatal("refused after waiting the time it said")
	}
}

func TestLimiterOffIsNil(t *testing.T) {
	if s := newLimiterSet[string](config.Limit{Rate: config.Rate{Events: 0, Per: time.Second}, Burst: 5}, 1000); s != nil {
		t.Fatal("a limit set to off built a limiter set")
	}
	var l routeLimits
	if ok, _ := l.allowSession("x", time.Now()); !ok {
		t.Fatal("no limiter must allow")
	}
}

func TestLimiterSweepDropsOnlyRefilled(t *testing.T) {
	s := newLimiterSet[netip.Addr](limit(10, 5), 1000)
	now := time.Unix(1_800_000_000, 0)
	idle, busy := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	s.allow(idle, now)
	for range 5 {
		s.allow(busy, now)
	}
	// 150ms later idle has refilled (it used 1 of 5, 1 token per 100ms);
	// busy has 1.5 of 5 tokens and must keep its state.
	if left := s.sweep(now.Add(150 * time.Millisecond)); left != 1 {
		t.Fatalf("after sweep %d limiters left, want 1", left)
	}
	if ok, _ := s.allow(busy, now.Add(150*time.Millisecond)); !ok {
		t.Fatal("busy client lost its refilled token")
	}
	if ok, _ := s.allow(busy, now.Add(150*time.Millisecond)); ok {
		t.Fatal("sweep reset a busy client's bucket")
	}
}

func TestLimiterBoundedSize(t *testing.T) {
	const maxTracked = 64 * 4 // 4 per shard
	s := newLimiterSet[netip.Addr](limit(1, 2), maxTracked)
	now := time.Unix(1_800_000_000, 0)
	base := netip.MustParseAddr("10.0.0.0").As4()
	for i := range 10_000 {
		b := base
		b[2], b[3] = byte(i>>8), byte(i)
		s.allow(netip.AddrFrom4(b), now)
	}
	if n := s.len(); n > maxTracked {
		t.Fatalf("%d limiters held, bound is %d", n, maxTracked)
	}
}

func TestLimiterIPv6Per64(t *testing.T) {
	l := routeLimits{ip: newLimiterSet[netip.Addr](limit(1, 2), 1000)}
	now := time.Unix(1_800_000_000, 0)
	l.allowIP(netip.MustParseAddr("2001:db8:1:2::1"), now)
	l.allowIP(netip.MustParseAddr("2001:db8:1:2::2"), now)
	if ok, _ := l.allowIP(netip.MustParseAddr("2001:db8:1:2:ffff::9"), now); ok {
		t.Fatal("rotating addresses inside one /64 escaped the limit")
	}
	if ok, _ := l.allowIP(netip.MustParseAddr("2001:db8:1:3::1"), now); !ok {
		t.Fatal("another /64 was limited")
	}
}

func TestRouteOverrides(t *testing.T) {
	cfg := config.Defaults()
	cfg.Secret, cfg.Upstream = "0123456789abcdef0123456789abcdef", "http://127.0.0.1:1"
	cfg.Routes = []config.Route{
		{PathPrefix: "/api/", Upstream: "http://127.0.0.1:2", RateLimit: config.RouteRateLimit{PerSession: config.Rate{Events: 1, Per: time.Second}, SessionBurst: 1}},
		{PathPrefix: "/", Upstream: "http://127.0.0.1:3"},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	pick := func(host, cleaned string) *url.URL {
		if len(cleaned) >= 5 && cleaned[:5] == "/api/" {
			return cfg.Routes[0].UpstreamURL
		}
		return cfg.Routes[1].UpstreamURL
	}
	rl := newRateLimiter(&cfg, pick)
	now := time.Unix(1_800_000_000, 0)
	api := rl.limitsFor("h", "/api/x")
	if ok, _ := api.allowSession("s", now); !ok {
		t.Fatal("first api request refused")
	}
	if ok, _ := api.allowSession("s", now); ok {
		t.Fatal("api route burst of 1 not applied")
	}
	if ok, _ := rl.limitsFor("h", "/page").allowSession("s", now); !ok {
		t.Fatal("the api route's bucket leaked into the default route")
	}
	if api.ip != rl.global.ip {
		t.Fatal("a route that does not override the client limit must share the global buckets")
	}
	if got := len(rl.sets()); got != 3 {
		t.Fatalf("sets to sweep = %d, want 3 (global session, global ip, api session)", got)
	}
}
