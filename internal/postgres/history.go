package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The SQL spelling of the status aliases (syncs.CanonicalStatus), kept in one place.
const (
	canonicalStatusSQL = `CASE status WHEN 'in_progress' THEN 'running' WHEN 'completed' THEN 'success' ELSE status END`
	runningSQL         = `status IN ('running', 'in_progress')`
	// finishedSinceSQL selects rows whose finished_at (end_time, or start_time when NULL)
	// is at or after $1, spelled so that an end_time index and the start_time index can
	// each bound one side of the OR (a BitmapOr on shape A).
	finishedSinceSQL = `(end_time >= $1 OR (end_time IS NULL AND start_time >= $1))`
)

// runColumns are the columns scanned by scanRun, with the message cut in SQL so that a
// many-kilobyte traceback never crosses the wire whole.
var runColumns = `id, crm_source, sync_type, ` + canonicalStatusSQL + ` AS status, start_time, end_time,
	records_processed, records_created, records_updated, records_failed,
	` + messageHeadSQL + ` AS message_head, ` + messageTailSQL + ` AS message_tail,
	length(error_message) AS message_length`

// messageHeadSQL and messageTailSQL read a message as syncs.CutMessage joins it: whole
// when short, else its head and its tail.
var (
	messageHeadSQL = `CASE WHEN length(error_message) <= ` + strconv.Itoa(syncs.MessageHead+syncs.MessageTail) +
		` THEN error_message ELSE left(error_message, ` + strconv.Itoa(syncs.MessageHead) + `) END`
	messageTailSQL = `CASE WHEN length(error_message) > ` + strconv.Itoa(syncs.MessageHead+syncs.MessageTail) +
		` THEN right(error_message, ` + strconv.Itoa(syncs.MessageTail) + `) END`
)

// scanRun reads runColumns, then the columns that follow them into extra.
func scanRun(rows pgx.Rows, extra ...any) (syncs.Run, error) {
	var head, tail *string
	var length *int
	r, err := scanRunCounts(rows, append([]any{&head, &tail, &length}, extra...)...)
	if err != nil {
		return r, err
	}
	r.ErrorMessage = cutMessage(head, tail, length)
	return r, nil
}

// scanRunCounts reads a run without its message: id, crm_source, sync_type, status,
// start_time, end_time and the four record counts, the first columns of runColumns;
// then the columns that follow them into extra.
func scanRunCounts(rows pgx.Rows, extra ...any) (syncs.Run, error) {
	var r syncs.Run
	err := rows.Scan(append([]any{&r.ID, &r.CRMSource, &r.SyncType, &r.Status, &r.Start, &r.End,
		&r.RecordsProcessed, &r.RecordsCreated, &r.RecordsUpdated, &r.RecordsFailed}, extra...)...)
	return r, err
}

// cutMessage joins the parts of a message read with runColumns; NULL stays NULL.
func cutMessage(head, tail *string, length *int) *string {
	if head == nil {
		return nil
	}
	t := ""
	if tail != nil {
		t = *tail
	}
	msg := syncs.CutMessage(*head, t, *length)
	return &msg
}

func (db *DB) runs(ctx context.Context, what, sql string, args ...any) ([]syncs.Run, error) {
	var runs []syncs.Run
	err := db.query(ctx, what, sql, func(rows pgx.Rows) error {
		r, err := scanRun(rows)
		runs = append(runs, r)
		return err
	}, args...)
	return runs, err
}

// RunningByCRM implements syncs.Store. The status index bounds it on both shapes.
func (db *DB) RunningByCRM(ctx context.Context, stuckBefore time.Time) ([]syncs.RunningCount, error) {
	const sql = `SELECT crm_source, count(*), count(*) FILTER (WHERE start_time < $1)
		FROM orchestration.sync_history WHERE ` + runningSQL + `
		GROUP BY crm_source`
	var counts []syncs.RunningCount
	err := db.query(ctx, "running by crm", sql, func(rows pgx.Rows) error {
		var c syncs.RunningCount
		err := rows.Scan(&c.CRMSource, &c.Running, &c.Stuck)
		counts = append(counts, c)
		return err
	}, stuckBefore)
	return counts, err
}

// LatestByCRM implements syncs.Store. The distinct sources are found by a loose index scan
// (one index probe per source, through the crm_source-led index both shapes have); each
// source's latest row is then read backwards along the start_time index.
func (db *DB) LatestByCRM(ctx context.Context) ([]syncs.Run, error) {
	const sql = `WITH RECURSIVE sources AS (
			SELECT min(crm_source) AS crm_source FROM orchestration.sync_history
			UNION ALL
			SELECT (SELECT min(h.crm_source) FROM orchestration.sync_history h WHERE h.crm_source > s.crm_source)
			FROM sources s WHERE s.crm_source IS NOT NULL
		)
		SELECT l.id, l.crm_source, l.sync_type, l.status, l.start_time, l.end_time,
			l.records_processed, l.records_created, l.records_updated, l.records_failed
		FROM sources s
		CROSS JOIN LATERAL (
			SELECT h.id, h.crm_source, h.sync_type, ` + canonicalStatusSQL + ` AS status,
				h.start_time, h.end_time, h.records_processed, h.records_created,
				h.records_updated, h.records_failed
			FROM orchestration.sync_history h
			WHERE h.crm_source = s.crm_source
			ORDER BY h.start_time DESC, h.id DESC
			LIMIT 1
		) l
		WHERE s.crm_source IS NOT NULL`
	var runs []syncs.Run
	err := db.query(ctx, "latest by crm", sql, func(rows pgx.Rows) error {
		r, err := scanRunCounts(rows)
		runs = append(runs, r)
		return err
	})
	return runs, err
}

// LastSuccess implements syncs.Store. The greatest end_time comes first (backwards along
// the end_time index on shape A); rows without an end_time only matter when they started
// after it, which bounds the second look along the start_time index.
func (db *DB) LastSuccess(ctx context.Context, source string) (time.Time, bool, error) {
	const sql = `WITH by_end AS (
			SELECT end_time AS t FROM orchestration.sync_history
			WHERE crm_source = $1 AND status IN ('success', 'completed') AND end_time IS NOT NULL
			ORDER BY end_time DESC LIMIT 1
		)
		SELECT GREATEST((SELECT t FROM by_end), (
			SELECT start_time FROM orchestration.sync_history
			WHERE crm_source = $1 AND status IN ('success', 'completed') AND end_time IS NULL
				AND start_time > COALESCE((SELECT t FROM by_end), '-infinity')
			ORDER BY start_time DESC LIMIT 1))`
	var last *time.Time
	err := db.query(ctx, "last success", sql, func(rows pgx.Rows) error {
		return rows.Scan(&last)
	}, source)
	if err != nil || last == nil {
		return time.Time{}, false, err
	}
	return *last, true, nil
}

// FinishedSince implements syncs.Store in one statement, so the table is read once per
// refresh: the rows finished since w.From are gathered once (an index range on each side
// of finishedSinceSQL on shape A; one sequential scan on shape B, which has no end_time
// index), then both aggregated and listed where failed, in one result whose first column
// says which a row is.
//
// Days are found with width_bucket over the window's boundaries, so the display time
// zone's calendar (computed by the caller) needs no time zone support in SQL. Durations
// are summed in whole microseconds, PostgreSQL's resolution, so the sums are exact
// (date_part's float8 is exact for any duration under 285 years in microseconds, and
// cheaper than extract's numeric).
func (db *DB) FinishedSince(ctx context.Context, w syncs.Window) (syncs.Finished, error) {
	sql := `WITH finished AS MATERIALIZED (
			SELECT id, crm_source, sync_type, ` + canonicalStatusSQL + ` AS status, start_time, end_time,
				records_processed, records_created, records_updated, records_failed,
				COALESCE(end_time, start_time) AS f,
				CASE WHEN end_time >= start_time
					THEN round(date_part('epoch', end_time - start_time) * 1000000)::bigint END AS duration_us,
				CASE WHEN status = 'failed' THEN ` + messageHeadSQL + ` END AS message_head,
				CASE WHEN status = 'failed' THEN ` + messageTailSQL + ` END AS message_tail,
				CASE WHEN status = 'failed' THEN length(error_message) END AS message_length
			FROM orchestration.sync_history
			WHERE NOT ` + runningSQL + ` AND ` + finishedSinceSQL + `
		)
		SELECT false, width_bucket(f, $2::timestamptz[]), (f >= $3 AND f <= $4), crm_source, status,
			count(*), COALESCE(sum(records_processed), 0)::bigint,
			COALESCE(sum(duration_us), 0)::bigint, count(duration_us), max(f),
			NULL::bigint, NULL::text, NULL::timestamptz, NULL::timestamptz, NULL::bigint, NULL::bigint,
			NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::int
		FROM finished GROUP BY 2, 3, 4, 5
		UNION ALL
		SELECT true, NULL, NULL, crm_source, status, NULL, NULL, NULL, NULL, NULL,
			id, sync_type, start_time, end_time, records_processed, records_created,
			records_updated, records_failed, message_head, message_tail, message_length
		FROM finished WHERE status = 'failed'`
	var out syncs.Finished
	err := db.query(ctx, "finished since", sql, func(rows pgx.Rows) error {
		var failure bool
		var bucket *int
		var in24h *bool
		var g syncs.FinishedGroup
		var count, records, durSum, durCount *int64
		var last *time.Time
		var r syncs.Run
		var syncType, head, tail *string
		var length *int
		var id *int64
		var start *time.Time
		if err := rows.Scan(&failure, &bucket, &in24h, &g.CRMSource, &g.Status,
			&count, &records, &durSum, &durCount, &last,
			&id, &syncType, &start, &r.End, &r.RecordsProcessed, &r.RecordsCreated,
			&r.RecordsUpdated, &r.RecordsFailed, &head, &tail, &length); err != nil {
			return err
		}
		if failure {
			r.ID, r.CRMSource, r.SyncType, r.Status, r.Start = *id, g.CRMSource, *syncType, g.Status, *start
			r.ErrorMessage = cutMessage(head, tail, length)
			out.Failures = append(out.Failures, r)
			return nil
		}
		g.In24Hours, g.Count, g.RecordsProcessed = *in24h, *count, *records
		g.DurationMicros, g.DurationCount, g.LastFinished = *durSum, *durCount, *last
		// width_bucket answers 0 before the first boundary, i for [b(i), b(i+1)), and
		// len(bounds) at or after the last one; day i is [DayBounds[i], DayBounds[i+1]).
		g.Day = -1
		if *bucket >= 1 && *bucket < len(w.DayBounds) {
			g.Day = *bucket - 1
		}
		out.Groups = append(out.Groups, g)
		return nil
	}, w.From, w.DayBounds, w.Since, w.Until)
	return out, err
}

// StartedByCRM implements syncs.Store, along the start_time index.
func (db *DB) StartedByCRM(ctx context.Context, from, to time.Time) ([]syncs.CRMCount, error) {
	const sql = `SELECT crm_source, count(*) FROM orchestration.sync_history
		WHERE start_time >= $1 AND start_time < $2 GROUP BY crm_source`
	var counts []syncs.CRMCount
	err := db.query(ctx, "started by crm", sql, func(rows pgx.Rows) error {
		var c syncs.CRMCount
		err := rows.Scan(&c.CRMSource, &c.Count)
		counts = append(counts, c)
		return err
	}, from, to)
	return counts, err
}

// RecentFailures implements syncs.Store. The rows with an end_time come backwards along the
// end_time index; rows without one can only beat the last of those if they started after
// it, which bounds the look along the (status, start_time) index.
func (db *DB) RecentFailures(ctx context.Context, limit int) ([]syncs.Run, error) {
	sql := `WITH by_end AS (
			SELECT ` + runColumns + ` FROM orchestration.sync_history
			WHERE status = 'failed' AND end_time IS NOT NULL
			ORDER BY end_time DESC, id DESC LIMIT $1
		), cutoff AS (
			SELECT CASE WHEN count(*) >= $1 THEN min(end_time) END AS t FROM by_end
		), no_end AS (
			SELECT ` + runColumns + ` FROM orchestration.sync_history
			WHERE status = 'failed' AND end_time IS NULL
				AND start_time >= COALESCE((SELECT t FROM cutoff), '-infinity')
			ORDER BY start_time DESC, id DESC LIMIT $1
		)
		SELECT * FROM (SELECT * FROM by_end UNION ALL SELECT * FROM no_end) u
		ORDER BY COALESCE(u.end_time, u.start_time) DESC, u.id DESC LIMIT $1`
	return db.runs(ctx, "recent failures", sql, limit)
}

// RecentRuns implements syncs.Store: each of q.Ranges() is read in its own ordered,
// limited branch, so that one index range serves each, and the branches are merged.
func (db *DB) RecentRuns(ctx context.Context, q syncs.RecentQuery) ([]syncs.Run, error) {
	args := []any{q.Limit}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var branches []string
	for _, r := range q.Ranges() {
		var cond []string
		for _, c := range r.Comparisons() {
			cond = append(cond, c.Column+" "+c.Op+" "+arg(c.Value))
		}
		b := `SELECT ` + runColumns + ` FROM orchestration.sync_history`
		if len(cond) > 0 {
			b += ` WHERE ` + strings.Join(cond, " AND ")
		}
		branches = append(branches, b+` ORDER BY start_time DESC, id DESC LIMIT $1`)
	}
	query := branches[0]
	if len(branches) > 1 {
		query = `SELECT * FROM ((` + strings.Join(branches, ") UNION ALL (") + `)) u ORDER BY u.start_time DESC, u.id DESC LIMIT $1`
	}
	return db.runs(ctx, "recent runs", query, args...)
}

// StartedNear implements syncs.Store: one statement for all probes, each an index range.
func (db *DB) StartedNear(ctx context.Context, probes []syncs.StartProbe) ([]bool, error) {
	if len(probes) == 0 {
		return nil, nil
	}
	sources := make([]string, len(probes))
	froms := make([]time.Time, len(probes))
	tos := make([]time.Time, len(probes))
	for i, p := range probes {
		sources[i], froms[i], tos[i] = p.CRMSource, p.From, p.To
	}
	const sql = `SELECT EXISTS (
			SELECT 1 FROM orchestration.sync_history h
			WHERE h.crm_source = p.crm AND h.start_time >= p.f AND h.start_time <= p.t)
		FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS p(crm, f, t, i)
		ORDER BY p.i`
	found := make([]bool, 0, len(probes))
	err := db.query(ctx, "started near", sql, func(rows pgx.Rows) error {
		var ok bool
		err := rows.Scan(&ok)
		found = append(found, ok)
		return err
	}, sources, froms, tos)
	return found, err
}

// Health implements syncs.Store.
func (db *DB) Health(ctx context.Context) (syncs.DatabaseHealth, error) {
	var h syncs.DatabaseHealth
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return h, fmt.Errorf("database health: %w", classify(err))
	}
	defer conn.Release()
	// Time the round trip on a connection already established, so the figure is the
	// query's, not the connection set-up's.
	start := time.Now()
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		return h, fmt.Errorf("database health: %w", classify(err))
	}
	h.ResponseTime = time.Since(start)
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()`).
		Scan(&h.ConnectionCount)
	if err != nil {
		return h, fmt.Errorf("database health: connections: %w", classify(err))
	}
	tables, err := readTables(ctx, conn)
	if err != nil {
		return h, fmt.Errorf("database health: %w", err)
	}
	h.Label = "PostgreSQL"
	if v := strings.Fields(tables.version); len(v) > 0 {
		h.Label += " " + v[0] // "15.19", without the packager's "(Debian …)"
	}
	notReady, warnings := tables.problems(db.role)
	h.Warnings = warnings
	if notReady != nil {
		return h, fmt.Errorf("database health: %w", notReady)
	}
	return h, nil
}
