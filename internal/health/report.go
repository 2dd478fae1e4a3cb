package health

import (
	"math"
	"time"
)

// Status is a component's health, in the words of the API contract.
type Status string

// The four status words.
const (
	StatusHealthy       Status = "healthy"
	StatusDegraded      Status = "degraded"
	StatusUnhealthy     Status = "unhealthy"
	StatusNotConfigured Status = "not_configured"
)

// Check is what every component report carries.
type Check struct {
	Status Status `json:"status"`
	// Error is the short reason of unhealthy (or of not_configured), without secrets.
	Error string `json:"error,omitempty"`
	// Warnings are the reasons of degraded.
	Warnings []string `json:"warnings,omitempty"`
	// CheckedAt is when the check finished, in UTC; null before the first check.
	CheckedAt *time.Time `json:"checked_at"`
	// Pending is true until the component's first check has finished.
	Pending bool `json:"pending,omitempty"`
}

// Report is the latest result of every check. Its slices and pointers are shared
// between callers: treat a Report as read-only.
type Report struct {
	Database DatabaseReport `json:"database"`
	Celery   CeleryReport   `json:"celery"`
	Redis    RedisReport    `json:"redis"`
	// RabbitMQ is the broker card of a RabbitMQ broker; absent for any other broker.
	RabbitMQ  *RabbitMQReport  `json:"rabbitmq,omitempty"`
	Endpoints []EndpointReport `json:"endpoints,omitempty"`
}

// CeleryReport is the celery section of the system-health answer.
type CeleryReport struct {
	Check
	// Broker is the broker's URL without password.
	Broker string `json:"broker,omitempty"`
	// BrokerType is "redis" or "rabbitmq"; absent when no broker is configured.
	BrokerType string `json:"broker_type,omitempty"`
	// ActiveWorkers counts the workers judged alive: those that answered this check's
	// broadcast, plus those that missed only this one check (see the package doc).
	ActiveWorkers *int `json:"active_workers"`
	// AnsweredWorkers counts only the workers that answered this check.
	AnsweredWorkers *int `json:"answered_workers"`
	// PendingTasks is the number of messages waiting in the broker over all queues and
	// priority levels. Messages already prefetched by workers are not in it.
	PendingTasks *int64 `json:"pending_tasks"`
	// ReservedTasks counts messages workers took and have not acknowledged yet
	// (prefetched, and with late acks also executing), over all queues: on Redis kombu's
	// unacked hash, on RabbitMQ what the answering workers report holding.
	ReservedTasks *int64 `json:"reserved_tasks"`
	// OldestReservedSeconds is the age of the oldest of them; null when there is none,
	// and on RabbitMQ, which does not tell.
	OldestReservedSeconds *float64 `json:"oldest_reserved_seconds"`
	// ResponseTimeMS is the broker's round trip: a PING on Redis, opening a channel on
	// RabbitMQ.
	ResponseTimeMS *float64 `json:"response_time_ms"`
	// Listeners is how many workers the broadcast reached: on Redis the connections
	// subscribed to the broadcast channel, on RabbitMQ the mailboxes bound to
	// celery.pidbox (null without the management API, unless the broadcast came back
	// unroutable: 0).
	Listeners *int64 `json:"listeners"`
	// Workers lists the workers judged alive, by name.
	Workers []WorkerReport `json:"workers"`
	// GoneWorkers names the workers judged gone at this check.
	GoneWorkers []string `json:"gone_workers,omitempty"`
	// Queues lists the queues counted, by name.
	Queues []QueueReport `json:"queues"`
}

// WorkerReport is one Celery worker as the last check saw it.
// The numbers come from the worker's answer to stats, and are null when it did not
// answer that; Queues from its answer to active_queues.
type WorkerReport struct {
	// Name is the worker's node name (-n), for example "celery@host".
	Name string `json:"name"`
	// Answered is false for a worker that missed this check but answered the one before.
	Answered bool `json:"answered"`
	// LastSeen is when it last answered.
	LastSeen time.Time `json:"last_seen"`
	// PID is the worker's main process.
	PID *int64 `json:"pid"`
	// PoolSize is the pool's max-concurrency.
	PoolSize *int64 `json:"pool_size"`
	// Processed sums stats' total: the tasks it has accepted since it started, the
	// running ones included.
	Processed *int64 `json:"processed"`
	// UptimeSeconds is the worker's uptime.
	UptimeSeconds *int64 `json:"uptime_seconds"`
	// Prefetch is the worker's prefetch count.
	Prefetch *int64 `json:"prefetch_count"`
	// Queues are the task queues it consumes.
	Queues []string `json:"queues"`
	// ActiveTasks counts the tasks it is executing, from its answer to active.
	ActiveTasks *int64 `json:"active_tasks"`
	// ReservedTasks counts the tasks it has prefetched and not started, from its answer
	// to reserved.
	ReservedTasks *int64 `json:"reserved_tasks"`
}

// QueueReport is one task queue.
type QueueReport struct {
	// Name is the queue's name.
	Name string `json:"name"`
	// Pending is the number of messages waiting in the queue.
	Pending int64 `json:"pending"`
	// PendingByPriority splits Pending by kombu's priority levels "0", "3", "6" and "9"
	// on Redis; null on RabbitMQ, which keeps a queue's priorities inside it.
	PendingByPriority map[string]int64 `json:"pending_by_priority"`
	// Consumers counts the answering workers that consume the queue.
	Consumers int `json:"consumers"`
	// Missing is true when the broker has no such queue (RabbitMQ; a Redis list that
	// does not exist is just empty). Nothing waits there; a configured default queue
	// that is missing may be misspelt.
	Missing bool `json:"missing,omitempty"`
}

// mebibytes converts bytes to MiB with one decimal.
func mebibytes(b int64) float64 {
	return math.Round(float64(b)/(1<<20)*10) / 10
}

// millis converts a duration to milliseconds with one decimal.
func millis(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*10) / 10
}

func ptr[T any](v T) *T { return &v }
