package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authgate/gateway/gateway/httpsafe"
	"github.com/authgate/gateway/store"
)

// lastSeen tracks when each session was last used on this replica, to
// enforce the idle timeout without a Redis round trip, and writes last-seen
// times to Redis in batches off the request path, at most once per
// writeEvery (a minute by default) per session.
//
// It also makes sure a cookie names a session the store holds: the first
// time this replica sees a session id it reads the record once (a validly
// signed cookie for an id that never existed, or whose record is gone, is
// refused and revoked); afterwards each batched write runs a script that
// touches only existing records and reports vanished ones, which are revoked
// through the atomic path. So a session whose record disappears (deleted,
// evicted) is refused within writeEvery+flushEvery of its next use.
type lastSeen struct {
	store SessionStore
	idle  time.Duration
	// flushEvery is how often the batch goes out; writeEvery how stale a
	// session's stored last-seen may get.
	flushEvery time.Duration
	writeEvery time.Duration
	now        func() time.Time
	trusted    []netip.Prefix // to find the client IP, only when recorded
	entries    sync.Map       // session id -> *seenEntry
	// gone ends a session whose record vanished (Sessions.endMissing).
	gone func(ctx context.Context, uid, sid string, created int64)
}

type seenEntry struct {
	uid     string
	created int64        // unix nanos the session began, for the revocation's expiry
	seen    atomic.Int64 // unix seconds of last use here
	written atomic.Int64 // unix seconds last written to Redis
	ip      atomic.Pointer[string]
}

func newLastSeen(st SessionStore, idle, every time.Duration, now func() time.Time) *lastSeen {
	if every <= 0 {
		every = time.Minute
	}
	return &lastSeen{store: st, idle: idle, flushEvery: max(every/6, 100*time.Millisecond), writeEvery: every, now: now}
}

// created records a session this replica just stored, so its first request
// here costs no read of the record.
func (l *lastSeen) created(c *store.Claims) {
	e := &seenEntry{uid: c.UserID, created: c.Created}
	e.seen.Store(c.IssuedAt / int64(time.Second))
	e.written.Store(c.IssuedAt / int64(time.Second))
	l.entries.LoadOrStore(c.SessionID, e)
}

type idleVerdict int

const (
	idleOK idleVerdict = iota
	idleExpired
	idleUnknown // Redis needed but unreachable
	// idleDead: idle for longer than any replica's unwritten last-seen
	// time could hide, or the session record is gone; it cannot come back.
	idleDead
)

// check records a use of the session and decides whether it had been idle
// too long. Only a session that is new to this replica costs a Redis read:
// its record must exist, and, if it looks idle, the record tells when
// another replica last saw it.
func (l *lastSeen) check(ctx context.Context, c *store.Claims, now time.Time, r *http.Request) idleVerdict {
	sec := now.Unix()
	v, ok := l.entries.Load(c.SessionID)
	var e *seenEntry
	if ok {
		e = v.(*seenEntry)
	}
	last := c.IssuedAt / int64(time.Second)
	if e != nil {
		last = max(last, e.seen.Load())
	}
	suspect := now.Sub(time.Unix(last, 0)) > l.idle
	if e == nil || suspect {
		sess, err := l.store.FindSession(ctx, c.UserID, c.SessionID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return idleDead
		case err != nil:
			return idleUnknown
		case suspect && now.Sub(sess.LastSeen) > l.idle+l.writeEvery+l.flushEvery:
			return idleDead
		case suspect && now.Sub(sess.LastSeen) > l.idle:
			return idleExpired
		}
	}
	if e == nil {
		e = &seenEntry{uid: c.UserID, created: c.Created}
		e.written.Store(c.IssuedAt / int64(time.Second))
		v, _ = l.entries.LoadOrStore(c.SessionID, e)
		e = v.(*seenEntry)
	}
	// At most one write per session per second here, and the client IP is
	// only worked out then, so the common request allocates nothing.
	if e.seen.Load() != sec {
		e.seen.Store(sec)
		ip := httpsafe.ClientIP(r, l.trusted).String()
		if p := e.ip.Load(); p == nil || *p != ip {
			e.ip.Store(&ip)
		}
	}
	return idleOK
}

func (l *lastSeen) forget(sid string) { l.entries.Delete(sid) }

// run flushes until ctx ends, then once more so a clean shutdown loses nothing.
func (l *lastSeen) run(ctx context.Context) {
	t := time.NewTicker(l.flushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			l.flush(fctx, l.now(), true)
			cancel()
			return
		case <-t.C:
			l.flush(ctx, l.now(), false)
		}
	}
}

// flush writes last-seen times that are a minute or more newer than what
// Redis has, and forgets sessions idle past the timeout (bounded memory).
func (l *lastSeen) flush(ctx context.Context, now time.Time, all bool) {
	var batch []store.SessionTouch
	var sent []*seenEntry
	l.entries.Range(func(k, v any) bool {
		e := v.(*seenEntry)
		seen := e.seen.Load()
		if now.Sub(time.Unix(seen, 0)) > l.idle {
			l.entries.Delete(k)
			return true
		}
		if seen > e.written.Load() && (all || time.Duration(seen-e.written.Load())*time.Second >= l.writeEvery) {
			ip := ""
			if p := e.ip.Load(); p != nil {
				ip = *p
			}
			batch = append(batch, store.SessionTouch{UserID: e.uid, SessionID: k.(string), At: time.Unix(seen, 0), IP: ip})
			sent = append(sent, e)
		}
		return true
	})
	if len(batch) == 0 {
		return
	}
	gone, err := l.store.TouchSessions(ctx, batch)
	if err != nil {
		return // try again next tick; last-seen is best effort
	}
	for i, e := range sent {
		e.written.Store(batch[i].At.Unix())
	}
	for _, t := range gone {
		v, ok := l.entries.LoadAndDelete(t.SessionID)
		if ok && l.gone != nil {
			l.gone(ctx, t.UserID, t.SessionID, v.(*seenEntry).created)
		}
	}
}
