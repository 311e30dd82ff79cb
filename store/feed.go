package store

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Kinds of entries in the change feed that every replica follows.
const (
	feedSession = "s" // a session id was revoked
	feedUser    = "u" // a user changed (disabled, roles, signed out everywhere…)
)

// detach gives a change and the feed entry announcing it a context of
// their own. Replicas learn of a change only from its entry, so the two must
// not be split by the caller's context ending in between (a client hanging
// up, which ends a request's context): the change would sit in Redis while
// every replica, the one that made it included, kept serving from memory
// what it had before, until its next full reload.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// publish appends a change to the feed. Each entry carries a sequence number
// given out in the same script that appends it, so a follower sees numbers
// without gaps, in order; a gap means the capped stream was trimmed past the
// follower (or Redis lost data) and it reloads everything. The cap is
// approximate so trimming stays cheap.
func (s *Store) publish(ctx context.Context, kind, uid, sid string, exp int64) error {
	return publishScript.Run(ctx, s.rdb, []string{keyFeed, keyFeedSeq},
		s.FeedLimit, kind, uid, sid, strconv.FormatInt(exp, 10)).Err()
}

var publishScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[2])
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
  'n', n, 'k', ARGV[2], 'u', ARGV[3], 's', ARGV[4], 'e', ARGV[5])`)

// feedPosition returns the newest feed entry id and sequence number, read
// atomically so a snapshot taken afterwards misses nothing.
func (s *Store) feedPosition(ctx context.Context) (id string, seq int64, err error) {
	pipe := s.rdb.TxPipeline()
	last := pipe.XRevRangeN(ctx, keyFeed, "+", "-", 1)
	n := pipe.Get(ctx, keyFeedSeq)
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return "", 0, err
	}
	id = "0-0"
	if msgs := last.Val(); len(msgs) == 1 {
		id = msgs[0].ID
	}
	seq, _ = strconv.ParseInt(n.Val(), 10, 64)
	return id, seq, nil
}

// feedEntry is one decoded change.
type feedEntry struct {
	seq  int64
	kind string
	uid  string
	sid  string
	exp  int64
}

func parseFeedEntry(m redis.XMessage) feedEntry {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	seq, _ := strconv.ParseInt(str("n"), 10, 64)
	exp, _ := strconv.ParseInt(str("e"), 10, 64)
	return feedEntry{seq: seq, kind: str("k"), uid: str("u"), sid: str("s"), exp: exp}
}
