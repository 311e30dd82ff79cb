package store

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

func TestPasskeyHandleIsRandomStableAndFindsTheUser(t *testing.T) {
	s := openStore(t, redistest.Start(t))
	ctx := context.Background()
	u := newTestUser(t, s, "alice")
	other := newTestUser(t, s, "bob")
	var wg sync.WaitGroup
	handles := make([][]byte, 4)
	for i := range handles { // first registrations racing agree on one handle
		wg.Go(func() {
			h, err := s.PasskeyHandle(ctx, u.ID)
			if err != nil {
				t.Error(err)
			}
			handles[i] = h
		})
	}
	wg.Wait()
	for _, h := range handles[1:] {
		if !bytes.Equal(h, handles[0]) {
			t.Fatalf("handles differ: %x %x", h, handles[0])
		}
	}
	if len(handles[0]) != 32 || bytes.Contains(handles[0], []byte("alice")) || bytes.Contains(handles[0], []byte(u.ID)) {
		t.Fatalf("handle %x: want 32 random bytes, not the name or id", handles[0])
	}
	hb, _ := s.PasskeyHandle(ctx, other.ID)
	if bytes.Equal(hb, handles[0]) {
		t.Fatal("two users share a handle")
	}
	found, err := s.FindUserByPasskeyHandle(ctx, handles[0])
	if err != nil || found.ID != u.ID {
		t.Fatalf("find by handle: %+v %v", found, err)
	}
	if _, err := s.FindUserByPasskeyHandle(ctx, []byte("not a handle")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown handle: %v", err)
	}
	if _, err := s.PasskeyHandle(ctx, "no-such-user"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("handle of a missing user: %v", err)
	}
}

func TestPasskeyCRUDAndLastFactor(t *testing.T) {
	s := openStore(t, redistest.Start(t))
	ctx := context.Background()
	u := newTestUser(t, s, "carol")
	now := time.Now().UTC().Truncate(time.Millisecond)
	p1 := &Passkey{ID: []byte{1, 2, 3}, Name: "Laptop", RPID: "localhost", Created: now, PublicKey: []byte("pk1"), Flags: 0x5d, SignCount: 3, Transports: []string{"internal", "hybrid"}}
	if err := s.CreatePasskey(ctx, u.ID, p1); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePasskey(ctx, u.ID, p1); !errors.Is(err, ErrConflict) {
		t.Fatalf("same credential twice: %v", err)
	}
	got, err := s.FindPasskeys(ctx, u.ID)
	if err != nil || len(got) != 1 {
		t.Fatalf("find: %v %v", got, err)
	}
	g := got[0]
	if !bytes.Equal(g.ID, p1.ID) || g.Name != "Laptop" || g.RPID != "localhost" || !g.Created.Equal(now) || !g.LastUsed.IsZero() ||
		!g.Synced() || g.SignCount != 3 || len(g.Transports) != 2 {
		t.Fatalf("round trip: %+v", g)
	}
	// The counter only goes up; a regression is recorded, not written.
	if err := s.UsePasskey(ctx, u.ID, p1.EncodedID(), PasskeyUse{At: now, SignCount: 9, Flags: 0x5d}); err != nil {
		t.Fatal(err)
	}
	if err := s.UsePasskey(ctx, u.ID, p1.EncodedID(), PasskeyUse{At: now.Add(time.Second), SignCount: 2, Flags: 0x5d, CounterWarning: true}); err != nil {
		t.Fatal(err)
	}
	g, _ = s.FindPasskey(ctx, u.ID, p1.EncodedID())
	if g.SignCount != 9 || g.CounterWarning.IsZero() || !g.LastUsed.Equal(now.Add(time.Second)) {
		t.Fatalf("after uses: count %d warning %v last %v", g.SignCount, g.CounterWarning, g.LastUsed)
	}
	if err := s.RenamePasskey(ctx, u.ID, p1.EncodedID(), "Work"); err != nil {
		t.Fatal(err)
	}
	if err := s.RenamePasskey(ctx, u.ID, "nope", "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rename missing: %v", err)
	}
	// The only factor of an account under a policy stays.
	if err := s.DeletePasskey(ctx, u.ID, p1.EncodedID(), KeepAny); !errors.Is(err, ErrLastFactor) {
		t.Fatalf("last factor removed: %v", err)
	}
	on := true
	if err := s.UpdateUser(ctx, u.ID, UserUpdate{MFAEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePasskey(ctx, u.ID, p1.EncodedID(), KeepPasskey); !errors.Is(err, ErrLastFactor) {
		t.Fatalf("last passkey removed under phishing-resistant policy: %v", err)
	}
	if err := s.DeletePasskey(ctx, u.ID, p1.EncodedID(), KeepAny); err != nil {
		t.Fatalf("passkey with an authenticator app beside it: %v", err)
	}
	if err := s.DeletePasskey(ctx, u.ID, p1.EncodedID(), KeepNothing); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed twice: %v", err)
	}
	if err := s.UsePasskey(ctx, u.ID, p1.EncodedID(), PasskeyUse{At: now}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("use of a removed passkey: %v", err)
	}
	if n, _ := s.CountPasskeys(ctx, u.ID); n != 0 {
		t.Fatalf("count after removal: %d", n)
	}
	for i := range MaxPasskeys {
		if err := s.CreatePasskey(ctx, u.ID, &Passkey{ID: []byte{byte(i), 9}, PublicKey: []byte("k"), Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreatePasskey(ctx, u.ID, &Passkey{ID: []byte{0xff}, PublicKey: []byte("k"), Created: now}); !errors.Is(err, ErrTooManyPasskeys) {
		t.Fatalf("past the limit: %v", err)
	}
	if n, err := s.DeletePasskeys(ctx, u.ID); err != nil || n != MaxPasskeys {
		t.Fatalf("delete all: %d %v", n, err)
	}
}

func TestCeremonyIsSingleUse(t *testing.T) {
	s := openStore(t, redistest.Start(t))
	ctx := context.Background()
	if err := s.PutCeremony(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if b, err := s.TakeCeremony(ctx, "k"); err != nil || string(b) != "v" {
		t.Fatalf("take: %q %v", b, err)
	}
	if _, err := s.TakeCeremony(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second take: %v", err)
	}
}
