// Package health checks the services behind the warehouse's CRM syncs — the monitored
// PostgreSQL database, Redis, the Celery workers through their Redis broker, and optional
// HTTP endpoints — and keeps the latest results for the api/system-health/ answer.
//
// A Monitor runs every check at once, in the background every Config.Interval and on
// demand (CheckNow), each bounded by Config.Timeout (2 s by default). Report never
// waits; CheckNow returns within the timeout plus half a second even when a service
// hangs. Concurrent CheckNow callers share one run, and a call within 2 s after the last
// run returns that run's results, so many viewers cost one round of checks. One round
// publishes three remote-control broadcasts (ping, stats, active_queues) on the broker.
// Every report a round stores is also published to Subscribe's subscribers (a feed that
// never waits for a slow one). The interval, the 2 s window and checked_at read
// Config.Clock, so tests advance a fake clock instead of sleeping.
//
// Every goroutine belongs to the Monitor, and Run returns only after all have ended:
// a check that ignores its context is reported timed out after Timeout plus a quarter
// second, is not started again while it still runs, and delays Run's return until it
// does. Run then closes the clients and the feed.
//
// # Files
//
// monitor.go runs the rounds; judge.go judges Celery from a celeryMeasurement, the same
// for every broker; celery_protocol.go is Celery's remote control (names, commands, the
// guard every command passes, replies); broker.go is the interface between the Monitor
// and a transport, and picks one by the broker URL's scheme; broker_redis.go is the
// transport over Redis; redis.go, postgres.go and http.go are the other sections;
// reason.go makes every reason one short line with secrets masked (errclass.MaskKnown).
//
// Celery has no Go client: this package speaks Celery's remote control over the Redis
// broker itself, as `celery inspect` does (kombu's pidbox): it binds a private reply
// queue, PUBLISHes JSON envelopes on "{global_keyprefix}/{db}.celery.pidbox", collects
// the replies with BRPOP, and always unbinds and deletes the reply queue afterwards. It
// sends only read-only inspections, and every envelope passes a guard before PUBLISH
// (an envelope without properties.delivery_tag or content-type breaks every worker).
//
// # How health is judged
//
// Every component reports one of healthy, degraded, unhealthy or not_configured, with
// checked_at (UTC). An unhealthy component carries a short reason in error, a degraded
// one its reasons in warnings: one line of at most 200 characters, never a password. Numbers that could not
// be measured are null, never 0. Until a component's first check has finished it reads
// degraded with pending: true, the warning "not checked yet" and checked_at null; call
// CheckNow once before serving to avoid that.
//
// Every component: an error or a timeout is unhealthy; a check (or the round trip it
// measures) slower than half the timeout is degraded.
//
// Database: the store's own measurement, a trivial query's round trip and the number of
// connections to the monitored database. Not configured without a measuring function.
//
// Redis (REDIS_URL, else a Redis CELERY_BROKER_URL: see RedisURLFrom): a PING's round
// trip and INFO's version, uptime, used_memory (MiB, one decimal) and connected_clients.
// used_memory above 90% of maxmemory, when maxmemory is set, is degraded.
//
// Celery (CELERY_BROKER_URL; a broker other than Redis is not_configured, "only Redis
// brokers are supported"): a worker is alive when it answers the broadcast — ping, stats
// or active_queues — before 75% of the timeout has passed; the wait ends as soon as
// every connection the PUBLISH reached has answered. Because Redis pub/sub keeps nothing,
// a worker reconnecting at that instant misses a broadcast, so:
//
//   - a worker that answered before and misses one check is still counted in
//     active_workers, listed with answered: false, and makes the section degraded;
//   - a worker that misses two consecutive checks is gone: it is named once in
//     gone_workers (degraded), and forgotten at the next check. A worker killed with
//     SIGKILL is therefore counted at the first check after its death and not at the
//     second.
//
// A worker's main process answers while its prefork pool runs tasks, so busy workers
// are counted. (A solo-pool worker cannot answer while it runs a task; it still counts
// in listeners, the number of connections subscribed to the broadcast channel.)
//
// No worker alive (none answered, none within its one-check grace) is unhealthy; an
// unreachable broker is unhealthy and counts against no worker. pending_tasks grown at
// each of the last three checks and by more than Config.QueueGrowthThreshold (20) in
// all is degraded, as is a worker reply or broker round trip slower than half the
// timeout.
//
// pending_tasks is what waits in the broker: the sum of LLEN over the four priority
// lists of every queue (queue, queue\x06\x163, \x06\x166, \x06\x169), read in one
// MULTI/EXEC, over the queues the workers report in active_queues, the configured
// default queue (counted even when nobody consumes it), and queues seen before that
// still hold messages. Messages workers have already taken (prefetched, or executing
// with late acks) are not pending: they are reserved_tasks (kombu's unacked hash, all
// queues together), with the age of the oldest. Tasks executing with early acks are in
// neither.
//
// Endpoints (optional; none by default): a GET of the URL, redirects not followed;
// any status other than the expected one (200 by default) is unhealthy. Reports show the
// URL without user information or query.
package health
