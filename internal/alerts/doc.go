// Package alerts turns the dashboard's snapshots into notifications people can trust:
// neither late, nor repeated, nor noisy.
//
// The Engine subscribes to the dashboard's change feed and applies the rules (rules.go)
// to each snapshot: the figures (failing, stale, stuck and empty entities, overdue
// schedules) and the health (Celery workers, queue depths, the warehouse itself). It
// asks the warehouse nothing of its own.
//
// An alert whose condition holds is pending until it has held for its rule's "for"
// duration, then firing; when its condition no longer holds it is resolved. A rule that
// cannot be judged in a snapshot (figures stale or not computed yet, a health check not
// done yet) leaves its alerts as they are.
//
// Each channel has an outbox (outbox.go) that sends, in one message, everything the
// channel is owed: the alerts that fired since it was last told, reminders of those
// still firing after the repeat interval, and the resolutions of alerts it was told
// fired. Owed is computed from what is true when the message is made, so a channel that
// was down gets, once it is back, what is still true and nothing else. A failed message
// is retried with a doubling backoff; a channel is capped at MaxPerHour messages an
// hour, and the first message after the cap says how many were held back.
//
// What fires and what each channel was told is kept in the state file (file.go),
// syncwatch's own SQLite database, so that a restart neither sends again nor forgets;
// with several replicas, the Coordinator (coordinator.go) elects the one that sends and
// keeps the state they share.
package alerts
