package store

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// NewSignIn is one sign-in from a browser that had not signed in to the
// account before, kept for the Login & Security page until the person
// answers it or NewSignInTTL passes. One per session: a device is flagged
// once.
type NewSignIn struct {
	SessionID string    `json:"sid"`
	Time      time.Time `json:"t"`
	IP        string    `json:"ip,omitempty"`
	Device    string    `json:"ua,omitempty"`
	Detail    string    `json:"d,omitempty"`
}

// NewSignInTTL is how long an unanswered new sign-in stays on the page.
const NewSignInTTL = 14 * 24 * time.Hour

// maxNewSignIns bounds the record per user: an attacker signing in again
// and again pushes out only the oldest entries, never grows the key.
const maxNewSignIns = 20

// keyNewSignIns is a hash per user, session id -> NewSignIn JSON, under the
// user's hash tag so it lives in the user's Redis Cluster slot.
func keyNewSignIns(uid string) string { return prefixNewSignIns + uid + "}" }

// AddNewSignIn records n for uid. The key's TTL is renewed to NewSignInTTL
// (every entry in it is younger), and the oldest entries beyond
// maxNewSignIns are dropped.
func (s *Store) AddNewSignIn(ctx context.Context, uid string, n NewSignIn) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	key := keyNewSignIns(uid)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, n.SessionID, b)
		p.Expire(ctx, key, NewSignInTTL)
		return nil
	})
	if err != nil {
		return err
	}
	all, err := s.FindNewSignIns(ctx, uid)
	if err != nil || len(all) <= maxNewSignIns {
		return err
	}
	old := make([]string, 0, len(all)-maxNewSignIns)
	for _, e := range all[maxNewSignIns:] {
		old = append(old, e.SessionID)
	}
	return s.rdb.HDel(ctx, key, old...).Err()
}

// FindNewSignIns returns uid's unanswered new sign-ins of the last
// NewSignInTTL, newest first; older ones are dropped as they are found.
func (s *Store) FindNewSignIns(ctx context.Context, uid string) ([]NewSignIn, error) {
	key := keyNewSignIns(uid)
	m, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	cutoff := s.now().Add(-NewSignInTTL)
	out := make([]NewSignIn, 0, len(m))
	var stale []string
	for sid, v := range m {
		var n NewSignIn
		if json.Unmarshal([]byte(v), &n) != nil || n.Time.Before(cutoff) {
			stale = append(stale, sid)
			continue
		}
		n.SessionID = sid
		out = append(out, n)
	}
	if len(stale) > 0 {
		_ = s.rdb.HDel(ctx, key, stale...).Err() // tidying only; they are not shown either way
	}
	slices.SortFunc(out, func(a, b NewSignIn) int { return b.Time.Compare(a.Time) })
	return out, nil
}

// DismissNewSignIn removes the entry of session sid ("Yes, that was me").
// An entry already gone is not an error: the answer is the same.
func (s *Store) DismissNewSignIn(ctx context.Context, uid, sid string) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	return s.rdb.HDel(ctx, keyNewSignIns(uid), sid).Err()
}

// ClearNewSignIns removes every entry of uid, once the account is secured.
func (s *Store) ClearNewSignIns(ctx context.Context, uid string) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	return s.rdb.Del(ctx, keyNewSignIns(uid)).Err()
}

// MoveNewSignIn re-keys the entry of session from to session to, when a
// device's session is reissued (its second factor done, its password
// changed): it stays the same device, flagged once and never to itself.
func (s *Store) MoveNewSignIn(ctx context.Context, uid, from, to string) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	key := keyNewSignIns(uid)
	v, err := s.rdb.HGet(ctx, key, from).Result()
	if err == redis.Nil {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, to, v)
		p.HDel(ctx, key, from)
		return nil
	})
	return err
}
