package store

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openStore connects a Store to a test redis-server.
func openStore(tb testing.TB, srv *redistest.Server) *Store {
	tb.Helper()
	s, err := Open(context.Background(), srv.URL(), quietLog())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// runMirror starts a mirror and waits for its first load.
func runMirror(tb testing.TB, s *Store) *Mirror {
	tb.Helper()
	m := NewMirror(s, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	go m.Run(ctx)
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := m.WaitSynced(wctx); err != nil {
		tb.Fatal(err)
	}
	return m
}

// eventually polls cond every 5 ms until it holds or the deadline passes.
func eventually(tb testing.TB, within time.Duration, what string, cond func() bool) time.Duration {
	tb.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatalf("%s: not within %v", what, within)
	return 0
}

func newTestUser(tb testing.TB, s *Store, name string) *User {
	tb.Helper()
	u := &User{Username: name, Email: name + "@example.com", PasswordHash: "x"}
	if err := s.CreateUser(context.Background(), u); err != nil {
		tb.Fatal(err)
	}
	return u
}

func verdict(tb testing.TB, m *Mirror, uid, sid, gen string, issued int64) Verdict {
	tb.Helper()
	_, v, err := m.Check(context.Background(), uid, sid, gen, issued)
	if err != nil {
		tb.Fatalf("check: %v", err)
	}
	return v
}

func TestMirrorSeesRevocationsFromAnotherReplica(t *testing.T) {
	srv := redistest.Start(t)
	a, b := openStore(t, srv), openStore(t, srv)
	ma, mb := runMirror(t, a), runMirror(t, b)
	u := newTestUser(t, a, "alice")
	gen := ma.Generation()
	if gen == "" || gen != mb.Generation() {
		t.Fatalf("replicas disagree on the generation: %q vs %q", gen, mb.Generation())
	}
	issued := time.Now().UnixNano()
	if v := verdict(t, mb, u.ID, "s1", gen, issued); v != Alive {
		t.Fatalf("fresh session: verdict %v, want Alive", v)
	}

	// One session revoked on A.
	if err := a.RevokeSession(context.Background(), u.ID, "s1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "B refuses the revoked session", func() bool {
		return verdict(t, mb, u.ID, "s1", gen, issued) == Revoked
	})
	if v := verdict(t, mb, u.ID, "s2", gen, issued); v != Alive {
		t.Fatalf("another session of the same user: %v, want Alive", v)
	}

	// Sign out everywhere on A: every session issued before is refused.
	if err := a.SignOutEverywhere(context.Background(), u.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "B applies sign-out-everywhere", func() bool {
		return verdict(t, mb, u.ID, "s2", gen, issued) == Revoked
	})
	if v := verdict(t, mb, u.ID, "s3", gen, time.Now().UnixNano()); v != Alive {
		t.Fatalf("a session issued after the cut: %v, want Alive", v)
	}

	// Disabling on A.
	disabled := true
	if err := a.UpdateUser(context.Background(), u.ID, UserUpdate{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "B refuses a disabled user", func() bool {
		return verdict(t, mb, u.ID, "s3", gen, time.Now().UnixNano()) == UserBlocked
	})
}

func TestMirrorCheckCostsNoRedisCommand(t *testing.T) {
	srv := redistest.Start(t)
	s := openStore(t, srv)
	m := runMirror(t, s)
	u := newTestUser(t, s, "bob")
	gen, issued := m.Generation(), time.Now().UnixNano()
	verdict(t, m, u.ID, "warm", gen, issued) // loads the user once
	before := srv.CommandCount(t, "hmget") + srv.CommandCount(t, "zscore") + srv.CommandCount(t, "get")
	for i := range 1000 {
		verdict(t, m, u.ID, "s"+strconv.Itoa(i), gen, issued)
	}
	after := srv.CommandCount(t, "hmget") + srv.CommandCount(t, "zscore") + srv.CommandCount(t, "get")
	// The follower's own GET of the generation (once per quiet second) may
	// land in between; 1000 checks must not add anything like 1000.
	if after-before > 3 {
		t.Fatalf("1000 checks cost %d lookups in redis, want ~0", after-before)
	}
}

func TestMirrorReloadsWhenTheFeedHasAGap(t *testing.T) {
	srv := redistest.Start(t)
	s := openStore(t, srv)
	m := runMirror(t, s)
	u := newTestUser(t, s, "carol")
	gen, issued := m.Generation(), time.Now().UnixNano()
	ctx := context.Background()
	// A revocation whose feed entry was trimmed away before this replica
	// read it: only the revocation list has it, and the next entry the
	// follower sees skips a sequence number.
	exp := float64(time.Now().Add(time.Hour).Unix())
	if err := s.rdb.ZAdd(ctx, keyRevoked, redis.Z{Score: exp, Member: "lost"}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.IncrBy(ctx, keyFeedSeq, 5).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.commit(ctx, change{kind: feedUser, uid: u.ID}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "reload picks up the revocation the feed lost", func() bool {
		return verdict(t, m, u.ID, "lost", gen, issued) == Revoked
	})
}

func TestMirrorDataLossRefusesEarlierSessions(t *testing.T) {
	srv := redistest.Start(t)
	s := openStore(t, srv)
	m := runMirror(t, s)
	u := newTestUser(t, s, "dave")
	oldGen, issued := m.Generation(), time.Now().UnixNano()
	if err := s.RevokeSession(context.Background(), u.ID, "gone", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	srv.Restart(t) // no persistence: comes back empty, revocation list lost
	eventually(t, 5*time.Second, "a new generation after the data loss", func() bool {
		return m.Ready() && m.Generation() != "" && m.Generation() != oldGen
	})
	// The user is gone too, but even a session of a re-created user with
	// the old generation must be refused, and so must the revoked one.
	for _, sid := range []string{"gone", "other"} {
		if v := verdict(t, m, u.ID, sid, oldGen, issued); v != Revoked {
			t.Fatalf("session %s from before the loss: %v, want Revoked", sid, v)
		}
	}
}

func TestMirrorFailsClosedAndRecovers(t *testing.T) {
	srv := redistest.StartPersistent(t)
	s := openStore(t, srv)
	m := runMirror(t, s)
	m.StaleAfter = 500 * time.Millisecond
	u := newTestUser(t, s, "erin")
	gen, issued := m.Generation(), time.Now().UnixNano()
	srv.Stop(t)
	eventually(t, 5*time.Second, "checks fail closed once the mirror is stale and redis is gone", func() bool {
		_, _, err := m.Check(context.Background(), u.ID, "s", gen, issued)
		return err != nil
	})
	srv.Restart(t) // persistent: same data, same generation
	eventually(t, 10*time.Second, "recovers by itself", func() bool {
		_, v, err := m.Check(context.Background(), u.ID, "s", gen, issued)
		return err == nil && v == Alive && m.Ready()
	})
}

func BenchmarkMirrorCheck(b *testing.B) {
	srv := redistest.Start(b)
	s := openStore(b, srv)
	m := runMirror(b, s)
	u := newTestUser(b, s, "bench")
	ctx := context.Background()
	gen, issued := m.Generation(), time.Now().UnixNano()
	for i := range 100_000 {
		m.ApplyRevocation("revoked-"+strconv.Itoa(i), time.Now().Add(time.Hour).Unix())
	}
	m.Check(ctx, u.ID, "s", gen, issued)
	before := srv.TotalCommands(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, v, err := m.Check(ctx, u.ID, "s", gen, issued); err != nil || v != Alive {
			b.Fatal(v, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(srv.TotalCommands(b)-before)/float64(b.N), "redis-cmds/op")
}

// hmgetCalls is how many HMGET commands the redis-server has run.
func hmgetCalls(tb testing.TB, s *Store) int64 {
	tb.Helper()
	info, err := s.rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_hmget:calls="); ok {
			n, _ := strconv.ParseInt(rest[:strings.IndexByte(rest, ',')], 10, 64)
			return n
		}
	}
	return 0
}

func TestFindUserStateReadsRedisOnlyAfterAChange(t *testing.T) {
	srv := redistest.Start(t)
	s := openStore(t, srv)
	m := runMirror(t, s)
	other := runMirror(t, openStore(t, srv)) // a second replica
	u := newTestUser(t, s, "owner")
	ctx := context.Background()

	if st, err := other.FindUserState(ctx, u.ID); err != nil || st == nil || st.Disabled {
		t.Fatalf("first look: %+v %v", st, err)
	}
	before := hmgetCalls(t, s)
	for range 5 {
		if st, _ := other.FindUserState(ctx, u.ID); st == nil || st.Disabled {
			t.Fatal("state changed by itself")
		}
	}
	if n := hmgetCalls(t, s) - before; n != 0 {
		t.Fatalf("a held user state cost %d redis reads", n)
	}
	on := true
	if err := s.UpdateUser(ctx, u.ID, UserUpdate{Disabled: &on}); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "the other replica sees the owner disabled", func() bool {
		st, err := other.FindUserState(ctx, u.ID)
		return err == nil && st != nil && st.Disabled
	})
	if st, err := m.FindUserState(ctx, "no-such-user"); err != nil || st != nil {
		t.Fatalf("unknown user: %+v %v", st, err)
	}
}
