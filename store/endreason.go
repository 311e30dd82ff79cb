package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// EndReason says why a session ended, so that the next page the person
// sees can tell them (the login page shows it once). It is written beside
// the revocation, never instead of it: a reason that fails to be written
// costs the explanation, not the sign-out.
type EndReason struct {
	// Code is one of the End… constants.
	Code string `json:"code"`
	// Text is what staff wrote as their reason ("" when not staff).
	Text string `json:"text,omitempty"`
	// At is, for a reason on the user's record, the "signed out before"
	// time it explains (unix nanos): a later sign-out everywhere that
	// recorded no reason (the command line) is not explained by an old one.
	At int64 `json:"at,omitempty"`
}

// Codes of EndReason. Expiry, idleness and a lost data set are not stored:
// the cookie and the store say so by themselves.
const (
	EndSignedOut       = "signed_out"       // signed out in this browser
	EndRevokedByYou    = "revoked_by_you"   // the person signed this device out from another one
	EndAllByYou        = "all_by_you"       // the person signed out of all devices
	EndByStaff         = "by_staff"         // support or an admin signed the person out (Text: why)
	EndPasswordChanged = "password_changed" // the password was changed on the account page
	EndPasswordReset   = "password_reset"   // the password was set with a reset link or by an operator
	EndMFAChanged      = "mfa_changed"      // 2FA was turned on, off or reset, or a recovery code was used
	EndSecured         = "secured"          // "This wasn't me": every device out, password sign-in blocked until a reset
	EndLocked          = "locked"           // staff locked the account (Text: why)
	EndDisabled        = "disabled"         // an admin or an operator disabled the account (Text: why)
	EndIdle            = "idle"             // no request for longer than the idle timeout
	EndExpired         = "expired"          // older than the session lifetime
	EndSignInTimeout   = "signin_timeout"   // a half-finished sign-in (second factor due) ran out of time
	EndEndedForAll     = "ended_for_all"    // an operator ended every session of every user
	EndAccountGone     = "account_gone"     // the account was deleted
	EndUnknown         = "ended"            // nothing more is known
)

// sessionWhyTTL bounds how long a revoked session's reason is kept: a
// browser that comes back later than that is told only that it ended.
const sessionWhyTTL = 30 * 24 * time.Hour

// keySessionWhy holds the reason one session was revoked.
func keySessionWhy(uid, sid string) string { return prefixSessionWhy + uid + "}:" + sid }

// SetSessionEndReason records why session sid of uid was revoked.
func (s *Store) SetSessionEndReason(ctx context.Context, uid, sid string, why EndReason) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	b, err := json.Marshal(why)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, keySessionWhy(uid, sid), b, sessionWhyTTL).Err()
}

// FindSessionEndReason returns why session sid of uid was revoked, or
// ErrNotFound when no reason was recorded.
func (s *Store) FindSessionEndReason(ctx context.Context, uid, sid string) (EndReason, error) {
	b, err := s.rdb.Get(ctx, keySessionWhy(uid, sid)).Bytes()
	if errors.Is(err, redis.Nil) {
		return EndReason{}, ErrNotFound
	}
	if err != nil {
		return EndReason{}, err
	}
	var why EndReason
	if err := json.Unmarshal(b, &why); err != nil {
		return EndReason{}, ErrNotFound
	}
	return why, nil
}

// SetSignOutReason records why every session of uid was last ended at
// once (sign out everywhere, lock, password change…), on the user's record.
func (s *Store) SetSignOutReason(ctx context.Context, uid string, why EndReason) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	b, err := json.Marshal(why)
	if err != nil {
		return err
	}
	return setIfExistsScript.Run(ctx, s.rdb, []string{keyUser(uid)}, "signed_out_why", b).Err()
}

// FindSignOutReason returns why every session of uid was last ended at
// once, or ErrNotFound.
func (s *Store) FindSignOutReason(ctx context.Context, uid string) (EndReason, error) {
	b, err := s.rdb.HGet(ctx, keyUser(uid), "signed_out_why").Bytes()
	if errors.Is(err, redis.Nil) {
		return EndReason{}, ErrNotFound
	}
	if err != nil {
		return EndReason{}, err
	}
	var why EndReason
	if err := json.Unmarshal(b, &why); err != nil {
		return EndReason{}, ErrNotFound
	}
	return why, nil
}

// setIfExistsScript sets one field of a hash that exists (1) or does
// nothing (0), so a write racing the record's deletion (a reason as the
// user is deleted, a rename as the passkey is removed) does not bring back
// a stub record.
var setIfExistsScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`)

// keyKeptSuccessor holds the session that replaced sid when its device
// signed out everywhere else ("keep me signed in here").
func keyKeptSuccessor(uid, sid string) string { return prefixSessionWhy + uid + "}:kept:" + sid }

// keptSuccessorTTL bounds how long a concurrent request of the same device
// can find the session that replaced its own.
const keptSuccessorTTL = time.Minute

// ClaimKeptSuccessor reserves the right to replace session sid of uid after
// a sign-out everywhere that keeps it; false means another request of the
// same device already does (see FindKeptSuccessor).
func (s *Store) ClaimKeptSuccessor(ctx context.Context, uid, sid string) (bool, error) {
	return s.rdb.SetNX(ctx, keyKeptSuccessor(uid, sid), "", keptSuccessorTTL).Result()
}

// SetKeptSuccessor records c as the session that replaced sid.
func (s *Store) SetKeptSuccessor(ctx context.Context, uid, sid string, c *Claims) error {
	b, err := ClaimsSerializer{}.Serialize(c)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, keyKeptSuccessor(uid, sid), b, keptSuccessorTTL).Err()
}

// ErrSuccessorPending: a request is replacing the session right now
// (ClaimKeptSuccessor) and has not recorded the successor yet.
var ErrSuccessorPending = errors.New("successor of the kept session not recorded yet")

// FindKeptSuccessor returns the session that replaced sid; ErrNotFound
// when no sign-out everywhere kept it, ErrSuccessorPending while one is
// replacing it.
func (s *Store) FindKeptSuccessor(ctx context.Context, uid, sid string) (*Claims, error) {
	b, err := s.rdb.Get(ctx, keyKeptSuccessor(uid, sid)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err == nil && len(b) == 0 {
		return nil, ErrSuccessorPending
	}
	if err != nil {
		return nil, err
	}
	var c Claims
	if err := (ClaimsSerializer{}).Deserialize(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}
