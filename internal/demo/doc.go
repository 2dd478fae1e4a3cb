// Package demo makes the history of CRM sync runs that syncwatch shows when it runs with
// nothing to connect to, and keeps it moving.
//
// The history is what the warehouse's sync engines write into
// orchestration.sync_history, as real-world-facts.md describes it: the ten CRMs and their
// entities (Genius with thirty), hourly "sync all" tasks that Celery beat sends at each
// CRM's minute, the demo's other schedules, durations and record counts that vary by CRM,
// entity, time of day and day of the week, a few percent of failures with the messages
// the engines really write (whole tracebacks, keys in URLs, the nightly cleanup's
// suffix), outages that fail a CRM for hours, and the quirks of real data: the
// in_progress and completed aliases, partial and skipped runs, and workers that die and
// leave their rows running.
//
// History generates it as a stream, deterministically from a seed, for "syncwatch seed"
// (millions of rows, into PostgreSQL or SQLite) and for Prepare, which fills an empty
// demo database and brings an old one up to date. Simulator writes it live, as the
// engines and beat would, into the SQLite database only.
package demo
