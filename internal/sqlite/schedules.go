package sqlite

import (
	"context"
	"database/sql"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// Schedules implements syncs.Store: every row of sync_schedule, with its last_run_at
// standing in for django-celery-beat's.
func (db *DB) Schedules(ctx context.Context) ([]syncs.Schedule, error) {
	const q = `SELECT id, name, crm_source, model_name, mode, source_key, recurrence_type,
			every, period, minute, hour, day_of_week, day_of_month, month_of_year,
			start_at, end_at, enabled, updated_at, last_run_at
		FROM sync_schedule
		ORDER BY crm_source, id`
	var schedules []syncs.Schedule
	err := db.query(ctx, "schedules", q, func(rows *sql.Rows) error {
		var s syncs.Schedule
		var name, source, model, mode, key, recurrence sql.NullString
		var period, minute, hour, dow, dom, moy sql.NullString
		var every, startAt, endAt, enabled, updatedAt, lastRun sql.NullInt64
		if err := rows.Scan(&s.ID, &name, &source, &model, &mode, &key, &recurrence,
			&every, &period, &minute, &hour, &dow, &dom, &moy,
			&startAt, &endAt, &enabled, &updatedAt, &lastRun); err != nil {
			return err
		}
		s.Name, s.CRMSource, s.ModelName = name.String, source.String, model.String
		s.Mode, s.SourceKey, s.RecurrenceType = mode.String, key.String, recurrence.String
		s.Every = nullInt(every)
		s.Period, s.Minute, s.Hour = nullString(period), nullString(minute), nullString(hour)
		s.DayOfWeek, s.DayOfMonth, s.MonthOfYear = nullString(dow), nullString(dom), nullString(moy)
		s.StartAt, s.EndAt = nullTime(startAt), nullTime(endAt)
		s.Enabled = enabled.Valid && enabled.Int64 != 0
		if updatedAt.Valid {
			s.UpdatedAt = timeOf(updatedAt.Int64)
		}
		s.LastRunAt = nullTime(lastRun)
		schedules = append(schedules, s)
		return nil
	})
	return schedules, err
}

func nullString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}
