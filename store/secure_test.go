package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

// "This wasn't me" leaves nothing an intruder could have added while
// signed in: a passkey of theirs would outlive the sign-out and the
// password block, so every passkey goes, and the activity says so.
func TestSecureAccountRemovesPasskeys(t *testing.T) {
	s := openStore(t, redistest.Start(t))
	ctx := context.Background()
	u := newTestUser(t, s, "dora")
	now := time.Now().UTC()
	for i, name := range []string{"Mine", "Theirs"} {
		p := &Passkey{ID: []byte{byte(i + 1), 9}, Name: name, RPID: "localhost", Created: now, PublicKey: []byte("pk"), Flags: 0x5d}
		if err := s.CreatePasskey(ctx, u.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	link, _, err := s.CreateResetLink(ctx, u.ID, "support", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAPIToken(ctx, &APIToken{Name: "made while signed in", Role: RoleAdmin, OwnerID: u.ID, CreatedBy: u.Username}, time.Hour); err != nil {
		t.Fatal(err)
	}
	// By the time the sessions end, no other way in is left: a passkey or
	// a reset link still working then would let whoever holds it sign in
	// again after the sign-out.
	signedOut := false
	err = s.SecureAccount(ctx, u.ID, SecureOptions{IP: "192.0.2.1", Agent: "test", Via: "a test",
		SignOut: func(ctx context.Context) error {
			signedOut = true
			if n, err := s.CountPasskeys(ctx, u.ID); err != nil || n != 0 {
				t.Errorf("passkeys when the sessions end: %d (%v), want 0", n, err)
			}
			if _, err := s.FindResetLink(ctx, link); err == nil {
				t.Error("the earlier reset link still works when the sessions end")
			}
			if got, err := s.FindUserByID(ctx, u.ID); err != nil || !got.PasswordBlocked {
				t.Errorf("password not blocked when the sessions end: %v", err)
			}
			if tokens, err := s.FindAPITokens(ctx); err != nil || len(tokens) != 0 {
				t.Errorf("API tokens when the sessions end: %d (%v), want 0", len(tokens), err)
			}
			return s.SignOutEverywhere(ctx, u.ID, s.now())
		}})
	if err != nil || !signedOut {
		t.Fatalf("secure account: %v (signed out: %v)", err, signedOut)
	}
	if n, err := s.CountPasskeys(ctx, u.ID); err != nil || n != 0 {
		t.Errorf("passkeys after securing the account: %d (%v), want 0", n, err)
	}
	got, err := s.FindUserByID(ctx, u.ID)
	if err != nil || !got.PasswordBlocked {
		t.Errorf("password not blocked: %+v %v", got, err)
	}
	events, err := s.FindEvents(ctx, u.ID, 5)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		if e.Type == EventAccountSecured && strings.Contains(e.Detail, "2 passkey(s) removed") {
			found = true
		}
	}
	if !found {
		t.Errorf("no activity entry naming the removed passkeys: %+v", events)
	}
}
