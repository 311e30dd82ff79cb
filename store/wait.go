package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated means a change that ends sessions reached the Redis master
// but no replica confirmed it within WaitTimeout: a failover now could lose
// it. The change stands (on the master, and on this replica's mirror, which
// writes it back after a rollback); the person is told it is not yet safe.
var ErrNotReplicated = errors.New("change not confirmed by a redis replica")

// CodeNotReplicated and MsgNotReplicated are what a person is shown for
// ErrNotReplicated (503), on pages and in JSON ({"code":"not_replicated"}).
const (
	CodeNotReplicated = "not_replicated"
	MsgNotReplicated  = "Your sign-out is in force, but the session store has not yet copied it to its standby, so it is not yet safe. It is being retried; check again in a few seconds."
)

// masterClient returns the client for the master holding the shared slot.
func (s *Store) masterClient(ctx context.Context) (redis.Cmdable, error) {
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		return cc.MasterForKey(ctx, keyFeed)
	}
	return s.rdb, nil
}

func connectedReplicas(ctx context.Context, c redis.Cmdable) (int, error) {
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, nil
}

// runChange runs the change script and, when replicas should confirm it
// (WaitReplicas > 0 and the master has replicas connected), WAIT on the same
// connection: WAIT counts the writes of the connection it runs on. A failed
// script is ErrFeed (nothing written); a WAIT that falls short is
// ErrNotReplicated (written, not yet safe from a failover).
func (s *Store) runChange(ctx context.Context, args []any) error {
	plain := func() error {
		if err := changeScript.Run(ctx, s.rdb, globalKeys, args...).Err(); err != nil {
			return errors.Join(ErrFeed, err)
		}
		return nil
	}
	if s.WaitReplicas <= 0 || s.embedded != nil {
		return plain()
	}
	master, err := s.masterClient(ctx)
	if err != nil {
		return errors.Join(ErrFeed, err)
	}
	n, err := connectedReplicas(ctx, master)
	pl, ok := master.(interface{ Pipeline() redis.Pipeliner })
	if err != nil || n == 0 || !ok {
		// No replica to wait for (or INFO is not allowed): there is no
		// copy a failover could promote that WAIT would have vouched for.
		return plain()
	}
	want := min(n, s.WaitReplicas)
	if err := changeScript.Load(ctx, master).Err(); err != nil {
		return errors.Join(ErrFeed, err)
	}
	pipe := pl.Pipeline()
	res := changeScript.EvalSha(ctx, pipe, globalKeys, args...)
	acked := pipe.Do(ctx, "WAIT", want, s.waitTimeout().Milliseconds())
	if _, err := pipe.Exec(ctx); err != nil {
		if res.Err() != nil {
			return errors.Join(ErrFeed, res.Err())
		}
		return fmt.Errorf("%w: %v", ErrNotReplicated, err)
	}
	if got, _ := acked.Int64(); got < int64(want) {
		return fmt.Errorf("%w: %d of %d replicas within %s", ErrNotReplicated, got, want, s.waitTimeout())
	}
	return nil
}

// waitTimeout is WaitTimeout, or 500ms when unset.
func (s *Store) waitTimeout() time.Duration {
	if s.WaitTimeout <= 0 {
		return 500 * time.Millisecond
	}
	return s.WaitTimeout
}
