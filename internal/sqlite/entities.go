package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// entitiesSQL finds the rows that play a part in Entities, as the PostgreSQL store's
// query does (see there): the rows started since ?1, read through an index (SQLite skips
// through the per-CRM one, a start_time range for each source), are ordered once by
// entity and newest first, and running counts over that order place each row; per-entity
// totals are a second window over the same partition. The flags are never NULL: a file
// made by hand can hold a NULL status or end_time, which counts as false.
const entitiesSQL = `WITH ranked AS (
		SELECT id, crm_source, sync_type, status, start_time, end_time,
			records_processed, records_created, records_updated, records_failed,
			succeeded, finished, timed,
			row_number() OVER w AS nth,
			count(*) FILTER (WHERE finished) OVER w AS nth_finished,
			count(*) FILTER (WHERE timed) OVER w AS nth_timed,
			count(*) FILTER (WHERE succeeded) OVER w AS nth_success
		FROM (
			SELECT id, crm_source, sync_type, ` + canonicalStatusSQL + ` AS status, start_time, end_time,
				records_processed, records_created, records_updated, records_failed,
				coalesce(status IN ('success', 'completed', 'partial'), 0) AS succeeded,
				coalesce(NOT ` + runningSQL + `, 0) AS finished,
				coalesce(NOT ` + runningSQL + ` AND end_time >= start_time, 0) AS timed
			FROM sync_history
			WHERE start_time >= ?1
		)
		WINDOW w AS (PARTITION BY crm_source, sync_type ORDER BY start_time DESC, id DESC
			ROWS UNBOUNDED PRECEDING)
	), totals AS (
		SELECT *,
			count(*) FILTER (WHERE status = 'failed' AND nth_success = 0) OVER e AS consecutive_failures,
			max(` + finishedAtSQL + `) FILTER (WHERE succeeded) OVER e AS last_success,
			min(start_time) OVER e AS first_start
		FROM ranked
		WINDOW e AS (PARTITION BY crm_source, sync_type)
	)
	SELECT id, crm_source, sync_type, status, start_time, end_time,
		records_processed, records_created, records_updated, records_failed,
		nth = 1, finished AND nth_finished = 1, timed AND nth_timed = 1,
		CASE WHEN succeeded AND nth_success <= ?2 THEN nth_success ELSE 0 END,
		consecutive_failures, last_success, first_start
	FROM totals
	WHERE nth = 1 OR (finished AND nth_finished = 1) OR (timed AND nth_timed = 1)
		OR (succeeded AND nth_success <= ?2)`

// Entities implements syncs.Store. The messages of the failed LastFinished rows are read
// by a second statement, by id, so that they are cut exactly as every other message.
func (db *DB) Entities(ctx context.Context, q syncs.EntityQuery) ([]syncs.Entity, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	var read []syncs.EntityRow
	failed := map[int64]int{} // id of a failed LastFinished → its index in read
	err := db.query(ctx, "entities", entitiesSQL, func(rows *sql.Rows) error {
		var e syncs.EntityRow
		var lastSuccess, firstStart sql.NullInt64
		var err error
		e.Run, err = scanRunCounts(rows, &e.Latest, &e.LastFinished, &e.LastTimed, &e.SuccessRank,
			&e.ConsecutiveFailures, &lastSuccess, &firstStart)
		if err != nil {
			return err
		}
		r := &e.Run
		e.LastSuccess = nullTime(lastSuccess)
		e.FirstStart = timeOf(firstStart.Int64)
		if e.LastFinished && r.Status == syncs.StatusFailed {
			failed[r.ID] = len(read)
		}
		read = append(read, e)
		return nil
	}, micros(q.Since), q.Successes)
	if err != nil {
		return nil, err
	}
	if len(failed) > 0 {
		ids := make([]string, 0, len(failed))
		for id := range failed {
			ids = append(ids, strconv.FormatInt(id, 10))
		}
		// The ids are integers read a moment ago, written into the statement: SQLite's
		// limit on parameters (32,766) would otherwise bound the number of entities.
		runs, err := db.runs(ctx, "entities: messages", `SELECT `+runColumns+` FROM sync_history
			WHERE id IN (`+strings.Join(ids, ", ")+`)`)
		if err != nil {
			return nil, err
		}
		for _, m := range runs {
			if i, ok := failed[m.ID]; ok {
				read[i].Run.ErrorMessage = m.ErrorMessage
			}
		}
	}
	return syncs.GatherEntities(read, q.Successes)
}

// StuckRuns implements syncs.Store, along the status index.
func (db *DB) StuckRuns(ctx context.Context, stuckBefore time.Time, limit int) ([]syncs.Run, error) {
	if err := syncs.CheckLimit("stuck runs", limit); err != nil {
		return nil, err
	}
	q := `SELECT id, crm_source, sync_type, ` + canonicalStatusSQL + `, start_time, end_time,
			records_processed, records_created, records_updated, records_failed
		FROM sync_history
		WHERE ` + runningSQL + ` AND start_time < ?1
		ORDER BY start_time, id LIMIT ?2`
	var runs []syncs.Run
	err := db.query(ctx, "stuck runs", q, func(rows *sql.Rows) error {
		r, err := scanRunCounts(rows)
		runs = append(runs, r)
		return err
	}, micros(stuckBefore), limit)
	return runs, err
}

// SuccessRecords implements syncs.Store, along the (crm_source, start_time) index.
func (db *DB) SuccessRecords(ctx context.Context, crmSource, syncType string, from, to time.Time, limit int) ([]int64, error) {
	if err := syncs.CheckLimit("success records", limit); err != nil {
		return nil, err
	}
	const q = `SELECT records_processed FROM sync_history
		WHERE crm_source = ?1 AND sync_type = ?2 AND start_time >= ?3 AND start_time < ?4
			AND status IN ('success', 'completed', 'partial') AND records_processed IS NOT NULL
		LIMIT ?5`
	var values []int64
	err := db.query(ctx, "success records", q, func(rows *sql.Rows) error {
		var v int64
		err := rows.Scan(&v)
		values = append(values, v)
		return err
	}, crmSource, syncType, micros(from), micros(to), limit)
	return values, err
}
