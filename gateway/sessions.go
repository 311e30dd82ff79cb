package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/authgate/gateway/internal/seal"
	"github.com/authgate/gateway/store"
)

// SessionStore is what session handling needs from persistence.
type SessionStore interface {
	CreateSession(ctx context.Context, s *store.Session) error
	FindSession(ctx context.Context, uid, sid string) (*store.Session, error)
	RevokeSession(ctx context.Context, uid, sid string, exp time.Time) error
	TouchSessions(ctx context.Context, t []store.SessionTouch) ([]store.SessionTouch, error)
	SignOutEverywhere(ctx context.Context, uid string, before time.Time) error
	// Why a session ended, for the login page (ended.go).
	SetSessionEndReason(ctx context.Context, uid, sid string, why store.EndReason) error
	FindSessionEndReason(ctx context.Context, uid, sid string) (store.EndReason, error)
	SetSignOutReason(ctx context.Context, uid string, why store.EndReason) error
	FindSignOutReason(ctx context.Context, uid string) (store.EndReason, error)
	// The session that replaced a kept one (SignOutEverywhere).
	ClaimKeptSuccessor(ctx context.Context, uid, sid string) (bool, error)
	SetKeptSuccessor(ctx context.Context, uid, sid string, c *store.Claims) error
	FindKeptSuccessor(ctx context.Context, uid, sid string) (*store.Claims, error)
}

// Sessions issues, reads and ends session cookies and checks them against
// the replica's revocation mirror.
type Sessions struct {
	codecs      []securecookie.Codec
	store       SessionStore
	mirror      *store.Mirror
	seen        *lastSeen
	cookieName  string
	secure      bool
	lifetime    time.Duration
	idle        time.Duration
	pendingLife time.Duration
	trusted     []netip.Prefix
	decoded     *claimsCache
	open        *openRequests // open_requests.go: proxied requests still running
	now         func() time.Time
	// endedPath is where the cookie naming an ended session is sent back
	// (the gateway's prefix); "" keeps none (ended.go).
	endedPath string
}

// SessionOptions configures Sessions.
type SessionOptions struct {
	Secrets     []string // current first, then previous ones
	CookieName  string
	Secure      bool
	Lifetime    time.Duration
	IdleTimeout time.Duration
	// Trusted proxies, to find the client IP recorded as "last seen from".
	Trusted []netip.Prefix
	// Now is the clock (nil means time.Now); tests move it forward to reach
	// idle and absolute expiry without sleeping.
	Now func() time.Time
	// LastSeenInterval is how often a session's last-seen time is written
	// at most (default a minute); it also bounds how long a session whose
	// record vanished keeps working (lastseen.go).
	LastSeenInterval time.Duration
	// EndedPath is the gateway's path prefix, where the login page can read
	// why a session ended (ended.go); "" turns that off.
	EndedPath string
}

// NewSessions builds the cookie codecs (keys derived from each secret with
// HKDF-SHA256: one key for the HMAC, one for AES-256) and the last-seen
// tracker.
func NewSessions(opt SessionOptions, st SessionStore, mirror *store.Mirror) (*Sessions, error) {
	if len(opt.Secrets) == 0 {
		return nil, errors.New("no secret configured")
	}
	var codecs []securecookie.Codec
	for _, secret := range opt.Secrets {
		hashKey, err := seal.Key(secret, "gateway cookie hmac v1")
		if err != nil {
			return nil, err
		}
		blockKey, err := seal.Key(secret, "gateway cookie aes v1")
		if err != nil {
			return nil, err
		}
		sc := securecookie.New(hashKey, blockKey)
		sc.SetSerializer(store.ClaimsSerializer{})
		sc.MaxAge(int(opt.Lifetime.Seconds()) + 60)
		sc.MaxLength(1024)
		codecs = append(codecs, sc)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Sessions{
		codecs: codecs, store: st, mirror: mirror, cookieName: opt.CookieName, secure: opt.Secure,
		lifetime: opt.Lifetime, idle: opt.IdleTimeout, pendingLife: 10 * time.Minute, now: opt.Now,
		trusted: opt.Trusted, decoded: newClaimsCache(100_000), open: newOpenRequests(),
		endedPath: opt.EndedPath,
	}
	s.seen = newLastSeen(st, opt.IdleTimeout, opt.LastSeenInterval, opt.Now)
	s.seen.trusted = opt.Trusted
	s.seen.gone = s.endMissing
	return s, nil
}

// RunBackground flushes batched last-seen times and re-checks the sessions
// of proxied requests still running, until ctx ends.
func (s *Sessions) RunBackground(ctx context.Context) {
	go s.open.run(ctx, s)
	s.seen.run(ctx)
}

// Authenticate reads and checks the session cookie of r. It costs no Redis
// round trip while the mirror is current.
func (s *Sessions) Authenticate(r *http.Request) (*store.Principal, store.AuthOutcome) {
	raw := cookieValue(r.Header["Cookie"], s.cookieName)
	if raw == "" {
		return nil, store.NoSession
	}
	c, ok := s.decoded.get(raw)
	if !ok {
		var err error
		if c, err = s.decode(raw); err != nil {
			return nil, store.NoSession
		}
		s.decoded.put(raw, c)
	}
	now := s.now()
	life := s.lifetime
	if c.Pending != store.PendingNone {
		life = s.pendingLife
	}
	if now.UnixNano()-c.Created > int64(life) {
		return nil, store.Ended
	}
	u, verdict, err := s.mirror.Check(r.Context(), c.UserID, c.SessionID, c.Generation, c.IssuedAt)
	if err != nil {
		return nil, store.Unavailable
	}
	if verdict != store.Alive {
		return nil, store.Ended
	}
	cur := &store.Principal{Claims: c, User: u}
	if c.Pending != store.PendingNone {
		return cur, store.Pending
	}
	switch s.seen.check(r.Context(), &c, now, r) {
	case idleOK:
		return cur, store.Valid
	case idleUnknown:
		return nil, store.Unavailable
	case idleDead:
		// Finding that out cost a Redis read; sign the session out for
		// good, so that its cookie is refused from memory from now on, on
		// every replica, instead of costing every request that read again.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
		defer cancel()
		if s.Revoke(ctx, c.UserID, c.SessionID, c.Created) == nil { // if Redis fails, the next request tries again
			s.recordWhy(ctx, c.UserID, c.SessionID, store.EndReason{Code: store.EndIdle})
		}
	}
	return nil, store.Ended
}

// decode reads a cookie value the cache does not know. It is apart from
// Authenticate so that only this path pays for the claims escaping to the
// heap through the codec's interface.
func (s *Sessions) decode(raw string) (store.Claims, error) {
	var c store.Claims
	err := securecookie.DecodeMulti(s.cookieName, raw, &c, s.codecs...)
	return c, err
}

// Issue creates a session with a fresh id and sets its cookie on w. Fully
// signed-in sessions get a device record; pending ones live only in the
// cookie, for a few minutes.
func (s *Sessions) Issue(ctx context.Context, w http.ResponseWriter, o store.IssueOptions) (*store.Claims, error) {
	now := s.now()
	if o.Created.IsZero() {
		o.Created = now
	}
	if o.AuthAt.IsZero() {
		o.AuthAt = now
	}
	gen := s.mirror.Generation()
	if gen == "" {
		return nil, errors.New("store generation not loaded yet")
	}
	c := &store.Claims{
		SessionID: store.NewSessionID(), UserID: o.UserID, Generation: gen,
		IssuedAt: now.UnixNano(), Created: o.Created.UnixNano(), AuthAt: o.AuthAt.UnixNano(),
		MFA: o.MFA, Pending: o.Pending,
	}
	expires := o.Created.Add(s.lifetime)
	if o.Pending != store.PendingNone {
		expires = now.Add(s.pendingLife)
	} else {
		err := s.store.CreateSession(ctx, &store.Session{
			ID: c.SessionID, UserID: o.UserID, Created: now, LastSeen: now, Expires: expires,
			IP: o.IP, UserAgent: truncate(o.Agent, 512), Name: o.Name,
		})
		if err != nil {
			return nil, fmt.Errorf("create session: %w", err)
		}
		s.seen.created(c) // this replica knows the record exists
	}
	val, err := securecookie.EncodeMulti(s.cookieName, c, s.codecs[0])
	if err != nil {
		return nil, fmt.Errorf("encode cookie: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName, Value: val, Path: "/", Expires: expires, HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
	return c, nil
}

// Revoke ends one session server-side (every replica refuses it from now on)
// and applies it locally before returning.
func (s *Sessions) Revoke(ctx context.Context, uid, sid string, created int64) error {
	exp := time.Unix(0, created).Add(s.lifetime)
	if exp.Before(s.now()) {
		exp = s.now().Add(time.Minute)
	}
	err := s.store.RevokeSession(ctx, uid, sid, exp)
	switch {
	case err == nil:
		s.mirror.ApplyRevocation(sid, exp.Unix())
	case errors.Is(err, store.ErrFeed), errors.Is(err, store.ErrNotReplicated):
		// Not written, or not yet safe from a failover: this replica
		// refuses the session at once and keeps writing it until the
		// store has it; the caller still reports the failure.
		s.mirror.KeepRevocation(sid, exp.Unix())
	default:
		return err
	}
	s.seen.forget(sid)
	return err
}

// endMissing ends a session whose record is gone from the store, through
// the same atomic revocation as a sign-out, so every replica refuses it.
func (s *Sessions) endMissing(ctx context.Context, uid, sid string, created int64) {
	_ = s.Revoke(ctx, uid, sid, created) // kept and retried by the mirror if the write fails
}

// Clear removes the session cookie from the browser.
func (s *Sessions) Clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// CookieName is the session cookie's name (stripped before proxying).
func (s *Sessions) CookieName() string { return s.cookieName }

// WithCookie returns a view of the same sessions that reads and writes the
// cookie name instead: one server-side session, revocation list and
// last-seen record behind both, so ending a session ends every cookie that
// names it. The view decodes into a cache of its own: the cache is keyed by
// cookie value, and a value accepted under one name must never pass under
// the other (securecookie binds the name into the MAC; a shared cache would
// skip that check).
func (s *Sessions) WithCookie(name string, cacheSize int) *Sessions {
	v := *s
	v.cookieName = name
	v.decoded = newClaimsCache(cacheSize)
	return &v
}

// Adopt sets this view's cookie on w for a session issued elsewhere (the
// portal), naming the same session id: no new session, no new device.
func (s *Sessions) Adopt(w http.ResponseWriter, c *store.Claims) error {
	val, err := securecookie.EncodeMulti(s.cookieName, c, s.codecs[0])
	if err != nil {
		return fmt.Errorf("encode cookie: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName, Value: val, Path: "/", Expires: time.Unix(0, c.Created).Add(s.lifetime),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// Alive reports whether the fully signed-in session c is still good: within
// its lifetime and neither revoked nor cut off by a sign-out-everywhere.
func (s *Sessions) Alive(ctx context.Context, c *store.Claims) (bool, error) {
	if c.Pending != store.PendingNone || s.now().UnixNano()-c.Created > int64(s.lifetime) {
		return false, nil
	}
	_, verdict, err := s.mirror.Check(ctx, c.UserID, c.SessionID, c.Generation, c.IssuedAt)
	if err != nil {
		return false, err
	}
	return verdict == store.Alive, nil
}

// Now is the sessions' clock.
func (s *Sessions) Now() time.Time { return s.now() }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// SignOutEverywhere ends every session of uid issued before now, in O(1)
// however many devices there are, and records why for the login page. When keep is not nil (the device asking),
// it gets a fresh session issued after the cut, with its cookie set on w, so
// "keep me signed in here" survives its own sign-out-all.
//
// Replicas compare the cut with the issue time of each cookie, so their
// clocks must be synchronised (NTP); a replica running ahead could let a
// session issued moments before the cut survive it.
func (s *Sessions) SignOutEverywhere(ctx context.Context, w http.ResponseWriter, uid string, keep *store.Principal, ip, agent string, why store.EndReason) error {
	if keep != nil {
		// Two such requests of one device at once (a double click, a
		// retry) must not end with the cookie of the first to answer
		// killed by the second's cut: only one replaces the session; the
		// other waits for it and hands the browser the same new cookie.
		first, err := s.store.ClaimKeptSuccessor(ctx, uid, keep.Claims.SessionID)
		if err != nil {
			return err
		}
		if !first {
			return s.adoptKeptSuccessor(ctx, w, uid, keep.Claims.SessionID)
		}
	}
	cut := s.now()
	err := s.store.SignOutEverywhere(ctx, uid, cut)
	if why.Code != "" && (err == nil || errors.Is(err, store.ErrFeed) || errors.Is(err, store.ErrNotReplicated)) {
		why.At = cut.UnixNano()
		_ = s.store.SetSignOutReason(ctx, uid, why) // the explanation only; the sign-out stands without it
	}
	switch {
	case err == nil:
		s.mirror.ApplySignOut(uid, cut.UnixNano())
	case errors.Is(err, store.ErrFeed), errors.Is(err, store.ErrNotReplicated):
		s.mirror.KeepSignOut(uid, cut.UnixNano()) // as in Revoke
		return err
	default:
		return err
	}
	if keep == nil {
		return nil
	}
	name := ""
	if old, err := s.store.FindSession(ctx, uid, keep.Claims.SessionID); err == nil {
		name = old.Name
	}
	// The old id is already dead by the timestamp; listing it as revoked too
	// keeps it dead should the clock ever be set back.
	_ = s.Revoke(ctx, uid, keep.Claims.SessionID, keep.Claims.Created)
	for !s.now().After(cut) {
		time.Sleep(time.Microsecond)
	}
	c, err := s.Issue(ctx, w, store.IssueOptions{
		UserID: uid, Created: time.Unix(0, keep.Claims.Created), AuthAt: time.Unix(0, keep.Claims.AuthAt),
		MFA: keep.Claims.MFA, IP: ip, Agent: agent, Name: name,
	})
	if err != nil {
		return err
	}
	return s.store.SetKeptSuccessor(ctx, uid, keep.Claims.SessionID, c)
}

// adoptKeptSuccessor waits (a few seconds at most) for the concurrent
// request that replaces session sid to record its successor and sets that
// session's cookie on w.
func (s *Sessions) adoptKeptSuccessor(ctx context.Context, w http.ResponseWriter, uid, sid string) error {
	c, err := s.waitKeptSuccessor(ctx, uid, sid)
	if err != nil {
		return err
	}
	return s.Adopt(w, c)
}

// waitKeptSuccessor returns the session that replaced sid, waiting (a few
// seconds at most) while the request replacing it has not recorded it yet.
func (s *Sessions) waitKeptSuccessor(ctx context.Context, uid, sid string) (*store.Claims, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		c, err := s.store.FindKeptSuccessor(ctx, uid, sid)
		if err == nil || (!errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrSuccessorPending)) {
			return c, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Reissue gives the current device a new session id (after a password
// change or a second factor), revoking the old one; authAt and mfa update
// what the session has proven.
func (s *Sessions) Reissue(ctx context.Context, w http.ResponseWriter, cur *store.Principal, authAt time.Time, mfa bool, ip, agent string) (*store.Claims, error) {
	name := ""
	if old, err := s.store.FindSession(ctx, cur.Claims.UserID, cur.Claims.SessionID); err == nil {
		name = old.Name
	}
	created := time.Unix(0, cur.Claims.Created)
	if cur.Claims.Pending != store.PendingNone {
		created = time.Time{} // the real session starts now
	}
	c, err := s.Issue(ctx, w, store.IssueOptions{
		UserID: cur.Claims.UserID, Created: created, AuthAt: authAt, MFA: mfa, IP: ip, Agent: agent, Name: name,
	})
	if err != nil {
		return nil, err
	}
	if mv, ok := s.store.(newSignInMover); ok {
		// Best effort: at worst the device is shown as a signed-out one.
		_ = mv.MoveNewSignIn(ctx, cur.Claims.UserID, cur.Claims.SessionID, c.SessionID)
	}
	if err := s.Revoke(ctx, cur.Claims.UserID, cur.Claims.SessionID, cur.Claims.Created); err != nil {
		return nil, err
	}
	return c, nil
}

// newSignInMover keeps a device's unanswered new sign-in (new_device.go)
// with it when its session id changes.
type newSignInMover interface {
	MoveNewSignIn(ctx context.Context, uid, from, to string) error
}

// InvalidateUser makes this replica reload a user's state at once (after a
// change it made itself; other replicas learn it from the feed).
func (s *Sessions) InvalidateUser(uid string) { s.mirror.InvalidateUser(uid) }
