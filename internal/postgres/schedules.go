package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// beatSchemaOrder is where django-celery-beat's tables are looked for: the warehouse's
// Django application sets search_path to these schemas, and the tables may sit in any of
// them, or in public.
var beatSchemaOrder = []string{"django", "orchestration", "monitoring", "ingestion", "report", "public"}

// Schedules implements syncs.Store. A database without orchestration.sync_schedule (or
// without the right to read it) has no schedules; one without the beat table (or without
// the right to read it) has no last run times. Neither is an error: both are normal in
// the wild.
func (db *DB) Schedules(ctx context.Context) ([]syncs.Schedule, error) {
	var hasSchedules bool
	// A role without the right to read the table has no schedules either, rather than
	// a dashboard that fails on every refresh.
	err := db.pool.QueryRow(ctx, `SELECT CASE WHEN to_regclass('orchestration.sync_schedule') IS NULL THEN false
		ELSE has_table_privilege('orchestration.sync_schedule', 'SELECT') END`).Scan(&hasSchedules)
	if err != nil {
		return nil, fmt.Errorf("schedules: %w", classify(err))
	}
	if !hasSchedules {
		return nil, nil
	}
	beat, err := db.beatTable(ctx)
	if err != nil {
		return nil, err
	}
	lastRun := `NULL::timestamptz`
	join := ``
	if beat != "" {
		lastRun = `b.last_run_at`
		join = ` LEFT JOIN ` + beat + ` b ON b.id = s.periodic_task_id`
	}
	sql := `SELECT s.id, s.name, s.crm_source, s.model_name, s.mode, s.source_key,
			s.recurrence_type, s.every, s.period, s.minute, s.hour, s.day_of_week,
			s.day_of_month, s.month_of_year, s.start_at, s.end_at, s.enabled, s.updated_at, ` + lastRun + `
		FROM orchestration.sync_schedule s` + join + `
		ORDER BY s.crm_source, s.id`
	var schedules []syncs.Schedule
	err = db.query(ctx, "schedules", sql, func(rows pgx.Rows) error {
		var s syncs.Schedule
		err := rows.Scan(&s.ID, &s.Name, &s.CRMSource, &s.ModelName, &s.Mode, &s.SourceKey,
			&s.RecurrenceType, &s.Every, &s.Period, &s.Minute, &s.Hour, &s.DayOfWeek,
			&s.DayOfMonth, &s.MonthOfYear, &s.StartAt, &s.EndAt, &s.Enabled, &s.UpdatedAt, &s.LastRunAt)
		schedules = append(schedules, s)
		return err
	})
	if errors.Is(err, syncs.ErrNotReady) {
		// A column missing or of another type: the table is not the one syncwatch knows.
		// The figures are served without schedules, as without the table, and the
		// database health says why (see tablesState.problems).
		return nil, nil
	}
	return schedules, err
}

// beatTable returns the quoted name of django-celery-beat's periodic task table that this
// role can read, looked for in the application's search_path order, or "" when there is
// none.
func (db *DB) beatTable(ctx context.Context) (string, error) {
	var schema *string
	err := db.pool.QueryRow(ctx, `SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relname = 'django_celery_beat_periodictask' AND c.relkind IN ('r', 'p', 'v')
			AND has_table_privilege(c.oid, 'SELECT')
		ORDER BY array_position($1::text[], n.nspname::text) NULLS LAST, n.nspname LIMIT 1`,
		beatSchemaOrder).Scan(&schema)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("schedules: find the beat table: %w", classify(err))
	}
	return pgx.Identifier{*schema, "django_celery_beat_periodictask"}.Sanitize(), nil
}
