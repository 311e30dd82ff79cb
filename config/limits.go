package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// RateLimit configures the token buckets on proxied traffic: one per
// session for signed-in requests, and one per client address (IPv6: per
// /64) for anonymous requests to public paths. Limiters live in memory on
// each replica, never in Redis, so the hot path stays cheap.
type RateLimit struct {
	// PerSession is the sustained rate per session, e.g. "50/s"; "off"
	// turns the session limit off.
	PerSession Rate `yaml:"per_session"`
	// SessionBurst is how many requests a session may make at once.
	SessionBurst int `yaml:"session_burst"`
	// PerIP is the sustained rate per client address on public paths.
	PerIP Rate `yaml:"per_ip"`
	// IPBurst is how many anonymous requests a client may make at once.
	IPBurst int `yaml:"ip_burst"`
	// MaxTracked bounds how many sessions and how many client addresses
	// are tracked at once (each), which bounds memory: when full, the
	// least busy limiter is dropped (it restarts with a full bucket).
	MaxTracked int `yaml:"max_tracked"`
}

// RouteRateLimit overrides the global rate limits for one route; unset
// fields inherit the global values.
type RouteRateLimit struct {
	PerSession   Rate `yaml:"per_session,omitempty"`
	SessionBurst int  `yaml:"session_burst,omitempty"`
	PerIP        Rate `yaml:"per_ip,omitempty"`
	IPBurst      int  `yaml:"ip_burst,omitempty"`
}

// IsZero reports whether the route overrides nothing.
func (r RouteRateLimit) IsZero() bool { return r == RouteRateLimit{} }

// Throttle configures the brute-force limits on password and second-factor
// code attempts. Their counters live in Redis, shared by all replicas.
type Throttle struct {
	// PasswordAccount limits password attempts per account (or per
	// unknown username), on every path that checks a password.
	PasswordAccount ThrottlePolicy `yaml:"password_account"`
	// PasswordIP limits password attempts per client address; a right
	// password does not reset it.
	PasswordIP ThrottlePolicy `yaml:"password_ip"`
	// MFA limits second-factor code attempts per account.
	MFA ThrottlePolicy `yaml:"mfa"`
}

// ThrottlePolicy allows Free failures, then imposes delays of Base, 2×Base,
// 4×Base … up to Max before the next attempt. A counter is forgotten Forget
// after its last failure, so no lock is ever permanent.
type ThrottlePolicy struct {
	Free   int      `yaml:"free"`
	Base   Duration `yaml:"base"`
	Max    Duration `yaml:"max"`
	Forget Duration `yaml:"forget"`
}

// Rate is a number of requests per unit of time, written "50/s", "600/m",
// "1000/h" or just "50" (per second); "off" (or "0") turns a limit off.
// The zero Rate means "not set" (a route then inherits the global rate).
type Rate struct {
	// Events per Per; Events == 0 with Per > 0 means off.
	Events int
	Per    time.Duration
}

// IsZero reports whether the rate is unset (for YAML's omitempty).
func (r Rate) IsZero() bool { return !r.IsSet() }

// IsSet reports whether the rate was written at all.
func (r Rate) IsSet() bool { return r.Per > 0 }

// Off reports whether the rate was set to off.
func (r Rate) Off() bool { return r.Per > 0 && r.Events == 0 }

// PerSecond is the rate as events per second (0 when off or unset).
func (r Rate) PerSecond() float64 {
	if r.Per <= 0 {
		return 0
	}
	return float64(r.Events) / r.Per.Seconds()
}

// ParseRate parses the forms Rate accepts.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return Rate{Per: time.Second}, nil
	}
	num, unit, hasUnit := strings.Cut(s, "/")
	per := time.Second
	if hasUnit {
		switch strings.TrimSpace(unit) {
		case "s":
		case "m":
			per = time.Minute
		case "h":
			per = time.Hour
		default:
			return Rate{}, fmt.Errorf("%q is not a rate; write it like \"50/s\", \"600/m\" or \"1000/h\" (or \"off\")", s)
		}
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 0 {
		return Rate{}, fmt.Errorf("%q is not a rate; write it like \"50/s\", \"600/m\" or \"1000/h\" (or \"off\")", s)
	}
	return Rate{Events: n, Per: per}, nil
}

// String writes the rate the way ParseRate reads it ("" when unset).
func (r Rate) String() string {
	switch {
	case !r.IsSet():
		return ""
	case r.Off():
		return "off"
	case r.Per == time.Minute:
		return strconv.Itoa(r.Events) + "/m"
	case r.Per == time.Hour:
		return strconv.Itoa(r.Events) + "/h"
	}
	return strconv.Itoa(r.Events) + "/s"
}

// UnmarshalYAML implements yaml.Unmarshaler for a scalar such as 50/s.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a rate such as \"50/s\", not a list or map", n.Line)
	}
	v, err := ParseRate(n.Value)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalYAML implements yaml.Marshaler, writing the String form.
func (r Rate) MarshalYAML() (any, error) { return r.String(), nil }

// UnmarshalText implements encoding.TextUnmarshaler (environment variables).
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }
