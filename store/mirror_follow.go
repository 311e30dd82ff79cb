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
	go m.watchState(ctx)
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := m.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		m.stats.failed(err)
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

// follow loads a snapshot, writes back whatever a rollback lost, and then
// applies feed entries until an error.
func (m *Mirror) follow(ctx context.Context) error {
	snap, err := m.s.loadSnapshot(ctx)
	if err != nil {
		return err
	}
	if back, minSeq, write := m.reconcile(snap); write {
		// Trust nothing from this data set until what this replica knows
		// is in it again; checks meanwhile go by the replica's own lists.
		if err := m.s.commitFrom(ctx, minSeq, back); err != nil && !errors.Is(err, ErrNotReplicated) {
			return err
		}
		m.clearPending(back)
		m.log.Info("revocation feed: wrote back what the store had lost", "changes", len(back))
		return errResync
	}
	m.markOK()
	m.stats.loaded(snap.seq)
	m.syncOnce.Do(func() { close(m.synced) })

	lastID, lastSeq, gen := snap.lastID, snap.seq, snap.gen
	lastPrune := time.Now()
	for {
		if err := m.retryPending(ctx); err != nil {
			return err
		}
		res, err := m.s.rdb.XRead(ctx, &redis.XReadArgs{
			Streams: []string{keyFeed, lastID}, Count: 1000, Block: m.Block,
		}).Result()
		if errors.Is(err, redis.Nil) {
			// Quiet period: make sure the data set is still the one we
			// loaded and has not gone back in time.
			if err := m.s.checkPosition(ctx, gen, lastSeq); err != nil {
				return err
			}
			m.markOK()
		} else if err != nil {
			return err
		} else {
			for _, st := range res {
				for _, msg := range st.Messages {
					e := parseFeedEntry(msg)
					if e.seq != lastSeq+1 || e.kind == feedGeneration {
						return errResync
					}
					m.apply(e)
					lastID, lastSeq = msg.ID, e.seq
				}
			}
			m.mu.Lock()
			m.maxSeq = max(m.maxSeq, lastSeq)
			m.mu.Unlock()
			m.markOK()
			m.stats.applied(lastSeq)
		}
		if time.Since(lastPrune) > time.Minute {
			m.prune()
			lastPrune = time.Now()
		}
	}
}

// checkPosition returns errResync when the store's generation is not gen or
// its feed sequence fell below seq (a failover or restore lost entries).
func (s *Store) checkPosition(ctx context.Context, gen string, seq int64) error {
	pipe := s.rdb.TxPipeline()
	g := pipe.Get(ctx, keyGeneration)
	n := pipe.Get(ctx, keyFeedSeq)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	cur, _ := n.Int64()
	if g.Val() != gen || cur < seq {
		return errResync
	}
	return nil
}

func (m *Mirror) markOK() { m.lastOK.Store(time.Now().UnixNano()) }

func (m *Mirror) apply(e feedEntry) {
	switch e.kind {
	case feedSession:
		m.ApplyRevocation(e.sid, e.exp)
	case feedUser:
		if e.exp > 0 {
			m.ApplySignOut(e.uid, e.exp)
		}
		m.InvalidateUser(e.uid)
	}
}

// prune forgets revoked ids whose sessions have expired anyway, so memory is
// bounded by the sessions revoked within one session lifetime, and drops the
// cached user states, so a user change whose feed entry was never written is
// seen within a minute.
func (m *Mirror) prune() {
	now := time.Now().Unix()
	m.userSeq.Add(1)
	m.mu.Lock()
	for sid, exp := range m.revoked {
		if exp < now {
			delete(m.revoked, sid)
		}
	}
	for uid, cut := range m.signedOut {
		if m.s.staleCut(cut) {
			delete(m.signedOut, uid)
		}
	}
	m.users = map[string]*UserState{}
	m.mu.Unlock()
}
