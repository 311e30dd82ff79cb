package store

import (
	"context"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

// TestRestoreFromBeforeEndAllKeepsSessionsEnded restores a backup taken
// before `sessions end-all` under a running mirror: the store comes back with
// the old generation, whose cookies the end-all had ended. The mirror keeps
// refusing them, counts the rollback and writes the newer generation back,
// so a mirror started afterwards refuses them too.
func TestRestoreFromBeforeEndAllKeepsSessionsEnded(t *testing.T) {
	srv := redistest.StartPersistent(t)
	s := openStore(t, srv)
	m := runMirror(t, s)
	u := newTestUser(t, s, "gus")
	oldGen, issued := m.Generation(), time.Now().UnixNano()
	backup := srv.Snapshot(t)
	newGen, err := s.EndAllSessions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "mirror follows end-all", func() bool { return m.Generation() == newGen })

	srv.RestoreSnapshot(t, backup)
	eventually(t, 10*time.Second, "rollback to the ended generation written back", func() bool {
		g, _ := s.rdb.Get(context.Background(), keyGeneration).Result()
		return g == newGen && m.Rollbacks() == 1 && m.Ready()
	})
	if v := verdict(t, m, u.ID, "s1", oldGen, issued); v != Revoked {
		t.Fatalf("cookie of the ended generation: %v, want Revoked", v)
	}
	fresh := runMirror(t, s)
	if fresh.Generation() != newGen {
		t.Fatalf("fresh mirror generation %q, want %q", fresh.Generation(), newGen)
	}
	if v := verdict(t, fresh, u.ID, "s1", oldGen, issued); v != Revoked {
		t.Fatalf("fresh mirror, cookie of the ended generation: %v, want Revoked", v)
	}
}

// TestOldSignOutTimesAreDroppedNotWrittenBack: a "signed out before" time
// older than the session lifetime ends nothing any more. The snapshot drops
// it from Redis, and a mirror that still remembers it does not take its
// absence for a rollback.
func TestOldSignOutTimesAreDroppedNotWrittenBack(t *testing.T) {
	srv := redistest.Start(t)
	s := openStore(t, srv)
	s.SessionLifetime = time.Hour
	m := runMirror(t, s)
	ctx := context.Background()
	old, recent := time.Now().Add(-2*time.Hour).UnixNano(), time.Now().Add(-time.Minute).UnixNano()
	if err := s.commit(ctx, change{kind: feedUser, uid: "old", e: old}, change{kind: feedUser, uid: "recent", e: recent}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "mirror follows", func() bool {
		m.mu.RLock()
		defer m.mu.RUnlock()
		return m.signedOut["recent"] == recent
	})
	snap, err := s.loadSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.signedOut["old"]; ok || snap.signedOut["recent"] != recent {
		t.Fatalf("snapshot sign-out times: %v", snap.signedOut)
	}
	if n, _ := s.rdb.HExists(ctx, keySignedOut, "old").Result(); n {
		t.Fatal("an old sign-out time stays in redis")
	}
	if _, _, write := m.reconcile(snap); write || m.Rollbacks() != 0 {
		t.Fatalf("dropped old time taken for a rollback (write %v, rollbacks %d)", write, m.Rollbacks())
	}
}
