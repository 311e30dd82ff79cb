package config

import (
	"fmt"
	"time"
)

// Bounds on the limit settings.
const (
	// MaxRateEvents is the highest number of requests a rate may name.
	MaxRateEvents = 1_000_000
	// MaxBurst is the highest accepted burst.
	MaxBurst = 1_000_000
	// MinMaxTracked and MaxMaxTracked bound rate_limit.max_tracked.
	MinMaxTracked = 1_000
	MaxMaxTracked = 10_000_000
	// MaxThrottleFree is the most free failures a throttle may allow.
	MaxThrottleFree = 1_000
	// MinThrottleBase is the shortest first delay (tests use a few
	// hundred milliseconds; production wants a second or more).
	MinThrottleBase = 10 * time.Millisecond
	// MaxThrottleMax is the longest delay a throttle may impose.
	MaxThrottleMax = 24 * time.Hour
	// MaxThrottleForget is the longest a counter may be remembered.
	MaxThrottleForget = 30 * 24 * time.Hour
)

// validateRateLimit checks rate_limit and the rate_limit of each route.
func (c *Config) validateRateLimit() error {
	rl := c.RateLimit
	if err := checkRate("rate_limit.per_session", rl.PerSession, true); err != nil {
		return err
	}
	if err := checkRate("rate_limit.per_ip", rl.PerIP, true); err != nil {
		return err
	}
	if err := checkBurst("rate_limit.session_burst", rl.SessionBurst, !rl.PerSession.Off()); err != nil {
		return err
	}
	if err := checkBurst("rate_limit.ip_burst", rl.IPBurst, !rl.PerIP.Off()); err != nil {
		return err
	}
	if n := rl.MaxTracked; n < MinMaxTracked || n > MaxMaxTracked {
		return keyErr("rate_limit.max_tracked", "is %d; must be between %d and %d (each tracked client costs a few hundred bytes)", n, MinMaxTracked, MaxMaxTracked)
	}
	for i, rt := range c.Routes {
		o := rt.RateLimit
		key := fmt.Sprintf("routes[%d].rate_limit", i)
		if err := checkRate(key+".per_session", o.PerSession, false); err != nil {
			return err
		}
		if err := checkRate(key+".per_ip", o.PerIP, false); err != nil {
			return err
		}
		sess, ip := c.RouteLimits(i)
		if err := checkBurst(key+".session_burst", sess.Burst, !sess.Rate.Off()); err != nil {
			return err
		}
		if err := checkBurst(key+".ip_burst", ip.Burst, !ip.Rate.Off()); err != nil {
			return err
		}
	}
	return nil
}

func checkRate(key string, r Rate, required bool) error {
	switch {
	case !r.IsSet() && required:
		return keyErr(key, "is not set; write a rate like \"50/s\", \"600/m\", or \"off\"")
	case r.Events < 0 || r.Events > MaxRateEvents:
		return keyErr(key, "is %s; the number must be between 0 and %d", r, MaxRateEvents)
	}
	return nil
}

func checkBurst(key string, burst int, on bool) error {
	switch {
	case burst < 0 || burst > MaxBurst:
		return keyErr(key, "is %d; must be between 1 and %d", burst, MaxBurst)
	case on && burst == 0:
		return keyErr(key, "is 0, so no request would ever pass; set at least 1 (about twice the per-second rate is a good start)")
	}
	return nil
}

// Limit is one effective token-bucket setting.
type Limit struct {
	Rate  Rate
	Burst int
}

// On reports whether the limit applies at all.
func (l Limit) On() bool { return l.Rate.IsSet() && !l.Rate.Off() }

// RouteLimits returns the effective session and client-address limits of
// route i: its own values where set, the global ones otherwise.
func (c *Config) RouteLimits(i int) (session, ip Limit) {
	g, o := c.RateLimit, c.Routes[i].RateLimit
	session = Limit{Rate: g.PerSession, Burst: g.SessionBurst}
	ip = Limit{Rate: g.PerIP, Burst: g.IPBurst}
	if o.PerSession.IsSet() {
		session.Rate = o.PerSession
	}
	if o.SessionBurst != 0 {
		session.Burst = o.SessionBurst
	}
	if o.PerIP.IsSet() {
		ip.Rate = o.PerIP
	}
	if o.IPBurst != 0 {
		ip.Burst = o.IPBurst
	}
	return session, ip
}

// validateThrottle checks the brute-force policies.
func (c *Config) validateThrottle() error {
	for _, p := range []struct {
		key string
		p   ThrottlePolicy
	}{
		{"throttle.password_account", c.Throttle.PasswordAccount},
		{"throttle.password_ip", c.Throttle.PasswordIP},
		{"throttle.mfa", c.Throttle.MFA},
	} {
		if err := p.p.check(p.key); err != nil {
			return err
		}
	}
	return nil
}

func (p ThrottlePolicy) check(key string) error {
	switch {
	case p.Free < 0 || p.Free > MaxThrottleFree:
		return keyErr(key+".free", "is %d; must be between 0 and %d", p.Free, MaxThrottleFree)
	case p.Base.Duration < MinThrottleBase:
		return keyErr(key+".base", "is %s; must be at least %s (e.g. \"1s\")", p.Base, Duration{MinThrottleBase})
	case p.Max.Duration < p.Base.Duration || p.Max.Duration > MaxThrottleMax:
		return keyErr(key+".max", "is %s; must be between %s.base (%s) and %s (e.g. \"15m\")", p.Max, key, p.Base, Duration{MaxThrottleMax})
	case p.Forget.Duration <= p.Max.Duration || p.Forget.Duration > MaxThrottleForget:
		return keyErr(key+".forget", "is %s; must be longer than %s.max (%s), or a counter would be forgotten the moment its delay ends, and at most %s (e.g. \"24h\")", p.Forget, key, p.Max, Duration{MaxThrottleForget})
	}
	return nil
}
