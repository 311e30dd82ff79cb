package gateway

import (
	"strings"
	"sync"

	"github.com/authgate/gateway/store"
)

// claimsCache remembers decoded cookies, so a cookie seen before skips the
// HMAC check, AES and base64 work (and their allocations) on later
// requests. It only memoizes decoding: the cache key is the exact cookie
// value, so a changed byte misses, and every request is still checked
// against the revocation mirror, the lifetimes and the idle timeout.
type claimsCache struct {
	mu  sync.RWMutex
	m   map[string]store.Claims
	max int
}

func newClaimsCache(max int) *claimsCache {
	return &claimsCache{m: make(map[string]store.Claims), max: max}
}

func (c *claimsCache) get(v string) (store.Claims, bool) {
	c.mu.RLock()
	cl, ok := c.m[v]
	c.mu.RUnlock()
	return cl, ok
}

// put stores a decoded cookie. When full it starts over rather than
// tracking recency: memory stays bounded (max entries of ~300 bytes) and
// live sessions repopulate it on their next request.
//
// v is cut from the request's Cookie header, which holds every other
// cookie of the site too (often kilobytes): the key is a copy of the value
// alone, so the cache does not keep whole headers alive.
func (c *claimsCache) put(v string, cl store.Claims) {
	v = strings.Clone(v)
	c.mu.Lock()
	if len(c.m) >= c.max {
		c.m = make(map[string]store.Claims, c.max/4)
	}
	c.m[v] = cl
	c.mu.Unlock()
}

// cookieValue finds a cookie's value in the request's Cookie headers
// without allocating (net/http parses every cookie into new strings).
// Two different values under the name read as none: a script on another
// port of the host (or a sibling subdomain, for names without "__Host-")
// can plant a cookie with a narrower path, which browsers send first, to
// sign the visitor in as someone else; refusing both signs them out instead.
func cookieValue(lines []string, name string) string {
	found, seen := "", false
	for _, line := range lines {
		for len(line) > 0 {
			var part string
			if i := indexByte(line, ';'); i >= 0 {
				part, line = line[:i], line[i+1:]
			} else {
				part, line = line, ""
			}
			part = trimSpace(part)
			if len(part) > len(name) && part[len(name)] == '=' && part[:len(name)] == name {
				v := part[len(name)+1:]
				if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
					v = v[1 : len(v)-1]
				}
				if seen && v != found {
					return ""
				}
				found, seen = v, true
			}
		}
	}
	return found
}

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
