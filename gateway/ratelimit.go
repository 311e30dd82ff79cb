package gateway

import (
	"context"
	"hash/maphash"
	"math"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/authgate/gateway/config"
)

// limiterShards splits each limiter set so that concurrent requests for
// different clients rarely wait on the same lock.
const limiterShards = 64

// sweepEvery is how often idle limiters are dropped.
const sweepEvery = 30 * time.Second

// sampleSize is how many limiters a full shard looks at to find one to drop.
const sampleSize = 16

// limiterSet keeps one token bucket (golang.org/x/time/rate) per key: a
// session id or a client address. Memory is bounded twice: a limiter whose
// bucket has refilled completely is dropped by sweep, which loses nothing
// since a new limiter starts full too; and each shard holds at most
// maxPerShard limiters, a full shard dropping the least busy of a small
// sample to make room.
type limiterSet[K comparable] struct {
	limit       rate.Limit
	burst       int
	maxPerShard int
	seed        maphash.Seed
	shards      [limiterShards]limiterShard[K]
}

type limiterShard[K comparable] struct {
	mu sync.Mutex
	m  map[K]*rate.Limiter
	_  [48]byte // keep shards on separate cache lines
}

func newLimiterSet[K comparable](l config.Limit, maxTracked int) *limiterSet[K] {
	if !l.On() {
		return nil
	}
	s := &limiterSet[K]{
		limit: rate.Limit(l.Rate.PerSecond()), burst: l.Burst,
		maxPerShard: max(1, maxTracked/limiterShards), seed: maphash.MakeSeed(),
	}
	for i := range s.shards {
		s.shards[i].m = make(map[K]*rate.Limiter)
	}
	return s
}

// allow takes one token for k. When refused it returns how long until a
// token is there. An existing limiter costs no allocation.
func (s *limiterSet[K]) allow(k K, now time.Time) (bool, time.Duration) {
	sh := &s.shards[maphash.Comparable(s.seed, k)%limiterShards]
	sh.mu.Lock()
	lim := sh.m[k]
	if lim == nil {
		if len(sh.m) >= s.maxPerShard {
			sh.makeRoom(now, s.burst)
		}
		lim = rate.NewLimiter(s.limit, s.burst)
		sh.m[k] = lim
	}
	sh.mu.Unlock()
	// The limiter has its own lock; the shard lock is not held while it
	// is used, and a limiter dropped meanwhile is harmless to finish with.
	if lim.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - lim.TokensAt(now)
	return false, time.Duration(math.Ceil(missing / float64(s.limit) * float64(time.Second)))
}

// makeRoom drops limiters from a full shard: those of a small random
// sample (map iteration starts at random) whose bucket is full, or else the
// one with the most tokens, i.e. the least busy. Called with sh.mu held.
func (sh *limiterShard[K]) makeRoom(now time.Time, burst int) {
	var victim K
	best, seen, dropped := math.Inf(-1), 0, false
	for k, lim := range sh.m {
		t := lim.TokensAt(now)
		if t >= float64(burst) {
			delete(sh.m, k)
			dropped = true
		} else if t > best {
			victim, best = k, t
		}
		if seen++; seen >= sampleSize {
			break
		}
	}
	if !dropped && seen > 0 {
		delete(sh.m, victim)
	}
}

// sweep drops every limiter whose bucket has refilled; it returns how many
// limiters remain.
func (s *limiterSet[K]) sweep(now time.Time) int {
	left := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, lim := range sh.m {
			if lim.TokensAt(now) >= float64(s.burst) {
				delete(sh.m, k)
			}
		}
		left += len(sh.m)
		sh.mu.Unlock()
	}
	return left
}

// len counts the limiters held.
func (s *limiterSet[K]) len() int {
	n := 0
	for i := range s.shards {
		s.shards[i].mu.Lock()
		n += len(s.shards[i].m)
		s.shards[i].mu.Unlock()
	}
	return n
}

// routeLimits are the sets that apply to one route (nil: limit off).
type routeLimits struct {
	session *limiterSet[string]
	ip      *limiterSet[netip.Addr]
}

// rateLimiter holds the global limiter sets and those of routes that
// override them, keyed by the route's upstream (as proxy.pick returns it).
type rateLimiter struct {
	global routeLimits
	routes map[*url.URL]routeLimits
	pick   func(host, cleaned string) *url.URL
}

func newRateLimiter(cfg *config.Config, pick func(host, cleaned string) *url.URL) *rateLimiter {
	g := config.Limit{Rate: cfg.RateLimit.PerSession, Burst: cfg.RateLimit.SessionBurst}
	gi := config.Limit{Rate: cfg.RateLimit.PerIP, Burst: cfg.RateLimit.IPBurst}
	rl := &rateLimiter{pick: pick, global: routeLimits{
		session: newLimiterSet[string](g, cfg.RateLimit.MaxTracked),
		ip:      newLimiterSet[netip.Addr](gi, cfg.RateLimit.MaxTracked),
	}}
	for i, rt := range cfg.Routes {
		if rt.RateLimit.IsZero() || rt.UpstreamURL == nil {
			continue
		}
		sess, ip := cfg.RouteLimits(i)
		l := rl.global
		// A route whose effective limit equals the global one shares the
		// global buckets: one budget per session across such routes.
		if sess != g {
			l.session = newLimiterSet[string](sess, cfg.RateLimit.MaxTracked)
		}
		if ip != gi {
			l.ip = newLimiterSet[netip.Addr](ip, cfg.RateLimit.MaxTracked)
		}
		if rl.routes == nil {
			rl.routes = map[*url.URL]routeLimits{}
		}
		rl.routes[rt.UpstreamURL] = l
	}
	return rl
}

// limitsFor returns the sets for a request to host and cleaned path.
func (rl *rateLimiter) limitsFor(host, cleaned string) routeLimits {
	if rl.routes != nil {
		if l, ok := rl.routes[rl.pick(host, cleaned)]; ok {
			return l
		}
	}
	return rl.global
}

// allowSession takes a token from the session's bucket.
func (l routeLimits) allowSession(sid string, now time.Time) (bool, time.Duration) {
	if l.session == nil {
		return true, 0
	}
	return l.session.allow(sid, now)
}

// allowIP takes a token from the client's bucket; IPv6 clients are counted
// per /64, since one subscriber usually holds a whole /64.
func (l routeLimits) allowIP(ip netip.Addr, now time.Time) (bool, time.Duration) {
	if l.ip == nil {
		return true, 0
	}
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			ip = p.Addr()
		}
	}
	return l.ip.allow(ip, now)
}

// sets lists every distinct limiter set, for sweeping.
func (rl *rateLimiter) sets() []interface{ sweep(time.Time) int } {
	var out []interface{ sweep(time.Time) int }
	seen := map[any]bool{}
	add := func(l routeLimits) {
		if l.session != nil && !seen[l.session] {
			seen[l.session] = true
			out = append(out, l.session)
		}
		if l.ip != nil && !seen[l.ip] {
			seen[l.ip] = true
			out = append(out, l.ip)
		}
	}
	add(rl.global)
	for _, l := range rl.routes {
		add(l)
	}
	return out
}

// run sweeps idle limiters until ctx ends.
func (rl *rateLimiter) run(ctx context.Context) {
	sets := rl.sets()
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, s := range sets {
				s.sweep(now)
			}
		}
	}
}
