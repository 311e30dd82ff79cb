package store

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ValidEventID reports whether id has the shape of a stream entry id
// ("<ms>-<seq>"), so that a cursor from a URL never reaches Redis as
// anything else.
func ValidEventID(id string) bool {
	ms, seq, ok := cutDash(id)
	if !ok {
		return false
	}
	_, err1 := strconv.ParseUint(ms, 10, 64)
	_, err2 := strconv.ParseUint(seq, 10, 64)
	return err1 == nil && err2 == nil
}

func cutDash(id string) (string, string, bool) {
	for i := 0; i < len(id); i++ {
		if id[i] == '-' {
			return id[:i], id[i+1:], i > 0 && i < len(id)-1
		}
	}
	return "", "", false
}

// FindEventsBefore returns up to n of the user's events older than the
// event with id before (exclusive; "" starts at the newest), newest first.
func (s *Store) FindEventsBefore(ctx context.Context, uid, before string, n int64) ([]Event, error) {
	start := "+"
	if before != "" {
		start = "(" + before
	}
	msgs, err := s.rdb.XRevRangeN(ctx, keyActivity(uid), start, "-", n).Result()
	return parseEvents(msgs), err
}

// FindEventsAfter returns up to n of the user's events newer than the event
// with id after (exclusive), the ones closest to it, newest first.
func (s *Store) FindEventsAfter(ctx context.Context, uid, after string, n int64) ([]Event, error) {
	msgs, err := s.rdb.XRangeN(ctx, keyActivity(uid), "("+after, "+", n).Result()
	out := parseEvents(msgs)
	slices.Reverse(out)
	return out, err
}

// FindEventsSince returns the user's events at or after since, newest
// first (at most the retained stream, ActivityLimit entries or so).
func (s *Store) FindEventsSince(ctx context.Context, uid string, since time.Time) ([]Event, error) {
	msgs, err := s.rdb.XRevRange(ctx, keyActivity(uid), "+", strconv.FormatInt(since.UnixMilli(), 10)).Result()
	return parseEvents(msgs), err
}

func parseEvents(msgs []redis.XMessage) []Event {
	out := make([]Event, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, parseEvent(m))
	}
	return out
}
