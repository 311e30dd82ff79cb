package store

import (
	"context"
	"strconv"
	"time"
)

// One-time tokens are the secrets of links sent by mail other than
// password-reset links (resetlink.go): "This wasn't me" and the
// confirmation of a new e-mail address. As with reset links only the
// token's SHA-256 is stored, so a copy of Redis yields no usable link, and
// using a token deletes it atomically, so it works once.

// Kinds of one-time token.
const (
	TokenWasntMe     = "wasntme"      // "This wasn't me" in a new-device alert
	TokenVerifyEmail = "verify_email" // confirms an address added on the account page
)

// Lifetimes of the links sent by mail.
const (
	WasntMeTTL     = 7 * 24 * time.Hour
	VerifyEmailTTL = 24 * time.Hour
	// ForgotResetTTL is how long a reset link asked for on the sign-in page
	// works (a link made by support lives ResetLinkTTL).
	ForgotResetTTL = 30 * time.Minute
)

// OneTime is a stored one-time token.
type OneTime struct {
	Kind    string
	UserID  string
	Data    string // what the token is for (the address to confirm); never a secret
	Created time.Time
	Expires time.Time
}

func keyOneTime(kind, hash string) string { return "gw:onetime:" + kind + ":" + hash }

// CreateOneTime makes a token of kind for uid that works once within ttl,
// and returns it (never stored).
func (s *Store) CreateOneTime(ctx context.Context, kind, uid, data string, ttl time.Duration) (string, error) {
	tok := randomToken(32)
	now := s.now()
	key := keyOneTime(kind, hashToken(tok))
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, key, map[string]any{
		"uid": uid, "data": data, "created": now.UnixMilli(), "expires": now.Add(ttl).UnixMilli(),
	})
	pipe.PExpire(ctx, key, ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", err
	}
	return tok, nil
}

// FindOneTime looks a token up without using it, or returns ErrNotFound.
func (s *Store) FindOneTime(ctx context.Context, kind, tok string) (*OneTime, error) {
	if tok == "" || len(tok) > 128 {
		return nil, ErrNotFound
	}
	m, err := s.rdb.HGetAll(ctx, keyOneTime(kind, hashToken(tok))).Result()
	if err != nil {
		return nil, err
	}
	return s.liveOneTime(kind, m)
}

// ConsumeOneTime uses a token up: of two racing requests exactly one gets
// it, the other ErrNotFound.
func (s *Store) ConsumeOneTime(ctx context.Context, kind, tok string) (*OneTime, error) {
	if tok == "" || len(tok) > 128 {
		return nil, ErrNotFound
	}
	vals, err := consumeLinkScript.Run(ctx, s.rdb, []string{keyOneTime(kind, hashToken(tok))}).StringSlice()
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for i := 0; i+1 < len(vals); i += 2 {
		m[vals[i]] = vals[i+1]
	}
	return s.liveOneTime(kind, m)
}

func (s *Store) liveOneTime(kind string, m map[string]string) (*OneTime, error) {
	if m["uid"] == "" {
		return nil, ErrNotFound
	}
	created, _ := strconv.ParseInt(m["created"], 10, 64)
	expires, _ := strconv.ParseInt(m["expires"], 10, 64)
	t := &OneTime{Kind: kind, UserID: m["uid"], Data: m["data"],
		Created: time.UnixMilli(created).UTC(), Expires: time.UnixMilli(expires).UTC()}
	if !s.now().Before(t.Expires) {
		return nil, ErrNotFound
	}
	return t, nil
}
