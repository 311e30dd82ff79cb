package store

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

// lockedBuffer collects log output from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestMirrorStateDerivation(t *testing.T) {
	now := time.Now().UnixNano()
	long := time.Now().Add(-time.Minute).UnixNano()
	for _, tt := range []struct {
		name                    string
		phase                   int32
		lastOK, directOK, rdErr int64
		want                    string
	}{
		{"first load", phaseLoading, 0, 0, 0, StateReloading},
		{"following", phaseFollowing, now, 0, 0, StateFollowing},
		{"follower lost redis, within the bound", phaseFailed, now, 0, now, StateStale},
		{"past the bound, direct checks answer", phaseFailed, long, now, long, StateDirectCheck},
		{"past the bound, redis gone", phaseFailed, long, long, now, StateRedisDown},
		{"past the bound, no direct check yet", phaseFailed, long, 0, long, StateRedisDown},
		{"feed read hung past the bound", phaseFollowing, long, 0, 0, StateRedisDown},
	} {
		m := NewMirror(nil, quietLog())
		m.stats.phase.Store(tt.phase)
		m.lastOK.Store(tt.lastOK)
		m.stats.lastDirectOK.Store(tt.directOK)
		m.stats.lastRedisErr.Store(tt.rdErr)
		if got := m.State(); got != tt.want {
			t.Errorf("%s: State() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// A hung Redis takes the mirror from following to stale to redis_down,
// each change logged with the old and new state; direct checks meanwhile
// fail fast and are counted; it follows again once Redis answers, and the
// lag counts entries not applied yet.
func TestMirrorStateFollowsRedis(t *testing.T) {
	srv := redistest.Start(t)
	s := openStore(t, srv)
	logs := &lockedBuffer{}
	m := NewMirror(s, slog.New(slog.NewTextHandler(logs, nil)))
	m.StaleAfter, m.Block = 1500*time.Millisecond, 100*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go m.Run(ctx)
	eventually(t, 5*time.Second, "following", func() bool { return m.State() == StateFollowing })
	u := newTestUser(t, s, "alice")
	if err := s.RevokeSession(ctx, u.ID, "s1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "the revocation applied", func() bool {
		lag, err := m.FeedLag(ctx)
		return err == nil && lag == 0 && !m.Status().LastEvent.IsZero()
	})

	srv.Pause(t)
	eventually(t, 3*time.Second, "stale", func() bool { return m.State() == StateStale })
	eventually(t, 3*time.Second, "redis_down", func() bool { return m.State() == StateRedisDown })
	before := m.Status().DirectChecks
	start := time.Now()
	_, _, err := m.Check(ctx, u.ID, "s2", m.Generation(), time.Now().UnixNano())
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("check against a hung redis past the bound: %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the direct check took %v against a hung redis", took)
	}
	if n := m.Status().DirectChecks; n != before+1 {
		t.Errorf("direct checks = %d, want %d", n, before+1)
	}
	if _, err := m.FeedLag(ctx); err == nil {
		t.Error("FeedLag answers while redis hangs")
	}

	srv.Resume(t)
	eventually(t, 5*time.Second, "following again", func() bool { return m.State() == StateFollowing })
	if m.Status().Reloads < 1 {
		t.Errorf("reloads = %d after reconnecting, want ≥ 1", m.Status().Reloads)
	}
	out := logs.String()
	for _, want := range []string{
		"level=WARN msg=\"revocation mirror: state changed\" from=following to=stale",
		"level=WARN msg=\"revocation mirror: state changed\" from=stale to=redis_down",
		"level=INFO msg=\"revocation mirror: state changed\" from=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "to=following") {
		t.Errorf("log lacks the return to following:\n%s", out)
	}
}
