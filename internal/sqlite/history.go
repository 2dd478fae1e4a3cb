package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The SQL spelling of the status aliases (syncs.CanonicalStatus) and of finished_at, kept
// in one place. finishedAtSQL must stay exactly the expression of the index
// sync_history_finished, or SQLite will not use that index.
const (
	canonicalStatusSQL = `CASE status WHEN 'in_progress' THEN 'running' WHEN 'completed' THEN 'success' ELSE status END`
	runningSQL         = `status IN ('running', 'in_progress')`
	successSQL         = `status IN ('success', 'completed')`
	finishedAtSQL      = `coalesce(end_time, start_time)`
)

// runColumns are the columns scanned by scanRun. The message is cut in SQL, as the
// PostgreSQL store cuts it: SQLite's substr and length count characters of a TEXT value,
// as PostgreSQL's left, right and length do, so both stores hand CutMessage the same
// pieces. One difference: SQLite's text functions stop at a NUL character, which
// PostgreSQL cannot store at all; a message holding one is read whole, as bytes, and cut
// in Go (messageWithNUL), so that nothing after the NUL is silently lost.
var runColumns = `id, crm_source, sync_type, ` + canonicalStatusSQL + ` AS status, start_time, end_time,
	records_processed, records_created, records_updated, records_failed,
	CASE WHEN length(error_message) <= ` + strconv.Itoa(syncs.MessageHead+syncs.MessageTail) +
	` THEN error_message ELSE substr(error_message, 1, ` + strconv.Itoa(syncs.MessageHead) + `) END AS message_head,
	CASE WHEN length(error_message) > ` + strconv.Itoa(syncs.MessageHead+syncs.MessageTail) +
	` THEN substr(error_message, -` + strconv.Itoa(syncs.MessageTail) + `) END AS message_tail,
	length(error_message) AS message_length,
	CASE WHEN instr(CAST(error_message AS BLOB), x'00') > 0 THEN CAST(error_message AS BLOB) END AS message_with_nul`

// scanRun reads runColumns. Every column is read as nullable, whatever the schema says:
// a file edited by hand, or made by an older table definition, must not stop the
// dashboard.
// The columns that follow runColumns, if any, are read into extra.
func scanRun(rows *sql.Rows, extra ...any) (syncs.Run, error) {
	var head, tail sql.NullString
	var length sql.NullInt64
	var withNUL []byte
	r, err := scanRunCounts(rows, append([]any{&head, &tail, &length, &withNUL}, extra...)...)
	if err != nil {
		return r, err
	}
	switch {
	case withNUL != nil:
		msg := messageWithNUL(string(withNUL))
		r.ErrorMessage = &msg
	case head.Valid:
		msg := syncs.CutMessage(head.String, tail.String, int(length.Int64))
		r.ErrorMessage = &msg
	}
	return r, nil
}

// scanRunCounts reads a run without its message: id, crm_source, sync_type, status,
// start_time, end_time and the four record counts, the first columns of runColumns;
// then the columns that follow them into extra. Every column is read as nullable, as in
// scanRun.
func scanRunCounts(rows *sql.Rows, extra ...any) (syncs.Run, error) {
	var r syncs.Run
	var source, syncType, status sql.NullString
	var start, end, processed, created, updated, failed sql.NullInt64
	dest := append([]any{&r.ID, &source, &syncType, &status, &start, &end,
		&processed, &created, &updated, &failed}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return r, err
	}
	r.CRMSource, r.SyncType, r.Status = source.String, syncType.String, status.String
	r.Start, r.End = timeOf(start.Int64), nullTime(end)
	r.RecordsProcessed, r.RecordsCreated = nullInt(processed), nullInt(created)
	r.RecordsUpdated, r.RecordsFailed = nullInt(updated), nullInt(failed)
	return r, nil
}

// messageWithNUL cuts a whole message as runColumns cuts the others: its first
// MessageHead and last MessageTail characters, counted as Go counts them.
func messageWithNUL(s string) string {
	length := utf8.RuneCountInString(s)
	if length <= syncs.MessageHead+syncs.MessageTail {
		return syncs.CutMessage(s, "", length)
	}
	runes := []rune(s)
	return syncs.CutMessage(string(runes[:syncs.MessageHead]), string(runes[length-syncs.MessageTail:]), length)
}

func nullInt(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

func (db *DB) runs(ctx context.Context, what, q string, args ...any) ([]syncs.Run, error) {
	var runs []syncs.Run
	err := db.query(ctx, what, q, func(rows *sql.Rows) error {
		r, err := scanRun(rows)
		runs = append(runs, r)
		return err
	}, args...)
	return runs, err
}

// RunningByCRM implements syncs.Store, along the status index.
func (db *DB) RunningByCRM(ctx context.Context, stuckBefore time.Time) ([]syncs.RunningCount, error) {
	const q = `SELECT crm_source, count(*), coalesce(sum(start_time < ?1), 0)
		FROM sync_history WHERE ` + runningSQL + `
		GROUP BY crm_source`
	var counts []syncs.RunningCount
	err := db.query(ctx, "running by crm", q, func(rows *sql.Rows) error {
		var c syncs.RunningCount
		var source sql.NullString
		err := rows.Scan(&source, &c.Running, &c.Stuck)
		c.CRMSource = source.String
		counts = append(counts, c)
		return err
	}, micros(stuckBefore))
	return counts, err
}

// LatestByCRM implements syncs.Store. The distinct sources are found by a loose index scan
// (one probe of the crm_source-led index per source, as on PostgreSQL); each source's
// latest row is the first entry of its range of that same index.
func (db *DB) LatestByCRM(ctx context.Context) ([]syncs.Run, error) {
	const q = `WITH RECURSIVE sources(crm_source) AS (
			SELECT min(crm_source) FROM sync_history
			UNION ALL
			SELECT (SELECT min(h.crm_source) FROM sync_history h WHERE h.crm_source > s.crm_source)
			FROM sources s WHERE s.crm_source IS NOT NULL
		)
		SELECT l.id, l.crm_source, l.sync_type, ` + canonicalStatusSQL + `, l.start_time, l.end_time,
			l.records_processed, l.records_created, l.records_updated, l.records_failed
		FROM sources s
		JOIN sync_history l ON l.id = (
			SELECT h.id FROM sync_history h
			WHERE h.crm_source = s.crm_source
			ORDER BY h.start_time DESC, h.id DESC
			LIMIT 1)
		WHERE s.crm_source IS NOT NULL`
	var runs []syncs.Run
	err := db.query(ctx, "latest by crm", q, func(rows *sql.Rows) error {
		r, err := scanRunCounts(rows)
		runs = append(runs, r)
		return err
	})
	return runs, err
}

// LastSuccess implements syncs.Store. The dashboard asks only about sources without a
// success since its window began. The source's latest success by start time comes backwards
// along the crm_source index; a success that started earlier can only have finished
// later if it finished after that one, which bounds the second look to a range of the
// finished_at index (the unary + keeps SQLite off the other indexes there).
func (db *DB) LastSuccess(ctx context.Context, source string) (time.Time, bool, error) {
	const q = `WITH latest AS (
			SELECT ` + finishedAtSQL + ` AS f FROM sync_history
			WHERE crm_source = ?1 AND ` + successSQL + `
			ORDER BY start_time DESC, id DESC LIMIT 1
		)
		SELECT max(f) FROM (
			SELECT f FROM latest
			UNION ALL
			SELECT ` + finishedAtSQL + ` FROM sync_history
			WHERE ` + finishedAtSQL + ` > (SELECT f FROM latest)
				AND +crm_source = ?1 AND +status IN ('success', 'completed')
		)`
	var last sql.NullInt64
	err := db.query(ctx, "last success", q, func(rows *sql.Rows) error {
		return rows.Scan(&last)
	}, source)
	if err != nil || !last.Valid {
		return time.Time{}, false, err
	}
	return timeOf(last.Int64), true, nil
}

// FinishedSince implements syncs.Store. SQLite is in the process and its file is small, so
// the two parts are two statements.
func (db *DB) FinishedSince(ctx context.Context, w syncs.Window) (syncs.Finished, error) {
	groups, err := db.finishedTotals(ctx, w)
	if err != nil {
		return syncs.Finished{}, err
	}
	failures, err := db.failedSince(ctx, w.From)
	return syncs.Finished{Groups: groups, Failures: failures}, err
}

// finishedTotals aggregates FinishedSince's rows, along the finished_at index. A row's day is
// found by a binary search over the window's boundaries written as nested CASEs (at most
// seven comparisons for 90 days), so the display time zone's calendar, computed by the
// caller, needs no time zone support in SQL. Durations are summed in whole microseconds,
// the stored resolution, so the sums are exact.
func (db *DB) finishedTotals(ctx context.Context, w syncs.Window) ([]syncs.FinishedGroup, error) {
	// Parameters: ?1 From, ?2 Since, ?3 Until, ?4… the day boundaries.
	args := []any{micros(w.From), micros(w.Since), micros(w.Until)}
	for _, b := range w.DayBounds {
		args = append(args, micros(b))
	}
	q := `SELECT ` + dayIndexSQL("f", len(w.DayBounds), 4) + ` AS day,
			(f >= ?2 AND f <= ?3) AS in24h,
			crm_source, status, count(*),
			coalesce(sum(records_processed), 0),
			coalesce(sum(duration_us), 0), count(duration_us), max(f)
		FROM (
			SELECT crm_source, ` + canonicalStatusSQL + ` AS status,
				` + finishedAtSQL + ` AS f, records_processed,
				CASE WHEN end_time >= start_time THEN end_time - start_time END AS duration_us
			FROM sync_history
			WHERE ` + finishedAtSQL + ` >= ?1 AND NOT ` + runningSQL + `
		)
		GROUP BY 1, 2, 3, 4`
	var groups []syncs.FinishedGroup
	err := db.query(ctx, "finished totals", q, func(rows *sql.Rows) error {
		var g syncs.FinishedGroup
		var source, status sql.NullString
		var last sql.NullInt64
		if err := rows.Scan(&g.Day, &g.In24Hours, &source, &status, &g.Count,
			&g.RecordsProcessed, &g.DurationMicros, &g.DurationCount, &last); err != nil {
			return err
		}
		g.CRMSource, g.Status = source.String, status.String
		g.LastFinished = timeOf(last.Int64)
		groups = append(groups, g)
		return nil
	}, args...)
	return groups, err
}

// dayIndexSQL is an expression for the day of x among n boundaries held by the numbered
// parameters ?first … ?(first+n-1): i when bound(i) ≤ x < bound(i+1), and -1 before the
// first boundary or at or after the last. It halves the boundaries at each level.
func dayIndexSQL(x string, n, first int) string {
	if n < 2 {
		return "-1"
	}
	param := func(i int) string { return "?" + strconv.Itoa(first+i) }
	// search returns the day of x, known to lie in [bound(lo), bound(hi)).
	var search func(lo, hi int) string
	search = func(lo, hi int) string {
		if hi-lo == 1 {
			return strconv.Itoa(lo)
		}
		mid := (lo + hi) / 2
		return "CASE WHEN " + x + " < " + param(mid) + " THEN " + search(lo, mid) +
			" ELSE " + search(mid, hi) + " END"
	}
	return "CASE WHEN " + x + " < " + param(0) + " OR " + x + " >= " + param(n-1) +
		" THEN -1 ELSE " + search(0, n-1) + " END"
}

// StartedByCRM implements syncs.Store, along the start_time index.
func (db *DB) StartedByCRM(ctx context.Context, from, to time.Time) ([]syncs.CRMCount, error) {
	const q = `SELECT crm_source, count(*) FROM sync_history
		WHERE start_time >= ?1 AND start_time < ?2 GROUP BY crm_source`
	var counts []syncs.CRMCount
	err := db.query(ctx, "started by crm", q, func(rows *sql.Rows) error {
		var c syncs.CRMCount
		var source sql.NullString
		err := rows.Scan(&source, &c.Count)
		c.CRMSource = source.String
		counts = append(counts, c)
		return err
	}, micros(from), micros(to))
	return counts, err
}

// failedSince returns FinishedSince's failures: a range of the index of failures.
func (db *DB) failedSince(ctx context.Context, from time.Time) ([]syncs.Run, error) {
	// INDEXED BY: SQLite's statistics cannot tell that status = 'failed' is rare, so it
	// would pick the status index and read every failure ever recorded.
	q := `SELECT ` + runColumns + ` FROM sync_history INDEXED BY sync_history_failed
		WHERE ` + finishedAtSQL + ` >= ?1 AND status = 'failed'`
	return db.runs(ctx, "failed since", q, micros(from))
}

// RecentFailures implements syncs.Store: the first entries of the index of failures,
// which holds the order asked for.
func (db *DB) RecentFailures(ctx context.Context, limit int) ([]syncs.Run, error) {
	q := `SELECT ` + runColumns + ` FROM sync_history INDEXED BY sync_history_failed
		WHERE status = 'failed'
		ORDER BY ` + finishedAtSQL + ` DESC, id DESC LIMIT ?1`
	return db.runs(ctx, "recent failures", q, limit)
}

// RecentRuns implements syncs.Store: each of q.Ranges() is read in its own ordered,
// limited branch, so that one index range serves each, and the branches are merged.
func (db *DB) RecentRuns(ctx context.Context, q syncs.RecentQuery) ([]syncs.Run, error) {
	args := []any{q.Limit}
	arg := func(v any) string {
		if t, ok := v.(time.Time); ok {
			v = micros(t)
		}
		args = append(args, v)
		return "?" + strconv.Itoa(len(args))
	}
	var branches []string
	for _, r := range q.Ranges() {
		var cond []string
		for _, c := range r.Comparisons() {
			cond = append(cond, c.Column+" "+c.Op+" "+arg(c.Value))
		}
		b := `SELECT ` + runColumns + ` FROM sync_history`
		if len(cond) > 0 {
			b += ` WHERE ` + strings.Join(cond, " AND ")
		}
		branches = append(branches, b+` ORDER BY start_time DESC, id DESC LIMIT ?1`)
	}
	query := branches[0]
	if len(branches) > 1 {
		query = `SELECT * FROM (SELECT * FROM (` + strings.Join(branches, ") UNION ALL SELECT * FROM (") + `)) u ORDER BY u.start_time DESC, u.id DESC LIMIT ?1`
	}
	return db.runs(ctx, "recent runs", query, args...)
}

// StartedNear implements syncs.Store: one statement for all probes, each a range of the
// crm_source index.
func (db *DB) StartedNear(ctx context.Context, probes []syncs.StartProbe) ([]bool, error) {
	if len(probes) == 0 {
		return nil, nil
	}
	values := make([]string, len(probes))
	args := make([]any, 0, 4*len(probes))
	for i, p := range probes {
		values[i] = "(?, ?, ?, ?)"
		args = append(args, i, p.CRMSource, micros(p.From), micros(p.To))
	}
	q := `WITH p(i, crm, f, t) AS (VALUES ` + strings.Join(values, ", ") + `)
		SELECT EXISTS (
			SELECT 1 FROM sync_history h
			WHERE h.crm_source = p.crm AND h.start_time >= p.f AND h.start_time <= p.t)
		FROM p ORDER BY p.i`
	found := make([]bool, 0, len(probes))
	err := db.query(ctx, "started near", q, func(rows *sql.Rows) error {
		var ok bool
		err := rows.Scan(&ok)
		found = append(found, ok)
		return err
	}, args...)
	return found, err
}
