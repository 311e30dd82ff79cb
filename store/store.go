// Package store holds the gateway's nouns (User, Session, Event) and their
// persistence in Redis: users, sessions, the revocation list, the change feed
// that replicas follow, and activity and audit streams.
//
// Every user's keys share a hash tag ({uid}) so Redis Cluster keeps them in one
// slot; every key the request path needs shares the tag {g} (keys.go), so a
// change and its feed entry are one atomic script.
package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Errors the store returns; callers map them to statuses.
var (
	// ErrNotFound is returned when a user, session or other record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when creating something that already exists.
	ErrConflict = errors.New("already exists")
)

// Store is the Redis-backed persistence for users, sessions and revocations.
type Store struct {
	rdb      redis.UniversalClient
	log      *slog.Logger
	embedded *miniredis.Miniredis
	now      func() time.Time
	timeout  time.Duration // bounds every call (see Options.Timeout)

	// Outbox decides which messages each activity event sends (outbox.go);
	// nil sends none.
	Outbox OutboxPolicy

	// ActivityLimit bounds each user's activity stream.
	ActivityLimit int64
	// FeedLimit bounds the revocation feed; followers further behind reload.
	FeedLimit int64
	// WaitReplicas is how many Redis replicas must confirm a change that
	// ends sessions before it is acknowledged (WAIT), when the master has
	// replicas connected; 0 turns waiting off.
	WaitReplicas int
	// WaitTimeout bounds that WAIT; past it the change is ErrNotReplicated.
	WaitTimeout time.Duration
	// SessionLifetime is the longest a session lives. A "signed out before"
	// time older than that can end no session any more and is dropped, so
	// the list stays as small as the sign-outs of one lifetime; 0 keeps all.
	SessionLifetime time.Duration
}

// staleCut reports whether a "signed out before" time (unix nanos) is older
// than any session that could still be alive.
func (s *Store) staleCut(cut int64) bool {
	return s.SessionLifetime > 0 && cut < s.now().Add(-s.SessionLifetime).UnixNano()
}

// Open connects to the Redis named by rawURL (see New) and pings it: for
// commands that need Redis at once, such as `gateway users`, and fail
// clearly when it does not answer.
func Open(ctx context.Context, rawURL string, log *slog.Logger) (*Store, error) {
	return OpenWith(ctx, rawURL, Options{}, log)
}

// OpenWith is Open with connection options.
func OpenWith(ctx context.Context, rawURL string, opt Options, log *slog.Logger) (*Store, error) {
	s, err := NewWith(rawURL, opt, log)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.rdb.Ping(pctx).Err(); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to redis: %w", err)
	}
	return s, nil
}

// New returns a store for the Redis named by rawURL without waiting for it:
// the client connects on first use, so a gateway can start before its Redis
// is reachable and serve once it is. When rawURL is empty it starts the
// embedded in-process server instead (data lives in memory only).
func New(rawURL string, log *slog.Logger) (*Store, error) {
	return NewWith(rawURL, Options{}, log)
}

// NewWith is New with connection options.
func NewWith(rawURL string, opt Options, log *slog.Logger) (*Store, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	s := &Store{log: log, now: time.Now, ActivityLimit: 500, FeedLimit: 10000, timeout: opt.Timeout}
	if rawURL == "" {
		m, url, err := startEmbedded()
		if err != nil {
			return nil, err
		}
		s.embedded, rawURL = m, url
	}
	opts, err := universalOptions(rawURL, opt.Timeout, opt.MaxBlock)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.rdb = redis.NewUniversalClient(opts)
	s.rdb.AddHook(deadlineHook{timeout: opt.Timeout})
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		cc.AddHook(reloadHook{c: cc})
		// Calls made on one node's client (WAIT on the master of the
		// shared slot) are bounded too.
		cc.OnNewNode(func(n *redis.Client) { n.AddHook(deadlineHook{timeout: opt.Timeout}) })
	}
	return s, nil
}

// startEmbedded starts the in-process Redis-protocol server. It listens on
// the loopback address only and requires a random password that never
// leaves this process: without it, any local process could connect and,
// say, make itself an admin. It returns the server and the URL to reach it.
func startEmbedded() (*miniredis.Miniredis, string, error) {
	m := miniredis.NewMiniRedis()
	password := rand.Text()
	m.RequireAuth(password)
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, "", fmt.Errorf("start embedded store: %w", err)
	}
	return m, "redis://:" + password + "@" + m.Addr(), nil
}

// Embedded reports whether the store runs on the in-process server.
func (s *Store) Embedded() bool { return s.embedded != nil }

// Client exposes the underlying client for the revocation follower and tests.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Timeout is the bound on every Redis call.
func (s *Store) Timeout() time.Duration { return s.timeout }

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

// Close closes the connection and stops the embedded server if any.
func (s *Store) Close() error {
	var err error
	if s.rdb != nil {
		err = s.rdb.Close()
	}
	if s.embedded != nil {
		s.embedded.Close()
	}
	return err
}

// PersistenceWarning returns a warning when the Redis in use keeps nothing on
// disk (no RDB snapshots, no AOF), or "" when it persists or cannot tell.
func (s *Store) PersistenceWarning(ctx context.Context) string {
	if s.embedded != nil {
		return "EMBEDDED STORE: every user, session and sign-out lives in this process's memory and is LOST ON EXIT; " +
			"it is for trying the gateway out only. Set redis.url (GATEWAY_REDIS_URL) for real use"
	}
	res, err := s.rdb.ConfigGet(ctx, "*").Result()
	if err != nil {
		return "" // CONFIG may be disabled on managed Redis; nothing to say
	}
	if res["appendonly"] != "yes" && strings.TrimSpace(res["save"]) == "" {
		return "redis keeps nothing on disk (save \"\" and appendonly no): a restart loses every user; revoked sessions stay dead (store generation changes) but everyone must sign in again"
	}
	return ""
}
