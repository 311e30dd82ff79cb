package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

// TestChangeAndFeedEntryAreOneWrite breaks the feed on a real Redis (its key
// holds a string, so XADD cannot succeed) and checks that a revocation, a
// sign-out-everywhere and a disable are then written not at all rather than
// half: no revocation without its entry, an error for the caller. Once the
// feed is repaired, a change and its entry land together again.
func TestChangeAndFeedEntryAreOneWrite(t *testing.T) {
	srv := redistest.Start(t)
	s := openStore(t, srv)
	ctx := context.Background()
	u := newTestUser(t, s, "frank")
	if err := s.rdb.Set(ctx, keyFeed, "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	seqBefore, _ := s.rdb.Get(ctx, keyFeedSeq).Int64()

	err := s.RevokeSession(ctx, u.ID, "sid1", time.Now().Add(time.Hour))
	if !errors.Is(err, ErrFeed) {
		t.Fatalf("revoke with a broken feed: %v, want ErrFeed", err)
	}
	if err := s.SignOutEverywhere(ctx, u.ID, time.Now()); !errors.Is(err, ErrFeed) {
		t.Fatalf("sign out everywhere with a broken feed: %v, want ErrFeed", err)
	}
	on := true
	if err := s.UpdateUser(ctx, u.ID, UserUpdate{Disabled: &on}); !errors.Is(err, ErrFeed) {
		t.Fatalf("disable with a broken feed: %v, want ErrFeed", err)
	}
	if _, err := s.rdb.ZScore(ctx, keyRevoked, "sid1").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("revocation written without its feed entry (err %v)", err)
	}
	if n, _ := s.rdb.HLen(ctx, keySignedOut).Result(); n != 0 {
		t.Fatalf("sign-out time written without its feed entry")
	}
	if got, _ := s.FindUserByID(ctx, u.ID); got.Disabled {
		t.Fatalf("user disabled though its feed entry failed")
	}
	if seq, _ := s.rdb.Get(ctx, keyFeedSeq).Int64(); seq != seqBefore {
		t.Fatalf("feed sequence moved from %d to %d without an entry", seqBefore, seq)
	}

	if err := s.rdb.Del(ctx, keyFeed).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeSession(ctx, u.ID, "sid1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.rdb.ZScore(ctx, keyRevoked, "sid1").Result(); err != nil {
		t.Fatalf("revocation after repair: %v", err)
	}
	msgs, _ := s.rdb.XRange(ctx, keyFeed, "-", "+").Result()
	if len(msgs) != 1 || parseFeedEntry(msgs[0]).sid != "sid1" || parseFeedEntry(msgs[0]).seq != seqBefore+1 {
		t.Fatalf("feed after repair: %+v", msgs)
	}
}
