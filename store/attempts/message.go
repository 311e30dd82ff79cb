package attempts

import (
	"net/netip"
	"strconv"
	"time"
)

// ClientKey is the client part of a per-address counter: the address itself
// for IPv4, the /64 network for IPv6 (one subscriber usually holds a whole
// /64, so counting single IPv6 addresses would let them rotate freely).
// Anything that is not an address is used as it is.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		if p, err := a.WithZone("").Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}

// RetryAfter is the value of the Retry-After header for a wait: whole
// seconds, at least 1.
func RetryAfter(wait time.Duration) string {
	s := int64((wait + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// In says a wait in words, rounded up so nobody is told to come back too
// early: "1 second", "45 seconds", "2 minutes", "1 hour".
func In(wait time.Duration) string {
	secs := int64((wait + time.Second - 1) / time.Second)
	switch {
	case secs <= 1:
		return "1 second"
	case secs < 60:
		return strconv.FormatInt(secs, 10) + " seconds"
	case secs < 3600:
		return plural((secs+59)/60, "minute")
	}
	return plural((secs+3599)/3600, "hour")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// Message is what a person is told when an attempt is refused: the same
// words whether the password was right or wrong, whether the account
// exists or not, and whichever limit refused it.
func Message(wait time.Duration) string {
	return "Too many attempts. Try again in " + In(wait) + "."
}
