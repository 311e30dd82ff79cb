package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// UserState is what the request path needs to know about a user: enough to
// refuse a session and to fill the identity headers.
type UserState struct {
	ID       string
	Username string
	Email    string
	Roles    []string
	// Groups are the user's groups (canonical, sorted).
	Groups []string
	// GroupsHeader is the roles and then the groups joined with ",",
	// ready for the groups header.
	GroupsHeader    string
	Disabled        bool
	SignedOutBefore int64 // unix nanos
	MFAEnabled      bool
}

// HasRole reports whether the user has role r.
func (u *UserState) HasRole(r string) bool {
	for _, x := range u.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// HasGroup reports whether the user is in group g (canonical form).
func (u *UserState) HasGroup(g string) bool {
	for _, x := range u.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// Verdict is the outcome of a session check.
type Verdict int

// Verdicts of Mirror.Check.
const (
	Alive       Verdict = iota // the session may proceed
	Revoked                    // on the revocation list, signed out everywhere, or from a lost data set
	UserGone                   // the user no longer exists
	UserBlocked                // the user is disabled
)

// ErrUnavailable means the check could not be made: Redis is unreachable and
// the local mirror is stale. Callers must fail closed.
var ErrUnavailable = errors.New("revocation state unavailable")

// Mirror keeps the revocation list and user state of one replica in memory,
// following every change from the feed, so that checking a session costs no
// Redis round trip. When it falls behind (disconnected longer than
// StaleAfter) checks go to Redis directly; when Redis is unreachable too,
// Check returns ErrUnavailable.
type Mirror struct {
	s   *Store
	log *slog.Logger

	// StaleAfter bounds how old the mirror may be before checks go to Redis.
	StaleAfter time.Duration
	// Block is how long one XREAD waits for news.
	Block time.Duration

	mu      sync.RWMutex
	revoked map[string]int64      // session id -> unix expiry
	users   map[string]*UserState // lazily loaded, dropped on change
	gen     string
	// signedOut is the latest "signed out before" time seen for each user
	// (only those that have one) under gen. Like revoked it survives a
	// reload of the same data set, so that Redis losing its newest writes
	// (a lossy failover, a restart from an older snapshot) cannot bring
	// back sessions this replica already refused.
	signedOut map[string]int64
	// maxSeq is the highest feed sequence number seen under gen; a store
	// whose sequence is lower has lost entries (rollback.go).
	maxSeq int64
	// retired are generations this replica saw replaced: a store that
	// comes back with one of them was restored from before an end-all.
	retired map[string]bool
	// pendingRev and pendingOut are changes this replica enforces but
	// could not write to Redis; they are retried until written.
	pendingRev map[string]int64
	pendingOut map[string]int64
	rollbacks  atomic.Int64
	// stats feed State and Status (mirror_state.go).
	stats followerStats

	lastOK   atomic.Int64  // unix nanos of the last successful sync with Redis
	userSeq  atomic.Uint64 // bumped on every user change, guards lazy loads
	synced   chan struct{} // closed after the first full load
	syncOnce sync.Once
}

// NewMirror returns a mirror of s; call Run to start following.
func NewMirror(s *Store, log *slog.Logger) *Mirror {
	return &Mirror{
		s: s, log: log, StaleAfter: 3 * time.Second, Block: time.Second,
		revoked: map[string]int64{}, users: map[string]*UserState{}, signedOut: map[string]int64{},
		retired: map[string]bool{}, pendingRev: map[string]int64{}, pendingOut: map[string]int64{},
		synced: make(chan struct{}),
	}
}

// Ready reports whether the mirror is current.
func (m *Mirror) Ready() bool {
	return time.Since(time.Unix(0, m.lastOK.Load())) < m.StaleAfter
}

// WaitSynced blocks until the first full load finished or ctx ends.
func (m *Mirror) WaitSynced(ctx context.Context) error {
	select {
	case <-m.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Generation returns the data-set id new cookies must carry.
func (m *Mirror) Generation() string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.gen
}

// Check decides whether session sid of user uid, issued at issuedAt (unix
// nanos) under data-set gen, may proceed.
func (m *Mirror) Check(ctx context.Context, uid, sid, gen string, issuedAt int64) (*UserState, Verdict, error) {
	if !m.Ready() {
		return m.checkDirect(ctx, uid, sid, gen, issuedAt)
	}
	m.mu.RLock()
	curGen := m.gen
	_, revoked := m.revoked[sid]
	u := m.users[uid]
	m.mu.RUnlock()
	if gen != curGen || revoked {
		return nil, Revoked, nil
	}
	if u == nil {
		var err error
		if u, err = m.loadUser(ctx, uid); err != nil {
			return nil, 0, err
		}
	}
	return u, judge(u, issuedAt), nil
}

func judge(u *UserState, issuedAt int64) Verdict {
	switch {
	case u == nil:
		return UserGone
	case u.Disabled:
		return UserBlocked
	case issuedAt < u.SignedOutBefore:
		return Revoked
	}
	return Alive
}

// FindUserState returns uid's current state, nil when the user does not
// exist. While the mirror is current a user it already holds costs no Redis
// round trip (any change to the user, on any replica, drops it through the
// feed, so the next call reads it afresh); otherwise it reads Redis.
func (m *Mirror) FindUserState(ctx context.Context, uid string) (*UserState, error) {
	if !m.Ready() {
		vals, err := m.s.rdb.HMGet(ctx, keyUser(uid), userStateFields...).Result()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return parseUserState(vals), nil
	}
	m.mu.RLock()
	u := m.users[uid]
	m.mu.RUnlock()
	if u != nil {
		return u, nil
	}
	return m.loadUser(ctx, uid)
}

var userStateFields = []string{"id", "username", "email", "roles", "disabled", "signed_out_before", "mfa_enabled", "groups"}

// loadUser fetches a user's state and caches it unless a change to any user
// arrived meanwhile (the fetched value might predate it).
func (m *Mirror) loadUser(ctx context.Context, uid string) (*UserState, error) {
	seq := m.userSeq.Load()
	vals, err := m.s.rdb.HMGet(ctx, keyUser(uid), userStateFields...).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	u := parseUserState(vals)
	if u == nil {
		return nil, nil
	}
	m.mu.Lock()
	m.keepSignedOut(u)
	if m.userSeq.Load() == seq {
		m.users[uid] = u
	}
	m.mu.Unlock()
	return u, nil
}

// keepSignedOut raises u's "signed out before" time to the latest this
// replica has seen for the user (from the shared slot or the feed). Called
// with m.mu held.
func (m *Mirror) keepSignedOut(u *UserState) {
	if seen := m.signedOut[u.ID]; seen > u.SignedOutBefore {
		u.SignedOutBefore = seen
	}
}

func parseUserState(vals []any) *UserState {
	str := func(i int) string { s, _ := vals[i].(string); return s }
	if str(0) == "" {
		return nil
	}
	sob, _ := strconv.ParseInt(str(5), 10, 64)
	roles, groups := splitList(str(3)), splitList(str(7))
	return &UserState{
		ID: str(0), Username: str(1), Email: str(2), Roles: roles, Groups: groups, GroupsHeader: groupsHeader(roles, groups),
		Disabled: str(4) == "1", SignedOutBefore: sob, MFAEnabled: str(6) == "1",
	}
}

// checkDirect asks Redis in one round trip; used while the mirror is stale.
func (m *Mirror) checkDirect(ctx context.Context, uid, sid, gen string, issuedAt int64) (*UserState, Verdict, error) {
	// What this replica saw revoked stays revoked, even when Redis lost it,
	// and a cookie of a generation other than the one it follows is refused
	// even if Redis went back to that generation.
	m.mu.RLock()
	_, revoked := m.revoked[sid]
	stale := (m.gen != "" && gen != m.gen) || m.retired[gen]
	m.mu.RUnlock()
	if revoked || stale {
		return nil, Revoked, nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	pipe := m.s.rdb.Pipeline()
	g := pipe.Get(ctx, keyGeneration)
	r := pipe.ZScore(ctx, keyRevoked, sid)
	so := pipe.HGet(ctx, keySignedOut, uid)
	h := pipe.HMGet(ctx, keyUser(uid), userStateFields...)
	_, err := pipe.Exec(ctx)
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	m.stats.direct(err)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if g.Val() == "" || g.Val() != gen || r.Err() == nil {
		return nil, Revoked, nil
	}
	u := parseUserState(h.Val())
	if u != nil {
		if cut, _ := so.Int64(); cut > u.SignedOutBefore {
			u.SignedOutBefore = cut
		}
		m.mu.RLock()
		m.keepSignedOut(u)
		m.mu.RUnlock()
	}
	return u, judge(u, issuedAt), nil
}

// ApplyRevocation records a revocation locally at once, so the replica that
// made it enforces it before answering, without waiting for the feed.
func (m *Mirror) ApplyRevocation(sid string, exp int64) {
	m.mu.Lock()
	m.revoked[sid] = exp
	m.mu.Unlock()
}

// ApplySignOut records locally that every session of uid issued before cut
// (unix nanos) is dead.
func (m *Mirror) ApplySignOut(uid string, cut int64) {
	m.mu.Lock()
	if cut > m.signedOut[uid] {
		m.signedOut[uid] = cut
	}
	m.mu.Unlock()
	m.InvalidateUser(uid)
}

// InvalidateUser drops the cached state of a user so the next check reloads it.
func (m *Mirror) InvalidateUser(uid string) {
	m.userSeq.Add(1)
	m.mu.Lock()
	delete(m.users, uid)
	m.mu.Unlock()
}

// Stats reports the mirror's size, for metrics and the memory statement.
func (m *Mirror) Stats() (revoked, users int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.revoked), len(m.users)
}
