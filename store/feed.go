package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Kinds of entries in the change feed that every replica follows.
const (
	feedSession    = "s" // a session id was revoked
	feedUser       = "u" // a user changed (disabled, roles, signed out everywhere…)
	feedGeneration = "g" // every session ended: a new store generation
)

// detach gives a change a context of its own. Replicas learn of a change only
// from its feed entry, and the steps around the atomic write (the session
// record, the user's record) must not be cut off by the caller's context
// ending in between (a client hanging up ends a request's context).
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// change is one fact the other replicas must follow. It is written together
// with its feed entry by changeScript, or not at all.
type change struct {
	kind string
	uid  string
	sid  string // feedSession: the session; feedGeneration: the new generation
	// e is, for feedSession, the unix time the session would have expired;
	// for feedUser, the "signed out before" time in unix nanos (0: the entry
	// only says the user's record changed).
	e int64
}

// ErrFeed wraps a failed atomic change: neither the change nor its feed
// entry was written.
var ErrFeed = errors.New("change not written")

// commit writes changes and their feed entries in one script over the keys
// of the one shared slot: each change and its entry are applied together or
// not at all, so no replica can miss a revocation that Redis holds.
func (s *Store) commit(ctx context.Context, changes ...change) error {
	return s.commitFrom(ctx, 0, changes)
}

// commitFrom is commit that first raises the feed's sequence number to at
// least minSeq: after a rollback, entries written back must carry numbers
// above any a replica has already seen, or it would take the gap for the
// rollback it already handled.
func (s *Store) commitFrom(ctx context.Context, minSeq int64, changes []change) error {
	args := make([]any, 0, 2+4*len(changes))
	args = append(args, s.FeedLimit, minSeq)
	for _, c := range changes {
		args = append(args, c.kind, c.uid, c.sid, strconv.FormatInt(c.e, 10))
	}
	return s.runChange(ctx, args)
}

// changeScript applies changes and appends their feed entries. Every check
// that could fail comes before the first write (a script's writes are not
// undone by a later error), so it writes all or nothing. Revocations only
// move forward: a revoked id's expiry and a user's "signed out before" time
// are raised, never lowered, so a late or repeated write cannot revive a
// session. Each entry gets the next sequence number, so a follower that sees
// a gap (a trimmed stream, a lost write) reloads.
var changeScript = redis.NewScript(`
local want = {stream=1, string=2, zset=3, hash=4}
local need = {'stream', 'string', 'zset', 'hash', 'string'}
for i = 1, 5 do
  local t = redis.call('TYPE', KEYS[i])['ok']
  if t ~= 'none' and t ~= need[i] then
    return redis.error_reply('gateway key ' .. KEYS[i] .. ' holds a ' .. t .. ', not a ' .. need[i])
  end
end
local cur = redis.call('GET', KEYS[2])
if cur and not tonumber(cur) then return redis.error_reply('gateway key ' .. KEYS[2] .. ' is not a number') end
cur = tonumber(cur or '0')
local minSeq = tonumber(ARGV[2])
if minSeq > cur then redis.call('SET', KEYS[2], minSeq) end
local last = ''
for i = 3, #ARGV, 4 do
  local k, u, s, e = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3]
  if k == 's' then
    local old = redis.call('ZSCORE', KEYS[3], s)
    if (not old) or tonumber(old) < tonumber(e) then redis.call('ZADD', KEYS[3], e, s) end
  elseif k == 'u' and e ~= '0' then
    local old = tonumber(redis.call('HGET', KEYS[4], u) or '0') or 0
    if tonumber(e) > old then redis.call('HSET', KEYS[4], u, e) end
  elseif k == 'g' then
    redis.call('SET', KEYS[5], s)
    redis.call('DEL', KEYS[3], KEYS[4])
  end
  local n = redis.call('INCR', KEYS[2])
  last = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'n', n, 'k', k, 'u', u, 's', s, 'e', e)
end
return last`)

// snapshot is the shared slot's state, read in one transaction so that a
// follower starting from it misses no entry and sees no change twice.
type snapshot struct {
	gen       string
	lastID    string
	seq       int64
	revoked   map[string]int64 // session id -> unix expiry (live ones)
	signedOut map[string]int64 // uid -> unix nanos
}

// loadSnapshot reads the shared slot in one MULTI/EXEC, creating the
// generation if there is none (a new or emptied data set).
func (s *Store) loadSnapshot(ctx context.Context) (*snapshot, error) {
	if _, err := s.Generation(ctx); err != nil {
		return nil, err
	}
	now := strconv.FormatInt(s.now().Unix(), 10)
	pipe := s.rdb.TxPipeline()
	pipe.ZRemRangeByScore(ctx, keyRevoked, "-inf", now)
	gen := pipe.Get(ctx, keyGeneration)
	last := pipe.XRevRangeN(ctx, keyFeed, "+", "-", 1)
	seq := pipe.Get(ctx, keyFeedSeq)
	rev := pipe.ZRangeByScoreWithScores(ctx, keyRevoked, &redis.ZRangeBy{Min: "(" + now, Max: "+inf"})
	so := pipe.HGetAll(ctx, keySignedOut)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	snap := &snapshot{gen: gen.Val(), lastID: "0-0", revoked: map[string]int64{}, signedOut: map[string]int64{}}
	if snap.gen == "" {
		return nil, errors.New("store generation vanished while loading")
	}
	if msgs := last.Val(); len(msgs) == 1 {
		snap.lastID = msgs[0].ID
	}
	snap.seq, _ = strconv.ParseInt(seq.Val(), 10, 64)
	for _, z := range rev.Val() {
		snap.revoked[z.Member.(string)] = int64(z.Score)
	}
	var stale []string
	for uid, v := range so.Val() {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
		case s.staleCut(n):
			stale = append(stale, uid)
		default:
			snap.signedOut[uid] = n
		}
	}
	if len(stale) > 0 {
		// Only times no live session can predate; every replica skips
		// them alike, so none takes their absence for a rollback.
		s.rdb.HDel(ctx, keySignedOut, stale...)
	}
	return snap, nil
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
