package store

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// EmailChangeCooldown is how long a person waits between two confirmation
// links for a new address: each one mails an address anyone signed in may
// type, so without a pause the gateway could be made to flood a stranger's
// mailbox.
const EmailChangeCooldown = time.Minute

func keyCooldown(uid, what string) string { return "gw:cooldown:{" + uid + "}:" + what }

// ClaimCooldown starts a pause of ttl for what (e.g. "email") of uid and
// returns 0, or, when one is already running, how long it still lasts
// (and starts nothing).
func (s *Store) ClaimCooldown(ctx context.Context, uid, what string, ttl time.Duration) (time.Duration, error) {
	key := keyCooldown(uid, what)
	err := s.rdb.SetArgs(ctx, key, "1", redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	if err == nil {
		return 0, nil
	}
	if !errors.Is(err, redis.Nil) { // redis.Nil: a pause is running
		return 0, err
	}
	left, err := s.rdb.PTTL(ctx, key).Result()
	if err != nil {
		return 0, err
	}
	if left <= 0 { // gone meanwhile, or without expiry (never set so): a short pause
		left = time.Second
	}
	return left, nil
}
