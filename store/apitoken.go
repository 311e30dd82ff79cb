package store

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// APITokenPrefix starts every API token, so a leaked one is easy to spot
// (secret scanners, logs) and easy to tell from a session cookie.
const APITokenPrefix = "gwt_"

// Lifetimes of API tokens: the default offered, and the longest allowed.
const (
	APITokenDefaultTTL = 90 * 24 * time.Hour
	APITokenMaxTTL     = 365 * 24 * time.Hour
)

// apiTokenKeep is how long a token's record outlives its expiry, so a
// caller still using it is told it expired (not that it is unknown) and
// admins see it in the list for a while.
const apiTokenKeep = 30 * 24 * time.Hour

// APIToken is a bearer credential for staff automation. Only the SHA-256 of
// the secret is stored; the secret is shown once, when it is made.
type APIToken struct {
	ID   string
	Name string
	// Role is what the token may do: RoleSupport or RoleAdmin.
	Role string
	// OwnerID is the user id of the admin who made it: the token works only
	// while its owner may still do what the token does (CoveredBy).
	// Empty for tokens made before tokens had owners, which are refused.
	OwnerID string
	// CreatedBy is the username of the admin who made it (its owner).
	CreatedBy string
	Created   time.Time
	// Expires is when the token stops working; zero for tokens made before
	// tokens expired, which are refused.
	Expires  time.Time
	LastUsed time.Time // zero when never used
}

func keyAPIToken(hash string) string { return prefixAPIToken + hash }

// CoveredBy is the rule that ties a token to its owner: the owner exists,
// is neither locked nor disabled, and holds a staff role at least as strong
// as the token's. The staff API checks it on every call, against the
// replica's in-memory state of the owner; RetireAPITokensOf applies it when
// an owner is locked, disabled or demoted.
func (t *APIToken) CoveredBy(owner *UserState) bool {
	if owner == nil || owner.Disabled || owner.ID != t.OwnerID {
		return false
	}
	switch t.Role {
	case RoleAdmin:
		return owner.HasRole(RoleAdmin)
	case RoleSupport:
		return owner.HasRole(RoleAdmin) || owner.HasRole(RoleSupport)
	}
	return false
}

// RetireAPITokensOf revokes the tokens owned by owner.ID that owner, in the
// state given (the state just written), no longer covers, and returns
// them: so a token killed by locking, disabling or demoting its owner stays
// dead when the owner is restored.
func (s *Store) RetireAPITokensOf(ctx context.Context, owner *UserState) ([]*APIToken, error) {
	return s.revokeAPITokens(ctx, func(t *APIToken) bool { return t.OwnerID == owner.ID && !t.CoveredBy(owner) })
}

// RevokeAPITokensOwnedBy revokes every token owned by uid, whatever the
// owner's state, and returns them: for when whoever was signed in to the
// account may have made them (SecureAccount).
func (s *Store) RevokeAPITokensOwnedBy(ctx context.Context, uid string) ([]*APIToken, error) {
	return s.revokeAPITokens(ctx, func(t *APIToken) bool { return t.OwnerID == uid })
}

// revokeAPITokens revokes the tokens revoke picks and returns them.
func (s *Store) revokeAPITokens(ctx context.Context, revoke func(*APIToken) bool) ([]*APIToken, error) {
	all, err := s.FindAPITokens(ctx)
	if err != nil {
		return nil, err
	}
	var out []*APIToken
	for _, t := range all {
		if !revoke(t) {
			continue
		}
		if _, err := s.DeleteAPIToken(ctx, t.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return out, err
		}
		out = append(out, t)
	}
	return out, nil
}

// CreateAPIToken stores t, owned by t.OwnerID, working for ttl (at most
// APITokenMaxTTL); ID, Created and Expires are filled in. It returns the
// secret, which is not kept anywhere.
func (s *Store) CreateAPIToken(ctx context.Context, t *APIToken, ttl time.Duration) (string, error) {
	if t.Role != RoleSupport && t.Role != RoleAdmin {
		return "", errors.New("token role must be support or admin")
	}
	if t.OwnerID == "" {
		return "", errors.New("token needs an owner")
	}
	if ttl <= 0 || ttl > APITokenMaxTTL {
		return "", errors.New("token lifetime must be between 1 second and 365 days")
	}
	secret := APITokenPrefix + randomToken(32)
	h := hashToken(secret)
	t.ID = randomToken(9)
	now := s.now().UTC()
	t.Created, t.Expires = now.Truncate(time.Second), now.Add(ttl).Truncate(time.Millisecond)
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, keyAPIToken(h), map[string]any{
		"id": t.ID, "name": t.Name, "role": t.Role, "owner": t.OwnerID, "by": t.CreatedBy,
		"created": t.Created.Unix(), "expires": t.Expires.UnixMilli(),
	})
	pipe.PExpireAt(ctx, keyAPIToken(h), t.Expires.Add(apiTokenKeep))
	if _, err := pipe.Exec(ctx); err != nil {
		return "", err
	}
	if err := s.rdb.HSet(ctx, keyAPITokens, t.ID, h).Err(); err != nil {
		s.rdb.Del(ctx, keyAPIToken(h))
		return "", err
	}
	return secret, nil
}

// FindAPITokenBySecret returns the token a bearer secret belongs to, or
// ErrNotFound. The lookup is by hash, so it takes the same time whatever
// part of a guess is right. It records the use.
func (s *Store) FindAPITokenBySecret(ctx context.Context, secret string) (*APIToken, error) {
	if len(secret) > 128 || len(secret) <= len(APITokenPrefix) || secret[:len(APITokenPrefix)] != APITokenPrefix {
		return nil, ErrNotFound
	}
	key := keyAPIToken(hashToken(secret))
	m, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	if m["id"] == "" {
		return nil, ErrNotFound
	}
	// Best effort, only if the token still exists (a racing revoke wins).
	_ = touchTokenScript.Run(ctx, s.rdb, []string{key}, s.now().Unix()).Err()
	return parseAPIToken(m), nil
}

var touchTokenScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'used', ARGV[1]) end
return 0`)

func parseAPIToken(m map[string]string) *APIToken {
	created, _ := strconv.ParseInt(m["created"], 10, 64)
	used, _ := strconv.ParseInt(m["used"], 10, 64)
	expires, _ := strconv.ParseInt(m["expires"], 10, 64)
	t := &APIToken{
		ID: m["id"], Name: m["name"], Role: m["role"], OwnerID: m["owner"], CreatedBy: m["by"],
		Created: time.Unix(created, 0).UTC(),
	}
	if used > 0 {
		t.LastUsed = time.Unix(used, 0).UTC()
	}
	if expires > 0 {
		t.Expires = time.UnixMilli(expires).UTC()
	}
	return t
}

// FindAPITokens lists every token, newest first, and forgets index entries
// of tokens Redis has dropped (apiTokenKeep after their expiry).
func (s *Store) FindAPITokens(ctx context.Context) ([]*APIToken, error) {
	idx, err := s.rdb.HGetAll(ctx, keyAPITokens).Result()
	if err != nil {
		return nil, err
	}
	out := make([]*APIToken, 0, len(idx))
	for id, h := range idx {
		m, err := s.rdb.HGetAll(ctx, keyAPIToken(h)).Result()
		if err != nil {
			return nil, err
		}
		if m["id"] != "" {
			out = append(out, parseAPIToken(m))
		} else {
			_ = s.rdb.HDel(ctx, keyAPITokens, id).Err()
		}
	}
	slices.SortFunc(out, func(a, b *APIToken) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// DeleteAPIToken revokes a token by id; the next call with it fails.
// Returns the token as it was, or ErrNotFound.
func (s *Store) DeleteAPIToken(ctx context.Context, id string) (*APIToken, error) {
	h, err := s.rdb.HGet(ctx, keyAPITokens, id).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	m, err := s.rdb.HGetAll(ctx, keyAPIToken(h)).Result()
	if err != nil {
		return nil, err
	}
	if err := s.rdb.Del(ctx, keyAPIToken(h)).Err(); err != nil {
		return nil, err
	}
	if err := s.rdb.HDel(ctx, keyAPITokens, id).Err(); err != nil {
		return nil, err
	}
	if m["id"] == "" {
		return nil, ErrNotFound
	}
	return parseAPIToken(m), nil
}
