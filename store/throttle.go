package store

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ThrottlePolicy says how many failures are free and how the delay grows
// after them: Base, 2×Base, 4×Base … capped at Max. Counters expire after
// Forget without a new failure, so no stranger can lock an account for good.
type ThrottlePolicy struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Forget time.Duration
}

// Throttle keys name what is counted, e.g. "pw:user:<uid>", "pw:ip:<ip>",
// "mfa:user:<uid>". They are global keys, shared by every replica.
func throttleKey(k string) string { return prefixThrottle + k }

// ThrottleWait returns how long attempts on key must still wait (0 = go).
func (s *Store) ThrottleWait(ctx context.Context, key string) (time.Duration, error) {
	v, err := s.rdb.HGet(ctx, throttleKey(key), "until").Int64()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	wait := time.Until(time.UnixMilli(v))
	if wait < 0 {
		return 0, nil
	}
	// Whole seconds, rounded up, so Retry-After never says 0 while
	// attempts are still refused.
	return (wait + time.Second - 1).Truncate(time.Second), nil
}

// ThrottleFail counts a failure on key and returns the delay now imposed
// (0 while failures are still free).
func (s *Store) ThrottleFail(ctx context.Context, key string, p ThrottlePolicy) (time.Duration, error) {
	ms, err := throttleFailScript.Run(ctx, s.rdb, []string{throttleKey(key)},
		p.Free, p.Base.Milliseconds(), p.Max.Milliseconds(), p.Forget.Milliseconds(), s.now().UnixMilli()).Int64()
	if err != nil {
		return 0, err
	}
	return time.Duration(ms) * time.Millisecond, nil
}

var throttleFailScript = redis.NewScript(`
local fails = redis.call('HINCRBY', KEYS[1], 'fails', 1)
local free, base, max, forget, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local delay = 0
if fails > free then
  local n = fails - free - 1
  if n > 30 then n = 30 end
  delay = base * (2 ^ n)
  if delay > max then delay = max end
  redis.call('HSET', KEYS[1], 'until', now + delay)
end
local ttl = forget
if delay > ttl then ttl = delay end
redis.call('PEXPIRE', KEYS[1], ttl)
return delay`)

// ThrottleReset clears the counters on keys (after a success, or by staff).
func (s *Store) ThrottleReset(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = throttleKey(k)
	}
	// Keys may live in different cluster slots: delete one by one.
	for _, k := range full {
		if err := s.rdb.Del(ctx, k).Err(); err != nil {
			return err
		}
	}
	return nil
}

// ThrottleState is a counter as staff see it.
type ThrottleState struct {
	Key   string
	Fails int64
	Until time.Time
}

// FindThrottle returns the state of one counter (zero Fails when none).
func (s *Store) FindThrottle(ctx context.Context, key string) (ThrottleState, error) {
	m, err := s.rdb.HGetAll(ctx, throttleKey(key)).Result()
	if err != nil {
		return ThrottleState{}, err
	}
	st := ThrottleState{Key: key}
	st.Fails, _ = strconv.ParseInt(m["fails"], 10, 64)
	if until, _ := strconv.ParseInt(m["until"], 10, 64); until > 0 {
		st.Until = time.UnixMilli(until)
	}
	return st, nil
}
