package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// HandoffTTL bounds how long a sign-in handoff code lives in Redis; the
// record's own Expires (from the gateway's clock) may end it sooner.
const HandoffTTL = 60 * time.Second

// Handoff is what a one-time sign-in handoff code stands for: the portal's
// session, to be named by a cookie on one app host, and where to go there.
// Only the code's SHA-256 is stored, so a copy of Redis yields no code.
type Handoff struct {
	Claims  Claims    `json:"claims"`
	Host    string    `json:"host"`   // the app host (host[:port]) the code is for
	Target  string    `json:"target"` // local path and query on that host
	Expires time.Time `json:"expires"`
	// Browser is the SHA-256 of the app host's handoff cookie in the
	// browser that asked for the code: the callback takes the code only
	// from that browser, so a code handed to someone else (a sign-in
	// forced on a victim with the attacker's code) signs no one in.
	Browser string `json:"browser"`
}

// HandoffBinding is what Handoff.Browser holds for a browser's handoff
// cookie value.
func HandoffBinding(cookie string) string { return hashToken(cookie) }

// NewHandoffBrowserID is a fresh value for an app host's handoff cookie
// (128 random bits).
func NewHandoffBrowserID() string { return randomToken(16) }

func keyHandoff(hash string) string { return prefixHandoff + hash }

// CreateHandoff stores h under a fresh code (256 random bits) for at most
// HandoffTTL and returns the code.
func (s *Store) CreateHandoff(ctx context.Context, h *Handoff) (string, error) {
	code := randomToken(32)
	b, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	if err := s.rdb.Set(ctx, keyHandoff(hashToken(code)), b, HandoffTTL).Err(); err != nil {
		return "", err
	}
	return code, nil
}

// TakeHandoff uses up a code (GETDEL: of two requests with one code, one
// gets the handoff and the other ErrNotFound, as do unknown and expired
// codes).
func (s *Store) TakeHandoff(ctx context.Context, code string) (*Handoff, error) {
	if code == "" || len(code) > 128 {
		return nil, ErrNotFound
	}
	b, err := s.rdb.GetDel(ctx, keyHandoff(hashToken(code))).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var h Handoff
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, ErrNotFound
	}
	return &h, nil
}
