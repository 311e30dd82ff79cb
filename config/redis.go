package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Bounds of redis.timeout.
const (
	// MinRedisTimeout is the shortest accepted redis.timeout: below it a
	// busy but healthy Redis would be taken for a dead one.
	MinRedisTimeout = 50 * time.Millisecond
	// MaxRedisTimeout is the longest accepted redis.timeout: every request
	// that needs Redis may wait this long when Redis hangs.
	MaxRedisTimeout = 10 * time.Second
)

// Bounds of redis.activity_limit: enough for the account page's recent
// activity and a month's chart, and not so many that one person's stream
// grows without bound.
const (
	MinActivityLimit = 50
	MaxActivityLimit = 100000
)

// redisSchemes are the accepted redis.url schemes; the rediss- forms of
// sentinel and cluster use TLS, as the store supports.
var redisSchemes = []string{"redis", "rediss", "redis-sentinel", "rediss-sentinel", "redis-cluster", "rediss-cluster"}

// IsEmbeddedStore reports whether the embedded, in-memory store is used
// (redis.url is empty).
func (c *Config) IsEmbeddedStore() bool {
	return c.Redis.URL == ""
}

// redisURL is a redis.url split into parts without net/url, so that even a
// malformed URL (say, a password with an unescaped "/") can be masked.
type redisURL struct {
	scheme   string
	userinfo string // before the last "@", may hold "user:password"
	hasUser  bool
	hosts    []string
	rest     string // "/db?query" after the hosts
}

// splitRedisURL splits s; ok is false when there is no "scheme://".
func splitRedisURL(s string) (u redisURL, ok bool) {
	scheme, after, ok := strings.Cut(s, "://")
	if !ok {
		return redisURL{}, false
	}
	u.scheme = scheme
	// Everything up to the last "@" is userinfo, so an unescaped "/" or
	// "?" in a password cannot leak into the host part.
	if at := strings.LastIndex(after, "@"); at >= 0 {
		u.userinfo, u.hasUser, after = after[:at], true, after[at+1:]
	}
	hostPart := after
	if i := strings.IndexAny(after, "/?#"); i >= 0 {
		hostPart, u.rest = after[:i], after[i:]
	}
	for h := range strings.SplitSeq(hostPart, ",") {
		if h = strings.TrimSpace(h); h != "" {
			u.hosts = append(u.hosts, h)
		}
	}
	return u, true
}

func (c *Config) validateRedis() error {
	if err := c.validateRedisURL(); err != nil {
		return err
	}
	if c.Redis.WaitReplicas < 0 {
		return keyErr("redis.wait_replicas", "is %d; must be 0 (off) or more, e.g. 1", c.Redis.WaitReplicas)
	}
	if c.Redis.WaitReplicas > 0 && (c.Redis.WaitTimeout.Duration < time.Millisecond || c.Redis.WaitTimeout.Duration > 10*time.Second) {
		return keyErr("redis.wait_timeout", "is %s; must be between 1ms and 10s, e.g. \"500ms\"", c.Redis.WaitTimeout)
	}
	if d := c.Redis.Timeout.Duration; d < MinRedisTimeout || d > MaxRedisTimeout {
		return keyErr("redis.timeout", "is %s; must be between %s and %s (e.g. \"500ms\"): a hung Redis holds requests this long before they fail", c.Redis.Timeout, Duration{MinRedisTimeout}, Duration{MaxRedisTimeout})
	}
	if n := c.Redis.ActivityLimit; n < MinActivityLimit || n > MaxActivityLimit {
		return keyErr("redis.activity_limit", "is %d; must be between %d and %d events per person, e.g. 500", n, MinActivityLimit, MaxActivityLimit)
	}
	return nil
}

func (c *Config) validateRedisURL() error {
	s := c.Redis.URL
	if s == "" {
		return nil
	}
	shown := maskRedisURL(s)
	parts, ok := splitRedisURL(s)
	if !ok || !contains(redisSchemes, parts.scheme) {
		return keyErr("redis.url", "%q must start with redis://, rediss://, redis-sentinel:// or redis-cluster:// (leave it empty for the embedded store)", shown)
	}
	if len(parts.hosts) == 0 {
		return keyErr("redis.url", "%q has no host; write e.g. \"redis://redis:6379/0\"", shown)
	}
	if len(parts.hosts) > 1 {
		return keyErr("redis.url", "%q lists hosts with commas; put the first in the URL and each further one as ?addr=host:port", shown)
	}
	if p := checkRedisHost(parts.hosts[0]); p != "" {
		return keyErr("redis.url", "%q: %s", shown, p)
	}
	// The store parses the URL with net/url; it must see the same host.
	// Errors from net/url quote the URL, password included, so they are not
	// repeated here.
	const encode = "percent-encode special characters in the user name and password (\"/\" as %2F, \"?\" as %3F, \"#\" as %23, \"@\" as %40)"
	u, err := url.Parse(s)
	if err != nil || u.Host != parts.hosts[0] {
		return keyErr("redis.url", "%q is not a valid URL; %s", shown, encode)
	}
	q := u.Query()
	multi := strings.Contains(parts.scheme, "-")
	for _, a := range q["addr"] {
		if !multi {
			return keyErr("redis.url", "%q: addr= is only for redis-sentinel:// and redis-cluster://", shown)
		}
		if p := checkRedisHost(a); p != "" {
			return keyErr("redis.url", "%q: addr=: %s", shown, p)
		}
	}
	if strings.HasSuffix(parts.scheme, "-sentinel") && q.Get("master_name") == "" {
		return keyErr("redis.url", "%q needs ?master_name=<name of the monitored master>", shown)
	}
	return nil
}

// checkRedisHost checks one host[:port] of a redis URL.
func checkRedisHost(h string) string {
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		return "" // bare IPv6 literal
	}
	if !strings.Contains(h, ":") {
		if strings.ContainsFunc(h, isSpaceOrControl) {
			return fmt.Sprintf("host %q contains spaces", h)
		}
		return ""
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil || host == "" {
		return fmt.Sprintf("host %q is not host:port", h)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Sprintf("host %q: port must be a number from 1 to 65535", h)
	}
	return ""
}

// maskRedisURL replaces any password in s by "xxxxx": the part after ":"
// in the userinfo, and query parameters whose name contains "password".
// When s cannot be split, everything before the last "@" is masked.
func maskRedisURL(s string) string {
	u, ok := splitRedisURL(s)
	if !ok {
		if at := strings.LastIndex(s, "@"); at >= 0 {
			return "xxxxx" + s[at:]
		}
		return s
	}
	var b strings.Builder
	b.WriteString(u.scheme + "://")
	if u.hasUser {
		if user, _, hasPass := strings.Cut(u.userinfo, ":"); hasPass {
			b.WriteString(user + ":xxxxx")
		} else {
			b.WriteString(u.userinfo)
		}
		b.WriteString("@")
	}
	b.WriteString(strings.Join(u.hosts, ","))
	path, query, hasQuery := strings.Cut(u.rest, "?")
	b.WriteString(path)
	if hasQuery {
		params := strings.Split(query, "&")
		for i, p := range params {
			name, _, hasValue := strings.Cut(p, "=")
			if hasValue && strings.Contains(strings.ToLower(name), "password") {
				params[i] = name + "=xxxxx"
			}
		}
		b.WriteString("?" + strings.Join(params, "&"))
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
