package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// entitiesSQL answers Entities in one statement. The rows started since $1 are read once
// (a range of the start_time index, on both shapes) and sorted once, by entity and then
// newest first; running counts over that one order then place each row:
//
//   - nth: the row's place among all its entity's rows (1: Latest);
//   - nth_finished, nth_timed, nth_success: its place among the rows that are not running,
//     that have a known duration, that succeeded (success or partial): the first of each
//     is LastFinished and LastTimed, the first $2 successes are RecentSuccesses;
//   - a failed row with nth_success = 0 has no success after it: the streak.
//
// Per-entity totals over those (the streak's length, the latest finished_at of a success,
// the earliest start)
// are a second window over the same partition, which needs no second sort. Only the rows
// that play a part leave the server (at most 3 + $2 per entity). The messages of the
// failed LastFinished rows are read by a second statement, by primary key (see
// Entities).
//
// The entity is compared byte by byte (COLLATE "C"): only equality matters to a
// partition, and a natural-language collation makes each of the sort's comparisons
// dearer. The rows sorted carry only the columns the answer needs.
const entitiesSQL = `WITH ranked AS (
		SELECT *,
			row_number() OVER w AS nth,
			count(*) FILTER (WHERE finished) OVER w AS nth_finished,
			count(*) FILTER (WHERE timed) OVER w AS nth_timed,
			count(*) FILTER (WHERE succeeded) OVER w AS nth_success
		FROM (
			SELECT id, crm_source COLLATE "C" AS crm_source, sync_type COLLATE "C" AS sync_type,
				` + canonicalStatusSQL + ` AS status, start_time, end_time,
				records_processed, records_created, records_updated, records_failed,
				status IN ('success', 'completed', 'partial') AS succeeded,
				NOT ` + runningSQL + ` AS finished,
				NOT ` + runningSQL + ` AND end_time IS NOT NULL AND end_time >= start_time AS timed
			FROM orchestration.sync_history
			WHERE start_time >= $1
		) h
		WINDOW w AS (PARTITION BY crm_source, sync_type ORDER BY start_time DESC, id DESC
			ROWS UNBOUNDED PRECEDING)
	), totals AS (
		SELECT *,
			count(*) FILTER (WHERE status = 'failed' AND nth_success = 0) OVER e AS consecutive_failures,
			max(COALESCE(end_time, start_time)) FILTER (WHERE succeeded) OVER e AS last_success,
			min(start_time) OVER e AS first_start,
			finished AND nth_finished = 1 AS last_finished
		FROM ranked
		WINDOW e AS (PARTITION BY crm_source, sync_type)
	)
	SELECT id, crm_source, sync_type, status, start_time, end_time,
		records_processed, records_created, records_updated, records_failed,
		nth = 1, last_finished, timed AND nth_timed = 1,
		CASE WHEN succeeded AND nth_success <= $2 THEN nth_success::int END,
		consecutive_failures, last_success, first_start
	FROM totals t
	WHERE nth = 1 OR last_finished OR (timed AND nth_timed = 1) OR (succeeded AND nth_success <= $2)`

// Entities implements syncs.Store in two statements: entitiesSQL, then the messages of the
// failed LastFinished rows by id. Reading the messages in the first statement, a scalar
// subquery per row, raised the planner's estimate of its cost above jit_above_cost, and
// PostgreSQL then spent 2.3 s compiling it (measured on ten million rows); the second
// round trip costs a fraction of a millisecond. The sync engines do not rewrite a
// finished row, so both statements see the same message.
func (db *DB) Entities(ctx context.Context, q syncs.EntityQuery) ([]syncs.Entity, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	var read []syncs.EntityRow
	var failedIDs []int64
	failedAt := map[int64]int{} // a failed LastFinished row's id → its index in read
	err := db.query(ctx, "entities", entitiesSQL, func(rows pgx.Rows) error {
		var e syncs.EntityRow
		var rank *int
		var err error
		e.Run, err = scanRunCounts(rows, &e.Latest, &e.LastFinished, &e.LastTimed, &rank,
			&e.ConsecutiveFailures, &e.LastSuccess, &e.FirstStart)
		if err != nil {
			return err
		}
		r := &e.Run
		if rank != nil {
			e.SuccessRank = *rank
		}
		if e.LastFinished && r.Status == syncs.StatusFailed {
			failedAt[r.ID] = len(read)
			failedIDs = append(failedIDs, r.ID)
		}
		read = append(read, e)
		return nil
	}, q.Since, q.Successes)
	if err != nil {
		return nil, err
	}
	if len(failedIDs) > 0 {
		sql := `SELECT id, ` + messageHeadSQL + `, ` + messageTailSQL + `, length(error_message)
			FROM orchestration.sync_history WHERE id = ANY($1)`
		err := db.query(ctx, "entities: messages", sql, func(rows pgx.Rows) error {
			var id int64
			var head, tail *string
			var length *int
			if err := rows.Scan(&id, &head, &tail, &length); err != nil {
				return err
			}
			if i, ok := failedAt[id]; ok {
				read[i].Run.ErrorMessage = cutMessage(head, tail, length)
			}
			return nil
		}, failedIDs)
		if err != nil {
			return nil, err
		}
	}
	return syncs.GatherEntities(read, q.Successes)
}

// StuckRuns implements syncs.Store, along the status index: running rows are few.
func (db *DB) StuckRuns(ctx context.Context, stuckBefore time.Time, limit int) ([]syncs.Run, error) {
	if err := syncs.CheckLimit("stuck runs", limit); err != nil {
		return nil, err
	}
	sql := `SELECT id, crm_source, sync_type, ` + canonicalStatusSQL + ` AS status, start_time, end_time,
			records_processed, records_created, records_updated, records_failed
		FROM orchestration.sync_history
		WHERE ` + runningSQL + ` AND start_time < $1
		ORDER BY start_time, id LIMIT $2`
	var runs []syncs.Run
	err := db.query(ctx, "stuck runs", sql, func(rows pgx.Rows) error {
		r, err := scanRunCounts(rows)
		runs = append(runs, r)
		return err
	}, stuckBefore, limit)
	return runs, err
}

// SuccessRecords implements syncs.Store: a range of the (crm_source, sync_type,
// start_time) index on shape A.
func (db *DB) SuccessRecords(ctx context.Context, crmSource, syncType string, from, to time.Time, limit int) ([]int64, error) {
	if err := syncs.CheckLimit("success records", limit); err != nil {
		return nil, err
	}
	const sql = `SELECT records_processed FROM orchestration.sync_history
		WHERE crm_source = $1 AND sync_type = $2 AND start_time >= $3 AND start_time < $4
			AND status IN ('success', 'completed', 'partial') AND records_processed IS NOT NULL
		LIMIT $5`
	var values []int64
	err := db.query(ctx, "success records", sql, func(rows pgx.Rows) error {
		var v int64
		err := rows.Scan(&v)
		values = append(values, v)
		return err
	}, crmSource, syncType, from, to, limit)
	return values, err
}
