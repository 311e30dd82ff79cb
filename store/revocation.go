package store

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// RevokeSession puts a session id on the revocation list until exp (when the
// session would have expired anyway) together with its feed entry, in one
// atomic write, then deletes the session's record. Revoking twice is
// harmless. An error wrapping ErrFeed means nothing was written;
// ErrNotReplicated means the revocation stands on the master but no replica
// confirmed it in time.
func (s *Store) RevokeSession(ctx context.Context, uid, sid string, exp time.Time) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	err := s.commit(ctx, change{kind: feedSession, uid: uid, sid: sid, e: exp.Unix()})
	if errors.Is(err, ErrFeed) {
		return err
	}
	pipe := s.rdb.Pipeline()
	pipe.Del(ctx, keySession(uid, sid))
	pipe.ZRem(ctx, keySessions(uid), sid)
	if _, perr := pipe.Exec(ctx); perr != nil && err == nil {
		err = perr
	}
	return err
}

// SignOutEverywhere kills every session of the user issued before `before`,
// in O(1): one timestamp, however many devices there are. The timestamp and
// its feed entry are one atomic write in the shared slot; the copy on the
// user's record (for the devices list) follows.
func (s *Store) SignOutEverywhere(ctx context.Context, uid string, before time.Time) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	n, err := s.rdb.Exists(ctx, keyUser(uid)).Result()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	err = s.commit(ctx, change{kind: feedUser, uid: uid, e: before.UnixNano()})
	if errors.Is(err, ErrFeed) {
		return err
	}
	if serr := signOutScript.Run(ctx, s.rdb, []string{keyUser(uid)}, before.UnixNano()).Err(); serr != nil && err == nil {
		err = serr
	}
	return err
}

// signOutScript only moves the user record's copy of the timestamp forward.
var signOutScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cur = tonumber(redis.call('HGET', KEYS[1], 'signed_out_before') or '0') or 0
if tonumber(ARGV[1]) > cur then redis.call('HSET', KEYS[1], 'signed_out_before', ARGV[1]) end
return 1`)

// EndAllSessions ends every session of every user at once: a new store
// generation, written with its feed entry, so running replicas refuse every
// earlier cookie as soon as they read it. Users, passwords and 2FA stay.
// It returns the new generation.
func (s *Store) EndAllSessions(ctx context.Context) (string, error) {
	ctx, cancel := detach(ctx)
	defer cancel()
	gen := randomToken(9)
	err := s.commit(ctx, change{kind: feedGeneration, sid: gen})
	if errors.Is(err, ErrFeed) {
		return "", err
	}
	return gen, err
}
