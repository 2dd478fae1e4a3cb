// Package seed fills a database with the demo's realistic sync history, for benchmarks
// and trials: PostgreSQL through COPY (ten million rows in a minute or two), or the
// embedded SQLite file. It is what "syncwatch seed" runs; it writes only where it is told
// to, through its own connection, never through syncwatch's read-only store.
package seed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syncwatch/syncwatch/internal/demo"
	"github.com/syncwatch/syncwatch/internal/sqlite"
)

// Options say how to seed.
type Options struct {
	// Append adds rows to a table that already has some; without it such a table is
	// refused.
	Append bool
	// CreateSchema, "A" or "B", creates PostgreSQL's tables in that shape when absent.
	CreateSchema string
	// Progress is told how many rows are written so far; Note, of a step without rows.
	Progress func(written int64)
	Note     func(step string)
}

func (o Options) withDefaults() Options {
	if o.Progress == nil {
		o.Progress = func(int64) {}
	}
	if o.Note == nil {
		o.Note = func(string) {}
	}
	return o
}

// columns are the columns seed writes, in COPY's order; id and its sequence are left
// to the database, as the sync engines leave them.
var columns = []string{"crm_source", "sync_type", "endpoint", "status", "start_time", "end_time",
	"records_processed", "records_created", "records_updated", "records_failed", "error_message",
	"performance_metrics", "configuration", "created_at"}

// Postgres writes the history into orchestration.sync_history of the database at url,
// through its own connection (syncwatch's store opens read-only sessions, and must stay
// unable to write), in one transaction: an interrupted seed leaves the database as it
// found it. It returns the rows written and a description of the target.
func Postgres(ctx context.Context, url string, h *demo.History, to time.Time, opts Options) (int64, string, error) {
	opts = opts.withDefaults()
	connCfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can quote the URL, password included.
		return 0, "", errors.New("the database URL is not a valid PostgreSQL URL or DSN")
	}
	connCfg.RuntimeParams["application_name"] = "syncwatch seed"
	connCfg.RuntimeParams["TimeZone"] = "UTC"
	conn, err := pgx.ConnectConfig(ctx, connCfg)
	if err != nil {
		return 0, "", fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	target := fmt.Sprintf("PostgreSQL database %q (orchestration.sync_history)", connCfg.Database)

	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('orchestration.sync_history') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, target, fmt.Errorf("find orchestration.sync_history: %w", err)
	}
	if !exists && opts.CreateSchema == "" {
		return 0, target, errors.New("orchestration.sync_history does not exist: add --create-schema A or B to create the warehouse's tables")
	}
	if exists && opts.CreateSchema != "" {
		opts.Note("orchestration.sync_history exists; --create-schema leaves it as it is")
	}
	if exists {
		var hasRows bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orchestration.sync_history)`).Scan(&hasRows); err != nil {
			return 0, target, fmt.Errorf("look for rows: %w", err)
		}
		if hasRows && !opts.Append {
			return 0, target, errors.New("orchestration.sync_history already has rows: add --append to add more")
		}
	}

	// One transaction: the tables when they are new, one COPY, then their indexes. An
	// interrupted seed leaves the database as it found it.
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, target, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.Background())
	var indexes []string
	if !exists {
		schema, _ := WarehouseSchema(opts.CreateSchema)
		var tables string
		tables, indexes = splitHistoryIndexes(schema)
		if _, err := tx.Exec(ctx, tables); err != nil {
			return 0, target, fmt.Errorf("create the tables of shape %s: %w", strings.ToUpper(opts.CreateSchema), err)
		}
	}
	src := &copySource{history: h, progress: opts.Progress}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"orchestration", "sync_history"}, columns, src)
	if err != nil {
		return 0, target, fmt.Errorf("copy: %w", err)
	}
	// Building an index over rows already there is several times faster than keeping
	// it up to date row by row; more sort memory than the default keeps a build of ten
	// million rows in memory.
	opts.Progress(n)
	if len(indexes) > 0 {
		opts.Note(fmt.Sprintf("building %d indexes on %d rows", len(indexes), n))
		if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
			return 0, target, fmt.Errorf("create index: %w", err)
		}
	}
	for _, stmt := range indexes {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return 0, target, fmt.Errorf("create index: %w", err)
		}
	}
	if err := copySchedules(ctx, tx, to); err != nil {
		return 0, target, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, target, fmt.Errorf("commit: %w", err)
	}
	// Fresh statistics, so the dashboard's first queries are planned for the rows that
	// are there, not for an empty table (autovacuum would catch up only later).
	if _, err := conn.Exec(ctx, `ANALYZE orchestration.sync_history`); err != nil {
		return n, target, fmt.Errorf("analyze: %w", err)
	}
	return n, target, nil
}

// splitHistoryIndexes separates the statements that index orchestration.sync_history
// from the rest of a schema, so that they run after the table is filled. In the schema
// files each of them is one line.
func splitHistoryIndexes(schema string) (rest string, indexes []string) {
	var b strings.Builder
	for _, line := range strings.SplitAfter(schema, "\n") {
		if strings.HasPrefix(line, "CREATE INDEX") && strings.Contains(line, " ON orchestration.sync_history ") {
			indexes = append(indexes, strings.TrimSpace(line))
			continue
		}
		b.WriteString(line)
	}
	return b.String(), indexes
}

// copySource streams the history into COPY, one row at a time.
type copySource struct {
	history  *demo.History
	row      demo.Row
	n        int64
	progress func(int64)
}

func (s *copySource) Next() bool {
	r, ok := s.history.Next()
	if !ok {
		return false
	}
	s.row = r
	s.n++
	if s.n%4096 == 0 {
		s.progress(s.n)
	}
	return true
}

func (s *copySource) Values() ([]any, error) {
	r := s.row
	var endpoint any
	if r.Endpoint != "" {
		endpoint = r.Endpoint
	}
	return []any{r.CRMSource, r.SyncType, endpoint, r.Status, r.Start, r.End,
		r.RecordsProcessed, r.RecordsCreated, r.RecordsUpdated, r.RecordsFailed, r.ErrorMessage,
		r.PerformanceMetrics, r.Configuration, r.Start}, nil
}

func (s *copySource) Err() error { return nil }

// copySchedules gives an empty orchestration.sync_schedule the demo's schedules,
// each with a django-celery-beat periodic task holding its last run where that table
// exists, so that the dashboard shows next runs.
func copySchedules(ctx context.Context, tx pgx.Tx, to time.Time) error {
	var hasTable, hasBeat bool
	err := tx.QueryRow(ctx, `SELECT to_regclass('orchestration.sync_schedule') IS NOT NULL,
		to_regclass('public.django_celery_beat_periodictask') IS NOT NULL`).Scan(&hasTable, &hasBeat)
	if err != nil || !hasTable {
		return wrapIf("find orchestration.sync_schedule", err)
	}
	var hasRows bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orchestration.sync_schedule)`).Scan(&hasRows); err != nil || hasRows {
		return wrapIf("look for schedules", err)
	}
	for _, s := range demo.Schedules(to) {
		var taskID *int64
		if hasBeat {
			taskID = new(int64)
			err := tx.QueryRow(ctx, `INSERT INTO public.django_celery_beat_periodictask
					(name, task, enabled, last_run_at, total_run_count, one_off, date_changed)
				VALUES ($1, 'ingestion.tasks.run_sync', $2, $3, 0, false, $4)
				ON CONFLICT (name) DO UPDATE SET last_run_at = EXCLUDED.last_run_at
				RETURNING id`,
				s.SourceKey+":"+s.Mode+":"+s.Name, s.Enabled, s.LastRunAt, s.UpdatedAt).Scan(taskID)
			if err != nil {
				return fmt.Errorf("insert periodic task: %w", err)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO orchestration.sync_schedule
				(name, crm_source, model_name, mode, source_key, recurrence_type, every, period,
				 minute, hour, day_of_week, day_of_month, month_of_year, start_at, end_at, enabled,
				 options, periodic_task_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, '{}', $17, $18, $18)`,
			s.Name, s.CRMSource, s.ModelName, s.Mode, s.SourceKey, s.RecurrenceType, s.Every, s.Period,
			s.Minute, s.Hour, s.DayOfWeek, s.DayOfMonth, s.MonthOfYear, s.StartAt, s.EndAt, s.Enabled,
			taskID, s.UpdatedAt)
		if err != nil {
			return fmt.Errorf("insert schedule: %w", err)
		}
	}
	return nil
}

// SQLite writes the history into the SQLite file at path, creating it (and its
// directory) when absent. It commits every batch: a transaction of millions of rows would
// grow the write-ahead log by gigabytes.
func SQLite(ctx context.Context, path string, h *demo.History, to time.Time, opts Options) (int64, string, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return 0, "", fmt.Errorf("create the directory of the SQLite file: %w", err)
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return 0, "", err
	}
	defer db.Close()
	target := fmt.Sprintf("SQLite file %s", db.Path())
	empty, err := db.Empty(ctx)
	if err != nil {
		return 0, target, err
	}
	if !empty && !opts.Append {
		return 0, target, errors.New("sync_history already has rows: add --append to add more")
	}
	// Batches of ten thousand rows, or fewer when there are few, so that the progress
	// report still has steps.
	batchSize := int(min(max(h.Len()/50, 1000), 10_000))
	batch := make([]sqlite.Row, 0, batchSize)
	var n int64
	for {
		r, ok := h.Next()
		if ok {
			batch = append(batch, r.SQLite())
		}
		if len(batch) == batchSize || (!ok && len(batch) > 0) {
			if _, err := db.InsertRuns(ctx, batch); err != nil {
				return n, target, err
			}
			n += int64(len(batch))
			batch = batch[:0]
			opts.Progress(n)
		}
		if !ok {
			break
		}
	}
	schedules, err := db.Schedules(ctx)
	if err != nil {
		return n, target, err
	}
	if len(schedules) == 0 {
		for _, s := range demo.Schedules(to) {
			if _, err := db.InsertSchedule(ctx, s); err != nil {
				return n, target, err
			}
		}
	}
	return n, target, db.Analyze(ctx)
}

func wrapIf(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
