package totp

import (
	"strconv"
	"strings"
	"time"
)

// Issuer is the label authenticator apps show above the account: the host
// people reach the gateway at, without port, or "Sign-in gateway" when the
// host is not a plain name.
func Issuer(host string) string {
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		host = h
	}
	if host == "" || len(host) > 253 {
		return "Sign-in gateway"
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return "Sign-in gateway"
		}
	}
	return strings.ToLower(host)
}

// RetryAfter is the Retry-After header value for a wait: whole seconds,
// rounded up, at least 1.
func RetryAfter(wait time.Duration) string {
	return strconv.FormatInt(ceilSeconds(wait), 10)
}

// ThrottleMessage tells a person whose code attempts are paused when to try
// again, rounded up so nobody is told to come back too early.
func ThrottleMessage(wait time.Duration) string {
	return "Too many wrong codes. Try again in " + inWords(wait) + "."
}

func ceilSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

func inWords(d time.Duration) string {
	s := ceilSeconds(d)
	switch {
	case s == 1:
		return "1 second"
	case s < 60:
		return strconv.FormatInt(s, 10) + " seconds"
	case s < 120:
		return "1 minute"
	}
	return strconv.FormatInt((s+59)/60, 10) + " minutes"
}
