package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

func TestResetLinkIsSingleUse(t *testing.T) {
	s := openStore(t, redistest.Start(t))
	ctx := context.Background()
	u := newTestUser(t, s, "alice")
	tok, _, err := s.CreateResetLink(ctx, u.ID, "bob", ResetLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	if link, err := s.FindResetLink(ctx, tok); err != nil || link.UserID != u.ID || link.CreatedBy != "bob" {
		t.Fatalf("find fresh link: %+v %v", link, err)
	}
	// Two requests race with the same token: exactly one may use it.
	var wg sync.WaitGroup
	wins := make(chan bool, 8)
	for range 8 {
		wg.Go(func() {
			_, err := s.ConsumeResetLink(ctx, tok)
			if err != nil && !errors.Is(err, ErrNotFound) {
				t.Error(err)
			}
			wins <- err == nil
		})
	}
	wg.Wait()
	close(wins)
	n := 0
	for w := range wins {
		if w {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("link used %d times, want exactly once", n)
	}
	if _, err := s.FindResetLink(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Fatalf("used link still found: %v", err)
	}
}

func TestResetLinkExpires(t *testing.T) {
	s := openStore(t, redistest.Start(t))
	ctx := context.Background()
	u := newTestUser(t, s, "alice")
	tok, link, err := s.CreateResetLink(ctx, u.ID, "bob", ResetLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	if d := link.Expires.Sub(link.Created); d != ResetLinkTTL {
		t.Fatalf("link lives %v, want %v", d, ResetLinkTTL)
	}
	// Redis drops the key after the TTL; the store refuses it at the stored
	// expiry even before Redis gets round to it.
	s.now = func() time.Time { return time.Now().Add(ResetLinkTTL + time.Second) }
	if _, err := s.FindResetLink(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired link found: %v", err)
	}
	if _, err := s.ConsumeResetLink(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired link used: %v", err)
	}
	ttl, err := s.rdb.PTTL(ctx, keyResetLink(hashToken(tok))).Result()
	if err != nil || ttl > 0 {
		// consumed (deleted) by the attempt above: no key left behind
		t.Fatalf("expired link key left with ttl %v (%v)", ttl, err)
	}
}

func TestNewResetLinkRetiresTheOldOne(t *testing.T) {
	s := openStore(t, redistest.Start(t))
	ctx := context.Background()
	u := newTestUser(t, s, "alice")
	first, _, err := s.CreateResetLink(ctx, u.ID, "bob", ResetLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := s.CreateResetLink(ctx, u.ID, "bob", ResetLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeResetLink(ctx, first); !errors.Is(err, ErrNotFound) {
		t.Fatalf("replaced link still works: %v", err)
	}
	if _, err := s.ConsumeResetLink(ctx, second); err != nil {
		t.Fatalf("newest link refused: %v", err)
	}
	for _, bad := range []string{"", "nope", first + "x"} {
		if _, err := s.FindResetLink(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("token %q: %v, want not found", bad, err)
		}
	}
	// Nothing stores the token itself.
	keys, _ := s.rdb.Keys(ctx, "*").Result()
	for _, k := range keys {
		if v, _ := s.rdb.Dump(ctx, k).Result(); strings.Contains(v, second) || strings.Contains(k, second) {
			t.Fatalf("key %s holds the token in clear", k)
		}
	}
}
