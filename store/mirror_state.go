package store

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// States of the revocation mirror, as /readyz, the gateway_mirror_state
// metric and the state-change log line name them.
const (
	// StateReloading: loading the full revocation list (at start, after a
	// gap in the feed, a data-set change or a rollback write-back).
	StateReloading = "reloading"
	// StateFollowing: current, following the feed; checks cost no Redis call.
	StateFollowing = "following"
	// StateStale: the follower lost Redis, but the mirror is younger than
	// its staleness bound, so checks still answer from memory.
	StateStale = "stale"
	// StateDirectCheck: the mirror is past its bound and checks go to Redis
	// one by one, which answers.
	StateDirectCheck = "direct_check"
	// StateRedisDown: the mirror is past its bound and Redis does not
	// answer: protected requests fail closed with 503.
	StateRedisDown = "redis_down"
)

// MirrorStates lists every state, for metrics.
var MirrorStates = []string{StateReloading, StateFollowing, StateStale, StateDirectCheck, StateRedisDown}

// Phases of the follower loop.
const (
	phaseLoading   int32 = iota // loading a snapshot after start or a resync
	phaseFollowing              // reading the feed
	phaseFailed                 // the last attempt failed on Redis; retrying
)

// followerStats is what the follower and the direct checks record for
// State and Status; all of it is atomic, read at scrape time only.
type followerStats struct {
	phase        atomic.Int32
	appliedSeq   atomic.Int64 // feed sequence number the mirror holds
	lastEventAt  atomic.Int64 // unix nanos when a feed entry was last applied
	loads        atomic.Int64 // full loads that succeeded
	directChecks atomic.Int64
	lastDirectOK atomic.Int64 // unix nanos of the last direct check Redis answered
	lastRedisErr atomic.Int64 // unix nanos of the last call of the mirror that failed
}

func (f *followerStats) loaded(seq int64) {
	f.appliedSeq.Store(seq)
	f.loads.Add(1)
	f.phase.Store(phaseFollowing)
}

func (f *followerStats) applied(seq int64) {
	f.appliedSeq.Store(seq)
	f.lastEventAt.Store(time.Now().UnixNano())
}

// failed records the end of a follower attempt: a resync reloads at once,
// anything else is Redis failing.
func (f *followerStats) failed(err error) {
	if errors.Is(err, errResync) {
		f.phase.Store(phaseLoading)
		return
	}
	f.phase.Store(phaseFailed)
	f.lastRedisErr.Store(time.Now().UnixNano())
}

func (f *followerStats) direct(err error) {
	f.directChecks.Add(1)
	if err != nil {
		f.lastRedisErr.Store(time.Now().UnixNano())
	} else {
		f.lastDirectOK.Store(time.Now().UnixNano())
	}
}

// State returns the mirror's state (one of MirrorStates).
func (m *Mirror) State() string {
	f := &m.stats
	phase := f.phase.Load()
	switch {
	case phase == phaseLoading:
		return StateReloading
	case m.Ready() && phase == phaseFollowing:
		return StateFollowing
	case m.Ready():
		return StateStale
	case f.lastDirectOK.Load() > f.lastRedisErr.Load():
		return StateDirectCheck
	}
	return StateRedisDown
}

// MirrorStatus is the mirror seen from outside, for /readyz and metrics.
type MirrorStatus struct {
	State string
	// Behind is how long ago the mirror last confirmed that it held every
	// feed entry: about 0–1 s while following, growing while cut off.
	Behind time.Duration
	// LastEvent is when a feed entry was last applied (zero: none yet).
	LastEvent time.Time
	// Reloads counts full loads after the first one.
	Reloads int64
	// DirectChecks counts checks answered by Redis directly because the
	// mirror was past its staleness bound.
	DirectChecks int64
	// Rollbacks counts the times the store had gone back in time and this
	// replica wrote back what it knew.
	Rollbacks int64
}

// Status returns the mirror's state and counters; it makes no Redis call.
func (m *Mirror) Status() MirrorStatus {
	f := &m.stats
	st := MirrorStatus{
		State:        m.State(),
		Behind:       m.behind(),
		Reloads:      max(f.loads.Load()-1, 0),
		DirectChecks: f.directChecks.Load(),
		Rollbacks:    m.Rollbacks(),
	}
	if t := f.lastEventAt.Load(); t > 0 {
		st.LastEvent = time.Unix(0, t)
	}
	return st
}

// behind is the time since the mirror was last known current (zero before
// its first load).
func (m *Mirror) behind() time.Duration {
	ok := m.lastOK.Load()
	if ok == 0 {
		return 0
	}
	return time.Since(time.Unix(0, ok))
}

// FeedLag returns how many feed entries Redis holds that the mirror has not
// applied yet. It reads the feed's sequence number: one Redis call, bounded
// by the store's timeout, so it doubles as the readiness probe of the slot
// every request depends on.
func (m *Mirror) FeedLag(ctx context.Context) (int64, error) {
	v, err := m.s.rdb.Get(ctx, keyFeedSeq).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, err
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	// Below zero the store went back in time; the follower notices and
	// writes back, and there is nothing to catch up on meanwhile.
	return max(n-m.stats.appliedSeq.Load(), 0), nil
}

// watchState logs every change of State, with the old and the new state,
// until ctx ends. Some changes happen by time alone (stale past its bound),
// so it polls rather than waiting for the follower.
func (m *Mirror) watchState(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	prev := m.State()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := m.State()
		if cur == prev {
			continue
		}
		level := slog.LevelInfo
		if cur != StateFollowing && cur != StateReloading {
			level = slog.LevelWarn
		}
		m.log.Log(ctx, level, "revocation mirror: state changed", "from", prev, "to", cur,
			"behind_seconds", m.behind().Seconds())
		prev = cur
	}
}
