package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func mustUser(t *testing.T, s *Store, name string) *User {
	t.Helper()
	u := &User{Username: name, Email: name + "@example.com"}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestActiveSessionsCountOnlyTheLastWindow(t *testing.T) {
	s, clock := throttleStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "alice")
	for _, sid := range []string{"s1", "s2"} {
		if err := s.CreateSession(ctx, &Session{ID: sid, UserID: u.ID, Created: *clock, LastSeen: *clock, Expires: clock.Add(24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int64 {
		t.Helper()
		n, err := s.CountActiveSessions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 2 {
		t.Fatalf("two new sessions: %d active, want 2", n)
	}
	*clock = clock.Add(10 * time.Minute)
	if _, err := s.TouchSessions(ctx, []SessionTouch{{UserID: u.ID, SessionID: "s1", At: *clock}}); err != nil {
		t.Fatal(err)
	}
	*clock = clock.Add(ActiveWindow - 5*time.Minute + time.Second)
	if n := count(); n != 1 {
		t.Fatalf("one session used 10 minutes after sign-in, looked at past the window of the other: %d active, want 1", n)
	}
	*clock = clock.Add(ActiveWindow)
	if n := count(); n != 0 {
		t.Fatalf("nothing used for a whole window: %d active, want 0", n)
	}
	if n, _ := s.rdb.ZCard(ctx, keyActiveIndex).Result(); n != 0 {
		t.Fatalf("index keeps %d stale entries", n)
	}
}

func TestHourStatsCountSignInsAndFailures(t *testing.T) {
	s, clock := throttleStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "alice")
	*clock = clock.Truncate(time.Hour).Add(10 * time.Minute)
	for _, typ := range []string{EventSignIn, EventSignIn, EventSignInFailed, EventMFAFailed, EventPasswordChanged} {
		if err := s.AppendEvent(ctx, u.ID, Event{Type: typ, IP: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CountFailedSignIn(ctx); err != nil {
		t.Fatal(err)
	}
	*clock = clock.Add(time.Hour)
	if err := s.AppendEvent(ctx, u.ID, Event{Type: EventSignIn}); err != nil {
		t.Fatal(err)
	}
	hs, err := s.FindHourStats(ctx, 24)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 24 {
		t.Fatalf("%d hours, want 24", len(hs))
	}
	last, prev := hs[23], hs[22]
	if last.SignIns != 1 || last.Failed != 0 || prev.SignIns != 2 || prev.Failed != 3 {
		t.Fatalf("last two hours %+v %+v, want 2 sign-ins and 3 failures, then 1 sign-in", prev, last)
	}
	if !last.Hour.Equal(clock.UTC().Truncate(time.Hour)) || !prev.Hour.Equal(last.Hour.Add(-time.Hour)) {
		t.Fatalf("hours %v %v", prev.Hour, last.Hour)
	}
	if ttl, _ := s.rdb.TTL(ctx, keyStatsHour(*clock)).Result(); ttl <= 0 || ttl > statsRetention {
		t.Fatalf("hour counts live %v, want a bound of %v", ttl, statsRetention)
	}
}

func TestSignInsFromAnAddressAreIndexedBoundedAndExpire(t *testing.T) {
	s, clock := throttleStore(t)
	ctx := context.Background()
	alice, bob := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	sign := func(uid, ip, typ string) {
		t.Helper()
		if err := s.AppendEvent(ctx, uid, Event{Type: typ, IP: ip}); err != nil {
			t.Fatal(err)
		}
	}
	sign(alice.ID, "203.0.113.7", EventSignIn)
	*clock = clock.Add(time.Minute)
	sign(bob.ID, "203.0.113.7", EventSignIn)
	sign(bob.ID, "198.51.100.1", EventSignInFailed) // a failure is not a sign-in
	got, err := s.FindSignInsFromIP(ctx, "203.0.113.7", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].User.Username != "bob" || got[1].User.Username != "alice" || !got[0].Last.Equal(clock.UTC().Truncate(time.Second)) {
		t.Fatalf("accounts from 203.0.113.7: %+v, want bob then alice", got)
	}
	if got, _ := s.FindSignInsFromIP(ctx, "198.51.100.1", 10); len(got) != 0 {
		t.Fatalf("a failed attempt listed %d accounts", len(got))
	}
	for i := range IPSeenLimit + 20 {
		sign(fmt.Sprintf("uid%03d", i), "192.0.2.9", EventSignIn)
	}
	if n, _ := s.rdb.ZCard(ctx, prefixIPSeen+"192.0.2.9").Result(); n != IPSeenLimit {
		t.Fatalf("address remembers %d accounts, want the bound %d", n, IPSeenLimit)
	}
	if ttl, _ := s.rdb.TTL(ctx, prefixIPSeen+"192.0.2.9").Result(); ttl <= IPSeenRetention-time.Minute || ttl > IPSeenRetention {
		t.Fatalf("address remembered for %v, want %v", ttl, IPSeenRetention)
	}
}

func TestThrottledListsDelaysInForce(t *testing.T) {
	s, clock := throttleStore(t)
	ctx := context.Background()
	alice := mustUser(t, s, "alice")
	keys := []string{PasswordUserThrottleKey(alice.ID), PasswordIPThrottleKey("203.0.113.7"), PasswordNameThrottleKey("nobody"), MFAThrottleKey(alice.ID)}
	for _, k := range keys {
		for range testPolicy.Free + 1 {
			take(t, s, k)
		}
	}
	take(t, s, PasswordIPThrottleKey("192.0.2.1")) // free attempt: no delay
	got, err := s.FindThrottled(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, th := range got {
		kinds[th.Kind] = th.Subject
	}
	want := map[string]string{ThrottledAccount: "alice", ThrottledAccountCode: "alice", ThrottledAddress: "203.0.113.7", ThrottledUnknownName: "nobody"}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("throttled %v, want %v", kinds, want)
	}
	if err := s.ResetUserThrottles(ctx, alice); err != nil {
		t.Fatal(err)
	}
	got, _ = s.FindThrottled(ctx, 50)
	if len(got) != 2 {
		t.Fatalf("after clearing alice's limits %d throttled, want the address and the unknown name", len(got))
	}
	*clock = clock.Add(2 * time.Second)
	if got, _ := s.FindThrottled(ctx, 50); len(got) != 0 {
		t.Fatalf("after every delay ended %d throttled, want none", len(got))
	}
}

func TestLockedUsersFollowUpdatesAndOldData(t *testing.T) {
	s, clock := throttleStore(t)
	ctx := context.Background()
	alice, bob, carol := mustUser(t, s, "alice"), mustUser(t, s, "bob"), mustUser(t, s, "carol")
	// carol was disabled before the index existed.
	if err := s.rdb.HSet(ctx, keyUser(carol.ID), "disabled", "1").Err(); err != nil {
		t.Fatal(err)
	}
	on, off, lock := true, false, LockStaff
	*clock = clock.Add(time.Minute)
	if err := s.UpdateUser(ctx, alice.ID, UserUpdate{Disabled: &on, Lock: &lock}); err != nil {
		t.Fatal(err)
	}
	names := func() (string, int64) {
		t.Helper()
		us, total, err := s.FindLockedUsers(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range us {
			out = append(out, u.Username)
		}
		return fmt.Sprint(out), total
	}
	if got, total := names(); got != "[alice carol]" || total != 2 {
		t.Fatalf("locked %s (%d), want alice and carol", got, total)
	}
	if err := s.UpdateUser(ctx, alice.ID, UserUpdate{Disabled: &off}); err != nil {
		t.Fatal(err)
	}
	*clock = clock.Add(time.Minute)
	if err := s.UpdateUser(ctx, bob.ID, UserUpdate{Disabled: &on}); err != nil {
		t.Fatal(err)
	}
	if got, _ := names(); got != "[bob carol]" {
		t.Fatalf("locked %s, want bob and carol", got)
	}
}
