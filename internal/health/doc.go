// Package health checks the services behind the warehouse's CRM syncs — the monitored
// PostgreSQL database, Redis, the Celery workers through their broker (Redis or
// RabbitMQ), and optional HTTP endpoints — and keeps the latest results for the
// api/system-health/ answer.
//
// A Monitor runs every check at once, in the background every Config.Interval and on
// demand (CheckNow), each bounded by Config.Timeout (2 s by default). Report never
// waits; CheckNow returns within the timeout plus half a second even when a service
// hangs. Concurrent CheckNow callers share one run, and a call within 2 s after the last
// run returns that run's results, so many viewers cost one round of checks. One round
// publishes five remote-control broadcasts (ping, stats, active_queues, active,
// reserved) on the broker. Every report a round stores is also published to Subscribe's
// subscribers (a feed that never waits for a slow one). The interval, the 2 s window and
// checked_at read Config.Clock, so tests advance a fake clock instead of sleeping.
//
// Every goroutine belongs to the Monitor, and Run returns only after all have ended:
// a check that ignores its context is reported timed out after Timeout plus a quarter
// second, is not started again while it still runs, and delays Run's return until it
// does. Run then closes the clients (a RabbitMQ connection's dial in flight included)
// and the feed.
//
// # Files
//
// monitor.go runs the rounds; judge.go judges Celery from a celeryMeasurement, the same
// for every broker; celery_protocol.go is Celery's remote control (names, commands, the
// guard every command passes, replies); broker.go is the interface between the Monitor
// and a transport, and picks one by the broker URL's scheme; broker_redis.go and
// broker_amqp.go are the transports; rabbitmq.go is RabbitMQ's broker card and its
// management API; redis.go, postgres.go and http.go are the other sections; reason.go
// makes every reason one short line with secrets masked (errclass.MaskKnown).
//
// Celery has no Go client: this package speaks Celery's remote control itself, as
// `celery inspect` does (kombu's pidbox), and sends only read-only inspections; every
// command passes a guard before it is published (on Redis, an envelope without
// properties.delivery_tag or content-type breaks every worker).
//
//   - On Redis it binds a private reply list, PUBLISHes JSON envelopes on
//     "{global_keyprefix}/{db}.celery.pidbox", collects the replies with BRPOP, and always
//     unbinds and deletes the reply list afterwards.
//   - On RabbitMQ (amqp://, amqps://, pyamqp://, librabbitmq://, read as kombu reads
//     them: guest/guest, port 5672 or 5671, vhost "/" by default) it publishes the JSON
//     commands to the fanout exchange celery.pidbox, mandatory, and collects the replies
//     on a queue of its own, exclusive, auto-delete, with x-expires, bound to the direct
//     exchange reply.celery.pidbox with its own routing key, matched by their ticket
//     header. The queue goes with its channel, or with the connection if the process
//     dies; x-expires removes it if neither happens. The one thing a check leaves is the
//     reply exchange, declared exactly as Celery's own clients declare and leave it. It
//     never declares celery.pidbox, nor a task queue: both are looked at passively. The
//     connection (amqp091-go) is reused between checks and rebuilt after a failure.
//
// # How health is judged
//
// Every component reports one of healthy, degraded, unhealthy or not_configured, with
// checked_at (UTC). An unhealthy component carries a short reason in error, a degraded
// one its reasons in warnings: one line of at most 200 characters, never a password.
// Numbers that could not be measured are null, never 0. Until a component's first check
// has finished it reads degraded with pending: true, the warning "not checked yet" and
// checked_at null; call CheckNow once before serving to avoid that.
//
// Every component: an error or a timeout is unhealthy; a check (or the round trip it
// measures) slower than half the timeout is degraded.
//
// Database: the store's own measurement, a trivial query's round trip and the number of
// connections to the monitored database. Not configured without a measuring function.
//
// Redis (REDIS_URL, else a Redis CELERY_BROKER_URL: see RedisURLFrom): a PING's round
// trip and INFO's version, uptime, used_memory (MiB, one decimal) and connected_clients.
// used_memory above 90% of maxmemory, when maxmemory is set, is degraded. With a
// RabbitMQ broker and no REDIS_URL it is not_configured.
//
// RabbitMQ (the rabbitmq section, present only when CELERY_BROKER_URL is AMQP; it is to
// RabbitMQ what the redis section is to a Redis broker): the round trip of opening a
// channel on the shared connection, the connection's connect time (TCP, TLS and AMQP
// handshake), and the server's version, cluster_name and platform from the handshake.
// A connection that fails is unhealthy, with the reason: unreachable (refused, no
// answer, or timed out during the handshake), authentication failed for user "x" (never
// the password), vhost "x" not found, user "x" has no access to vhost "y", refused with
// the broker's own reason for any other refusal (a connection limit reached, a vhost
// down), the server closed the connection during the handshake (not an AMQP port, or
// TLS expected?), or the TLS handshake's error. RabbitMQ
// answers a refused login only after about two seconds, the default timeout: the dial
// goes on in the background (up to 10 s), and a check that runs out of time reports the
// previous attempt's reason, so from the second check on the reason is the real one.
// With Config.RabbitMQManagementURL (a user with the monitoring tag; with only the
// management tag, memory and alarms stay null and a warning says why) it adds
// messages_ready and
// messages_unacknowledged (the vhost's queues), connections, memory_used_mb,
// memory_limit_mb (the high watermark) and the memory and disk alarms; an alarm, or
// memory above 90% of the watermark, is degraded, and so is a management API that fails
// or refuses the user (the broker itself answered), or answers in over half the
// timeout; the slow warning of the broker itself times the AMQP round trip alone. A
// management API that hangs costs the card that warning and nothing else: the AMQP
// connection is kept. These figures are RabbitMQ's statistics, a few seconds old.
// Without the URL they are null and management is absent.
//
// Celery (CELERY_BROKER_URL; another broker, such as SQS or Sentinel, is
// not_configured, "only Redis and RabbitMQ (AMQP) brokers are supported"; broker_type
// says "redis" or "rabbitmq"): a worker is alive when it answers the broadcast — any of
// its five methods — before 75% of the timeout has passed. On Redis the wait ends as
// soon as every connection the PUBLISH reached has answered; on RabbitMQ as soon as
// every mailbox bound to celery.pidbox has answered when the management API can count
// them, at once when the broker returns the broadcast unroutable (no worker at all),
// and otherwise at the deadline. Because a broadcast is not kept for a worker that is
// reconnecting at that instant:
//
//   - a worker that answered before and misses one check is still counted in
//     active_workers, listed with answered: false, and makes the section degraded;
//   - a worker that misses two consecutive checks is gone: it is named once in
//     gone_workers (degraded), and forgotten at the next check. A worker killed with
//     SIGKILL is therefore counted at the first check after its death and not at the
//     second.
//
// A worker's main process answers while its prefork pool runs tasks, so busy workers
// are counted, with active_tasks (executing) and reserved_tasks (prefetched, not
// started). (A solo-pool worker cannot answer while it runs a task; on Redis it still
// counts in listeners, the number of connections subscribed to the broadcast channel;
// on RabbitMQ listeners is the number of mailboxes bound to celery.pidbox, from the
// management API, 0 when the broadcast came back unroutable, and null otherwise.)
//
// No worker alive (none answered, none within its one-check grace) is unhealthy; an
// unreachable broker is unhealthy and counts against no worker. pending_tasks grown at
// each of the last three checks and by more than Config.QueueGrowthThreshold (20) in
// all is degraded, as is a worker reply or broker round trip slower than half the
// timeout. response_time_ms is the broker's round trip: a PING on Redis, opening a
// channel on RabbitMQ.
//
// pending_tasks is what waits in the broker over the queues the workers report in
// active_queues, the configured default queue (counted even when nobody consumes it),
// and queues seen before that still hold messages:
//
//   - On Redis, the sum of LLEN over the four priority lists of every queue (queue,
//     queue\x06\x163, \x06\x166, \x06\x169), read in one MULTI/EXEC; queues list them
//     in pending_by_priority.
//   - On RabbitMQ, each queue's ready messages from a passive queue.declare (a fresh
//     channel after each failure); pending_by_priority is null, since RabbitMQ keeps a
//     queue's priorities inside it. A queue that does not exist is listed with missing:
//     true and 0 pending, and is never created: a misspelt CELERY_TASK_DEFAULT_QUEUE
//     shows as missing.
//
// Messages workers have already taken (prefetched, or executing with late acks) are not
// pending: they are reserved_tasks. On Redis that is kombu's unacked hash, all queues
// together, with the age of the oldest in oldest_reserved_seconds; on RabbitMQ it is
// what the answering workers hold unacknowledged (their reserved tasks, and active ones
// not acknowledged yet), null when a worker answered only in part, and
// oldest_reserved_seconds is null. Tasks executing with early acks are in neither, nor,
// on RabbitMQ, are tasks with an ETA or countdown that a worker holds unacknowledged
// until their time (Celery's `inspect scheduled`, which the round does not ask): the
// management API's messages_unacknowledged counts them.
//
// Endpoints (optional; none by default): a GET of the URL, redirects not followed;
// any status other than the expected one (200 by default) is unhealthy. Reports show the
// URL without user information or query.
package health
