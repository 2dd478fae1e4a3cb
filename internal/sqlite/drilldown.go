package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The drill-down's questions (syncs.DrillDown). The embedded file's index per CRM in start
// order, (crm_source, start_time, id), bounds the questions about one CRM or one entity;
// the start_time index the others.

// durationMicrosSQL is Run.Duration in microseconds, NULL when unknown.
const durationMicrosSQL = `CASE WHEN NOT ` + runningSQL + ` AND end_time >= start_time THEN end_time - start_time END`

// lightColumns are the columns of a row without its message and other counts.
const lightColumns = `id, crm_source, sync_type, ` + canonicalStatusSQL + `, start_time, end_time, records_processed`

func scanLight(rows *sql.Rows) (syncs.Run, error) {
	var r syncs.Run
	var source, syncType, status sql.NullString
	var start, end, processed sql.NullInt64
	err := rows.Scan(&r.ID, &source, &syncType, &status, &start, &end, &processed)
	r.CRMSource, r.SyncType, r.Status = source.String, syncType.String, status.String
	r.Start, r.End, r.RecordsProcessed = timeOf(start.Int64), nullTime(end), nullInt(processed)
	return r, err
}

func (db *DB) lightRuns(ctx context.Context, what, q string, args ...any) ([]syncs.Run, error) {
	var runs []syncs.Run
	err := db.query(ctx, what, q, func(rows *sql.Rows) error {
		r, err := scanLight(rows)
		runs = append(runs, r)
		return err
	}, args...)
	return runs, err
}

// CRMRuns implements syncs.Store: a range of the CRM index.
func (db *DB) CRMRuns(ctx context.Context, source string, since time.Time) ([]syncs.Run, error) {
	const q = `SELECT ` + lightColumns + ` FROM sync_history WHERE crm_source = ?1 AND start_time >= ?2
		ORDER BY start_time DESC, id DESC`
	return db.lightRuns(ctx, "crm runs", q, source, micros(since))
}

// CRMDays implements syncs.Store: a range of the CRM index, days found as finishedTotals
// finds them.
func (db *DB) CRMDays(ctx context.Context, source string, bounds []time.Time) ([]syncs.EntityDay, error) {
	if len(bounds) < 2 {
		return nil, nil
	}
	args := []any{source, micros(bounds[0]), micros(bounds[len(bounds)-1])}
	for _, b := range bounds {
		args = append(args, micros(b))
	}
	q := `SELECT ` + dayIndexSQL("start_time", len(bounds), 4) + `, sync_type, ` + canonicalStatusSQL + `,
			count(*), coalesce(sum(records_processed), 0),
			coalesce(sum(` + durationMicrosSQL + `), 0), count(` + durationMicrosSQL + `)
		FROM sync_history WHERE crm_source = ?1 AND start_time >= ?2 AND start_time < ?3
		GROUP BY 1, 2, 3`
	var days []syncs.EntityDay
	err := db.query(ctx, "crm days", q, func(rows *sql.Rows) error {
		var d syncs.EntityDay
		var syncType, status sql.NullString
		err := rows.Scan(&d.Day, &syncType, &status, &d.Count, &d.RecordsProcessed, &d.DurationMicros, &d.DurationCount)
		d.SyncType, d.Status = syncType.String, status.String
		days = append(days, d)
		return err
	}, args...)
	return days, err
}

// EntityRuns implements syncs.Store: a range of the CRM index.
func (db *DB) EntityRuns(ctx context.Context, source, syncType string, from, to time.Time, limit int) ([]syncs.Run, error) {
	if limit < 0 {
		return nil, fmt.Errorf("entity runs: limit is %d, want 0 or more", limit)
	}
	const q = `SELECT ` + lightColumns + ` FROM sync_history
		WHERE crm_source = ?1 AND +sync_type = ?2 AND start_time >= ?3 AND start_time < ?4
		ORDER BY start_time DESC, id DESC LIMIT ?5`
	return db.lightRuns(ctx, "entity runs", q, source, syncType, micros(from), micros(to), limit)
}

// History implements syncs.Store: one ordered, limited branch per CRM (a range of the CRM
// index each), else per raw status (a range of the status index each), else one range of
// the start_time index; the branches are merged.
func (db *DB) History(ctx context.Context, hq syncs.HistoryQuery) ([]syncs.Run, error) {
	if err := hq.Check(); err != nil {
		return nil, err
	}
	args := []any{hq.Limit}
	arg := func(v any) string {
		if t, ok := v.(time.Time); ok {
			v = micros(t)
		}
		args = append(args, v)
		return fmt.Sprintf("?%d", len(args))
	}
	in := func(column string, values []string) string {
		ps := make([]string, len(values))
		for i, v := range values {
			ps[i] = arg(v)
		}
		return column + ` IN (` + strings.Join(ps, ", ") + `)`
	}
	var conds []string
	if !hq.From.IsZero() {
		conds = append(conds, `start_time >= `+arg(hq.From))
	}
	if !hq.To.IsZero() {
		conds = append(conds, `start_time < `+arg(hq.To))
	}
	if hq.Before != nil {
		s, id := arg(hq.Before.Start), arg(hq.Before.ID)
		conds = append(conds, `start_time <= `+s+` AND (start_time < `+s+` OR id < `+id+`)`)
	}
	if hq.MinDuration != nil {
		conds = append(conds, `NOT `+runningSQL+` AND end_time >= start_time AND end_time - start_time > `+
			arg((*hq.MinDuration).Microseconds()))
	}
	if len(hq.MessageParts) > 0 {
		// SQLite's LIKE ignores the case of ASCII letters only, as the dashboard's check.
		conds = append(conds, `error_message LIKE `+arg(hq.LikePattern())+` ESCAPE '\'`)
	}
	if hq.SyncType != "" {
		conds = append(conds, `+sync_type = `+arg(hq.SyncType))
	}
	// One branch per value of the column an index leads with; the other filters are
	// conditions of every branch.
	var lead string
	var values []string
	switch {
	case len(hq.CRMSources) > 0:
		lead, values = "crm_source", hq.CRMSources
		if len(hq.RawStatuses) > 0 {
			conds = append(conds, in("+status", hq.RawStatuses))
		}
	case len(hq.RawStatuses) > 0:
		lead, values = "status", hq.RawStatuses
	}
	branch := func(extra ...string) string {
		all := append(append([]string(nil), conds...), extra...)
		b := `SELECT ` + runColumns + ` FROM sync_history`
		if len(all) > 0 {
			b += ` WHERE ` + strings.Join(all, " AND ")
		}
		return b + ` ORDER BY start_time DESC, id DESC LIMIT ?1`
	}
	var branches []string
	for _, v := range values {
		branches = append(branches, branch(lead+` = `+arg(v)))
	}
	if lead == "" {
		branches = []string{branch()}
	}
	q := branches[0]
	if len(branches) > 1 {
		q = `SELECT * FROM (SELECT * FROM (` + strings.Join(branches, ") UNION ALL SELECT * FROM (") +
			`)) u ORDER BY u.start_time DESC, u.id DESC LIMIT ?1`
	}
	return db.runs(ctx, "history", q, args...)
}

// tableColumns are the columns of sync_history, in schema.sql's order.
var tableColumns = []string{"id", "crm_source", "sync_type", "endpoint", "start_time", "end_time", "status",
	"records_processed", "records_created", "records_updated", "records_failed", "error_message",
	"performance_metrics", "configuration", "created_at"}

// RunByID implements syncs.Store, by rowid.
func (db *DB) RunByID(ctx context.Context, id int64) (syncs.RunDetail, bool, error) {
	q := `SELECT ` + runColumns + `, status, endpoint, created_at, configuration, performance_metrics
		FROM sync_history WHERE id = ?1`
	var d syncs.RunDetail
	found := false
	err := db.query(ctx, "run", q, func(rows *sql.Rows) error {
		var r syncs.Run
		var source, syncType, status, head, tail, raw, endpoint, config, metrics sql.NullString
		var start, end, processed, created, updated, failed, length, createdAt sql.NullInt64
		var withNUL []byte
		if err := rows.Scan(&r.ID, &source, &syncType, &status, &start, &end,
			&processed, &created, &updated, &failed, &head, &tail, &length, &withNUL,
			&raw, &endpoint, &createdAt, &config, &metrics); err != nil {
			return err
		}
		r.CRMSource, r.SyncType, r.Status = source.String, syncType.String, status.String
		r.Start, r.End = timeOf(start.Int64), nullTime(end)
		r.RecordsProcessed, r.RecordsCreated = nullInt(processed), nullInt(created)
		r.RecordsUpdated, r.RecordsFailed = nullInt(updated), nullInt(failed)
		switch {
		case withNUL != nil:
			msg := messageWithNUL(string(withNUL))
			r.ErrorMessage = &msg
		case head.Valid:
			msg := syncs.CutMessage(head.String, tail.String, int(length.Int64))
			r.ErrorMessage = &msg
		}
		d = syncs.RunDetail{Run: r, RawStatus: raw.String, Columns: append([]string(nil), tableColumns...),
			Endpoint: nullString(endpoint), CreatedAt: nullTime(createdAt),
			Configuration: nullString(config), PerformanceMetrics: nullString(metrics)}
		found = true
		return nil
	}, id)
	if err != nil || !found {
		return syncs.RunDetail{}, false, err
	}
	return d, true, nil
}

// Neighbours implements syncs.Store: a range of the CRM index each way.
func (db *DB) Neighbours(ctx context.Context, source, syncType string, at syncs.Position) (*syncs.Run, *syncs.Run, error) {
	const q = `SELECT * FROM (SELECT ` + lightColumns + ` FROM sync_history
			WHERE crm_source = ?1 AND +sync_type = ?2 AND start_time <= ?3 AND (start_time < ?3 OR id < ?4)
			ORDER BY start_time DESC, id DESC LIMIT 1)
		UNION ALL
		SELECT * FROM (SELECT ` + lightColumns + ` FROM sync_history
			WHERE crm_source = ?1 AND +sync_type = ?2 AND start_time >= ?3 AND (start_time > ?3 OR id > ?4)
			ORDER BY start_time, id LIMIT 1)`
	runs, err := db.lightRuns(ctx, "neighbours", q, source, syncType, micros(at.Start), at.ID)
	if err != nil {
		return nil, nil, err
	}
	var prev, next *syncs.Run
	for i := range runs {
		if at.Before(runs[i].Start, runs[i].ID) {
			prev = &runs[i]
		} else {
			next = &runs[i]
		}
	}
	return prev, next, nil
}

// OldestStart implements syncs.Store: the last entry of the start_time index.
func (db *DB) OldestStart(ctx context.Context) (time.Time, bool, error) {
	var oldest sql.NullInt64
	err := db.query(ctx, "oldest start", `SELECT min(start_time) FROM sync_history`,
		func(rows *sql.Rows) error { return rows.Scan(&oldest) })
	if err != nil || !oldest.Valid {
		return time.Time{}, false, err
	}
	return timeOf(oldest.Int64), true, nil
}
