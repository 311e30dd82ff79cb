package store

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

// The record of new sign-ins lives in the user's slot, expires, keeps at
// most maxNewSignIns entries (the newest) and never shows one older than
// NewSignInTTL; a reissued session keeps its entry.
func TestNewSignInsAreBoundedAndExpire(t *testing.T) {
	s := openStore(t, redistest.Start(t))
	ctx := context.Background()
	u := newTestUser(t, s, "alice")
	key := keyNewSignIns(u.ID)
	if !strings.HasSuffix(key, "{"+u.ID+"}") {
		t.Fatalf("key %q is not under the user's hash tag", key)
	}

	now := time.Now().UTC()
	if err := s.AddNewSignIn(ctx, u.ID, NewSignIn{SessionID: "old", Time: now.Add(-NewSignInTTL - time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for i := range maxNewSignIns + 5 {
		n := NewSignIn{SessionID: "s" + strconv.Itoa(i), Time: now.Add(time.Duration(i) * time.Second), IP: "192.0.2.1"}
		if err := s.AddNewSignIn(ctx, u.ID, n); err != nil {
			t.Fatal(err)
		}
	}
	if ttl := s.rdb.PTTL(ctx, key).Val(); ttl <= NewSignInTTL-time.Minute || ttl > NewSignInTTL {
		t.Errorf("TTL %v, want %v", ttl, NewSignInTTL)
	}
	if n := s.rdb.HLen(ctx, key).Val(); n != maxNewSignIns {
		t.Errorf("%d entries stored, want at most %d", n, maxNewSignIns)
	}
	list, err := s.FindNewSignIns(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != maxNewSignIns || list[0].SessionID != "s24" || list[len(list)-1].SessionID != "s5" {
		t.Fatalf("got %d entries from %s to %s, want the newest %d", len(list), list[0].SessionID, list[len(list)-1].SessionID, maxNewSignIns)
	}

	if err := s.MoveNewSignIn(ctx, u.ID, "s24", "s24b"); err != nil {
		t.Fatal(err)
	}
	if err := s.DismissNewSignIn(ctx, u.ID, "s23"); err != nil {
		t.Fatal(err)
	}
	list, _ = s.FindNewSignIns(ctx, u.ID)
	if len(list) != maxNewSignIns-1 || list[0].SessionID != "s24b" || list[0].IP != "192.0.2.1" || list[1].SessionID != "s22" {
		t.Fatalf("after move and dismiss: %d entries, first %+v", len(list), list[0])
	}
	if err := s.ClearNewSignIns(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ = s.FindNewSignIns(ctx, u.ID); len(list) != 0 {
		t.Fatalf("%d entries after clearing", len(list))
	}
}
