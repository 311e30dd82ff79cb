package store

import (
	"context"
	"errors"
	"time"
)

// A Redis failover that loses the newest writes, or a restart from an older
// backup, can hand the replicas a store that lacks revocations they already
// enforce. Each replica keeps what it has seen (revoked ids, "signed out
// before" times, the generation and the highest feed sequence number) and,
// on every reload, compares it with the store: whatever the store lacks is
// written back, with feed entries, before the replica trusts the store again.

// Rollbacks returns how many times this replica found the store had gone
// back in time (lost feed entries, revocations or an ended generation) and
// wrote back what it knew.
func (m *Mirror) Rollbacks() int64 { return m.rollbacks.Load() }

// KeepRevocation enforces a revocation locally whose write to Redis failed,
// and keeps retrying the write until it lands.
func (m *Mirror) KeepRevocation(sid string, exp int64) {
	m.mu.Lock()
	m.revoked[sid] = max(m.revoked[sid], exp)
	m.pendingRev[sid] = max(m.pendingRev[sid], exp)
	m.mu.Unlock()
}

// KeepSignOut is KeepRevocation for a sign-out-everywhere time.
func (m *Mirror) KeepSignOut(uid string, cut int64) {
	m.mu.Lock()
	m.signedOut[uid] = max(m.signedOut[uid], cut)
	m.pendingOut[uid] = max(m.pendingOut[uid], cut)
	m.mu.Unlock()
	m.InvalidateUser(uid)
}

// reconcile adopts snap as the mirror's state, merged with what the replica
// already knows. It returns the changes the store must be given back (and
// the sequence number they must start above) and whether to write at all.
func (m *Mirror) reconcile(snap *snapshot) (back []change, minSeq int64, write bool) {
	now := time.Now().Unix()
	m.userSeq.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	lost, why := false, ""
	switch {
	case m.gen == "" || m.gen == snap.gen:
	case m.retired[snap.gen]:
		// Restored from before an end-all: the generation that ended
		// every older session must come back first.
		lost, why = true, "store went back to an ended generation"
		back = append(back, change{kind: feedGeneration, sid: m.gen})
		snap.gen, snap.revoked, snap.signedOut = m.gen, map[string]int64{}, map[string]int64{}
	default:
		m.log.Warn("new store generation (all sessions ended, or redis lost its data): every earlier session is refused")
		m.retired[m.gen] = true
		m.revoked, m.signedOut = map[string]int64{}, map[string]int64{}
		m.pendingRev, m.pendingOut = map[string]int64{}, map[string]int64{}
		m.maxSeq = 0
	}
	if m.gen == snap.gen {
		for sid, exp := range m.revoked {
			if exp > now && snap.revoked[sid] < exp {
				back = append(back, change{kind: feedSession, sid: sid, e: exp})
				snap.revoked[sid] = exp
				if _, ok := m.pendingRev[sid]; !ok {
					lost, why = true, "revocations missing"
				}
			}
		}
		for uid, cut := range m.signedOut {
			if m.s.staleCut(cut) {
				continue
			}
			if snap.signedOut[uid] < cut {
				back = append(back, change{kind: feedUser, uid: uid, e: cut})
				snap.signedOut[uid] = cut
				if _, ok := m.pendingOut[uid]; !ok {
					lost, why = true, "sign-out-everywhere times missing"
				}
			}
		}
		if snap.seq < m.maxSeq {
			lost, why = true, "feed sequence went backwards"
		}
	}
	if lost {
		m.rollbacks.Add(1)
		m.log.Warn("redis rolled back (failover that lost writes, or restore of an older backup): writing back what this replica knows",
			"reason", why, "store_seq", snap.seq, "seen_seq", m.maxSeq, "changes", len(back))
	}
	m.revoked, m.signedOut, m.users, m.gen = snap.revoked, snap.signedOut, map[string]*UserState{}, snap.gen
	minSeq = m.maxSeq
	m.maxSeq = max(m.maxSeq, snap.seq)
	return back, minSeq, lost || len(back) > 0
}

// clearPending forgets retries that back has written.
func (m *Mirror) clearPending(back []change) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range back {
		switch c.kind {
		case feedSession:
			if m.pendingRev[c.sid] <= c.e {
				delete(m.pendingRev, c.sid)
			}
		case feedUser:
			if m.pendingOut[c.uid] <= c.e {
				delete(m.pendingOut, c.uid)
			}
		}
	}
}

// retryPending writes the changes whose first write failed.
func (m *Mirror) retryPending(ctx context.Context) error {
	m.mu.RLock()
	var back []change
	for sid, exp := range m.pendingRev {
		back = append(back, change{kind: feedSession, sid: sid, e: exp})
	}
	for uid, cut := range m.pendingOut {
		back = append(back, change{kind: feedUser, uid: uid, e: cut})
	}
	m.mu.RUnlock()
	if len(back) == 0 {
		return nil
	}
	if err := m.s.commit(ctx, back...); err != nil && !errors.Is(err, ErrNotReplicated) {
		return err
	}
	m.clearPending(back)
	m.log.Info("revocation feed: wrote changes whose first write had failed", "changes", len(back))
	return nil
}
