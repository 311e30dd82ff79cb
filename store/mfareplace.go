package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Replacing an authenticator app keeps the new secret (sealed by the
// caller) beside the account, not on it, until a code from the new app
// confirms it: the old app keeps working meanwhile, and a replacement left
// unfinished expires and changes nothing. The key is bound to one sign-in
// (the user and the sign-in's start time, which a re-issued session id
// keeps), so another device of the same person cannot confirm it.

func keyMFAReplace(uid string, signedInAt int64) string {
	return prefixMFAReplace + uid + "}:" + strconv.FormatInt(signedInAt, 10)
}

// PutMFAReplacement keeps sealed as the replacement in progress for the
// sign-in of uid that started at signedInAt (Claims.Created), for ttl; a
// new one replaces any earlier one.
func (s *Store) PutMFAReplacement(ctx context.Context, uid string, signedInAt int64, sealed string, ttl time.Duration) error {
	return s.rdb.Set(ctx, keyMFAReplace(uid, signedInAt), sealed, ttl).Err()
}

// MFAReplacement reads the replacement in progress; ErrNotFound when there
// is none or it expired.
func (s *Store) MFAReplacement(ctx context.Context, uid string, signedInAt int64) (string, error) {
	v, err := s.rdb.Get(ctx, keyMFAReplace(uid, signedInAt)).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNotFound
	}
	return v, err
}

// TakeMFAReplacement reads and deletes the replacement in one step
// (GETDEL), so two confirmations racing install it at most once;
// ErrNotFound when it is gone.
func (s *Store) TakeMFAReplacement(ctx context.Context, uid string, signedInAt int64) (string, error) {
	v, err := s.rdb.GetDel(ctx, keyMFAReplace(uid, signedInAt)).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNotFound
	}
	return v, err
}
