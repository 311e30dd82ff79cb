package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The support console's home page shows what is going on without scanning
// every user or session: each figure comes from a small index that the
// write it describes keeps up to date, bounded and trimmed as it goes.
//
//	what                         kept by                          costs per page view
//	sessions active now          CreateSession, TouchSessions     ZREMRANGEBYSCORE + ZCARD
//	sign-ins/failures per hour   AppendEvent, CountFailedSignIn   one HGETALL per hour shown (pipelined)
//	throttled accounts/addresses ThrottleTake, ThrottleFail       one ZRANGEBYSCORE + one HGETALL per entry shown
//	locked and disabled accounts UpdateUser                       one ZREVRANGE + one HGETALL per entry shown
//	accounts signed in from an IP AppendEvent (sign-ins)          one ZREVRANGE + one HGETALL per account shown

// ActiveWindow is how recently a session must have made a request to count
// as active now. Last-seen times are written at most once a
// session.last_seen_interval, so the count lags by about that much.
const ActiveWindow = 15 * time.Minute

// statsRetention is how long an hour's sign-in counts are kept.
const statsRetention = 49 * time.Hour

// IPSeenLimit bounds how many accounts are remembered per client address;
// IPSeenRetention is how long an address is remembered after its last
// sign-in.
const (
	IPSeenLimit     = 100
	IPSeenRetention = 30 * 24 * time.Hour
)

// throttledIndexLimit bounds the throttled index under a flood of
// addresses: past it, the entries whose delay ends soonest are dropped.
const throttledIndexLimit = 10_000

func activeMember(uid, sid string) string { return uid + "\x00" + sid }

// noteActive records sessions as active at their times (in p), and drops
// entries older than ActiveWindow, so the index holds only the sessions
// of the last window.
func (s *Store) noteActive(ctx context.Context, p redis.Pipeliner, zs ...redis.Z) {
	p.ZAdd(ctx, keyActiveIndex, zs...)
	p.ZRemRangeByScore(ctx, keyActiveIndex, "-inf", "("+strconv.FormatInt(s.now().Add(-ActiveWindow).Unix(), 10))
}

// CountActiveSessions returns how many sessions made a request within the
// last ActiveWindow. A session signed out in that window still counts until
// the window passes it by.
func (s *Store) CountActiveSessions(ctx context.Context) (int64, error) {
	pipe := s.rdb.Pipeline()
	pipe.ZRemRangeByScore(ctx, keyActiveIndex, "-inf", "("+strconv.FormatInt(s.now().Add(-ActiveWindow).Unix(), 10))
	n := pipe.ZCard(ctx, keyActiveIndex)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, err
	}
	return n.Val(), nil
}

// Fields of an hour's sign-in counts.
const (
	statSignIn = "sign_in"
	statFailed = "sign_in_failed"
)

func keyStatsHour(t time.Time) string {
	return prefixStatsHour + strconv.FormatInt(t.Unix()/3600, 10)
}

// countStat adds one to an hour's count (in p).
func (s *Store) countStat(ctx context.Context, p redis.Pipeliner, field string) {
	k := keyStatsHour(s.now())
	p.HIncrBy(ctx, k, field, 1)
	p.Expire(ctx, k, statsRetention)
}

// statField is the hourly count an activity event adds to, if any.
func statField(eventType string) string {
	switch eventType {
	case EventSignIn:
		return statSignIn
	case EventSignInFailed, EventMFAFailed:
		return statFailed
	}
	return ""
}

// CountFailedSignIn counts a failed sign-in that has no account to write
// it to (an unknown username), so the hourly failures include it.
func (s *Store) CountFailedSignIn(ctx context.Context) error {
	pipe := s.rdb.Pipeline()
	s.countStat(ctx, pipe, statFailed)
	_, err := pipe.Exec(ctx)
	return err
}

// HourStat is the sign-ins and failed attempts of one hour.
type HourStat struct {
	Hour    time.Time // start of the hour, UTC
	SignIns int64
	Failed  int64
}

// FindHourStats returns the counts of the last n hours, the current one
// last (n at most 48).
func (s *Store) FindHourStats(ctx context.Context, n int) ([]HourStat, error) {
	n = min(max(n, 1), 48)
	now := s.now().UTC().Truncate(time.Hour)
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, n)
	out := make([]HourStat, n)
	for i := range n {
		out[i].Hour = now.Add(-time.Duration(n-1-i) * time.Hour)
		cmds[i] = pipe.HGetAll(ctx, keyStatsHour(out[i].Hour))
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, err
	}
	for i, c := range cmds {
		m := c.Val()
		out[i].SignIns, _ = strconv.ParseInt(m[statSignIn], 10, 64)
		out[i].Failed, _ = strconv.ParseInt(m[statFailed], 10, 64)
	}
	return out, nil
}

// noteIPSeen remembers that uid signed in from ip (in p): the newest
// IPSeenLimit accounts per address, for IPSeenRetention after its last
// sign-in.
func (s *Store) noteIPSeen(ctx context.Context, p redis.Pipeliner, ip, uid string) {
	k := prefixIPSeen + ip
	p.ZAdd(ctx, k, redis.Z{Score: float64(s.now().Unix()), Member: uid})
	p.ZRemRangeByRank(ctx, k, 0, -IPSeenLimit-1)
	p.Expire(ctx, k, IPSeenRetention)
}

// IPSignIn is an account that signed in from an address, and when last.
type IPSignIn struct {
	User *User
	Last time.Time
}

// FindSignInsFromIP lists the accounts that signed in from ip (in the
// canonical form the gateway writes, e.g. "203.0.113.7" or "2001:db8::1")
// within IPSeenRetention, the most recent first, at most limit.
func (s *Store) FindSignInsFromIP(ctx context.Context, ip string, limit int) ([]IPSignIn, error) {
	zs, err := s.rdb.ZRevRangeWithScores(ctx, prefixIPSeen+ip, 0, int64(limit)-1).Result()
	if err != nil {
		return nil, err
	}
	out := make([]IPSignIn, 0, len(zs))
	for _, z := range zs {
		uid, _ := z.Member.(string)
		u, err := s.FindUserByID(ctx, uid)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, IPSignIn{User: u, Last: time.Unix(int64(z.Score), 0).UTC()})
	}
	return out, nil
}

// noteThrottled records that key is in a delay until untilMs, and trims
// the index: delays that are over, and the soonest-ending past the limit.
func (s *Store) noteThrottled(ctx context.Context, key string, untilMs int64) {
	pipe := s.rdb.Pipeline()
	pipe.ZAdd(ctx, keyThrottledIndex, redis.Z{Score: float64(untilMs), Member: key})
	pipe.ZRemRangeByScore(ctx, keyThrottledIndex, "-inf", "("+strconv.FormatInt(s.now().UnixMilli(), 10))
	pipe.ZRemRangeByRank(ctx, keyThrottledIndex, 0, -throttledIndexLimit-1)
	if _, err := pipe.Exec(ctx); err != nil {
		// The delay itself is in force; only the console's list misses it.
		s.log.Warn("note throttled key", "err", err.Error())
	}
}

// Kinds of throttled counters, as FindThrottled reports them.
const (
	ThrottledAccount     = "account"      // password attempts on an account
	ThrottledAccountCode = "account_code" // verification code attempts on an account
	ThrottledUnknownName = "unknown_name" // password attempts on a username that does not exist
	ThrottledAddress     = "address"      // password attempts from a client address (or IPv6 /64)
	ThrottledBrowser     = "browser"      // password attempts from a browser known to an account
)

// Throttled is one counter whose delay is in force now.
type Throttled struct {
	Kind string
	// Subject is the username (accounts, unknown names) or the address.
	Subject string
	// User is the account for ThrottledAccount and ThrottledAccountCode.
	User  *User
	Fails int64
	Until time.Time
}

// FindThrottled lists counters whose delay is in force now, the longest
// delay first, at most limit.
func (s *Store) FindThrottled(ctx context.Context, limit int) ([]Throttled, error) {
	now := s.now().UnixMilli()
	keys, err := s.rdb.ZRevRangeByScore(ctx, keyThrottledIndex, &redis.ZRangeBy{
		Min: "(" + strconv.FormatInt(now, 10), Max: "+inf", Count: int64(limit),
	}).Result()
	if err != nil {
		return nil, err
	}
	var out []Throttled
	for _, k := range keys {
		st, err := s.FindThrottle(ctx, k)
		if err != nil {
			return nil, err
		}
		if st.Until.IsZero() {
			continue // reset or refunded since
		}
		t := Throttled{Fails: st.Fails, Until: st.Until.UTC()}
		switch {
		case strings.HasPrefix(k, throttlePasswordUser), strings.HasPrefix(k, throttleMFAUser):
			t.Kind = ThrottledAccount
			uid := k[len(throttlePasswordUser):]
			if strings.HasPrefix(k, throttleMFAUser) {
				t.Kind, uid = ThrottledAccountCode, k[len(throttleMFAUser):]
			}
			u, err := s.FindUserByID(ctx, uid)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			t.User, t.Subject = u, u.Username
		case strings.HasPrefix(k, throttlePasswordName):
			t.Kind, t.Subject = ThrottledUnknownName, k[len(throttlePasswordName):]
		case strings.HasPrefix(k, throttlePasswordIP):
			t.Kind, t.Subject = ThrottledAddress, k[len(throttlePasswordIP):]
		case strings.HasPrefix(k, throttlePasswordDev):
			t.Kind = ThrottledBrowser
		default:
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// noteLocked keeps the locked index in step with a change of Disabled.
func (s *Store) noteLocked(ctx context.Context, uid string, disabled bool) error {
	if disabled {
		return s.rdb.ZAdd(ctx, keyLockedIndex, redis.Z{Score: float64(s.now().Unix()), Member: uid}).Err()
	}
	return s.rdb.ZRem(ctx, keyLockedIndex, uid).Err()
}

// FindLockedUsers lists locked and disabled accounts, the most recently
// locked first, at most limit, and how many there are in all. The first
// call on a data set from before the index existed builds it with one pass
// over the users; every later call reads the index only.
func (s *Store) FindLockedUsers(ctx context.Context, limit int) ([]*User, int64, error) {
	if err := s.buildLockedIndex(ctx); err != nil {
		return nil, 0, err
	}
	pipe := s.rdb.Pipeline()
	ids := pipe.ZRevRange(ctx, keyLockedIndex, 0, int64(limit)-1)
	total := pipe.ZCard(ctx, keyLockedIndex)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, 0, err
	}
	var out []*User
	for _, uid := range ids.Val() {
		u, err := s.FindUserByID(ctx, uid)
		if errors.Is(err, ErrNotFound) || (err == nil && !u.Disabled) {
			s.rdb.ZRem(ctx, keyLockedIndex, uid) // stale: deleted or unlocked meanwhile
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		out = append(out, u)
	}
	return out, total.Val(), nil
}

// buildLockedIndex adds every disabled user to the locked index once.
func (s *Store) buildLockedIndex(ctx context.Context) error {
	n, err := s.rdb.Exists(ctx, keyLockedBuilt).Result()
	if err != nil || n == 1 {
		return err
	}
	members, err := s.rdb.ZRange(ctx, keyUserIndex, 0, -1).Result()
	if err != nil {
		return err
	}
	for _, m := range members {
		_, uid, _ := strings.Cut(m, "\x00")
		u, err := s.FindUserByID(ctx, uid)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if u.Disabled {
			// NX: an entry made by a lock since keeps its own time.
			if err := s.rdb.ZAddNX(ctx, keyLockedIndex, redis.Z{Score: float64(u.Created.Unix()), Member: uid}).Err(); err != nil {
				return err
			}
		}
	}
	return s.rdb.Set(ctx, keyLockedBuilt, "1", 0).Err()
}
