package store

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// errResync asks the follower to reload everything.
var errResync = errors.New("feed discontinuity")

// Run follows the feed until ctx ends: a full load, then XREAD BLOCK from the
// last position. Any error, gap or data-set change leads to a fresh full
// load after a short pause; the mirror recovers by itself when Redis returns.
func (m *Mirror) Run(ctx context.Context) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := m.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errResync) {
			m.log.Info("revocation feed: reloading", "reason", err.Error())
			backoff = 50 * time.Millisecond
			continue
		}
		m.log.Warn("revocation feed: redis unavailable, checks fall back to redis per request", "err", err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Second)
	}
}

// follow loads a snapshot and then applies feed entries until an error.
func (m *Mirror) follow(ctx context.Context) error {
	lastID, lastSeq, err := m.s.feedPosition(ctx)
	if err != nil {
		return err
	}
	gen, err := m.s.Generation(ctx)
	if err != nil {
		return err
	}
	revoked, err := m.s.RevokedSessions(ctx)
	if err != nil {
		return err
	}
	m.userSeq.Add(1)
	m.mu.Lock()
	if m.gen != "" && m.gen != gen {
		m.log.Warn("redis lost its data (new store generation): every earlier session is refused")
		m.signedOut = map[string]int64{}
	} else if m.gen == gen {
		// The same data set, reloaded after a disconnect or a gap. What this
		// replica saw revoked stays revoked even if Redis no longer has it:
		// a failover to a replica that missed the newest writes, or a
		// restart from an older snapshot, keeps the generation but loses
		// them. Revocations are never taken back, so keeping more is safe.
		for sid, exp := range m.revoked {
			if exp > revoked[sid] {
				revoked[sid] = exp
			}
		}
	}
	m.revoked, m.users, m.gen = revoked, map[string]*UserState{}, gen
	m.mu.Unlock()
	m.markOK()
	m.syncOnce.Do(func() { close(m.synced) })

	lastPrune := time.Now()
	for {
		res, err := m.s.rdb.XRead(ctx, &redis.XReadArgs{
			Streams: []string{keyFeed, lastID}, Count: 1000, Block: m.Block,
		}).Result()
		if errors.Is(err, redis.Nil) {
			// Quiet period: make sure the data set is still the one we loaded.
			cur, gerr := m.s.rdb.Get(ctx, keyGeneration).Result()
			if gerr != nil && !errors.Is(gerr, redis.Nil) {
				return gerr
			}
			if cur != gen {
				return errResync
			}
			m.markOK()
		} else if err != nil {
			return err
		} else {
			for _, st := range res {
				for _, msg := range st.Messages {
					e := parseFeedEntry(msg)
					if e.seq != lastSeq+1 {
						return errResync
					}
					m.apply(e)
					lastID, lastSeq = msg.ID, e.seq
				}
			}
			m.markOK()
		}
		if time.Since(lastPrune) > time.Minute {
			m.prune()
			lastPrune = time.Now()
		}
	}
}

func (m *Mirror) markOK() { m.lastOK.Store(time.Now().UnixNano()) }

func (m *Mirror) apply(e feedEntry) {
	switch e.kind {
	case feedSession:
		m.ApplyRevocation(e.sid, e.exp)
	case feedUser:
		m.InvalidateUser(e.uid)
	}
}

// prune forgets revoked ids whose sessions have expired anyway, so memory is
// bounded by the sessions revoked within one session lifetime.
func (m *Mirror) prune() {
	now := time.Now().Unix()
	m.mu.Lock()
	for sid, exp := range m.revoked {
		if exp < now {
			delete(m.revoked, sid)
		}
	}
	m.mu.Unlock()
}
