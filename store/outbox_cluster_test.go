package store

import (
	"context"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

// TestOutboxOnCluster: on Redis Cluster an event and its messages live in
// different slots; both are written (one after the other), and a worker
// claims and delivers the message.
func TestOutboxOnCluster(t *testing.T) {
	ctx := context.Background()
	c := redistest.StartCluster(t)
	s, err := Open(ctx, c.URL(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Outbox = func(string, Event) []OutboxMessage {
		return []OutboxMessage{{Kind: MessageWebhook, To: "https://app.example/hook"}}
	}
	if err := s.AppendEvent(ctx, "u1", Event{Type: EventSignOutAll}); err != nil {
		t.Fatalf("event with a message on Cluster: %v", err)
	}
	if err := s.Enqueue(ctx, OutboxMessage{Kind: MessageMail, UserID: "u2", Template: MailResetLink}); err != nil {
		t.Fatal(err)
	}
	if evs, err := s.FindEvents(ctx, "u1", 10); err != nil || len(evs) != 1 {
		t.Fatalf("events: %d (%v)", len(evs), err)
	}
	if err := s.EnsureOutboxGroup(ctx); err != nil {
		t.Fatal(err)
	}
	got := 0
	for deadline := time.Now().Add(10 * time.Second); got < 2 && time.Now().Before(deadline); {
		msgs, err := s.ClaimOutbox(ctx, "a", time.Minute, 50*time.Millisecond, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if err := s.AckOutbox(ctx, m); err != nil {
				t.Fatal(err)
			}
			got++
		}
	}
	if got != 2 {
		t.Fatalf("claimed %d messages on Cluster, want 2", got)
	}
}
