package store

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

// TestActivityRetention: with ActivityLimit 50, 300 events leave the newest
// 50 all there, in order, and Redis trims the rest but for at most about a
// block (100) more; paging before/after an id is exclusive.
func TestActivityRetention(t *testing.T) {
	s := openStore(t, redistest.Start(t))
	s.ActivityLimit = 50
	ctx := context.Background()
	for i := range 300 {
		if err := s.AppendEvent(ctx, "u1", Event{Type: EventSignInFailed, Detail: strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.FindEventsBefore(ctx, "u1", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 50 || len(all) > 150 {
		t.Fatalf("%d events kept, want the newest 50 and at most about 100 more", len(all))
	}
	for i := range 50 {
		if want := strconv.Itoa(299 - i); all[i].Detail != want {
			t.Fatalf("event %d is %q, want %q", i, all[i].Detail, want)
		}
	}
	older, err := s.FindEventsBefore(ctx, "u1", all[9].ID, 3)
	if err != nil || len(older) != 3 || older[0].ID != all[10].ID || older[2].ID != all[12].ID {
		t.Errorf("before %s: %v %v, want the next three", all[9].ID, older, err)
	}
	newer, err := s.FindEventsAfter(ctx, "u1", all[9].ID, 3)
	if err != nil || len(newer) != 3 || newer[0].ID != all[6].ID || newer[2].ID != all[8].ID {
		t.Errorf("after %s: %v %v, want the three newer, newest first", all[9].ID, newer, err)
	}
	for _, bad := range []string{"", "-", "1-", "-1", "+", "(1-0", "1-0 x", "a-1"} {
		if ValidEventID(bad) {
			t.Errorf("ValidEventID(%q) = true", bad)
		}
	}
	if !ValidEventID(all[0].ID) {
		t.Errorf("ValidEventID(%q) = false", all[0].ID)
	}
}

// TestEventDeviceIsBounded: a client's user agent is stored at most
// MaxEventDevice bytes long, whoever writes the event.
func TestEventDeviceIsBounded(t *testing.T) {
	s := openStore(t, redistest.Start(t))
	ctx := context.Background()
	if err := s.AppendEvent(ctx, "u1", Event{Type: EventSignIn, Device: strings.Repeat("x", 5000)}); err != nil {
		t.Fatal(err)
	}
	evs, err := s.FindEvents(ctx, "u1", 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %v, %v", evs, err)
	}
	if got := len(evs[0].Device); got != MaxEventDevice {
		t.Errorf("stored device is %d bytes, want %d", got, MaxEventDevice)
	}
}
