package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ResetLinkTTL is how long a password-reset link works.
const ResetLinkTTL = 24 * time.Hour

// ResetLink is a one-time password-reset link, as stored: the token itself
// is never stored, only its SHA-256, so a copy of Redis yields no usable link.
type ResetLink struct {
	UserID    string
	CreatedBy string // the staff member or token that made it
	Created   time.Time
	Expires   time.Time
}

// hashToken is the lookup key of a high-entropy bearer secret. A plain hash
// is enough (no salt, no stretching) because the secret is 256 random bits.
func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func keyResetLink(hash string) string    { return prefixResetLink + "t:" + hash }
func keyResetLinkUser(uid string) string { return prefixResetLink + "u:" + uid }

// CreateResetLink makes a single-use link token for uid that works for ttl,
// and retires any earlier link of the same user, so only the newest one
// works. It returns the token (shown once, never stored).
func (s *Store) CreateResetLink(ctx context.Context, uid, createdBy string, ttl time.Duration) (string, *ResetLink, error) {
	tok := randomToken(32)
	h := hashToken(tok)
	now := s.now()
	link := &ResetLink{UserID: uid, CreatedBy: createdBy, Created: now.UTC(), Expires: now.Add(ttl).UTC()}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, keyResetLink(h), map[string]any{
		"uid": uid, "by": createdBy, "created": now.UnixMilli(), "expires": link.Expires.UnixMilli(),
	})
	pipe.PExpire(ctx, keyResetLink(h), ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", nil, err
	}
	old, err := s.rdb.SetArgs(ctx, keyResetLinkUser(uid), h, redis.SetArgs{TTL: ttl, Get: true}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", nil, err
	}
	if old != "" && old != h {
		if err := s.rdb.Del(ctx, keyResetLink(old)).Err(); err != nil {
			return "", nil, err
		}
	}
	return tok, link, nil
}

// FindResetLink looks a token up without using it (to show the form), or
// returns ErrNotFound when it is unknown, used, replaced or expired.
func (s *Store) FindResetLink(ctx context.Context, tok string) (*ResetLink, error) {
	if tok == "" || len(tok) > 128 {
		return nil, ErrNotFound
	}
	m, err := s.rdb.HGetAll(ctx, keyResetLink(hashToken(tok))).Result()
	if err != nil {
		return nil, err
	}
	return s.liveResetLink(m)
}

// ConsumeResetLink uses up a token: of two requests racing with the same
// token, exactly one gets the link, the other ErrNotFound.
func (s *Store) ConsumeResetLink(ctx context.Context, tok string) (*ResetLink, error) {
	if tok == "" || len(tok) > 128 {
		return nil, ErrNotFound
	}
	h := hashToken(tok)
	vals, err := consumeLinkScript.Run(ctx, s.rdb, []string{keyResetLink(h)}).StringSlice()
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for i := 0; i+1 < len(vals); i += 2 {
		m[vals[i]] = vals[i+1]
	}
	link, err := s.liveResetLink(m)
	if err != nil {
		return nil, err
	}
	// The per-user pointer lives in another cluster slot; drop it only if it
	// still names this link (a newer link may have replaced it).
	_ = dropPointerScript.Run(ctx, s.rdb, []string{keyResetLinkUser(link.UserID)}, h).Err()
	return link, nil
}

// RetireResetLink makes uid's outstanding link (if any) stop working, for
// when what the link would hand over changes: a link made for a plain user
// must not open the account once it holds staff roles.
func (s *Store) RetireResetLink(ctx context.Context, uid string) error {
	h, err := s.rdb.Get(ctx, keyResetLinkUser(uid)).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.rdb.Del(ctx, keyResetLink(h)).Err(); err != nil {
		return err
	}
	return dropPointerScript.Run(ctx, s.rdb, []string{keyResetLinkUser(uid)}, h).Err()
}

var consumeLinkScript = redis.NewScript(`
local v = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return v`)

var dropPointerScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`)

// liveResetLink parses a stored link, refusing one past its expiry even if
// Redis has not dropped the key yet.
func (s *Store) liveResetLink(m map[string]string) (*ResetLink, error) {
	if m["uid"] == "" {
		return nil, ErrNotFound
	}
	created, _ := strconv.ParseInt(m["created"], 10, 64)
	expires, _ := strconv.ParseInt(m["expires"], 10, 64)
	link := &ResetLink{
		UserID: m["uid"], CreatedBy: m["by"],
		Created: time.UnixMilli(created).UTC(), Expires: time.UnixMilli(expires).UTC(),
	}
	if !s.now().Before(link.Expires) {
		return nil, ErrNotFound
	}
	return link, nil
}
