package assertion

import (
	"strings"
	"sync"

	"github.com/authgate/gateway/store"
)

// cacheKey names one cached assertion: a session on a route, and the
// request's host when the claims depend on it.
type cacheKey struct {
	sid   string
	route int
	host  string
}

// entry is a signed assertion and what it was signed for.
type entry struct {
	value     []string // the header value, length and capacity 1
	key       *signingKey
	refreshAt int64 // unix nanos
	// The user as signed: a changed name, e-mail, role or group signs
	// again. user is the mirror's state it came from; the mirror replaces
	// that on every change, so the same pointer means nothing changed.
	user                        *store.UserState
	id, username, email, groups string
}

func (e *entry) sameUser(u *store.UserState) bool {
	return e.user == u || (e.id == u.ID && e.username == u.Username && e.email == u.Email && e.groups == u.GroupsHeader)
}

// cache keeps assertions per session and route. When full it starts over
// rather than tracking recency, as the cookie cache does: memory stays
// bounded (an entry holds a token of about 600 bytes) and live sessions
// sign again on their next request.
type cache struct {
	mu  sync.RWMutex
	m   map[cacheKey]*entry
	max int
}

func newCache(max int) *cache { return &cache{m: map[cacheKey]*entry{}, max: max} }

func (c *cache) get(k cacheKey) *entry {
	c.mu.RLock()
	e := c.m[k]
	c.mu.RUnlock()
	return e
}

func (c *cache) put(k cacheKey, e *entry) {
	// The key's strings point into the request (the host) and the cookie
	// cache; copies keep neither alive.
	k.sid, k.host = strings.Clone(k.sid), strings.Clone(k.host)
	c.mu.Lock()
	if len(c.m) >= c.max {
		c.m = make(map[cacheKey]*entry, c.max/4)
	}
	c.m[k] = e
	c.mu.Unlock()
}

func (c *cache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
