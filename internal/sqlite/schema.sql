-- The embedded store's tables: orchestration.sync_history and orchestration.sync_schedule
-- with the columns and meanings of the warehouse (internal/seed/schema/shape-a.sql), in one SQLite file.
--
-- Every timestamp is an INTEGER: microseconds since the Unix epoch, UTC. Comparisons,
-- durations and sums are then exact integer arithmetic, with the resolution of
-- PostgreSQL's timestamptz, and no query needs time zone support: the dashboard passes
-- day boundaries it computed in the display zone. JSON columns hold JSON text.
--
-- STRICT tables refuse a value of the wrong type (a date written as text, say), so every
-- row the store reads has the types its queries assume. Every statement is idempotent:
-- Open runs this file on every start.

CREATE TABLE IF NOT EXISTS sync_history (
    id                  INTEGER PRIMARY KEY,            -- the rowid: assigned in insertion order
    crm_source          TEXT    NOT NULL,
    sync_type           TEXT    NOT NULL,
    endpoint            TEXT,
    start_time          INTEGER NOT NULL,
    end_time            INTEGER,                        -- NULL while running
    status              TEXT    NOT NULL DEFAULT 'running',
    records_processed   INTEGER NOT NULL DEFAULT 0,
    records_created     INTEGER NOT NULL DEFAULT 0,
    records_updated     INTEGER NOT NULL DEFAULT 0,
    records_failed      INTEGER NOT NULL DEFAULT 0,
    error_message       TEXT,
    performance_metrics TEXT DEFAULT '{}',              -- may be NULL, as on shape A
    configuration       TEXT DEFAULT '{}',
    created_at          INTEGER NOT NULL
) STRICT;

-- The four indexes of shape A, each led by what syncwatch's questions bound:
--   * per CRM, in start order (shape A leads with crm_source, sync_type; no syncwatch
--     question asks by sync_type, and start order per CRM answers the latest row, a
--     CRM's recent runs and the overdue probes by an index range);
--   * start order, for the newest runs and the runs started in the shown days;
--   * status, in start order, for the running rows and the status filter;
--   * finished_at, the contract's COALESCE(end_time, start_time): where PostgreSQL
--     combines its end_time and start_time indexes, SQLite indexes the expression, and
--     every question about rows finished since a day reads one index range.
-- Ties on start_time are broken by the greatest id, so id is part of each order.
CREATE INDEX IF NOT EXISTS sync_history_crm_start ON sync_history (crm_source, start_time DESC, id DESC);
CREATE INDEX IF NOT EXISTS sync_history_start ON sync_history (start_time DESC, id DESC);
CREATE INDEX IF NOT EXISTS sync_history_status_start ON sync_history (status, start_time DESC, id DESC);
CREATE INDEX IF NOT EXISTS sync_history_finished ON sync_history (coalesce(end_time, start_time) DESC, id DESC);
-- And the failures in finished_at order, a few percent of the rows: the newest failures
-- and those of the shown days are then a range of a small index, however few there are
-- lately and however many over the years (neither the status index nor the finished_at
-- one bounds both cases).
CREATE INDEX IF NOT EXISTS sync_history_failed ON sync_history (coalesce(end_time, start_time) DESC, id DESC)
    WHERE status = 'failed';

-- The schedules administrators add. In the warehouse django-celery-beat keeps the time it
-- last sent a schedule's task in its own table; here that time is a column, last_run_at.
CREATE TABLE IF NOT EXISTS sync_schedule (
    id               INTEGER PRIMARY KEY,
    name             TEXT    NOT NULL,
    crm_source       TEXT    NOT NULL,
    model_name       TEXT    NOT NULL,
    mode             TEXT    NOT NULL,                  -- delta | full | force7
    source_key       TEXT    NOT NULL,
    recurrence_type  TEXT    NOT NULL,                  -- interval | crontab
    every            INTEGER CHECK (every >= 0),
    period           TEXT,
    minute           TEXT,
    hour             TEXT,
    day_of_week      TEXT,
    day_of_month     TEXT,
    month_of_year    TEXT,
    start_at         INTEGER,
    end_at           INTEGER,
    enabled          INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    options          TEXT    NOT NULL DEFAULT '{}',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    last_run_at      INTEGER                            -- when beat last sent it; NULL: never
) STRICT;

CREATE INDEX IF NOT EXISTS sync_schedule_crm_source ON sync_schedule (crm_source);
