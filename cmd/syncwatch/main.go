// Command syncwatch serves a dashboard of a data warehouse's CRM syncs: the runs recorded
// in PostgreSQL's orchestration.sync_history, their schedules, and the health of the
// database, the Celery workers and the Redis broker. Run "syncwatch help" for its commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // display time zones work on machines without a zoneinfo database

	"github.com/redis/go-redis/v9"
)

// quietRedisLog drops go-redis's own log lines ("failed to dial…"): the health section
// reports a broker that cannot be reached, with its reason and without secrets.
type quietRedisLog struct{}

func (quietRedisLog) Printf(context.Context, string, ...any) {}

func main() {
	redis.SetLogger(quietRedisLog{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "syncwatch:", err)
		os.Exit(1)
	}
}
