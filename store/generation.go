package store

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// Generation returns the id of the data set in Redis, creating one if there
// is none. Cookies carry it; when Redis loses its data (flushed, or restarted
// without persistence) the key vanishes, a new id is made, and every cookie
// issued before the loss is refused — so a lost revocation list can never
// bring a revoked session back to life.
func (s *Store) Generation(ctx context.Context) (string, error) {
	cand := randomToken(9)
	err := s.rdb.SetArgs(ctx, keyGeneration, cand, redis.SetArgs{Mode: "NX"}).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", err
	}
	return s.rdb.Get(ctx, keyGeneration).Result()
}
