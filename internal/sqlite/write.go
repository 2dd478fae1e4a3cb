package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// This file is the writer's side of the database, kept apart from the Store's questions:
// the demo history, the live simulator, "syncwatch seed" and the tests' fixtures write
// through it, on the single writer connection. The dashboard never calls it.

// Row is a row of sync_history to write: every column, as a sync engine writes it.
type Row struct {
	// ID is the row's id; 0 lets the database assign the next one.
	ID        int64
	CRMSource string
	SyncType  string
	// Endpoint is the API the run read; nil is NULL.
	Endpoint *string
	// Status is the raw column value: aliases such as in_progress and completed are
	// written as they are.
	Status           string
	Start            time.Time
	End              *time.Time
	RecordsProcessed int64
	RecordsCreated   int64
	RecordsUpdated   int64
	RecordsFailed    int64
	ErrorMessage     *string
	// PerformanceMetrics and Configuration are JSON text; "" is NULL.
	PerformanceMetrics string
	Configuration      string
	// CreatedAt is when the row was inserted; zero means Start.
	CreatedAt time.Time
}

func jsonOrNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const insertRunColumns = `INSERT INTO sync_history (id, crm_source, sync_type, endpoint, status,
		start_time, end_time, records_processed, records_created, records_updated, records_failed,
		error_message, performance_metrics, configuration, created_at) VALUES `

// insertChunk is how many rows one INSERT statement writes: a statement per row spends
// most of its time in database/sql and the driver, not in SQLite.
const insertChunk = 64

// insertSQL is an INSERT of n rows.
func insertSQL(n int) string {
	const row = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	return insertRunColumns + strings.Repeat(row+", ", n-1) + row
}

func appendInsertArgs(args []any, r Row) []any {
	var id any // NULL: the next rowid
	if r.ID != 0 {
		id = r.ID
	}
	created := r.CreatedAt
	if created.IsZero() {
		created = r.Start
	}
	return append(args, id, r.CRMSource, r.SyncType, r.Endpoint, r.Status,
		micros(r.Start), nullMicros(r.End), r.RecordsProcessed, r.RecordsCreated,
		r.RecordsUpdated, r.RecordsFailed, r.ErrorMessage,
		jsonOrNull(r.PerformanceMetrics), jsonOrNull(r.Configuration), micros(created))
}

// InsertRuns adds rows to sync_history in one transaction and returns their ids, in
// order. Either every row is written or none is.
func (db *DB) InsertRuns(ctx context.Context, rows []Row) ([]int64, error) {
	ids := make([]int64, 0, len(rows))
	err := db.inTx(ctx, "insert runs", func(tx *sql.Tx) error {
		chunk := insertChunk
		if slices.ContainsFunc(rows, func(r Row) bool { return r.ID != 0 }) {
			chunk = 1 // the ids SQLite gives the other rows depend on those named
		}
		stmts := make(map[int]*sql.Stmt, 2)
		defer func() {
			for _, s := range stmts {
				s.Close()
			}
		}()
		args := make([]any, 0, 15*chunk)
		for len(rows) > 0 {
			n := min(len(rows), chunk)
			stmt, ok := stmts[n]
			if !ok {
				var err error
				if stmt, err = tx.PrepareContext(ctx, insertSQL(n)); err != nil {
					return err
				}
				stmts[n] = stmt
			}
			args = args[:0]
			for _, r := range rows[:n] {
				args = appendInsertArgs(args, r)
			}
			res, err := stmt.ExecContext(ctx, args...)
			if err != nil {
				return err
			}
			// SQLite gives the rows of one INSERT consecutive rowids (the greatest so far
			// plus one, in turn), so the statement's last one tells them all.
			last, err := res.LastInsertId()
			if err != nil {
				return err
			}
			for i := range n {
				ids = append(ids, last-int64(n-1-i))
			}
			rows = rows[n:]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// UpdateRun rewrites every column of the row with id r.ID but its id and created_at:
// a run that finishes gets its status, end time, counts, message and metrics at once.
func (db *DB) UpdateRun(ctx context.Context, r Row) error {
	const q = `UPDATE sync_history SET crm_source = ?, sync_type = ?, endpoint = ?, status = ?,
			start_time = ?, end_time = ?, records_processed = ?, records_created = ?,
			records_updated = ?, records_failed = ?, error_message = ?,
			performance_metrics = ?, configuration = ?
		WHERE id = ?`
	res, err := db.write.ExecContext(ctx, q, r.CRMSource, r.SyncType, r.Endpoint, r.Status,
		micros(r.Start), nullMicros(r.End), r.RecordsProcessed, r.RecordsCreated,
		r.RecordsUpdated, r.RecordsFailed, r.ErrorMessage,
		jsonOrNull(r.PerformanceMetrics), jsonOrNull(r.Configuration), r.ID)
	if err != nil {
		return fmt.Errorf("update run %d: %w", r.ID, unavailable(err))
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("update run %d: no such row", r.ID)
	}
	return nil
}

// FailStale does what the warehouse's nightly cleanup_stale_syncs does: every row still
// running (in_progress included) that started before startedBefore becomes failed, with
// end_time at and suffix appended to its message (to base when it has none). It returns
// how many rows it marked.
func (db *DB) FailStale(ctx context.Context, at, startedBefore time.Time, base, suffix string) (int64, error) {
	const q = `UPDATE sync_history SET ` + failSet + `
		WHERE ` + runningSQL + ` AND start_time < ?2`
	res, err := db.write.ExecContext(ctx, q, micros(at), micros(startedBefore), base, suffix)
	if err != nil {
		return 0, fmt.Errorf("fail stale runs: %w", unavailable(err))
	}
	return res.RowsAffected()
}

// FailRuns marks the rows of ids failed as FailStale does (end_time at, suffix appended
// to the message or to base), those of them that are still running: a row that finished
// meanwhile keeps its outcome. It returns how many rows it marked.
func (db *DB) FailRuns(ctx context.Context, at time.Time, ids []int64, base, suffix string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return 0, fmt.Errorf("fail runs: %w", err)
	}
	// The ids travel as one JSON array, so that any number of them is one statement.
	const q = `UPDATE sync_history SET ` + failSet + `
		WHERE ` + runningSQL + ` AND id IN (SELECT value FROM json_each(?2))`
	res, err := db.write.ExecContext(ctx, q, micros(at), string(list), base, suffix)
	if err != nil {
		return 0, fmt.Errorf("fail runs: %w", unavailable(err))
	}
	return res.RowsAffected()
}

// failSet is what the cleanup writes into a row it marks: ?1 is its own time, ?3 the
// message of a row that had none, ?4 the suffix.
const failSet = `status = 'failed', end_time = ?1,
			error_message = coalesce(nullif(error_message, ''), ?3) || ?4`

// RunningRuns returns every row whose status reads as running, with its raw status, its
// message and its configuration, for a simulator that takes over the runs a previous
// process left unfinished.
func (db *DB) RunningRuns(ctx context.Context) ([]Row, error) {
	const q = `SELECT id, crm_source, sync_type, endpoint, status, start_time, error_message,
			configuration, created_at
		FROM sync_history WHERE ` + runningSQL + ` ORDER BY start_time, id`
	var rows []Row
	err := db.query(ctx, "running runs", q, func(rs *sql.Rows) error {
		var r Row
		var source, syncType, status sql.NullString
		var endpoint, message, config sql.NullString
		var start, created sql.NullInt64
		if err := rs.Scan(&r.ID, &source, &syncType, &endpoint, &status, &start, &message, &config, &created); err != nil {
			return err
		}
		r.CRMSource, r.SyncType, r.Status = source.String, syncType.String, status.String
		r.Endpoint, r.ErrorMessage = nullString(endpoint), nullString(message)
		r.Configuration = config.String
		r.Start, r.CreatedAt = timeOf(start.Int64), timeOf(created.Int64)
		rows = append(rows, r)
		return nil
	})
	return rows, err
}

// Empty reports whether sync_history has no rows.
func (db *DB) Empty(ctx context.Context) (bool, error) {
	var exists bool
	err := db.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sync_history)`).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("empty: %w", unavailable(err))
	}
	return !exists, nil
}

// CountRuns counts the rows of sync_history.
func (db *DB) CountRuns(ctx context.Context) (int64, error) {
	var n int64
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM sync_history`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count runs: %w", unavailable(err))
	}
	return n, nil
}

// LatestStart returns the greatest start_time, and false when there are no rows.
func (db *DB) LatestStart(ctx context.Context) (time.Time, bool, error) {
	var last sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT max(start_time) FROM sync_history`).Scan(&last); err != nil {
		return time.Time{}, false, fmt.Errorf("latest start: %w", unavailable(err))
	}
	if !last.Valid {
		return time.Time{}, false, nil
	}
	return timeOf(last.Int64), true, nil
}

// InsertSchedule adds a row to sync_schedule and returns its id (s.ID is ignored).
// s.UpdatedAt is its created_at and updated_at; s.LastRunAt is when beat last sent it.
func (db *DB) InsertSchedule(ctx context.Context, s syncs.Schedule) (int64, error) {
	const q = `INSERT INTO sync_schedule (name, crm_source, model_name, mode, source_key,
			recurrence_type, every, period, minute, hour, day_of_week, day_of_month,
			month_of_year, start_at, end_at, enabled, options, created_at, updated_at, last_run_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?)`
	res, err := db.write.ExecContext(ctx, q, s.Name, s.CRMSource, s.ModelName, s.Mode, s.SourceKey,
		s.RecurrenceType, s.Every, s.Period, s.Minute, s.Hour, s.DayOfWeek, s.DayOfMonth,
		s.MonthOfYear, nullMicros(s.StartAt), nullMicros(s.EndAt), s.Enabled,
		micros(s.UpdatedAt), micros(s.UpdatedAt), nullMicros(s.LastRunAt))
	if err != nil {
		return 0, fmt.Errorf("insert schedule: %w", unavailable(err))
	}
	return res.LastInsertId()
}

// SetLastRunAt records that beat sent schedule id's task at t.
func (db *DB) SetLastRunAt(ctx context.Context, id int64, t time.Time) error {
	res, err := db.write.ExecContext(ctx, `UPDATE sync_schedule SET last_run_at = ? WHERE id = ?`, micros(t), id)
	if err != nil {
		return fmt.Errorf("set last run of schedule %d: %w", id, unavailable(err))
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("set last run of schedule %d: no such schedule", id)
	}
	return nil
}

// Analyze refreshes the statistics the query planner chooses indexes by. Call it after a
// bulk load. It reads every index whole (about a second per million rows): a sample
// misjudges the few distinct values of status and crm_source by a hundred times.
func (db *DB) Analyze(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("analyze: %w", unavailable(err))
	}
	return nil
}

// inTx runs f in a transaction on the writer and commits it, or rolls it back when f or
// the commit fails.
func (db *DB) inTx(ctx context.Context, what string, f func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, unavailable(err))
	}
	if err := f(tx); err != nil {
		return errors.Join(fmt.Errorf("%s: %w", what, unavailable(err)), ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, unavailable(err))
	}
	return nil
}

// ignoreDone drops the error of rolling back a transaction that database/sql already
// ended (it does so when the context is cancelled).
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
