package attempts

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store"
)

var testPolicies = Policies{
	PasswordAccount: store.ThrottlePolicy{Free: 2, Base: 150 * time.Millisecond, Max: time.Second, Forget: time.Minute},
	PasswordIP:      store.ThrottlePolicy{Free: 4, Base: 150 * time.Millisecond, Max: time.Second, Forget: time.Minute},
	MFA:             store.ThrottlePolicy{Free: 2, Base: 150 * time.Millisecond, Max: time.Second, Forget: time.Minute},
}

type fixture struct {
	st        *store.Store
	g         *Guard
	throttled map[Kind]int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(context.Background(), redistest.Start(t).URL(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, throttled: map[Kind]int{}}
	f.g = New(st, testPolicies, func(k Kind) { f.throttled[k]++ })
	return f
}

// try makes one password attempt; right says whether the password is the
// right one. It reports whether verify ran.
func (f *fixture) try(t *testing.T, acct Account, ip string, right bool) (Result, bool) {
	t.Helper()
	ran := false
	r, err := f.g.Password(context.Background(), acct, ip, func(context.Context) (bool, error) {
		ran = true
		return right, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, ran
}

func TestRightPasswordRefusedDuringDelayAcceptedAfter(t *testing.T) {
	f := newFixture(t)
	acct := User("u1")
	for i := range 3 { // 2 free, the 3rd starts the first delay
		if r, _ := f.try(t, acct, "192.0.2.1", false); r.OK || r.Throttled() || r.DelayStarted != (i == 2) || (i == 2) != (r.Delay == 150*time.Millisecond) {
			t.Fatalf("wrong password %d: %+v", i+1, r)
		}
	}
	r, ran := f.try(t, acct, "192.0.2.2", true)
	if !r.Throttled() || r.Kind != KindPasswordAccount || ran || r.OK {
		t.Fatalf("right password during the delay: %+v (verify ran: %v), want refused without checking", r, ran)
	}
	if r.Wait != time.Second {
		t.Fatalf("wait = %v, want 1s (150ms rounded up)", r.Wait)
	}
	if f.throttled[KindPasswordAccount] != 1 {
		t.Fatalf("metric hook: %v", f.throttled)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		r, _ = f.try(t, acct, "192.0.2.2", true)
		if !r.Throttled() || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !r.OK {
		t.Fatalf("right password after the delay: %+v", r)
	}
	// Success reset the account: the free attempts are back.
	for range 2 {
		if r, _ := f.try(t, acct, "192.0.2.3", false); r.Throttled() {
			t.Fatal("account counter was not reset by the right password")
		}
	}
}

func TestSuccessDoesNotResetClientCounter(t *testing.T) {
	f := newFixture(t)
	ip := "198.51.100.7"
	// A guesser alternates between victims and their own account.
	for i := range 4 {
		if r, _ := f.try(t, Name("victim"+string(rune('a'+i))), ip, false); r.Throttled() {
			t.Fatalf("guess %d throttled too early", i)
		}
		if r, _ := f.try(t, User("own"), ip, true); !r.OK {
			t.Fatalf("own sign-in %d: %+v", i, r)
		}
	}
	// Four failures are all free; the fifth starts the client's delay.
	if r, _ := f.try(t, Name("victime"), ip, false); r.Throttled() {
		t.Fatal("fifth guess refused")
	}
	r, ran := f.try(t, User("own"), ip, true)
	if !r.Throttled() || r.Kind != KindPasswordIP || ran {
		t.Fatalf("after 5 failures from one client: %+v (verify ran %v), want the client in a delay", r, ran)
	}
	// Another client is not affected.
	if r, _ := f.try(t, User("own"), "198.51.100.8", true); !r.OK {
		t.Fatalf("other client: %+v", r)
	}
}

func TestUnknownNamesCountedLikeAccounts(t *testing.T) {
	f := newFixture(t)
	// Different clients, same unknown name in its canonical spelling.
	for _, ip := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		f.try(t, Name("nobody"), ip, false)
	}
	r, _ := f.try(t, Name("nobody"), "203.0.113.4", false)
	if !r.Throttled() || r.Kind != KindPasswordAccount {
		t.Fatalf("unknown name after 3 failures: %+v, want the same delay as an account", r)
	}
}

func TestIPv6CountedPer64(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		f.try(t, Name("x"+string(rune('a'+i))), "2001:db8:1:2::"+string(rune('a'+i)), false)
	}
	r, _ := f.try(t, Name("xz"), "2001:db8:1:2:ffff::1", false)
	if !r.Throttled() || r.Kind != KindPasswordIP {
		t.Fatalf("sixth attempt from the same /64: %+v, want the client delay", r)
	}
	if r, _ := f.try(t, Name("xy"), "2001:db8:1:3::1", false); r.Throttled() {
		t.Fatal("another /64 was throttled")
	}
}

func TestCheckErrorIsNotCounted(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("hasher busy")
	for range 10 {
		_, err := f.g.Password(context.Background(), User("u2"), "192.0.2.50", func(context.Context) (bool, error) { return false, boom })
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
	}
	if r, ran := f.try(t, User("u2"), "192.0.2.50", true); !r.OK || !ran {
		t.Fatalf("after 10 failed checks: %+v, want the attempt checked and accepted", r)
	}
}

func TestCodeCountSurvivesPasswordSuccess(t *testing.T) {
	f := newFixture(t)
	code := func(right bool) Result {
		r, err := f.g.Code(context.Background(), "u3", func(context.Context) (bool, error) { return right, nil })
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	code(false)
	code(false)
	// Redoing the password step must not reset the code counter.
	if r, _ := f.try(t, User("u3"), "192.0.2.9", true); !r.OK {
		t.Fatal("password step failed")
	}
	if r := code(false); r.Throttled() || !r.DelayStarted {
		t.Fatalf("third wrong code: %+v, want counted and starting the delay", r)
	}
	if r := code(true); !r.Throttled() || r.Kind != KindMFA {
		t.Fatalf("right code during the delay: %+v, want refused", r)
	}
	if f.throttled[KindMFA] != 1 {
		t.Fatalf("metric hook: %v", f.throttled)
	}
}
