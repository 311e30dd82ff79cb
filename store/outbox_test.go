package store

import (
	"context"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

// TestOutboxLifecycle follows messages through a real Redis: written with
// their event, claimed by one worker only, taken over after the lease when
// a worker dies with a claim, retried after their back-off, buried after
// too many failures and sent again.
func TestOutboxLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, redistest.Start(t))
	if err := s.EnsureOutboxGroup(ctx); err != nil {
		t.Fatal(err)
	}
	s.Outbox = func(uid string, e Event) []OutboxMessage {
		if e.Type != EventPasswordChanged {
			return nil
		}
		return []OutboxMessage{{Kind: MessageMail, Template: e.Type}}
	}
	if err := s.AppendEvent(ctx, "u1", Event{Type: EventSignIn}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendEvent(ctx, "u1", Event{Type: EventPasswordChanged, IP: "192.0.2.1", Detail: "d"}); err != nil {
		t.Fatal(err)
	}
	a, err := s.ClaimOutbox(ctx, "a", time.Minute, 10*time.Millisecond, 10)
	if err != nil || len(a) != 1 {
		t.Fatalf("first worker claims %d messages (%v), want 1 (the sign-in sends none)", len(a), err)
	}
	m := a[0]
	if m.UserID != "u1" || m.Event.IP != "192.0.2.1" || m.Template != EventPasswordChanged {
		t.Fatalf("message %+v", m)
	}
	if b, _ := s.ClaimOutbox(ctx, "b", time.Minute, 10*time.Millisecond, 10); len(b) != 0 {
		t.Fatal("a second worker got a message the first one holds")
	}
	// Worker a dies; after the lease, b takes the message over.
	time.Sleep(60 * time.Millisecond)
	b, err := s.ClaimOutbox(ctx, "b", 50*time.Millisecond, 10*time.Millisecond, 10)
	if err != nil || len(b) != 1 || b[0].ID != m.ID {
		t.Fatalf("after the lease the second worker claims %d (%v), want the same message", len(b), err)
	}
	// A failure files it for a retry, due in 100 ms.
	b[0].Attempts, b[0].LastError = 1, "connection refused"
	if err := s.RetryOutbox(ctx, b[0], time.Now().Add(100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountOutbox(ctx); n != (OutboxCounts{Queued: 0, Retrying: 1}) {
		t.Fatalf("counts after a failure: %+v", n)
	}
	if c, _ := s.ClaimOutbox(ctx, "b", time.Minute, 10*time.Millisecond, 10); len(c) != 0 {
		t.Fatal("a message came back before its back-off ended")
	}
	time.Sleep(120 * time.Millisecond)
	c, err := s.ClaimOutbox(ctx, "b", time.Minute, 10*time.Millisecond, 10)
	if err != nil || len(c) != 1 || c[0].Attempts != 1 || c[0].LastError != "connection refused" {
		t.Fatalf("after the back-off: %d messages (%v)", len(c), err)
	}
	// Given up: dead, listed, and sent again from the console.
	c[0].Attempts = 2
	if err := s.BuryOutbox(ctx, c[0]); err != nil {
		t.Fatal(err)
	}
	dead, err := s.FindOutbox(ctx, OutboxDead, 10)
	if err != nil || len(dead) != 1 || dead[0].Attempts != 2 {
		t.Fatalf("dead list: %+v (%v)", dead, err)
	}
	revived, err := s.ReviveOutbox(ctx, m.ID)
	if err != nil || revived.Attempts != 2 || revived.LastError != "connection refused" || revived.UserID != m.UserID || revived.Kind != m.Kind {
		t.Fatalf("revived as %+v (%v), want the message as it was given up", revived, err)
	}
	if _, err := s.ReviveOutbox(ctx, m.ID); err != ErrNotFound {
		t.Fatalf("reviving twice: %v, want ErrNotFound", err)
	}
	d, err := s.ClaimOutbox(ctx, "b", time.Minute, 10*time.Millisecond, 10)
	if err != nil || len(d) != 1 || d[0].Attempts != 0 {
		t.Fatalf("revived: %d (%v)", len(d), err)
	}
	if err := s.AckOutbox(ctx, d[0]); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountOutbox(ctx); n != (OutboxCounts{}) {
		t.Fatalf("counts after delivery: %+v", n)
	}
}

func TestOneTimeTokensWorkOnce(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, redistest.Start(t))
	tok, err := s.CreateOneTime(ctx, TokenWasntMe, "u1", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindOneTime(ctx, TokenVerifyEmail, tok); err != ErrNotFound {
		t.Fatal("a token of one kind works for another")
	}
	if got, err := s.FindOneTime(ctx, TokenWasntMe, tok); err != nil || got.UserID != "u1" {
		t.Fatalf("find: %+v %v", got, err)
	}
	if _, err := s.ConsumeOneTime(ctx, TokenWasntMe, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeOneTime(ctx, TokenWasntMe, tok); err != ErrNotFound {
		t.Fatalf("second use: %v, want ErrNotFound", err)
	}
}
