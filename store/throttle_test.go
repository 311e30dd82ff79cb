package store

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

// throttleStore opens a Store on a fresh redis-server with a clock the test
// moves by hand.
func throttleStore(tb testing.TB) (*Store, *time.Time) {
	tb.Helper()
	srv := redistest.Start(tb)
	s, err := Open(context.Background(), srv.URL(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	clock := time.UnixMilli(1_800_000_000_000)
	s.now = func() time.Time { return clock }
	return s, &clock
}

var testPolicy = ThrottlePolicy{Free: 3, Base: time.Second, Max: 5 * time.Second, Forget: time.Hour}

func take(t *testing.T, s *Store, key string) ThrottleResult {
	t.Helper()
	r, err := s.ThrottleTake(context.Background(), key, testPolicy)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestThrottleTakeGrowsDelaysAndCaps(t *testing.T) {
	s, clock := throttleStore(t)
	key := PasswordUserThrottleKey("u1")
	for i := 1; i <= 3; i++ {
		if r := take(t, s, key); r.Wait != 0 || r.Delay != 0 || r.Fails != int64(i) {
			t.Fatalf("free attempt %d: %+v", i, r)
		}
	}
	// Each attempt beyond the free ones goes through but sets the next
	// delay: 1 s, 2 s, 4 s, then the 5 s cap.
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second} {
		r := take(t, s, key)
		if r.Wait != 0 || r.Delay != want {
			t.Fatalf("attempt after the free ones: %+v, want delay %v", r, want)
		}
		// During the delay every attempt is refused and not counted.
		*clock = clock.Add(want - 300*time.Millisecond)
		refused := take(t, s, key)
		if refused.Wait != time.Second {
			t.Fatalf("attempt 300ms before the end of a %v delay: wait %v, want 1s (rounded up)", want, refused.Wait)
		}
		if w, _ := s.ThrottleWait(context.Background(), key); w != time.Second {
			t.Fatalf("ThrottleWait = %v, want 1s", w)
		}
		*clock = clock.Add(300 * time.Millisecond)
	}
	st, err := s.FindThrottle(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if st.Fails != 8 {
		t.Fatalf("fails = %d, want 8 (refused attempts are not counted)", st.Fails)
	}
}

func TestThrottleCounterExpires(t *testing.T) {
	s, _ := throttleStore(t)
	key := PasswordIPThrottleKey("203.0.113.9")
	take(t, s, key)
	ttl, err := s.rdb.PTTL(context.Background(), throttleKey(key)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > testPolicy.Forget {
		t.Fatalf("counter TTL = %v, want (0, %v]: a counter must never be permanent", ttl, testPolicy.Forget)
	}
}

func TestThrottleRefundAndReset(t *testing.T) {
	s, _ := throttleStore(t)
	ctx := context.Background()
	key := PasswordIPThrottleKey("198.51.100.1")
	for range 4 {
		take(t, s, key)
	}
	if w, _ := s.ThrottleWait(ctx, key); w == 0 {
		t.Fatal("no delay after 4 attempts with 3 free")
	}
	// Refunding the attempt that started the delay lifts it.
	if err := s.ThrottleRefund(ctx, key, testPolicy); err != nil {
		t.Fatal(err)
	}
	if w, _ := s.ThrottleWait(ctx, key); w != 0 {
		t.Fatalf("wait after refund = %v, want 0", w)
	}
	if st, _ := s.FindThrottle(ctx, key); st.Fails != 3 {
		t.Fatalf("fails after refund = %d, want 3", st.Fails)
	}
	// A refund never goes below zero.
	other := PasswordIPThrottleKey("198.51.100.2")
	if err := s.ThrottleRefund(ctx, other, testPolicy); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.FindThrottle(ctx, other); st.Fails != 0 {
		t.Fatalf("refund on an empty counter: fails %d", st.Fails)
	}
	if err := s.ThrottleReset(ctx, key); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.FindThrottle(ctx, key); st.Fails != 0 {
		t.Fatalf("fails after reset = %d", st.Fails)
	}
}

// A burst of parallel attempts cannot get more than the free ones through
// before the delay starts: the check and the count are one step.
func TestThrottleTakeParallelBurst(t *testing.T) {
	s, _ := throttleStore(t)
	key := PasswordUserThrottleKey("burst")
	var passed atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			r, err := s.ThrottleTake(context.Background(), key, testPolicy)
			if err != nil {
				t.Error(err)
				return
			}
			if r.Wait == 0 {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	// 3 free plus the one that starts the first delay.
	if n := passed.Load(); n != 4 {
		t.Fatalf("%d of 50 parallel attempts went through, want 4", n)
	}
}

func TestFindAndResetUserThrottles(t *testing.T) {
	s, _ := throttleStore(t)
	ctx := context.Background()
	u := &User{Username: "carol", Email: "carol@example.com", PasswordHash: "x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, err := s.FindUserThrottles(ctx, u); err != nil || len(got) != 0 {
		t.Fatalf("fresh user throttles = %v, %v", got, err)
	}
	for range 5 { // the fifth is refused: 3 free, the 4th starts a delay
		take(t, s, PasswordUserThrottleKey(u.ID))
	}
	take(t, s, MFAThrottleKey(u.ID))
	take(t, s, PasswordIPThrottleKey("192.0.2.1")) // not the person's
	got, err := s.FindUserThrottles(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Key != PasswordUserThrottleKey(u.ID) || got[0].Fails != 4 || !got[0].Active(s.now()) ||
		got[1].Key != MFAThrottleKey(u.ID) || got[1].Fails != 1 || got[1].Active(s.now()) {
		t.Fatalf("throttles = %+v", got)
	}
	if err := s.ResetUserThrottles(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FindUserThrottles(ctx, u); len(got) != 0 {
		t.Fatalf("after reset: %+v", got)
	}
	if r := take(t, s, PasswordUserThrottleKey(u.ID)); r.Wait != 0 || r.Fails != 1 {
		t.Fatalf("first attempt after reset: %+v", r)
	}
	if st, _ := s.FindThrottle(ctx, PasswordIPThrottleKey("192.0.2.1")); st.Fails != 1 {
		t.Fatal("resetting a user cleared a client-address counter")
	}
}
