package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultTimeout bounds every Redis call when Options.Timeout is zero.
const DefaultTimeout = 500 * time.Millisecond

// Options tune the connection to Redis; the zero value uses the defaults.
type Options struct {
	// Timeout bounds every Redis call as a whole: dialling, waiting for a
	// pooled connection, writing, reading and go-redis' own retries and
	// redirects. A blocking read (the feed follower's XREAD BLOCK, WAIT)
	// gets its block time plus Timeout.
	Timeout time.Duration
	// MaxBlock is the longest a command sent in a pipeline may block (the
	// WAIT sent with a change). go-redis reads a pipeline's replies under
	// its plain read timeout, so that is Timeout plus MaxBlock; the deadline
	// of each call still comes from Timeout (plus the call's own blocking).
	MaxBlock time.Duration
}

// universalOptions turns redis://, rediss://, redis-sentinel:// and
// redis-cluster:// URLs into go-redis options whose every network step is
// bounded by timeout.
func universalOptions(rawURL string, timeout, maxBlock time.Duration) (*redis.UniversalOptions, error) {
	o, err := parseRedisURL(rawURL)
	if err != nil {
		return nil, err
	}
	// Each step is bounded on its own, and the deadline hook bounds the
	// call as a whole (retries included); ContextTimeoutEnabled makes the
	// socket deadlines follow the context's, so the hook's deadline is
	// what the network sees. Timeouts in the URL are ignored on purpose:
	// a hung Redis must answer a request with 503 fast, whatever the URL.
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = timeout, timeout+maxBlock, timeout, timeout
	o.ContextTimeoutEnabled = true
	// One dial per attempt: a refused connection means the node is down,
	// and trying it five times (go-redis' default) only delays the 503 and
	// the topology refresh that follows.
	o.DialerRetries = 1
	// Reads and writes go to masters only (no ReadOnly, RouteByLatency or
	// RouteRandomly): a replica may not have the newest revocation yet.
	return o, nil
}

// parseRedisURL maps the URL schemes onto go-redis' universal options.
func parseRedisURL(rawURL string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	tlsScheme := strings.HasPrefix(u.Scheme, "rediss")
	plain := "redis"
	if tlsScheme {
		plain = "rediss"
	}
	switch u.Scheme {
	case "redis", "rediss":
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		return &redis.UniversalOptions{
			Addrs: []string{o.Addr}, DB: o.DB, Username: o.Username, Password: o.Password,
			TLSConfig: o.TLSConfig, PoolSize: o.PoolSize,
		}, nil
	case "redis-sentinel", "rediss-sentinel":
		u.Scheme = plain
		o, err := redis.ParseFailoverURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		if o.MasterName == "" {
			return nil, errors.New("redis url: redis-sentinel:// needs ?master_name=")
		}
		return &redis.UniversalOptions{
			Addrs: o.SentinelAddrs, MasterName: o.MasterName, DB: o.DB,
			Username: o.Username, Password: o.Password,
			SentinelUsername: o.SentinelUsername, SentinelPassword: o.SentinelPassword,
			TLSConfig: o.TLSConfig,
		}, nil
	case "redis-cluster", "rediss-cluster":
		u.Scheme = plain
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		return &redis.UniversalOptions{
			Addrs: o.Addrs, Username: o.Username, Password: o.Password,
			TLSConfig: o.TLSConfig, IsClusterMode: true,
		}, nil
	}
	return nil, fmt.Errorf("redis url: unsupported scheme %q", u.Scheme)
}

// deadlineHook gives every call a deadline of its own, retries and cluster
// redirects included, unless the caller's is sooner.
type deadlineHook struct{ timeout time.Duration }

func (h deadlineHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h deadlineHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		ctx, cancel := context.WithTimeout(ctx, h.timeout+blockTime(cmd))
		defer cancel()
		return next(ctx, cmd)
	}
}

func (h deadlineHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		// One round trip; a WAIT in it (a change and its WAIT are sent
		// together) may hold the answer for its own timeout.
		d := h.timeout
		for _, c := range cmds {
			d += blockTime(c)
		}
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return next(ctx, cmds)
	}
}

// blockTime is how long Redis itself may hold cmd before answering: the
// BLOCK of XREAD/XREADGROUP and the timeout of WAIT/WAITAOF. A call told to
// block for ever (0) gets no extra time: nothing here should wait unbounded.
func blockTime(cmd redis.Cmder) time.Duration {
	args := cmd.Args()
	ms := func(v any) time.Duration {
		switch n := v.(type) {
		case int64:
			return time.Duration(n) * time.Millisecond
		case int:
			return time.Duration(n) * time.Millisecond
		}
		return 0
	}
	switch strings.ToLower(cmd.Name()) {
	case "xread", "xreadgroup":
		for i := 1; i+1 < len(args); i++ {
			if s, ok := args[i].(string); ok && strings.EqualFold(s, "block") {
				return ms(args[i+1])
			}
		}
	case "wait", "waitaof":
		if len(args) > 0 {
			return ms(args[len(args)-1])
		}
	}
	return 0
}

// reloadHook asks a cluster client to refresh its slot map as soon as a
// call fails in a way that may mean the topology changed: a node that
// cannot be reached or does not answer, CLUSTERDOWN, MOVED, READONLY and
// the like. go-redis refreshes by itself only on MOVED/ASK and on a 60 s
// timer, so without this a promoted replica would be found a minute late.
// Reloads are coalesced by go-redis (one at a time, 200 ms apart), so a
// storm of failing requests costs one CLUSTER SLOTS per 200 ms.
type reloadHook struct{ c *redis.ClusterClient }

func (h reloadHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h reloadHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if topologySuspect(err) {
			h.c.ReloadState(ctx)
		}
		return err
	}
}

func (h reloadHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if topologySuspect(err) {
			h.c.ReloadState(ctx)
		}
		return err
	}
}

// topologyErrors are the replies of a cluster node that mean the slot map
// the client holds may be wrong or the cluster is failing over.
var topologyErrors = []string{"CLUSTERDOWN", "MOVED", "ASK", "TRYAGAIN", "READONLY", "MASTERDOWN", "LOADING"}

// topologySuspect reports whether err may come from a failed or moved
// node rather than from the command itself.
func topologySuspect(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) || errors.Is(err, redis.ErrClosed) {
		return false
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		for _, p := range topologyErrors {
			if redis.HasErrorPrefix(err, p) {
				return true
			}
		}
		return false // the command's own error (WRONGTYPE, NOSCRIPT…)
	}
	// Anything else is the network: refused, reset, timed out, or no
	// pooled connection in time.
	return true
}
