// Package demo makes the history of CRM sync runs that syncwatch shows when it runs with
// nothing to connect to, and keeps it moving.
//
// The history is what the warehouse's sync engines write into
// orchestration.sync_history, as real-world-facts.md describes it: the nine CRMs that
// write rows and their entities (Genius with thirty), hourly "sync all" tasks that
// Celery beat sends at each CRM's minute, the demo's other schedules, durations and
// record counts that vary by CRM, entity, time of day and day of the week, a few percent
// of failures with the messages the engines really write (whole tracebacks, keys in
// URLs, the nightly cleanup's suffix), outages that fail a CRM for hours, and the quirks
// of real data: the in_progress and completed aliases, partial and skipped runs, and
// workers that die and leave their rows running until the nightly cleanup.
//
// MarketSharp, the tenth CRM, is configured but writes no rows yet, as in the
// warehouse: Schedules gives it an hourly schedule that is disabled, and the history
// has no run of it. The dashboard shows it with no runs and that schedule's state
// "disabled".
//
// History generates it as a stream, deterministically from a seed, for "syncwatch seed"
// (millions of rows, into PostgreSQL or SQLite) and for Prepare, which fills an empty
// demo database and brings an old one up to date. Simulator writes it live, as the
// engines and beat would, into the SQLite database only, and starts runs of its own as
// an administrator's "sync now" would.
//
// One process at a time writes a demo file: the one holding ClaimSimulator's claim, whose
// lock file beside the database is removed when it lets go. When a simulator starts on a
// file another one wrote, the history's runs it finds running finish as planned; the
// runs the previous simulator started by hand died with its process, and are marked
// failed as the nightly cleanup_stale_syncs marks a dead worker's row (end_time the
// moment of marking, its suffix on the message), as soon as they have run for over 30
// minutes rather than at the next 03:30.
package demo
