package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

func TestBlockTime(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		cmd  redis.Cmder
		want time.Duration
	}{
		{redis.NewStringCmd(ctx, "get", "k"), 0},
		{redis.NewXStreamSliceCmd(ctx, "xread", "count", int64(1000), "block", int64(1500), "streams", "f", "0-0"), 1500 * time.Millisecond},
		{redis.NewXStreamSliceCmd(ctx, "XREADGROUP", "group", "g", "c", "BLOCK", int64(20), "streams", "f", ">"), 20 * time.Millisecond},
		{redis.NewXStreamSliceCmd(ctx, "xread", "streams", "block", "0-0"), 0}, // a stream named "block"
		{redis.NewIntCmd(ctx, "wait", 1, 250), 250 * time.Millisecond},
		{redis.NewIntSliceCmd(ctx, "waitAOF", 0, 1, 300), 300 * time.Millisecond},
		{redis.NewCmd(ctx, "WAIT", 1, int64(500)), 500 * time.Millisecond},
	} {
		if got := blockTime(tt.cmd); got != tt.want {
			t.Errorf("blockTime(%v) = %v, want %v", tt.cmd.Args(), got, tt.want)
		}
	}
}

func TestTopologySuspect(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{redis.Nil, false},
		{context.Canceled, false},
		{redis.ErrClosed, false},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{context.DeadlineExceeded, true},
		{io.EOF, true},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), true},
	} {
		if got := topologySuspect(tt.err); got != tt.want {
			t.Errorf("topologySuspect(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	// Replies of a real server: the command's own errors are not the
	// topology's.
	srv := redistest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	c.Set(ctx, "s", "x", 0)
	if err := c.HGet(ctx, "s", "f").Err(); err == nil || topologySuspect(err) {
		t.Errorf("WRONGTYPE: err %v, suspect %v", err, topologySuspect(err))
	}
	if err := c.Do(ctx, "CLUSTER", "SLOTS").Err(); err == nil || topologySuspect(err) {
		t.Errorf("cluster support disabled: err %v, suspect %v", err, topologySuspect(err))
	}
}

// A hung Redis (SIGSTOP) costs a call about the configured timeout, not
// go-redis' 3 s read timeout times its retries; a blocking XREAD longer
// than the timeout is not cut short on a healthy Redis.
func TestCallsHaveDeadline(t *testing.T) {
	srv := redistest.Start(t)
	s, err := OpenWith(context.Background(), srv.URL(), Options{Timeout: 200 * time.Millisecond, MaxBlock: 600 * time.Millisecond}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()

	start := time.Now()
	err = s.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{keyFeed, "$"}, Block: 600 * time.Millisecond}).Err()
	if !errors.Is(err, redis.Nil) {
		t.Fatalf("XREAD BLOCK 600ms with a 200ms timeout: %v after %v, want redis.Nil (no news)", err, time.Since(start))
	}

	// A WAIT sent in a pipeline holds the answer for its own timeout (no
	// replica here to confirm), also beyond the call timeout.
	pipe := s.rdb.Pipeline()
	pipe.Set(ctx, "k", "v", 0)
	wait := pipe.Do(ctx, "WAIT", 1, int64(600))
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("pipeline with WAIT 600ms and a 200ms timeout: %v", err)
	}
	if n, _ := wait.Int64(); n != 0 {
		t.Fatalf("WAIT without replicas = %d", n)
	}

	srv.Pause(t)
	start = time.Now()
	err = s.rdb.Get(ctx, "k").Err()
	took := time.Since(start)
	if err == nil || errors.Is(err, redis.Nil) {
		t.Fatalf("GET on a hung redis: %v", err)
	}
	// Generous: only the old behaviour (several seconds) must fail here.
	if took > 2*time.Second {
		t.Errorf("GET on a hung redis took %v; want about the 200ms timeout", took)
	}
	t.Logf("GET on a hung redis failed after %v: %v", took, err)
	srv.Resume(t)
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		t.Errorf("PING after resume: %v", err)
	}
}
