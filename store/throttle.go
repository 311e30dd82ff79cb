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

// Throttle keys name what is counted. They are global keys, shared by every
// replica; each command touches one key, so Redis Cluster is fine.
const (
	throttlePasswordUser = "pw:user:" // password attempts on a known account, by user id
	throttlePasswordName = "pw:name:" // password attempts on an unknown username
	throttlePasswordIP   = "pw:ip:"   // password attempts from one client address
	throttlePasswordDev  = "pw:dev:"  // password attempts from a browser known to the account
	throttleMFAUser      = "mfa:user:"
)

// PasswordUserThrottleKey counts password attempts on a known account. It is
// keyed on the user id so that every path that checks the password (sign-in,
// re-authentication, password change, the API) shares one counter.
func PasswordUserThrottleKey(uid string) string { return throttlePasswordUser + uid }

// PasswordNameThrottleKey counts password attempts on a username that does
// not exist (canonical spelling), so that such attempts are limited exactly
// like attempts on a real account and the answers cannot tell them apart.
func PasswordNameThrottleKey(canonical string) string { return throttlePasswordName + canonical }

// PasswordIPThrottleKey counts password attempts from one client (an IPv4
// address or an IPv6 /64, as the caller chose).
func PasswordIPThrottleKey(client string) string { return throttlePasswordIP + client }

// PasswordBrowserThrottleKey counts password attempts from a browser that
// has signed in to the account before (by the random id of its cookie).
func PasswordBrowserThrottleKey(id string) string { return throttlePasswordDev + id }

// MFAThrottleKey counts second-factor code attempts on an account. Signing
// in with the password again does not reset it.
func MFAThrottleKey(uid string) string { return throttleMFAUser + uid }

func throttleKey(k string) string { return prefixThrottle + k }

// ThrottleResult is the answer to ThrottleTake.
type ThrottleResult struct {
	// Wait > 0 means the attempt is refused (and was not counted): the
	// key is in a delay for that much longer, rounded up to whole seconds.
	Wait time.Duration
	// Fails is the count including this attempt (when not refused).
	Fails int64
	// Delay is the delay this attempt imposes on the next one if it turns
	// out to be a failure (0 while attempts are still free).
	Delay time.Duration
}

// ThrottleTake asks for one attempt on key. If key is in a delay the
// attempt is refused and nothing is counted. Otherwise the attempt is
// counted as a failure straight away, before the secret is checked, so that
// a burst of parallel guesses cannot all slip through while the first ones
// are still being verified; the caller then calls ThrottleReset (success on
// an account), ThrottleRefund (success on a shared counter, or the check
// could not be made), or nothing (a failure).
func (s *Store) ThrottleTake(ctx context.Context, key string, p ThrottlePolicy) (ThrottleResult, error) {
	res, err := throttleTakeScript.Run(ctx, s.rdb, []string{throttleKey(key)},
		p.Free, p.Base.Milliseconds(), p.Max.Milliseconds(), p.Forget.Milliseconds(), s.now().UnixMilli()).Int64Slice()
	if err != nil {
		return ThrottleResult{}, err
	}
	if len(res) != 3 {
		return ThrottleResult{}, redis.Nil
	}
	if res[2] > 0 {
		s.noteThrottled(ctx, key, s.now().UnixMilli()+res[2])
	}
	return ThrottleResult{
		Wait:  roundUpSecond(time.Duration(res[0]) * time.Millisecond),
		Fails: res[1],
		Delay: time.Duration(res[2]) * time.Millisecond,
	}, nil
}

// throttleDelayLua is the part of the take and fail scripts that starts
// the delay the count fails earns (free, base, max, forget and now are the
// policy's arguments) and sets how long the key lives.
const throttleDelayLua = `local delay = 0
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
`

// throttleTakeScript returns {wait ms, fails, delay ms}. The delay after
// the n-th failure beyond the free ones is Base·2^(n-1), capped at Max; the
// key lives for Forget after the last counted attempt (or until its delay
// ends, if that is later).
var throttleTakeScript = redis.NewScript(`
local free, base, max, forget, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local untilv = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if untilv > now then
  return {untilv - now, tonumber(redis.call('HGET', KEYS[1], 'fails') or '0'), 0}
end
local fails = redis.call('HINCRBY', KEYS[1], 'fails', 1)
` + throttleDelayLua + `return {0, fails, delay}`)

// ThrottleRefund takes back one attempt counted by ThrottleTake: the
// attempt succeeded on a shared counter (a client address, which must not be
// reset by one good password among many bad ones), or it never got checked.
// A delay that the refunded attempt started is lifted when the count is back
// within the free attempts.
func (s *Store) ThrottleRefund(ctx context.Context, key string, p ThrottlePolicy) error {
	return throttleRefundScript.Run(ctx, s.rdb, []string{throttleKey(key)}, p.Free).Err()
}

var throttleRefundScript = redis.NewScript(`
local fails = tonumber(redis.call('HGET', KEYS[1], 'fails') or '0')
if fails <= 0 then return 0 end
fails = redis.call('HINCRBY', KEYS[1], 'fails', -1)
if fails <= tonumber(ARGV[1]) then redis.call('HDEL', KEYS[1], 'until') end
return fails`)

// ThrottleWait returns how long attempts on key must still wait (0 = go),
// rounded up to whole seconds. It counts nothing.
func (s *Store) ThrottleWait(ctx context.Context, key string) (time.Duration, error) {
	v, err := s.rdb.HGet(ctx, throttleKey(key), "until").Int64()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	wait := time.UnixMilli(v).Sub(s.now())
	if wait < 0 {
		return 0, nil
	}
	return roundUpSecond(wait), nil
}

// roundUpSecond rounds to whole seconds, up, so Retry-After never says 0
// while attempts are still refused.
func roundUpSecond(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

// ThrottleFail counts a failure on key and returns the delay now imposed
// (0 while failures are still free). Prefer ThrottleTake, which checks and
// counts in one step before the secret is verified.
func (s *Store) ThrottleFail(ctx context.Context, key string, p ThrottlePolicy) (time.Duration, error) {
	ms, err := throttleFailScript.Run(ctx, s.rdb, []string{throttleKey(key)},
		p.Free, p.Base.Milliseconds(), p.Max.Milliseconds(), p.Forget.Milliseconds(), s.now().UnixMilli()).Int64()
	if err != nil {
		return 0, err
	}
	if ms > 0 {
		s.noteThrottled(ctx, key, s.now().UnixMilli()+ms)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

var throttleFailScript = redis.NewScript(`
local fails = redis.call('HINCRBY', KEYS[1], 'fails', 1)
local free, base, max, forget, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
` + throttleDelayLua + `return delay`)

// ThrottleReset clears the counters on keys (after a success, or by staff).
func (s *Store) ThrottleReset(ctx context.Context, keys ...string) error {
	// Keys may live in different cluster slots: delete one by one.
	for _, k := range keys {
		if err := s.rdb.Del(ctx, throttleKey(k)).Err(); err != nil {
			return err
		}
	}
	if len(keys) > 0 {
		members := make([]any, len(keys))
		for i, k := range keys {
			members[i] = k
		}
		return s.rdb.ZRem(ctx, keyThrottledIndex, members...).Err()
	}
	return nil
}

// ThrottleState is a counter as staff see it.
type ThrottleState struct {
	Key   string
	Fails int64
	// Until is when the current delay ends (zero when there is none, or
	// it is over).
	Until time.Time
}

// Active reports whether attempts on the counter are refused right now.
func (t ThrottleState) Active(now time.Time) bool { return t.Until.After(now) }

// FindThrottle returns the state of one counter (zero Fails when none).
func (s *Store) FindThrottle(ctx context.Context, key string) (ThrottleState, error) {
	m, err := s.rdb.HGetAll(ctx, throttleKey(key)).Result()
	if err != nil {
		return ThrottleState{}, err
	}
	st := ThrottleState{Key: key}
	st.Fails, _ = strconv.ParseInt(m["fails"], 10, 64)
	if until, _ := strconv.ParseInt(m["until"], 10, 64); until > 0 {
		if t := time.UnixMilli(until); t.After(s.now()) {
			st.Until = t
		}
	}
	return st, nil
}

// FindUserThrottles returns the account counters of a user: password
// attempts (on the user id, and on the username from before the account
// existed or was renamed) and second-factor code attempts. Counters with
// no failures are left out. Client-address counters are not listed: they
// belong to a network, not to the person.
func (s *Store) FindUserThrottles(ctx context.Context, u *User) ([]ThrottleState, error) {
	var out []ThrottleState
	for _, k := range userThrottleKeys(u) {
		st, err := s.FindThrottle(ctx, k)
		if err != nil {
			return nil, err
		}
		if st.Fails > 0 || !st.Until.IsZero() {
			out = append(out, st)
		}
	}
	return out, nil
}

// ResetUserThrottles clears every account counter of a user (see
// FindUserThrottles), as staff do for someone locked out by a stranger.
func (s *Store) ResetUserThrottles(ctx context.Context, u *User) error {
	return s.ThrottleReset(ctx, userThrottleKeys(u)...)
}

func userThrottleKeys(u *User) []string {
	return []string{
		PasswordUserThrottleKey(u.ID),
		PasswordNameThrottleKey(u.Username),
		MFAThrottleKey(u.ID),
	}
}
