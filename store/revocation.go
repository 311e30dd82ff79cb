package store

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RevokeSession puts a session id on the revocation list until exp (when the
// session would have expired anyway), deletes its record, and tells every
// replica. Revoking twice is harmless.
func (s *Store) RevokeSession(ctx context.Context, uid, sid string, exp time.Time) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	pipe := s.rdb.Pipeline()
	pipe.ZAdd(ctx, keyRevoked, redis.Z{Score: float64(exp.Unix()), Member: sid})
	pipe.Del(ctx, keySession(uid, sid))
	pipe.ZRem(ctx, keySessions(uid), sid)
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	return s.publish(ctx, feedSession, uid, sid, exp.Unix())
}

// SignOutEverywhere kills every session of the user issued before `before`,
// in O(1): one timestamp, however many devices there are.
func (s *Store) SignOutEverywhere(ctx context.Context, uid string, before time.Time) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	n, err := signOutScript.Run(ctx, s.rdb, []string{keyUser(uid)}, before.UnixNano()).Int()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return s.publish(ctx, feedUser, uid, "", 0)
}

// signOutScript only moves the timestamp forward, so a late, older request
// can never bring sessions back to life.
var signOutScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cur = tonumber(redis.call('HGET', KEYS[1], 'signed_out_before') or '0') or 0
if tonumber(ARGV[1]) > cur then redis.call('HSET', KEYS[1], 'signed_out_before', ARGV[1]) end
return 1`)

// RevokedSessions returns the live revocation list: session id → unix expiry.
// Entries whose sessions have expired anyway are pruned on the way.
func (s *Store) RevokedSessions(ctx context.Context) (map[string]int64, error) {
	now := strconv.FormatInt(s.now().Unix(), 10)
	s.rdb.ZRemRangeByScore(ctx, keyRevoked, "-inf", now)
	zs, err := s.rdb.ZRangeByScoreWithScores(ctx, keyRevoked, &redis.ZRangeBy{Min: "(" + now, Max: "+inf"}).Result()
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(zs))
	for _, z := range zs {
		out[z.Member.(string)] = int64(z.Score)
	}
	return out, nil
}
