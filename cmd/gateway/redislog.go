package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// redisLog sends go-redis's own messages ("connection pool: failed to dial
// …") to the gateway's logger at debug level. Left alone, go-redis prints
// them to stderr as plain text ("redis: 2026/01/02 pool.go:…"), which breaks
// JSON logs and, for the CLI, buries the one-line error; the gateway logs
// its own warning when Redis cannot be reached.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}

// routeRedisLogs makes go-redis log through log. Call it before the store
// is opened.
func routeRedisLogs(log *slog.Logger) { redis.SetLogger(redisLog{log}) }
