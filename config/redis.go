package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// redisSchemes are the accepted redis.url schemes.
var redisSchemes = []string{"redis", "rediss", "redis-sentinel", "redis-cluster"}

// IsEmbeddedStore reports whether the embedded, in-memory store is used
// (redis.url is empty).
func (c *Config) IsEmbeddedStore() bool {
	return c.Redis.URL == ""
}

// redisURL is a redis.url split into parts. Sentinel and cluster URLs may
// list several comma-separated hosts, which net/url cannot parse.
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
	s := c.Redis.URL
	if s == "" {
		return nil
	}
	shown := maskRedisURL(s)
	u, ok := splitRedisURL(s)
	if !ok || !contains(redisSchemes, u.scheme) {
		return keyErr("redis.url", "%q must start with redis://, rediss://, redis-sentinel:// or redis-cluster:// (leave it empty for the embedded store)", shown)
	}
	if len(u.hosts) == 0 {
		return keyErr("redis.url", "%q has no host; write e.g. \"redis://redis:6379/0\"", shown)
	}
	if (u.scheme == "redis" || u.scheme == "rediss") && len(u.hosts) > 1 {
		return keyErr("redis.url", "%q lists several hosts; use redis-sentinel:// or redis-cluster:// for that", shown)
	}
	for _, h := range u.hosts {
		if p := checkRedisHost(h); p != "" {
			return keyErr("redis.url", "%q: %s", shown, p)
		}
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
