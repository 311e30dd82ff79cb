package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/authgate/gateway/store"
)

// sessions runs `gateway sessions end-all`: every session of every user
// ends at once (a new store generation, written with its feed entry, so
// running replicas refuse every earlier cookie as soon as they read it).
// Operators run it after restoring a Redis backup, which may hold sessions
// that had been signed out since.
func (e *env) sessions(ctx context.Context, args []string) error {
	if len(args) != 1 || args[0] != "end-all" {
		return errors.New("usage: gateway sessions end-all")
	}
	cfg, st, err := e.openStore(ctx, "sessions")
	if err != nil {
		return err
	}
	defer st.Close()
	st.WaitReplicas, st.WaitTimeout = cfg.Redis.WaitReplicas, cfg.Redis.WaitTimeout.Duration
	if _, err := st.EndAllSessions(ctx); err != nil {
		if errors.Is(err, store.ErrNotReplicated) {
			return fmt.Errorf("every session is ended on the Redis master, but no replica confirmed it within redis.wait_timeout; run the command again once the replicas are back: %w", err)
		}
		return err
	}
	fmt.Fprintln(e.stdout, "ended every session of every user; people sign in again (accounts, passwords and 2FA are kept)")
	return nil
}
