package store

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Session is one signed-in device of a user.
type Session struct {
	ID        string
	UserID    string
	Created   time.Time
	LastSeen  time.Time
	Expires   time.Time // absolute end of the session
	IP        string
	UserAgent string
	// Name is a label the person gave the device ("work laptop").
	Name string
}

// CreateSession stores s under its user until s.Expires.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
	key := keySession(sess.UserID, sess.ID)
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, key, map[string]any{
		"id": sess.ID, "uid": sess.UserID, "created": sess.Created.UnixNano(),
		"last_seen": sess.LastSeen.Unix(), "expires": sess.Expires.Unix(),
		"ip": sess.IP, "ua": sess.UserAgent, "name": sess.Name,
	})
	pipe.ExpireAt(ctx, key, sess.Expires)
	pipe.ZAdd(ctx, keySessions(sess.UserID), redis.Z{Score: float64(sess.Expires.Unix()), Member: sess.ID})
	pipe.ZRemRangeByScore(ctx, keySessions(sess.UserID), "-inf", strconv.FormatInt(s.now().Unix(), 10))
	_, err := pipe.Exec(ctx)
	if err != nil {
		return err
	}
	// The console's "active now" (dashboard.go), outside the transaction:
	// the index lives in another cluster slot.
	ap := s.rdb.Pipeline()
	s.noteActive(ctx, ap, redis.Z{Score: float64(sess.LastSeen.Unix()), Member: activeMember(sess.UserID, sess.ID)})
	if _, err := ap.Exec(ctx); err != nil {
		s.log.Warn("note active session", "err", err.Error())
	}
	// Keep the index alive as long as its longest-lived session.
	if maxes, err := s.rdb.ZRevRangeWithScores(ctx, keySessions(sess.UserID), 0, 0).Result(); err == nil && len(maxes) == 1 {
		s.rdb.ExpireAt(ctx, keySessions(sess.UserID), time.Unix(int64(maxes[0].Score), 0))
	}
	return nil
}

// FindSession loads one session of a user, or ErrNotFound.
func (s *Store) FindSession(ctx context.Context, uid, sid string) (*Session, error) {
	m, err := s.rdb.HGetAll(ctx, keySession(uid, sid)).Result()
	if err != nil {
		return nil, err
	}
	if len(m) == 0 || m["id"] == "" {
		return nil, ErrNotFound
	}
	return parseSession(m), nil
}

func parseSession(m map[string]string) *Session {
	created, _ := strconv.ParseInt(m["created"], 10, 64)
	seen, _ := strconv.ParseInt(m["last_seen"], 10, 64)
	exp, _ := strconv.ParseInt(m["expires"], 10, 64)
	return &Session{
		ID: m["id"], UserID: m["uid"], Created: time.Unix(0, created).UTC(),
		LastSeen: time.Unix(seen, 0).UTC(), Expires: time.Unix(exp, 0).UTC(),
		IP: m["ip"], UserAgent: m["ua"], Name: m["name"],
	}
}

// FindSessions lists a user's live sessions, newest activity first. Sessions
// killed by a sign-out-everywhere timestamp are left out (and cleaned up).
func (s *Store) FindSessions(ctx context.Context, uid string) ([]*Session, error) {
	now := s.now()
	ids, err := s.rdb.ZRangeByScore(ctx, keySessions(uid), &redis.ZRangeBy{Min: "(" + strconv.FormatInt(now.Unix(), 10), Max: "+inf"}).Result()
	if err != nil {
		return nil, err
	}
	u, err := s.FindUserByID(ctx, uid)
	if err != nil {
		return nil, err
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, sid := range ids {
		cmds[i] = pipe.HGetAll(ctx, keySession(uid, sid))
	}
	if len(ids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
			return nil, err
		}
	}
	var out []*Session
	var dead []any
	for i, c := range cmds {
		m := c.Val()
		if len(m) == 0 {
			dead = append(dead, ids[i])
			continue
		}
		sess := parseSession(m)
		if sess.Created.Before(u.SignedOutBefore) {
			dead = append(dead, ids[i])
			continue
		}
		out = append(out, sess)
	}
	if len(dead) > 0 {
		s.rdb.ZRem(ctx, keySessions(uid), dead...)
	}
	slices.SortFunc(out, func(a, b *Session) int { return b.LastSeen.Compare(a.LastSeen) })
	return out, nil
}

// RenameSession sets the device name a person gave a session.
func (s *Store) RenameSession(ctx context.Context, uid, sid, name string) error {
	n, err := renameScript.Run(ctx, s.rdb, []string{keySession(uid, sid)}, name).Int()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

var renameScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[1])
return 1`)

// SessionTouch is one batched last-seen update.
type SessionTouch struct {
	UserID, SessionID string
	At                time.Time
	IP                string
}

// TouchSessions writes batched last-seen times (and the latest IP) for
// sessions that still exist; it never resurrects an expired session record.
// It returns the touches whose session record is gone (deleted, expired or
// evicted), so the caller can end those sessions for good.
func (s *Store) TouchSessions(ctx context.Context, touches []SessionTouch) ([]SessionTouch, error) {
	if len(touches) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(touches))
	active := make([]redis.Z, len(touches))
	for i, t := range touches {
		cmds[i] = touchScript.Eval(ctx, pipe, []string{keySession(t.UserID, t.SessionID)}, t.At.Unix(), t.IP)
		active[i] = redis.Z{Score: float64(t.At.Unix()), Member: activeMember(t.UserID, t.SessionID)}
	}
	s.noteActive(ctx, pipe, active...)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	var gone []SessionTouch
	for i, c := range cmds {
		if n, err := c.Int(); err == nil && n == 0 {
			gone = append(gone, touches[i])
		}
	}
	return gone, nil
}

var touchScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'last_seen', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'ip', ARGV[2]) end
return 1`)
