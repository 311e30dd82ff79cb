package totp

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store"
)

// checkFixture is a real store on a real redis-server with one user whose
// 2FA is on.
func checkFixture(t *testing.T) (*store.Store, *Codec, *store.User, string, []string) {
	t.Helper()
	srv := redistest.Start(t)
	st, err := store.Open(context.Background(), srv.URL(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, _ := New([]string{"test secret test secret test secret 123"})
	u := &store.User{Username: "ann"}
	if err := st.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	secret := GenerateSecret()
	codes := NewRecoveryCodes()
	sealed, hashes, on := c.Seal(u.ID, secret), c.HashRecoveryCodes(u.ID, codes), true
	if err := st.UpdateUser(t.Context(), u.ID, store.UserUpdate{MFASecret: &sealed, MFAEnabled: &on, RecoveryCodes: &hashes}); err != nil {
		t.Fatal(err)
	}
	u, err = st.FindUserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return st, c, u, secret, codes
}

func TestCheckAcceptsEachStepOnce(t *testing.T) {
	st, c, u, secret, _ := checkFixture(t)
	now := time.Now()
	cur := Step(now)
	code, _ := CodeAt(secret, cur)
	out, err := c.Check(t.Context(), st, u, code, now, true)
	if err != nil || out.Factor != FactorApp {
		t.Fatalf("first use: %+v, %v", out, err)
	}
	out, err = c.Check(t.Context(), st, u, code, now, true)
	if err != nil || out.OK() || !out.Replayed {
		t.Fatalf("second use: %+v, %v; want refused as replayed", out, err)
	}
	// An older step after a newer one is refused too, though never used.
	older, _ := CodeAt(secret, cur-1)
	if out, _ := c.Check(t.Context(), st, u, older, now, true); out.OK() {
		t.Fatal("the code of an earlier step was accepted after a later one")
	}
	newer, _ := CodeAt(secret, cur+1)
	if out, _ := c.Check(t.Context(), st, u, newer, now, true); !out.OK() {
		t.Fatal("the code of the next step was refused")
	}
}

// TestCheckRaceAcceptsOnce sends one code from many goroutines at once, as
// from several replicas: exactly one is accepted.
func TestCheckRaceAcceptsOnce(t *testing.T) {
	st, c, u, secret, _ := checkFixture(t)
	now := time.Now()
	code, _ := CodeAt(secret, Step(now))
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 20 {
		wg.Go(func() {
			out, err := c.Check(context.Background(), st, u, code, now, true)
			if err != nil {
				t.Error(err)
			}
			if out.OK() {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if accepted != 1 {
		t.Fatalf("code accepted %d times, want once", accepted)
	}
}

func TestCheckRecoveryCodes(t *testing.T) {
	st, c, u, _, codes := checkFixture(t)
	out, err := c.Check(t.Context(), st, u, codes[4], time.Now(), false)
	if err != nil || out.OK() {
		t.Fatalf("recovery code where only app codes are allowed: %+v, %v", out, err)
	}
	out, err = c.Check(t.Context(), st, u, codes[4], time.Now(), true)
	if err != nil || out.Factor != FactorRecovery || out.RecoveryLeft != 9 {
		t.Fatalf("recovery code: %+v, %v; want accepted with 9 left", out, err)
	}
	if out, _ := c.Check(t.Context(), st, u, codes[4], time.Now(), true); out.OK() {
		t.Fatal("a recovery code was accepted twice")
	}
	// After a rotation the codes hashed under the old secret still work.
	rotated, _ := New([]string{"a brand new secret, a brand new secret", "test secret test secret test secret 123"})
	if out, _ := rotated.Check(t.Context(), st, u, codes[5], time.Now(), true); out.Factor != FactorRecovery || out.RecoveryLeft != 8 {
		t.Fatalf("recovery code after rotation: %+v", out)
	}
	// Without the old secret the TOTP secret cannot be opened: an error,
	// not a silent refusal, so operators learn about it.
	other, _ := New([]string{"a brand new secret, a brand new secret"})
	if _, err := other.Check(t.Context(), st, u, "123456", time.Now(), true); err == nil {
		t.Fatal("no error for a secret no configured key opens")
	}
}
