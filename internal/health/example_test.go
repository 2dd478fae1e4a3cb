package health_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// A program builds one Monitor from its environment, checks once before serving so the
// first page has results, and keeps it running in the background; handlers call Report
// (or CheckNow for an explicit refresh).
func Example() {
	ctx := context.Background()
	var store syncs.Store // the warehouse's store, opened earlier
	getenv := os.Getenv
	cfg := health.Config{
		RedisURL:     health.RedisURLFrom(getenv("REDIS_URL"), getenv("CELERY_BROKER_URL")),
		BrokerURL:    getenv("CELERY_BROKER_URL"), // redis://… or amqp://…
		DefaultQueue: getenv("CELERY_TASK_DEFAULT_QUEUE"),
		// Optional, with a RabbitMQ broker: http://user:password@host:15672/.
		RabbitMQManagementURL: getenv("SYNCWATCH_RABBITMQ_MANAGEMENT_URL"),
		Logger:                slog.Default(),
	}
	if store != nil {
		cfg.Database = store.Health
	}
	m, err := health.NewMonitor(cfg)
	if err != nil {
		slog.Error("health", "err", err) // the error never contains a password
		return
	}
	m.CheckNow(ctx)
	go m.Run(ctx)            // at shutdown, cancel ctx and wait for Run to return
	_ = m.Report()           // in a handler: encode it as api/system-health/
	updates := m.Subscribe() // a subscriber: alerts, metrics
	defer updates.Close()
}
