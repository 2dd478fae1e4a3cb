package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
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

// CRMSummary implements syncs.Store: the statement of the PostgreSQL store (see
// crmSummarySQL there), over a range of the CRM index, in SQLite's words; the failures,
// with their messages, are a second statement (SQLite is in the process: a round trip
// costs nothing).
func (db *DB) CRMSummary(ctx context.Context, q syncs.CRMQuery) (syncs.CRMSummary, error) {
	if err := q.Check(); err != nil {
		return syncs.CRMSummary{}, err
	}
	// ?1 source, ?2 From, ?3 Since, ?4 CountsSince, ?5 Successes, ?6… the day bounds.
	args := []any{q.Source, micros(q.From()), micros(q.Since), micros(q.CountsSince), q.Successes}
	for _, b := range q.DayBounds {
		args = append(args, micros(b))
	}
	const nulls = `NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL`
	days := `SELECT ` + nulls + ` WHERE 0`
	if n := len(q.DayBounds); n > 1 {
		days = `SELECT 'd', sync_type, status, ` + dayIndexSQL("start_time", n, 6) + `, count(*),
				coalesce(sum(records_processed), 0), coalesce(sum(dur), 0), count(dur),
				NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
			FROM r WHERE start_time >= ?6 AND start_time < ?` + strconv.Itoa(5+n) + `
			GROUP BY 2, 3, 4`
	}
	statement := `WITH r AS MATERIALIZED (
			SELECT id, sync_type, ` + canonicalStatusSQL + ` AS status, start_time, end_time, records_processed,
				` + durationMicrosSQL + ` AS dur,
				status IN ('success', 'completed', 'partial') AS ok,
				NOT ` + runningSQL + ` AS finished
			FROM sync_history WHERE crm_source = ?1 AND start_time >= ?2
		), w AS (
			SELECT *,
				row_number() OVER e AS nth,
				count(*) FILTER (WHERE finished) OVER e AS nth_finished,
				count(*) FILTER (WHERE ok) OVER e AS nth_ok
			FROM r WHERE start_time >= ?3
			WINDOW e AS (PARTITION BY sync_type ORDER BY start_time DESC, id DESC ROWS UNBOUNDED PRECEDING)
		)
		SELECT 'e', sync_type, NULL, count(*) FILTER (WHERE start_time >= ?4),
			count(*) FILTER (WHERE start_time >= ?4 AND status = 'success'),
			count(*) FILTER (WHERE start_time >= ?4 AND status = 'failed'),
			count(*) FILTER (WHERE start_time >= ?4 AND status = 'partial'),
			count(*) FILTER (WHERE status = 'failed' AND nth_ok = 0),
			max(coalesce(end_time, start_time)) FILTER (WHERE ok), NULL, NULL, NULL, NULL, NULL, NULL,
			json_group_array(dur) FILTER (WHERE ok AND dur IS NOT NULL),
			json_group_array(records_processed) FILTER (WHERE ok AND records_processed IS NOT NULL)
		FROM w GROUP BY sync_type
		UNION ALL
		SELECT 'r', sync_type, status, NULL, NULL, NULL, NULL, NULL, NULL,
			(CASE WHEN nth = 1 THEN ` + strconv.Itoa(syncs.FlagLatest) + ` ELSE 0 END) +
				(CASE WHEN finished AND nth_finished = 1 THEN ` + strconv.Itoa(syncs.FlagLastFinished) + ` ELSE 0 END) +
				(CASE WHEN NOT finished THEN ` + strconv.Itoa(syncs.FlagRunning) + ` ELSE 0 END),
			CASE WHEN ok AND nth_ok <= ?5 THEN nth_ok ELSE 0 END,
			id, start_time, end_time, records_processed, NULL, NULL
		FROM w WHERE nth = 1 OR (finished AND nth_finished = 1) OR NOT finished OR (ok AND nth_ok <= ?5)
		UNION ALL
		` + days
	var read []syncs.CRMRow
	err := db.query(ctx, "crm summary", statement, func(rows *sql.Rows) error {
		var c syncs.CRMRow
		var kind, syncType, status sql.NullString
		var n, a, b, cc, d, last, flags, rank, id, start, end, records sql.NullInt64
		var durations, processed sql.NullString
		if err := rows.Scan(&kind, &syncType, &status, &n, &a, &b, &cc, &d, &last, &flags, &rank,
			&id, &start, &end, &records, &durations, &processed); err != nil {
			return err
		}
		for _, list := range []struct {
			json string
			into *[]int64
		}{{durations.String, &c.Durations}, {processed.String, &c.Records}} {
			if list.json != "" {
				if err := json.Unmarshal([]byte(list.json), list.into); err != nil {
					return fmt.Errorf("values of %s: %w", syncType.String, err)
				}
			}
		}
		c.Kind, c.SyncType = kind.String, syncType.String
		c.N, c.A, c.B, c.C, c.D, c.Flags, c.SuccessRank = n.Int64, a.Int64, b.Int64, cc.Int64, d.Int64, flags.Int64, rank.Int64
		c.Time = nullTime(last)
		c.Run = syncs.Run{ID: id.Int64, CRMSource: q.Source, SyncType: c.SyncType, Status: status.String,
			Start: timeOf(start.Int64), End: nullTime(end), RecordsProcessed: nullInt(records)}
		read = append(read, c)
		return nil
	}, args...)
	if err != nil {
		return syncs.CRMSummary{}, err
	}
	if q.Failures > 0 {
		failures, err := db.History(ctx, syncs.HistoryQuery{CRMSources: []string{q.Source},
			RawStatuses: []string{syncs.StatusFailed}, From: q.Since, Limit: q.Failures})
		if err != nil {
			return syncs.CRMSummary{}, err
		}
		for _, f := range failures {
			read = append(read, syncs.CRMRow{Kind: syncs.CRMRowFailure, SyncType: f.SyncType, Run: f})
		}
	}
	return syncs.GatherCRMSummary(read, q)
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
		var raw, endpoint, config, metrics sql.NullString
		var createdAt sql.NullInt64
		r, err := scanRun(rows, &raw, &endpoint, &createdAt, &config, &metrics)
		if err != nil {
			return err
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
