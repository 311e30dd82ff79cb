package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/authgate/gateway/store"
)

// Why a session ended reaches the next page the person sees as follows.
// Whoever ends a session records why (per session for one device, on the
// user for all of them at once: endreason.go in store); expiry, idleness and
// a lost data set need no record, the cookie and the store say so. A
// request that finds its session ended clears the cookie but keeps its
// value for ten minutes in a second cookie, on the gateway's paths only
// (ClearEnded); the login page reads either, works out why (WhyEnded),
// says it once and drops both.

// endedMaxAge is how long the login page can still say why a session ended.
const endedMaxAge = 10 * time.Minute

// endedName is the cookie that carries an ended session's cookie value.
func (s *Sessions) endedName() string { return s.cookieName + "_ended" }

// ClearEnded removes the cookie of a session found ended and keeps its
// value for the login page. The value is the ended session's own sealed
// cookie: it proves nothing any more, and a forged one does not decode.
//
// A session replaced a moment ago by a sign-out everywhere that kept its
// device (a request that raced the one that replaced it) is not cleared:
// the browser gets its successor's cookie instead, so the device stays
// signed in whichever answer arrives last.
func (s *Sessions) ClearEnded(w http.ResponseWriter, r *http.Request) {
	raw := cookieValue(r.Header["Cookie"], s.cookieName)
	if raw != "" && s.adoptIfKept(w, r, raw) {
		return
	}
	s.Clear(w)
	if raw == "" || s.endedPath == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.endedName(), Value: raw, Path: s.endedPath, MaxAge: int(endedMaxAge.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// adoptIfKept sets the cookie of the live session that replaced the
// session of raw, if a sign-out everywhere kept it, and reports whether it did.
func (s *Sessions) adoptIfKept(w http.ResponseWriter, r *http.Request, raw string) bool {
	var c store.Claims
	if securecookie.DecodeMulti(s.cookieName, raw, &c, s.codecs...) != nil || c.Pending != store.PendingNone {
		return false
	}
	next, err := s.store.FindKeptSuccessor(r.Context(), c.UserID, c.SessionID)
	if errors.Is(err, store.ErrSuccessorPending) {
		// The request that replaces it has made its cut (which is why
		// this one found the session ended) but not its new session yet.
		next, err = s.waitKeptSuccessor(r.Context(), c.UserID, c.SessionID)
	}
	if err != nil || next.UserID != c.UserID {
		return false
	}
	if alive, err := s.Alive(r.Context(), next); err != nil || !alive {
		return false
	}
	return s.Adopt(w, next) == nil
}

// WhyEnded reports why the session this browser had ended, once: from the
// session cookie when it names an ended session, else from the cookie
// ClearEnded left. Both are removed. ok is false when the browser had no
// ended session to explain.
func (s *Sessions) WhyEnded(w http.ResponseWriter, r *http.Request) (why store.EndReason, ok bool) {
	for _, name := range []string{s.cookieName, s.endedName()} {
		raw := cookieValue(r.Header["Cookie"], name)
		if raw == "" {
			continue
		}
		var c store.Claims
		if securecookie.DecodeMulti(s.cookieName, raw, &c, s.codecs...) != nil {
			continue
		}
		if over, err := s.over(r.Context(), &c); err != nil || !over {
			return store.EndReason{}, false // still going, or cannot tell
		}
		why, ok = s.whyEnded(r.Context(), &c), true
		break
	}
	if cookieValue(r.Header["Cookie"], s.endedName()) != "" {
		http.SetCookie(w, &http.Cookie{
			Name: s.endedName(), Value: "", Path: s.endedPath, MaxAge: -1,
			HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
		})
	}
	return why, ok
}

// over reports whether the session of c, fully signed in or not, is over.
func (s *Sessions) over(ctx context.Context, c *store.Claims) (bool, error) {
	life := s.lifetime
	if c.Pending != store.PendingNone {
		life = s.pendingLife
	}
	if s.now().UnixNano()-c.Created > int64(life) {
		return true, nil
	}
	_, verdict, err := s.mirror.Check(ctx, c.UserID, c.SessionID, c.Generation, c.IssuedAt)
	if err != nil || verdict != store.Alive || c.Pending != store.PendingNone {
		return verdict != store.Alive, err
	}
	idle, gone, err := s.idleOrGone(ctx, c)
	return idle || gone, err
}

// idleOrGone reports whether a session the revocation list still accepts
// was refused for idleness, or because its record is gone: one found idle
// within the margin another replica's unwritten last-seen time could hide
// is refused, not yet revoked (lastseen.go).
func (s *Sessions) idleOrGone(ctx context.Context, c *store.Claims) (idle, gone bool, err error) {
	sess, err := s.store.FindSession(ctx, c.UserID, c.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return false, true, nil
	}
	if err != nil {
		return false, false, err
	}
	return s.now().Sub(sess.LastSeen) > s.idle, false, nil
}

// whyEnded works out why the session of c is over.
func (s *Sessions) whyEnded(ctx context.Context, c *store.Claims) store.EndReason {
	age := s.now().UnixNano() - c.Created
	switch {
	case c.Pending != store.PendingNone && age > int64(s.pendingLife):
		return store.EndReason{Code: store.EndSignInTimeout}
	case c.Pending == store.PendingNone && age > int64(s.lifetime):
		return store.EndReason{Code: store.EndExpired}
	case c.Generation != s.mirror.Generation():
		return store.EndReason{Code: store.EndEndedForAll}
	}
	u, err := s.mirror.FindUserState(ctx, c.UserID)
	switch {
	case err != nil:
		return store.EndReason{Code: store.EndUnknown}
	case u == nil:
		return store.EndReason{Code: store.EndAccountGone}
	case u.Disabled || c.IssuedAt < u.SignedOutBefore:
		why, err := s.store.FindSignOutReason(ctx, c.UserID)
		if err == nil && why.At != u.SignedOutBefore {
			err = store.ErrNotFound // explains an earlier sign-out, not the last one
		}
		if u.Disabled && (err != nil || (why.Code != store.EndLocked && why.Code != store.EndDisabled)) {
			return store.EndReason{Code: store.EndDisabled}
		}
		if err != nil {
			return store.EndReason{Code: store.EndUnknown}
		}
		return why
	}
	if why, err := s.store.FindSessionEndReason(ctx, c.UserID, c.SessionID); err == nil {
		return why
	}
	if idle, _, err := s.idleOrGone(ctx, c); err == nil && idle {
		return store.EndReason{Code: store.EndIdle}
	}
	return store.EndReason{Code: store.EndUnknown}
}

// recordWhy writes why one session was revoked; failing costs only the
// explanation, so it is logged by no one and never fails the sign-out.
func (s *Sessions) recordWhy(ctx context.Context, uid, sid string, why store.EndReason) {
	if why.Code == "" {
		return
	}
	_ = s.store.SetSessionEndReason(ctx, uid, sid, why)
}

// RevokeByID ends a session known only by id (a row on the devices page),
// using its record's expiry, and records why.
func (s *Sessions) RevokeByID(ctx context.Context, uid, sid string, why store.EndReason) error {
	sess, err := s.store.FindSession(ctx, uid, sid)
	if err != nil {
		return err
	}
	err = s.Revoke(ctx, uid, sid, sess.Expires.Add(-s.lifetime).UnixNano())
	if err == nil || errors.Is(err, store.ErrNotReplicated) || errors.Is(err, store.ErrFeed) {
		s.recordWhy(ctx, uid, sid, why)
	}
	return err
}

// EndedNotice is what the login page says about why: one or two plain
// sentences, with staff's own words when they gave some.
func (s *Sessions) EndedNotice(why store.EndReason) string {
	staff := func(msg string) string {
		if why.Text == "" {
			return msg
		}
		return msg + " Reason given: “" + why.Text + "”"
	}
	switch why.Code {
	case store.EndSignedOut:
		return "You are signed out."
	case store.EndRevokedByYou:
		return "You signed this browser out from another of your devices."
	case store.EndAllByYou:
		return "You signed out everywhere from Login & Security."
	case store.EndByStaff:
		return staff("Support signed you out of all your devices.")
	case store.EndPasswordChanged:
		return "Your password was changed, which signed out your other devices. Sign in with the new password."
	case store.EndPasswordReset:
		return "Your password was reset, which signed out every device. Sign in with the new password."
	case store.EndMFAChanged:
		return "Two-step verification changed on your account, which signed out your other devices."
	case store.EndSecured:
		return "You reported a sign-in that was not you, so every device was signed out. Set a new password with the link sent to your e-mail address."
	case store.EndLocked:
		return staff("Support locked your account and signed you out. Contact support to unlock it.")
	case store.EndDisabled:
		return staff("Your account was disabled and signed out. Contact an administrator.")
	case store.EndIdle:
		return "You were signed out after " + spell(s.idle) + " without activity."
	case store.EndExpired:
		return "Your session expired: a sign-in lasts at most " + spell(s.lifetime) + ". Please sign in again."
	case store.EndSignInTimeout:
		return "The sign-in took too long to finish. Please start again."
	case store.EndEndedForAll:
		return "An administrator ended every session on this service. Please sign in again."
	case store.EndAccountGone:
		return "Your session ended: the account no longer exists."
	}
	return "Your session ended. Please sign in again."
}

// spell writes a duration in the largest whole unit people use.
func spell(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(n, 10) + " " + one + "s"
	}
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute:
		return unit(int64(d/time.Minute), "minute")
	}
	return unit(int64(d/time.Second), "second")
}
